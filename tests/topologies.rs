//! Production topologies (issue 29), against real servers on loopback: the first
//! connection of a run refused, answered "starting up" or cut during the handshake (plain
//! and TLS) is retried; permanent connection errors fail at once; a failover with a 15 s
//! promotion delay behind a multi-host URL is survived with every migration recorded once;
//! a standby given by mistake is a configuration error; SIGTERM and SIGINT stop cleanly,
//! release the lease and cancel an index build in flight.

mod support;

use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use postgres::{Client, NoTls};
use support::TestDb;
use support::cluster::{Cluster, PASSWORD};
use support::fault_server::FaultServer;
use support::replica::ReplicaPair;

/// A retry schedule that outlasts a 5 s fault: 100 ms doubling to 500 ms, 30 attempts
/// (about 13 s in all). No `connect_deadline`, so it reads with or without that setting.
const RETRY: &str =
    "{ attempts: 30, initial_backoff: 100ms, max_backoff: 500ms, connect_timeout: 5s }";

/// The local server, behind the fault fronts.
fn local() -> std::net::SocketAddr {
    "127.0.0.1:5432".parse().unwrap()
}

/// A project: `manifest.yaml` with `settings.retry` = `retry`, DDL files `V<n>__t<n>`,
/// index files `V<n>__ix<n>` and backfills `V<n>__bf<n>` (`(sql, backfill settings)`).
fn project(
    retry: &str,
    ddl: &[String],
    indexes: &[String],
    backfills: &[(String, String)],
) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let mut manifest = format!(
        "settings:\n  retry: {retry}\n  lock_retry: {{ attempts: 5, initial_pause: 50ms, max_pause: 200ms }}\nmigrations:\n"
    );
    for phase in ["ddl", "indexes", "backfills"] {
        std::fs::create_dir_all(dir.path().join("sql").join(phase)).unwrap();
    }
    for (n, sql) in ddl.iter().enumerate() {
        let id = format!("V{}__t{}", n + 1, n + 1);
        std::fs::write(dir.path().join(format!("sql/ddl/{id}.sql")), sql).unwrap();
        manifest.push_str(&format!("  - id: ddl/{id}\n"));
    }
    for (n, sql) in indexes.iter().enumerate() {
        let id = format!("V{}__ix{}", n + 1, n + 1);
        std::fs::write(dir.path().join(format!("sql/indexes/{id}.sql")), sql).unwrap();
        manifest.push_str(&format!("  - id: indexes/{id}\n"));
    }
    for (n, (sql, settings)) in backfills.iter().enumerate() {
        let id = format!("V{}__bf{}", n + 1, n + 1);
        std::fs::write(dir.path().join(format!("sql/backfills/{id}.sql")), sql).unwrap();
        manifest.push_str(&format!(
            "  - id: backfills/{id}\n    backfill: {{ {settings} }}\n"
        ));
    }
    std::fs::write(dir.path().join("manifest.yaml"), manifest).unwrap();
    dir
}

/// `n` DDL files creating `t1`..`tn`, each sleeping `sleep` seconds inside its transaction.
fn tables(n: usize, sleep: f64) -> Vec<String> {
    (1..=n)
        .map(|i| {
            let mut sql = format!("CREATE TABLE t{i} (id bigint PRIMARY KEY, v int);\n");
            if sleep > 0.0 {
                sql.push_str(&format!("SELECT pg_sleep({sleep});\n"));
            }
            sql
        })
        .collect()
}

/// The binary, in `dir`, with no connection settings from the environment.
fn command(dir: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_sqlrail"));
    command.args(args).current_dir(dir).env_remove("NO_COLOR");
    for var in [
        "DATABASE_URL",
        "DATABASE_URL_DIRECT",
        "DATABASE_URL_POOLER",
        "PGHOST",
        "PGPORT",
        "PGUSER",
        "PGPASSWORD",
        "PGDATABASE",
        "PGSSLMODE",
        "PGSSLROOTCERT",
        "PGPASSFILE",
        "PGTARGETSESSIONATTRS",
    ] {
        command.env_remove(var);
    }
    command
}

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    took: Duration,
}

impl Run {
    fn both(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

/// `sqlrail apply --database-url url` to completion.
fn apply(dir: &Path, url: &str) -> Run {
    let started = Instant::now();
    let out = command(dir, &["apply", "--database-url", url])
        .output()
        .unwrap();
    Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        took: started.elapsed(),
    }
}

/// A `sqlrail apply` running in the background; killed if the test ends before it does.
struct Background {
    child: Child,
    stdout: Arc<Mutex<String>>,
    stderr: Arc<Mutex<String>>,
    started: Instant,
}

fn collect(mut from: impl Read + Send + 'static) -> Arc<Mutex<String>> {
    let text = Arc::new(Mutex::new(String::new()));
    let into = text.clone();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = from.read(&mut buf) {
            if n == 0 {
                break;
            }
            into.lock()
                .unwrap()
                .push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    });
    text
}

impl Background {
    fn apply(dir: &Path, url: &str) -> Background {
        let mut child = command(dir, &["apply", "--database-url", url])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = collect(child.stdout.take().unwrap());
        let stderr = collect(child.stderr.take().unwrap());
        Background {
            child,
            stdout,
            stderr,
            started: Instant::now(),
        }
    }

    fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Sends `signal` (`TERM`, `INT`) with kill(1).
    fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.child.id().to_string())
            .status()
            .unwrap();
        assert!(status.success(), "kill -{signal} {}", self.child.id());
    }

    /// Waits up to `limit` for the process to end; panics (after killing it) if it does not.
    fn wait(mut self, limit: Duration) -> Run {
        let deadline = Instant::now() + limit;
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!(
                    "sqlrail apply still running after {limit:?}; stderr so far:\n{}",
                    self.stderr()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let took = self.started.elapsed();
        // Let the readers drain the pipes.
        std::thread::sleep(Duration::from_millis(100));
        Run {
            code: status.code(),
            stdout: self.stdout.lock().unwrap().clone(),
            stderr: self.stderr(),
            took,
        }
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The recorded DDL versions, in order (none if the ledger does not exist).
fn versions(client: &mut Client) -> Vec<i32> {
    let exists: bool = client
        .query_one(
            "SELECT to_regclass('sqlrail.schema_migrations') IS NOT NULL",
            &[],
        )
        .unwrap()
        .get(0);
    if !exists {
        return Vec::new();
    }
    client
        .query(
            "SELECT version FROM sqlrail.schema_migrations ORDER BY version",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
}

/// Whether the lease is free (or was never created).
fn lock_free(client: &mut Client) -> bool {
    client
        .query_one(
            "SELECT to_regclass('sqlrail.sqlrail_lock') IS NULL \
             OR NOT EXISTS (SELECT 1 FROM sqlrail.sqlrail_lock WHERE holder IS NOT NULL)",
            &[],
        )
        .unwrap()
        .get(0)
}

fn table_exists(client: &mut Client, name: &str) -> bool {
    client
        .query_one("SELECT to_regclass($1) IS NOT NULL", &[&name])
        .unwrap()
        .get(0)
}

fn one_to(n: usize) -> Vec<i32> {
    (1..=n as i32).collect()
}

/// Waits until a backend of `sqlrail` in `dbname` runs a statement matching `pattern`
/// (`LIKE`), polling through `admin`; panics after `limit`, or if the run ends first.
fn wait_for_statement(
    admin: &mut Client,
    dbname: &str,
    pattern: &str,
    limit: Duration,
    run: &mut Background,
) {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = run.child.try_wait().unwrap() {
            std::thread::sleep(Duration::from_millis(100));
            panic!(
                "sqlrail apply ended ({status}) before any backend ran {pattern:?}:\n{}{}",
                run.stdout.lock().unwrap(),
                run.stderr()
            );
        }
        let n: i64 = admin
            .query_one(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND state = 'active' \
                 AND query LIKE $2 AND pid <> pg_backend_pid()",
                &[&dbname, &pattern],
            )
            .unwrap()
            .get(0);
        if n > 0 {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "no backend ran {pattern:?} in {dbname} within {limit:?}; stderr:\n{}",
            run.stderr()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

// --- a, b, c: the first connection of a run ----------------------------------------

#[test]
fn first_connection_refused_for_five_seconds_is_retried() {
    let db = TestDb::new("topo_refused");
    let project = project(RETRY, &tables(3, 0.0), &[], &[]);
    let front = FaultServer::refuse_until(local(), Instant::now() + Duration::from_secs(5));
    let url = format!(
        "postgres://postgres@127.0.0.1:{}/{}?sslmode=disable",
        front.port, db.name
    );
    let run = apply(project.path(), &url);
    assert_eq!(run.code, Some(0), "{}", run.both());
    assert!(
        run.took >= Duration::from_millis(4500),
        "it cannot have connected before the port listened: {:?}\n{}",
        run.took,
        run.both()
    );
    assert_eq!(versions(&mut db.client()), one_to(3), "{}", run.both());
    let endpoint = format!("127.0.0.1:{}", front.port);
    assert!(
        run.stderr.contains(&endpoint) && run.stderr.to_lowercase().contains("refused"),
        "the retry is logged with the endpoint and the reason: {}",
        run.stderr
    );
    assert!(front.accepted() >= 1);
}

#[test]
fn first_connection_starting_up_is_retried() {
    let db = TestDb::new("topo_starting");
    let project = project(RETRY, &tables(3, 0.0), &[], &[]);
    let front = FaultServer::starting_up_until(local(), Instant::now() + Duration::from_secs(5));
    let url = format!(
        "postgres://postgres@127.0.0.1:{}/{}?sslmode=disable",
        front.port, db.name
    );
    let run = apply(project.path(), &url);
    assert_eq!(run.code, Some(0), "{}", run.both());
    assert!(
        front.faulted() >= 1,
        "the first connection got 57P03: {}",
        run.both()
    );
    assert_eq!(versions(&mut db.client()), one_to(3), "{}", run.both());
    assert!(
        run.stderr.contains("57P03") || run.stderr.contains("starting up"),
        "the retry says why: {}",
        run.stderr
    );
}

#[test]
fn first_connection_cut_during_handshake_is_retried() {
    // Long enough that the main connection is still open at 30 ms.
    let project = project(RETRY, &tables(3, 0.05), &[], &[]);
    let cuts = [1u64, 5, 10, 20, 30];
    let mut failures = Vec::new();

    for ms in cuts {
        let db = TestDb::new(&format!("topo_cut{ms}"));
        let front = FaultServer::cut_after(local(), Duration::from_millis(ms), 3);
        let url = format!(
            "postgres://postgres@127.0.0.1:{}/{}?sslmode=disable",
            front.port, db.name
        );
        let run = apply(project.path(), &url);
        let recorded = versions(&mut db.client());
        if run.code != Some(0) || recorded != one_to(3) || front.accepted() < 2 {
            failures.push(format!(
                "plaintext, cut at {ms} ms: exit {:?}, recorded {recorded:?}, {} connection(s): {}",
                run.code,
                front.accepted(),
                run.both().trim()
            ));
        }
    }

    let cluster = Cluster::start();
    let upstream: std::net::SocketAddr = format!("127.0.0.1:{}", cluster.port).parse().unwrap();
    for ms in cuts {
        let dbname = format!("cut_tls_{ms}");
        cluster.psql(&format!("CREATE DATABASE {dbname}"));
        let front = FaultServer::cut_after(upstream, Duration::from_millis(ms), 3);
        let url = format!(
            "postgres://postgres:{PASSWORD}@127.0.0.1:{}/{dbname}?sslmode=require",
            front.port
        );
        let run = apply(project.path(), &url);
        let mut client = Client::connect(&cluster.socket_conninfo(&dbname), NoTls).unwrap();
        let recorded = versions(&mut client);
        if run.code != Some(0) || recorded != one_to(3) || front.accepted() < 2 {
            failures.push(format!(
                "TLS, cut at {ms} ms: exit {:?}, recorded {recorded:?}, {} connection(s): {}",
                run.code,
                front.accepted(),
                run.both().trim()
            ));
        }
        assert!(!run.both().contains(PASSWORD), "the password leaked");
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

// --- d: permanent errors ---------------------------------------------------------

#[test]
fn permanent_connection_errors_fail_at_once() {
    let cluster = Cluster::start();
    cluster.psql("CREATE DATABASE app");
    let project = project(RETRY, &tables(1, 0.0), &[], &[]);
    let cases = [
        (
            "a wrong password",
            format!(
                "postgres://postgres:Wrong-{PASSWORD}@127.0.0.1:{}/app?sslmode=require",
                cluster.port
            ),
        ),
        (
            "an unknown database",
            cluster.url("127.0.0.1", "no_such_database", "sslmode=require"),
        ),
        (
            "verify-full for a host the certificate does not name",
            cluster.url(
                "127.0.0.1",
                "app",
                &format!("sslmode=verify-full&sslrootcert={}", cluster.path("ca.crt")),
            ),
        ),
    ];
    let mut failures = Vec::new();
    for (case, url) in &cases {
        let run = apply(project.path(), url);
        if run.code != Some(2) || run.took >= Duration::from_secs(1) {
            failures.push(format!(
                "{case}: exit {:?} after {:?} (want 2 in under 1 s): {}",
                run.code,
                run.took,
                run.both().trim()
            ));
        }
        assert!(
            !run.both().contains(PASSWORD),
            "{case}: the password leaked: {}",
            run.both()
        );
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
    let mut client = Client::connect(&cluster.socket_conninfo("app"), NoTls).unwrap();
    assert!(versions(&mut client).is_empty());
}

// --- e, f: a primary and a streaming standby --------------------------------------

#[test]
fn failover_with_a_fifteen_second_promotion_delay() {
    let pair = ReplicaPair::start();
    pair.psql_primary("CREATE DATABASE app");
    // The backfill's table, made by hand: a counter shows a row changed twice.
    pair.query(
        pair.primary_port(),
        "app",
        "CREATE TABLE items (id bigint PRIMARY KEY, n int NOT NULL DEFAULT 0); \
         INSERT INTO items (id) SELECT g FROM generate_series(1, 3000) g",
    );
    pair.wait_caught_up();
    let project = project(
        // The default schedule (1 s doubling to 8 s), with the deadline spelled out.
        "{ connect_deadline: 90s }",
        &tables(40, 0.2),
        &["CREATE INDEX CONCURRENTLY t40_v ON t40 (v);\n".to_owned()],
        &[(
            "UPDATE items SET n = n + 1 WHERE id BETWEEN :lo AND :hi;\n".to_owned(),
            "table: items, batch_size: 500, sleep: 20ms".to_owned(),
        )],
    );
    let url = pair.url("app", "target_session_attrs=read-write&sslmode=disable");
    let mut run = Background::apply(project.path(), &url);
    let mut admin = pair.client(pair.primary_port(), "postgres");
    wait_for_statement(
        &mut admin,
        "app",
        "%pg_sleep%",
        Duration::from_secs(20),
        &mut run,
    );
    std::thread::sleep(Duration::from_millis(1500));
    drop(admin);
    pair.stop_primary();
    let stopped = Instant::now();
    std::thread::sleep(Duration::from_secs(15));
    pair.promote_standby();
    let promoted = stopped.elapsed();
    let promoted_at = std::time::SystemTime::now();
    let run = run.wait(Duration::from_secs(120));
    let out = run.both();
    assert_eq!(
        run.code,
        Some(0),
        "primary stopped, standby promoted {promoted:?} later:\n{out}"
    );

    assert!(
        run.took > promoted,
        "the run outlasted the outage (it ended {:?} after it started, the promotion came {promoted:?} after the stop):\n{out}",
        run.took
    );

    let mut new_primary = pair.client(pair.standby_port(), "app");
    assert_eq!(versions(&mut new_primary), one_to(40), "{out}");
    // The failover's cost: from the new primary taking writes to the next migration's
    // unit starting there (reported, not asserted: a figure for the notes).
    let since_epoch = promoted_at
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    let first_after: Option<f64> = new_primary
        .query_one(
            "SELECT min(extract(epoch FROM applied_on::timestamptz))::float8 FROM sqlrail.schema_migrations \
             WHERE applied_on::timestamptz > to_timestamp($1)",
            &[&since_epoch],
        )
        .unwrap()
        .get(0);
    if let Some(first) = first_after {
        eprintln!(
            "failover downtime: {:.2} s from the promotion to the next migration",
            first - since_epoch
        );
    }
    for i in 1..=40 {
        assert!(
            table_exists(&mut new_primary, &format!("t{i}")),
            "t{i}: {out}"
        );
    }
    let valid: Option<bool> = new_primary
        .query_opt(
            "SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = 't40_v'",
            &[],
        )
        .unwrap()
        .map(|r| r.get(0));
    assert_eq!(valid, Some(true), "the index is built and valid: {out}");
    let wrong: i64 = new_primary
        .query_one("SELECT count(*) FROM items WHERE n <> 1", &[])
        .unwrap()
        .get(0);
    assert_eq!(wrong, 0, "every backfill row changed exactly once: {out}");
    assert!(lock_free(&mut new_primary), "the lease is released: {out}");
    let standby = format!("127.0.0.1:{}", pair.standby_port());
    assert!(
        run.stderr.contains(&standby),
        "the log names the host used after the failover ({standby}): {}",
        run.stderr
    );
}

#[test]
fn a_server_turned_read_only_mid_run_is_named_not_pinned_on_a_statement() {
    // The database turned read-only mid-run (`default_transaction_read_only`): the error
    // of sqlrail's own fence, on the retry's fresh connection, used to be reported at the
    // migration's `CREATE TABLE` ("failed at …sql:1:1"), exit 1.
    let pair = ReplicaPair::start();
    pair.psql_primary("CREATE DATABASE app");
    let project = project(RETRY, &tables(30, 0.3), &[], &[]);
    let url = format!(
        "postgres://postgres@127.0.0.1:{}/app?sslmode=disable",
        pair.primary_port()
    );
    let mut run = Background::apply(project.path(), &url);
    let mut admin = pair.client(pair.primary_port(), "postgres");
    wait_for_statement(
        &mut admin,
        "app",
        "%pg_sleep%",
        Duration::from_secs(20),
        &mut run,
    );
    std::thread::sleep(Duration::from_millis(1000));
    // New sessions are read-only; the runner's is cut, so its retry meets one.
    admin
        .batch_execute(
            "ALTER DATABASE app SET default_transaction_read_only = on; \
             SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = 'app' AND application_name = 'sqlrail'",
        )
        .unwrap();
    let run = run.wait(Duration::from_secs(60));
    let out = run.both();
    assert_eq!(run.code, Some(2), "{out}");
    assert!(
        out.contains("is read-only (default_transaction_read_only is on)"),
        "{out}"
    );
    assert!(!out.contains(".sql:"), "no statement is blamed: {out}");
    // What was recorded ran, and nothing else did.
    admin
        .batch_execute("ALTER DATABASE app RESET default_transaction_read_only")
        .unwrap();
    let mut app = pair.client(pair.primary_port(), "app");
    let recorded = versions(&mut app);
    assert!(
        !recorded.is_empty() && recorded.len() < 30,
        "{recorded:?}: {out}"
    );
    assert_eq!(recorded, one_to(recorded.len()), "{out}");
    for i in 1..=30 {
        assert_eq!(
            table_exists(&mut app, &format!("t{i}")),
            i <= recorded.len(),
            "t{i}: {out}"
        );
    }
}

#[test]
fn a_standby_given_by_mistake_is_a_configuration_error() {
    let pair = ReplicaPair::start();
    pair.psql_primary("CREATE DATABASE app");
    pair.wait_caught_up();
    let project = project(RETRY, &tables(2, 0.0), &[], &[]);
    let url = format!(
        "postgres://postgres@127.0.0.1:{}/app?sslmode=disable",
        pair.standby_port()
    );
    let run = apply(project.path(), &url);
    assert_eq!(run.code, Some(2), "{}", run.both());
    assert!(
        run.stderr.to_lowercase().contains("standby"),
        "the message says the server is a standby: {}",
        run.stderr
    );
    assert_eq!(
        pair.query(
            pair.primary_port(),
            "app",
            "SELECT to_regclass('sqlrail.schema_migrations') IS NULL AND to_regclass('t1') IS NULL"
        ),
        "t",
        "nothing was recorded or applied"
    );
}

// --- g, h: signals ---------------------------------------------------------------

#[test]
fn sigterm_during_ddl_releases_the_lock_and_the_next_run_starts_at_once() {
    let db = TestDb::new("topo_sigterm");
    let project = project(RETRY, &tables(30, 0.3), &[], &[]);
    let url = format!(
        "postgres://postgres@127.0.0.1:5432/{}?sslmode=disable",
        db.name
    );
    let mut run = Background::apply(project.path(), &url);
    let mut admin = db.client();
    wait_for_statement(
        &mut admin,
        &db.name,
        "%pg_sleep%",
        Duration::from_secs(20),
        &mut run,
    );
    std::thread::sleep(Duration::from_millis(1500));
    run.signal("TERM");
    let run = run.wait(Duration::from_secs(30));
    assert_eq!(run.code, Some(143), "{}", run.both());
    assert!(run.stderr.contains("SIGTERM"), "{}", run.stderr);

    // Nothing of the stopped run goes on on the server (a moment's grace for a cancelled
    // statement to end)…
    let deadline = Instant::now() + Duration::from_secs(2);
    let still_running = loop {
        let n: i64 = admin
            .query_one(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid() \
                 AND query LIKE '%pg_sleep%' AND state = 'active'",
                &[&db.name],
            )
            .unwrap()
            .get(0);
        if n == 0 || Instant::now() > deadline {
            break n;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(
        still_running, 0,
        "no statement of the stopped run goes on: {}",
        run.stderr
    );
    // …and what was recorded is a prefix of the sequence, exactly what is in the schema.
    let recorded = versions(&mut admin);
    assert_eq!(recorded, one_to(recorded.len()), "a prefix: {}", run.stderr);
    assert!(
        recorded.len() < 30,
        "stopped before the end: {}",
        run.stderr
    );
    for i in 1..=30 {
        assert_eq!(
            table_exists(&mut admin, &format!("t{i}")),
            i <= recorded.len(),
            "t{i}: a table exists exactly when its migration is recorded ({} recorded)",
            recorded.len()
        );
    }
    assert!(lock_free(&mut admin), "the lease is released");

    let next = apply(project.path(), &url);
    assert_eq!(next.code, Some(0), "{}", next.both());
    assert!(
        next.took < Duration::from_secs(15),
        "the next run took {:?}",
        next.took
    );
    assert!(
        !next.stderr.contains("waiting for the migration lock"),
        "{}",
        next.stderr
    );
    assert_eq!(versions(&mut admin), one_to(30));
}

#[test]
fn sigterm_during_a_backfill_finishes_the_batch_and_the_next_run_resumes() {
    let db = TestDb::new("topo_sigterm_backfill");
    let mut admin = db.client();
    admin
        .batch_execute(
            "CREATE TABLE items (id bigint PRIMARY KEY, n int NOT NULL DEFAULT 0); \
             INSERT INTO items (id) SELECT g FROM generate_series(1, 20000) g",
        )
        .unwrap();
    // A counter: a row changed twice (a batch applied again) or never shows.
    let project = project(
        RETRY,
        &[],
        &[],
        &[(
            "UPDATE items SET n = n + 1 WHERE id BETWEEN :lo AND :hi;\n".to_owned(),
            "table: items, batch_size: 500, sleep: 100ms".to_owned(),
        )],
    );
    let url = format!(
        "postgres://postgres@127.0.0.1:5432/{}?sslmode=disable",
        db.name
    );
    let run = Background::apply(project.path(), &url);
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let changed: i64 = admin
            .query_one("SELECT count(*) FROM items WHERE n > 0", &[])
            .unwrap()
            .get(0);
        if changed >= 1000 {
            break;
        }
        assert!(Instant::now() < deadline, "no batch ran: {}", run.stderr());
        std::thread::sleep(Duration::from_millis(20));
    }
    run.signal("TERM");
    let run = run.wait(Duration::from_secs(30));
    assert_eq!(run.code, Some(143), "{}", run.both());
    assert!(run.stderr.contains("stopped by SIGTERM"), "{}", run.stderr);
    assert!(
        lock_free(&mut admin),
        "the lease is released: {}",
        run.stderr
    );
    let (partly, twice): (i64, i64) = {
        let row = admin
            .query_one(
                "SELECT count(*) FILTER (WHERE n = 1), count(*) FILTER (WHERE n > 1) FROM items",
                &[],
            )
            .unwrap();
        (row.get(0), row.get(1))
    };
    assert!(
        partly > 0 && partly < 20000,
        "stopped part-way: {partly} rows"
    );
    assert_eq!(twice, 0);
    let next = apply(project.path(), &url);
    assert_eq!(next.code, Some(0), "{}", next.both());
    assert!(
        !next.stderr.contains("waiting for the migration lock"),
        "{}",
        next.stderr
    );
    let wrong: i64 = admin
        .query_one("SELECT count(*) FROM items WHERE n <> 1", &[])
        .unwrap()
        .get(0);
    assert_eq!(
        wrong, 0,
        "every row changed exactly once across the two runs"
    );
}

#[test]
fn sigint_during_an_index_build_cancels_it() {
    let db = TestDb::new("topo_sigint");
    let mut admin = db.client();
    admin
        .batch_execute(
            "CREATE TABLE big AS SELECT g::bigint AS id, md5(g::text) AS pad FROM generate_series(1, 2000000) g",
        )
        .unwrap();
    let project = project(
        RETRY,
        &tables(1, 0.0),
        &["CREATE INDEX CONCURRENTLY big_pad ON big (pad);\n".to_owned()],
        &[],
    );
    let url = format!(
        "postgres://postgres@127.0.0.1:5432/{}?sslmode=disable",
        db.name
    );
    let mut run = Background::apply(project.path(), &url);
    wait_for_statement(
        &mut admin,
        &db.name,
        "CREATE INDEX CONCURRENTLY%",
        Duration::from_secs(30),
        &mut run,
    );
    std::thread::sleep(Duration::from_millis(500));
    run.signal("INT");
    let run = run.wait(Duration::from_secs(30));
    assert_eq!(run.code, Some(130), "{}", run.both());

    // The build was cancelled and its invalid index dropped before the exit (a moment's
    // grace for the cancelled backend to finish).
    let deadline = Instant::now() + Duration::from_secs(2);
    let (building, invalid) = loop {
        let building: i64 = admin
            .query_one(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid() \
                 AND query ILIKE 'CREATE INDEX%' AND state = 'active'",
                &[&db.name],
            )
            .unwrap()
            .get(0);
        let invalid: i64 = admin
            .query_one("SELECT count(*) FROM pg_index WHERE NOT indisvalid", &[])
            .unwrap()
            .get(0);
        if (building == 0 && invalid == 0) || Instant::now() > deadline {
            break (building, invalid);
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(building, 0, "no CREATE INDEX still runs: {}", run.stderr);
    assert_eq!(invalid, 0, "no invalid index is left: {}", run.stderr);
    assert!(
        !table_exists(&mut admin, "big_pad"),
        "the build did not complete behind the runner's back"
    );
    assert!(lock_free(&mut admin), "the lease is released");
}

// --- replica-aware backfills ------------------------------------------------------------

#[test]
fn a_backfill_pauses_while_a_replica_lags_and_resumes_when_it_catches_up() {
    let pair = ReplicaPair::start();
    pair.psql_primary("CREATE DATABASE app");
    pair.query(
        pair.primary_port(),
        "app",
        "CREATE TABLE items (id bigint PRIMARY KEY, n int NOT NULL DEFAULT 0, pad text); \
         INSERT INTO items (id, pad) SELECT g, repeat('x', 100) FROM generate_series(1, 200000) g",
    );
    pair.wait_caught_up();
    // The standby stops replaying: every batch's WAL now adds to its lag.
    pair.pause_replay();
    let limit_bytes: u64 = 4 << 20;
    let project = project(
        RETRY,
        &[],
        &[],
        &[(
            "UPDATE items SET n = n + 1 WHERE id BETWEEN :lo AND :hi;\n".to_owned(),
            "table: items, batch_size: 5000, sleep: 0ms, max_replica_lag_bytes: 4MB".to_owned(),
        )],
    );
    let url = format!(
        "postgres://postgres@127.0.0.1:{}/app?sslmode=disable",
        pair.primary_port()
    );
    let run = Background::apply(project.path(), &url);
    // Wait for the pause to be announced, then look at how far behind the standby is.
    let deadline = Instant::now() + Duration::from_secs(60);
    while !run.stderr().contains("paused ") {
        assert!(
            Instant::now() < deadline,
            "no pause within 60 s:\n{}",
            run.stderr()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let behind: f64 = pair
        .query(
            pair.primary_port(),
            "postgres",
            "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn) FROM pg_stat_replication",
        )
        .trim()
        .parse()
        .unwrap();
    // A batch of 5,000 rows writes about 1.5 MB of WAL: over the limit by at most one.
    assert!(
        behind < (limit_bytes + (4 << 20)) as f64,
        "the lag overshot the limit by more than a batch: {behind} bytes"
    );
    let rows_while_paused = pair.query(
        pair.primary_port(),
        "app",
        "SELECT count(*) FROM items WHERE n = 1",
    );
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(
        pair.query(
            pair.primary_port(),
            "app",
            "SELECT count(*) FROM items WHERE n = 1"
        ),
        rows_while_paused,
        "no batch ran while paused"
    );
    pair.resume_replay();
    let run = run.wait(Duration::from_secs(120));
    let out = run.both();
    assert_eq!(run.code, Some(0), "{out}");
    assert!(
        out.contains("has")
            && out.contains("MiB of WAL to replay > 4.0 MiB (max_replica_lag_bytes)"),
        "the pause says why: {out}"
    );
    assert!(out.contains("resumed "), "{out}");
    assert_eq!(
        pair.query(
            pair.primary_port(),
            "app",
            "SELECT count(*) FROM items WHERE n <> 1"
        )
        .trim(),
        "0",
        "every row changed exactly once: {out}"
    );
}
