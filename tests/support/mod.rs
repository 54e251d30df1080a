//! Shared test support: a fresh PostgreSQL database per test, dropped afterwards, so tests
//! run in parallel against the real local server.
#![allow(dead_code)]

pub mod cluster;
pub mod fault_server;
pub mod pgbouncer;
pub mod proxy;
pub mod replica;

use std::sync::atomic::{AtomicU32, Ordering};

use postgres::{Client, NoTls};

/// The admin connection string: `SQLRAIL_TEST_ADMIN_URL`, or the local server over TCP.
pub fn admin_url() -> String {
    std::env::var("SQLRAIL_TEST_ADMIN_URL")
        .unwrap_or_else(|_| "host=127.0.0.1 port=5432 user=postgres dbname=postgres".into())
}

/// A database created for one test and dropped (with its sessions) when dropped.
pub struct TestDb {
    pub name: String,
}

impl TestDb {
    pub fn new(label: &str) -> TestDb {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let name = format!(
            "sqlrail_t_{label}_{}_{}_{nanos}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        let mut admin = Client::connect(&admin_url(), NoTls).unwrap_or_else(|e| {
            panic!(
                "tests need PostgreSQL at {} (start it, see README): {e}",
                admin_url()
            )
        });
        admin
            .batch_execute(&format!("CREATE DATABASE \"{name}\""))
            .unwrap();
        TestDb { name }
    }

    /// A key=value connection string for this database.
    pub fn conninfo(&self) -> String {
        format!(
            "{} dbname={}",
            admin_url().replace("dbname=postgres", ""),
            self.name
        )
    }

    pub fn client(&self) -> Client {
        Client::connect(&self.conninfo(), NoTls).unwrap()
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Ok(mut admin) = Client::connect(&admin_url(), NoTls) {
            let _ = admin.batch_execute(&format!(
                "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
                self.name
            ));
        }
    }
}

/// Runs the built `sqlrail` binary in `dir`: (exit code, stdout, stderr).
pub fn sqlrail(args: &[&str], dir: &std::path::Path) -> (i32, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_sqlrail"))
        .args(args)
        .current_dir(dir)
        .env_remove("NO_COLOR")
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

/// The repository root (the example project).
pub fn repo_root() -> &'static std::path::Path {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Copies the directory `from` into `to` (created), recursively.
pub fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    for entry in walkdir::WalkDir::new(from) {
        let entry = entry.unwrap();
        let target = to.join(entry.path().strip_prefix(from).unwrap());
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// A copy of the repository's example project (manifest, lint rules, sql/) in a
/// temporary directory, for tests that change or break it.
pub fn example_project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for file in ["manifest.yaml", "lint-rules.yaml"] {
        std::fs::copy(repo_root().join(file), dir.path().join(file)).unwrap();
    }
    copy_dir(&repo_root().join("sql"), &dir.path().join("sql"));
    dir
}

/// A throwaway project: `manifest.yaml` (with fast retries, for fault tests) and
/// `sql/ddl` files `(name, sql)` numbered from 1; each gets a fingerprint if given.
pub fn ddl_project(files: &[(&str, &str, Option<&str>)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let mut manifest = String::from(
        "settings:\n  retry: { attempts: 10, initial_backoff: 50ms, max_backoff: 200ms, connect_timeout: 5s }\n  lock_retry: { attempts: 5, initial_pause: 50ms, max_pause: 200ms }\nmigrations:\n",
    );
    std::fs::create_dir_all(dir.path().join("sql/ddl")).unwrap();
    for (n, (name, sql, fingerprint)) in files.iter().enumerate() {
        let id = format!("V{}__{name}", n + 1);
        std::fs::write(dir.path().join(format!("sql/ddl/{id}.sql")), sql).unwrap();
        manifest.push_str(&format!("  - id: ddl/{id}\n"));
        if let Some(f) = fingerprint {
            manifest.push_str(&format!("    fingerprint: {f}\n"));
        }
    }
    std::fs::write(dir.path().join("manifest.yaml"), manifest).unwrap();
    dir
}

/// Gives the project in `dir` a one-second connect deadline
/// (`settings.retry.connect_deadline`), for tests of connections that never succeed: a
/// refused port is retried (a server may be starting), 90 s by default.
pub fn short_connect_deadline(dir: &std::path::Path) {
    let path = dir.join("manifest.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    let text = if text.contains("connect_timeout: 5s }") {
        text.replacen(
            "connect_timeout: 5s }",
            "connect_timeout: 5s, connect_deadline: 1s }",
            1,
        )
    } else {
        text.replacen(
            "settings:\n",
            "settings:\n  retry: { connect_deadline: 1s }\n",
            1,
        )
    };
    assert!(text.contains("connect_deadline: 1s"), "{text}");
    std::fs::write(&path, text).unwrap();
}

/// `pg_dump --schema-only` of a database on the local server.
pub fn schema_dump(db: &TestDb) -> String {
    pg_dump_schema(&["-h", "127.0.0.1", "-U", "postgres"], &db.name)
}

/// `pg_dump --schema-only` of `dbname` reached with the connection options `conn`
/// (`-h`, `-p`, `-U`), without the lines that differ between dumps of identical schemas
/// (`\restrict` keys).
pub fn pg_dump_schema(conn: &[&str], dbname: &str) -> String {
    let out = std::process::Command::new("pg_dump")
        .args(["--schema-only", "--no-owner"])
        .args(conn)
        .arg(dbname)
        .output()
        .expect("pg_dump runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with("\\restrict") && !l.starts_with("\\unrestrict"))
        .collect::<Vec<_>>()
        .join("\n")
}
