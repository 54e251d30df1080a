//! The backfill phase: each file in `sql/backfills` is one DML statement over a key range
//! `:lo`..`:hi`, run batch by batch, highest priority first.
//!
//! The runner walks `table.key` with keyset steps (the batch's last key is the largest of
//! the next `batch_size` keys: an index range scan, never `OFFSET`) from the smallest key
//! to a high-water mark fixed when the backfill starts, so rows inserted meanwhile do not
//! keep it alive. Each batch is one transaction with patient timeouts, the lock fence, the
//! statement and the progress update, so a run stopped at any moment resumes at its
//! cursor without redoing or skipping a batch. Rows a `SKIP LOCKED` statement stepped over
//! are counted in the batch before the statement runs (the range's rows minus those the
//! batch can lock, which it then holds) and their ranges re-run after the pass until done
//! or `max_passes` is spent. A failure or a timeout is a
//! warning: the phase goes on and the next run resumes.

use std::time::{Duration, Instant};

use postgres::{Client, SimpleQueryMessage};
use serde::Serialize;

use crate::config::{BackfillDefaults, BackfillSettings, BackfillStatus, Phase};
use crate::db::quote::{ident, literal};
use crate::history::order::placement;
use crate::ledger::state::{NO_TENANT, PhaseState};
use crate::project::{Migration, Project};
use crate::sql::placeholders::{Slot, Template};

pub use super::batch_durations::BatchDurations;
use super::executor::{ExecError, Executor, UnitKind};
use super::progress::Progress;
use super::replica_lag;

/// One backfill (one tenant of it, for per-tenant backfills) as this run left it.
#[derive(Debug, Clone, Serialize)]
pub struct BackfillOutcome {
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
    /// `done`, `stopped` (max_runtime; resumes next run), `incomplete` (rows held by other
    /// sessions are left for the next run), `failed`, `paused`.
    pub result: &'static str,
    /// Rows changed by this run.
    pub rows: u64,
    pub batches: u64,
    pub duration_ms: u128,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Batch durations of this run (p50, p99, max); absent when no batch ran.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub batch_durations: Option<BatchDurations>,
    /// Every batch's duration in milliseconds, summarised into `batch_durations`.
    #[serde(skip)]
    pub batch_ms: Vec<f64>,
}

impl BackfillOutcome {
    fn new(id: &str, tenant: Option<&str>) -> BackfillOutcome {
        BackfillOutcome {
            id: id.to_owned(),
            tenant: tenant.map(str::to_owned),
            result: "done",
            rows: 0,
            batches: 0,
            duration_ms: 0,
            message: None,
            batch_durations: None,
            batch_ms: Vec::new(),
        }
    }
}

/// What to do with one backfill file.
enum Prepared<'a> {
    /// Run it for these tenants (`NO_TENANT` alone when it is not per tenant).
    Run(Box<Job<'a>>, Vec<String>),
    /// Done or paused in the manifest.
    Skip,
    /// It cannot run; why (a warning).
    NotRun(String),
}

/// Checks a backfill's settings and statement and lists its tenants.
fn prepare<'a>(
    exec: &mut Executor,
    m: &'a Migration,
    settings: Option<&'a BackfillSettings>,
    defaults: &BackfillDefaults,
    log: &dyn Fn(&str),
) -> Result<Prepared<'a>, ExecError> {
    let Some(settings) = settings else {
        return Ok(Prepared::NotRun(
            "no `backfill:` settings in manifest.yaml (table and key); add them (see docs/manifest.md)"
                .into(),
        ));
    };
    match settings.status {
        BackfillStatus::Done => return Ok(Prepared::Skip),
        BackfillStatus::Paused => {
            log(&format!(
                "paused           {} (status: paused in manifest.yaml)",
                m.id
            ));
            return Ok(Prepared::Skip);
        }
        BackfillStatus::Active => {}
    }
    let job = match Job::new(m, settings, defaults) {
        Ok(job) => job,
        Err(why) => return Ok(Prepared::NotRun(why)),
    };
    let Some(query) = &settings.tenants else {
        return Ok(Prepared::Run(Box::new(job), vec![NO_TENANT.to_owned()]));
    };
    let tenants = exec.read(&m.id, |c| {
        Ok(c.simple_query(query)?
            .iter()
            .filter_map(|msg| match msg {
                SimpleQueryMessage::Row(r) => r.get(0).map(str::to_owned),
                _ => None,
            })
            .collect::<Vec<_>>())
    });
    match tenants {
        Ok(tenants) => Ok(Prepared::Run(Box::new(job), tenants)),
        Err(e) if e.ends_run() => Err(e),
        Err(e) => Ok(Prepared::NotRun(format!("the tenants query failed: {e}"))),
    }
}

/// One backfill's settings with the defaults filled in.
struct Job<'a> {
    migration: &'a Migration,
    settings: &'a BackfillSettings,
    template: Template,
    table: String,
    key: String,
    tenant_column: Option<String>,
    batch_size: u32,
    sleep: Duration,
    deadline: Option<Instant>,
    /// `SET LOCAL`s of every batch transaction.
    set_local: String,
    max_passes: u32,
    /// When to pause for replicas (and autovacuum).
    replicas: replica_lag::Limits,
}

fn quoted_path(name: &str) -> String {
    name.split('.').map(ident).collect::<Vec<_>>().join(".")
}

/// A tenant as SQL: a number as is, anything else as a string literal.
fn tenant_sql(tenant: &str) -> String {
    if tenant.parse::<i64>().is_ok() {
        tenant.to_owned()
    } else {
        literal(tenant)
    }
}

impl<'a> Job<'a> {
    fn new(
        migration: &'a Migration,
        settings: &'a BackfillSettings,
        defaults: &BackfillDefaults,
    ) -> Result<Job<'a>, String> {
        let template = Template::parse(&migration.sql).map_err(|e| e.to_string())?;
        if settings.tenants.is_some() && !template.uses(Slot::TenantId) {
            return Err(
                "runs per tenant (`tenants:` is set) but the statement does not use :tenant_id"
                    .into(),
            );
        }
        let ms = |d: Duration| d.as_millis();
        let max_runtime = settings
            .max_runtime
            .as_ref()
            .map(|d| d.0)
            .unwrap_or_default();
        Ok(Job {
            migration,
            settings,
            table: quoted_path(&settings.table),
            key: ident(&settings.key),
            tenant_column: settings.tenant_column.as_deref().map(ident),
            batch_size: settings.batch_size.unwrap_or(defaults.batch_size).max(1),
            sleep: settings.sleep.as_ref().map_or(defaults.sleep.0, |d| d.0),
            deadline: (!max_runtime.is_zero()).then(|| Instant::now() + max_runtime),
            set_local: format!(
                "SET LOCAL lock_timeout = '{}ms'; SET LOCAL statement_timeout = '{}ms'; SET LOCAL idle_in_transaction_session_timeout = '{}ms'",
                ms(defaults.lock_timeout.0),
                ms(defaults.statement_timeout.0),
                ms(defaults.idle_in_transaction_session_timeout.0)
            ),
            max_passes: defaults.max_passes,
            replicas: replica_lag::Limits::of(settings, defaults, &quoted_path(&settings.table)),
            template,
        })
    }

    /// `AND tenant_column = tenant` for per-tenant key walks, when the column is known.
    fn tenant_filter(&self, tenant: &str) -> String {
        match (&self.tenant_column, tenant) {
            (Some(column), t) if t != NO_TENANT => format!(" AND {column} = {}", tenant_sql(t)),
            _ => String::new(),
        }
    }

    fn tenant_arg<'t>(&self, tenant: &'t str) -> Option<&'t str> {
        (tenant != NO_TENANT).then_some(tenant)
    }

    /// Counts the rows of `lo..=hi` another session holds: all rows minus those this
    /// transaction can lock with the statement's own strength, and locks those. Run in the
    /// batch's transaction before its statement: every row the statement then skips was
    /// held when this ran, so it is counted. (Run after the statement, it missed the rows
    /// of a holder that committed in between: skipped, uncounted, never filled; the chaos
    /// suite's row-lock trials found it.)
    fn locked_probe(&self, lo: i64, hi: i64, tenant: &str) -> Option<String> {
        let strength = self.template.skip_locked?;
        let range = format!(
            "{key} BETWEEN {lo} AND {hi}{filter}",
            key = self.key,
            filter = self.tenant_filter(tenant)
        );
        Some(format!(
            "SELECT (SELECT count(*) FROM {t} WHERE {range}) - (SELECT count(*) FROM (SELECT 1 FROM {t} WHERE {range} {lock} SKIP LOCKED) AS s)",
            t = self.table,
            lock = strength.sql()
        ))
    }
}

/// The rows a simple query's statements reported, in order (`CommandComplete` counts)
/// and the first column of the last row returned.
fn results(messages: &[SimpleQueryMessage]) -> (Vec<u64>, Option<String>) {
    let mut counts = Vec::new();
    let mut value = None;
    for m in messages {
        match m {
            SimpleQueryMessage::CommandComplete(n) => counts.push(*n),
            SimpleQueryMessage::Row(row) => value = row.get(0).map(str::to_owned),
            _ => {}
        }
    }
    (counts, value)
}

/// The first column of the first row a simple query returned.
fn first_row_value(messages: &[SimpleQueryMessage]) -> Option<String> {
    messages.iter().find_map(|m| match m {
        SimpleQueryMessage::Row(row) => Some(row.get(0).map(str::to_owned)),
        _ => None,
    })?
}

fn first_value(client: &mut Client, sql: &str) -> Result<Option<String>, postgres::Error> {
    Ok(results(&client.simple_query(sql)?).1)
}

pub struct Options {
    /// Draw progress bars (stderr is a terminal) instead of a line every 10 batches.
    pub progress_bars: bool,
}

/// Runs the backfill phase: every backfill not placed in the DDL sequence.
pub fn apply(
    exec: &mut Executor,
    project: &Project,
    state: &PhaseState,
    options: &Options,
    log: &dyn Fn(&str),
) -> Result<Vec<BackfillOutcome>, ExecError> {
    let these: Vec<&Migration> = project
        .phase(Phase::Backfills)
        .filter(|m| placement(project, m).is_none())
        .collect();
    apply_these(exec, project, state, options, log, &these)
}

/// Runs the backfills `these` (the phase's, or one placed in the DDL sequence).
pub fn apply_these(
    exec: &mut Executor,
    project: &Project,
    state: &PhaseState,
    options: &Options,
    log: &dyn Fn(&str),
    these: &[&Migration],
) -> Result<Vec<BackfillOutcome>, ExecError> {
    let defaults = &project.manifest.settings.backfills;
    exec.ensure_lock()?;
    exec.read("the phase state", |c| state.ensure(c))?;
    let mut jobs: Vec<(&Migration, Option<&BackfillSettings>)> = these
        .iter()
        .map(|m| (*m, project.entry(&m.id).and_then(|e| e.backfill.as_ref())))
        .collect();
    // Highest priority first; version order within a priority.
    jobs.sort_by_key(|(m, s)| (std::cmp::Reverse(s.map(|s| s.priority)), m.version));
    let mut outcomes = Vec::new();
    for (m, settings) in jobs {
        let (job, tenants) = match prepare(exec, m, settings, defaults, log)? {
            Prepared::Run(job, tenants) => (job, tenants),
            Prepared::Skip => continue,
            Prepared::NotRun(why) => {
                let message = format!("{}: {why}", m.path.display());
                log(&format!("warning: backfill not run: {message}"));
                let mut outcome = BackfillOutcome::new(&m.id, None);
                outcome.result = "failed";
                outcome.message = Some(message);
                outcomes.push(outcome);
                continue;
            }
        };
        if tenants.is_empty() {
            // A per-tenant backfill with no tenants has nothing to do: it is done (and
            // says so) rather than pending forever. Tenants that appear later run then.
            outcomes.extend(no_tenants(exec, state, m, log)?);
            continue;
        }
        for tenant in &tenants {
            let started = Instant::now();
            let mut outcome = BackfillOutcome::new(&m.id, job.tenant_arg(tenant));
            let result = run_tenant(exec, state, &job, tenant, options, log, &mut outcome);
            outcome.duration_ms = started.elapsed().as_millis();
            outcome.batch_durations = BatchDurations::of(&outcome.batch_ms);
            let label = outcome_label(m, &job, tenant);
            match result {
                Ok(Some(result)) => {
                    outcome.result = result;
                    if let Some(message) = &outcome.message {
                        log(&format!("warning: {label}: {message}"));
                    }
                    log(&format!(
                        "{:<16} {label}: {} rows in {} batches ({} ms)",
                        result, outcome.rows, outcome.batches, outcome.duration_ms
                    ));
                }
                Ok(None) => continue,
                Err(e) if e.ends_run() => return Err(e),
                Err(e) => {
                    outcome.result = "failed";
                    let message = format!("{}: {e}", m.path.display());
                    log(&format!(
                        "warning: backfill {label} failed after {} rows in {} batches; the next run resumes at its cursor: {message}",
                        outcome.rows, outcome.batches
                    ));
                    let error = message.clone();
                    let sql = state.set_state_sql(&m.id, tenant, "failed", Some(&error));
                    let _ = exec.record(&m.id, &sql);
                    outcome.message = Some(message);
                }
            }
            outcomes.push(outcome);
            if job.deadline.is_some_and(|d| Instant::now() >= d) {
                break;
            }
        }
    }
    Ok(outcomes)
}

/// Records a per-tenant backfill whose tenants query returned no rows as done; `None`
/// when an earlier run did.
fn no_tenants(
    exec: &mut Executor,
    state: &PhaseState,
    m: &Migration,
    log: &dyn Fn(&str),
) -> Result<Option<BackfillOutcome>, ExecError> {
    let recorded = exec.read(&m.id, |c| state.backfill_row(c, &m.id, NO_TENANT))?;
    if recorded.is_some_and(|r| r.state == "done") {
        return Ok(None);
    }
    let start = state.backfill_start_sql(&m.id, NO_TENANT, m.checksum, 1, 0);
    let done = state.set_state_sql(&m.id, NO_TENANT, "done", None);
    exec.record(&m.id, &format!("{start}; {done}"))?;
    log(&format!(
        "{:<16} {}: 0 rows (its tenants query returned no tenants)",
        "done", m.id
    ));
    let mut outcome = BackfillOutcome::new(&m.id, None);
    outcome.message = Some("its tenants query returned no tenants: nothing to do".into());
    Ok(Some(outcome))
}

/// Runs one backfill for one tenant: `Ok(None)` when it was already done.
fn run_tenant(
    exec: &mut Executor,
    state: &PhaseState,
    job: &Job<'_>,
    tenant: &str,
    options: &Options,
    log: &dyn Fn(&str),
    outcome: &mut BackfillOutcome,
) -> Result<Option<&'static str>, ExecError> {
    let m = job.migration;
    let row = exec.read(&m.id, |c| state.backfill_row(c, &m.id, tenant))?;
    let row = match row {
        Some(row) if row.state == "done" => {
            if row.checksum != m.checksum.to_string() {
                log(&format!(
                    "warning: {} changed since it ran; a finished backfill is not run again: write a new one",
                    m.id
                ));
            }
            return Ok(None);
        }
        Some(row) => row,
        None => {
            // Fix the range now: the smallest key, and the largest as the high-water mark.
            let range_sql = format!(
                "SELECT coalesce(min({k}), 1)::text || ',' || coalesce(max({k}), 0)::text FROM {t} WHERE true{f}",
                k = job.key,
                t = job.table,
                f = job.tenant_filter(tenant)
            );
            let range = exec
                .read(&m.id, |c| first_value(c, &range_sql))?
                .unwrap_or_default();
            let (lo, hi) = range
                .split_once(',')
                .and_then(|(a, b)| Some((a.parse::<i64>().ok()?, b.parse::<i64>().ok()?)))
                .unwrap_or((1, 0));
            let start = state.backfill_start_sql(&m.id, tenant, m.checksum, lo, hi);
            exec.record(&m.id, &start)?;
            exec.read(&m.id, |c| state.backfill_row(c, &m.id, tenant))?
                .expect("just inserted")
        }
    };
    let mut cursor = row.cursor;
    let high_water = row.high_water;
    let first = row.cursor;
    let mut batch_size = job.batch_size;
    let mut progress = Progress::new(
        options.progress_bars,
        &outcome_label(m, job, tenant),
        first,
        high_water,
        row.rows,
    );
    while cursor <= high_water {
        // A batch finishes; a stop comes between batches (the cursor is recorded with
        // each one, so the next run resumes here).
        let label = outcome_label(m, job, tenant);
        exec.check_stop(&label)?;
        let gate = replica_lag::wait(exec, &job.replicas, &label, job.deadline, log)?;
        if gate == replica_lag::Gate::Deadline || job.deadline.is_some_and(|d| Instant::now() >= d)
        {
            progress.finish();
            outcome.message = Some(format!(
                "max_runtime reached at key {cursor} of {high_water}; the next run resumes there"
            ));
            return Ok(Some("stopped"));
        }
        let batch_started = Instant::now();
        let (next, rows) = run_batch(exec, state, job, tenant, cursor, high_water, batch_size)?;
        let took = batch_started.elapsed();
        outcome.batch_ms.push(took.as_secs_f64() * 1000.0);
        outcome.rows += rows;
        outcome.batches += 1;
        cursor = next;
        progress.advance(cursor, rows, outcome.batches, log);
        if let Some(adaptive) = &job.settings.adaptive {
            batch_size = adapt(batch_size, took, adaptive);
        }
        if cursor <= high_water && !job.sleep.is_zero() {
            super::stop::sleep(job.sleep);
        }
    }
    progress.finish();
    if job.template.skip_locked.is_some() {
        let left = recheck_skipped(exec, state, job, tenant, outcome, log)?;
        if left > 0 {
            outcome.message = Some(format!(
                "{left} row(s) were held by other sessions through {} re-check pass(es); the next run checks them again",
                job.max_passes
            ));
            let sql = state.set_state_sql(&m.id, tenant, "incomplete", None);
            exec.record(&m.id, &sql)?;
            return Ok(Some("incomplete"));
        }
    }
    let sql = state.set_state_sql(&m.id, tenant, "done", None);
    exec.record(&m.id, &sql)?;
    Ok(Some("done"))
}

fn outcome_label(m: &Migration, job: &Job<'_>, tenant: &str) -> String {
    match job.tenant_arg(tenant) {
        Some(t) => format!("{} (tenant {t})", m.id),
        None => m.id.clone(),
    }
}

/// Scales the batch size toward the target duration: at most doubling or halving per
/// batch, within the bounds.
fn adapt(size: u32, took: Duration, adaptive: &crate::config::AdaptiveBatch) -> u32 {
    let target = adaptive.target.0.as_secs_f64();
    let took = took.as_secs_f64().max(0.000_1);
    let factor = (target / took).clamp(0.5, 2.0);
    ((size as f64 * factor) as u32).clamp(adaptive.min_batch.max(1), adaptive.max_batch.max(1))
}

/// One batch from `lo`: its own transaction. Returns the next cursor and the rows changed.
fn run_batch(
    exec: &mut Executor,
    state: &PhaseState,
    job: &Job<'_>,
    tenant: &str,
    lo: i64,
    high_water: i64,
    batch_size: u32,
) -> Result<(i64, u64), ExecError> {
    let m = job.migration;
    let unit = format!("{} batch at key {lo}", m.id);
    // The batch's last key: the largest of the next `batch_size` keys (keyset step).
    let boundary = format!(
        "SELECT max(k) FROM (SELECT {key} AS k FROM {t} WHERE {key} >= {lo} AND {key} <= {high_water}{f} ORDER BY {key} LIMIT {batch_size}) AS s",
        key = job.key,
        t = job.table,
        f = job.tenant_filter(tenant)
    );
    // The fence fails the batch as already done if an earlier attempt, cut off from its
    // answer, committed it; its row lock on the lease makes a still-running earlier
    // attempt finish first.
    let recorded = state.batch_recorded_sql(&m.id, tenant, lo);
    let done = exec.run(
        &unit,
        UnitKind::Other,
        Some(&recorded),
        |client, fence| {
            let head = format!("BEGIN; {}; {fence}; {boundary}", job.set_local);
            let hi = results(&client.simple_query(&head)?)
                .1
                .and_then(|v| v.parse::<i64>().ok());
            let Some(hi) = hi else {
                // No keys left up to the high-water mark.
                let end = state.batch_done_sql(&m.id, tenant, lo, high_water + 1, 0);
                client.batch_execute(&format!("{end}; COMMIT;"))?;
                return Ok((high_water + 1, 0));
            };
            let statement = job
                .template
                .bind(lo, hi, job.tenant_arg(tenant), batch_size);
            // The probe before the statement (see `locked_probe`), in the same round trip:
            // its one row is the query's first, its count the first count.
            let probe = job.locked_probe(lo, hi, tenant);
            let probed = probe.is_some();
            let sql = match probe {
                Some(probe) => format!("{probe};\n{statement}"),
                None => statement,
            };
            let messages = client.simple_query(&sql)?;
            let locked = if probed {
                first_row_value(&messages)
                    .and_then(|v| v.parse::<i64>().ok())
                    .unwrap_or(0)
            } else {
                0
            };
            let (counts, _) = results(&messages);
            let rows = counts.get(usize::from(probed)).copied().unwrap_or(0);
            let mut tail = state.batch_done_sql(&m.id, tenant, lo, hi + 1, rows);
            if locked > 0 {
                tail.push_str("; ");
                tail.push_str(&state.skipped_sql(&m.id, tenant, lo, hi, locked));
            }
            client.batch_execute(&format!("{tail}; COMMIT;"))?;
            Ok((hi + 1, rows))
        },
        |client| {
            // After a connection loss: the batch committed if the cursor moved past `lo`.
            Ok(state
                .backfill_row(client, &m.id, tenant)?
                .filter(|r| r.cursor != lo)
                .map(|r| (r.cursor, 0)))
        },
    )?;
    Ok(done.value)
}

/// Re-runs the ranges in which rows were held by other sessions, until none are left or
/// `max_passes` passes are spent; returns the rows still held.
fn recheck_skipped(
    exec: &mut Executor,
    state: &PhaseState,
    job: &Job<'_>,
    tenant: &str,
    outcome: &mut BackfillOutcome,
    log: &dyn Fn(&str),
) -> Result<i64, ExecError> {
    let m = job.migration;
    for pass in 1..=job.max_passes {
        let ranges = exec.read(&m.id, |c| state.skipped(c, &m.id, tenant))?;
        if ranges.is_empty() {
            return Ok(0);
        }
        let held: i64 = ranges.iter().map(|r| r.2).sum();
        log(&format!(
            "{}: re-check pass {pass}/{}: {held} row(s) in {} range(s) were held by other sessions",
            m.id,
            job.max_passes,
            ranges.len()
        ));
        // Give the holders time to commit: longer each pass.
        std::thread::sleep(job.sleep.max(Duration::from_millis(200)) * pass);
        for (lo, hi, _) in ranges {
            let unit = format!("{} re-check of keys {lo}..{hi}", m.id);
            let statement = job
                .template
                .bind(lo, hi, job.tenant_arg(tenant), job.batch_size);
            let probe = job.locked_probe(lo, hi, tenant).expect("skip locked");
            let done = exec.run(
                &unit,
                UnitKind::Other,
                None,
                |client, fence| {
                    // The probe before the statement, as in a batch (see `locked_probe`).
                    let head = format!("BEGIN; {}; {fence}; {probe}", job.set_local);
                    let locked = first_value(client, &head)?
                        .and_then(|v| v.parse::<i64>().ok())
                        .unwrap_or(0);
                    let (counts, _) = results(&client.simple_query(&statement)?);
                    let rows = counts.last().copied().unwrap_or(0);
                    let record = if locked == 0 {
                        state.skipped_done_sql(&m.id, tenant, lo)
                    } else {
                        state.skipped_sql(&m.id, tenant, lo, hi, locked)
                    };
                    let added = state.rows_added_sql(&m.id, tenant, rows);
                    client.batch_execute(&format!("{record}; {added}; COMMIT;"))?;
                    Ok(rows)
                },
                |_| Ok(None),
            )?;
            outcome.rows += done.value;
        }
    }
    let ranges = exec.read(&m.id, |c| state.skipped(c, &m.id, tenant))?;
    Ok(ranges.iter().map(|r| r.2).sum())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{AdaptiveBatch, HumanDuration};

    #[test]
    fn the_batch_size_moves_toward_the_target_within_bounds() {
        let adaptive = AdaptiveBatch {
            target: HumanDuration::millis(200),
            min_batch: 100,
            max_batch: 5000,
        };
        let ms = Duration::from_millis;
        assert_eq!(adapt(1000, ms(100), &adaptive), 2000, "fast: grows");
        assert_eq!(adapt(1000, ms(10), &adaptive), 2000, "at most doubles");
        assert_eq!(adapt(1000, ms(400), &adaptive), 500, "slow: shrinks");
        assert_eq!(adapt(1000, ms(4000), &adaptive), 500, "at most halves");
        assert_eq!(adapt(4000, ms(50), &adaptive), 5000, "capped");
        assert_eq!(adapt(150, ms(900), &adaptive), 100, "floored");
    }
}
