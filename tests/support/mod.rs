//! Shared test support: a fresh PostgreSQL database per test, dropped afterwards, so tests
//! run in parallel against the real local server.
#![allow(dead_code)]

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
