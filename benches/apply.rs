//! `sqlrail apply` against `psql` doing the same durable work, on the local server
//! (127.0.0.1:5432, user postgres). Run: `cargo bench --bench apply`.
//!
//! 1. Wall time: 1,000 generated migrations (3–5 statements each) applied to a fresh
//!    database by `sqlrail apply`, against `psql -f` of one script holding the same
//!    statements, each migration in its own transaction with the same `SET LOCAL`s and the
//!    same ledger `INSERT` (the floor: psql does no planning, locking or checking).
//! 2. Round trips over a slow link: 100 four-statement migrations through a loopback proxy
//!    adding 5 ms each way, counted by the proxy (a client message after the server's
//!    answer starts a round trip), for sqlrail and psql.
//! 3. A no-op apply over the 1,000 recorded migrations: wall time and round trips.
//!
//! `SQLRAIL_BENCH_MIGRATIONS` (default 1000) and `SQLRAIL_BENCH_REPS` (default 3) tune it.

#[allow(dead_code)] // the fault-injection half of the proxy is for tests
#[path = "../tests/support/proxy.rs"]
mod proxy;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use postgres::{Client, NoTls};
use sqlrail::ledger::{Ledger, NewRow};

const ADMIN: &str = "host=127.0.0.1 port=5432 user=postgres dbname=postgres";

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The statements of generated migration `n`: `count` statements (3–5).
fn migration_sql(n: usize, count: usize) -> String {
    let t = format!("bench_t{n}");
    let mut sql = format!(
        "CREATE TABLE {t} (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, tenant_id bigint NOT NULL, name text);\n\
         ALTER TABLE {t} ADD COLUMN created_at timestamptz NOT NULL DEFAULT now();\n\
         COMMENT ON TABLE {t} IS 'generated for the apply benchmark';\n"
    );
    if count >= 4 {
        sql.push_str(&format!("CREATE INDEX {t}_tenant ON {t} (tenant_id);\n"));
    }
    if count >= 5 {
        sql.push_str(&format!(
            "ALTER TABLE {t} ADD CONSTRAINT {t}_name CHECK (name <> '');\n"
        ));
    }
    sql
}

struct Generated {
    dir: tempfile::TempDir,
    /// (stem, sql) per migration, in order.
    migrations: Vec<(String, String)>,
}

/// A project of `count` migrations with `statements(n)` statements each, fingerprinted.
fn generate(count: usize, statements: impl Fn(usize) -> usize) -> Generated {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("sql/ddl")).unwrap();
    let mut manifest = String::from("migrations:\n");
    let mut migrations = Vec::new();
    for n in 1..=count {
        let stem = format!("V{n}__bench_{n}");
        let sql = migration_sql(n, statements(n));
        std::fs::write(dir.path().join(format!("sql/ddl/{stem}.sql")), &sql).unwrap();
        let checksum = sqlrail::project::checksum(&stem, &sql).unwrap();
        manifest.push_str(&format!(
            "  - id: ddl/{stem}\n    checksum: \"{checksum}\"\n    fingerprint: {{ table: bench_t{n} }}\n"
        ));
        migrations.push((stem, sql));
    }
    std::fs::write(dir.path().join("manifest.yaml"), manifest).unwrap();
    Generated { dir, migrations }
}

/// The psql script: per migration the same transaction, settings and ledger row as sqlrail.
fn psql_script(generated: &Generated) -> String {
    let ledger = Ledger::new("sqlrail", "schema_migrations");
    let mut script = String::new();
    for (n, (stem, sql)) in generated.migrations.iter().enumerate() {
        let name = stem.split_once("__").unwrap().1;
        let row = NewRow {
            version: n as i32 + 1,
            name,
            checksum: sqlrail::project::checksum(stem, sql).unwrap(),
            normalized_checksum: sqlrail::sql::normalized_hash(sql, 0, sql.len()),
            reconciled: false,
            attempts: 1,
            applied_by: "psql",
            note: None,
            started: None,
        };
        script.push_str(&format!(
            "BEGIN;\nSET LOCAL lock_timeout = '5000ms';\nSET LOCAL statement_timeout = '0ms';\n{sql}{};\nCOMMIT;\n",
            ledger.insert_sql(&row)
        ));
    }
    script
}

struct Db {
    name: String,
}

impl Db {
    fn fresh(label: &str) -> Db {
        static COUNTER: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let name = format!("sqlrail_bench_{label}_{}_{n}", std::process::id());
        let mut admin = Client::connect(ADMIN, NoTls).expect("PostgreSQL at 127.0.0.1:5432");
        admin
            .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .unwrap();
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .unwrap();
        // Flush what earlier runs left dirty, so its write-back does not land on this run.
        admin.batch_execute("CHECKPOINT").unwrap();
        Db { name }
    }

    fn url(&self, port: u16) -> String {
        format!(
            "postgres://postgres@127.0.0.1:{port}/{}?sslmode=disable",
            self.name
        )
    }

    fn client(&self) -> Client {
        Client::connect(&format!("{ADMIN} dbname={}", self.name), NoTls).unwrap()
    }

    fn recorded(&self) -> i64 {
        self.client()
            .query_one("SELECT count(*) FROM sqlrail.schema_migrations", &[])
            .unwrap()
            .get(0)
    }
}

impl Drop for Db {
    fn drop(&mut self) {
        if let Ok(mut admin) = Client::connect(ADMIN, NoTls) {
            let _ = admin.batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ));
        }
    }
}

fn sqlrail_apply(project: &Path, url: &str) -> Duration {
    let started = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_sqlrail"))
        .args(["apply", "--database-url", url])
        .current_dir(project)
        .output()
        .unwrap();
    let took = started.elapsed();
    assert!(
        out.status.success(),
        "sqlrail apply failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    took
}

fn psql_run(db: &Db, port: u16, script: &Path) -> Duration {
    Ledger::new("sqlrail", "schema_migrations")
        .ensure(&mut db.client())
        .unwrap();
    let started = Instant::now();
    let out = Command::new("psql")
        .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-f"])
        .arg(script)
        .arg(db.url(port))
        .output()
        .expect("psql runs");
    let took = started.elapsed();
    assert!(
        out.status.success(),
        "psql failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    took
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn secs(d: Duration) -> String {
    format!("{:.3} s", d.as_secs_f64())
}

fn main() {
    // `cargo bench` passes `--bench`; nothing to parse.
    let count = env_number("SQLRAIL_BENCH_MIGRATIONS", 1000);
    let reps = env_number("SQLRAIL_BENCH_REPS", 3).max(1);
    let generated = generate(count, |n| 3 + n % 3);
    let statements: usize = (1..=count).map(|n| 3 + n % 3).sum();
    let script_path = generated.dir.path().join("psql-script.sql");
    std::fs::write(&script_path, psql_script(&generated)).unwrap();

    println!(
        "## 1. {count} migrations ({statements} statements), fresh database each run, {reps} runs, median"
    );
    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    // Databases are dropped at the end, not between runs: dropping one deletes thousands
    // of files, and that I/O would slow whichever run came next.
    let mut keep = Vec::new();
    for rep in 0..reps {
        // Alternate who goes first, so drift in the machine's speed hits both alike.
        for tool in if rep % 2 == 0 {
            ["sqlrail", "psql"]
        } else {
            ["psql", "sqlrail"]
        } {
            let db = Db::fresh(tool);
            if tool == "sqlrail" {
                ours.push(sqlrail_apply(generated.dir.path(), &db.url(5432)));
            } else {
                theirs.push(psql_run(&db, 5432, &script_path));
            }
            assert_eq!(db.recorded(), count as i64);
            keep.push((tool, db));
        }
    }
    let all = |v: &[Duration]| {
        v.iter()
            .map(|d| format!("{:.2}", d.as_secs_f64()))
            .collect::<Vec<_>>()
            .join(", ")
    };
    println!(
        "runs (s)      : sqlrail {} | psql {}",
        all(&ours),
        all(&theirs)
    );
    let (ours, theirs) = (median(ours), median(theirs));
    println!("sqlrail apply : {}", secs(ours));
    println!("psql -f       : {}", secs(theirs));
    println!(
        "ratio         : {:.2}x (target <= 1.30x)",
        ours.as_secs_f64() / theirs.as_secs_f64()
    );

    println!("\n## 3. no-op apply over {count} recorded migrations");
    let recorded = &keep.iter().find(|(tool, _)| *tool == "sqlrail").unwrap().1;
    let noop = median(
        (0..reps)
            .map(|_| sqlrail_apply(generated.dir.path(), &recorded.url(5432)))
            .collect(),
    );
    let counter = proxy::Proxy::start("127.0.0.1:5432".parse().unwrap());
    sqlrail_apply(generated.dir.path(), &recorded.url(counter.port));
    println!("wall time     : {}", secs(noop));
    println!(
        "round trips   : {} (connection setup included; the same for any count)",
        counter.turns()
    );

    println!("\n## 2. round trips: 100 four-statement migrations, proxy adding 5 ms each way");
    let small = generate(100, |_| 4);
    let small_script = small.dir.path().join("psql-script.sql");
    std::fs::write(&small_script, psql_script(&small)).unwrap();
    for tool in ["sqlrail", "psql"] {
        let slow = proxy::Proxy::start("127.0.0.1:5432".parse().unwrap());
        slow.set_delay(Duration::from_millis(5));
        let db = Db::fresh("slow");
        let took = if tool == "sqlrail" {
            sqlrail_apply(small.dir.path(), &db.url(slow.port))
        } else {
            // The ledger is created before the count starts, over the direct port.
            psql_run(&db, slow.port, &small_script)
        };
        assert_eq!(db.recorded(), 100);
        println!(
            "{tool:<8}: {:>5} round trips, {:.1} per migration, {}",
            slow.turns(),
            slow.turns() as f64 / 100.0,
            secs(took)
        );
    }
}
