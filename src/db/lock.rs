//! The migration lock: at most one runner changes a database at a time, also through
//! PgBouncer in transaction-pooling mode and across reconnects.
//!
//! A session advisory lock cannot do that (a pooled server connection is shared, and the
//! lock dies with a dropped connection), so the lock is a lease row: one row holding the
//! holder's name, a fencing token that grows with every acquisition, and a heartbeat.
//! Acquiring is one statement that takes the row only if it is free or its heartbeat is
//! stale; a waiting runner polls it (never blocking a backend, which could stall the
//! holder's `CREATE INDEX CONCURRENTLY`). The holder refreshes the heartbeat from a
//! background thread and, inside every unit of work, checks its token (`fence_sql`): a
//! runner whose lease was taken over cannot commit anything. A crashed holder's lease goes
//! stale after `STALE` and is free again.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, mpsc};
use std::time::Duration;

// Every query is `*_typed`: unnamed statements, one round trip each, and safe through a
// transaction pooler (named prepared statements may land on another server connection).
use postgres::Client;
use postgres::types::Type;

use super::errors::{ALREADY_DONE, LOCK_LOST};
use super::quote::{literal, qualified};

/// A heartbeat older than this frees the lease.
pub const STALE: Duration = Duration::from_secs(20);
/// How often the holder refreshes it.
pub const HEARTBEAT: Duration = Duration::from_secs(4);
/// How often a waiting runner tries again.
pub const POLL: Duration = Duration::from_millis(500);

/// The lease table, in the ledger's schema.
#[derive(Debug, Clone)]
pub struct LockTable {
    pub schema: String,
    pub table: String,
}

impl LockTable {
    pub fn new(schema: &str) -> Self {
        LockTable {
            schema: schema.to_owned(),
            table: "sqlrail_lock".to_owned(),
        }
    }

    fn name(&self) -> String {
        qualified(&self.schema, &self.table)
    }

    /// Creates the table if needed. Several runners may start at once; the transaction-
    /// scoped advisory lock (safe through a transaction pooler) serialises the creation.
    pub fn ensure(&self, client: &mut Client) -> Result<(), postgres::Error> {
        client.batch_execute(&format!(
            "BEGIN; SELECT pg_advisory_xact_lock(8231937711); \
             CREATE SCHEMA IF NOT EXISTS {schema}; \
             CREATE TABLE IF NOT EXISTS {t} (id int PRIMARY KEY CHECK (id = 1), holder text, token bigint NOT NULL, \
             acquired_at timestamptz NOT NULL, heartbeat_at timestamptz NOT NULL); COMMIT;",
            schema = super::quote::ident(&self.schema),
            t = self.name()
        ))
    }

    /// Takes the lease if it is free or stale: `Some(token)`, else `None`.
    pub fn try_acquire(
        &self,
        client: &mut Client,
        holder: &str,
    ) -> Result<Option<i64>, postgres::Error> {
        let t = self.name();
        let sql = format!(
            "INSERT INTO {t} AS l (id, holder, token, acquired_at, heartbeat_at) VALUES (1, $1, 1, now(), now()) \
             ON CONFLICT (id) DO UPDATE SET holder = EXCLUDED.holder, token = l.token + 1, acquired_at = now(), heartbeat_at = now() \
             WHERE l.holder IS NULL OR l.heartbeat_at < now() - make_interval(secs => $2) RETURNING l.token"
        );
        let rows = client.query_typed(
            &sql,
            &[(&holder, Type::TEXT), (&STALE.as_secs_f64(), Type::FLOAT8)],
        )?;
        Ok(rows.first().map(|r| r.get(0)))
    }

    /// Who holds the lease and since when (`None` if free), for messages.
    pub fn holder(&self, client: &mut Client) -> Result<Option<(String, String)>, postgres::Error> {
        let sql = format!(
            "SELECT holder, to_char(acquired_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') || ' UTC' FROM {} \
             WHERE id = 1 AND holder IS NOT NULL AND heartbeat_at >= now() - make_interval(secs => $1)",
            self.name()
        );
        let rows = client.query_typed(&sql, &[(&STALE.as_secs_f64(), Type::FLOAT8)])?;
        Ok(rows.first().map(|r| (r.get(0), r.get(1))))
    }

    /// Refreshes the heartbeat; `false` if the lease is no longer ours.
    pub fn heartbeat(&self, client: &mut Client, token: i64) -> Result<bool, postgres::Error> {
        let sql = format!(
            "UPDATE {} SET heartbeat_at = now() WHERE id = 1 AND token = $1 AND holder IS NOT NULL",
            self.name()
        );
        Ok(client.execute_typed(&sql, &[(&token, Type::INT8)])? == 1)
    }

    /// Frees the lease if it is still ours.
    pub fn release(&self, client: &mut Client, token: i64) -> Result<(), postgres::Error> {
        let sql = format!(
            "UPDATE {} SET holder = NULL WHERE id = 1 AND token = $1",
            self.name()
        );
        client
            .execute_typed(&sql, &[(&token, Type::INT8)])
            .map(|_| ())
    }

    /// When the current unit started, as a SQL expression: the heartbeat its fence wrote
    /// (`clock_timestamp()`, and the row stays locked by the unit until it commits). Not
    /// `now()`: the units of a pipeline share one message, and with it one `now()`, so
    /// every row of a 500-migration pipeline got the same `applied_on` and a running
    /// total for a duration.
    pub fn unit_started_sql(&self) -> String {
        format!("(SELECT heartbeat_at FROM {} WHERE id = 1)", self.name())
    }

    /// A statement for the start of a unit's transaction: refreshes the heartbeat and
    /// raises `SR001` if the lease is no longer `token`'s. Holding the row lock until the
    /// unit commits also keeps anyone from taking the lease over meanwhile, and makes the
    /// units of one lease run one after another, even an earlier attempt whose connection
    /// dropped while the server went on with it. `done` (a boolean SQL expression, read
    /// after the row lock is held) says whether the unit's effect is already recorded; if
    /// so the unit raises `SR002` and commits nothing.
    pub fn fence_sql(&self, token: i64, done: Option<&str>) -> String {
        let done = done
            .map(|d| {
                format!(
                    " IF {d} THEN RAISE EXCEPTION USING ERRCODE = {}, MESSAGE = 'sqlrail: already applied'; END IF;",
                    literal(ALREADY_DONE)
                )
            })
            .unwrap_or_default();
        format!(
            "DO $sqlrail_fence$ BEGIN UPDATE {} SET heartbeat_at = clock_timestamp() WHERE id = 1 AND token = {token} AND holder IS NOT NULL; \
             IF NOT FOUND THEN RAISE EXCEPTION USING ERRCODE = {}, MESSAGE = 'sqlrail: the migration lock was taken over by another runner'; END IF;{done} END $sqlrail_fence$",
            self.name(),
            literal(LOCK_LOST)
        )
    }
}

/// A held lease and its heartbeat thread. Dropping it stops the heartbeat (the lease is
/// released explicitly, or goes stale).
pub struct Lease {
    pub token: i64,
    /// Set by the heartbeat thread when the lease turns out to be lost.
    lost: Arc<AtomicBool>,
    /// Dropping it wakes the heartbeat thread at once to stop (a polled flag made every
    /// release wait up to a polling step).
    stop: Option<mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Lease {
    /// Starts heartbeating `token` on connections made by `connect`.
    pub fn start(
        token: i64,
        table: LockTable,
        connect: impl Fn() -> Option<Client> + Send + 'static,
    ) -> Lease {
        let lost = Arc::new(AtomicBool::new(false));
        let (stop, stopped) = mpsc::channel::<()>();
        let l = lost.clone();
        let thread = std::thread::spawn(move || {
            let mut client: Option<Client> = None;
            // Wakes after HEARTBEAT, or at once when the lease is dropped.
            while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(HEARTBEAT) {
                if client.as_ref().is_none_or(|c| c.is_closed()) {
                    client = connect();
                }
                let Some(c) = client.as_mut() else { continue };
                match table.heartbeat(c, token) {
                    Ok(true) => {}
                    Ok(false) => {
                        l.store(true, Ordering::Relaxed);
                        break;
                    }
                    // A dropped heartbeat connection is retried on the next beat; units
                    // check the token themselves.
                    Err(_) => client = None,
                }
            }
        });
        Lease {
            token,
            lost,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    pub fn is_lost(&self) -> bool {
        self.lost.load(Ordering::Relaxed)
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
