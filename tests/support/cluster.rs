//! A second PostgreSQL cluster owned by one test: its own data directory, a loopback port,
//! password authentication (scram-sha-256) and TLS with a test CA, so the TLS modes and a
//! wrong password can be tested for real. Stopped and removed when dropped.
//!
//! TLS: `ca.crt` signs the server certificate, which names `localhost` only (no IP), so
//! `verify-full` holds for `localhost` and fails for `127.0.0.1`, while `verify-ca` holds
//! for both. `other-ca.crt` is a CA that signed nothing here. Connections without TLS are
//! rejected by `pg_hba.conf`, so a connection that works proves it is encrypted.

use std::path::{Path, PathBuf};
use std::process::Command;

pub const PASSWORD: &str = "tls-cluster-S3cret";

pub struct Cluster {
    pub port: u16,
    dir: tempfile::TempDir,
}

/// A server tool of the newest PostgreSQL installed (`initdb`, `pg_ctl`, …).
pub fn pg_bin(tool: &str) -> PathBuf {
    let versions = std::fs::read_dir("/usr/lib/postgresql").expect("PostgreSQL is installed");
    let mut dirs: Vec<PathBuf> = versions.flatten().map(|e| e.path()).collect();
    dirs.sort_by_key(|d| {
        d.file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.parse::<u32>().ok())
    });
    dirs.last()
        .expect("a PostgreSQL version")
        .join("bin")
        .join(tool)
}

pub fn running_as_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout == b"0\n")
        .unwrap_or(false)
}

/// Runs a server tool, as `postgres` when we are root (PostgreSQL refuses to run as root).
fn as_server_user(tool: &str, args: &[&str]) {
    let mut command = if running_as_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(pg_bin(tool));
        c
    } else {
        Command::new(pg_bin(tool))
    };
    let out = command.args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{tool} {args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn openssl(args: &[&str], dir: &Path) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl runs");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn make_certificates(dir: &Path) {
    for ca in ["ca", "other-ca"] {
        openssl(
            &[
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "2",
                "-subj",
                &format!("/CN=sqlrail test {ca}"),
                "-keyout",
                &format!("{ca}.key"),
                "-out",
                &format!("{ca}.crt"),
            ],
            dir,
        );
    }
    std::fs::write(dir.join("server.ext"), "subjectAltName=DNS:localhost\n").unwrap();
    openssl(
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=localhost",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
        ],
        dir,
    );
    openssl(
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            "server.ext",
            "-out",
            "server.crt",
        ],
        dir,
    );
}

impl Cluster {
    pub fn start() -> Cluster {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        make_certificates(root);
        let data = root.join("data");
        std::fs::write(root.join("pwfile"), PASSWORD).unwrap();
        // PostgreSQL refuses a key others can read.
        Command::new("chmod")
            .args(["600"])
            .arg(root.join("server.key"))
            .status()
            .unwrap();
        if running_as_root() {
            Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(root)
                .status()
                .unwrap();
        }
        as_server_user(
            "initdb",
            &[
                "-D",
                data.to_str().unwrap(),
                "-U",
                "postgres",
                "--pwfile",
                root.join("pwfile").to_str().unwrap(),
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
                "--no-sync",
                "--no-instructions",
            ],
        );
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let file = |name: &str| root.join(name).display().to_string();
        let mut conf = std::fs::read_to_string(data.join("postgresql.conf")).unwrap();
        conf.push_str(&format!(
            "\nport = {port}\nlisten_addresses = 'localhost'\nunix_socket_directories = '{root}'\n\
             ssl = on\nssl_cert_file = '{cert}'\nssl_key_file = '{key}'\nfsync = off\n\
             max_connections = 40\nshared_buffers = 16MB\n",
            root = root.display(),
            cert = file("server.crt"),
            key = file("server.key"),
        ));
        std::fs::write(data.join("postgresql.conf"), conf).unwrap();
        std::fs::write(
            data.join("pg_hba.conf"),
            "local all all trust\n\
             hostssl all all 127.0.0.1/32 scram-sha-256\n\
             hostssl all all ::1/128 scram-sha-256\n\
             hostnossl all all all reject\n",
        )
        .unwrap();
        let log = file("server.log");
        as_server_user(
            "pg_ctl",
            &[
                "-D",
                data.to_str().unwrap(),
                "-l",
                &log,
                "-w",
                "-t",
                "30",
                "start",
            ],
        );
        Cluster { port, dir }
    }

    /// A file in the cluster's directory (`ca.crt`, `other-ca.crt`).
    pub fn path(&self, name: &str) -> String {
        self.dir.path().join(name).display().to_string()
    }

    /// A URL for `host` with the right password and the given query (`sslmode=…`).
    pub fn url(&self, host: &str, dbname: &str, query: &str) -> String {
        format!(
            "postgres://postgres:{PASSWORD}@{host}:{}/{dbname}?{query}",
            self.port
        )
    }

    /// A key=value connection string over the unix socket (trust auth), for admin work.
    pub fn socket_conninfo(&self, dbname: &str) -> String {
        format!(
            "host={} port={} user=postgres dbname={dbname}",
            self.dir.path().display(),
            self.port
        )
    }

    /// The unix socket directory (`-h` for `psql` and `pg_dump`).
    pub fn socket_dir(&self) -> String {
        self.dir.path().display().to_string()
    }

    /// Restarts the server and waits until it accepts connections again. `immediate` is a
    /// crash (every backend killed, recovery at start); otherwise a fast shutdown.
    pub fn restart(&self, immediate: bool) {
        let data = self.dir.path().join("data");
        // `-l`: without a log file the new postmaster would inherit (and hold open) the
        // pipes this process reads pg_ctl's output from.
        as_server_user(
            "pg_ctl",
            &[
                "-D",
                data.to_str().unwrap(),
                "-l",
                &self.path("server.log"),
                "-m",
                if immediate { "immediate" } else { "fast" },
                "-w",
                "-t",
                "60",
                "restart",
            ],
        );
    }

    /// Runs SQL as the superuser over the unix socket (trust), e.g. `CREATE DATABASE`.
    pub fn psql(&self, sql: &str) {
        let out = Command::new("psql")
            .args([
                "-X",
                "-q",
                "-v",
                "ON_ERROR_STOP=1",
                "-U",
                "postgres",
                "-d",
                "postgres",
            ])
            .args(["-h", self.dir.path().to_str().unwrap()])
            .args(["-p", &self.port.to_string(), "-c", sql])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let data = self.dir.path().join("data");
        as_server_user(
            "pg_ctl",
            &[
                "-D",
                data.to_str().unwrap(),
                "-m",
                "immediate",
                "-w",
                "stop",
            ],
        );
    }
}
