//! The two servers a trial can run against: the machine's PostgreSQL (plain TCP) and a
//! cluster the harness owns (TLS only, password auth), which it may restart.

use std::cell::Cell;
use std::net::SocketAddr;

use postgres::{Client, NoTls};

use crate::support::replica::ReplicaPair;
use crate::support::{self, cluster::Cluster};

pub enum Server {
    /// The local server at 127.0.0.1:5432 (`SQLRAIL_TEST_ADMIN_URL` for admin work).
    Local,
    /// A second cluster owned by the harness: TLS with a test CA, restartable.
    Owned(Cluster),
    /// A primary and its streaming standby, made for one failover trial; after
    /// `promoted`, the standby is the primary.
    Pair {
        pair: ReplicaPair,
        promoted: Cell<bool>,
    },
}

impl Server {
    pub fn name(&self) -> &'static str {
        match self {
            Server::Local => "local",
            Server::Owned(_) => "owned-tls",
            Server::Pair { .. } => "replica-pair",
        }
    }

    /// A fresh primary and standby.
    pub fn pair() -> Server {
        Server::Pair {
            pair: ReplicaPair::start(),
            promoted: Cell::new(false),
        }
    }

    /// The pair's port that takes writes now.
    fn primary_port(pair: &ReplicaPair, promoted: &Cell<bool>) -> u16 {
        if promoted.get() {
            pair.standby_port()
        } else {
            pair.primary_port()
        }
    }

    /// The pair's failover: the primary crashes, and `delay` later the standby is promoted.
    /// Returns once the new primary takes writes.
    pub fn fail_over(&self, delay: std::time::Duration) {
        let Server::Pair { pair, promoted } = self else {
            panic!("only a replica pair fails over")
        };
        pair.stop_primary();
        std::thread::sleep(delay);
        pair.promote_standby();
        promoted.set(true);
    }

    /// For a pair: waits until the standby has replayed what the primary wrote.
    pub fn settle(&self) {
        if let Server::Pair { pair, promoted } = self
            && !promoted.get()
        {
            pair.wait_caught_up();
        }
    }

    /// Where sqlrail's connections go when no proxy is in between.
    pub fn addr(&self) -> SocketAddr {
        match self {
            Server::Local => "127.0.0.1:5432".parse().unwrap(),
            Server::Owned(c) => SocketAddr::from(([127, 0, 0, 1], c.port)),
            Server::Pair { pair, promoted } => {
                SocketAddr::from(([127, 0, 0, 1], Server::primary_port(pair, promoted)))
            }
        }
    }

    /// The URL sqlrail gets for `db` at `port` (the server's, or a proxy's in front of it).
    /// The owned cluster's certificate is checked against the test CA (`verify-ca`: the
    /// certificate names `localhost`, the URL an address).
    pub fn runner_url(&self, db: &str, port: u16) -> String {
        match self {
            Server::Local => format!("postgres://postgres@127.0.0.1:{port}/{db}?sslmode=disable"),
            Server::Owned(c) => format!(
                "postgres://postgres:{}@127.0.0.1:{port}/{db}?sslmode=verify-ca&sslrootcert={}",
                support::cluster::PASSWORD,
                c.path("ca.crt")
            ),
            // Both hosts, so a run follows the failover; `port` is the primary's then.
            Server::Pair { pair, promoted } if !promoted.get() && port == pair.primary_port() => {
                pair.url(db, "sslmode=disable&target_session_attrs=read-write")
            }
            Server::Pair { .. } => {
                format!("postgres://postgres@127.0.0.1:{port}/{db}?sslmode=disable")
            }
        }
    }

    /// An admin connection string (superuser, no TLS needed) for `db`.
    pub fn admin_conninfo(&self, db: &str) -> String {
        match self {
            Server::Local => format!(
                "{} dbname={db}",
                support::admin_url().replace("dbname=postgres", "")
            ),
            Server::Owned(c) => c.socket_conninfo(db),
            Server::Pair { pair, promoted } => format!(
                "host=127.0.0.1 port={} user=postgres dbname={db}",
                Server::primary_port(pair, promoted)
            ),
        }
    }

    /// An admin client on `db`, retried for a while: the owned server may be restarting.
    pub fn admin(&self, db: &str) -> Client {
        let conninfo = self.admin_conninfo(db);
        let mut last = None;
        for _ in 0..100 {
            match Client::connect(&conninfo, NoTls) {
                Ok(client) => return client,
                Err(e) => last = Some(e),
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        panic!("admin connection to {} failed: {:?}", self.name(), last);
    }

    pub fn create_db(&self, db: &str) {
        self.admin("postgres")
            .batch_execute(&format!("CREATE DATABASE \"{db}\""))
            .unwrap();
    }

    pub fn drop_db(&self, db: &str) {
        let _ = self
            .admin("postgres")
            .batch_execute(&format!("DROP DATABASE IF EXISTS \"{db}\" WITH (FORCE)"));
    }

    /// `pg_dump --schema-only` of `db`.
    pub fn schema_dump(&self, db: &str) -> String {
        match self {
            Server::Local => {
                support::pg_dump_schema(&["-h", "127.0.0.1", "-p", "5432", "-U", "postgres"], db)
            }
            Server::Owned(c) => support::pg_dump_schema(
                &[
                    "-h",
                    &c.socket_dir(),
                    "-p",
                    &c.port.to_string(),
                    "-U",
                    "postgres",
                ],
                db,
            ),
            Server::Pair { pair, promoted } => support::pg_dump_schema(
                &[
                    "-h",
                    "127.0.0.1",
                    "-p",
                    &Server::primary_port(pair, promoted).to_string(),
                    "-U",
                    "postgres",
                ],
                db,
            ),
        }
    }

    /// Restarts the server (the owned cluster only).
    pub fn restart(&self, immediate: bool) {
        match self {
            Server::Local | Server::Pair { .. } => {
                panic!("the harness restarts only its TLS cluster")
            }
            Server::Owned(c) => c.restart(immediate),
        }
    }
}
