//! `sqlrail plan`: what `apply` would do; reads only.

use std::io::Write;

use serde::Serialize;

use crate::cli::{DbArgs, Format};
use crate::error::{Error, Exit};
use crate::exec::ddl::{Action, Planned, pending_fingerprints, plan};

use super::connection::open;

#[derive(Serialize)]
struct Report<'a> {
    migrations: &'a [Planned],
}

pub fn run(args: &DbArgs) -> Result<Exit, Error> {
    let (planned, _) = read_plan(args)?;
    if args.format == Format::Json {
        let mut out = std::io::stdout().lock();
        let text = serde_json::to_string_pretty(&Report {
            migrations: &planned,
        })
        .map_err(std::io::Error::other)?;
        writeln!(out, "{text}")?;
    } else {
        for p in &planned {
            let what = match p.action {
                Action::Applied => continue,
                Action::AppliedCommentsChanged => {
                    "applied; only comments or whitespace changed since"
                }
                Action::Drifted => "DRIFT: changed since it was applied",
                Action::Reconcile => "reconcile: its fingerprint holds; record it, run nothing",
                Action::Run => "run",
            };
            eprintln!("{:<40} {what}", p.id);
        }
        let count = |a: Action| planned.iter().filter(|p| p.action == a).count();
        eprintln!(
            "ddl: {} to run, {} to reconcile, {} applied",
            count(Action::Run),
            count(Action::Reconcile),
            count(Action::Applied) + count(Action::AppliedCommentsChanged)
        );
    }
    Ok(if planned.iter().any(|p| p.action == Action::Drifted) {
        Exit::Findings
    } else {
        Exit::Success
    })
}

/// The plan, read without taking the lock or writing anything. Also returns whether the
/// ledger exists.
pub fn read_plan(args: &DbArgs) -> Result<(Vec<Planned>, bool), Error> {
    let mut session = open(args, None, args.format == Format::Json)?;
    read_plan_in(&mut session)
}

/// The DDL plan on an open session, and whether the ledger exists.
pub fn read_plan_in(
    session: &mut super::connection::Session,
) -> Result<(Vec<Planned>, bool), Error> {
    let ledger = session.ledger.clone();
    let exists = session.exec.read("the ledger", |c| ledger.exists(c))?;
    let rows = if exists {
        session.exec.read("the ledger", |c| ledger.rows(c))?
    } else {
        Vec::new()
    };
    let holds = pending_fingerprints(&mut session.exec, &session.project, &rows)?;
    Ok((plan(&session.project, &rows, &holds), exists))
}
