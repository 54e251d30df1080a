//! Fleets (`--targets`): one command over many databases, on real servers: the local one
//! and a second cluster this test starts. Every assertion reads the databases themselves
//! (ledger rows, tables), not only sqlrail's report.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::time::Duration;

use postgres::NoTls;
use support::cluster::{Cluster, PASSWORD};
use support::{TestDb, admin_url, ddl_project, example_project, sqlrail};

fn local_url(db: &TestDb) -> String {
    format!(
        "postgres://postgres@127.0.0.1:5432/{}?sslmode=disable",
        db.name
    )
}

/// A targets file: `(name, url)` listed, then the rollout lines given.
fn targets_file(dir: &std::path::Path, targets: &[(String, String)], rollout: &str) -> String {
    let mut text = String::from("targets:\n");
    for (name, url) in targets {
        text.push_str(&format!("  - name: {name}\n    url: \"{url}\"\n"));
    }
    text.push_str(rollout);
    let path = dir.join("targets.yaml");
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

/// The DDL versions recorded in the ledger of `conninfo`'s database, in order (empty with
/// no ledger), and how many rows it has.
fn recorded(conninfo: &str) -> (Vec<i32>, i64) {
    let mut client = postgres::Client::connect(conninfo, NoTls).unwrap();
    let exists: bool = client
        .query_one(
            "SELECT to_regclass('sqlrail.schema_migrations') IS NOT NULL",
            &[],
        )
        .unwrap()
        .get(0);
    if !exists {
        return (Vec::new(), 0);
    }
    let versions: Vec<i32> = client
        .query(
            "SELECT version FROM sqlrail.schema_migrations ORDER BY version",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    let rows = versions.len() as i64;
    (versions, rows)
}

/// The versions of the project's DDL files (`V12__x.sql`), in order.
fn ddl_ids(project: &std::path::Path) -> Vec<i32> {
    let mut versions: Vec<i32> = std::fs::read_dir(project.join("sql/ddl"))
        .unwrap()
        .map(|e| {
            let name = e.unwrap().file_name().into_string().unwrap();
            name[1..name.find("__").unwrap()].parse().unwrap()
        })
        .collect();
    versions.sort();
    versions
}

/// Samples, until stopped, the most databases with a `sqlrail` session at one moment
/// among those whose names start with `prefix`.
fn watch_sessions(
    prefix: String,
) -> (Arc<AtomicBool>, Arc<AtomicI64>, std::thread::JoinHandle<()>) {
    let stop = Arc::new(AtomicBool::new(false));
    let most = Arc::new(AtomicI64::new(0));
    let (s, m) = (stop.clone(), most.clone());
    let handle = std::thread::spawn(move || {
        let mut admin = postgres::Client::connect(&admin_url(), NoTls).unwrap();
        while !s.load(Ordering::SeqCst) {
            let n: i64 = admin
                .query_one(
                    "SELECT count(DISTINCT datname) FROM pg_stat_activity \
                     WHERE application_name = 'sqlrail' AND starts_with(datname, $1)",
                    &[&prefix],
                )
                .unwrap()
                .get(0);
            m.fetch_max(n, Ordering::SeqCst);
            std::thread::sleep(Duration::from_millis(10));
        }
    });
    (stop, most, handle)
}

#[test]
fn a_fleet_apply_brings_45_databases_on_two_servers_to_the_latest_version_and_a_rerun_is_a_no_op() {
    let project = example_project();
    let ids = ddl_ids(project.path());
    let local: Vec<TestDb> = (0..40).map(|_| TestDb::new("fleet")).collect();
    let cluster = Cluster::start();
    let remote: Vec<String> = (0..5).map(|i| format!("fleet_remote_{i}")).collect();
    for name in &remote {
        cluster.psql(&format!("CREATE DATABASE {name}"));
    }
    let mut targets: Vec<(String, String)> = local
        .iter()
        .enumerate()
        .map(|(i, db)| (format!("local-{i}"), local_url(db)))
        .collect();
    for (i, name) in remote.iter().enumerate() {
        targets.push((
            format!("remote-{i}"),
            cluster.url("127.0.0.1", name, "sslmode=require"),
        ));
    }
    let file = targets_file(
        project.path(),
        &targets,
        "rollout:\n  canary: [local-0]\n  concurrency: 4\n  on_failure: stop\n",
    );
    // Every test database's name starts with `sqlrail_t_fleet_<pid>`.
    let prefix = local[0].name.rsplitn(3, '_').nth(2).unwrap().to_owned();
    let (stop, most, watcher) = watch_sessions(prefix);
    let (code, _, stderr) = sqlrail(&["apply", "--targets", &file], project.path());
    stop.store(true, Ordering::SeqCst);
    watcher.join().unwrap();
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("45 target(s): 45 ok; exit 0"), "{stderr}");
    assert!(
        !stderr.contains(PASSWORD),
        "a password reached the output: {stderr}"
    );
    let most = most.load(Ordering::SeqCst);
    assert!(
        (2..=4).contains(&most),
        "at most 4 targets at once (and more than one, or nothing ran in parallel): {most}"
    );
    for db in &local {
        assert_eq!(recorded(&db.conninfo()).0, ids, "{}", db.name);
    }
    for name in &remote {
        assert_eq!(recorded(&cluster.socket_conninfo(name)).0, ids, "{name}");
    }
    // The same schema everywhere, as one run alone makes it.
    let first = support::schema_dump(&local[0]);
    assert_eq!(support::schema_dump(&local[39]), first);

    let (code, out, stderr) = sqlrail(
        &["apply", "--targets", &file, "--format", "json"],
        project.path(),
    );
    assert_eq!(code, 0, "{stderr}");
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    let runs = report["targets"].as_array().unwrap();
    assert_eq!(runs.len(), 45);
    for run in runs {
        assert_eq!(run["result"], "ok", "{run}");
        assert_eq!(run["report"]["summary"]["applied"], 0, "{run}");
        assert_eq!(run["report"]["summary"]["indexes_built"], 0, "{run}");
    }
    assert!(!out.contains(PASSWORD));

    let (code, out, stderr) = sqlrail(
        &["status", "--targets", &file, "--format", "json"],
        project.path(),
    );
    assert_eq!(code, 0, "{stderr}");
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    for run in report["targets"].as_array().unwrap() {
        let summary = run["summary"].as_str().unwrap();
        assert!(
            summary.starts_with(&format!("at ddl/V{}__", ids.last().unwrap()))
                && summary.ends_with(", pending: 0 ddl, 0 indexes, 0 backfills"),
            "{summary}"
        );
    }
}

/// Six healthy targets, one unreachable, one whose third migration fails, one whose lock
/// another runner holds.
struct Troubled {
    project: tempfile::TempDir,
    healthy: Vec<TestDb>,
    failing: TestDb,
    locked: TestDb,
    order: Vec<(String, String)>,
}

fn troubled() -> Troubled {
    let project = ddl_project(&[
        ("a", "CREATE TABLE a (x int);\n", None),
        ("b", "CREATE TABLE b (x int);\n", None),
        ("c", "CREATE TABLE c (x int);\n", None),
        ("d", "CREATE TABLE d (x int);\n", None),
    ]);
    support::short_connect_deadline(project.path());
    let healthy: Vec<TestDb> = (0..6).map(|_| TestDb::new("fleet_ok")).collect();
    let failing = TestDb::new("fleet_fail");
    // Two migrations in, then someone made `c` by hand: the third fails there.
    let (code, _, stderr) = sqlrail(
        &["apply", "--to", "2", "--database-url", &local_url(&failing)],
        project.path(),
    );
    assert_eq!(code, 0, "{stderr}");
    failing
        .client()
        .batch_execute("CREATE TABLE c (y text)")
        .unwrap();
    let locked = TestDb::new("fleet_lock");
    locked
        .client()
        .batch_execute(
            "CREATE SCHEMA sqlrail; CREATE TABLE sqlrail.sqlrail_lock (id int PRIMARY KEY CHECK (id = 1), holder text, token bigint NOT NULL, \
             acquired_at timestamptz NOT NULL, heartbeat_at timestamptz NOT NULL); \
             INSERT INTO sqlrail.sqlrail_lock VALUES (1, 'deploy-7 on web-3', 41, now(), now())",
        )
        .unwrap();
    let closed_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut order: Vec<(String, String)> = Vec::new();
    order.push(("ok-0".into(), local_url(&healthy[0])));
    order.push(("fails".into(), local_url(&failing)));
    order.push(("ok-1".into(), local_url(&healthy[1])));
    order.push((
        "unreachable".into(),
        format!("postgres://postgres@127.0.0.1:{closed_port}/x?sslmode=disable"),
    ));
    order.push(("ok-2".into(), local_url(&healthy[2])));
    order.push(("locked".into(), local_url(&locked)));
    for (i, db) in healthy.iter().enumerate().skip(3) {
        order.push((format!("ok-{i}"), local_url(db)));
    }
    Troubled {
        project,
        healthy,
        failing,
        locked,
        order,
    }
}

#[test]
fn on_failure_continue_finishes_every_other_target_and_names_the_three_that_did_not() {
    let t = troubled();
    let ids = ddl_ids(t.project.path());
    let file = targets_file(
        t.project.path(),
        &t.order,
        "rollout:\n  concurrency: 3\n  on_failure: continue\n",
    );
    let (code, out, stderr) = sqlrail(
        &[
            "apply",
            "--targets",
            &file,
            "--lock-wait",
            "1s",
            "--format",
            "json",
        ],
        t.project.path(),
    );
    assert_eq!(code, 1, "{out}{stderr}");
    for db in &t.healthy {
        assert_eq!(recorded(&db.conninfo()).0, ids, "{}", db.name);
    }
    assert_eq!(recorded(&t.failing.conninfo()).0, ids[..2]);
    assert!(recorded(&t.locked.conninfo()).0.is_empty());
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    let result = |name: &str| {
        report["targets"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == name)
            .unwrap()
            .clone()
    };
    let fails = result("fails");
    assert_eq!(fails["result"], "failed", "{fails}");
    assert!(
        fails["reason"].as_str().unwrap().contains("V3__c")
            && fails["reason"].as_str().unwrap().contains("already exists"),
        "{fails}"
    );
    let unreachable = result("unreachable");
    assert_eq!(unreachable["result"], "error", "{unreachable}");
    assert!(
        unreachable["reason"]
            .as_str()
            .unwrap()
            .contains("cannot connect"),
        "{unreachable}"
    );
    let locked = result("locked");
    assert_eq!(locked["result"], "locked", "{locked}");
    assert!(
        locked["reason"]
            .as_str()
            .unwrap()
            .contains("held by deploy-7 on web-3"),
        "{locked}"
    );
    assert_eq!(report["summary"]["ok"], 6);
    assert_eq!(report["summary"]["exit_code"], 1);
}

#[test]
fn on_failure_stop_starts_nothing_after_a_failure_and_a_failed_canary_stops_everything() {
    let t = troubled();
    let ids = ddl_ids(t.project.path());
    // One at a time: `ok-0` runs, `fails` fails, nothing after it starts.
    let file = targets_file(
        t.project.path(),
        &t.order,
        "rollout:\n  concurrency: 1\n  on_failure: stop\n",
    );
    let (code, _, stderr) = sqlrail(&["apply", "--targets", &file], t.project.path());
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("fails: failed"), "{stderr}");
    assert!(
        stderr.contains("ok-1: not-started (0.0s): on_failure: stop, after fails ended failed"),
        "{stderr}"
    );
    assert_eq!(recorded(&t.healthy[0].conninfo()).0, ids);
    for db in &t.healthy[1..] {
        assert!(
            recorded(&db.conninfo()).0.is_empty(),
            "{} was started",
            db.name
        );
    }

    // The failing target as the canary: it runs alone and first, and nothing else starts,
    // even with on_failure: continue.
    let file = targets_file(
        t.project.path(),
        &t.order,
        "rollout:\n  canary: [fails]\n  concurrency: 4\n  on_failure: continue\n",
    );
    let (code, _, stderr) = sqlrail(&["apply", "--targets", &file], t.project.path());
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("the canary fails did not succeed"),
        "{stderr}"
    );
    assert!(
        stderr.contains("9 target(s): 1 failed, 8 not-started; exit 1"),
        "{stderr}"
    );
    for db in &t.healthy[1..] {
        assert!(
            recorded(&db.conninfo()).0.is_empty(),
            "{} was started",
            db.name
        );
    }
}

#[test]
fn a_fleet_killed_mid_rollout_is_finished_by_the_next_run_with_each_migration_recorded_once() {
    let project = example_project();
    let ids = ddl_ids(project.path());
    let dbs: Vec<TestDb> = (0..12).map(|_| TestDb::new("fleet_kill")).collect();
    let targets: Vec<(String, String)> = dbs
        .iter()
        .enumerate()
        .map(|(i, db)| (format!("t{i}"), local_url(db)))
        .collect();
    let file = targets_file(project.path(), &targets, "rollout:\n  concurrency: 2\n");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_sqlrail"))
        .args(["apply", "--targets", &file])
        .current_dir(project.path())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Wait until some target has its first migrations recorded, then kill the fleet.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while recorded(&dbs[0].conninfo()).0.is_empty() {
        assert!(std::time::Instant::now() < deadline, "nothing was applied");
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let untouched = dbs
        .iter()
        .filter(|db| recorded(&db.conninfo()).0.is_empty())
        .count();
    assert!(untouched > 0, "the kill came after the whole rollout");

    let (code, _, stderr) = sqlrail(&["apply", "--targets", &file], project.path());
    assert_eq!(code, 0, "{stderr}");
    for db in &dbs {
        // The ledger's key is the version: a second row for one migration cannot exist,
        // so "once" is every version there and nothing else.
        let (versions, rows) = recorded(&db.conninfo());
        assert_eq!(versions, ids, "{}", db.name);
        assert_eq!(rows, ids.len() as i64, "{}", db.name);
    }
}

#[test]
fn discover_reads_the_targets_from_a_directory_table() {
    let project = ddl_project(&[("a", "CREATE TABLE a (x int);\n", None)]);
    let directory = TestDb::new("fleet_dir");
    let tenants: Vec<TestDb> = (0..3).map(|_| TestDb::new("fleet_tenant")).collect();
    let mut client = directory.client();
    client
        .batch_execute("CREATE TABLE tenants (name text, url text, active bool)")
        .unwrap();
    for (i, db) in tenants.iter().enumerate() {
        client
            .execute(
                "INSERT INTO tenants VALUES ($1, $2, true)",
                &[&format!("tenant-{i}"), &local_url(db)],
            )
            .unwrap();
    }
    client
        .execute(
            "INSERT INTO tenants VALUES ('retired', 'postgres://nowhere.invalid/x', false)",
            &[],
        )
        .unwrap();
    std::fs::write(
        project.path().join("targets.yaml"),
        format!(
            "discover:\n  url: \"{}\"\n  sql: SELECT name, url FROM tenants WHERE active ORDER BY name\n",
            local_url(&directory)
        ),
    )
    .unwrap();
    let (code, _, stderr) = sqlrail(&["apply", "--targets", "targets.yaml"], project.path());
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("3 target(s): 3 ok; exit 0"), "{stderr}");
    for db in &tenants {
        assert_eq!(recorded(&db.conninfo()).0, vec![1]);
    }
    assert!(recorded(&directory.conninfo()).0.is_empty());

    // A mistake in the file: exit 2, nothing run.
    std::fs::write(
        project.path().join("bad.yaml"),
        "targets:\n  - name: x\n    url_env: SQLRAIL_TEST_UNSET_VARIABLE\n",
    )
    .unwrap();
    let (code, _, stderr) = sqlrail(&["apply", "--targets", "bad.yaml"], project.path());
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("bad.yaml:2: target x: url_env SQLRAIL_TEST_UNSET_VARIABLE is not set"),
        "{stderr}"
    );
}
