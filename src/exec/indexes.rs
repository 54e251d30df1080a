//! The index phase: one `CREATE [UNIQUE] INDEX CONCURRENTLY` per file, in version order,
//! outside transactions, one at a time, through the retry executor.
//!
//! Per file: recorded as valid → skip. Otherwise the index is looked up by name: valid →
//! recorded as reconciled; invalid (a failed or interrupted earlier build) → dropped with
//! `DROP INDEX CONCURRENTLY`, then built (`IF NOT EXISTS` would silently keep the invalid
//! one). The start and the end of each build are recorded, so an interrupted build shows
//! in `status` and is recovered next run. The builds' connections carry their own
//! `lock_timeout`/`statement_timeout` as startup options (none by default): a lock timeout
//! cancels the build's wait for older transactions and leaves an INVALID index, and a
//! `SET` would leak to other clients through a transaction pooler. A failure is a
//! warning; the phase goes on with the next index.

use std::time::{Duration, Instant};

use postgres::Client;
use postgres::types::Type;
use serde::Serialize;

use crate::config::{IndexSettings, Phase};
use crate::db::quote::ident;
use crate::ledger::state::PhaseState;
use crate::project::{Migration, Project};
use crate::sql::code::{Code, index_statement};
use crate::sql::split;

use super::executor::{ExecError, Executor, UnitKind};

/// One index file as this run left it.
#[derive(Debug, Clone, Serialize)]
pub struct IndexOutcome {
    pub id: String,
    /// `built`, `reconciled` (found valid, not built), `failed`.
    pub result: &'static str,
    pub duration_ms: u128,
    pub attempts: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// The index a file builds, resolved from its one statement.
struct Build<'a> {
    migration: &'a Migration,
    /// The statement's text, without the trailing `;`.
    sql: String,
    /// The index name and the table it is on, quoted for SQL (`"public"."t"`).
    name: String,
    table_sql: String,
}

/// Where an index stands in the catalog.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Found {
    Missing,
    Valid,
    /// Invalid, and `building` says whether some backend is building it right now.
    Invalid {
        oid: u32,
        building: Option<i32>,
    },
}

/// Startup options for the builds' connections.
fn session_options(settings: &IndexSettings) -> String {
    format!(
        "-c lock_timeout={}ms -c statement_timeout={}ms",
        settings.lock_timeout.0.as_millis(),
        settings.statement_timeout.0.as_millis()
    )
}

fn parse(m: &Migration) -> Result<Build<'_>, String> {
    let file = split(&m.sql).map_err(|e| format!("holds an unterminated {}", e.unclosed))?;
    let [statement] = file.statements.as_slice() else {
        return Err(format!(
            "holds {} statements; an index file holds exactly one CREATE INDEX CONCURRENTLY",
            file.statements.len()
        ));
    };
    let text = &m.sql[statement.start..statement.end];
    let code = Code::of(text);
    let index =
        index_statement(&code).ok_or_else(|| "is not a CREATE INDEX statement".to_owned())?;
    if !index.concurrently {
        return Err(
            "builds its index without CONCURRENTLY, which blocks writes to the table for the whole build; add CONCURRENTLY"
                .into(),
        );
    }
    let name = index
        .name
        .ok_or_else(|| "does not name its index; name it, so a rerun can find it".to_owned())?;
    let table_sql = index
        .table
        .split('.')
        .map(ident)
        .collect::<Vec<_>>()
        .join(".");
    Ok(Build {
        migration: m,
        sql: text.to_owned(),
        name,
        table_sql,
    })
}

/// Looks the index up by name in its table's schema.
fn lookup(client: &mut Client, build: &Build<'_>) -> Result<Found, postgres::Error> {
    let row = client.query_typed_opt(
        "SELECT i.indisvalid, c.oid, (SELECT p.pid FROM pg_stat_progress_create_index p WHERE p.index_relid = c.oid LIMIT 1) \
         FROM pg_class c JOIN pg_index i ON i.indexrelid = c.oid \
         WHERE c.relname = $1 AND c.relnamespace = (SELECT relnamespace FROM pg_class WHERE oid = to_regclass($2))",
        &[(&build.name, Type::TEXT), (&build.table_sql, Type::TEXT)],
    )?;
    Ok(match row {
        None => Found::Missing,
        Some(r) if r.get::<_, bool>(0) => Found::Valid,
        Some(r) => Found::Invalid {
            oid: r.get(1),
            building: r.get(2),
        },
    })
}

/// The index, qualified with its table's schema, for `DROP INDEX`.
fn qualified_index(client: &mut Client, oid: u32) -> Result<String, postgres::Error> {
    Ok(client
        .query_typed_one(
            "SELECT format('%I.%I', n.nspname, c.relname) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = $1",
            &[(&oid, Type::OID)],
        )?
        .get(0))
}

pub fn apply(
    exec: &mut Executor,
    project: &Project,
    state: &PhaseState,
    log: &dyn Fn(&str),
) -> Result<Vec<IndexOutcome>, ExecError> {
    let settings = &project.manifest.settings.indexes;
    exec.ensure_lock()?;
    exec.read("the phase state", |c| state.ensure(c))?;
    let rows = exec.read("the phase state", |c| state.index_rows(c))?;
    exec.set_session_options(Some(&session_options(settings)));
    let mut outcomes = Vec::new();
    for m in project.phase(Phase::Indexes) {
        if let Some(row) = rows.iter().find(|r| r.id == m.id)
            && matches!(row.state.as_str(), "valid" | "reconciled")
        {
            if row.checksum != m.checksum.to_string() {
                log(&format!(
                    "warning: {} changed since its index was built; an index file is not rebuilt when edited: write a new one",
                    m.id
                ));
            }
            continue;
        }
        let started = Instant::now();
        let outcome = match parse(m) {
            Err(why) => IndexOutcome {
                id: m.id.clone(),
                result: "failed",
                duration_ms: 0,
                attempts: 0,
                message: Some(format!("{}: {why}", m.path.display())),
            },
            Ok(build) => match build_one(exec, state, &build, log) {
                Ok((result, attempts)) => IndexOutcome {
                    id: m.id.clone(),
                    result,
                    duration_ms: started.elapsed().as_millis(),
                    attempts,
                    message: None,
                },
                Err(e @ (ExecError::Connect { .. } | ExecError::LockWait { .. })) => {
                    exec.set_session_options(None);
                    return Err(e);
                }
                Err(e) => {
                    let message = format!("{}: {e}", m.path.display());
                    cleanup_after_failure(exec, state, &build, &message, log);
                    IndexOutcome {
                        id: m.id.clone(),
                        result: "failed",
                        duration_ms: started.elapsed().as_millis(),
                        attempts: 0,
                        message: Some(message),
                    }
                }
            },
        };
        match &outcome.message {
            Some(message) => log(&format!("warning: index build failed: {message}")),
            None => log(&format!(
                "{:<16} {} ({} ms)",
                outcome.result, outcome.id, outcome.duration_ms
            )),
        }
        outcomes.push(outcome);
    }
    exec.set_session_options(None);
    Ok(outcomes)
}

/// Records, drops a leftover and builds one index; returns the result and attempts.
fn build_one(
    exec: &mut Executor,
    state: &PhaseState,
    build: &Build<'_>,
    log: &dyn Fn(&str),
) -> Result<(&'static str, u32), ExecError> {
    let m = build.migration;
    let found = exec.read(&m.id, |c| lookup(c, build))?;
    if found == Found::Valid {
        record(exec, state, build, "reconciled", None)?;
        return Ok(("reconciled", 1));
    }
    let holder = exec.holder().to_owned();
    let started_sql = state.index_started_sql(&m.id, m.checksum, &holder);
    exec.record(&m.id, &started_sql)?;
    let monitor = Monitor::start(exec, build);
    let done = exec.run(
        &m.id,
        UnitKind::Other,
        None,
        |client, fence| {
            client.batch_execute(fence)?;
            loop {
                match lookup(client, build)? {
                    Found::Valid => return Ok(()),
                    Found::Missing => break,
                    Found::Invalid {
                        building: Some(pid),
                        ..
                    } => {
                        // An earlier attempt's build, still running after its connection
                        // dropped: wait for it rather than fight it.
                        log(&format!(
                            "{}: waiting for an earlier build of {} (pid {pid}) to end",
                            m.id, build.name
                        ));
                        std::thread::sleep(Duration::from_secs(1));
                    }
                    Found::Invalid {
                        oid,
                        building: None,
                    } => {
                        let name = qualified_index(client, oid)?;
                        log(&format!(
                            "{}: dropping the invalid index {name} an earlier build left, then building it again",
                            m.id
                        ));
                        client.batch_execute(&format!("DROP INDEX CONCURRENTLY IF EXISTS {name}"))?;
                        break;
                    }
                }
            }
            client.batch_execute(&build.sql)
        },
        |client| Ok((lookup(client, build)? == Found::Valid).then_some(())),
    );
    drop(monitor);
    let done = done?;
    match exec.read(&m.id, |c| lookup(c, build))? {
        Found::Valid => {
            record(exec, state, build, "valid", None)?;
            Ok(("built", done.attempts))
        }
        other => Err(ExecError::Exhausted {
            unit: m.id.clone(),
            attempts: done.attempts,
            message: format!("the build ended but the index is {other:?}, not valid"),
        }),
    }
}

fn record(
    exec: &mut Executor,
    state: &PhaseState,
    build: &Build<'_>,
    result: &str,
    error: Option<&str>,
) -> Result<(), ExecError> {
    let m = build.migration;
    let sql = state.index_finished_sql(&m.id, m.checksum, result, error);
    exec.record(&m.id, &sql)?;
    Ok(())
}

/// After a failed build: drop the invalid index it left (it would slow every write to the
/// table until the next run) and record the failure. Best effort: the next run does both.
fn cleanup_after_failure(
    exec: &mut Executor,
    state: &PhaseState,
    build: &Build<'_>,
    message: &str,
    log: &dyn Fn(&str),
) {
    let dropped = exec.read(&build.migration.id, |c| match lookup(c, build)? {
        Found::Invalid {
            oid,
            building: None,
        } => {
            let name = qualified_index(c, oid)?;
            c.batch_execute(&format!("DROP INDEX CONCURRENTLY IF EXISTS {name}"))?;
            Ok(Some(name))
        }
        _ => Ok(None),
    });
    if let Ok(Some(name)) = dropped {
        log(&format!(
            "{}: dropped the invalid index {name} the failed build left",
            build.migration.id
        ));
    }
    let _ = record(exec, state, build, "failed", Some(message));
}

/// Reports, every few seconds while a build runs, its phase and what it waits for
/// (`pg_stat_progress_create_index`, `pg_blocking_pids`), on its own connection.
struct Monitor {
    /// Dropping it wakes the thread and ends it.
    stop: Option<std::sync::mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

const MONITOR_EVERY: Duration = Duration::from_secs(5);

impl Monitor {
    fn start(exec: &Executor, build: &Build<'_>) -> Monitor {
        let (stop, stopped) = std::sync::mpsc::channel::<()>();
        let target = exec.base_target().clone();
        let (name, table, id) = (
            build.name.clone(),
            build.table_sql.clone(),
            build.migration.id.clone(),
        );
        let thread = std::thread::spawn(move || {
            let mut client = None;
            let mut last = String::new();
            while let Err(std::sync::mpsc::RecvTimeoutError::Timeout) =
                stopped.recv_timeout(MONITOR_EVERY)
            {
                if client.is_none() {
                    client = target.connect(Duration::from_secs(5)).ok();
                }
                let Some(c) = client.as_mut() else { continue };
                match progress(c, &name, &table) {
                    Ok(Some(line)) if line != last => {
                        eprintln!("{id}: {line}");
                        last = line;
                    }
                    Ok(_) => {}
                    Err(_) => client = None,
                }
            }
        });
        Monitor {
            stop: Some(stop),
            thread: Some(thread),
        }
    }
}

impl Drop for Monitor {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// One line on a running build: its phase, progress and the sessions it waits for.
fn progress(
    client: &mut Client,
    name: &str,
    table: &str,
) -> Result<Option<String>, postgres::Error> {
    let row = client.query_typed_opt(
        "SELECT p.phase, p.lockers_total, p.lockers_done, p.current_locker_pid, p.blocks_total, p.blocks_done, \
                p.tuples_total, p.tuples_done, pg_blocking_pids(p.pid)::text \
         FROM pg_stat_progress_create_index p JOIN pg_class c ON c.oid = p.index_relid \
         WHERE c.relname = $1 AND p.relid = to_regclass($2) LIMIT 1",
        &[(&name, Type::TEXT), (&table, Type::TEXT)],
    )?;
    Ok(row.map(|r| {
        let phase: String = r.get(0);
        let (lockers_total, lockers_done, locker): (i64, i64, i64) = (r.get(1), r.get(2), r.get(3));
        let (blocks_total, blocks_done): (i64, i64) = (r.get(4), r.get(5));
        let (tuples_total, tuples_done): (i64, i64) = (r.get(6), r.get(7));
        let blocking: String = r.get(8);
        let mut line = format!("building: {phase}");
        if phase.starts_with("waiting") {
            line.push_str(&format!(
                " ({lockers_done} of {lockers_total} transactions ended"
            ));
            if locker != 0 {
                line.push_str(&format!("; waiting on pid {locker}"));
            }
            line.push(')');
        } else if blocks_total > 0 {
            line.push_str(&format!(" ({blocks_done} of {blocks_total} blocks)"));
        } else if tuples_total > 0 {
            line.push_str(&format!(" ({tuples_done} of {tuples_total} tuples)"));
        }
        if blocking != "{}" {
            line.push_str(&format!(", blocked by pids {blocking}"));
        }
        line
    }))
}
