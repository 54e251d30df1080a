//! What an error means for the retry executor, decided by SQLSTATE and I/O error kind,
//! never by the server's message text (messages are translated and change between
//! versions). The client library's own errors carry no kind accessor; the few that are
//! mistakes in a query rather than connection trouble are recognised by their fixed text.

/// SQLSTATE sqlrail raises inside a unit when the migration lock it holds was taken over
/// (class `SR` is not used by PostgreSQL).
pub const LOCK_LOST: &str = "SR001";

/// SQLSTATE sqlrail raises inside a unit that finds its own effect already recorded: an
/// earlier attempt committed after all (its connection dropped while the server went on).
pub const ALREADY_DONE: &str = "SR002";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// The connection is gone or unusable: I/O errors, a closed connection, TLS failures,
    /// class 08, admin shutdown / crash shutdown / cannot connect now (57P01–57P03).
    /// Retried on a fresh connection after checking whether the unit committed.
    ConnectionLost,
    /// `too_many_connections` (53300), `serialization_failure` (40001),
    /// `deadlock_detected` (40P01): retried with backoff.
    Transient,
    /// `lock_not_available` (55P03): `lock_timeout` fired. DDL retries it on the
    /// lock-retry schedule.
    LockTimeout,
    /// The migration lock was taken over by another runner (`SR001`).
    LockLost,
    /// The unit's effect is already recorded (`SR002`): nothing to do.
    AlreadyDone,
    /// `read_only_sql_transaction` (25006): the server takes no writes. The executor asks
    /// it why: a standby mid-failover is waited out, a standby given by mistake is a
    /// settings error, a unit that asked for a read-only transaction fails.
    ReadOnly,
    /// Anything else: fails at once.
    Fatal,
}

impl ErrorClass {
    pub fn of(error: &postgres::Error) -> ErrorClass {
        if let Some(code) = error.code() {
            return ErrorClass::of_sqlstate(code.code());
        }
        if query_mistake(error) {
            return ErrorClass::Fatal;
        }
        // No SQLSTATE: the failure happened below SQL (socket, TLS, protocol), or the
        // client noticed the connection closed.
        ErrorClass::ConnectionLost
    }

    pub fn of_sqlstate(code: &str) -> ErrorClass {
        match code {
            c if c.starts_with("08") => ErrorClass::ConnectionLost,
            "57P01" | "57P02" | "57P03" => ErrorClass::ConnectionLost,
            "53300" | "40001" | "40P01" => ErrorClass::Transient,
            "55P03" => ErrorClass::LockTimeout,
            "25006" => ErrorClass::ReadOnly,
            LOCK_LOST => ErrorClass::LockLost,
            ALREADY_DONE => ErrorClass::AlreadyDone,
            _ => ErrorClass::Fatal,
        }
    }

    /// A short name for logs: `connection lost`, `SQLSTATE 40P01`, …
    pub fn describe(error: &postgres::Error) -> String {
        match error.code() {
            Some(code) => format!("SQLSTATE {}", code.code()),
            None if error.is_closed() => "connection closed".into(),
            None if query_mistake(error) => error.to_string(),
            None => "connection error".into(),
        }
    }
}

/// The client library's errors about a query's shape: a wrong row or column count, a
/// value of the wrong type, a wrong number of parameters. A fresh connection would not
/// change them, so retrying one would only repeat it `attempts` times (tokio-postgres's
/// `Kind::{RowCount, ColumnCount, Column, FromSql, ToSql, Parameters}`; the crate's
/// English text, which is not translated).
fn query_mistake(error: &postgres::Error) -> bool {
    if error.code().is_some() || error.is_closed() {
        return false;
    }
    let text = error.to_string();
    const MISTAKES: [&str; 5] = [
        "query returned an unexpected number of",
        "error deserializing column",
        "error serializing parameter",
        "invalid column",
        "expected ",
    ];
    MISTAKES.iter().any(|m| text.starts_with(m))
        && (!text.starts_with("expected ") || text.contains(" parameters but got "))
}

/// Where in `sql` the server's error points, as a byte offset, when `sql` was sent after
/// `prefix_chars` characters of the batch (the server counts characters from 1).
pub fn error_offset(
    db: &postgres::error::DbError,
    prefix_chars: usize,
    sql: &str,
) -> Option<usize> {
    match db.position() {
        Some(postgres::error::ErrorPosition::Original(p)) => (*p as usize)
            .checked_sub(1 + prefix_chars)
            .and_then(|chars| sql.char_indices().nth(chars).map(|(byte, _)| byte)),
        _ => None,
    }
}

/// One line for a database error: the server's message with its detail and hint, or the
/// client-side error with its causes (`error performing TLS handshake: certificate verify
/// failed …`), since the top-level text alone ("db error") says nothing.
pub fn describe(error: &postgres::Error) -> String {
    if let Some(db) = error.as_db_error() {
        let mut m = format!("{}: {}", db.severity(), db.message());
        if let Some(d) = db.detail() {
            m.push_str(&format!(" (detail: {d})"));
        }
        if let Some(h) = db.hint() {
            m.push_str(&format!(" (hint: {h})"));
        }
        return m;
    }
    let mut m = error.to_string();
    let mut cause = std::error::Error::source(error);
    while let Some(c) = cause {
        let text = c.to_string();
        if !m.contains(&text) {
            m.push_str(": ");
            m.push_str(&text);
        }
        cause = c.source();
    }
    m.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A multi-line message (a server error with DETAIL and HINT) as one line, its parts
/// joined by `: `, for one-line reports.
pub fn one_line(s: &str) -> String {
    s.split('\n')
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlstates_classify() {
        assert_eq!(ErrorClass::of_sqlstate("08006"), ErrorClass::ConnectionLost);
        assert_eq!(ErrorClass::of_sqlstate("57P01"), ErrorClass::ConnectionLost);
        assert_eq!(ErrorClass::of_sqlstate("53300"), ErrorClass::Transient);
        assert_eq!(ErrorClass::of_sqlstate("40P01"), ErrorClass::Transient);
        assert_eq!(ErrorClass::of_sqlstate("55P03"), ErrorClass::LockTimeout);
        assert_eq!(ErrorClass::of_sqlstate("SR001"), ErrorClass::LockLost);
        assert_eq!(ErrorClass::of_sqlstate("42P07"), ErrorClass::Fatal);
        assert_eq!(ErrorClass::of_sqlstate("57014"), ErrorClass::Fatal);
    }
}
