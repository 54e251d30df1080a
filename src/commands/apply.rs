//! `sqlrail apply`: the deploy step. DDL (a failure stops everything), then index builds
//! and backfills (failures are warnings unless `--strict`).

use std::io::{IsTerminal, Write};

use serde::Serialize;

use crate::cli::{ApplyArgs, Format, PhaseToApply};
use crate::config::Phase;
use crate::error::{Error, Exit};
use crate::exec::adopt::Adoption;
use crate::exec::backfills::{self, BackfillOutcome, BatchDurations};
use crate::exec::ddl::{self, Options, Outcome};
use crate::exec::indexes::{self, IndexOutcome};
use crate::exec::up_to_date::up_to_date;

use super::connection::{Session, open};

#[derive(Serialize)]
struct Report<'a> {
    connection: &'a str,
    /// Where the database stood when the ledger recorded nothing (`recorded` otherwise).
    adoption: Option<&'a Adoption>,
    migrations: &'a [Outcome],
    indexes: &'a [IndexOutcome],
    backfills: &'a [BackfillOutcome],
    summary: Summary,
}

#[derive(Serialize)]
struct Summary {
    applied: usize,
    reconciled: usize,
    /// Migrations found committed after a lost connection (by this run's own earlier
    /// attempt, or another runner), so not run again.
    found_committed: usize,
    /// DDL migrations recorded before this run: nothing to do for them.
    up_to_date: usize,
    /// The DDL sequence stopped at a placed backfill that has not finished.
    #[serde(skip_serializing_if = "Option::is_none")]
    deferred: Option<String>,
    indexes_built: usize,
    indexes_reconciled: usize,
    indexes_failed: usize,
    backfills_done: usize,
    backfills_stopped: usize,
    backfills_incomplete: usize,
    backfills_failed: usize,
    /// Batch durations over every backfill batch of this run.
    #[serde(skip_serializing_if = "Option::is_none")]
    backfill_batches: Option<BatchDurations>,
    /// Index and backfill failures (warnings; errors with --strict).
    warnings: usize,
}

/// How one run applies the project (`apply`, and `reset` after it recreated the database).
pub struct RunOptions {
    /// The phases to run, in order; `None` for all three.
    pub only: Option<PhaseToApply>,
    /// Run the phases up to and including this one (`reset --phase`).
    pub up_to: Option<PhaseToApply>,
    pub allow_drift: bool,
    pub strict: bool,
    pub json: bool,
    /// Stop the DDL sequence after this DDL migration (`apply --to`); the index and
    /// backfill phases then do not run.
    pub to: Option<String>,
}

pub fn run(args: &ApplyArgs) -> Result<Exit, Error> {
    if let Some(file) = &args.targets {
        return super::fleet::run(
            file,
            crate::fleet::outcome::FleetCommand::Apply,
            passed_on(args),
            args.db.format,
        );
    }
    let mut session = open(&args.db, args.lock_wait.as_ref().map(|d| d.0), false)?;
    let options = RunOptions {
        only: args.phase,
        up_to: None,
        allow_drift: args.allow_drift,
        strict: args.strict,
        json: args.db.format == Format::Json,
        to: args.to.clone(),
    };
    apply_session(&mut session, &options)
}

/// The options every target's run of a fleet `apply` gets, as given.
fn passed_on(args: &ApplyArgs) -> Vec<String> {
    let mut passed = Vec::new();
    if let Some(phase) = args.phase {
        let name = match phase {
            PhaseToApply::Ddl => "ddl",
            PhaseToApply::Indexes => "indexes",
            PhaseToApply::Backfills => "backfills",
        };
        passed.extend(["--phase".to_owned(), name.to_owned()]);
    }
    if args.strict {
        passed.push("--strict".to_owned());
    }
    if let Some(wait) = &args.lock_wait {
        passed.extend([
            "--lock-wait".to_owned(),
            format!("{}ms", wait.0.as_millis()),
        ]);
    }
    if args.allow_drift {
        passed.push("--allow-drift".to_owned());
    }
    if let Some(to) = &args.to {
        passed.extend(["--to".to_owned(), to.clone()]);
    }
    passed
}

/// Applies the chosen phases on an open session and reports (text on stderr, or JSON).
pub fn apply_session(session: &mut Session, args: &RunOptions) -> Result<Exit, Error> {
    let json = args.json;
    let selected = |phase: PhaseToApply| {
        args.only.is_none_or(|p| p == phase) && args.up_to.is_none_or(|last| phase <= last)
    };
    let log = |line: &str| crate::say!("{line}");
    let state = session.state.clone();
    let backfill_options = backfills::Options {
        progress_bars: std::io::stderr().is_terminal() && !json,
    };

    let mut outcomes = Vec::new();
    let mut adoption = None;
    let mut deferred = None;
    // Most deploys find nothing to do: a few reads say so, before the lock and the
    // history's replay, and every phase below is then skipped.
    let nothing_to_do = up_to_date(&mut session.exec, &session.project, &session.ledger, &state)?;
    let to = match &args.to {
        Some(target) => Some(ddl_target(&session.project, target)?),
        None => None,
    };
    // With --to, the DDL sequence stops at the target: what comes after it waits.
    let runs = |phase: PhaseToApply| {
        !nothing_to_do && selected(phase) && (to.is_none() || phase == PhaseToApply::Ddl)
    };
    let mut up_to_date = 0;
    if nothing_to_do {
        adoption = Some(Adoption::recorded());
        up_to_date = session
            .project
            .migrations
            .iter()
            .filter(|m| m.phase == Phase::Ddl)
            .count();
    }
    if runs(PhaseToApply::Ddl) {
        let options = Options {
            allow_drift: args.allow_drift,
            state: &state,
            backfills: &backfill_options,
            to: to.as_deref(),
        };
        let run = ddl::apply(
            &mut session.exec,
            &session.project,
            &session.ledger,
            &options,
            &log,
        )?;
        outcomes = run.outcomes;
        up_to_date = run.up_to_date;
        adoption = Some(run.adoption);
        deferred = run.deferred;
        if let Some(why) = &deferred {
            log(&format!("warning: {why}"));
        }
    }
    let mut index_outcomes = Vec::new();
    if runs(PhaseToApply::Indexes) {
        index_outcomes = indexes::apply(&mut session.exec, &session.project, &state, &log)?;
    }
    let mut backfill_outcomes = Vec::new();
    if runs(PhaseToApply::Backfills) {
        backfill_outcomes = backfills::apply(
            &mut session.exec,
            &session.project,
            &state,
            &backfill_options,
            &log,
        )?;
    }
    session.exec.release();

    let count = |r: &str| outcomes.iter().filter(|o| o.result == r).count();
    // Index files placed in the DDL sequence ran there; they count with the phase's.
    let placed_index = |r: &str| {
        outcomes
            .iter()
            .filter(|o| o.id.starts_with("indexes/") && o.result == r)
            .count()
    };
    let indexes =
        |r: &str| index_outcomes.iter().filter(|o| o.result == r).count() + placed_index(r);
    let backfills = |r: &str| backfill_outcomes.iter().filter(|o| o.result == r).count();
    let summary = Summary {
        applied: count("applied"),
        reconciled: outcomes
            .iter()
            .filter(|o| o.id.starts_with("ddl/") && o.result == "reconciled")
            .count(),
        found_committed: count("already-applied"),
        up_to_date,
        deferred: deferred.clone(),
        indexes_built: indexes("built"),
        indexes_reconciled: indexes("reconciled"),
        indexes_failed: indexes("failed"),
        backfills_done: backfills("done"),
        backfills_stopped: backfills("stopped"),
        backfills_incomplete: backfills("incomplete"),
        backfills_failed: backfills("failed"),
        backfill_batches: BatchDurations::over(backfill_outcomes.iter().map(|o| &o.batch_ms[..])),
        warnings: indexes("failed")
            + backfills("failed")
            + backfills("incomplete")
            + usize::from(deferred.is_some()),
    };
    if selected(PhaseToApply::Ddl) {
        if outcomes.is_empty() {
            crate::say!("ddl: nothing to apply: every DDL migration is recorded");
        } else {
            crate::say!(
                "ddl: {} applied, {} reconciled{}",
                summary.applied,
                summary.reconciled,
                if summary.found_committed > 0 {
                    format!(", {} found already applied", summary.found_committed)
                } else {
                    String::new()
                }
            );
        }
    }
    if selected(PhaseToApply::Indexes) {
        let other: String = [
            ("dropped", indexes("dropped")),
            ("reindexed", indexes("reindexed")),
            ("detached", indexes("detached")),
        ]
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|(what, n)| format!(", {n} {what}"))
        .collect();
        let ran = summary.indexes_built + summary.indexes_reconciled + summary.indexes_failed;
        crate::say!(
            "indexes: {} built, {} reconciled, {} failed{other}{}",
            summary.indexes_built,
            summary.indexes_reconciled,
            summary.indexes_failed,
            if ran == 0 && other.is_empty() {
                " (every index is recorded)"
            } else {
                ""
            }
        );
    }
    if selected(PhaseToApply::Backfills) {
        crate::say!(
            "backfills: {} done, {} stopped by max_runtime, {} incomplete, {} failed; {} rows{}",
            summary.backfills_done,
            summary.backfills_stopped,
            summary.backfills_incomplete,
            summary.backfills_failed,
            backfill_outcomes.iter().map(|o| o.rows).sum::<u64>(),
            summary
                .backfill_batches
                .map(|b| format!("; {b}"))
                .unwrap_or_default()
        );
    }
    if json {
        let report = Report {
            connection: &session.announcement,
            adoption: adoption.as_ref(),
            migrations: &outcomes,
            indexes: &index_outcomes,
            backfills: &backfill_outcomes,
            summary,
        };
        let mut out = std::io::stdout().lock();
        writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&report).map_err(std::io::Error::other)?
        )?;
        if args.strict && report.summary.warnings > 0 {
            return Ok(Exit::Findings);
        }
        return Ok(Exit::Success);
    }
    if args.strict && summary.warnings > 0 {
        crate::say!(
            "--strict: {} index or backfill warning(s): exit 1",
            summary.warnings
        );
        return Ok(Exit::Findings);
    }
    Ok(Exit::Success)
}

/// The DDL migration `apply --to` names: its id, or the version of one DDL migration.
fn ddl_target(project: &crate::project::Project, target: &str) -> Result<String, Error> {
    let ddl = || project.migrations.iter().filter(|m| m.phase == Phase::Ddl);
    if let Some(m) = ddl().find(|m| m.id == target) {
        return Ok(m.id.clone());
    }
    if let Ok(version) = target.parse::<u64>()
        && let Some(m) = ddl().find(|m| m.version == version)
    {
        return Ok(m.id.clone());
    }
    Err(Error::Usage(format!(
        "--to {target}: no DDL migration has that id or version; `sqlrail status` lists them (e.g. --to ddl/V12__add_email, or --to 12)"
    )))
}
