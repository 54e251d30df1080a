//! `sqlrail apply`: the deploy step. Today: the DDL phase.

use std::io::Write;

use serde::Serialize;

use crate::cli::{ApplyArgs, Format};
use crate::error::{Error, Exit};
use crate::exec::ddl::{self, Options, Outcome};

use super::connection::open;

#[derive(Serialize)]
struct Report<'a> {
    connection: &'a str,
    migrations: &'a [Outcome],
    summary: Summary,
}

#[derive(Serialize)]
struct Summary {
    applied: usize,
    reconciled: usize,
    already_applied: usize,
}

pub fn run(args: &ApplyArgs) -> Result<Exit, Error> {
    let json = args.db.format == Format::Json;
    let mut session = open(&args.db, args.lock_wait.as_ref().map(|d| d.0), false)?;
    let options = Options {
        allow_drift: args.allow_drift,
    };
    let log = |line: &str| eprintln!("{line}");
    let outcomes = ddl::apply(
        &mut session.exec,
        &session.project,
        &session.ledger,
        &options,
        &log,
    )?;
    session.exec.release();
    let count = |r: &str| outcomes.iter().filter(|o| o.result == r).count();
    let summary = Summary {
        applied: count("applied"),
        reconciled: count("reconciled"),
        already_applied: count("already-applied"),
    };
    if outcomes.is_empty() {
        eprintln!("nothing to apply: every DDL migration is recorded");
    } else {
        eprintln!(
            "ddl: {} applied, {} reconciled{}",
            summary.applied,
            summary.reconciled,
            if summary.already_applied > 0 {
                format!(", {} found already applied", summary.already_applied)
            } else {
                String::new()
            }
        );
    }
    if json {
        let report = Report {
            connection: &session.announcement,
            migrations: &outcomes,
            summary,
        };
        let mut out = std::io::stdout().lock();
        writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&report).map_err(std::io::Error::other)?
        )?;
    }
    Ok(Exit::Success)
}
