//! The trials' tally: per fault kind, how many trials, how many faults acted on a running
//! runner, how often the runner's output shows the path exercised, how the faulted run
//! ended, and the invariant violations.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::faults::Fault;
use crate::trial::Outcome;

#[derive(Default)]
struct Row {
    trials: usize,
    injected: usize,
    path_seen: usize,
    faulted_ok: usize,
    violations: usize,
    seconds: f64,
    slowest: f64,
}

#[derive(Default)]
pub struct Report {
    rows: BTreeMap<Fault, Row>,
    failures: Vec<String>,
}

impl Report {
    pub fn add(&mut self, outcome: &Outcome) {
        let row = self.rows.entry(outcome.fault).or_default();
        row.trials += 1;
        row.injected += usize::from(outcome.injected);
        row.path_seen += usize::from(outcome.path_seen);
        row.faulted_ok += usize::from(outcome.faulted_exits.iter().all(|c| *c == Some(0)));
        row.violations += usize::from(!outcome.violations.is_empty());
        row.seconds += outcome.seconds;
        row.slowest = row.slowest.max(outcome.seconds);
        if !outcome.violations.is_empty() {
            self.failures.push(format!(
                "trial {} ({}, {} server):\n  - {}",
                outcome.trial,
                outcome.fault,
                outcome.server,
                outcome.violations.join("\n  - ")
            ));
        }
    }

    /// Trials with at least one invariant violated.
    pub fn failed_trials(&self) -> usize {
        self.rows.values().map(|r| r.violations).sum()
    }

    pub fn failures(&self) -> &[String] {
        &self.failures
    }

    /// A Markdown table, one row per fault kind and a total.
    pub fn table(&self) -> String {
        let mut out = String::from(
            "| fault | trials | injected | retry/wait path seen | faulted run exit 0 | trials with a violation | mean s/trial | slowest s |\n\
             |---|---:|---:|---:|---:|---:|---:|---:|\n",
        );
        let mut total = Row::default();
        for (fault, row) in &self.rows {
            writeln!(
                out,
                "| {fault} | {} | {} | {} | {} | {} | {:.1} | {:.1} |",
                row.trials,
                row.injected,
                row.path_seen,
                row.faulted_ok,
                row.violations,
                row.seconds / row.trials as f64,
                row.slowest
            )
            .unwrap();
            total.trials += row.trials;
            total.injected += row.injected;
            total.path_seen += row.path_seen;
            total.faulted_ok += row.faulted_ok;
            total.violations += row.violations;
            total.seconds += row.seconds;
            total.slowest = total.slowest.max(row.slowest);
        }
        writeln!(
            out,
            "| **all** | {} | {} | {} | {} | {} | {:.1} | {:.1} |",
            total.trials,
            total.injected,
            total.path_seen,
            total.faulted_ok,
            total.violations,
            total.seconds / total.trials.max(1) as f64,
            total.slowest
        )
        .unwrap();
        out
    }
}
