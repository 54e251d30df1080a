//! The retry executor: the only path to the database while applying. A unit of work is one
//! transaction or one non-transactional statement. A healthy connection is reused from unit
//! to unit; after an error it is discarded and the retry opens a fresh one on the same
//! target (the strategy chosen at start never changes). Before retrying after a
//! connection loss it asks the new connection whether the unit in fact committed, so
//! nothing is applied twice. No unit runs without the migration lock: a lost lock is
//! re-taken (waiting like a newcomer) before the next unit, and `generation` tells the
//! caller to re-read what is still pending.

use std::time::{Duration, Instant};

use postgres::Client;

use super::stop::{self, CancelOnStop, Signal};
use crate::config::{LockRetrySettings, RetrySettings};
use crate::db::connect::Target;
use crate::db::connect_policy::{self, Verdict};
use crate::db::errors::{ErrorClass, describe};
use crate::db::lock::{Lease, LockTable, POLL};
use crate::db::session_attrs::ServerRole;

#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    #[error("cannot connect to {target}: {message}")]
    Connect { target: String, message: String },
    #[error("{unit}: {message}")]
    Failed {
        unit: String,
        message: String,
        #[source]
        error: postgres::Error,
        attempts: u32,
    },
    #[error("{unit}: gave up after {attempts} attempts; last error: {message}")]
    Exhausted {
        unit: String,
        attempts: u32,
        message: String,
    },
    #[error("could not take the migration lock within {waited:?}: held by {holder} since {since}")]
    LockWait {
        waited: Duration,
        holder: String,
        since: String,
    },
    /// A stop signal: the unit in flight was rolled back (or had committed), nothing
    /// after it ran.
    #[error(
        "stopped by {} during {during}: {}; the lock is released and the next run goes on from here",
        signal.name(),
        if *.rolled_back { "it was cancelled and rolled back" } else { "nothing of it was left half done" }
    )]
    Stopped {
        signal: Signal,
        during: String,
        rolled_back: bool,
    },
    /// The server takes no writes and the settings do not say to wait for another one: a
    /// standby (or a read-only database) given as the target.
    #[error("{server} is {what}: {advice}")]
    ReadOnly {
        server: String,
        what: &'static str,
        advice: String,
    },
}

impl ExecError {
    /// Errors that end the run, not just the unit (a phase that warns on its own
    /// failures passes these on).
    pub fn ends_run(&self) -> bool {
        matches!(
            self,
            ExecError::Connect { .. }
                | ExecError::LockWait { .. }
                | ExecError::Stopped { .. }
                | ExecError::ReadOnly { .. }
        )
    }

    /// The server's error, when there is one (for SQLSTATE and position).
    pub fn db_error(&self) -> Option<&postgres::error::DbError> {
        match self {
            ExecError::Failed { error, .. } => error.as_db_error(),
            _ => None,
        }
    }
}

/// How a unit ended.
#[derive(Debug)]
pub struct Done<T> {
    pub value: T,
    pub attempts: u32,
    /// The unit had committed before a connection loss hid the answer; it was not re-run.
    pub found_committed: bool,
}

/// What a unit is, for the schedule its lock timeouts get.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnitKind {
    /// DDL: `lock_timeout` is retried on the lock-retry schedule; a stop signal cancels
    /// the transaction in flight.
    Ddl,
    /// An index build, drop or reindex: a stop signal cancels it (an invalid index it
    /// leaves is dropped by the phase).
    Build,
    /// Reads, bookkeeping and backfill batches: `lock_timeout` is an error like any
    /// other, and a stop lets the unit finish.
    Other,
}

pub struct Executor {
    target: Target,
    /// The target as the run started; `target` may add startup options for a phase.
    base_target: Target,
    /// A pooler refused startup options: connections go without them.
    options_refused: bool,
    client: Option<Client>,
    /// `host:port` the current (or last) connection reached, for messages.
    host: String,
    lock_table: LockTable,
    lease: Option<Lease>,
    holder: String,
    retry: RetrySettings,
    lock_retry: LockRetrySettings,
    lock_wait: Option<Duration>,
    /// Bumped each time the lock is (re-)acquired.
    generation: u64,
    log: Box<dyn Fn(&str)>,
}

impl Executor {
    /// Takes over the connection the strategy opened on `target` (reaching `host`).
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        target: Target,
        client: Client,
        host: String,
        lock_table: LockTable,
        retry: RetrySettings,
        lock_retry: LockRetrySettings,
        lock_wait: Option<Duration>,
        log: Box<dyn Fn(&str)>,
    ) -> Executor {
        let holder = format!(
            "sqlrail {} pid {} on {}",
            env!("CARGO_PKG_VERSION"),
            std::process::id(),
            hostname()
        );
        Executor {
            base_target: target.clone(),
            options_refused: false,
            target,
            client: Some(client),
            host,
            lock_table,
            lease: None,
            holder,
            retry,
            lock_retry,
            lock_wait,
            generation: 0,
            log,
        }
    }

    /// Server settings for the connections of the units that follow (`-c name=value …`),
    /// or none. The current connection is closed so the next unit opens one with them.
    pub fn set_session_options(&mut self, options: Option<&str>) {
        self.target = match options {
            Some(o) if !self.options_refused => self.base_target.with_options(o),
            _ => self.base_target.clone(),
        };
        self.client = None;
    }

    /// The run's connection target without phase options (for side connections, such as
    /// a progress monitor).
    pub fn base_target(&self) -> &Target {
        &self.base_target
    }

    /// When the unit in flight started, for its ledger row (see
    /// `LockTable::unit_started_sql`).
    pub fn unit_started_sql(&self) -> String {
        self.lock_table.unit_started_sql()
    }

    pub fn holder(&self) -> &str {
        &self.holder
    }

    pub fn generation(&self) -> u64 {
        self.generation
    }

    fn backoff(&self, attempt: u32) -> Duration {
        connect_policy::backoff(&self.retry, attempt)
    }

    /// The host the current (or last) connection reached.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// Ends the run here if a stop signal came: call between units.
    pub fn check_stop(&self, next: &str) -> Result<(), ExecError> {
        match stop::requested() {
            Some(signal) => Err(ExecError::Stopped {
                signal,
                during: format!("the run, before {next}"),
                rolled_back: false,
            }),
            None => Ok(()),
        }
    }

    fn lock_pause(&self, attempt: u32) -> Duration {
        let base = self.lock_retry.initial_pause.0.as_secs_f64()
            * 2f64.powi(attempt.saturating_sub(1).min(20) as i32);
        Duration::from_secs_f64(base.min(self.lock_retry.max_pause.0.as_secs_f64()))
    }

    /// The current connection, or a fresh one opened under the connection policy
    /// (`db::connect_policy`: what may pass is retried until the connect deadline, across
    /// every host of a multi-host target).
    fn connection(&mut self, unit: &str) -> Result<&mut Client, ExecError> {
        if self.client.as_ref().is_some_and(|c| !c.is_closed()) {
            return Ok(self.client.as_mut().expect("checked"));
        }
        self.client = None;
        loop {
            let what = format!("a reconnect for {unit}");
            let log = &self.log;
            match connect_policy::open(&self.target, &self.retry, &what, &|l| log(l)) {
                Ok(connected) => {
                    self.host = connected.host;
                    self.client = Some(connected.client);
                    return Ok(self.client.as_mut().expect("just set"));
                }
                Err(e)
                    if !self.options_refused
                        && self.target.has_options()
                        && e.failure.server_errors().any(|e| {
                            e.code() == Some(&postgres::error::SqlState::PROTOCOL_VIOLATION)
                        }) =>
                {
                    // PgBouncer refuses the `options` startup parameter.
                    (self.log)(&format!(
                        "the server refused session settings at connect ({}); going on without them",
                        first_line(&e.failure.to_string())
                    ));
                    self.options_refused = true;
                    self.target = self.base_target.clone();
                }
                Err(e) => {
                    if let Some(signal) = stop::requested()
                        && e.verdict != Verdict::Permanent
                    {
                        return Err(ExecError::Stopped {
                            signal,
                            during: format!("a reconnect for {unit}"),
                            rolled_back: false,
                        });
                    }
                    let target = match e.failure.host() {
                        Some(host) => self.target.describe_on(host),
                        None => self.target.describe(),
                    };
                    return Err(ExecError::Connect {
                        target,
                        message: e.to_string(),
                    });
                }
            }
        }
    }

    /// After `25006 read_only_sql_transaction`: what the server is. A target that asks for
    /// a writable server (`target_session_attrs=read-write|primary`) is in a failover, to
    /// wait out on a fresh connection (`Ok(true)`); any other target was given a standby
    /// or a read-only database by mistake (an error for the settings); a writable server
    /// means the unit itself asked for a read-only transaction (`Ok(false)`: its own error).
    fn read_only_server(&mut self) -> Result<bool, ExecError> {
        let role = match self.client.as_mut().map(ServerRole::read) {
            Some(Ok(role)) => role,
            // The question failed: treat like a connection loss.
            _ => return Ok(true),
        };
        if !role.in_recovery && !role.read_only {
            return Ok(false);
        }
        if self.target.wants_writes() {
            (self.log)(&format!(
                "{} is now {}: waiting for a writable host (failover)",
                self.host,
                role.describe()
            ));
            return Ok(true);
        }
        let source = &self.target.source_name;
        let advice = if role.in_recovery {
            format!(
                "sqlrail needs the primary. Point {source} at the primary, or list every host with target_session_attrs=read-write to follow failovers"
            )
        } else {
            format!(
                "sqlrail needs a database that takes writes. Turn default_transaction_read_only off for its role or database, or point {source} at the writable one"
            )
        };
        Err(ExecError::ReadOnly {
            server: self.target.describe_on(&self.host),
            what: role.describe(),
            advice,
        })
    }

    /// Makes sure the lock is held: takes it (polling while another runner has it) if
    /// this runner holds none or lost it.
    pub fn ensure_lock(&mut self) -> Result<(), ExecError> {
        if self.lease.as_ref().is_some_and(|l| !l.is_lost()) {
            return Ok(());
        }
        if self.lease.take().is_some() {
            (self.log)("the migration lock was lost; taking it again");
        }
        let started = Instant::now();
        let mut announced = false;
        let mut attempt = 0;
        loop {
            let result = self.lock_step();
            match result {
                Ok(Ok(token)) => {
                    let target = self.target.clone();
                    let timeout = self.retry.connect_timeout.0;
                    self.lease = Some(Lease::start(token, self.lock_table.clone(), move || {
                        target.connect(timeout).ok()
                    }));
                    self.generation += 1;
                    return Ok(());
                }
                Ok(Err(current)) => {
                    let (holder, since) = current.unwrap_or_else(|| {
                        ("(a runner that just released it)".into(), "now".into())
                    });
                    if let Some(limit) = self.lock_wait
                        && started.elapsed() >= limit
                    {
                        return Err(ExecError::LockWait {
                            waited: limit,
                            holder,
                            since,
                        });
                    }
                    if !announced {
                        (self.log)(&format!(
                            "waiting for the migration lock, held by {holder} since {since}"
                        ));
                        announced = true;
                    }
                    stop::sleep(POLL);
                    if let Some(signal) = stop::requested() {
                        return Err(ExecError::Stopped {
                            signal,
                            during: "the wait for the migration lock".into(),
                            rolled_back: false,
                        });
                    }
                }
                Err(LockStep::Lost(e)) => {
                    attempt += 1;
                    self.client = None;
                    if attempt >= self.retry.attempts {
                        return Err(ExecError::Exhausted {
                            unit: "the migration lock".into(),
                            attempts: attempt,
                            message: first_line(&e.to_string()),
                        });
                    }
                    let wait = self.backoff(attempt);
                    self.log_retry(
                        "the migration lock",
                        attempt + 1,
                        "connection loss",
                        &e,
                        wait,
                    );
                    stop::sleep(wait);
                    if let Some(signal) = stop::requested() {
                        return Err(ExecError::Stopped {
                            signal,
                            during: "taking the migration lock".into(),
                            rolled_back: false,
                        });
                    }
                }
                Err(LockStep::Fatal(e)) => return Err(e),
            }
        }
    }

    /// One try at the lock: `Ok(Ok(token))` taken, `Ok(Err(holder))` held by someone.
    fn lock_step(&mut self) -> Result<Result<i64, Option<(String, String)>>, LockStep> {
        let table = self.lock_table.clone();
        let holder = self.holder.clone();
        let client = self
            .connection("the migration lock")
            .map_err(LockStep::Fatal)?;
        let step = (|| {
            table.ensure(client)?;
            match table.try_acquire(client, &holder)? {
                Some(token) => Ok(Ok(token)),
                None => Ok(Err(table.holder(client)?)),
            }
        })();
        match step {
            Ok(taken) => Ok(taken),
            Err(e) => match ErrorClass::of(&e) {
                ErrorClass::ConnectionLost => Err(LockStep::Lost(e)),
                ErrorClass::ReadOnly => {
                    if let Some(c) = self.client.as_mut() {
                        let _ = c.batch_execute("ROLLBACK");
                    }
                    match self.read_only_server() {
                        Ok(true) => Err(LockStep::Lost(e)),
                        Ok(false) => Err(LockStep::Fatal(ExecError::from(e))),
                        Err(read_only) => Err(LockStep::Fatal(read_only)),
                    }
                }
                _ => Err(LockStep::Fatal(ExecError::from(e))),
            },
        }
    }

    /// Runs one unit of work. `body` gets the connection and the fencing statement that
    /// must run first inside its transaction; `committed` is asked, on a fresh
    /// connection after a connection loss, whether the unit's effect is already there.
    pub fn run<T>(
        &mut self,
        unit: &str,
        kind: UnitKind,
        done_sql: Option<&str>,
        mut body: impl FnMut(&mut Client, &str) -> Result<T, postgres::Error>,
        mut committed: impl FnMut(&mut Client) -> Result<Option<T>, postgres::Error>,
    ) -> Result<Done<T>, ExecError> {
        let mut attempts = 0;
        let mut lock_attempts = 0;
        let mut after_loss = false;
        loop {
            attempts += 1;
            self.ensure_lock()?;
            let fence = self
                .lock_table
                .fence_sql(self.lease.as_ref().expect("held").token, done_sql);
            // Only units a stop cancels need the target beside the borrowed connection.
            let canceller_target =
                matches!(kind, UnitKind::Ddl | UnitKind::Build).then(|| self.target.clone());
            let client = self.connection(unit)?;
            if after_loss {
                match committed(client) {
                    Ok(Some(value)) => {
                        return Ok(Done {
                            value,
                            attempts,
                            found_committed: true,
                        });
                    }
                    Ok(None) => {}
                    Err(e) => {
                        self.client = None;
                        if attempts >= self.retry.attempts {
                            return Err(exhausted(unit, attempts, &e));
                        }
                        self.pause(unit, self.backoff(attempts))?;
                        continue;
                    }
                }
            }
            // A stop signal cancels DDL and index builds on the server.
            let cancel = canceller_target
                .as_ref()
                .map(|t| CancelOnStop::register(t.canceller(client)));
            let answer = body(client, &fence);
            drop(cancel);
            let error = match answer {
                Ok(value) => {
                    return Ok(Done {
                        value,
                        attempts,
                        found_committed: false,
                    });
                }
                Err(e) => e,
            };
            let class = ErrorClass::of(&error);
            if let Some(signal) = stop::requested() {
                if class != ErrorClass::ConnectionLost
                    && let Some(c) = self.client.as_mut()
                {
                    let _ = c.batch_execute("ROLLBACK");
                }
                return Err(ExecError::Stopped {
                    signal,
                    during: unit.to_owned(),
                    rolled_back: true,
                });
            }
            if class != ErrorClass::ConnectionLost {
                // The connection is fine; leave no transaction open on it.
                if let Some(c) = self.client.as_mut() {
                    let _ = c.batch_execute("ROLLBACK");
                }
            }
            let wait = match class {
                ErrorClass::AlreadyDone => {
                    // An earlier attempt committed after all; take its result.
                    let client = self.connection(unit)?;
                    match committed(client) {
                        Ok(Some(value)) => {
                            return Ok(Done {
                                value,
                                attempts,
                                found_committed: true,
                            });
                        }
                        _ => {
                            return Err(ExecError::Failed {
                                unit: unit.to_owned(),
                                message: "the unit reported itself applied, but its record cannot be read".into(),
                                error,
                                attempts,
                            });
                        }
                    }
                }
                ErrorClass::ConnectionLost => {
                    self.client = None;
                    after_loss = true;
                    self.backoff(attempts)
                }
                ErrorClass::Transient => self.backoff(attempts),
                ErrorClass::ReadOnly => match self.read_only_server() {
                    Ok(true) => {
                        self.client = None;
                        after_loss = true;
                        self.backoff(attempts)
                    }
                    Ok(false) => return Err(failed(unit, error, attempts)),
                    Err(read_only) => return Err(read_only),
                },
                ErrorClass::LockLost => {
                    if let Some(lease) = self.lease.take() {
                        drop(lease);
                    }
                    Duration::ZERO
                }
                ErrorClass::LockTimeout if kind == UnitKind::Ddl => {
                    lock_attempts += 1;
                    attempts -= 1;
                    if lock_attempts >= self.lock_retry.attempts {
                        return Err(ExecError::Failed {
                            unit: unit.to_owned(),
                            message: format!(
                                "lock_timeout {lock_attempts} times in a row; another transaction keeps a conflicting lock: {}",
                                describe(&error)
                            ),
                            error,
                            attempts: lock_attempts,
                        });
                    }
                    let pause = self.lock_pause(lock_attempts);
                    (self.log)(&format!(
                        "{unit}: lock_timeout (attempt {lock_attempts}/{}); retrying in {:.1}s",
                        self.lock_retry.attempts,
                        pause.as_secs_f64()
                    ));
                    self.pause(unit, pause)?;
                    continue;
                }
                ErrorClass::LockTimeout | ErrorClass::Fatal => {
                    return Err(failed(unit, error, attempts));
                }
            };
            if attempts >= self.retry.attempts {
                return Err(exhausted(unit, attempts, &error));
            }
            let cause = match class {
                ErrorClass::ConnectionLost => "connection loss",
                ErrorClass::LockLost => "losing the migration lock",
                ErrorClass::ReadOnly => "a failover (the server became read-only)",
                _ => "a transient error",
            };
            self.log_retry(unit, attempts + 1, cause, &error, wait);
            self.pause(unit, wait)?;
        }
    }

    /// Waits `wait` before a retry, unless a stop signal comes first.
    fn pause(&self, unit: &str, wait: Duration) -> Result<(), ExecError> {
        stop::sleep(wait);
        match stop::requested() {
            Some(signal) => Err(ExecError::Stopped {
                signal,
                during: format!("the wait to retry {unit}"),
                rolled_back: false,
            }),
            None => Ok(()),
        }
    }

    /// One try of a pipeline: several units, each its own fenced transaction, sent at once
    /// (`body` gets the connection and a maker of each unit's fence from its `done_sql`).
    /// Nothing is retried here: after a failure only the ledger can say how many of the
    /// units committed, so the caller asks it and goes on through `run`, one unit at a
    /// time. `Err` is what stops before the pipeline is sent (the lock, the connection);
    /// `Ok(Err(e))` is the pipeline's own error, with no transaction left open.
    pub fn try_once<T>(
        &mut self,
        unit: &str,
        body: impl FnOnce(&mut Client, &dyn Fn(Option<&str>) -> String) -> Result<T, postgres::Error>,
    ) -> Result<Result<T, postgres::Error>, ExecError> {
        self.ensure_lock()?;
        let token = self.lease.as_ref().expect("held").token;
        let lock_table = self.lock_table.clone();
        let fence = move |done: Option<&str>| lock_table.fence_sql(token, done);
        let target = self.target.clone();
        let client = self.connection(unit)?;
        let cancel = CancelOnStop::register(target.canceller(client));
        let answer = body(client, &fence);
        drop(cancel);
        let error = match answer {
            Ok(value) => return Ok(Ok(value)),
            Err(e) => e,
        };
        match ErrorClass::of(&error) {
            ErrorClass::ConnectionLost => self.client = None,
            ErrorClass::LockLost => {
                self.lease.take();
                if let Some(c) = self.client.as_mut() {
                    let _ = c.batch_execute("ROLLBACK");
                }
            }
            _ => {
                if let Some(c) = self.client.as_mut() {
                    let _ = c.batch_execute("ROLLBACK");
                }
            }
        }
        Ok(Err(error))
    }

    /// Runs bookkeeping SQL (upserts, guarded updates: safe to repeat) in one fenced
    /// transaction, one round trip.
    pub fn record(&mut self, unit: &str, sql: &str) -> Result<(), ExecError> {
        self.run(
            unit,
            UnitKind::Other,
            None,
            |c, fence| c.batch_execute(&format!("BEGIN; {fence}; {sql}; COMMIT;")),
            |_| Ok(None),
        )
        .map(|_| ())
    }

    /// Runs a read (or idempotent bookkeeping) with the same retries, without the lock.
    pub fn read<T>(
        &mut self,
        what: &str,
        mut body: impl FnMut(&mut Client) -> Result<T, postgres::Error>,
    ) -> Result<T, ExecError> {
        let mut attempts = 0;
        loop {
            attempts += 1;
            let client = self.connection(what)?;
            let error = match body(client) {
                Ok(v) => return Ok(v),
                Err(e) => e,
            };
            match ErrorClass::of(&error) {
                ErrorClass::ConnectionLost => self.client = None,
                ErrorClass::Transient => {}
                // Bookkeeping that writes (the phase state's tables): as in `run`.
                ErrorClass::ReadOnly => {
                    if let Some(c) = self.client.as_mut() {
                        let _ = c.batch_execute("ROLLBACK");
                    }
                    match self.read_only_server() {
                        Ok(true) => self.client = None,
                        Ok(false) => return Err(failed(what, error, attempts)),
                        Err(read_only) => return Err(read_only),
                    }
                }
                _ => {
                    return Err(failed(what, error, attempts));
                }
            }
            if attempts >= self.retry.attempts {
                return Err(exhausted(what, attempts, &error));
            }
            let wait = self.backoff(attempts);
            self.log_retry(
                what,
                attempts + 1,
                "a connection loss or transient error",
                &error,
                wait,
            );
            self.pause(what, wait)?;
        }
    }

    fn log_retry(
        &self,
        what: &str,
        attempt: u32,
        cause: &str,
        error: &postgres::Error,
        wait: Duration,
    ) {
        (self.log)(&format!(
            "retry {attempt}/{} of {what} after {cause} ({}); waiting {:.1}s",
            self.retry.attempts,
            ErrorClass::describe(error),
            wait.as_secs_f64()
        ));
    }

    /// Frees the lock (best effort: a lease that cannot be freed goes stale).
    pub fn release(&mut self) {
        if let Some(lease) = self.lease.take() {
            let token = lease.token;
            drop(lease);
            let table = self.lock_table.clone();
            if let Ok(client) = self.connection("releasing the lock") {
                let _ = table.release(client, token);
            }
        }
    }
}

impl Drop for Executor {
    fn drop(&mut self) {
        self.release();
    }
}

enum LockStep {
    Lost(postgres::Error),
    Fatal(ExecError),
}

impl From<postgres::Error> for ExecError {
    fn from(error: postgres::Error) -> Self {
        failed("the migration lock", error, 1)
    }
}

/// The error that ends a unit at once: the server's message.
fn failed(unit: &str, error: postgres::Error, attempts: u32) -> ExecError {
    ExecError::Failed {
        unit: unit.to_owned(),
        message: describe(&error),
        error,
        attempts,
    }
}

fn exhausted(unit: &str, attempts: u32, error: &postgres::Error) -> ExecError {
    ExecError::Exhausted {
        unit: unit.to_owned(),
        attempts,
        message: describe(error),
    }
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or(s).to_owned()
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .unwrap_or_else(|_| "unknown host".into())
}
