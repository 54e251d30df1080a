//! A PgBouncer in transaction-pooling mode on a free loopback port, in front of the local
//! PostgreSQL, started for one test and stopped when dropped. `scripts/test.sh` installs
//! the Debian package when it is missing.

use std::net::TcpStream;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

pub struct PgBouncer {
    pub port: u16,
    child: Child,
    _dir: tempfile::TempDir,
}

fn binary() -> String {
    ["/usr/sbin/pgbouncer", "/usr/bin/pgbouncer"]
        .into_iter()
        .find(|p| std::path::Path::new(p).is_file())
        .map(str::to_owned)
        .expect("pgbouncer is not installed: run `bash scripts/test.sh` (it installs the Debian package)")
}

impl PgBouncer {
    pub fn start() -> PgBouncer {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let dir = tempfile::tempdir().unwrap();
        let path = |f: &str| dir.path().join(f).display().to_string();
        std::fs::write(dir.path().join("users.txt"), "\"postgres\" \"\"\n").unwrap();
        std::fs::write(
            dir.path().join("pgbouncer.ini"),
            format!(
                "[databases]\n* = host=127.0.0.1 port=5432\n\n[pgbouncer]\nlisten_addr = 127.0.0.1\nlisten_port = {port}\n\
                 unix_socket_dir =\nauth_type = trust\nauth_file = {users}\npool_mode = transaction\n\
                 max_client_conn = 200\ndefault_pool_size = 5\nlogfile = {log}\n\
                 ignore_startup_parameters = extra_float_digits\n",
                users = path("users.txt"),
                log = path("pgbouncer.log"),
            ),
        )
        .unwrap();
        // PgBouncer refuses to run as root; it drops to `postgres` when asked.
        let root = Command::new("id")
            .arg("-u")
            .output()
            .map(|o| o.stdout == b"0\n")
            .unwrap_or(false);
        let mut command = Command::new(binary());
        if root {
            Command::new("chmod")
                .args(["-R", "a+rwX"])
                .arg(dir.path())
                .status()
                .unwrap();
            command.args(["-u", "postgres"]);
        }
        // Its log goes to `logfile` (kept with the directory while the test runs); `-q`
        // keeps it off stderr, where it filled the output of passing tests.
        let child = command
            .arg("-q")
            .arg(path("pgbouncer.ini"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "pgbouncer did not start: {}",
                std::fs::read_to_string(dir.path().join("pgbouncer.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        PgBouncer {
            port,
            child,
            _dir: dir,
        }
    }
}

impl Drop for PgBouncer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
