//! `sqlrail verify`: every recorded migration's fingerprint still holds.

use std::io::Write;

use serde::Serialize;

use crate::cli::{DbArgs, Format};
use crate::config::Fingerprint;
use crate::db::fingerprint::holds_all;
use crate::error::{Error, Exit};

use super::connection::open;

#[derive(Serialize)]
struct Entry {
    id: String,
    holds: bool,
}

pub fn run(args: &DbArgs) -> Result<Exit, Error> {
    let mut session = open(args, None, args.format == Format::Json)?;
    let ledger = session.ledger.clone();
    let rows = if session.exec.read("the ledger", |c| ledger.exists(c))? {
        session.exec.read("the ledger", |c| ledger.rows(c))?
    } else {
        Vec::new()
    };
    let checks: Vec<(String, &Fingerprint)> = session
        .project
        .phase(crate::config::Phase::Ddl)
        .filter(|m| rows.iter().any(|r| r.version == m.version as i32))
        .filter_map(|m| {
            let f = session
                .project
                .manifest
                .entry(&m.id)?
                .fingerprint
                .as_ref()?;
            Some((m.id.clone(), f))
        })
        .collect();
    let fingerprints: Vec<&Fingerprint> = checks.iter().map(|(_, f)| *f).collect();
    let results = session
        .exec
        .read("fingerprints", |c| holds_all(c, &fingerprints))?;
    let entries: Vec<Entry> = checks
        .iter()
        .zip(&results)
        .map(|((id, _), holds)| Entry {
            id: id.clone(),
            holds: *holds,
        })
        .collect();
    let broken = entries.iter().filter(|e| !e.holds).count();
    if args.format == Format::Json {
        let text = serde_json::to_string_pretty(
            &serde_json::json!({ "migrations": entries, "broken": broken }),
        )
        .map_err(std::io::Error::other)?;
        writeln!(std::io::stdout().lock(), "{text}")?;
    } else {
        for e in entries.iter().filter(|e| !e.holds) {
            eprintln!(
                "{}: its fingerprint no longer holds (the schema changed outside migrations?)",
                e.id
            );
        }
        eprintln!(
            "{} of {} recorded fingerprints hold",
            entries.len() - broken,
            entries.len()
        );
    }
    Ok(if broken > 0 {
        Exit::Findings
    } else {
        Exit::Success
    })
}
