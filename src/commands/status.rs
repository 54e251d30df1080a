//! `sqlrail status`: applied, reconciled, pending and drifted migrations, with times.

use std::io::Write;

use serde::Serialize;

use crate::cli::{DbArgs, Format};
use crate::error::{Error, Exit};
use crate::exec::ddl::Action;

use super::plan::read_plan;

#[derive(Serialize)]
struct Entry<'a> {
    id: &'a str,
    state: &'static str,
    applied_on: Option<&'a str>,
    duration_ms: Option<i64>,
}

#[derive(Serialize)]
struct Report<'a> {
    migrations: Vec<Entry<'a>>,
}

pub fn run(args: &DbArgs) -> Result<Exit, Error> {
    let (planned, _) = read_plan(args)?;
    let entries: Vec<Entry> = planned
        .iter()
        .map(|p| Entry {
            id: &p.id,
            state: match p.action {
                Action::Applied | Action::AppliedCommentsChanged if p.reconciled => "reconciled",
                Action::Applied | Action::AppliedCommentsChanged => "applied",
                Action::Drifted => "drifted",
                Action::Reconcile | Action::Run => "pending",
            },
            applied_on: p.applied_on.as_deref(),
            duration_ms: p.duration_ms,
        })
        .collect();
    if args.format == Format::Json {
        let text = serde_json::to_string_pretty(&Report {
            migrations: entries,
        })
        .map_err(std::io::Error::other)?;
        writeln!(std::io::stdout().lock(), "{text}")?;
    } else {
        for e in &entries {
            eprintln!(
                "{:<10} {:<40} {}{}",
                e.state,
                e.id,
                e.applied_on.unwrap_or(""),
                e.duration_ms
                    .map(|d| format!(" ({d} ms)"))
                    .unwrap_or_default()
            );
        }
    }
    Ok(if planned.iter().any(|p| p.action == Action::Drifted) {
        Exit::Findings
    } else {
        Exit::Success
    })
}
