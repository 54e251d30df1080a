//! The DDL phase: per migration, in version order: recorded → skip; not recorded but its
//! fingerprint holds → record as reconciled; otherwise run it and record it in the same
//! transaction. Each migration is one unit sent as one batch (one round trip): `BEGIN`,
//! the timeouts, the lock fence, the file, the ledger row, `COMMIT`.

use std::collections::HashMap;
use std::time::Instant;

use serde::Serialize;

use crate::config::{Fingerprint, Manifest};
use crate::db::errors::error_offset;
use crate::db::fingerprint::holds_all;
use crate::ledger::{Ledger, NewRow, Row};
use crate::project::{Migration, Project};
use crate::sql::{LineIndex, StatementKind, normalized_hash, split};

use super::executor::{ExecError, Executor, UnitKind};

/// What happens (or happened) to one migration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    /// Recorded in the ledger: nothing to do.
    Applied,
    /// Recorded; the file differs only in comments and whitespace.
    AppliedCommentsChanged,
    /// Recorded, and the file changed since: drift.
    Drifted,
    /// Not recorded, but the fingerprint holds: recorded as reconciled, not run.
    Reconcile,
    /// Not recorded: run it.
    Run,
}

#[derive(Debug, Clone, Serialize)]
pub struct Planned {
    pub id: String,
    pub action: Action,
    /// From the ledger, for recorded migrations.
    pub applied_on: Option<String>,
    pub reconciled: bool,
    pub duration_ms: Option<i64>,
}

/// One migration as this run left it.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    pub id: String,
    /// `applied`, `reconciled` or `already-applied` (another runner, or a commit whose
    /// answer a dropped connection hid).
    pub result: &'static str,
    pub duration_ms: u128,
    pub attempts: u32,
}

#[derive(Debug, thiserror::Error)]
pub enum DdlError {
    #[error("{0}")]
    Exec(#[from] ExecError),
    #[error("drift: {} recorded migration(s) changed since they were applied:\n{}\nrestore the files (write new migrations instead), or pass --allow-drift", list.len(), list.join("\n"))]
    Drift { list: Vec<String> },
    #[error("{path}:{line}: {message}")]
    Input {
        path: String,
        line: u32,
        message: String,
    },
    #[error(
        "{id} failed at {path}:{line}:{column}: {message}\n  {line} | {statement}\napplied {applied} of {pending} pending migration(s) before it; it and the ones after it were not applied"
    )]
    Migration {
        id: String,
        path: String,
        line: u32,
        column: u32,
        statement: String,
        message: String,
        applied: usize,
        pending: usize,
    },
}

/// Compares the ledger with the project: what each DDL migration needs.
pub fn plan(project: &Project, rows: &[Row], holds: &HashMap<String, bool>) -> Vec<Planned> {
    let by_version: HashMap<i32, &Row> = rows.iter().map(|r| (r.version, r)).collect();
    project
        .phase(crate::config::Phase::Ddl)
        .map(|m| {
            let row = by_version.get(&(m.version as i32));
            let action = match row {
                Some(row) => recorded_action(m, row),
                None if holds.get(&m.id).copied().unwrap_or(false) => Action::Reconcile,
                None => Action::Run,
            };
            Planned {
                id: m.id.clone(),
                action,
                applied_on: row.map(|r| r.applied_on.clone()),
                reconciled: row.is_some_and(|r| r.reconciled),
                duration_ms: row.and_then(|r| r.duration_ms),
            }
        })
        .collect()
}

fn recorded_action(m: &Migration, row: &Row) -> Action {
    let stem = m.id.split_once('/').map_or(m.id.as_str(), |(_, s)| s);
    let stem_name = stem.split_once("__").map_or("", |(_, n)| n);
    if row.name != stem_name && row.name != m.name {
        return Action::Drifted;
    }
    if row.checksum == m.checksum.to_string() {
        return Action::Applied;
    }
    let normalized = format!("{:016x}", normalized_hash(&m.sql, 0, m.sql.len()));
    if row.normalized_checksum.as_deref() == Some(normalized.as_str()) {
        Action::AppliedCommentsChanged
    } else {
        Action::Drifted
    }
}

/// Evaluates the fingerprints of the migrations not in the ledger (one round trip).
pub fn pending_fingerprints(
    exec: &mut Executor,
    project: &Project,
    rows: &[Row],
) -> Result<HashMap<String, bool>, ExecError> {
    let recorded: std::collections::HashSet<i32> = rows.iter().map(|r| r.version).collect();
    let checks: Vec<(&str, &Fingerprint)> = project
        .phase(crate::config::Phase::Ddl)
        .filter(|m| !recorded.contains(&(m.version as i32)))
        .filter_map(|m| {
            project
                .manifest
                .entry(&m.id)
                .and_then(|e| e.fingerprint.as_ref())
                .map(|f| (m.id.as_str(), f))
        })
        .collect();
    let fingerprints: Vec<&Fingerprint> = checks.iter().map(|(_, f)| *f).collect();
    let results = match exec.read("fingerprints", |c| holds_all(c, &fingerprints)) {
        Ok(results) => results,
        // A check that is wrong (not the connection): find it, so the error names its
        // migration rather than "fingerprints".
        Err(error @ ExecError::Failed { .. }) => {
            for (id, fingerprint) in &checks {
                exec.read(&format!("{id}: fingerprint"), |c| {
                    holds_all(c, &[*fingerprint])
                })
                .map_err(|e| match e {
                    ExecError::Failed {
                        unit,
                        message,
                        error,
                        attempts,
                    } if error.code().is_none() => ExecError::Failed {
                        unit,
                        message: format!(
                            "a `sql:` check must return a boolean in its first column ({message})"
                        ),
                        error,
                        attempts,
                    },
                    other => other,
                })?;
            }
            return Err(error);
        }
        Err(error) => return Err(error),
    };
    Ok(checks
        .iter()
        .zip(results)
        .map(|((id, _), held)| (id.to_string(), held))
        .collect())
}

/// Refuses, before anything runs, files that cannot work as one transaction: psql
/// meta-commands, transaction control, statements that cannot run in a transaction.
pub fn check_files<'a>(migrations: impl Iterator<Item = &'a Migration>) -> Result<(), DdlError> {
    for m in migrations {
        let path = shown(&m.path);
        let file = split(&m.sql).map_err(|e| {
            let (line, _) = LineIndex::new(&m.sql).position(&m.sql, e.start);
            DdlError::Input {
                path: path.clone(),
                line,
                message: format!("unterminated {} opened here", e.unclosed),
            }
        })?;
        if let Some(p) = file.psql.first() {
            return Err(DdlError::Input {
                path,
                line: p.line,
                message: "psql-only syntax (a meta-command or COPY data) is not SQL: the server would reject it; remove it".into(),
            });
        }
        for s in &file.statements {
            if s.kind == StatementKind::TransactionControl {
                return Err(DdlError::Input {
                    path,
                    line: s.line,
                    message: format!(
                        "`{}`: sqlrail runs each DDL file in its own transaction; remove transaction control",
                        s.tag
                    ),
                });
            }
            if !s.in_transaction {
                return Err(DdlError::Input {
                    path,
                    line: s.line,
                    message: format!(
                        "`{}` cannot run inside a transaction block; move it to sql/indexes/ (or out of the migrations)",
                        s.tag
                    ),
                });
            }
        }
    }
    Ok(())
}

pub struct Options {
    pub allow_drift: bool,
}

/// Applies the DDL phase. `log` receives one line per event.
pub fn apply(
    exec: &mut Executor,
    project: &Project,
    ledger: &Ledger,
    options: &Options,
    log: &dyn Fn(&str),
) -> Result<Vec<Outcome>, DdlError> {
    let manifest: &Manifest = &project.manifest;
    exec.ensure_lock()?;
    exec.read("the ledger", |c| ledger.ensure(c))?;
    let mut outcomes: Vec<Outcome> = Vec::new();
    let mut checked = false;
    'reread: loop {
        let generation = exec.generation();
        let rows = exec.read("the ledger", |c| ledger.rows(c))?;
        let holds = pending_fingerprints(exec, project, &rows)?;
        let planned = plan(project, &rows, &holds);
        if !checked {
            let drifted: Vec<String> = planned
                .iter()
                .filter(|p| p.action == Action::Drifted)
                .map(|p| format!("  {}", p.id))
                .collect();
            for p in planned
                .iter()
                .filter(|p| p.action == Action::AppliedCommentsChanged)
            {
                log(&format!(
                    "warning: {} changed only in comments or whitespace since it was applied",
                    p.id
                ));
            }
            if !drifted.is_empty() {
                if !options.allow_drift {
                    return Err(DdlError::Drift { list: drifted });
                }
                log(&format!(
                    "warning: {} drifted migration(s) allowed by --allow-drift",
                    drifted.len()
                ));
            }
            let pending_files = planned
                .iter()
                .filter(|p| p.action == Action::Run)
                .filter_map(|p| project.migrations.iter().find(|m| m.id == p.id));
            check_files(pending_files)?;
            checked = true;
        }
        let todo: Vec<&Planned> = planned
            .iter()
            .filter(|p| matches!(p.action, Action::Run | Action::Reconcile))
            .collect();
        let pending = todo.len();
        for (n, p) in todo.into_iter().enumerate() {
            if exec.generation() != generation {
                // The lock changed hands meanwhile: what is pending may have changed too.
                continue 'reread;
            }
            let m = project
                .migrations
                .iter()
                .find(|m| m.id == p.id)
                .expect("planned from the project");
            let reconcile = p.action == Action::Reconcile;
            let started = Instant::now();
            let mut body_start = 0;
            let done = match run_one(exec, ledger, manifest, m, reconcile, &mut body_start) {
                Ok(done) => done,
                Err(e) => return Err(failure(exec, manifest, e, m, body_start, n, pending)),
            };
            let result = match (done.found_committed, reconcile) {
                (true, _) => "already-applied",
                (false, true) => "reconciled",
                (false, false) => "applied",
            };
            let outcome = Outcome {
                id: m.id.clone(),
                result,
                duration_ms: started.elapsed().as_millis(),
                attempts: done.attempts,
            };
            log(&format!(
                "{:<16} {} ({} ms{})",
                result,
                m.id,
                outcome.duration_ms,
                if done.attempts > 1 {
                    format!(", {} attempts", done.attempts)
                } else {
                    String::new()
                }
            ));
            outcomes.push(outcome);
        }
        break;
    }
    Ok(outcomes)
}

/// Runs (or records as reconciled) one migration as one unit.
fn run_one(
    exec: &mut Executor,
    ledger: &Ledger,
    manifest: &Manifest,
    m: &Migration,
    reconcile: bool,
    body_start: &mut usize,
) -> Result<super::executor::Done<()>, ExecError> {
    let settings = &manifest.settings.ddl;
    let holder = exec.holder().to_owned();
    let version = m.version as i32;
    let stem = m.id.split_once('/').map_or(m.id.as_str(), |(_, s)| s);
    let name = stem.split_once("__").map_or(m.name.as_str(), |(_, n)| n);
    let mut attempt = 0;
    let done = ledger.recorded_sql(version);
    exec.run(
        &m.id,
        UnitKind::Ddl,
        Some(&done),
        |client, fence| {
            attempt += 1;
            let row = NewRow {
                version,
                name,
                checksum: m.checksum,
                normalized_checksum: normalized_hash(&m.sql, 0, m.sql.len()),
                reconciled: reconcile,
                attempts: attempt,
                applied_by: &holder,
            };
            let body = if reconcile { "" } else { m.sql.as_str() };
            let unit = batch(settings, fence, body, &ledger.insert_sql(&row));
            *body_start = unit.body_start;
            client.batch_execute(&unit.text)
        },
        |client| Ok(ledger.is_recorded(client, version)?.then_some(())),
    )
}

/// A unit's SQL text, and where the file's text starts in it.
pub struct Batch {
    pub text: String,
    pub body_start: usize,
}

pub fn batch(
    settings: &crate::config::DdlSettings,
    fence: &str,
    body: &str,
    insert: &str,
) -> Batch {
    let mut text = format!(
        "BEGIN;\nSET LOCAL standard_conforming_strings = on;\nSET LOCAL lock_timeout = '{}ms';\nSET LOCAL statement_timeout = '{}ms';\n{fence};\n",
        settings.lock_timeout.0.as_millis(),
        settings.statement_timeout.0.as_millis()
    );
    let body_start = text.len();
    text.push_str(body);
    // A newline first: the file may end in a `--` comment.
    text.push_str("\n;\n");
    text.push_str(insert);
    text.push_str(";\nCOMMIT;");
    Batch { text, body_start }
}

/// The error for a migration that failed: the server's message, and the file, line and
/// text of the failing statement. The server's error position (characters from 1 in the
/// batch) is mapped through the lexer's spans; errors without a position (most errors of
/// DDL that parses) are located by running the file's statements one by one in a
/// transaction that is rolled back.
fn failure(
    exec: &mut Executor,
    manifest: &Manifest,
    error: ExecError,
    m: &Migration,
    body_start: usize,
    applied: usize,
    pending: usize,
) -> DdlError {
    let Some(db) = error.db_error() else {
        return DdlError::Exec(error);
    };
    let message = format!(
        "{}: {}{}",
        db.severity(),
        db.message(),
        db.hint()
            .map(|h| format!(" (hint: {h})"))
            .unwrap_or_default()
    );
    let statements = split(&m.sql).map(|f| f.statements).unwrap_or_default();
    // The batch's text before the file is ASCII, so its length in bytes is in characters.
    let offset = error_offset(db, body_start, &m.sql);
    let statement = match offset {
        Some(o) => statements.iter().rev().find(|s| s.start <= o),
        None => locate(exec, manifest, m, &statements).and_then(|i| statements.get(i)),
    };
    let (line, column) = match (offset, statement) {
        (Some(o), _) => LineIndex::new(&m.sql).position(&m.sql, o),
        (None, Some(s)) => (s.line, s.column),
        (None, None) => (1, 1),
    };
    // The source line of the error (with its `;`), as the user wrote it.
    let source_line = m.sql.lines().nth(line as usize - 1).unwrap_or_default();
    DdlError::Migration {
        id: m.id.clone(),
        path: shown(&m.path),
        line,
        column,
        statement: if statement.is_some() {
            source_line.trim_end().to_owned()
        } else {
            String::new()
        },
        message,
        applied,
        pending,
    }
}

/// Which statement of `m` fails: each runs in turn in one transaction, rolled back.
fn locate(
    exec: &mut Executor,
    manifest: &Manifest,
    m: &Migration,
    statements: &[crate::sql::Statement],
) -> Option<usize> {
    let settings = &manifest.settings.ddl;
    exec.read("locating the failing statement", |c| {
        c.batch_execute(&format!(
            "BEGIN; SET LOCAL lock_timeout = '{}ms'; SET LOCAL statement_timeout = '{}ms'",
            settings.lock_timeout.0.as_millis(),
            settings.statement_timeout.0.as_millis()
        ))?;
        let failed = statements
            .iter()
            .position(|s| c.batch_execute(s.text(&m.sql)).is_err());
        c.batch_execute("ROLLBACK")?;
        Ok(failed)
    })
    .ok()
    .flatten()
}

/// `path` relative to the current directory when it lies inside it.
fn shown(path: &std::path::Path) -> String {
    let cwd = std::env::current_dir().unwrap_or_default();
    path.strip_prefix(&cwd)
        .unwrap_or(path)
        .display()
        .to_string()
}
