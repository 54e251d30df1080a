//! `sqlrail reset`: drops and recreates a local development database, applies the
//! project to it and runs an optional seed file. Everything that could drop the wrong
//! database is checked before the first connection: protected names, a local host, a
//! confirmation.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use postgres::Client;

use crate::cli::{Format, ResetArgs};
use crate::config::Settings;
use crate::db::connect::{Strategy, Target};
use crate::db::errors::{describe, error_offset};
use crate::db::quote::{ident, literal};
use crate::error::{Error, Exit};
use crate::exec::executor::{ExecError, UnitKind};
use crate::sql::{LineIndex, StatementKind, split};

use super::apply::{RunOptions, apply_session};
use super::connection::{load_project, open_project, resolve};

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

pub fn run(args: &ResetArgs) -> Result<Exit, Error> {
    let project = load_project()?;
    let strategy = resolve(&args.db)?;
    // Dropping a database through a pooler would leave the pooler's server connections
    // pointing at it; a reset always talks to the server.
    let target = strategy.direct().clone();
    let name = target.dbname();
    check_allowed(&target, &name, &project.manifest.settings, args.force)?;
    let seed = args.seed.as_deref().map(read_seed).transpose()?;
    confirm(&target, &name, args.yes)?;

    let started = Instant::now();
    recreate(&target, &name, &project.manifest.settings)?;
    let recreated_ms = started.elapsed().as_millis();
    eprintln!("reset: dropped and created `{name}` ({recreated_ms} ms)");

    let strategy = Strategy::Single(Box::new(target));
    let lock_wait = args.lock_wait.as_ref().map(|d| d.0);
    let mut session = open_project(project, &strategy, lock_wait, false)?;
    let options = RunOptions {
        only: None,
        up_to: args.phase,
        allow_drift: false,
        strict: args.strict,
        json: args.db.format == Format::Json,
    };
    let exit = apply_session(&mut session, &options)?;
    if let Some(seed) = &seed {
        run_seed(&mut session, seed)?;
        session.exec.release();
    }
    eprintln!(
        "reset: `{name}` is ready ({} ms)",
        started.elapsed().as_millis()
    );
    Ok(exit)
}

/// Protected names first (no flag overrides them), then the host.
fn check_allowed(
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

/// Says what will be dropped; on a terminal asks, elsewhere requires `--yes`.
fn confirm(target: &Target, name: &str, yes: bool) -> Result<(), ResetError> {
    eprintln!(
        "reset: will drop database `{name}` on {} and create it empty (all its data is lost)",
        target.describe()
    );
    if yes {
        return Ok(());
    }
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        return Err(ResetError::NotConfirmed(
            "stdin is not a terminal; pass --yes to reset without a prompt".into(),
        ));
    }
    eprint!("Drop `{name}`? [y/N] ");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    let _ = stdin.lock().read_line(&mut answer);
    if matches!(answer.trim(), "y" | "Y" | "yes" | "YES" | "Yes") {
        Ok(())
    } else {
        Err(ResetError::NotConfirmed(format!(
            "the answer was `{}`",
            answer.trim()
        )))
    }
}

/// Drops and creates `name` from the maintenance database (`postgres`, else `template1`),
/// after terminating the sessions still connected to it.
fn recreate(target: &Target, name: &str, settings: &Settings) -> Result<(), ResetError> {
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
        eprintln!(
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

/// A seed file, checked before anything is dropped.
struct Seed {
    path: PathBuf,
    sql: String,
}

/// Reads and checks the seed: plain SQL the server can run in one transaction.
fn read_seed(path: &Path) -> Result<Seed, ResetError> {
    // `path`, or `path:line[:column]` when the problem has a place.
    let input = |at: &str, message: String| ResetError::SeedInput {
        at: format!("{}{at}", path.display()),
        message,
    };
    let bytes =
        std::fs::read(path).map_err(|e| input("", format!("cannot read the seed file: {e}")))?;
    let sql = String::from_utf8(bytes).map_err(|e| {
        input(
            "",
            format!(
                "not UTF-8 (at byte {}); save it as UTF-8",
                e.utf8_error().valid_up_to()
            ),
        )
    })?;
    let file = split(&sql).map_err(|e| {
        let (line, column) = LineIndex::new(&sql).position(&sql, e.start);
        input(
            &format!(":{line}:{column}"),
            format!("this {} is never closed; close it", e.unclosed),
        )
    })?;
    if let Some(psql) = file.psql.first() {
        return Err(input(
            &format!(":{}", psql.line),
            "psql-only syntax (a backslash command or COPY … FROM stdin data); the seed is run by the server, so use plain SQL (INSERT, or COPY FROM a server-side file)".into(),
        ));
    }
    if let Some(tx) = file
        .statements
        .iter()
        .find(|s| s.kind == StatementKind::TransactionControl)
    {
        return Err(input(
            &format!(":{}", tx.line),
            format!(
                "`{}`: the seed already runs in one transaction; remove its transaction control",
                tx.tag
            ),
        ));
    }
    Ok(Seed {
        path: path.to_owned(),
        sql,
    })
}

/// Runs the seed in one fenced transaction that also records it, so a connection lost
/// after `COMMIT` is not followed by a second run.
fn run_seed(session: &mut super::connection::Session, seed: &Seed) -> Result<(), Error> {
    let schema = ident(&session.project.manifest.settings.ledger_schema);
    let table = format!("{schema}.sqlrail_seeds");
    let shown = seed.path.display().to_string();
    session.exec.record(
        "seed",
        &format!(
            "CREATE TABLE IF NOT EXISTS {table} (file text NOT NULL, seeded_at timestamptz NOT NULL DEFAULT now())"
        ),
    )?;
    let done = format!(
        "EXISTS (SELECT 1 FROM {table} WHERE file = {})",
        literal(&shown)
    );
    let insert = format!("INSERT INTO {table} (file) VALUES ({})", literal(&shown));
    // The seed's text starts after this prefix, so server positions map back to its lines.
    let started = Instant::now();
    let mut prefix_len = 0;
    let result = session.exec.run(
        "seed",
        UnitKind::Other,
        Some(&done),
        |c, fence| {
            let prefix = format!("BEGIN; {fence};\n");
            prefix_len = prefix.chars().count();
            c.batch_execute(&format!("{prefix}{}\n;\n{insert}; COMMIT;", seed.sql))
        },
        |c| {
            let rows = c.query(&format!("SELECT 1 FROM {table} WHERE file = $1"), &[&shown])?;
            Ok((!rows.is_empty()).then_some(()))
        },
    );
    match result {
        Ok(_) => {
            eprintln!(
                "reset: seeded from {shown} ({} ms)",
                started.elapsed().as_millis()
            );
            Ok(())
        }
        Err(e @ (ExecError::Connect { .. } | ExecError::LockWait { .. })) => Err(e.into()),
        Err(e) => {
            let line = e
                .db_error()
                .and_then(|db| error_offset(db, prefix_len, &seed.sql))
                .map_or(1, |byte| {
                    LineIndex::new(&seed.sql).position(&seed.sql, byte).0
                });
            let message = e.db_error().map_or_else(
                || e.to_string(),
                |db| format!("{}: {}", db.severity(), db.message()),
            );
            Err(ResetError::Seed {
                path: shown,
                line,
                message,
            }
            .into())
        }
    }
}
