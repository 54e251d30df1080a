//! One trial: a fresh database with 200,000 rows, a runner applying the chaos project, one
//! fault injected at a random moment, then a plain run and the invariants.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::faults::Fault;
use crate::invariants::{self, Expected};
use crate::project::{self, INDEXES, ROWS, SLOW_DDL_MARKER};
use crate::server::Server;
use crate::support::fault_server::FaultServer;
use crate::support::proxy::Proxy;

/// A run that has not ended after this long is reported as hung (the slowest fault, a
/// killed runner, costs the next run a 20 s wait for the stale lease).
const RUN_LIMIT: Duration = Duration::from_secs(300);

/// What a clean run of the project on one server looks like.
pub struct Reference {
    pub dump: String,
    /// How long a clean run takes: faults are placed within it.
    pub duration: Duration,
}

/// Everything a trial needs that does not change between trials.
pub struct Stage<'a> {
    pub project: &'a Path,
    pub expected: &'a Expected,
    pub logs: &'a Path,
}

pub struct Outcome {
    pub trial: usize,
    pub fault: Fault,
    pub server: &'static str,
    /// The fault acted while a runner was still running.
    pub injected: bool,
    /// The runner's output shows the path the fault exercises (a retry, a lock retry…).
    pub path_seen: bool,
    /// Exit codes of the faulted runners (`None`: killed by a signal).
    pub faulted_exits: Vec<Option<i32>>,
    pub plain_exit: i32,
    pub violations: Vec<String>,
    pub seconds: f64,
}

/// Creates a database named `db` with the data a trial starts from.
fn prepare(server: &Server, db: &str, fault: Fault) {
    server.create_db(db);
    let mut admin = server.admin(db);
    admin.batch_execute(project::SETUP_SQL).unwrap();
    if fault.checks_client_connection() {
        admin
            .batch_execute(&format!(
                "ALTER DATABASE \"{db}\" SET client_connection_check_interval = '10ms'"
            ))
            .unwrap();
    }
}

fn spawn_runner(stage: &Stage, url: &str, log: &Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_sqlrail"))
        .args(["apply", "--database-url", url])
        .current_dir(stage.project)
        .stdout(Stdio::null())
        .stderr(File::create(log).unwrap())
        .spawn()
        .unwrap()
}

/// Waits for `child` up to `RUN_LIMIT`; kills it if it hangs. `None`: killed by a signal.
fn wait(child: &mut Child, hung: &mut Vec<String>, what: &str) -> Option<i32> {
    let deadline = Instant::now() + RUN_LIMIT;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status.code();
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            hung.push(format!(
                "{what} did not end within {}s",
                RUN_LIMIT.as_secs()
            ));
            return child.wait().unwrap().code();
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Sleeps until `at`; `true` if `child` is still running then.
fn running_at(child: &mut Child, at: Instant) -> bool {
    while Instant::now() < at {
        if child.try_wait().unwrap().is_some() {
            return false;
        }
        std::thread::sleep(Duration::from_millis(5).min(at - Instant::now()));
    }
    child.try_wait().unwrap().is_none()
}

/// A clean run on a fresh database: the schema every trial must end with, and how long a
/// run takes.
pub fn reference(server: &Server, stage: &Stage) -> Reference {
    let db = format!(
        "sqlrail_chaos_{}_{}_clean",
        std::process::id(),
        server.name().replace('-', "_")
    );
    server.drop_db(&db);
    prepare(server, &db, Fault::CutRandom);
    let log = stage.logs.join(format!("clean-{}.log", server.name()));
    let started = Instant::now();
    let mut runner = spawn_runner(stage, &server.runner_url(&db, server.addr().port()), &log);
    let mut hung = Vec::new();
    let code = wait(&mut runner, &mut hung, "the clean run");
    let duration = started.elapsed();
    assert_eq!(
        code,
        Some(0),
        "the clean run failed: {}",
        std::fs::read_to_string(&log).unwrap_or_default()
    );
    let violations = invariants::check(server, &db, stage.expected, &server.schema_dump(&db));
    assert!(
        violations.is_empty(),
        "the clean run breaks invariants: {violations:?}"
    );
    let dump = server.schema_dump(&db);
    damage_is_caught(server, &db, stage.expected, &dump);
    server.drop_db(&db);
    Reference { dump, duration }
}

/// The invariants catch what they are for: each kind of damage a fault could do, done by
/// hand to a clean database, is reported (a check that cannot fail would prove nothing).
fn damage_is_caught(server: &Server, db: &str, expected: &Expected, clean_dump: &str) {
    let damage = [
        (
            "UPDATE chaos_items SET n = 2 WHERE id = 7",
            "rows not updated exactly once: 1 by the first backfill",
        ),
        (
            "UPDATE chaos_items SET code2 = NULL WHERE id = 8",
            "1 rows left unfilled",
        ),
        (
            "DELETE FROM sqlrail.schema_migrations WHERE version = 40",
            "DDL ledger: missing versions [40]",
        ),
        (
            "UPDATE sqlrail.schema_migrations SET reconciled = true WHERE version = 41",
            "version 41 was reconciled",
        ),
        (
            "UPDATE sqlrail.sqlrail_index_builds SET state = 'building' WHERE id LIKE '%V15%'",
            "is building",
        ),
        (
            "UPDATE pg_index SET indisvalid = false WHERE indexrelid = 'idx_chaos_items_code'::regclass",
            "index idx_chaos_items_code is invalid",
        ),
        (
            "UPDATE sqlrail.sqlrail_backfills SET state = 'running' WHERE id LIKE '%V9%'",
            "is running",
        ),
        (
            "ALTER TABLE chaos_t40 ADD COLUMN extra int",
            "schema differs from a clean run's",
        ),
        (
            "UPDATE sqlrail.sqlrail_lock SET holder = 'someone'",
            "the migration lease is still held",
        ),
    ];
    let mut admin = server.admin(db);
    // A session that looks like a runner left behind.
    let mut leftover = server.admin(db);
    leftover
        .batch_execute("SET application_name = 'sqlrail'")
        .unwrap();
    for (sql, _) in &damage {
        admin.batch_execute(sql).unwrap();
    }
    let found = invariants::check(server, db, expected, clean_dump);
    let mut missed: Vec<&str> = damage
        .iter()
        .map(|(_, fragment)| *fragment)
        .filter(|fragment| !found.iter().any(|f| f.contains(fragment)))
        .collect();
    if !found
        .iter()
        .any(|f| f.contains("sqlrail sessions left behind"))
    {
        missed.push("sqlrail sessions left behind");
    }
    assert!(
        missed.is_empty(),
        "the invariants missed damage: {missed:?}; they found {found:#?}"
    );
}

/// Runs one trial of `fault` on `server`.
pub fn run(
    trial: usize,
    fault: Fault,
    server: &Server,
    reference: &Reference,
    stage: &Stage,
    rng: &mut fastrand::Rng,
) -> Outcome {
    let started = Instant::now();
    // A failover trial gets a primary and standby of its own (the failover uses them up).
    let pair = (fault == Fault::DelayedPromotion).then(Server::pair);
    let server = pair.as_ref().unwrap_or(server);
    let db = format!("sqlrail_chaos_{}_{trial}", std::process::id());
    server.drop_db(&db);
    prepare(server, &db, fault);
    server.settle();
    let proxy = fault.via_proxy().then(|| Proxy::start(server.addr()));
    let front = (fault == Fault::FirstConnectionCut).then(|| {
        FaultServer::cut_after(
            server.addr(),
            Duration::from_millis(rng.u64(1..=30)),
            rng.usize(1..=3),
        )
    });
    let port = match (&proxy, &front) {
        (Some(p), _) => p.port,
        (_, Some(f)) => f.port,
        _ => server.addr().port(),
    };
    let url = server.runner_url(&db, port);
    let log =
        |n: usize| -> PathBuf { stage.logs.join(format!("trial-{trial}-{fault}-run{n}.log")) };

    // A random moment within the first 90% of a clean run's duration (later ones would
    // often find the runner finished).
    let span = (reference.duration.as_millis() as u64 * 9 / 10).max(1);
    let moment = |rng: &mut fastrand::Rng| Instant::now() + Duration::from_millis(rng.u64(0..span));

    match (fault, &proxy) {
        (Fault::CutMidTransaction, Some(p)) => p.cut_when_client_sends(SLOW_DDL_MARKER, true, 1),
        (Fault::CutMidStatement, Some(p)) => {
            let (name, _) = INDEXES[rng.usize(0..INDEXES.len())];
            p.cut_when_client_sends(&format!("CONCURRENTLY {name} ON"), true, 1);
        }
        _ => {}
    }
    let mut runner = spawn_runner(stage, &url, &log(1));
    let mut extra: Vec<Child> = Vec::new();
    let mut holder: Option<JoinHandle<bool>> = None;
    let injected = match fault {
        Fault::CutRandom | Fault::TlsCut => {
            let at = moment(rng);
            let running = running_at(&mut runner, at);
            proxy.as_ref().unwrap().cut_all();
            running
        }
        Fault::CutMidTransaction | Fault::CutMidStatement => {
            // Counted once the runner has ended (the proxy counts its cuts).
            false
        }
        Fault::CutAfterCommit => {
            let at = moment(rng);
            let running = running_at(&mut runner, at);
            proxy
                .as_ref()
                .unwrap()
                .cut_when_client_sends("COMMIT", true, 1);
            running
        }
        Fault::Terminate => {
            let at = moment(rng);
            running_at(&mut runner, at) && terminate_sqlrail_backends(server, &db, &mut runner)
        }
        Fault::Restart => {
            let at = moment(rng);
            let running = running_at(&mut runner, at);
            if running {
                server.restart(rng.bool());
            }
            running
        }
        Fault::LockHolder => {
            // Within the DDL phase's first half second: the migrations on `chaos_items`
            // come right after the example project's.
            let at = Instant::now() + Duration::from_millis(rng.u64(0..500));
            let hold = Duration::from_millis(rng.u64(1000..3000));
            holder = Some(hold_table_lock(server.admin(&db), at, hold));
            true
        }
        Fault::RowLocks => {
            let rows = RowLocks {
                ahead: rng.i64(5_000..30_000),
                len: rng.i64(100..20_000),
                delay: Duration::from_millis(rng.u64(0..1000)),
                hold: Duration::from_millis(rng.u64(1000..3000)),
            };
            holder = Some(rows.hold(server.admin(&db)));
            true
        }
        Fault::Runners => {
            let (first, second) = (moment(rng), moment(rng));
            let running = running_at(&mut runner, first.min(second));
            extra.push(spawn_runner(stage, &url, &log(2)));
            std::thread::sleep(second.max(first) - first.min(second));
            extra.push(spawn_runner(stage, &url, &log(3)));
            running
        }
        Fault::Kill => {
            let at = moment(rng);
            let running = running_at(&mut runner, at);
            let _ = runner.kill();
            running
        }
        // Counted once the runner has ended (the front counts its cuts).
        Fault::FirstConnectionCut => false,
        Fault::DelayedPromotion => {
            let at = moment(rng);
            let running = running_at(&mut runner, at);
            if running {
                server.fail_over(Duration::from_millis(rng.u64(10_000..20_000)));
            }
            running
        }
    };

    let mut violations = Vec::new();
    let mut faulted_exits = vec![wait(&mut runner, &mut violations, "the faulted run")];
    for (n, child) in extra.iter_mut().enumerate() {
        let code = wait(child, &mut violations, &format!("runner {}", n + 2));
        if code != Some(0) {
            violations.push(format!(
                "runner {} exited {code:?}: {}",
                n + 2,
                tail(&log(n + 2))
            ));
        }
        faulted_exits.push(code);
    }
    let held = holder.map(|h| h.join().unwrap()).unwrap_or(false);
    let injected = match fault {
        Fault::CutMidTransaction | Fault::CutMidStatement => proxy.as_ref().unwrap().cuts() > 0,
        Fault::CutAfterCommit => injected && proxy.as_ref().unwrap().cuts() > 0,
        Fault::LockHolder | Fault::RowLocks => held,
        Fault::FirstConnectionCut => front.as_ref().unwrap().faulted() > 0,
        _ => injected,
    };
    drop(proxy);
    drop(front);

    let logs: String = (1..=faulted_exits.len())
        .map(|n| std::fs::read_to_string(log(n)).unwrap_or_default())
        .collect();
    let path_seen =
        fault.evidence().iter().any(|e| logs.contains(e)) || (fault == Fault::Kill && injected);

    // The plain run: direct, no fault. It must succeed and leave nothing to do.
    let mut plain = spawn_runner(
        stage,
        &server.runner_url(&db, server.addr().port()),
        &log(9),
    );
    let plain_exit = wait(&mut plain, &mut violations, "the plain run").unwrap_or(-1);
    if plain_exit != 0 {
        violations.push(format!(
            "the plain run exited {plain_exit}: {}",
            tail(&log(9))
        ));
    }
    violations.extend(invariants::check(
        server,
        &db,
        stage.expected,
        &reference.dump,
    ));
    if !violations.is_empty() {
        violations.push(format!("faulted run's output: {}", tail(&log(1))));
    }
    server.drop_db(&db);
    Outcome {
        trial,
        fault,
        server: server.name(),
        injected,
        path_seen,
        faulted_exits,
        plain_exit,
        violations,
        seconds: started.elapsed().as_secs_f64(),
    }
}

/// Terminates every sqlrail backend on `db`, trying for up to a second (the runner may be
/// between connections); `true` if one was terminated while the runner ran.
fn terminate_sqlrail_backends(server: &Server, db: &str, runner: &mut Child) -> bool {
    let mut admin = server.admin(db);
    let deadline = Instant::now() + Duration::from_secs(1);
    while Instant::now() < deadline && runner.try_wait().unwrap().is_none() {
        let terminated: i64 = admin
            .query_one(
                "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity \
                 WHERE datname = $1 AND application_name = 'sqlrail' AND pid <> pg_backend_pid()",
                &[&db],
            )
            .unwrap()
            .get(0);
        if terminated > 0 {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    false
}

/// From `at`, holds `ACCESS EXCLUSIVE` on `chaos_items` for `hold`, in a thread; `false`
/// if the lock was never held.
fn hold_table_lock(mut admin: postgres::Client, at: Instant, hold: Duration) -> JoinHandle<bool> {
    std::thread::spawn(move || {
        std::thread::sleep(at.saturating_duration_since(Instant::now()));
        match admin.batch_execute("BEGIN; LOCK TABLE chaos_items IN ACCESS EXCLUSIVE MODE") {
            Ok(()) => {}
            // While it waits, this transaction can close a cycle with a `CREATE INDEX
            // CONCURRENTLY` on the table, which waits for every older transaction to end;
            // PostgreSQL then cancels one of the two. When it cancels this one, no lock
            // was held (the index build, cancelled instead, is the runner's to handle).
            Err(e) if e.code() == Some(&postgres::error::SqlState::T_R_DEADLOCK_DETECTED) => {
                return false;
            }
            Err(e) => panic!("LOCK TABLE chaos_items: {e}"),
        }
        std::thread::sleep(hold);
        admin.batch_execute("COMMIT").unwrap();
        true
    })
}

/// Row locks on `len` ids of `chaos_items`, `ahead` of a running chaos backfill's cursor
/// (so its batches meet them), taken `delay` after it starts and held for `hold`.
struct RowLocks {
    ahead: i64,
    len: i64,
    delay: Duration,
    hold: Duration,
}

impl RowLocks {
    /// Waits in a thread for a chaos backfill to start, then locks the rows; `false` if
    /// none started within the run limit.
    fn hold(self, mut admin: postgres::Client) -> JoinHandle<bool> {
        std::thread::spawn(move || {
            // The cursor of the chaos backfill running now; an error while the progress
            // table does not exist yet.
            let mut cursor = || {
                admin
                    .query_opt(
                        "SELECT cursor FROM sqlrail.sqlrail_backfills \
                         WHERE id LIKE 'backfills/%chaos%' AND state <> 'done' \
                         ORDER BY updated_at DESC LIMIT 1",
                        &[],
                    )
                    .ok()
                    .flatten()
                    .map(|r| r.get::<_, i64>(0))
            };
            let deadline = Instant::now() + RUN_LIMIT;
            while cursor().is_none() {
                if Instant::now() >= deadline {
                    return false;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            std::thread::sleep(self.delay);
            // Read again: the batches move about 70,000 keys a second.
            let Some(now) = cursor() else { return false };
            let lo = (now + self.ahead).min(ROWS - self.len);
            admin.batch_execute("BEGIN").unwrap();
            admin
                .query(
                    "SELECT id FROM chaos_items WHERE id BETWEEN $1 AND $2 FOR UPDATE",
                    &[&lo, &(lo + self.len)],
                )
                .unwrap();
            std::thread::sleep(self.hold);
            admin.batch_execute("COMMIT").unwrap();
            true
        })
    }
}

/// The last lines of a runner's log, for a violation's report.
fn tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(8)..].join("\n    ")
}
