//! Backfills that respect replicas: before each batch the primary is asked how far its
//! streaming replicas and replication slots are behind (`pg_stat_replication`,
//! `pg_replication_slots`) and, on request, whether autovacuum is working on the
//! backfill's table; over a limit the backfill pauses, says why, and goes on when back
//! under. A backfill at full speed can otherwise push a replica minutes behind (GitLab's
//! batched background migrations pause on the same signals).
//!
//! Asked before every batch, not once a second: batches can be faster than that, and a
//! pause decided a few batches late lets the lag overshoot by their WAL. One small read
//! of two catalog views per batch is cheap beside the batch itself.

use std::time::{Duration, Instant};

use postgres::Client;
use postgres::types::Type;

use super::executor::{ExecError, Executor};
use super::stop;
use crate::config::{BackfillDefaults, BackfillSettings};

/// The limits one backfill runs under.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Replay lag of any streaming replica (zero: not checked).
    pub lag: Duration,
    /// WAL bytes a replica has not replayed, or a slot retains (zero: not checked).
    pub bytes: u64,
    /// The table whose autovacuum pauses the backfill (`None`: not checked).
    pub autovacuum_table: Option<String>,
}

impl Limits {
    pub fn of(settings: &BackfillSettings, defaults: &BackfillDefaults, table: &str) -> Limits {
        let autovacuum = settings
            .pause_on_autovacuum
            .unwrap_or(defaults.pause_on_autovacuum);
        Limits {
            lag: settings
                .max_replica_lag
                .unwrap_or(defaults.max_replica_lag)
                .0,
            bytes: settings
                .max_replica_lag_bytes
                .unwrap_or(defaults.max_replica_lag_bytes)
                .0,
            autovacuum_table: autovacuum.then(|| table.to_owned()),
        }
    }

    fn is_off(&self) -> bool {
        self.lag.is_zero() && self.bytes == 0 && self.autovacuum_table.is_none()
    }
}

/// What holds a backfill back.
#[derive(Debug, Clone, PartialEq)]
pub enum Holdup {
    ReplayLag {
        replica: String,
        seconds: f64,
        limit: Duration,
    },
    ReplayBytes {
        replica: String,
        bytes: f64,
        limit: u64,
    },
    SlotRetains {
        slot: String,
        bytes: f64,
        limit: u64,
    },
    Autovacuum {
        table: String,
    },
}

impl std::fmt::Display for Holdup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mib = |b: f64| b / (1u64 << 20) as f64;
        match self {
            Holdup::ReplayLag {
                replica,
                seconds,
                limit,
            } => write!(
                f,
                "replica {replica} replay lag {seconds:.0} s > {} s (max_replica_lag)",
                limit.as_secs_f64()
            ),
            Holdup::ReplayBytes {
                replica,
                bytes,
                limit,
            } => write!(
                f,
                "replica {replica} has {:.1} MiB of WAL to replay > {:.1} MiB (max_replica_lag_bytes)",
                mib(*bytes),
                mib(*limit as f64)
            ),
            Holdup::SlotRetains { slot, bytes, limit } => write!(
                f,
                "replication slot {slot} retains {:.1} MiB of WAL > {:.1} MiB (max_replica_lag_bytes)",
                mib(*bytes),
                mib(*limit as f64)
            ),
            Holdup::Autovacuum { table } => {
                write!(f, "autovacuum is working on {table} (pause_on_autovacuum)")
            }
        }
    }
}

/// The first limit the server is over, if any: one read.
pub fn holdup(client: &mut Client, limits: &Limits) -> Result<Option<Holdup>, postgres::Error> {
    // Columns a role without pg_monitor may not see read as NULL: no pause on them.
    let sql = "SELECT 'replica', coalesce(host(client_addr), 'local') || ' (' || coalesce(nullif(application_name, ''), 'walreceiver') || ')', \
               coalesce(extract(epoch FROM replay_lag), 0)::float8, \
               coalesce(pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn), 0)::float8 \
               FROM pg_stat_replication \
               UNION ALL SELECT 'slot', slot_name::text, 0::float8, \
               coalesce(pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn), 0)::float8 \
               FROM pg_replication_slots WHERE restart_lsn IS NOT NULL \
               UNION ALL SELECT 'autovacuum', $1, 0::float8, 0::float8 \
               FROM pg_stat_progress_vacuum v JOIN pg_stat_activity a ON a.pid = v.pid \
               WHERE $1 <> '' AND v.relid = to_regclass($1) AND a.backend_type = 'autovacuum worker'";
    let table = limits.autovacuum_table.clone().unwrap_or_default();
    let rows = client.query_typed(sql, &[(&table, Type::TEXT)])?;
    for row in rows {
        let kind: &str = row.get(0);
        let name: String = row.get(1);
        let seconds: f64 = row.get(2);
        let bytes: f64 = row.get(3);
        let over_bytes = limits.bytes > 0 && bytes > limits.bytes as f64;
        let found = match kind {
            "replica" if !limits.lag.is_zero() && seconds > limits.lag.as_secs_f64() => {
                Holdup::ReplayLag {
                    replica: name,
                    seconds,
                    limit: limits.lag,
                }
            }
            "replica" if over_bytes => Holdup::ReplayBytes {
                replica: name,
                bytes,
                limit: limits.bytes,
            },
            "slot" if over_bytes => Holdup::SlotRetains {
                slot: name,
                bytes,
                limit: limits.bytes,
            },
            "autovacuum" => Holdup::Autovacuum { table: name },
            _ => continue,
        };
        return Ok(Some(found));
    }
    Ok(None)
}

/// How long a paused backfill waits between looks.
const RECHECK: Duration = Duration::from_secs(1);
/// How often a long pause says it is still paused.
const REMIND: Duration = Duration::from_secs(30);

/// Whether the backfill may go on.
#[derive(Debug, PartialEq, Eq)]
pub enum Gate {
    Go,
    /// `max_runtime` passed while paused.
    Deadline,
}

/// Waits until nothing holds the backfill back (or its deadline passes, or a stop
/// signal comes: an error that ends the run).
pub fn wait(
    exec: &mut Executor,
    limits: &Limits,
    label: &str,
    deadline: Option<Instant>,
    log: &dyn Fn(&str),
) -> Result<Gate, ExecError> {
    if limits.is_off() {
        return Ok(Gate::Go);
    }
    let mut paused: Option<(Instant, Instant)> = None;
    loop {
        let found = exec.read(label, |c| holdup(c, limits))?;
        let Some(why) = found else {
            if let Some((since, _)) = paused {
                log(&format!(
                    "resumed          {label} after a {:.1} s pause",
                    since.elapsed().as_secs_f64()
                ));
            }
            return Ok(Gate::Go);
        };
        match &mut paused {
            None => {
                log(&format!("paused           {label}: {why}"));
                paused = Some((Instant::now(), Instant::now()));
            }
            Some((since, reminded)) if reminded.elapsed() >= REMIND => {
                log(&format!(
                    "still paused     {label} ({:.0} s): {why}",
                    since.elapsed().as_secs_f64()
                ));
                *reminded = Instant::now();
            }
            Some(_) => {}
        }
        if deadline.is_some_and(|d| Instant::now() >= d) {
            return Ok(Gate::Deadline);
        }
        stop::sleep(RECHECK);
        exec.check_stop(label)?;
    }
}
