//! `sqlrail status`: applied, reconciled, pending and drifted migrations, with times;
//! index builds (valid, reconciled, failed, interrupted, pending) and backfill progress.

use std::io::Write;

use serde::Serialize;

use crate::cli::{DbArgs, Format};
use crate::error::{Error, Exit};
use crate::exec::ddl::Action;

use crate::config::Phase;
use crate::ledger::state::{BackfillRow, IndexRow};

use super::connection::open;
use super::plan::read_plan_in;

#[derive(Serialize)]
struct Entry<'a> {
    id: &'a str,
    state: &'static str,
    applied_on: Option<&'a str>,
    duration_ms: Option<i64>,
    /// The operator's reason for a migration recorded by `sqlrail mark`.
    #[serde(skip_serializing_if = "Option::is_none")]
    note: Option<&'a str>,
}

#[derive(Serialize)]
struct IndexEntry {
    id: String,
    /// `valid`, `reconciled`, `failed`, `interrupted` (started, never finished: the next
    /// run drops and rebuilds it), `pending`.
    state: String,
    started_at: Option<String>,
    finished_at: Option<String>,
    attempts: i32,
    last_error: Option<String>,
}

#[derive(Serialize)]
struct BackfillEntry {
    id: String,
    tenant: Option<String>,
    /// `pending`, `running` (stopped or interrupted: resumes at `cursor`), `done`,
    /// `incomplete`, `failed`, `paused`.
    state: String,
    cursor: Option<i64>,
    high_water: Option<i64>,
    rows: i64,
    batches: i64,
    updated_at: Option<String>,
    last_error: Option<String>,
}

#[derive(Serialize)]
struct Report<'a> {
    migrations: Vec<Entry<'a>>,
    indexes: Vec<IndexEntry>,
    backfills: Vec<BackfillEntry>,
}

pub fn run(args: &DbArgs) -> Result<Exit, Error> {
    let mut session = open(args, None, args.format == Format::Json)?;
    let plan = read_plan_in(&mut session)?;
    let planned: Vec<_> = plan
        .migrations
        .iter()
        .filter(|p| p.phase == Phase::Ddl)
        .collect();
    let state = session.state.clone();
    let (index_rows, backfill_rows) =
        if session.exec.read("the phase state", |c| state.exists(c))? {
            (
                session
                    .exec
                    .read("the phase state", |c| state.index_rows(c))?,
                session
                    .exec
                    .read("the phase state", |c| state.backfill_rows(c))?,
            )
        } else {
            (Vec::new(), Vec::new())
        };
    let indexes = index_entries(&session.project, &index_rows);
    let backfills = backfill_entries(&session.project, &backfill_rows);
    let entries: Vec<Entry> = planned
        .iter()
        .map(|p| Entry {
            id: &p.id,
            state: match p.action {
                Action::Applied | Action::AppliedCommentsChanged if p.note.is_some() => "marked",
                Action::Applied | Action::AppliedCommentsChanged if p.reconciled => "reconciled",
                Action::Applied | Action::AppliedCommentsChanged => "applied",
                Action::Drifted => "drifted",
                Action::Reconcile | Action::Run => "pending",
            },
            applied_on: p.applied_on.as_deref(),
            duration_ms: p.duration_ms,
            note: p.note.as_deref(),
        })
        .collect();
    if args.format == Format::Json {
        let text = serde_json::to_string_pretty(&Report {
            migrations: entries,
            indexes,
            backfills,
        })
        .map_err(std::io::Error::other)?;
        writeln!(std::io::stdout().lock(), "{text}")?;
    } else {
        // (phase, state, id, detail), laid out once the widest id is known.
        let mut rows: Vec<(&str, &str, String, String)> = Vec::new();
        for e in &entries {
            let detail = format!(
                "{}{}",
                e.applied_on.unwrap_or(""),
                e.duration_ms
                    .map(|d| format!(" ({d} ms)"))
                    .unwrap_or_default()
            );
            rows.push(("ddl", e.state, e.id.to_owned(), detail));
        }
        for e in &indexes {
            let detail = format!(
                "{}{}",
                e.finished_at
                    .as_deref()
                    .or(e.started_at.as_deref())
                    .unwrap_or(""),
                e.last_error
                    .as_deref()
                    .map(|m| format!(" ({m})"))
                    .unwrap_or_default()
            );
            rows.push(("indexes", &e.state, e.id.clone(), detail));
        }
        for e in &backfills {
            let progress = match (e.cursor, e.high_water) {
                (Some(c), Some(h)) => format!(
                    "key {} of {h}, {} rows in {} batches",
                    c.min(h),
                    e.rows,
                    e.batches
                ),
                _ => String::new(),
            };
            let id = match &e.tenant {
                Some(t) => format!("{} (tenant {t})", e.id),
                None => e.id.clone(),
            };
            let detail = format!(
                "{progress}{}",
                e.last_error
                    .as_deref()
                    .map(|m| format!(" ({m})"))
                    .unwrap_or_default()
            );
            rows.push(("backfills", &e.state, id, detail));
        }
        let width = rows.iter().map(|r| r.2.chars().count()).max().unwrap_or(0);
        for (_, state, id, detail) in &rows {
            let line = format!("{state:<10} {id:<width$} {detail}");
            crate::say!("{}", line.trim_end());
        }
        crate::say!("{}", summary(&rows));
    }
    Ok(if planned.iter().any(|p| p.action == Action::Drifted) {
        Exit::Findings
    } else {
        Exit::Success
    })
}

/// `ddl: 30 applied, 5 pending; indexes: 14 valid; backfills: 8 done`: each phase's
/// count per state, in the order the states first appear.
fn summary(rows: &[(&str, &str, String, String)]) -> String {
    let mut phases: Vec<(&str, Vec<(&str, usize)>)> = Vec::new();
    for (phase, state, ..) in rows {
        let at = match phases.iter().position(|(p, _)| p == phase) {
            Some(at) => at,
            None => {
                phases.push((phase, Vec::new()));
                phases.len() - 1
            }
        };
        let counts = &mut phases[at].1;
        match counts.iter_mut().find(|(s, _)| s == state) {
            Some((_, n)) => *n += 1,
            None => counts.push((state, 1)),
        }
    }
    if phases.is_empty() {
        return "no migrations in the project".into();
    }
    phases
        .iter()
        .map(|(phase, counts)| {
            let counts: Vec<String> = counts.iter().map(|(s, n)| format!("{n} {s}")).collect();
            format!("{phase}: {}", counts.join(", "))
        })
        .collect::<Vec<_>>()
        .join("; ")
}

fn index_entries(project: &crate::project::Project, rows: &[IndexRow]) -> Vec<IndexEntry> {
    let by_id: std::collections::HashMap<&str, &IndexRow> =
        rows.iter().map(|r| (r.id.as_str(), r)).collect();
    project
        .phase(Phase::Indexes)
        .map(|m| match by_id.get(m.id.as_str()) {
            Some(r) => IndexEntry {
                id: m.id.clone(),
                state: if r.state == "building" {
                    "interrupted".into()
                } else {
                    r.state.clone()
                },
                started_at: r.started_at.clone(),
                finished_at: r.finished_at.clone(),
                attempts: r.attempts,
                last_error: r.last_error.clone(),
            },
            None => IndexEntry {
                id: m.id.clone(),
                state: "pending".into(),
                started_at: None,
                finished_at: None,
                attempts: 0,
                last_error: None,
            },
        })
        .collect()
}

fn backfill_entries(project: &crate::project::Project, rows: &[BackfillRow]) -> Vec<BackfillEntry> {
    let mut by_id: std::collections::HashMap<&str, Vec<&BackfillRow>> =
        std::collections::HashMap::new();
    for r in rows {
        by_id.entry(r.id.as_str()).or_default().push(r);
    }
    let mut entries = Vec::new();
    for m in project.phase(Phase::Backfills) {
        let paused = project
            .manifest
            .entry(&m.id)
            .and_then(|e| e.backfill.as_ref())
            .is_some_and(|b| b.status == crate::config::BackfillStatus::Paused);
        let mine: Vec<&BackfillRow> = by_id.get(m.id.as_str()).cloned().unwrap_or_default();
        if mine.is_empty() {
            entries.push(BackfillEntry {
                id: m.id.clone(),
                tenant: None,
                state: if paused { "paused" } else { "pending" }.into(),
                cursor: None,
                high_water: None,
                rows: 0,
                batches: 0,
                updated_at: None,
                last_error: None,
            });
        }
        for r in mine {
            entries.push(BackfillEntry {
                id: m.id.clone(),
                tenant: (!r.tenant.is_empty()).then(|| r.tenant.clone()),
                state: if paused && r.state != "done" {
                    "paused".into()
                } else {
                    r.state.clone()
                },
                cursor: Some(r.cursor),
                high_water: Some(r.high_water),
                rows: r.rows,
                batches: r.batches,
                updated_at: Some(r.updated_at.clone()),
                last_error: r.last_error.clone(),
            });
        }
    }
    entries
}
