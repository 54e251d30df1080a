//! What a fleet run says: a line per target as it finishes, a table at the end, or one
//! JSON document; and the fleet's exit code.

use serde::Serialize;

use crate::error::Exit;

use super::outcome::{FleetCommand, Result, Status, TargetRun};

/// The line printed when a target finishes.
pub fn line(run: &TargetRun) -> String {
    let mut line = format!(
        "{}: {} ({:.1}s)",
        run.name,
        run.result.as_str(),
        run.duration_ms as f64 / 1000.0
    );
    if !run.summary.is_empty() {
        line.push_str(&format!(": {}", run.summary));
    }
    if let Some(reason) = &run.reason {
        line.push_str(&format!(": {reason}"));
    }
    line
}

/// The table after the run: one row per target, in the file's order.
pub fn table(command: FleetCommand, runs: &[TargetRun]) -> String {
    let header: Vec<&str> = match command {
        FleetCommand::Apply => vec![
            "TARGET",
            "RESULT",
            "APPLIED",
            "INDEX WARN",
            "BACKFILL WARN",
            "TIME",
        ],
        FleetCommand::Status => vec![
            "TARGET",
            "RESULT",
            "LATEST",
            "PENDING DDL",
            "INDEXES",
            "BACKFILLS",
            "DRIFT",
        ],
        FleetCommand::Plan | FleetCommand::Verify => vec!["TARGET", "RESULT", "SUMMARY", "TIME"],
    };
    let mut rows: Vec<Vec<String>> = vec![header.iter().map(|h| (*h).to_owned()).collect()];
    for run in runs {
        let n = |key: &str| {
            run.report
                .as_ref()
                .and_then(|r| r["summary"][key].as_u64())
                .map_or("-".to_owned(), |n| n.to_string())
        };
        let time = format!("{:.1}s", run.duration_ms as f64 / 1000.0);
        let row = match command {
            FleetCommand::Apply => {
                let index_warnings = n("indexes_failed");
                let backfill_warnings = run.report.as_ref().map_or("-".to_owned(), |r| {
                    let s = &r["summary"];
                    (s["backfills_failed"].as_u64().unwrap_or(0)
                        + s["backfills_incomplete"].as_u64().unwrap_or(0))
                    .to_string()
                });
                vec![
                    run.name.clone(),
                    run.result.as_str().to_owned(),
                    n("applied"),
                    index_warnings,
                    backfill_warnings,
                    time,
                ]
            }
            FleetCommand::Status => match &run.report {
                Some(report) => {
                    let s = Status::of(report);
                    vec![
                        run.name.clone(),
                        run.result.as_str().to_owned(),
                        s.latest.unwrap_or_else(|| "-".to_owned()),
                        s.pending_ddl.to_string(),
                        s.pending_indexes.to_string(),
                        s.pending_backfills.to_string(),
                        s.drifted.to_string(),
                    ]
                }
                None => {
                    let mut row = vec![run.name.clone(), run.result.as_str().to_owned()];
                    row.extend(["-", "-", "-", "-", "-"].map(str::to_owned));
                    row
                }
            },
            FleetCommand::Plan | FleetCommand::Verify => vec![
                run.name.clone(),
                run.result.as_str().to_owned(),
                if run.summary.is_empty() {
                    run.reason.clone().unwrap_or_default()
                } else {
                    run.summary.clone()
                },
                time,
            ],
        };
        rows.push(row);
    }
    let widths: Vec<usize> = (0..rows[0].len())
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for row in &rows {
        let cells: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(cell, w)| format!("{cell:<w$}"))
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    out
}

/// The count of targets per result, in a fixed order (`3 ok, 1 failed`).
pub fn counts(runs: &[TargetRun]) -> String {
    let all = [
        Result::Ok,
        Result::Warnings,
        Result::Failed,
        Result::Error,
        Result::Locked,
        Result::Stopped,
        Result::NotStarted,
    ];
    all.iter()
        .map(|r| (r, runs.iter().filter(|run| run.result == *r).count()))
        .filter(|(_, n)| *n > 0)
        .map(|(r, n)| format!("{n} {}", r.as_str()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The fleet's exit code: 0 when every target succeeded, 1 when any failed, could not be
/// reached, stopped or was not started; else 3 when a target's lock was not free.
pub fn exit(runs: &[TargetRun]) -> Exit {
    if runs
        .iter()
        .any(|r| r.result.failed() && r.result != Result::Locked)
    {
        Exit::Findings
    } else if runs.iter().any(|r| r.result == Result::Locked) {
        Exit::Lock
    } else {
        Exit::Success
    }
}

/// `--format json`: one document for the fleet.
#[derive(Serialize)]
pub struct Document<'a> {
    pub command: FleetCommand,
    pub targets: &'a [TargetRun],
    pub summary: Summary,
}

#[derive(Serialize)]
pub struct Summary {
    pub targets: usize,
    pub ok: usize,
    pub warnings: usize,
    pub failed: usize,
    pub error: usize,
    pub locked: usize,
    pub stopped: usize,
    pub not_started: usize,
    pub exit_code: u8,
}

impl Summary {
    pub fn of(runs: &[TargetRun]) -> Summary {
        let n = |r: Result| runs.iter().filter(|run| run.result == r).count();
        Summary {
            targets: runs.len(),
            ok: n(Result::Ok),
            warnings: n(Result::Warnings),
            failed: n(Result::Failed),
            error: n(Result::Error),
            locked: n(Result::Locked),
            stopped: n(Result::Stopped),
            not_started: n(Result::NotStarted),
            exit_code: exit(runs) as u8,
        }
    }
}
