//! `sqlrail reset`: drops and recreates a local development database, applies the
//! project to it and runs an optional seed file. Everything that could drop the wrong
//! database is checked before the first connection: protected names, a local host, a
//! confirmation.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::cli::{Format, ResetArgs};
use crate::db::connect::{Strategy, Target};
use crate::db::errors::error_offset;
use crate::db::quote::{ident, literal};
use crate::db::recreate::{ResetError, check_allowed, recreate};
use crate::error::{Error, Exit};
use crate::exec::executor::UnitKind;
use crate::sql::{LineIndex, StatementKind, split};

use super::apply::{RunOptions, apply_session};
use super::connection::{load_project, open_project, resolve};

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
    crate::say!("reset: dropped and created `{name}` ({recreated_ms} ms)");

    let strategy = Strategy::Single(Box::new(target));
    let lock_wait = args.lock_wait.as_ref().map(|d| d.0);
    let mut session = open_project(project, &strategy, lock_wait, false)?;
    let options = RunOptions {
        only: None,
        up_to: args.phase,
        allow_drift: false,
        strict: args.strict,
        json: args.db.format == Format::Json,
        to: None,
    };
    let exit = apply_session(&mut session, &options)?;
    if let Some(seed) = &seed {
        run_seed(&mut session, seed)?;
        session.exec.release();
    }
    crate::say!(
        "reset: `{name}` is ready ({} ms)",
        started.elapsed().as_millis()
    );
    Ok(exit)
}

/// Says what will be dropped; on a terminal asks, elsewhere requires `--yes`.
fn confirm(target: &Target, name: &str, yes: bool) -> Result<(), ResetError> {
    crate::say!(
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
            crate::say!(
                "reset: seeded from {shown} ({} ms)",
                started.elapsed().as_millis()
            );
            Ok(())
        }
        Err(e) if e.ends_run() => Err(e.into()),
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
