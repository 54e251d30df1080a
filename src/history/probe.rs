//! Telling apart migrations that no catalog check can: when a database another tool
//! migrated is placed in the history and several neighbouring points fit (seed rows, a
//! one-off data fix between them), each such migration is asked what its data
//! statements say.
//!
//! Only an inserted row is evidence that a migration ran (`INSERT … (c, …) VALUES
//! (literal, …)`: its first row's literal columns exist): the migration is one
//! transaction, so the rest of it ran too, and running it again would add the row twice.
//! An update or a delete is no evidence either way (an empty table is in every state),
//! but running one again that sets columns from the row or from constants, or deletes
//! what matches, changes nothing the first run did not: such migrations run again, as do
//! those whose statements PostgreSQL repeats harmlessly. Anything else (`INSERT …
//! SELECT`, `SET n = n + 1`, dynamic SQL) cannot be told, and adoption then stops
//! rather than guess.

use crate::sql::code::{Code, alter_table};
use crate::sql::effects::{Effect, Object, of_code, procedural};
use crate::sql::{StatementKind, TokenKind, split};

use super::History;
use super::adoption::repeatable_statement;

/// How to tell whether one migration ran.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Probe {
    /// It can run again harmlessly: no need to tell.
    Repeatable,
    /// It ran when one of `inserted` (queries of rows it inserts) answers true;
    /// otherwise it runs (again), harmlessly when every one of `harmless` answers true
    /// (no row left for an update that cannot run twice), and it cannot be told when one
    /// does not.
    Data {
        inserted: Vec<String>,
        harmless: Vec<String>,
    },
    /// It cannot be told.
    Unknown,
}

/// What one data statement says.
enum Data {
    /// Running it again changes nothing.
    Rerunnable,
    /// Running it again changes nothing when this query answers true (no row matches).
    RerunnableIf(String),
    /// This query answers whether its row is there.
    Inserted(String),
}

/// The probe of the migration at `step` (from 1).
pub fn probe(history: &History<'_>, step: usize) -> Probe {
    let Some(s) = step.checked_sub(1).and_then(|i| history.steps.get(i)) else {
        return Probe::Unknown;
    };
    let sql = &s.migration.sql;
    let Ok(file) = split(sql) else {
        return Probe::Unknown;
    };
    let codes: Vec<(Code<'_>, StatementKind)> = file
        .statements
        .iter()
        .map(|st| (Code::lex(sql, st.start..st.end), st.kind))
        .collect();
    let helpers = helpers(&codes);
    let helper = |name: &str| {
        helpers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, b)| b.as_str())
    };
    let mut inserted = Vec::new();
    let mut harmless = Vec::new();
    for (code, kind) in &codes {
        let about_helper = of_code(code).iter().any(|e| match e {
            Effect::Create {
                object: Object::Function(n),
                ..
            }
            | Effect::Drop {
                object: Object::Function(n),
            } => helper(&n.name).is_some(),
            _ => false,
        });
        if about_helper {
            continue;
        }
        if let Some(body) = called_helper(code, &helper) {
            let spans = procedural::commands(body, &["insert", "update", "delete"]);
            if spans.is_empty() {
                return Probe::Unknown;
            }
            for span in spans {
                match data(&Code::lex(body, span)) {
                    Some(Data::Inserted(q)) => inserted.push(q),
                    Some(Data::RerunnableIf(q)) => harmless.push(q),
                    Some(Data::Rerunnable) => {}
                    None => return Probe::Unknown,
                }
            }
            continue;
        }
        if repeatable_statement(code, *kind) {
            continue;
        }
        if *kind != StatementKind::Dml || alter_table(code).is_some() {
            return Probe::Unknown;
        }
        match data(code) {
            Some(Data::Inserted(q)) => inserted.push(q),
            Some(Data::RerunnableIf(q)) => harmless.push(q),
            Some(Data::Rerunnable) => {}
            None => return Probe::Unknown,
        }
    }
    if inserted.is_empty() && harmless.is_empty() {
        Probe::Repeatable
    } else {
        Probe::Data { inserted, harmless }
    }
}

/// Functions the migration creates and drops again (one-off helpers), with their bodies.
fn helpers(codes: &[(Code<'_>, StatementKind)]) -> Vec<(String, String)> {
    let dropped = |name: &str| {
        codes.iter().any(|(code, _)| {
            of_code(code).iter().any(
                |e| matches!(e, Effect::Drop { object: Object::Function(n) } if n.name == name),
            )
        })
    };
    codes
        .iter()
        .filter_map(|(code, _)| {
            let Some(Effect::Create {
                object: Object::Function(name),
                ..
            }) = of_code(code).into_iter().next()
            else {
                return None;
            };
            let body = (0..code.len()).find_map(|i| procedural::literal_body(code, i))?;
            dropped(&name.name).then_some((name.name, body))
        })
        .collect()
}

/// The body of the helper a `SELECT helper(…)` calls.
fn called_helper<'h>(
    code: &Code<'_>,
    helper: &impl Fn(&str) -> Option<&'h str>,
) -> Option<&'h str> {
    if !code.is(0, "select") {
        return None;
    }
    (1..code.len()).find_map(|i| {
        let (name, _) = code.name(i)?;
        helper(name.rsplit('.').next().unwrap_or(&name))
    })
}

/// What a data statement says, or `None` when it cannot be told.
fn data(code: &Code<'_>) -> Option<Data> {
    if code.at(0, &["insert", "into"]) {
        return inserted_row(code).map(Data::Inserted);
    }
    if code.is(0, "update") {
        if rerunnable_update(code) {
            return Some(Data::Rerunnable);
        }
        return unmatched(code).map(Data::RerunnableIf);
    }
    if code.at(0, &["delete", "from"]) {
        return Some(Data::Rerunnable);
    }
    None
}

/// `INSERT INTO t (c, …) VALUES (v, …), …`: whether its first row's literal columns are
/// there.
fn inserted_row(code: &Code<'_>) -> Option<String> {
    let text = |from: usize, to: usize| -> String {
        let span = code.span(from, to.saturating_sub(1));
        code.source()[span].to_owned()
    };
    let (_, after) = code.name(2)?;
    let open = (code.kind(after) == Some(TokenKind::OpenParen)).then_some(after)?;
    let close = code.skip_group(open);
    if !code.is(close, "values") || code.kind(close + 1) != Some(TokenKind::OpenParen) {
        return None;
    }
    let columns = code.comma_separated(open + 1..close - 1, 1);
    let values = code.comma_separated(close + 2..code.skip_group(close + 1) - 1, 1);
    if columns.len() != values.len() {
        return None;
    }
    let conditions: Vec<String> = columns
        .iter()
        .zip(&values)
        .filter(|(_, v)| {
            v.end == v.start + 1
                && matches!(
                    code.kind(v.start),
                    Some(TokenKind::String | TokenKind::Number)
                )
        })
        .map(|(c, v)| format!("{} = {}", text(c.start, c.end), text(v.start, v.end)))
        .collect();
    (!conditions.is_empty()).then(|| {
        format!(
            "SELECT EXISTS (SELECT 1 FROM {} WHERE {})",
            text(2, after),
            conditions.join(" AND ")
        )
    })
}

/// `UPDATE t [a] SET … [FROM f] WHERE w`: whether no row matches `w` now.
fn unmatched(code: &Code<'_>) -> Option<String> {
    let text = |from: usize, to: usize| -> String {
        let span = code.span(from, to.saturating_sub(1));
        code.source()[span].to_owned()
    };
    let set = code.find_at_depth(1..code.len(), 0, &["set"])?;
    let filter = code.find_at_depth(set..code.len(), 0, &["where"])?;
    if code
        .find_at_depth(filter..code.len(), 0, &["returning"])
        .is_some()
    {
        return None;
    }
    let from = code
        .find_at_depth(set..filter, 0, &["from"])
        .map(|f| format!(", {}", text(f + 1, filter)))
        .unwrap_or_default();
    let target = text(1 + usize::from(code.is(1, "only")), set);
    Some(format!(
        "SELECT NOT EXISTS (SELECT 1 FROM {target}{from} WHERE {})",
        text(filter + 1, code.len())
    ))
}

/// An `UPDATE` whose second run changes nothing: no target column is computed from
/// itself with arithmetic or concatenation (`SET n = n + 1`, `SET s = s || 'x'`).
fn rerunnable_update(code: &Code<'_>) -> bool {
    let Some(set) = code.find_at_depth(1..code.len(), 0, &["set"]) else {
        return false;
    };
    let end = ["from", "where", "returning"]
        .iter()
        .filter_map(|w| code.find_at_depth(set..code.len(), 0, &[w]))
        .min()
        .unwrap_or(code.len());
    code.comma_separated(set + 1..end, 0).iter().all(|a| {
        let Some(eq) = (a.start..a.end).find(|&i| code.text(i) == "=") else {
            return false;
        };
        let target = code.text(eq - 1).to_ascii_lowercase();
        let uses_itself = (eq + 1..a.end).any(|i| code.text(i).eq_ignore_ascii_case(&target));
        let arithmetic = (eq + 1..a.end).any(|i| {
            code.kind(i) == Some(TokenKind::Operator)
                && matches!(code.text(i), "+" | "-" | "*" | "/" | "||" | "%" | "^")
        });
        !(uses_itself && arithmetic)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inserted_rows_are_asked_for_and_updates_judged() {
        assert_eq!(
            inserted_row(&Code::of(
                "INSERT INTO plans (code, price, note) VALUES ('free', 0, now()), ('pro', 10, now())"
            ))
            .as_deref(),
            Some("SELECT EXISTS (SELECT 1 FROM plans WHERE code = 'free' AND price = 0)")
        );
        assert_eq!(
            inserted_row(&Code::of("INSERT INTO t SELECT * FROM u")),
            None
        );
        assert!(rerunnable_update(&Code::of(
            "UPDATE accounts SET plan = 'starter' WHERE plan IN ('basic', 'pro')"
        )));
        assert!(!rerunnable_update(&Code::of(
            "UPDATE users u SET username = left(u.username, 50) || '_' || u.id FROM d WHERE u.username = d.username"
        )));
        assert!(rerunnable_update(&Code::of(
            "UPDATE t SET a = lower(a), b = c"
        )));
        assert!(!rerunnable_update(&Code::of("UPDATE t SET n = n + 1")));
    }
}
