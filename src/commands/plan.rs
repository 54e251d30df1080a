//! `sqlrail plan`: what `apply` would do, step by step in every phase; reads only.

use std::io::Write;

use serde::Serialize;

use crate::cli::{DbArgs, Format};
use crate::config::{BackfillStatus, Phase};
use crate::error::{Error, Exit};
use crate::exec::adopt::Adoption;
use crate::exec::ddl::{Action, Planned, Reading, plan, read};
use crate::exec::executor::Executor;
use crate::exec::indexes::DONE_STATES;
use crate::history::History;
use crate::history::order::placement;
use crate::ledger::state::{BackfillRow, IndexRow, PhaseState};
use crate::project::Project;

use super::connection::{Session, open};

/// An index file of the index phase and what apply would do with it.
#[derive(Debug, Clone, Serialize)]
pub struct IndexPlan {
    pub id: String,
    /// `build`, `rebuild` (an earlier attempt failed or was interrupted) or `recorded`.
    pub action: &'static str,
}

/// A backfill of the backfill phase and what apply would do with it.
#[derive(Debug, Clone, Serialize)]
pub struct BackfillPlan {
    pub id: String,
    /// `run`, `resume` (at `cursor`), `done`, `paused`.
    pub action: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cursor: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub high_water: Option<i64>,
}

/// The whole plan.
#[derive(Debug, Serialize)]
pub struct Plan {
    pub adoption: Adoption,
    /// The DDL sequence (DDL migrations, and index builds and backfills placed in it).
    pub migrations: Vec<Planned>,
    pub indexes: Vec<IndexPlan>,
    pub backfills: Vec<BackfillPlan>,
    /// Whether the ledger table exists yet.
    #[serde(skip)]
    pub ledger_exists: bool,
    /// What adoption found, for people (`None` when the ledger records migrations, or
    /// the database is empty).
    #[serde(skip)]
    pub adoption_line: Option<String>,
}

impl Plan {
    pub fn count(&self, action: Action) -> usize {
        self.migrations
            .iter()
            .filter(|p| p.action == action)
            .count()
    }

    pub fn drifted(&self) -> bool {
        self.count(Action::Drifted) > 0
    }
}

pub fn run(args: &DbArgs) -> Result<Exit, Error> {
    let mut session = open(args, None, args.format == Format::Json)?;
    let plan = read_plan_in(&mut session)?;
    if args.format == Format::Json {
        let mut out = std::io::stdout().lock();
        let text = serde_json::to_string_pretty(&plan).map_err(std::io::Error::other)?;
        writeln!(out, "{text}")?;
    } else {
        if let Some(line) = &plan.adoption_line {
            crate::say!("{line}");
        }
        print(&plan, &session.project);
    }
    Ok(if plan.drifted() {
        Exit::Findings
    } else {
        Exit::Success
    })
}

fn print(plan: &Plan, project: &Project) {
    let width = plan
        .migrations
        .iter()
        .map(|p| p.id.len())
        .chain(plan.indexes.iter().map(|p| p.id.len()))
        .chain(plan.backfills.iter().map(|p| p.id.len()))
        .max()
        .unwrap_or(0);
    for p in &plan.migrations {
        let what = match p.action {
            Action::Applied if p.phase != Phase::Ddl => "done",
            Action::Applied if p.reconciled => "applied (reconciled)",
            Action::Applied => "applied",
            Action::AppliedCommentsChanged => "applied; only comments or whitespace changed since",
            Action::Drifted => "DRIFT: changed since it was applied",
            Action::Reconcile => {
                "reconcile: already in the database (adoption); record it, run nothing"
            }
            Action::Run if p.phase == Phase::Indexes => "run (placed in the DDL sequence)",
            Action::Run if p.phase == Phase::Backfills => {
                "run to the end (placed in the DDL sequence)"
            }
            Action::Run => "run",
        };
        let place = project
            .migration(&p.id)
            .and_then(|m| placement(project, m))
            .map(|(at, side)| {
                format!(
                    " [{} {at}]",
                    if side == crate::history::order::Side::After {
                        "after"
                    } else {
                        "before"
                    }
                )
            })
            .unwrap_or_default();
        crate::say!("{:<width$}  {what}{place}", p.id);
    }
    for p in &plan.indexes {
        let what = match p.action {
            "rebuild" => "rebuild: an earlier attempt failed or was interrupted",
            other => other,
        };
        crate::say!("{:<width$}  {what}", p.id);
    }
    for p in &plan.backfills {
        let what = match (p.action, p.cursor, p.high_water) {
            ("resume", Some(c), Some(h)) => format!("resume at key {c} of {h}"),
            (action, ..) => action.to_owned(),
        };
        crate::say!("{:<width$}  {what}", p.id);
    }
    let applied = plan.count(Action::Applied) + plan.count(Action::AppliedCommentsChanged);
    crate::say!(
        "ddl: {} to run, {} to reconcile, {applied} applied, {} drifted",
        plan.count(Action::Run),
        plan.count(Action::Reconcile),
        plan.count(Action::Drifted)
    );
    let indexes = |a: &str| plan.indexes.iter().filter(|p| p.action == a).count();
    crate::say!(
        "indexes: {} to build, {} to rebuild, {} recorded",
        indexes("build"),
        indexes("rebuild"),
        indexes("recorded")
    );
    let backfills = |a: &str| plan.backfills.iter().filter(|p| p.action == a).count();
    crate::say!(
        "backfills: {} to run, {} to resume, {} done, {} paused",
        backfills("run"),
        backfills("resume"),
        backfills("done"),
        backfills("paused")
    );
}

/// The plan on an open session, read without taking the lock or writing anything.
pub fn read_plan_in(session: &mut Session) -> Result<Plan, Error> {
    let history = History::of(&session.project);
    let reading = read(
        &mut session.exec,
        &session.project,
        &history,
        &session.ledger,
        &session.state,
        None,
    )?;
    let migrations = plan(&session.project, &history, &reading);
    let (index_rows, backfill_rows) = phase_rows(&mut session.exec, &session.state, &reading)?;
    Ok(Plan {
        adoption_line: reading.standing.describe(&history, &session.project),
        adoption: reading.standing.summary(&history),
        migrations,
        indexes: index_plans(&session.project, &index_rows),
        backfills: backfill_plans(&session.project, &backfill_rows),
        ledger_exists: reading.ledger_exists,
    })
}

/// The phase state's rows (the reading has them when placed steps needed them).
fn phase_rows(
    exec: &mut Executor,
    state: &PhaseState,
    reading: &Reading,
) -> Result<(Vec<IndexRow>, Vec<BackfillRow>), Error> {
    if !reading.index_rows.is_empty() || !reading.backfill_rows.is_empty() {
        return Ok((reading.index_rows.clone(), reading.backfill_rows.clone()));
    }
    if !exec.read("the phase state", |c| state.exists(c))? {
        return Ok((Vec::new(), Vec::new()));
    }
    Ok((
        exec.read("the phase state", |c| state.index_rows(c))?,
        exec.read("the phase state", |c| state.backfill_rows(c))?,
    ))
}

fn index_plans(project: &Project, rows: &[IndexRow]) -> Vec<IndexPlan> {
    let by_id: std::collections::HashMap<&str, &IndexRow> =
        rows.iter().map(|r| (r.id.as_str(), r)).collect();
    project
        .phase(Phase::Indexes)
        .filter(|m| placement(project, m).is_none())
        .map(|m| {
            let row = by_id.get(m.id.as_str());
            let action = match row {
                Some(r) if DONE_STATES.contains(&r.state.as_str()) => "recorded",
                Some(_) => "rebuild",
                None => "build",
            };
            IndexPlan {
                id: m.id.clone(),
                action,
            }
        })
        .collect()
}

fn backfill_plans(project: &Project, rows: &[BackfillRow]) -> Vec<BackfillPlan> {
    let mut by_id: std::collections::HashMap<&str, Vec<&BackfillRow>> =
        std::collections::HashMap::new();
    for r in rows {
        by_id.entry(r.id.as_str()).or_default().push(r);
    }
    project
        .phase(Phase::Backfills)
        .filter(|m| placement(project, m).is_none())
        .map(|m| {
            let status = project
                .entry(&m.id)
                .and_then(|e| e.backfill.as_ref())
                .map(|b| b.status)
                .unwrap_or_default();
            let mine: Vec<&BackfillRow> = by_id.get(m.id.as_str()).cloned().unwrap_or_default();
            let unfinished = mine.iter().find(|r| r.state != "done");
            let (action, cursor, high_water) = match (status, unfinished) {
                (BackfillStatus::Done, _) => ("done", None, None),
                (BackfillStatus::Paused, _) => ("paused", None, None),
                (_, Some(r)) => ("resume", Some(r.cursor), Some(r.high_water)),
                (_, None) if !mine.is_empty() => ("done", None, None),
                (_, None) => ("run", None, None),
            };
            BackfillPlan {
                id: m.id.clone(),
                action,
                cursor,
                high_water,
            }
        })
        .collect()
}
