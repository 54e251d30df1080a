//! `sqlrail verify`: every recorded migration's fingerprint answers what the history says
//! it should at the point the database is at. A check of an object a later migration
//! drops, renames or replaces is expected *not* to hold once that migration ran: that is
//! history, not drift (on real histories, 92 of 150 fingerprints were reported broken on
//! a database sqlrail had migrated itself). Drift is a check that disagrees with the
//! history: an object gone that should be there, or one there that a migration dropped.

use std::io::Write;

use serde::Serialize;

use crate::cli::{DbArgs, Format};
use crate::config::{Fingerprint, Phase};
use crate::db::fingerprint::holds_all;
use crate::error::{Error, Exit};
use crate::exec::adopt::Standing;
use crate::exec::ddl::{Action, plan, read};
use crate::history::{History, Truth};

use super::connection::open;

#[derive(Serialize)]
struct Entry {
    id: String,
    holds: bool,
    /// What the history says it should answer here: `holds`, `does-not-hold` (a later
    /// migration dropped or replaced what it checks) or `unknown`.
    expected: &'static str,
    drift: bool,
}

pub fn run(args: &DbArgs) -> Result<Exit, Error> {
    let mut session = open(args, None, args.format == Format::Json)?;
    let project = &session.project;
    let history = History::of(project);
    // What is recorded: DDL migrations in the ledger, placed index builds and backfills
    // in the phase state (an index dropped at its point is history too).
    let reading = read(
        &mut session.exec,
        project,
        &history,
        &session.ledger,
        &session.state,
        Some(&Standing::Recorded),
    )?;
    let planned = plan(project, &history, &reading);
    let is_recorded = |step: usize| {
        matches!(
            planned[step - 1].action,
            Action::Applied | Action::AppliedCommentsChanged | Action::Drifted
        )
    };
    // The database is taken to be at its last recorded step.
    let at = (1..=history.sequenced)
        .rev()
        .find(|&s| is_recorded(s))
        .unwrap_or(0);
    let checks: Vec<(usize, &Fingerprint)> = (1..=history.sequenced)
        .filter(|&s| is_recorded(s))
        .filter_map(|s| {
            let m = history.steps[s - 1].migration;
            (m.phase == Phase::Ddl).then_some(())?;
            Some((s, project.entry(&m.id)?.fingerprint.as_ref()?))
        })
        .collect();
    let fingerprints: Vec<&Fingerprint> = checks.iter().map(|(_, f)| *f).collect();
    let results = session
        .exec
        .read("fingerprints", |c| holds_all(c, &fingerprints))?;
    let entries: Vec<Entry> = checks
        .iter()
        .zip(&results)
        .map(|((step, check), holds)| {
            let expected = history.predict(check, at, *step);
            Entry {
                id: history.steps[step - 1].migration.id.clone(),
                holds: *holds,
                expected: match expected {
                    Truth::True => "holds",
                    Truth::False => "does-not-hold",
                    Truth::Unknown => "unknown",
                },
                drift: expected.known().is_some_and(|e| e != *holds),
            }
        })
        .collect();
    let drifted = entries.iter().filter(|e| e.drift).count();
    let superseded = entries
        .iter()
        .filter(|e| e.expected == "does-not-hold")
        .count();
    if args.format == Format::Json {
        let text = serde_json::to_string_pretty(&serde_json::json!({
            "migrations": entries,
            "drifted": drifted,
            "superseded": superseded,
        }))
        .map_err(std::io::Error::other)?;
        writeln!(std::io::stdout().lock(), "{text}")?;
    } else {
        for e in entries.iter().filter(|e| e.drift) {
            if e.holds {
                crate::say!(
                    "{}: its fingerprint holds, but a later migration dropped or replaced what it checks (the schema changed outside migrations?)",
                    e.id
                );
            } else {
                crate::say!(
                    "{}: its fingerprint no longer holds (the schema changed outside migrations?)",
                    e.id
                );
            }
        }
        crate::say!(
            "{} of {} recorded fingerprints hold as the history expects{}",
            entries.len() - drifted,
            entries.len(),
            if superseded > 0 {
                format!(
                    " ({superseded} check objects that later migrations dropped, renamed or replaced, and rightly do not hold)"
                )
            } else {
                String::new()
            }
        );
    }
    Ok(if drifted > 0 {
        Exit::Findings
    } else {
        Exit::Success
    })
}
