//! `sqlrail apply` (DDL phase), `plan`, `status` and `verify` against the real local
//! PostgreSQL: fresh databases, reconciliation, failures, drift, concurrent runners, the
//! migration lock, and connections cut at chosen moments by a proxy or killed by
//! `pg_terminate_backend`. Each test uses its own database.

mod support;

use std::path::Path;
use std::time::Duration;

use support::pgbouncer::PgBouncer;
use support::proxy::Proxy;
use support::{TestDb, ddl_project, repo_root, schema_dump, short_connect_deadline, sqlrail};

fn url(db: &TestDb, port: u16) -> String {
    format!(
        "postgres://postgres@127.0.0.1:{port}/{}?sslmode=disable",
        db.name
    )
}

fn apply(dir: &Path, url: &str) -> (i32, String, String) {
    sqlrail(&["apply", "--database-url", url, "--format", "json"], dir)
}

fn ledger(db: &TestDb) -> Vec<(i32, bool)> {
    db.client()
        .query(
            "SELECT version, reconciled FROM sqlrail.schema_migrations ORDER BY version",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect()
}

fn count(json: &str, result: &str) -> usize {
    let v: serde_json::Value = serde_json::from_str(json).unwrap_or_else(|e| panic!("{e}: {json}"));
    v["migrations"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["result"] == result)
        .count()
}

#[test]
fn the_example_project_applies_and_a_second_apply_does_nothing() {
    let db = TestDb::new("example");
    let (code, stdout, stderr) = apply(repo_root(), &url(&db, 5432));
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.starts_with("Using postgres@127.0.0.1:5432/"),
        "{stderr}"
    );
    assert_eq!(count(&stdout, "applied"), 35);
    assert_eq!(ledger(&db).len(), 35);
    let summary = |json: &str| -> serde_json::Value {
        serde_json::from_str::<serde_json::Value>(json).unwrap()["summary"].clone()
    };
    assert_eq!(summary(&stdout)["up_to_date"], 0);
    let (code, stdout, stderr) = apply(repo_root(), &url(&db, 5432));
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("nothing to apply"), "{stderr}");
    assert_eq!(count(&stdout, "applied"), 0);
    // Up to date: every DDL migration counted as such, none as "found already applied".
    assert_eq!(summary(&stdout)["up_to_date"], 35);
    assert_eq!(summary(&stdout)["found_committed"], 0);
    // refinery's columns are filled as refinery fills them.
    let row = db
        .client()
        .query_one(
            "SELECT name, checksum, applied_on FROM sqlrail.schema_migrations WHERE version = 3",
            &[],
        )
        .unwrap();
    assert_eq!(row.get::<_, String>(0), "leads");
    assert!(row.get::<_, String>(1).parse::<u64>().is_ok());
    assert!(row.get::<_, String>(2).ends_with('Z'));
}

#[test]
fn a_database_built_by_hand_is_reconciled_without_running_anything() {
    let db = TestDb::new("byhand");
    let mut client = db.client();
    for phase in ["ddl", "indexes"] {
        let mut files: Vec<_> = std::fs::read_dir(repo_root().join("sql").join(phase))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort_by_key(|p| {
            let stem = p.file_stem().unwrap().to_str().unwrap().to_owned();
            stem[1..stem.find("__").unwrap()].parse::<u32>().unwrap()
        });
        for f in &files {
            client
                .batch_execute(&std::fs::read_to_string(f).unwrap())
                .unwrap();
        }
    }
    let before = schema_dump(&db);
    // Running V1..V34 again would fail ("already exists"): success means none ran. V35's
    // only check is a `sql:` one, which the history cannot replay: holding, it cannot tell
    // V34 from V35, and V35 (VALIDATE CONSTRAINT) runs again because that is harmless.
    let (code, stdout, stderr) = apply(repo_root(), &url(&db, 5432));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(count(&stdout, "reconciled"), 34, "{stderr}");
    assert!(
        stderr.contains(
            "whether ddl/V35__validate_pending_constraints ran cannot be told, and it runs again (it is safe to repeat)"
        ),
        "{stderr}"
    );
    let rows = ledger(&db);
    assert_eq!(rows.len(), 35);
    assert!(
        rows[..34].iter().all(|(_, reconciled)| *reconciled),
        "{rows:?}"
    );
    assert!(!rows[34].1, "{rows:?}");
    assert!(
        stderr.contains("indexes: 0 built, 14 reconciled, 0 failed"),
        "{stderr}"
    );
    let after = schema_dump(&db);
    let ours = |d: &str| d.contains("sqlrail");
    let blocks = |dump: &str| -> Vec<String> {
        dump.split("\n\n")
            .map(str::trim)
            .filter(|b| !b.is_empty() && !ours(b))
            .map(str::to_owned)
            .collect()
    };
    assert_eq!(blocks(&before), blocks(&after));
}

fn ten_files(bad: &'static str) -> tempfile::TempDir {
    let names = [
        "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    ];
    let files: Vec<(&str, String, Option<&str>)> = names
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let sql = if i == 6 {
                bad.to_owned()
            } else {
                format!("CREATE TABLE t{} (a int);\n", i + 1)
            };
            (*n, sql, None)
        })
        .collect();
    let files: Vec<(&str, &str, Option<&str>)> =
        files.iter().map(|(n, s, f)| (*n, s.as_str(), *f)).collect();
    ddl_project(&files)
}

#[test]
fn a_syntax_error_in_migration_7_of_10_leaves_1_to_6_recorded_and_names_file_and_line() {
    let db = TestDb::new("syntax");
    let project =
        ten_files("-- seven\nCREATE TABLE t7 (a int);\nCREATE TABLE t7b (a int,, b int);\n");
    let (code, _, stderr) = apply(project.path(), &url(&db, 5432));
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("error: ddl/V7__seven failed at sql/ddl/V7__seven.sql:3:25: ERROR: syntax error at or near \",\""),
        "{stderr}"
    );
    assert!(
        stderr.contains("3 | CREATE TABLE t7b (a int,, b int);"),
        "{stderr}"
    );
    assert!(stderr.contains("applied 6 of 10 pending"), "{stderr}");
    assert_eq!(
        ledger(&db).iter().map(|r| r.0).collect::<Vec<_>>(),
        vec![1, 2, 3, 4, 5, 6]
    );
    // The whole file rolled back, and nothing after it ran.
    let exists = |t: &str| -> bool {
        db.client()
            .query_one("SELECT to_regclass($1) IS NOT NULL", &[&t])
            .unwrap()
            .get(0)
    };
    assert!(exists("t6") && !exists("t7") && !exists("t8") && !exists("t10"));
}

#[test]
fn an_error_without_a_position_is_located_by_statement() {
    let db = TestDb::new("noposition");
    let project =
        ten_files("CREATE TABLE t7 (a int);\n\nALTER TABLE missing_table\n  ADD COLUMN x int;\n");
    let (code, _, stderr) = apply(project.path(), &url(&db, 5432));
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("ddl/V7__seven failed at sql/ddl/V7__seven.sql:3:1: ERROR: relation \"missing_table\" does not exist"),
        "{stderr}"
    );
    assert!(stderr.contains("3 | ALTER TABLE missing_table"), "{stderr}");
}

#[test]
fn a_sql_fingerprint_with_no_row_does_not_hold_and_a_wrong_one_fails_at_once() {
    let db = TestDb::new("sqlfingerprint");
    // No row while the constraint is missing: the migration runs (it is not reconciled).
    let project = ddl_project(&[
        ("t", "CREATE TABLE t (a int);\n", None),
        (
            "check",
            "ALTER TABLE t ADD CONSTRAINT t_a_positive CHECK (a > 0);\n",
            Some(
                "{ sql: \"SELECT convalidated FROM pg_constraint WHERE conname = 't_a_positive'\" }",
            ),
        ),
    ]);
    let (code, _, stderr) = apply(project.path(), &url(&db, 5432));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(ledger(&db), vec![(1, false), (2, false)]);

    // A check that returns text is a mistake in the project: one clear failure, not a
    // connection problem retried ten times. Checks are asked when a database that is not
    // empty has no ledger rows (adoption); a fresh database needs none.
    let db = TestDb::new("sqlfingerprintbad");
    db.client()
        .batch_execute("CREATE TABLE unrelated (a int)")
        .unwrap();
    let project = ddl_project(&[(
        "t",
        "CREATE TABLE t (a int);\n",
        Some("{ sql: \"SELECT 'yes'\" }"),
    )]);
    let (code, _, stderr) = apply(project.path(), &url(&db, 5432));
    assert_eq!(code, 1, "{stderr}");
    assert!(!stderr.contains("retry"), "{stderr}");
    assert!(
        stderr.contains(
            "ddl/V1__t: fingerprint: a `sql:` check must return a boolean in its first column"
        ),
        "{stderr}"
    );
    assert!(ledger_missing(&db), "nothing may be applied: {stderr}");
}

fn ledger_missing(db: &TestDb) -> bool {
    db.client()
        .query_one("SELECT to_regclass('t') IS NULL", &[])
        .unwrap()
        .get(0)
}

#[test]
fn drift_stops_apply_but_comment_changes_only_warn() {
    let db = TestDb::new("drift");
    let project = ddl_project(&[
        ("a", "CREATE TABLE a (x int);\n", Some("{ table: a }")),
        ("b", "CREATE TABLE b (x int);\n", Some("{ table: b }")),
    ]);
    assert_eq!(apply(project.path(), &url(&db, 5432)).0, 0);
    let file = project.path().join("sql/ddl/V2__b.sql");
    std::fs::write(&file, "-- b holds x\ncreate table b (\n  x int\n);\n").unwrap();
    let (code, _, stderr) = apply(project.path(), &url(&db, 5432));
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("warning: ddl/V2__b changed only in comments or whitespace"),
        "{stderr}"
    );
    std::fs::write(&file, "CREATE TABLE b (x bigint);\n").unwrap();
    let (code, _, stderr) = apply(project.path(), &url(&db, 5432));
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains(
            "drift: 1 recorded migration(s) changed since they were applied:\n  ddl/V2__b"
        ),
        "{stderr}"
    );
    let (code, _, stderr) = sqlrail(&["plan", "--database-url", &url(&db, 5432)], project.path());
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("DRIFT"), "{stderr}");
    let (code, _, stderr) = sqlrail(
        &["apply", "--allow-drift", "--database-url", &url(&db, 5432)],
        project.path(),
    );
    assert_eq!(code, 0, "{stderr}");
}

/// Starts `n` runners of the example project at once against `url`; each must exit 0.
/// Returns how many migrations they applied in all.
fn apply_concurrently(url: &str, n: usize) -> usize {
    let children: Vec<_> = (0..n)
        .map(|_| {
            std::process::Command::new(env!("CARGO_BIN_EXE_sqlrail"))
                .args(["apply", "--database-url", url, "--format", "json"])
                .current_dir(repo_root())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    children
        .into_iter()
        .map(|child| {
            let out = child.wait_with_output().unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(0), "{stderr}");
            count(&String::from_utf8_lossy(&out.stdout), "applied")
        })
        .sum()
}

fn runners(n: usize) {
    let db = TestDb::new(&format!("runners{n}"));
    let direct = url(&db, 5432);
    let applied = apply_concurrently(&direct, n);
    // Exactly one runner applied each migration.
    assert_eq!(applied, 35);
    assert_eq!(ledger(&db).len(), 35);
    let clean = TestDb::new("clean");
    assert_eq!(apply(repo_root(), &url(&clean, 5432)).0, 0);
    assert_eq!(
        schema_dump(&db),
        schema_dump(&clean).replace(&clean.name, &db.name)
    );
}

#[test]
fn two_runners_at_once_apply_each_migration_once() {
    runners(2);
}

#[test]
fn eight_runners_at_once_apply_each_migration_once() {
    runners(8);
}

/// Applies a 6-file project through a proxy with `fault` set up on it, and checks that the
/// run completes with every migration recorded once and the same schema as a clean run.
fn survives(
    label: &str,
    fault: impl FnOnce(&Proxy, &TestDb) -> Option<std::thread::JoinHandle<()>>,
) -> (String, u32) {
    let files: Vec<(String, String)> = (1..=6)
        .map(|i| {
            (format!("m{i}"), format!("CREATE TABLE f{i} (a int);\nSELECT pg_sleep(0.2);\nALTER TABLE f{i} ADD COLUMN b text;\n"))
        })
        .collect();
    let spec: Vec<(&str, &str, Option<&str>)> = files
        .iter()
        .map(|(n, s)| (n.as_str(), s.as_str(), None))
        .collect();
    let project = ddl_project(&spec);
    let db = TestDb::new(label);
    let proxy = Proxy::start("127.0.0.1:5432".parse().unwrap());
    let helper = fault(&proxy, &db);
    let (code, stdout, stderr) = apply(project.path(), &url(&db, proxy.port));
    if let Some(h) = helper {
        h.join().unwrap();
    }
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        ledger(&db).iter().map(|r| r.0).collect::<Vec<_>>(),
        vec![1, 2, 3, 4, 5, 6],
        "{stderr}"
    );
    assert_eq!(
        count(&stdout, "applied") + count(&stdout, "already-applied"),
        6,
        "{stdout}"
    );
    let clean = TestDb::new(&format!("{label}_clean"));
    assert_eq!(apply(project.path(), &url(&clean, 5432)).0, 0);
    assert_eq!(
        schema_dump(&db),
        schema_dump(&clean).replace(&clean.name, &db.name)
    );
    (stderr, proxy.cuts())
}

#[test]
fn connections_cut_before_a_unit_are_retried() {
    let (stderr, cuts) = survives("cut_before", |proxy, _| {
        proxy.cut_when_client_sends("BEGIN;\nSET LOCAL standard_conforming_strings", false, 3);
        None
    });
    assert_eq!(cuts, 3);
    assert_eq!(
        stderr.matches("of ddl/V").filter(|_| true).count(),
        3,
        "{stderr}"
    );
    assert_eq!(
        stderr.matches("after connection loss").count(),
        3,
        "{stderr}"
    );
}

#[test]
fn connections_cut_right_after_commit_is_sent_do_not_apply_twice() {
    let (stderr, cuts) = survives("cut_commit", |proxy, _| {
        // `\nCOMMIT;` ends a unit's batch (the bookkeeping batches say `; COMMIT;`).
        proxy.cut_when_client_sends("\nCOMMIT;", true, 3);
        None
    });
    assert_eq!(cuts, 3);
    assert!(stderr.contains("already-applied"), "{stderr}");
}

#[test]
fn connections_cut_in_the_middle_of_a_unit_are_retried() {
    let (stderr, cuts) = survives("cut_middle", |proxy, _| {
        let proxy = proxy.clone();
        Some(std::thread::spawn(move || {
            for _ in 0..3 {
                std::thread::sleep(Duration::from_millis(450));
                proxy.cut_all();
            }
        }))
    });
    assert!(cuts >= 3);
    assert!(stderr.contains("after connection loss"), "{stderr}");
}

#[test]
fn backends_terminated_by_the_server_are_retried() {
    let (stderr, _) = survives("terminate", |_, db| {
        let name = db.name.clone();
        Some(std::thread::spawn(move || {
            let mut admin =
                postgres::Client::connect(&support::admin_url(), postgres::NoTls).unwrap();
            let mut killed = 0;
            for _ in 0..100 {
                if killed == 3 {
                    break;
                }
                std::thread::sleep(Duration::from_millis(100));
                let n: i64 = admin
                    .query_one(
                        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity \
                         WHERE datname = $1 AND application_name = 'sqlrail' AND query LIKE '%pg_sleep%' AND state = 'active'",
                        &[&name],
                    )
                    .unwrap()
                    .get(0);
                killed += n;
            }
            assert_eq!(killed, 3, "three running units were terminated");
        }))
    });
    assert!(stderr.contains("SQLSTATE 57P01"), "{stderr}");
}

#[test]
fn a_held_lock_makes_lock_wait_exit_3_and_a_crashed_holders_lock_is_taken() {
    let db = TestDb::new("lock");
    let project = ddl_project(&[("a", "CREATE TABLE a (x int);\n", None)]);
    let mut client = db.client();
    client
        .batch_execute(
            "CREATE SCHEMA sqlrail; CREATE TABLE sqlrail.sqlrail_lock (id int PRIMARY KEY CHECK (id = 1), holder text, token bigint NOT NULL, \
             acquired_at timestamptz NOT NULL, heartbeat_at timestamptz NOT NULL); \
             INSERT INTO sqlrail.sqlrail_lock VALUES (1, 'deploy-7 on web-3', 41, now(), now())",
        )
        .unwrap();
    let (code, _, stderr) = sqlrail(
        &[
            "apply",
            "--lock-wait",
            "1s",
            "--database-url",
            &url(&db, 5432),
        ],
        project.path(),
    );
    assert_eq!(code, 3, "{stderr}");
    assert!(
        stderr.contains(
            "could not take the migration lock within 1s: held by deploy-7 on web-3 since"
        ),
        "{stderr}"
    );
    // The holder stopped heartbeating a minute ago: it crashed; the lock is free.
    client
        .batch_execute("UPDATE sqlrail.sqlrail_lock SET heartbeat_at = now() - interval '1 minute'")
        .unwrap();
    let (code, _, stderr) = sqlrail(
        &[
            "apply",
            "--lock-wait",
            "1s",
            "--database-url",
            &url(&db, 5432),
        ],
        project.path(),
    );
    assert_eq!(code, 0, "{stderr}");
    let (holder, token): (Option<String>, i64) = {
        let r = client
            .query_one("SELECT holder, token FROM sqlrail.sqlrail_lock", &[])
            .unwrap();
        (r.get(0), r.get(1))
    };
    assert_eq!(
        (holder, token),
        (None, 42),
        "released after use, token advanced"
    );
}

#[test]
fn connection_problems_are_one_clear_line_and_exit_2() {
    let project = ddl_project(&[("a", "CREATE TABLE a (x int);\n", None)]);
    // A refused port and an unknown host may pass (a server starting, a DNS record being
    // switched): retried, here only for a second, and logged; then one clear error line.
    short_connect_deadline(project.path());
    let refused = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    for (url, expected) in [
        (
            format!("postgres://postgres:s3cret@127.0.0.1:{refused}/x?sslmode=disable"),
            "cannot connect to postgres@127.0.0.1:",
        ),
        (
            "postgres://postgres:s3cret@no-such-host.invalid/x".to_owned(),
            "cannot connect to postgres@no-such-host.invalid:5432/x",
        ),
        (
            "postgres://postgres:s3cret@127.0.0.1:notaport/x".to_owned(),
            "--database-url is not a valid connection string",
        ),
    ] {
        let (code, _, stderr) = sqlrail(&["apply", "--database-url", &url], project.path());
        assert_eq!(code, 2, "{url}: {stderr}");
        let lines: Vec<&str> = stderr.lines().collect();
        let (last, retries) = lines.split_last().expect("an error line");
        assert!(last.starts_with(&format!("error: {expected}")), "{stderr}");
        for line in retries {
            assert!(
                line.starts_with("the first connection: cannot connect to "),
                "{stderr}"
            );
        }
        assert!(!stderr.contains("s3cret"), "{stderr}");
    }
}

#[test]
fn plan_status_and_verify_read_without_writing() {
    let db = TestDb::new("readonly");
    let (code, stdout, stderr) = sqlrail(
        &[
            "plan",
            "--format",
            "json",
            "--database-url",
            &url(&db, 5432),
        ],
        repo_root(),
    );
    assert_eq!(code, 0, "{stderr}");
    let plan: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(plan["migrations"].as_array().unwrap().len(), 35);
    assert!(
        plan["migrations"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["action"] == "run")
    );
    let exists: bool = db
        .client()
        .query_one(
            "SELECT to_regclass('sqlrail.schema_migrations') IS NOT NULL",
            &[],
        )
        .unwrap()
        .get(0);
    assert!(!exists, "plan created nothing");
    assert_eq!(apply(repo_root(), &url(&db, 5432)).0, 0);
    let (code, stdout, _) = sqlrail(
        &[
            "status",
            "--format",
            "json",
            "--database-url",
            &url(&db, 5432),
        ],
        repo_root(),
    );
    assert_eq!(code, 0);
    let status: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert!(
        status["migrations"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["state"] == "applied")
    );
    let (code, _, stderr) = sqlrail(&["verify", "--database-url", &url(&db, 5432)], repo_root());
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("35 of 35 recorded fingerprints hold as the history expects"),
        "{stderr}"
    );
    db.client()
        .batch_execute("DROP TABLE gmail_receipts")
        .unwrap();
    let (code, _, stderr) = sqlrail(&["verify", "--database-url", &url(&db, 5432)], repo_root());
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("ddl/V15__gmail_receipts: its fingerprint no longer holds"),
        "{stderr}"
    );
}

#[test]
fn apply_lock_and_retries_work_through_pgbouncer_in_transaction_mode() {
    let bouncer = PgBouncer::start();
    let db = TestDb::new("pgbouncer");
    // Two runners at once through the pooler: the lease lock keeps them apart.
    let pooled = url(&db, bouncer.port);
    let applied = apply_concurrently(&pooled, 2);
    assert_eq!(applied, 35);
    assert_eq!(ledger(&db).len(), 35);

    // Connections between sqlrail and the pooler cut right after COMMIT: retried, once each.
    let project = ddl_project(&[
        ("a", "CREATE TABLE a (x int);\n", None),
        ("b", "CREATE TABLE b (x int);\n", None),
        ("c", "CREATE TABLE c (x int);\n", None),
    ]);
    let db2 = TestDb::new("pgbouncer_cut");
    let proxy = Proxy::start(format!("127.0.0.1:{}", bouncer.port).parse().unwrap());
    // The three migrations go as one pipeline, cut once it reached PgBouncer; the ledger
    // read on a fresh connection says which committed, and none runs twice.
    proxy.cut_when_client_sends("\nCOMMIT;", true, 2);
    let (code, stdout, stderr) = apply(project.path(), &url(&db2, proxy.port));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(proxy.cuts(), 1, "{stderr}");
    assert_eq!(
        count(&stdout, "applied") + count(&stdout, "already-applied"),
        3,
        "{stderr}"
    );
    assert_eq!(
        ledger(&db2).iter().map(|r| r.0).collect::<Vec<_>>(),
        vec![1, 2, 3]
    );
}

/// `n` two-statement migrations, as long-lived projects have thousands of.
fn many_migrations(n: usize) -> tempfile::TempDir {
    let files: Vec<(String, String)> = (1..=n)
        .map(|i| {
            (
                format!("table_{i}"),
                format!(
                    "CREATE TABLE t_{i} (id bigint PRIMARY KEY, name text);\nALTER TABLE t_{i} ADD COLUMN created_at timestamptz NOT NULL DEFAULT now();\n"
                ),
            )
        })
        .collect();
    let spec: Vec<(&str, &str, Option<&str>)> = files
        .iter()
        .map(|(n, s)| (n.as_str(), s.as_str(), None))
        .collect();
    ddl_project(&spec)
}

#[test]
fn two_thousand_migrations_apply_to_a_fresh_database_in_a_few_round_trips() {
    // Past PostgreSQL's 1,664 target-list entries (fingerprints were once one column
    // each) and past one pipeline (500 migrations).
    let project = many_migrations(2000);
    let db = TestDb::new("twothousand");
    let proxy = Proxy::start("127.0.0.1:5432".parse().unwrap());
    let (code, stdout, stderr) = apply(project.path(), &url(&db, proxy.port));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(count(&stdout, "applied"), 2000);
    let rows = ledger(&db);
    assert_eq!(rows.len(), 2000);
    assert!(
        rows.iter()
            .enumerate()
            .all(|(i, r)| r.0 == i as i32 + 1 && !r.1)
    );
    let fresh = proxy.turns();
    // Every migration is its own transaction, yet they go four pipelines at a time: the
    // run's round trips hardly grow with the number of migrations.
    assert!(fresh <= 60, "{fresh} round trips for 2,000 migrations");
    // Up to date: a constant, small number of round trips.
    let (code, _, stderr) = apply(project.path(), &url(&db, proxy.port));
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("nothing to apply"), "{stderr}");
    let noop = proxy.turns() - fresh;
    assert!(noop <= 15, "{noop} round trips for an up-to-date database");
    for command in ["plan", "status", "verify"] {
        let (code, _, stderr) = sqlrail(
            &[command, "--database-url", &url(&db, 5432)],
            project.path(),
        );
        assert_eq!(code, 0, "{command}: {stderr}");
    }
}

#[test]
fn a_connection_lost_mid_pipeline_is_checked_against_the_ledger_before_going_on() {
    // The cut comes after the pipeline's text reached the server, with whatever part of
    // it committed; the ledger says which, and the rest run once.
    let project = many_migrations(30);
    let db = TestDb::new("pipelinecut");
    let proxy = Proxy::start("127.0.0.1:5432".parse().unwrap());
    proxy.cut_when_client_sends("CREATE TABLE t_12 ", true, 1);
    let (code, stdout, stderr) = apply(project.path(), &url(&db, proxy.port));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(proxy.cuts(), 1, "{stderr}");
    assert_eq!(
        count(&stdout, "applied") + count(&stdout, "already-applied"),
        30,
        "{stdout}"
    );
    assert_eq!(
        ledger(&db).iter().map(|r| r.0).collect::<Vec<_>>(),
        (1..=30).collect::<Vec<_>>()
    );
    let clean = TestDb::new("pipelinecut_clean");
    assert_eq!(apply(project.path(), &url(&clean, 5432)).0, 0);
    assert_eq!(
        schema_dump(&db),
        schema_dump(&clean).replace(&clean.name, &db.name)
    );
}

#[test]
fn status_lines_align_for_long_ids_end_without_spaces_and_sum_up() {
    let long = "add_the_customer_lifetime_value_and_churn_columns";
    let project = ddl_project(&[
        ("a", "CREATE TABLE a (x int);\n", None),
        (long, "CREATE TABLE b (x int);\n", None),
    ]);
    let db = TestDb::new("statuslines");
    let status = || {
        sqlrail(
            &["status", "--database-url", &url(&db, 5432)],
            project.path(),
        )
    };
    let (code, _, stderr) = status();
    assert_eq!(code, 0, "{stderr}");
    let lines: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("pending"))
        .collect();
    assert_eq!(
        lines,
        [
            "pending    ddl/V1__a",
            &format!("pending    ddl/V2__{long}")
        ],
        "{stderr}"
    );
    assert!(stderr.ends_with("ddl: 2 pending\n"), "{stderr}");
    assert_eq!(apply(project.path(), &url(&db, 5432)).0, 0);
    let (_, _, stderr) = status();
    // The dates start in one column, however long the id before them.
    let columns: Vec<usize> = stderr
        .lines()
        .filter(|l| l.starts_with("applied"))
        .map(|l| {
            // After `applied    ` and the id: where the date starts.
            let id_end = 11 + l[11..].find(' ').unwrap();
            id_end + l[id_end..].find(|c| c != ' ').unwrap()
        })
        .collect();
    assert_eq!(columns.len(), 2, "{stderr}");
    assert_eq!(columns[0], columns[1], "{stderr}");
    assert!(stderr.ends_with("ddl: 2 applied\n"), "{stderr}");
}

#[test]
fn apply_to_stops_after_the_named_migration_and_a_full_run_goes_on() {
    let project = ten_files("CREATE TABLE t7 (a int);\n");
    let db = TestDb::new("applyto");
    let to = |target: &str| {
        sqlrail(
            &["apply", "--database-url", &url(&db, 5432), "--to", target],
            project.path(),
        )
    };
    let (code, _, stderr) = to("ddl/V4__four");
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        ledger(&db).iter().map(|r| r.0).collect::<Vec<_>>(),
        [1, 2, 3, 4]
    );
    // By version; a migration already applied is nothing to do.
    let (code, _, stderr) = to("6");
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(ledger(&db).len(), 6);
    let (code, _, stderr) = to("3");
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(ledger(&db).len(), 6);
    let (code, _, stderr) = to("ddl/V99__nope");
    assert_eq!(code, 2);
    assert!(
        stderr.contains("--to ddl/V99__nope: no DDL migration has that id or version"),
        "{stderr}"
    );
    let (code, _, stderr) = apply(project.path(), &url(&db, 5432));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(ledger(&db).len(), 10);
}

#[test]
fn a_closed_stderr_does_not_stop_a_run() {
    // As `sqlrail apply … 2>&1 | head -1` in a deploy job: the reader goes away after the
    // first line, and every later line would be a write to a closed pipe.
    use std::io::BufRead;
    let project = many_migrations(30);
    let db = TestDb::new("closedstderr");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_sqlrail"))
        .args(["apply", "--database-url", &url(&db, 5432)])
        .current_dir(project.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    std::io::BufReader::new(child.stderr.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert!(first.starts_with("Using "), "{first}");
    // The reader is dropped here: the pipe is closed.
    let status = child.wait().unwrap();
    assert_eq!(
        status.code(),
        Some(0),
        "a closed stderr must not end the run"
    );
    assert_eq!(ledger(&db).len(), 30);
}

#[test]
fn a_read_only_database_is_a_settings_error_not_a_failed_migration() {
    // Before: exit 1, "the migration lock: … cannot execute CREATE SCHEMA in a read-only
    // transaction", as if a migration had failed.
    let db = TestDb::new("read_only");
    db.client()
        .batch_execute(&format!(
            "ALTER DATABASE \"{}\" SET default_transaction_read_only = on",
            db.name
        ))
        .unwrap();
    let project = ddl_project(&[("a", "CREATE TABLE a (x int);\n", None)]);
    let (code, _, stderr) = sqlrail(
        &["apply", "--database-url", &url(&db, 5432)],
        project.path(),
    );
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("is read-only (default_transaction_read_only is on)"),
        "{stderr}"
    );
    assert!(!stderr.contains("the migration lock"), "{stderr}");
}

#[test]
fn a_multi_host_target_names_the_host_it_reached() {
    // The first host refuses; the second is the server. The `Using` line used to name the
    // first host listed.
    let db = TestDb::new("multi_host");
    let refused = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let project = ddl_project(&[("a", "CREATE TABLE a (x int);\n", None)]);
    let target = format!(
        "postgres://postgres@127.0.0.1:{refused},127.0.0.1:5432/{}?sslmode=disable&target_session_attrs=read-write",
        db.name
    );
    let (code, _, stderr) = sqlrail(&["apply", "--database-url", &target], project.path());
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains(&format!(
            "Using postgres@127.0.0.1:5432/{} (sslmode=disable, target_session_attrs=read-write)",
            db.name
        )),
        "{stderr}"
    );
    // libpq 14's values the driver does not know are honoured, not rejected.
    let (code, _, stderr) = sqlrail(
        &[
            "status",
            "--database-url",
            &target.replace("read-write", "primary"),
        ],
        project.path(),
    );
    assert_eq!(code, 0, "{stderr}");
    // A target that asks for a standby where there is none waits for one, then says so.
    short_connect_deadline(project.path());
    let (code, _, stderr) = sqlrail(
        &[
            "status",
            "--database-url",
            &target.replace("read-write", "standby"),
        ],
        project.path(),
    );
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("127.0.0.1:5432: the server is a primary that accepts writes, not what target_session_attrs=standby asks for"),
        "{stderr}"
    );
}

#[test]
fn pipelined_migrations_each_record_their_own_start_and_duration() {
    // The migrations of one pipeline share one message, and so one `now()`: every row got
    // the same applied_on and a running total as its duration (200, 400, 600 ms here).
    let db = TestDb::new("pipeline_times");
    let sleepy = "CREATE TABLE {t} (x int);\nSELECT pg_sleep(0.2);\n";
    let project = ddl_project(&[
        ("a", &sleepy.replace("{t}", "a"), None),
        ("b", &sleepy.replace("{t}", "b"), None),
        ("c", &sleepy.replace("{t}", "c"), None),
    ]);
    let (code, _, stderr) = sqlrail(
        &["apply", "--database-url", &url(&db, 5432)],
        project.path(),
    );
    assert_eq!(code, 0, "{stderr}");
    let rows = db
        .client()
        .query(
            "SELECT applied_on::timestamptz, duration_ms FROM sqlrail.schema_migrations ORDER BY version",
            &[],
        )
        .unwrap();
    assert_eq!(rows.len(), 3);
    let starts: Vec<std::time::SystemTime> = rows.iter().map(|r| r.get(0)).collect();
    assert!(
        starts.windows(2).all(|w| w[1] > w[0]),
        "each migration's applied_on is its own start: {starts:?}"
    );
    for row in &rows {
        let ms: i64 = row.get(1);
        assert!(
            (150..450).contains(&ms),
            "one migration's duration, not a running total: {ms} ms"
        );
    }
}
