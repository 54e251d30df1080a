//! The index and backfill phases against the real server: interrupted and failed index
//! builds recovered, backfills killed (the process, the connection) and resumed with
//! every row updated exactly once (a counter shows a double update), rows held by another
//! session filled by a later pass, per-tenant runs, max_runtime, priority order.

mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use support::proxy::Proxy;
use support::{TestDb, sqlrail};

fn url(db: &TestDb, port: u16) -> String {
    format!(
        "postgres://postgres@127.0.0.1:{port}/{}?sslmode=disable",
        db.name
    )
}

/// A project: DDL files, index files and backfills `(name, sql, settings yaml)`, with fast
/// retries so fault tests do not wait long.
fn project(
    ddl: &[&str],
    indexes: &[&str],
    backfills: &[(&str, &str, &str)],
    backfill_defaults: &str,
) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let mut manifest = format!(
        "settings:\n  retry: {{ attempts: 10, initial_backoff: 50ms, max_backoff: 200ms, connect_timeout: 5s }}\n  backfills: {{ {backfill_defaults} }}\nmigrations:\n"
    );
    for phase in ["ddl", "indexes", "backfills"] {
        std::fs::create_dir_all(dir.path().join("sql").join(phase)).unwrap();
    }
    for (n, sql) in ddl.iter().enumerate() {
        let id = format!("V{}__ddl_{}", n + 1, n + 1);
        std::fs::write(dir.path().join(format!("sql/ddl/{id}.sql")), sql).unwrap();
        manifest.push_str(&format!("  - id: ddl/{id}\n"));
    }
    for (n, sql) in indexes.iter().enumerate() {
        let id = format!("V{}__index_{}", n + 1, n + 1);
        std::fs::write(dir.path().join(format!("sql/indexes/{id}.sql")), sql).unwrap();
        manifest.push_str(&format!("  - id: indexes/{id}\n"));
    }
    for (n, (name, sql, settings)) in backfills.iter().enumerate() {
        let id = format!("V{}__{name}", n + 1);
        std::fs::write(dir.path().join(format!("sql/backfills/{id}.sql")), sql).unwrap();
        manifest.push_str(&format!(
            "  - id: backfills/{id}\n    backfill: {{ {settings} }}\n"
        ));
    }
    std::fs::write(dir.path().join("manifest.yaml"), manifest).unwrap();
    dir
}

fn apply(dir: &Path, url: &str, extra: &[&str]) -> (i32, String) {
    let mut args = vec!["apply", "--database-url", url];
    args.extend_from_slice(extra);
    let (code, _, stderr) = sqlrail(&args, dir);
    (code, stderr)
}

fn query_i64(db: &TestDb, sql: &str) -> i64 {
    db.client().query_one(sql, &[]).unwrap().get(0)
}

fn index_valid(db: &TestDb, name: &str) -> Option<bool> {
    db.client()
        .query_opt(
            "SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = $1",
            &[&name],
        )
        .unwrap()
        .map(|r| r.get(0))
}

const ITEMS: &str = "CREATE TABLE items (id bigint PRIMARY KEY, tenant_id int NOT NULL, code int, n int NOT NULL DEFAULT 0, done boolean NOT NULL DEFAULT false);\n";

fn fill(db: &TestDb, rows: i64, tenants: i64) {
    db.client()
        .batch_execute(&format!(
            "INSERT INTO items (id, tenant_id, code) SELECT g, g % {tenants}, g FROM generate_series(1, {rows}) g"
        ))
        .unwrap();
}

/// Every row's counter: (rows with n = 1, rows with n <> 1).
fn counters(db: &TestDb) -> (i64, i64) {
    let row = db
        .client()
        .query_one(
            "SELECT count(*) FILTER (WHERE n = 1), count(*) FILTER (WHERE n <> 1) FROM items",
            &[],
        )
        .unwrap();
    (row.get(0), row.get(1))
}

/// The counter statement: no idempotence predicate, so a batch applied twice shows as
/// n = 2 and a batch skipped as n = 0.
const COUNTER: &str = "UPDATE items SET n = n + 1 WHERE id BETWEEN :lo AND :hi;\n";

#[test]
fn a_unique_index_over_duplicates_warns_and_is_built_once_they_are_removed() {
    let db = TestDb::new("ix_dup");
    let dir = project(
        &[ITEMS],
        &[
            "CREATE UNIQUE INDEX CONCURRENTLY items_code_key ON items (code);\n",
            "CREATE INDEX CONCURRENTLY items_tenant ON items (tenant_id);\n",
        ],
        &[],
        "",
    );
    let url = url(&db, 5432);
    assert_eq!(apply(dir.path(), &url, &["--phase", "ddl"]).0, 0);
    fill(&db, 1000, 10);
    db.client()
        .batch_execute("UPDATE items SET code = 7 WHERE id IN (8, 9)")
        .unwrap();
    let (code, stderr) = apply(dir.path(), &url, &[]);
    assert_eq!(code, 0, "an index failure is a warning: {stderr}");
    assert!(
        stderr.contains("warning: index build failed")
            && stderr.contains("V1__index_1.sql")
            && stderr.contains("could not create unique index \"items_code_key\""),
        "{stderr}"
    );
    assert!(
        stderr.contains("dropped the invalid index public.items_code_key"),
        "{stderr}"
    );
    assert_eq!(
        index_valid(&db, "items_code_key"),
        None,
        "no invalid leftover"
    );
    assert_eq!(
        index_valid(&db, "items_tenant"),
        Some(true),
        "the phase went on"
    );
    assert!(
        stderr.contains("indexes: 1 built, 0 reconciled, 1 failed"),
        "{stderr}"
    );
    assert_eq!(
        apply(dir.path(), &url, &["--strict"]).0,
        1,
        "--strict makes it an error"
    );

    db.client()
        .batch_execute("UPDATE items SET code = id WHERE id IN (8, 9)")
        .unwrap();
    let (code, stderr) = apply(dir.path(), &url, &["--phase", "indexes", "--strict"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(index_valid(&db, "items_code_key"), Some(true));
    assert!(stderr.contains("indexes: 1 built"), "{stderr}");
    let state: String = db
        .client()
        .query_one(
            "SELECT state || '/' || attempts FROM sqlrail.sqlrail_index_builds WHERE id = 'indexes/V1__index_1'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(state, "valid/3", "start and end recorded for each attempt");
}

#[test]
fn an_invalid_index_left_by_an_interrupted_build_is_dropped_and_rebuilt() {
    let db = TestDb::new("ix_invalid");
    let dir = project(
        &[ITEMS],
        &["CREATE INDEX CONCURRENTLY items_code ON items (code);\n"],
        &[],
        "",
    );
    let url = url(&db, 5432);
    assert_eq!(apply(dir.path(), &url, &["--phase", "ddl"]).0, 0);
    fill(&db, 1000, 10);
    // An interrupted build leaves exactly this: the index in the catalog, not valid.
    db.client()
        .batch_execute(
            "CREATE INDEX items_code ON items (code); UPDATE pg_index SET indisvalid = false WHERE indexrelid = 'items_code'::regclass",
        )
        .unwrap();
    let (code, stderr) = apply(dir.path(), &url, &[]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("dropping the invalid index public.items_code"),
        "{stderr}"
    );
    assert_eq!(index_valid(&db, "items_code"), Some(true));

    // A valid index found in place is recorded, not built again.
    let db2 = TestDb::new("ix_valid");
    let url2 = url_for(&db2);
    assert_eq!(apply(dir.path(), &url2, &["--phase", "ddl"]).0, 0);
    db2.client()
        .batch_execute("CREATE INDEX items_code ON items (code)")
        .unwrap();
    let (code, stderr) = apply(dir.path(), &url2, &[]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("indexes: 0 built, 1 reconciled"),
        "{stderr}"
    );
}

fn url_for(db: &TestDb) -> String {
    url(db, 5432)
}

#[test]
fn an_index_build_whose_backend_is_terminated_is_rebuilt_in_the_same_run() {
    let db = TestDb::new("ix_kill");
    let dir = project(
        &[ITEMS],
        &["CREATE INDEX CONCURRENTLY items_slow ON items (code, (md5(id::text)));\n"],
        &[],
        "",
    );
    let url = url(&db, 5432);
    assert_eq!(apply(dir.path(), &url, &["--phase", "ddl"]).0, 0);
    fill(&db, 400_000, 10);
    let name = db.name.clone();
    let killer = std::thread::spawn(move || {
        let mut admin = postgres::Client::connect(&support::admin_url(), postgres::NoTls).unwrap();
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(30) {
            let n: i64 = admin
                .query_one(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity \
                     WHERE datname = $1 AND backend_type = 'client backend' AND query LIKE 'CREATE INDEX CONCURRENTLY%' AND state = 'active'",
                    &[&name],
                )
                .unwrap()
                .get(0);
            if n > 0 {
                return n;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        0
    });
    let (code, stderr) = apply(dir.path(), &url, &[]);
    assert_eq!(killer.join().unwrap(), 1, "the build was terminated once");
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("after connection loss"), "{stderr}");
    assert_eq!(index_valid(&db, "items_slow"), Some(true), "{stderr}");
    assert!(stderr.contains("indexes: 1 built"), "{stderr}");
}

#[test]
fn a_waiting_build_says_on_what_and_keeps_its_own_lock_timeout() {
    let db = TestDb::new("ix_wait");
    let dir = project(
        &[ITEMS],
        &["CREATE INDEX CONCURRENTLY items_code ON items (code);\n"],
        &[],
        "",
    );
    let url = url(&db, 5432);
    assert_eq!(apply(dir.path(), &url, &["--phase", "ddl"]).0, 0);
    fill(&db, 1000, 10);
    // A database default a build must not inherit: it would cancel the build's wait for
    // older transactions and leave an invalid index.
    db.client()
        .batch_execute(&format!(
            "ALTER DATABASE \"{}\" SET lock_timeout = '1s'",
            db.name
        ))
        .unwrap();
    let mut holder = db.client();
    let mut snapshot = holder
        .build_transaction()
        .isolation_level(postgres::IsolationLevel::RepeatableRead)
        .start()
        .unwrap();
    snapshot
        .query_one("SELECT count(*) FROM items", &[])
        .unwrap();
    let holder_pid: i32 = snapshot
        .query_one("SELECT pg_backend_pid()", &[])
        .unwrap()
        .get(0);
    let (dir_path, url2) = (dir.path().to_owned(), url.clone());
    let run = std::thread::spawn(move || apply(&dir_path, &url2, &["--phase", "indexes"]));
    std::thread::sleep(Duration::from_millis(6500));
    snapshot.commit().unwrap();
    let (code, stderr) = run.join().unwrap();
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("indexes/V1__index_1: building: waiting for old snapshots")
            && stderr.contains(&format!("waiting on pid {holder_pid}")),
        "{stderr}"
    );
    assert_eq!(index_valid(&db, "items_code"), Some(true), "{stderr}");
}

#[test]
fn a_backfill_updates_every_row_once_through_cut_connections() {
    let db = TestDb::new("bf_cut");
    let dir = project(
        &[ITEMS],
        &[],
        &[("count", COUNTER, "table: items, key: id, batch_size: 100")],
        "sleep: 5ms",
    );
    assert_eq!(apply(dir.path(), &url(&db, 5432), &["--phase", "ddl"]).0, 0);
    fill(&db, 20_000, 10);
    let proxy = Proxy::start("127.0.0.1:5432".parse().unwrap());
    // Cut right after a batch's COMMIT is sent (its answer is lost), and at random.
    proxy.cut_when_client_sends("; COMMIT;", true, 3);
    let cutter = {
        let proxy = proxy.clone();
        std::thread::spawn(move || {
            for _ in 0..3 {
                std::thread::sleep(Duration::from_millis(300));
                proxy.cut_all();
            }
        })
    };
    let (code, stderr) = apply(dir.path(), &url(&db, proxy.port), &[]);
    cutter.join().unwrap();
    assert_eq!(code, 0, "{stderr}");
    assert!(proxy.cuts() >= 4, "cuts: {}", proxy.cuts());
    assert!(stderr.contains("after connection loss"), "{stderr}");
    assert_eq!(counters(&db), (20_000, 0), "{stderr}");
}

#[test]
fn a_backfill_killed_with_sigkill_resumes_at_its_cursor() {
    let db = TestDb::new("bf_kill");
    let dir = project(
        &[ITEMS],
        &[],
        &[("count", COUNTER, "table: items, key: id, batch_size: 50")],
        "sleep: 10ms",
    );
    let url = url(&db, 5432);
    assert_eq!(apply(dir.path(), &url, &["--phase", "ddl"]).0, 0);
    fill(&db, 10_000, 10);
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_sqlrail"))
        .args(["apply", "--database-url", &url])
        .current_dir(dir.path())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    loop {
        let batches = db
            .client()
            .query_opt("SELECT batches FROM sqlrail.sqlrail_backfills", &[])
            .ok()
            .flatten()
            .map_or(0, |r| r.get::<_, i64>(0));
        if batches >= 20 {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "no progress");
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let (done, _) = counters(&db);
    assert!(
        done > 0 && done < 10_000,
        "killed mid-run: {done} rows done"
    );
    // The killed runner's lease goes stale; the next run takes it over and resumes.
    let (code, stderr) = apply(dir.path(), &url, &[]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(counters(&db), (10_000, 0), "{stderr}");
}

#[test]
fn rows_held_by_another_session_are_filled_by_a_later_pass() {
    let db = TestDb::new("bf_locked");
    let statement = "UPDATE items SET n = n + 1, done = true WHERE id IN (\n  SELECT id FROM items WHERE id BETWEEN :lo AND :hi AND NOT done\n  FOR NO KEY UPDATE SKIP LOCKED);\n";
    let dir = project(
        &[ITEMS],
        &[],
        &[("skip", statement, "table: items, key: id, batch_size: 100")],
        "sleep: 0ms, max_passes: 5",
    );
    let url = url(&db, 5432);
    assert_eq!(apply(dir.path(), &url, &["--phase", "ddl"]).0, 0);
    fill(&db, 2_000, 10);
    let mut holder = db.client();
    let mut tx = holder.transaction().unwrap();
    tx.batch_execute("SELECT 1 FROM items WHERE id BETWEEN 510 AND 559 FOR UPDATE")
        .unwrap();
    let dir_path = dir.path().to_owned();
    let url2 = url.clone();
    let run = std::thread::spawn(move || apply(&dir_path, &url2, &[]));
    // Hold the rows until the first pass is over, then let go.
    let watcher = db.client();
    let mut watcher = watcher;
    let started = Instant::now();
    loop {
        let over = watcher
            .query_opt(
                "SELECT cursor > high_water FROM sqlrail.sqlrail_backfills",
                &[],
            )
            .ok()
            .flatten()
            .is_some_and(|r| r.get::<_, bool>(0));
        if over {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the pass did not end"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    tx.commit().unwrap();
    let (code, stderr) = run.join().unwrap();
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("re-check pass 1/5: 50 row(s) in 1 range(s) were held by other sessions"),
        "{stderr}"
    );
    assert_eq!(counters(&db), (2_000, 0), "{stderr}");
    assert!(stderr.contains("backfills: 1 done"), "{stderr}");
}

#[test]
fn per_tenant_backfills_walk_each_tenants_keys() {
    let db = TestDb::new("bf_tenant");
    let statement =
        "UPDATE items SET n = n + 1 WHERE tenant_id = :tenant_id AND id BETWEEN :lo AND :hi;\n";
    let dir = project(
        &[ITEMS],
        &[],
        &[(
            "per_tenant",
            statement,
            "table: items, key: id, batch_size: 100, tenants: \"SELECT DISTINCT tenant_id FROM items ORDER BY 1\", tenant_column: tenant_id",
        )],
        "sleep: 0ms",
    );
    let url = url(&db, 5432);
    assert_eq!(apply(dir.path(), &url, &["--phase", "ddl"]).0, 0);
    fill(&db, 3_000, 3);
    let (code, stderr) = apply(dir.path(), &url, &["--phase", "backfills"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(counters(&db), (3_000, 0), "{stderr}");
    for tenant in 0..3 {
        assert!(
            stderr.contains(&format!("(tenant {tenant}): 1000 rows in 10 batches")),
            "{stderr}"
        );
        // Without a terminal: a progress line every 10 batches.
        assert!(
            stderr.contains(&format!(
                "backfills/V1__per_tenant (tenant {tenant}): 10 batches, 1000 rows"
            )),
            "{stderr}"
        );
    }
    assert_eq!(
        query_i64(
            &db,
            "SELECT count(*) FROM sqlrail.sqlrail_backfills WHERE state = 'done'"
        ),
        3
    );
}

#[test]
fn max_runtime_stops_cleanly_and_the_next_run_resumes() {
    let db = TestDb::new("bf_runtime");
    let dir = project(
        &[ITEMS],
        &[],
        &[(
            "count",
            COUNTER,
            "table: items, key: id, batch_size: 100, sleep: 20ms, max_runtime: 300ms",
        )],
        "",
    );
    let url = url(&db, 5432);
    assert_eq!(apply(dir.path(), &url, &["--phase", "ddl"]).0, 0);
    fill(&db, 20_000, 10);
    let (code, stderr) = apply(dir.path(), &url, &[]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("max_runtime reached at key"), "{stderr}");
    assert!(stderr.contains("backfills: 0 done, 1 stopped"), "{stderr}");
    let (done, _) = counters(&db);
    assert!(done > 0 && done < 20_000, "{done}");
    let (code, stdout, _) = sqlrail(
        &["status", "--format", "json", "--database-url", &url],
        dir.path(),
    );
    assert_eq!(code, 0);
    let status: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let backfill = &status["backfills"][0];
    assert_eq!(backfill["state"], "running", "{stdout}");
    assert_eq!(backfill["rows"].as_i64(), Some(done), "{stdout}");
    assert_eq!(backfill["high_water"].as_i64(), Some(20_000), "{stdout}");
    let mut runs = 1;
    while counters(&db).0 < 20_000 {
        assert_eq!(apply(dir.path(), &url, &[]).0, 0);
        runs += 1;
        assert!(runs < 100, "no progress");
    }
    assert_eq!(counters(&db), (20_000, 0));
    let (code, stderr) = apply(dir.path(), &url, &[]);
    assert_eq!(code, 0);
    assert!(
        stderr.contains("backfills: 0 done, 0 stopped"),
        "finished: {stderr}"
    );
}

#[test]
fn backfills_run_by_priority_and_paused_ones_wait() {
    let db = TestDb::new("bf_priority");
    let dir = project(
        &[ITEMS],
        &[],
        &[
            (
                "low",
                "UPDATE items SET code = 1 WHERE id BETWEEN :lo AND :hi;\n",
                "table: items, key: id, priority: low",
            ),
            (
                "high",
                "UPDATE items SET code = 2 WHERE id BETWEEN :lo AND :hi;\n",
                "table: items, key: id, priority: high",
            ),
            (
                "paused",
                "UPDATE items SET code = 3 WHERE id BETWEEN :lo AND :hi;\n",
                "table: items, key: id, status: paused",
            ),
        ],
        "sleep: 0ms",
    );
    let url = url(&db, 5432);
    assert_eq!(apply(dir.path(), &url, &["--phase", "ddl"]).0, 0);
    fill(&db, 500, 10);
    let (code, stderr) = apply(dir.path(), &url, &[]);
    assert_eq!(code, 0, "{stderr}");
    let high = stderr.find("backfills/V2__high:").expect("high ran");
    let low = stderr.find("backfills/V1__low:").expect("low ran");
    assert!(high < low, "high priority first: {stderr}");
    assert!(
        stderr.contains("paused           backfills/V3__paused"),
        "{stderr}"
    );
    assert_eq!(
        query_i64(&db, "SELECT count(*) FROM items WHERE code = 1"),
        500
    );
}

#[test]
fn a_failing_backfill_warns_and_the_next_run_resumes() {
    let db = TestDb::new("bf_fail");
    let statement = "UPDATE items SET n = n + 1 / (CASE WHEN id = 250 AND NOT done THEN 0 ELSE 1 END) WHERE id BETWEEN :lo AND :hi;\n";
    let dir = project(
        &[ITEMS],
        &[],
        &[("fails", statement, "table: items, key: id, batch_size: 100")],
        "sleep: 0ms",
    );
    let url = url(&db, 5432);
    assert_eq!(apply(dir.path(), &url, &["--phase", "ddl"]).0, 0);
    fill(&db, 500, 10);
    let (code, stderr) = apply(dir.path(), &url, &[]);
    assert_eq!(code, 0, "a failing backfill is a warning: {stderr}");
    assert!(
        stderr.contains("warning: backfill backfills/V1__fails failed after 200 rows in 2 batches")
            && stderr.contains("division by zero"),
        "{stderr}"
    );
    assert_eq!(apply(dir.path(), &url, &["--strict"]).0, 1);
    db.client()
        .batch_execute("UPDATE items SET done = true WHERE id = 250")
        .unwrap();
    let (code, stderr) = apply(dir.path(), &url, &[]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(counters(&db), (500, 0), "resumed at its cursor: {stderr}");
}

#[test]
fn apply_reports_batch_durations_in_text_and_json() {
    let db = TestDb::new("bf_durations");
    // Every batch sleeps 30 ms inside its transaction, so the reported durations have a
    // known floor; a unit slip (seconds, microseconds) or an empty set fails the test.
    let statement = "WITH pause AS (SELECT pg_sleep(0.03))\nUPDATE items SET n = n + 1 FROM pause WHERE id BETWEEN :lo AND :hi;\n";
    let dir = project(
        &[ITEMS],
        &[],
        &[("slow", statement, "table: items, key: id, batch_size: 100")],
        "sleep: 0ms",
    );
    let url = url(&db, 5432);
    assert_eq!(apply(dir.path(), &url, &["--phase", "ddl"]).0, 0);
    fill(&db, 1_000, 10);
    let mut args = vec!["apply", "--format", "json", "--database-url", &url];
    args.extend_from_slice(&["--phase", "backfills"]);
    let (code, stdout, stderr) = sqlrail(&args, dir.path());
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("; batch p50 "), "{stderr}");
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let stats = &report["summary"]["backfill_batches"];
    let batches = query_i64(&db, "SELECT batches FROM sqlrail.sqlrail_backfills");
    assert_eq!(stats["batches"].as_i64(), Some(batches), "{stdout}");
    assert_eq!(
        report["backfills"][0]["batch_durations"], *stats,
        "{stdout}"
    );
    let ms = |field: &str| stats[field].as_f64().unwrap();
    assert!(ms("p50_ms") >= 30.0, "{stdout}");
    assert!(
        ms("p50_ms") <= ms("p99_ms") && ms("p99_ms") <= ms("max_ms"),
        "{stdout}"
    );
    assert!(ms("max_ms") < 5_000.0, "{stdout}");
    assert_eq!(counters(&db), (1_000, 0));
}
