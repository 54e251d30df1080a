//! A primary and a streaming standby owned by one test, for failover and replica tests:
//! the primary is a fresh cluster (`initdb` into a temporary directory, trust
//! authentication for local and 127.0.0.1 connections, `wal_level=replica`), the standby a
//! `pg_basebackup -R` of it, each on its own free loopback port with its own socket
//! directory. Both are stopped (`immediate`) and removed when dropped.

use std::path::Path;
use std::process::Command;

use super::cluster::{pg_bin, running_as_root};
use std::time::{Duration, Instant};

pub struct ReplicaPair {
    primary_port: u16,
    standby_port: u16,
    dir: tempfile::TempDir,
}

/// Runs a server tool, as `postgres` when we are root: (success, stdout + stderr).
fn server_tool(tool: &str, args: &[&str]) -> (bool, String) {
    let mut command = if running_as_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(pg_bin(tool));
        c
    } else {
        Command::new(pg_bin(tool))
    };
    let out = command.args(args).output().unwrap();
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

fn as_server_user(tool: &str, args: &[&str]) {
    let (ok, out) = server_tool(tool, args);
    assert!(ok, "{tool} {args:?}: {out}");
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Runs `sql` with psql over TCP on `port` (trust): its unaligned output, trimmed.
fn psql(port: u16, dbname: &str, sql: &str) -> Result<String, String> {
    let out = Command::new("psql")
        .args(["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1"])
        .args(["-h", "127.0.0.1", "-p", &port.to_string()])
        .args(["-U", "postgres", "-d", dbname, "-c", sql])
        .output()
        .unwrap();
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

fn append(file: &Path, text: &str) {
    let mut conf = std::fs::read_to_string(file).unwrap();
    conf.push_str(text);
    std::fs::write(file, conf).unwrap();
}

impl ReplicaPair {
    /// Starts the primary and the standby, and returns once the standby streams.
    pub fn start() -> ReplicaPair {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        for sub in ["primary-sock", "standby-sock"] {
            std::fs::create_dir_all(root.join(sub)).unwrap();
        }
        if running_as_root() {
            Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(root)
                .status()
                .unwrap();
        }
        let primary = root.join("primary");
        as_server_user(
            "initdb",
            &[
                "-D",
                primary.to_str().unwrap(),
                "-U",
                "postgres",
                "--auth-local=trust",
                "--auth-host=trust",
                "--no-sync",
                "--no-instructions",
            ],
        );
        let primary_port = free_port();
        append(
            &primary.join("postgresql.conf"),
            &format!(
                "\nport = {primary_port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{}'\n\
                 wal_level = replica\nmax_wal_senders = 5\nwal_keep_size = 256MB\nhot_standby = on\n\
                 fsync = off\nmax_connections = 40\nshared_buffers = 16MB\n",
                root.join("primary-sock").display()
            ),
        );
        std::fs::write(
            primary.join("pg_hba.conf"),
            "local all all trust\n\
             local replication all trust\n\
             host all all 127.0.0.1/32 trust\n\
             host replication all 127.0.0.1/32 trust\n",
        )
        .unwrap();
        let pair_log = |name: &str| root.join(name).display().to_string();
        as_server_user(
            "pg_ctl",
            &[
                "-D",
                primary.to_str().unwrap(),
                "-l",
                &pair_log("primary.log"),
                "-w",
                "-t",
                "30",
                "start",
            ],
        );

        let standby = root.join("standby");
        let port_arg = primary_port.to_string();
        as_server_user(
            "pg_basebackup",
            &[
                "-R",
                "-D",
                standby.to_str().unwrap(),
                "-h",
                "127.0.0.1",
                "-p",
                &port_arg,
                "-U",
                "postgres",
                "-X",
                "stream",
                "-c",
                "fast",
                "--no-sync",
            ],
        );
        let standby_port = free_port();
        // The copied postgresql.conf names the primary's port and socket; later lines win.
        append(
            &standby.join("postgresql.conf"),
            &format!(
                "\nport = {standby_port}\nunix_socket_directories = '{}'\nhot_standby = on\n",
                root.join("standby-sock").display()
            ),
        );
        as_server_user(
            "pg_ctl",
            &[
                "-D",
                standby.to_str().unwrap(),
                "-l",
                &pair_log("standby.log"),
                "-w",
                "-t",
                "30",
                "start",
            ],
        );
        let pair = ReplicaPair {
            primary_port,
            standby_port,
            dir,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let streaming = psql(
                primary_port,
                "postgres",
                "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'",
            );
            if streaming.as_deref() == Ok("1") {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "the standby is not streaming after 30 s ({streaming:?}); its log:\n{}",
                std::fs::read_to_string(pair.dir.path().join("standby.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        pair
    }

    pub fn primary_port(&self) -> u16 {
        self.primary_port
    }

    pub fn standby_port(&self) -> u16 {
        self.standby_port
    }

    fn data(&self, which: &str) -> String {
        self.dir.path().join(which).display().to_string()
    }

    /// A crash of the primary: `pg_ctl -m immediate stop`.
    pub fn stop_primary(&self) {
        as_server_user(
            "pg_ctl",
            &["-D", &self.data("primary"), "-m", "immediate", "-w", "stop"],
        );
    }

    /// Promotes the standby and waits until it accepts writes.
    pub fn promote_standby(&self) {
        as_server_user(
            "pg_ctl",
            &["-D", &self.data("standby"), "-w", "-t", "60", "promote"],
        );
    }

    pub fn pause_replay(&self) {
        self.query_standby("SELECT pg_wal_replay_pause()");
    }

    pub fn resume_replay(&self) {
        self.query_standby("SELECT pg_wal_replay_resume()");
    }

    /// Runs SQL on the primary's `postgres` database (e.g. `CREATE DATABASE`); panics on
    /// an error.
    pub fn psql_primary(&self, sql: &str) -> String {
        psql(self.primary_port, "postgres", sql).unwrap_or_else(|e| panic!("primary: {sql}: {e}"))
    }

    /// Runs a query on the standby's `postgres` database: its unaligned output, trimmed.
    pub fn query_standby(&self, sql: &str) -> String {
        psql(self.standby_port, "postgres", sql).unwrap_or_else(|e| panic!("standby: {sql}: {e}"))
    }

    /// A client on `port` (either server), database `dbname`, as the superuser.
    pub fn client(&self, port: u16, dbname: &str) -> postgres::Client {
        postgres::Client::connect(
            &format!("host=127.0.0.1 port={port} user=postgres dbname={dbname}"),
            postgres::NoTls,
        )
        .unwrap()
    }

    /// Runs SQL on `port` (either server) in `dbname`; panics on an error.
    pub fn query(&self, port: u16, dbname: &str, sql: &str) -> String {
        psql(port, dbname, sql).unwrap_or_else(|e| panic!("port {port}: {sql}: {e}"))
    }

    /// `postgres://postgres@127.0.0.1:PRIMARY,127.0.0.1:STANDBY/dbname?query`.
    pub fn url(&self, dbname: &str, query: &str) -> String {
        let mut url = format!(
            "postgres://postgres@127.0.0.1:{},127.0.0.1:{}/{dbname}",
            self.primary_port, self.standby_port
        );
        if !query.is_empty() {
            url.push('?');
            url.push_str(query);
        }
        url
    }

    /// Waits until the standby has replayed everything the primary has written so far.
    pub fn wait_caught_up(&self) {
        let lsn = self.psql_primary("SELECT pg_current_wal_lsn()");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let replayed =
                self.query_standby(&format!("SELECT pg_last_wal_replay_lsn() >= '{lsn}'"));
            if replayed == "t" {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the standby has not replayed {lsn} after 30 s"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for ReplicaPair {
    fn drop(&mut self) {
        for which in ["standby", "primary"] {
            // The primary may be stopped already: not an error here.
            let _ = server_tool(
                "pg_ctl",
                &["-D", &self.data(which), "-m", "immediate", "-w", "stop"],
            );
        }
    }
}
