//! The index phase: one `CREATE [UNIQUE] INDEX CONCURRENTLY`, `DROP INDEX CONCURRENTLY`,
//! `REINDEX … CONCURRENTLY` or `ALTER TABLE … DETACH PARTITION … CONCURRENTLY` per file, in version order, outside transactions, one at a
//! time, through the retry executor. Files placed in the DDL sequence (`after:` /
//! `before:`) run there instead, through [`apply_these`].
//!
//! A drop is done once the index is gone (it runs with `IF EXISTS`, so a retry after a
//! lost connection is harmless); a reindex runs again after a lost connection, once the
//! invalid `_ccnew` copy an interrupted one leaves is dropped. A detach is done once the
//! table is no partition of its parent; one interrupted between its two transactions
//! leaves the partition "detach pending", which `DETACH … FINALIZE` completes (running
//! the file again would fail there).
//!
//! Per build: recorded as valid → skip. Otherwise the index is looked up by name: valid and
//! defined as the file defines it → recorded as reconciled (an index of that name with
//! another definition, say no longer partial, is an error, never reconciled by name); invalid (a failed or interrupted earlier build) → dropped with
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
use crate::history::order::placement;
use crate::ledger::state::PhaseState;
use crate::project::{Migration, Project};
use crate::sql::code::{Code, alter_table, index_statement};
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
    unique: bool,
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

/// What an index file does.
enum Operation<'a> {
    Build(Build<'a>),
    /// `DROP INDEX CONCURRENTLY … name`: the index, as written (maybe qualified).
    Drop {
        name: String,
    },
    /// `ALTER TABLE parent DETACH PARTITION partition CONCURRENTLY` (or `FINALIZE`): both
    /// tables as written.
    Detach {
        parent: String,
        partition: String,
    },
    /// `REINDEX … CONCURRENTLY`: the statement, and the index it rebuilds when it names one.
    Reindex {
        sql: String,
        index: Option<String>,
    },
}

fn parse(m: &Migration) -> Result<Operation<'_>, String> {
    let file = split(&m.sql).map_err(|e| format!("holds an unterminated {}", e.unclosed))?;
    let [statement] = file.statements.as_slice() else {
        return Err(format!(
            "holds {} statements; an index file holds exactly one CREATE INDEX CONCURRENTLY, DROP INDEX CONCURRENTLY, REINDEX … CONCURRENTLY or ALTER TABLE … DETACH PARTITION … CONCURRENTLY",
            file.statements.len()
        ));
    };
    let text = &m.sql[statement.start..statement.end];
    let code = Code::of(text);
    if code.at(0, &["drop", "index"]) {
        if !code.is(2, "concurrently") {
            return Err("drops its index without CONCURRENTLY, which blocks reads and writes of the table while it waits for its lock; add CONCURRENTLY".into());
        }
        let at = if code.at(3, &["if", "exists"]) { 5 } else { 3 };
        let (name, _) = code
            .name(at)
            .ok_or_else(|| "names no index to drop".to_owned())?;
        return Ok(Operation::Drop { name });
    }
    if code.is(0, "reindex") {
        if !reindex_is_concurrent(&code) {
            return Err("reindexes without CONCURRENTLY, which blocks writes to the table for the whole rebuild; add CONCURRENTLY".into());
        }
        let kind = (1..code.len()).find(|&i| {
            code.depth(i) == 0
                && ["index", "table", "schema", "database", "system"]
                    .iter()
                    .any(|w| code.is(i, w))
        });
        let index = kind.filter(|&i| code.is(i, "index")).and_then(|i| {
            let at = i + 1 + usize::from(code.is(i + 1, "concurrently"));
            code.name(at).map(|(name, _)| name)
        });
        return Ok(Operation::Reindex {
            sql: text.to_owned(),
            index,
        });
    }
    if let Some((parent, actions)) = alter_table(&code) {
        return detach(&code, parent, &actions);
    }
    let index = index_statement(&code).ok_or_else(|| {
        "is not a CREATE INDEX, DROP INDEX, REINDEX or ALTER TABLE … DETACH PARTITION statement"
            .to_owned()
    })?;
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
    Ok(Operation::Build(Build {
        migration: m,
        sql: text.to_owned(),
        name,
        table_sql,
        unique: index.unique,
    }))
}

/// The one `DETACH PARTITION p CONCURRENTLY|FINALIZE` action an `ALTER TABLE` in an
/// index file may hold: anything else belongs in `sql/ddl/`, inside a transaction.
fn detach<'a>(
    code: &Code<'_>,
    parent: String,
    actions: &[std::ops::Range<usize>],
) -> Result<Operation<'a>, String> {
    let [action] = actions else {
        return Err("holds an ALTER TABLE with several actions; an index file's ALTER TABLE only detaches one partition CONCURRENTLY".into());
    };
    if !code.at(action.start, &["detach", "partition"]) {
        return Err("holds an ALTER TABLE that is no DETACH PARTITION … CONCURRENTLY; schema changes go in sql/ddl/".into());
    }
    let (partition, after) = code
        .name(action.start + 2)
        .ok_or_else(|| "names no partition to detach".to_owned())?;
    if !(code.is(after, "concurrently") || code.is(after, "finalize")) {
        return Err("detaches its partition without CONCURRENTLY, which blocks reads and writes of the parent while it waits and runs; add CONCURRENTLY".into());
    }
    Ok(Operation::Detach { parent, partition })
}

/// `REINDEX … CONCURRENTLY name` or `REINDEX (CONCURRENTLY [true]) …`.
fn reindex_is_concurrent(code: &Code<'_>) -> bool {
    if code
        .find_at_depth(0..code.len(), 0, &["concurrently"])
        .is_some()
    {
        return true;
    }
    code.find_at_depth(0..code.len(), 1, &["concurrently"])
        .is_some_and(|i| {
            !(code.is(i + 1, "false") || code.is(i + 1, "off") || code.text(i + 1) == "0")
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

/// Runs the index phase: every index file not placed in the DDL sequence.
pub fn apply(
    exec: &mut Executor,
    project: &Project,
    state: &PhaseState,
    log: &dyn Fn(&str),
) -> Result<Vec<IndexOutcome>, ExecError> {
    let these: Vec<&Migration> = project
        .phase(Phase::Indexes)
        .filter(|m| placement(project, m).is_none())
        .collect();
    apply_these(exec, project, state, log, &these)
}

/// Index states that mean the file's work is done.
pub const DONE_STATES: [&str; 4] = ["valid", "reconciled", "dropped", "detached"];

/// Runs the index files `these` (the phase's, or one placed in the DDL sequence) that are
/// not recorded as done.
pub fn apply_these(
    exec: &mut Executor,
    project: &Project,
    state: &PhaseState,
    log: &dyn Fn(&str),
    these: &[&Migration],
) -> Result<Vec<IndexOutcome>, ExecError> {
    let settings = &project.manifest.settings.indexes;
    exec.ensure_lock()?;
    exec.read("the phase state", |c| state.ensure(c))?;
    let rows = exec.read("the phase state", |c| state.index_rows(c))?;
    let rows: std::collections::HashMap<&str, &crate::ledger::state::IndexRow> =
        rows.iter().map(|r| (r.id.as_str(), r)).collect();
    let mut outcomes = Vec::new();
    let mut options_set = false;
    for m in these {
        exec.check_stop(&m.id)?;
        if let Some(row) = rows.get(m.id.as_str())
            && DONE_STATES.contains(&row.state.as_str())
        {
            if row.checksum != m.checksum.to_string() {
                log(&format!(
                    "warning: {} changed since it ran; an index file is not run again when edited: write a new one",
                    m.id
                ));
            }
            continue;
        }
        if !options_set {
            exec.set_session_options(Some(&session_options(settings)));
            options_set = true;
        }
        let started = Instant::now();
        let result = match parse(m) {
            Err(why) => Err(format!("{}: {why}", m.path.display())),
            Ok(operation) => match run_operation(exec, state, m, &operation, log) {
                Ok(done) => Ok(done),
                Err(e) if e.ends_run() => {
                    if let (ExecError::Stopped { .. }, Operation::Build(build)) = (&e, &operation) {
                        // The cancelled build leaves an invalid index: drop it now, so
                        // the next run starts clean rather than with a leftover.
                        cleanup_after_failure(exec, state, build, &e.to_string(), log);
                    }
                    exec.set_session_options(None);
                    return Err(e);
                }
                Err(e) => {
                    let message = format!("{}: {e}", m.path.display());
                    if let Operation::Build(build) = &operation {
                        cleanup_after_failure(exec, state, build, &message, log);
                    } else {
                        let _ = record(exec, state, m, "failed", Some(&message));
                    }
                    Err(message)
                }
            },
        };
        let outcome = match result {
            Ok((result, attempts)) => IndexOutcome {
                id: m.id.clone(),
                result,
                duration_ms: started.elapsed().as_millis(),
                attempts,
                message: None,
            },
            Err(message) => IndexOutcome {
                id: m.id.clone(),
                result: "failed",
                duration_ms: started.elapsed().as_millis(),
                attempts: 0,
                message: Some(message),
            },
        };
        let what = match parse(m) {
            Ok(Operation::Drop { .. }) => "index drop",
            Ok(Operation::Reindex { .. }) => "reindex",
            Ok(Operation::Detach { .. }) => "partition detach",
            _ => "index build",
        };
        match &outcome.message {
            Some(message) => log(&format!("warning: {what} failed: {message}")),
            None => log(&format!(
                "{:<16} {} ({} ms)",
                outcome.result, outcome.id, outcome.duration_ms
            )),
        }
        outcomes.push(outcome);
    }
    if options_set {
        exec.set_session_options(None);
    }
    Ok(outcomes)
}

fn run_operation(
    exec: &mut Executor,
    state: &PhaseState,
    m: &Migration,
    operation: &Operation<'_>,
    log: &dyn Fn(&str),
) -> Result<(&'static str, u32), ExecError> {
    match operation {
        Operation::Build(build) => build_one(exec, state, build, log),
        Operation::Drop { name } => drop_one(exec, state, m, name),
        Operation::Detach { parent, partition } => detach_one(exec, state, m, parent, partition),
        Operation::Reindex { sql, index } => {
            reindex_one(exec, state, m, sql, index.as_deref(), log)
        }
    }
}

/// `DROP INDEX CONCURRENTLY IF EXISTS`: done when the index is gone.
fn drop_one(
    exec: &mut Executor,
    state: &PhaseState,
    m: &Migration,
    name: &str,
) -> Result<(&'static str, u32), ExecError> {
    let quoted = quoted_name(name);
    let gone = |c: &mut Client| -> Result<bool, postgres::Error> {
        Ok(
            c.query_typed_one("SELECT to_regclass($1) IS NULL", &[(&quoted, Type::TEXT)])?
                .get(0),
        )
    };
    let done = exec.run(
        &m.id,
        UnitKind::Build,
        None,
        |client, fence| {
            client.batch_execute(fence)?;
            client.batch_execute(&format!("DROP INDEX CONCURRENTLY IF EXISTS {quoted}"))
        },
        |client| Ok(gone(client)?.then_some(())),
    )?;
    record(exec, state, m, "dropped", None)?;
    Ok(("dropped", done.attempts))
}

/// `DETACH PARTITION … CONCURRENTLY`: done once `partition` is no partition of `parent`.
/// A detach cut between its two transactions (a lost connection, a cancel) leaves the
/// partition pending, where only `FINALIZE` goes on; one found already detached (by a
/// lost attempt's commit, or by hand) is done without running anything.
fn detach_one(
    exec: &mut Executor,
    state: &PhaseState,
    m: &Migration,
    parent: &str,
    partition: &str,
) -> Result<(&'static str, u32), ExecError> {
    let (parent_sql, partition_sql) = (quoted_name(parent), quoted_name(partition));
    // `Some(pending)` while `partition` is attached to `parent`, `None` once it is not.
    let attached = |c: &mut Client| -> Result<Option<bool>, postgres::Error> {
        Ok(c.query_typed_opt(
            "SELECT inhdetachpending FROM pg_inherits WHERE inhrelid = to_regclass($1) AND inhparent = to_regclass($2)",
            &[(&partition_sql, Type::TEXT), (&parent_sql, Type::TEXT)],
        )?
        .map(|r| r.get(0)))
    };
    let missing: Option<String> = exec.read(&m.id, |c| {
        let row = c.query_typed_one(
            "SELECT to_regclass($1) IS NULL, to_regclass($2) IS NULL",
            &[(&parent_sql, Type::TEXT), (&partition_sql, Type::TEXT)],
        )?;
        Ok([
            (row.get::<_, bool>(0), parent),
            (row.get::<_, bool>(1), partition),
        ]
        .iter()
        .find(|(gone, _)| *gone)
        .map(|(_, name)| name.to_string()))
    })?;
    if let Some(name) = missing {
        return Err(ExecError::Exhausted {
            unit: m.id.clone(),
            attempts: 0,
            message: format!(
                "table `{name}` does not exist, so there is nothing to detach; check the names in the file"
            ),
        });
    }
    let done = exec.run(
        &m.id,
        UnitKind::Build,
        None,
        |client, fence| {
            client.batch_execute(fence)?;
            match attached(client)? {
                None => Ok(()),
                Some(true) => client.batch_execute(&format!(
                    "ALTER TABLE {parent_sql} DETACH PARTITION {partition_sql} FINALIZE"
                )),
                Some(false) => client.batch_execute(&format!(
                    "ALTER TABLE {parent_sql} DETACH PARTITION {partition_sql} CONCURRENTLY"
                )),
            }
        },
        |client| Ok(attached(client)?.is_none().then_some(())),
    )?;
    record(exec, state, m, "detached", None)?;
    Ok(("detached", done.attempts))
}

/// `REINDEX … CONCURRENTLY`, after dropping the invalid copy an interrupted one left.
fn reindex_one(
    exec: &mut Executor,
    state: &PhaseState,
    m: &Migration,
    sql: &str,
    index: Option<&str>,
    log: &dyn Fn(&str),
) -> Result<(&'static str, u32), ExecError> {
    let leftovers = index.map(quoted_name);
    let done = exec.run(
        &m.id,
        UnitKind::Build,
        None,
        |client, fence| {
            client.batch_execute(fence)?;
            if let Some(index) = &leftovers {
                let rows = client.query_typed(
                    "SELECT format('%I.%I', n.nspname, c.relname) FROM pg_class c JOIN pg_index i ON i.indexrelid = c.oid \
                     JOIN pg_namespace n ON n.oid = c.relnamespace, pg_class o \
                     WHERE o.oid = to_regclass($1) AND c.relnamespace = o.relnamespace AND NOT i.indisvalid \
                     AND c.relname LIKE o.relname || '\\_ccnew%'",
                    &[(index, Type::TEXT)],
                )?;
                for row in rows {
                    let leftover: String = row.get(0);
                    log(&format!(
                        "{}: dropping {leftover}, the invalid copy an interrupted REINDEX left",
                        m.id
                    ));
                    client.batch_execute(&format!("DROP INDEX CONCURRENTLY IF EXISTS {leftover}"))?;
                }
            }
            client.batch_execute(sql)
        },
        |_| Ok(None),
    )?;
    record(exec, state, m, "valid", None)?;
    Ok(("reindexed", done.attempts))
}

/// A dotted index name from a statement (folded), quoted for SQL.
fn quoted_name(name: &str) -> String {
    name.split('.').map(ident).collect::<Vec<_>>().join(".")
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
        if let Some((existing, wanted)) = exec.read(&m.id, |c| other_definition(c, build))? {
            return Err(ExecError::Exhausted {
                unit: m.id.clone(),
                attempts: 0,
                message: format!(
                    "an index named {} already exists with another definition ({existing}) than this file's ({wanted}); it is not taken as this file's. Drop it in a DDL migration first, or give the new index another name",
                    build.name
                ),
            });
        }
        record(exec, state, m, "reconciled", None)?;
        return Ok(("reconciled", 1));
    }
    let holder = exec.holder().to_owned();
    let started_sql = state.index_started_sql(&m.id, m.checksum, &holder);
    exec.record(&m.id, &started_sql)?;
    let monitor = Monitor::start(exec, build);
    let done = exec.run(
        &m.id,
        UnitKind::Build,
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
            record(exec, state, m, "valid", None)?;
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
    m: &Migration,
    result: &str,
    error: Option<&str>,
) -> Result<(), ExecError> {
    let sql = state.index_finished_sql(&m.id, m.checksum, result, error);
    exec.record(&m.id, &sql)?;
    Ok(())
}

/// The existing index's definition and the file's, when they differ (`None` when they are
/// the same, or cannot be compared). The file's is what PostgreSQL makes of the statement
/// on an empty copy of the table's columns, in a transaction rolled back: so both sides
/// are `pg_get_indexdef`'s words, not the file's spelling.
fn other_definition(
    client: &mut Client,
    build: &Build<'_>,
) -> Result<Option<(String, String)>, postgres::Error> {
    let code = Code::of(&build.sql);
    let Some(on) = code.find_at_depth(0..code.len(), 0, &["on"]) else {
        return Ok(None);
    };
    let table_at = on + 1 + usize::from(code.is(on + 1, "only"));
    let Some((_, after)) = code.name(table_at) else {
        return Ok(None);
    };
    let Some(rest) = code.token(after).map(|t| &build.sql[t.start..]) else {
        return Ok(None);
    };
    let probe = format!(
        "CREATE {}INDEX sqlrail_index_probe ON pg_temp.sqlrail_index_probe {rest}",
        if build.unique { "UNIQUE " } else { "" }
    );
    client
        .batch_execute(&format!(
            "BEGIN; CREATE TEMP TABLE sqlrail_index_probe (LIKE {}); {probe}",
            build.table_sql
        ))
        .or_else(|e| client.batch_execute("ROLLBACK").and(Err(e)))
        .ok();
    let row = client.query_typed_opt(
        "SELECT pg_get_indexdef('pg_temp.sqlrail_index_probe'::regclass), pg_get_indexdef(c.oid) \
         FROM pg_class c WHERE c.relname = $1 AND c.relnamespace = (SELECT relnamespace FROM pg_class WHERE oid = to_regclass($2))",
        &[(&build.name, Type::TEXT), (&build.table_sql, Type::TEXT)],
    );
    let _ = client.batch_execute("ROLLBACK");
    let Ok(Some(row)) = row else {
        return Ok(None);
    };
    let (wanted, existing): (String, String) = (row.get(0), row.get(1));
    // `CREATE [UNIQUE] INDEX name ON [ONLY] table USING …`: compare uniqueness and what
    // follows the table.
    let shape = |def: &str| {
        let unique = def.starts_with("CREATE UNIQUE");
        let body = def.find(" USING ").map_or(def, |i| &def[i..]).to_owned();
        (unique, body)
    };
    Ok((shape(&wanted) != shape(&existing)).then_some((existing, wanted)))
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
    let _ = record(exec, state, build.migration, "failed", Some(message));
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
                        crate::say!("{id}: {line}");
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

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(sql: &str) -> Result<String, String> {
        let m = Migration {
            id: "indexes/V1__x".into(),
            phase: Phase::Indexes,
            version: 1,
            name: "x".into(),
            path: "sql/indexes/V1__x.sql".into(),
            sql: sql.into(),
            checksum: 0,
        };
        parse(&m).map(|op| match op {
            Operation::Detach { parent, partition } => format!("detach {partition} from {parent}"),
            Operation::Build(b) => format!("build {}", b.name),
            Operation::Drop { name } => format!("drop {name}"),
            Operation::Reindex { .. } => "reindex".into(),
        })
    }

    #[test]
    fn a_concurrent_detach_is_an_index_file_operation() {
        assert_eq!(
            parsed("ALTER TABLE app.events DETACH PARTITION app.events_2019 CONCURRENTLY;")
                .as_deref(),
            Ok("detach app.events_2019 from app.events")
        );
        assert_eq!(
            parsed("ALTER TABLE events DETACH PARTITION events_2019 FINALIZE").as_deref(),
            Ok("detach events_2019 from events")
        );
        let plain = parsed("ALTER TABLE events DETACH PARTITION events_2019").unwrap_err();
        assert!(plain.contains("without CONCURRENTLY"), "{plain}");
        let other = parsed("ALTER TABLE events ADD COLUMN x int").unwrap_err();
        assert!(other.contains("schema changes go in sql/ddl/"), "{other}");
        assert_eq!(
            parsed("CREATE INDEX CONCURRENTLY e_at ON events (at)").as_deref(),
            Ok("build e_at")
        );
    }
}
