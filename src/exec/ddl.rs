//! The DDL phase: the DDL sequence (`history::order`), step by step. A DDL migration the
//! ledger records is skipped; one it does not record runs, in one unit sent as one batch
//! (one round trip): `BEGIN`, the timeouts, the lock fence, the file, the ledger row,
//! `COMMIT`. An index build or backfill placed in the sequence runs at its point and must
//! succeed before the sequence goes on.
//!
//! When the ledger records nothing, the database is placed in the history first
//! (`exec::adopt`): the steps already in it are recorded as reconciled, not run. That is
//! the only time a migration is recorded without running.

use std::time::Instant;

use serde::Serialize;

use crate::config::{Manifest, Phase};
use crate::db::errors::{ErrorClass, describe, error_offset};
use crate::history::History;
use crate::ledger::guard::Ours;
use crate::ledger::state::{BackfillRow, IndexRow, NO_TENANT, PhaseState};
use crate::ledger::{Ledger, NewRow, Row};
use crate::project::{Migration, Project};
use crate::sql::{LineIndex, StatementKind, normalized_hash, split};

use super::adopt::{AdoptError, Adoption, Standing, standing};
use super::executor::{ExecError, Executor, UnitKind};
use super::{backfills, indexes};

/// What happens (or happened) to one step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    /// Recorded in the ledger (or the phase state): nothing to do.
    Applied,
    /// Recorded; the file differs only in comments and whitespace.
    AppliedCommentsChanged,
    /// Recorded, and the file changed since: drift.
    Drifted,
    /// Not recorded, but the database already has it (adoption): recorded as reconciled,
    /// not run.
    Reconcile,
    /// Not recorded: run it.
    Run,
}

#[derive(Debug, Clone, Serialize)]
pub struct Planned {
    pub id: String,
    pub phase: Phase,
    pub action: Action,
    /// From the ledger, for recorded migrations.
    pub applied_on: Option<String>,
    pub reconciled: bool,
    pub duration_ms: Option<i64>,
    /// Why an operator recorded it (`sqlrail mark`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// One step as this run left it.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    pub id: String,
    /// `applied`, `reconciled`, `already-applied` (another runner, or a commit whose
    /// answer a dropped connection hid); for placed index files `built`, `dropped`,
    /// `reindexed`; for placed backfills `done`.
    pub result: &'static str,
    pub duration_ms: u128,
    pub attempts: u32,
}

/// The DDL phase's run: what each step did, and whether it stopped before the end because
/// a placed backfill has not finished (it resumes, and the steps after it run, next time).
#[derive(Debug, Clone, Serialize)]
pub struct Run {
    pub outcomes: Vec<Outcome>,
    /// DDL migrations the ledger recorded before this run: nothing to do for them.
    pub up_to_date: usize,
    pub adoption: Adoption,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deferred: Option<String>,
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
    #[error("{0}")]
    Adopt(String),
    #[error(transparent)]
    Migration(Box<MigrationFailure>),
    #[error(
        "{id} failed: {message}\nit is placed in the DDL sequence ({place}), so the sequence stops there: applied {applied} of {pending} pending step(s) before it; it and the ones after it were not applied"
    )]
    Placed {
        id: String,
        place: String,
        message: String,
        applied: usize,
        pending: usize,
    },
}

/// A DDL migration that failed: where, why, and how far the run got.
#[derive(Debug, thiserror::Error)]
#[error(
    "{id} failed at {path}:{line}:{column}: {message}\n  {line} | {statement}\napplied {applied} of {pending} pending step(s) before it; it and the ones after it were not applied{hint}"
)]
pub struct MigrationFailure {
    pub id: String,
    pub path: String,
    pub line: u32,
    pub column: u32,
    pub statement: String,
    pub message: String,
    pub applied: usize,
    pub pending: usize,
    /// What to do when the failure says the change is already there.
    pub hint: String,
}

impl From<AdoptError> for DdlError {
    fn from(e: AdoptError) -> Self {
        match e {
            AdoptError::Exec(e) => DdlError::Exec(e),
            AdoptError::Unplaced { message } => DdlError::Adopt(message),
        }
    }
}

/// What the database records and where it stands, read once per plan.
pub struct Reading {
    pub rows: Vec<Row>,
    pub index_rows: Vec<IndexRow>,
    pub backfill_rows: Vec<BackfillRow>,
    pub standing: Standing,
    /// Whether the ledger table exists.
    pub ledger_exists: bool,
}

/// Reads the ledger, the phase state of placed steps and the standing (`known`: the
/// standing an earlier read of this run found, kept when this run's own reconciliations
/// made the ledger non-empty since).
pub fn read(
    exec: &mut Executor,
    project: &Project,
    history: &History<'_>,
    ledger: &Ledger,
    state: &PhaseState,
    known: Option<&Standing>,
) -> Result<Reading, DdlError> {
    let ledger_exists = exec.read("the ledger", |c| ledger.exists(c))?;
    let rows = if ledger_exists {
        exec.read("the ledger", |c| ledger.rows(c))?
    } else {
        Vec::new()
    };
    let placed = history.steps[..history.sequenced]
        .iter()
        .any(|s| s.migration.phase != Phase::Ddl);
    let (index_rows, backfill_rows) =
        if placed && exec.read("the phase state", |c| state.exists(c))? {
            (
                exec.read("the phase state", |c| state.index_rows(c))?,
                exec.read("the phase state", |c| state.backfill_rows(c))?,
            )
        } else {
            (Vec::new(), Vec::new())
        };
    let standing = match known {
        Some(known) => known.clone(),
        None => standing(exec, project, history, ledger, &rows)?,
    };
    Ok(Reading {
        rows,
        index_rows,
        backfill_rows,
        standing,
        ledger_exists,
    })
}

/// What each step of the DDL sequence needs.
pub fn plan(project: &Project, history: &History<'_>, reading: &Reading) -> Vec<Planned> {
    let by_version: std::collections::HashMap<i32, &Row> =
        reading.rows.iter().map(|r| (r.version, r)).collect();
    history.steps[..history.sequenced]
        .iter()
        .enumerate()
        .map(|(i, step)| {
            let m = step.migration;
            let row = (m.phase == Phase::Ddl)
                .then(|| by_version.get(&(m.version as i32)).copied())
                .flatten();
            let recorded = match m.phase {
                Phase::Ddl => row.map(|row| recorded_action(m, row)),
                Phase::Indexes => reading
                    .index_rows
                    .iter()
                    .find(|r| r.id == m.id && indexes::DONE_STATES.contains(&r.state.as_str()))
                    .map(|_| Action::Applied),
                Phase::Backfills => reading
                    .backfill_rows
                    .iter()
                    .any(|r| r.id == m.id && r.state == "done")
                    .then_some(Action::Applied),
            };
            let action = recorded.unwrap_or_else(|| {
                if reading.standing.has(history, project, i + 1) {
                    Action::Reconcile
                } else {
                    Action::Run
                }
            });
            Planned {
                id: m.id.clone(),
                phase: m.phase,
                action,
                applied_on: row.map(|r| r.applied_on.clone()),
                reconciled: row.is_some_and(|r| r.reconciled),
                duration_ms: row.and_then(|r| r.duration_ms),
                note: row.and_then(|r| r.note.clone()),
            }
        })
        .collect()
}

pub(crate) fn recorded_action(m: &Migration, row: &Row) -> Action {
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

/// Refuses, before anything runs, DDL files that cannot work as one transaction (psql
/// meta-commands, transaction control, statements that cannot run in a transaction) and
/// files that reach into sqlrail's own tables.
pub fn check_files<'a>(
    migrations: impl Iterator<Item = &'a Migration>,
    ours: &Ours<'_>,
) -> Result<(), DdlError> {
    for m in migrations.filter(|m| m.phase == Phase::Ddl) {
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
                        "`{}` cannot run inside a transaction block; move it to its own file in sql/indexes/ (placed in the DDL sequence with `after:` if the DDL after it needs it), or out of the migrations",
                        s.tag
                    ),
                });
            }
        }
        if let Some(touch) = ours.touches(&m.sql).first() {
            return Err(DdlError::Input {
                path,
                line: touch.line,
                message: format!(
                    "this statement {}, one of sqlrail's own tables (its ledger, lease or phase state); a migration must not touch them. If it means another tool's table of that name, qualify the name with its schema",
                    touch.what
                ),
            });
        }
    }
    Ok(())
}

pub struct Options<'o> {
    pub allow_drift: bool,
    pub state: &'o PhaseState,
    pub backfills: &'o backfills::Options,
    /// The last DDL migration to apply (`apply --to`): the sequence stops after it.
    pub to: Option<&'o str>,
}

/// Applies the DDL sequence. `log` receives one line per event.
pub fn apply(
    exec: &mut Executor,
    project: &Project,
    ledger: &Ledger,
    options: &Options<'_>,
    log: &dyn Fn(&str),
) -> Result<Run, DdlError> {
    let history = History::of(project);
    let state = options.state;
    exec.ensure_lock()?;
    exec.read("the ledger", |c| ledger.ensure(c))?;
    if history.steps[..history.sequenced]
        .iter()
        .any(|s| s.migration.phase != Phase::Ddl)
    {
        exec.read("the phase state", |c| state.ensure(c))?;
    }
    let mut outcomes: Vec<Outcome> = Vec::new();
    let mut checked = false;
    let mut known: Option<Standing> = None;
    // Counted at the first read, before this run recorded anything.
    let mut up_to_date: Option<usize> = None;
    // Whether this run has recorded adoption's reconciled steps (once, all together).
    let mut adopted = false;
    let ours = Ours {
        schema: &ledger.schema,
        ledger_table: &ledger.table,
    };
    'reread: loop {
        let generation = exec.generation();
        let reading = read(exec, project, &history, ledger, state, known.as_ref())?;
        known.get_or_insert_with(|| reading.standing.clone());
        let planned = plan(project, &history, &reading);
        let recorded_before = *up_to_date.get_or_insert_with(|| {
            planned
                .iter()
                .filter(|p| {
                    p.phase == Phase::Ddl
                        && matches!(p.action, Action::Applied | Action::AppliedCommentsChanged)
                })
                .count()
        });
        // What may run or be recorded: all of it, or up to `apply --to`'s migration.
        let limit = options
            .to
            .and_then(|last| planned.iter().position(|p| p.id == last))
            .map_or(planned.len(), |at| at + 1);
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
            let pending_files = planned[..limit]
                .iter()
                .filter(|p| p.action == Action::Run)
                .filter_map(|p| project.migration(&p.id));
            check_files(pending_files, &ours)?;
            if let Some(line) = reading.standing.describe(&history, project) {
                log(&line);
            }
            checked = true;
        }
        let adoption = reading.standing.summary(&history);
        if !matches!(reading.standing, Standing::Recorded) {
            let reconciled: Vec<&Planned> = planned[..limit]
                .iter()
                .filter(|p| p.action == Action::Reconcile)
                .collect();
            if !reconciled.is_empty() && !adopted {
                outcomes.extend(reconcile_all(
                    exec,
                    project,
                    ledger,
                    state,
                    &reconciled,
                    log,
                )?);
                adopted = true;
                continue 'reread;
            }
        }
        let todo: Vec<&Planned> = planned[..limit]
            .iter()
            .filter(|p| matches!(p.action, Action::Run | Action::Reconcile))
            .collect();
        let pending = todo.len();
        let mut next = 0;
        // How many migrations the next pipeline may take (after one that did not parse).
        let mut cap: Option<usize> = None;
        while next < pending {
            exec.check_stop(&todo[next].id)?;
            if exec.generation() != generation {
                // The lock changed hands meanwhile: what is pending may have changed too.
                continue 'reread;
            }
            let mut group = pipeline_group(project, &todo[next..]);
            group.truncate(cap.take().unwrap_or(usize::MAX));
            if group.len() > 1 {
                let sent = run_pipeline(exec, ledger, &project.manifest, &group)?;
                for (m, duration_ms) in group.iter().zip(&sent.durations) {
                    log(&format!("{:<16} {} ({} ms)", "applied", m.id, duration_ms));
                    outcomes.push(Outcome {
                        id: m.id.clone(),
                        result: "applied",
                        duration_ms: *duration_ms,
                        attempts: 1,
                    });
                }
                next += sent.durations.len();
                match sent.stopped {
                    None => continue,
                    Some(Stopped::Failed { error, body_start }) => {
                        let m = group[sent.durations.len()];
                        return Err(failure(
                            exec, project, &history, error, m, body_start, next, pending,
                        ));
                    }
                    Some(Stopped::Unparsed { before }) => {
                        cap = Some(before);
                        continue;
                    }
                    // Lock timeouts, connection losses, a lost lock: the next migration
                    // goes on alone, through the executor's retries.
                    Some(Stopped::Retry { cause }) => log(&format!(
                        "retry of {}..{} after {cause}: {} of them committed; going on one at a time",
                        group[0].id,
                        group[group.len() - 1].id,
                        sent.durations.len()
                    )),
                }
            }
            let n = next;
            next += 1;
            let p = todo[n];
            let m = project.migration(&p.id).expect("planned from the project");
            let reconcile = p.action == Action::Reconcile;
            let started = Instant::now();
            let (result, attempts) = match m.phase {
                Phase::Ddl => {
                    let mut body_start = 0;
                    let done = match run_one(
                        exec,
                        ledger,
                        &project.manifest,
                        m,
                        reconcile,
                        &mut body_start,
                    ) {
                        Ok(done) => done,
                        Err(e) => {
                            return Err(failure(
                                exec, project, &history, e, m, body_start, n, pending,
                            ));
                        }
                    };
                    let result = match (done.found_committed, reconcile) {
                        (true, _) => "already-applied",
                        (false, true) => "reconciled",
                        (false, false) => "applied",
                    };
                    (result, done.attempts)
                }
                Phase::Indexes | Phase::Backfills if reconcile => {
                    let sql = reconciled_state_sql(state, m);
                    exec.record(&m.id, &sql)?;
                    ("reconciled", 1)
                }
                Phase::Indexes => {
                    let outcome = indexes::apply_these(exec, project, state, log, &[m])?;
                    match outcome.into_iter().next() {
                        Some(o) if o.result == "failed" => {
                            return Err(placed_failure(
                                project,
                                m,
                                o.message.unwrap_or_default(),
                                n,
                                pending,
                            ));
                        }
                        Some(o) => {
                            outcomes.push(Outcome {
                                id: o.id,
                                result: o.result,
                                duration_ms: o.duration_ms,
                                attempts: o.attempts,
                            });
                            continue;
                        }
                        None => continue,
                    }
                }
                Phase::Backfills => {
                    let results =
                        backfills::apply_these(exec, project, state, options.backfills, log, &[m])?;
                    if let Some(o) = results.iter().find(|o| o.result == "failed") {
                        return Err(placed_failure(
                            project,
                            m,
                            o.message.clone().unwrap_or_default(),
                            n,
                            pending,
                        ));
                    }
                    if let Some(o) = results.iter().find(|o| o.result != "done") {
                        let deferred = format!(
                            "{} is placed in the DDL sequence and has not finished ({}: {}); the {} step(s) after it wait for the next run",
                            m.id,
                            o.result,
                            o.message.clone().unwrap_or_default(),
                            pending - n - 1
                        );
                        return Ok(Run {
                            outcomes,
                            up_to_date: recorded_before,
                            adoption,
                            deferred: Some(deferred),
                        });
                    }
                    ("done", 1)
                }
            };
            let outcome = Outcome {
                id: m.id.clone(),
                result,
                duration_ms: started.elapsed().as_millis(),
                attempts,
            };
            if m.phase == Phase::Ddl || reconcile {
                log(&format!(
                    "{:<16} {} ({} ms{})",
                    result,
                    m.id,
                    outcome.duration_ms,
                    if attempts > 1 {
                        format!(", {attempts} attempts")
                    } else {
                        String::new()
                    }
                ));
            }
            outcomes.push(outcome);
        }
        return Ok(Run {
            outcomes,
            up_to_date: recorded_before,
            adoption,
            deferred: None,
        });
    }
}

/// Records every step adoption found in the database as reconciled, in one transaction,
/// before anything runs: a run cut short between them would leave a ledger that records
/// some, and the next run (which trusts a non-empty ledger) would run the others again on
/// a database that has them.
fn reconcile_all(
    exec: &mut Executor,
    project: &Project,
    ledger: &Ledger,
    state: &PhaseState,
    reconciled: &[&Planned],
    log: &dyn Fn(&str),
) -> Result<Vec<Outcome>, DdlError> {
    let started = Instant::now();
    let holder = exec.holder().to_owned();
    let mut statements = Vec::new();
    let mut first_version = None;
    for p in reconciled {
        let m = project.migration(&p.id).expect("planned from the project");
        statements.push(match m.phase {
            Phase::Ddl => {
                let version = m.version as i32;
                first_version.get_or_insert(version);
                let stem = m.id.split_once('/').map_or(m.id.as_str(), |(_, s)| s);
                let name = stem.split_once("__").map_or(m.name.as_str(), |(_, n)| n);
                ledger.insert_sql(&NewRow {
                    version,
                    name,
                    checksum: m.checksum,
                    normalized_checksum: normalized_hash(&m.sql, 0, m.sql.len()),
                    reconciled: true,
                    attempts: 1,
                    applied_by: &holder,
                    note: None,
                    started: None,
                })
            }
            Phase::Indexes | Phase::Backfills => reconciled_state_sql(state, m),
        });
    }
    let batch = statements.join(";\n");
    let done = first_version.map(|v| ledger.recorded_sql(v));
    exec.run(
        "adoption: recording what the database has",
        UnitKind::Other,
        done.as_deref(),
        |client, fence| client.batch_execute(&format!("BEGIN;\n{fence};\n{batch};\nCOMMIT;")),
        |client| match first_version {
            Some(v) => Ok(ledger.is_recorded(client, v)?.then_some(())),
            None => Ok(None),
        },
    )?;
    let duration_ms = started.elapsed().as_millis();
    Ok(reconciled
        .iter()
        .map(|p| {
            log(&format!("{:<16} {}", "reconciled", p.id));
            Outcome {
                id: p.id.clone(),
                result: "reconciled",
                duration_ms,
                attempts: 1,
            }
        })
        .collect())
}

/// The phase-state rows that record a placed index build or backfill as reconciled.
fn reconciled_state_sql(state: &PhaseState, m: &Migration) -> String {
    if m.phase == Phase::Indexes {
        return state.index_finished_sql(&m.id, m.checksum, "reconciled", None);
    }
    format!(
        "{}; {}",
        state.backfill_start_sql(&m.id, NO_TENANT, m.checksum, 1, 0),
        state.set_state_sql(
            &m.id,
            NO_TENANT,
            "done",
            Some("reconciled: adopted with the database")
        )
    )
}

fn placed_failure(
    project: &Project,
    m: &Migration,
    message: String,
    applied: usize,
    pending: usize,
) -> DdlError {
    let place = project
        .entry(&m.id)
        .and_then(|e| {
            e.after
                .as_ref()
                .map(|a| format!("after: {a}"))
                .or_else(|| e.before.as_ref().map(|b| format!("before: {b}")))
        })
        .unwrap_or_default();
    DdlError::Placed {
        id: m.id.clone(),
        place,
        message,
        applied,
        pending,
    }
}

/// At most this many migrations, and this much SQL, go in one pipeline: a connection lost
/// mid-pipeline costs a ledger read and a resend of the rest, nothing more, so the bound
/// only keeps one message of a sane size.
const PIPELINE_MIGRATIONS: usize = 500;
const PIPELINE_BYTES: usize = 4 << 20;

/// The migrations at the head of `todo` that can share one pipeline: DDL migrations to
/// run (not to reconcile), up to the first index build or backfill placed among them.
fn pipeline_group<'p>(project: &'p Project, todo: &[&Planned]) -> Vec<&'p Migration> {
    let mut group = Vec::new();
    let mut bytes = 0;
    for p in todo {
        if p.phase != Phase::Ddl || p.action != Action::Run || group.len() == PIPELINE_MIGRATIONS {
            break;
        }
        let m = project.migration(&p.id).expect("planned from the project");
        bytes += m.sql.len();
        if bytes > PIPELINE_BYTES && !group.is_empty() {
            break;
        }
        group.push(m);
    }
    group
}

/// How a pipeline went: the server-measured duration of each migration that committed,
/// in order (a prefix of the group: a failure ends the pipeline's message there), and
/// what stopped it, if anything did.
struct Sent {
    durations: Vec<u128>,
    stopped: Option<Stopped>,
}

enum Stopped {
    /// The next migration failed in itself: the error, and where its file starts in the
    /// pipeline's text (characters), for the error's position.
    Failed { error: ExecError, body_start: usize },
    /// A later migration of the group does not parse: PostgreSQL parses a whole message
    /// before running any of it, so nothing ran. The migrations before that one go
    /// again as a pipeline of their own (this many), and it alone after them.
    Unparsed { before: usize },
    /// Anything the executor retries (a lock timeout, a connection loss, a lost lock):
    /// why, for the log.
    Retry { cause: String },
}

/// Runs `group` as one pipeline: the units `run_one` would send one by one (each its own
/// transaction with its fence and ledger row), sent as one message, then one read of
/// their ledger rows. PostgreSQL runs a message's statements in order and skips the rest
/// at the first error, so what committed is a prefix; after any failure the ledger (read
/// on a fresh connection if this one was lost) says how long, so nothing is run twice.
fn run_pipeline(
    exec: &mut Executor,
    ledger: &Ledger,
    manifest: &Manifest,
    group: &[&Migration],
) -> Result<Sent, DdlError> {
    let settings = &manifest.settings.ddl;
    let holder = exec.holder().to_owned();
    let versions: Vec<i32> = group.iter().map(|m| m.version as i32).collect();
    let started = exec.unit_started_sql();
    // Where each migration's unit and file start in the text, in characters.
    let mut unit_starts = Vec::with_capacity(group.len());
    let mut body_starts = Vec::with_capacity(group.len());
    let answer = exec.try_once(&group[0].id, |client, fence| {
        let mut text = String::new();
        let mut chars = 0;
        for m in group {
            let stem = m.id.split_once('/').map_or(m.id.as_str(), |(_, s)| s);
            let row = NewRow {
                version: m.version as i32,
                name: stem.split_once("__").map_or(m.name.as_str(), |(_, n)| n),
                checksum: m.checksum,
                normalized_checksum: normalized_hash(&m.sql, 0, m.sql.len()),
                reconciled: false,
                attempts: 1,
                applied_by: &holder,
                note: None,
                started: Some(&started),
            };
            let done = ledger.recorded_sql(m.version as i32);
            let unit = batch(
                settings,
                &fence(Some(&done)),
                &m.sql,
                &ledger.insert_sql(&row),
            );
            // Up to the file, a unit's text is ASCII: bytes are characters.
            unit_starts.push(chars);
            body_starts.push(chars + unit.body_start);
            chars += unit.text.chars().count() + 1;
            text.push_str(&unit.text);
            text.push('\n');
        }
        client.batch_execute(&text)
    })?;
    let recorded = exec.read("the ledger", |c| ledger.recorded_among(c, &versions))?;
    let durations: Vec<u128> = versions
        .iter()
        .map_while(|v| recorded.get(v))
        .map(|d| d.unwrap_or(0).max(0) as u128)
        .collect();
    // All recorded: done, even if the answer was lost with the connection.
    let stopped = match answer {
        _ if durations.len() == group.len() => None,
        Ok(()) => {
            return Err(DdlError::Exec(ExecError::Exhausted {
                unit: group[durations.len()].id.clone(),
                attempts: 1,
                message:
                    "the pipeline reported success but the ledger does not record this migration"
                        .into(),
            }));
        }
        Err(_) if let Some(signal) = super::stop::requested() => Some(Stopped::Failed {
            error: ExecError::Stopped {
                signal,
                during: group[durations.len()].id.clone(),
                rolled_back: true,
            },
            body_start: 0,
        }),
        Err(error) => {
            let committed = durations.len();
            // The migration the error's position lies in (positions count characters
            // from 1 over the whole message).
            let at = match error.as_db_error().and_then(|d| d.position()) {
                Some(postgres::error::ErrorPosition::Original(p)) => {
                    unit_starts.partition_point(|&start| start < *p as usize) - 1
                }
                _ => committed,
            };
            match ErrorClass::of(&error) {
                ErrorClass::Fatal if at > committed => Some(Stopped::Unparsed {
                    before: at - committed,
                }),
                ErrorClass::Fatal => Some(Stopped::Failed {
                    body_start: body_starts[committed],
                    error: ExecError::Failed {
                        unit: group[committed].id.clone(),
                        message: describe(&error),
                        error,
                        attempts: 1,
                    },
                }),
                class => Some(Stopped::Retry {
                    cause: format!(
                        "{} ({})",
                        match class {
                            ErrorClass::ConnectionLost => "connection loss",
                            ErrorClass::LockLost => "losing the migration lock",
                            ErrorClass::LockTimeout => "lock_timeout",
                            ErrorClass::AlreadyDone => "finding it applied",
                            ErrorClass::ReadOnly => "a read-only server",
                            _ => "a transient error",
                        },
                        ErrorClass::describe(&error)
                    ),
                }),
            }
        }
    };
    Ok(Sent { durations, stopped })
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
    let started = exec.unit_started_sql();
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
                note: None,
                started: Some(&started),
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
    // A newline first: the file may end in a `--` comment. Then every setting the file
    // changed for the session (pg_dump's `set_config('search_path', '', false)`, a
    // `SET ROLE`, `SET SESSION AUTHORIZATION`) goes back to the connection's own: the
    // next migration runs as if in a session of its own, as under psql, and the ledger
    // row is written as ourselves. (`RESET ALL` alone leaves the session authorization.)
    text.push_str("\n;\nRESET SESSION AUTHORIZATION;\nRESET ROLE;\nRESET ALL;\n");
    text.push_str(insert);
    text.push_str(";\nCOMMIT;");
    Batch { text, body_start }
}

/// SQLSTATEs of "already exists": the change (or part of it) is in the database although
/// the ledger does not record the migration.
const ALREADY_EXISTS: &[&str] = &["42P07", "42701", "42710", "42723", "42P06", "42P16"];

/// The error for a migration that failed: the server's message, and the file, line and
/// text of the failing statement. The server's error position (characters from 1 in the
/// batch) is mapped through the lexer's spans; errors without a position (most errors of
/// DDL that parses) are located by running the file's statements one by one in a
/// transaction that is rolled back.
#[allow(clippy::too_many_arguments)]
fn failure(
    exec: &mut Executor,
    project: &Project,
    history: &History<'_>,
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
    let hint = if ALREADY_EXISTS.contains(&db.code().code()) {
        already_there_hint(exec, project, history, m)
    } else {
        String::new()
    };
    let statements = split(&m.sql).map(|f| f.statements).unwrap_or_default();
    // The batch's text before the file is ASCII, so its length in bytes is in characters.
    let offset = error_offset(db, body_start, &m.sql);
    let statement = match offset {
        Some(o) => statements.iter().rev().find(|s| s.start <= o),
        None => locate(exec, &project.manifest, m, &statements).and_then(|i| statements.get(i)),
    };
    let (line, column) = match (offset, statement) {
        (Some(o), _) => LineIndex::new(&m.sql).position(&m.sql, o),
        (None, Some(s)) => (s.line, s.column),
        (None, None) => (1, 1),
    };
    // The source line of the error (with its `;`), as the user wrote it.
    let source_line = m.sql.lines().nth(line as usize - 1).unwrap_or_default();
    DdlError::Migration(Box::new(MigrationFailure {
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
        hint,
    }))
}

/// What to do when a migration the ledger does not record finds its objects there.
fn already_there_hint(
    exec: &mut Executor,
    project: &Project,
    history: &History<'_>,
    m: &Migration,
) -> String {
    let check = history
        .step_of(&m.id)
        .and_then(|step| super::adopt::check_of(project, history, step));
    let holds = check.as_ref().and_then(|c| {
        exec.read("the fingerprint", |client| {
            crate::db::fingerprint::holds(client, c)
        })
        .ok()
    });
    let mark = format!(
        "if {} was applied by hand, record it: `sqlrail mark {} --reason \"…\"`; if an earlier migration creates the object, the history is wrong: fix the files",
        m.id, m.id
    );
    match (check, holds) {
        (Some(check), Some(true)) => format!(
            "\nits change is already in the database ({check} holds) but the ledger does not record it: {mark}"
        ),
        _ => format!(
            "\nthe object already exists but the ledger does not record {}: {mark}",
            m.id
        ),
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
