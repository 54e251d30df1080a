//! Dropping and recreating a development database (`sqlrail reset`): what may be dropped
//! (never a protected database, only a local host unless forced), and the drop itself,
//! after ending the sessions still connected to it.

use postgres::Client;

use crate::config::Settings;
use crate::db::connect::Target;
use crate::db::errors::describe;
use crate::db::quote::ident;

/// Databases no reset drops, whatever the manifest says: the server's own.
const ALWAYS_PROTECTED: [&str; 3] = ["postgres", "template0", "template1"];

/// Why a reset refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum ResetError {
    #[error(
        "refusing to reset `{name}`: it is a protected database (manifest.yaml settings.protected_databases, plus postgres, template0 and template1); point --database-url at a development database"
    )]
    Protected { name: String },
    #[error(
        "refusing to reset {target}: the host is not local (a unix socket, localhost, 127.0.0.0/8 or ::1); reset is for development databases. If this one is disposable, add --force"
    )]
    NotLocal { target: String },
    #[error("not confirmed: {0}; nothing was dropped")]
    NotConfirmed(String),
    #[error("cannot {action} `{name}` on {target}: {message}")]
    Database {
        action: &'static str,
        name: String,
        target: String,
        message: String,
    },
    #[error("{at}: {message}; nothing was dropped")]
    SeedInput { at: String, message: String },
    #[error("{path}:{line}: the seed failed and was rolled back: {message}")]
    Seed {
        path: String,
        line: u32,
        message: String,
    },
}

/// Protected names first (no flag overrides them), then the host.
pub fn check_allowed(
    target: &Target,
    name: &str,
    settings: &Settings,
    force: bool,
) -> Result<(), ResetError> {
    let protected = ALWAYS_PROTECTED
        .iter()
        .copied()
        .chain(settings.protected_databases.iter().map(String::as_str))
        .any(|p| p == name);
    if protected {
        return Err(ResetError::Protected {
            name: name.to_owned(),
        });
    }
    if !target.is_local() && !force {
        return Err(ResetError::NotLocal {
            target: target.describe(),
        });
    }
    Ok(())
}

/// Drops and creates `name` from the maintenance database (`postgres`, else `template1`),
/// after terminating the sessions still connected to it.
pub fn recreate(target: &Target, name: &str, settings: &Settings) -> Result<(), ResetError> {
    let database_error = |action: &'static str, e: &postgres::Error| ResetError::Database {
        action,
        name: name.to_owned(),
        target: target.describe(),
        message: describe(e),
    };
    let timeout = settings.retry.connect_timeout.0;
    let mut client =
        maintenance_client(target, timeout).map_err(|message| ResetError::Database {
            action: "connect to drop",
            name: name.to_owned(),
            target: target.describe(),
            message,
        })?;
    let others = client
        .query(
            "SELECT pid, coalesce(usename, '?'), coalesce(nullif(application_name, ''), '?') \
             FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid() ORDER BY pid",
            &[&name],
        )
        .map_err(|e| database_error("list the sessions of", &e))?;
    if !others.is_empty() {
        let who: Vec<String> = others
            .iter()
            .map(|r| {
                format!(
                    "pid {} ({}, {})",
                    r.get::<_, i32>(0),
                    r.get::<_, String>(1),
                    r.get::<_, String>(2)
                )
            })
            .collect();
        crate::say!(
            "reset: terminating {} other session(s) on `{name}`: {}",
            others.len(),
            who.join(", ")
        );
        client
            .execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                 WHERE datname = $1 AND pid <> pg_backend_pid()",
                &[&name],
            )
            .map_err(|e| database_error("terminate the sessions of", &e))?;
    }
    let version: i32 = client
        .query_one("SELECT current_setting('server_version_num')::int", &[])
        .map_err(|e| database_error("read the server version before dropping", &e))?
        .get(0);
    // WITH (FORCE) (PostgreSQL 13+) also ends sessions that connected since the
    // termination above.
    let force = if version >= 130_000 {
        " WITH (FORCE)"
    } else {
        ""
    };
    client
        .batch_execute(&format!("DROP DATABASE IF EXISTS {}{force}", ident(name)))
        .map_err(|e| database_error("drop", &e))?;
    client
        .batch_execute(&format!("CREATE DATABASE {}", ident(name)))
        .map_err(|e| database_error("create", &e))?;
    Ok(())
}

/// A connection to a database other than the one being dropped.
fn maintenance_client(target: &Target, timeout: std::time::Duration) -> Result<Client, String> {
    let mut last = String::new();
    for database in ["postgres", "template1"] {
        match target.with_dbname(database).connect(timeout) {
            Ok(client) => return Ok(client),
            Err(e) => last = e.to_string(),
        }
    }
    Err(last)
}
