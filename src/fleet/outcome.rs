//! One target's run: `sqlrail <command> --format json` as a child process pointed at the
//! target, and what its exit code and report say about it.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::Value;

use super::targets::Target;

/// The fleet commands: each runs per target exactly as it runs alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FleetCommand {
    Apply,
    Plan,
    Status,
    Verify,
}

impl FleetCommand {
    pub fn name(self) -> &'static str {
        match self {
            FleetCommand::Apply => "apply",
            FleetCommand::Plan => "plan",
            FleetCommand::Status => "status",
            FleetCommand::Verify => "verify",
        }
    }
}

/// How a target ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Result {
    /// Exit 0 (for `apply`: every DDL migration applied or recorded).
    Ok,
    /// `apply` exit 0 with index or backfill warnings.
    Warnings,
    /// Exit 1: a DDL migration failed or drift was found (`verify`: a fingerprint does
    /// not answer what the history says).
    Failed,
    /// Exit 2: the target could not be reached, or its settings are wrong.
    Error,
    /// Exit 3: another runner held the target's migration lock past `--lock-wait`.
    Locked,
    /// Stopped by SIGINT/SIGTERM (the fleet's own, passed on), or killed.
    Stopped,
    /// Never started: `on_failure: stop`, a failed canary or a stop signal came first.
    NotStarted,
}

impl Result {
    pub fn as_str(self) -> &'static str {
        match self {
            Result::Ok => "ok",
            Result::Warnings => "warnings",
            Result::Failed => "failed",
            Result::Error => "error",
            Result::Locked => "locked",
            Result::Stopped => "stopped",
            Result::NotStarted => "not-started",
        }
    }

    /// Whether the rollout counts the target as a failure (`on_failure`, canaries).
    pub fn failed(self) -> bool {
        !matches!(self, Result::Ok | Result::Warnings)
    }
}

/// What one target's run came to.
#[derive(Debug, Serialize)]
pub struct TargetRun {
    pub name: String,
    /// Host, port and database, without the password.
    pub target: String,
    pub result: Result,
    pub exit_code: Option<i32>,
    /// The run's error line, when it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// A one-line account (`3 applied, 0 warnings`; status: `at V7, 2 pending …`).
    pub summary: String,
    pub duration_ms: u64,
    /// The child's own `--format json` document.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub report: Option<Value>,
}

impl TargetRun {
    pub fn not_started(target: &Target, why: &str) -> TargetRun {
        TargetRun {
            name: target.name.clone(),
            target: target.shown.clone(),
            result: Result::NotStarted,
            exit_code: None,
            reason: Some(why.to_owned()),
            summary: String::new(),
            duration_ms: 0,
            report: None,
        }
    }
}

/// The connection variables a child must not see: they would win over (or mix with) the
/// target's own URL, which it gets as `DATABASE_URL`.
const CONNECTION_VARIABLES: [&str; 3] =
    ["DATABASE_URL_DIRECT", "DATABASE_URL_POOLER", "DATABASE_URL"];

/// Starts the child run for `target`: the URL goes in its environment, never its
/// arguments (which other users can read in `ps`).
pub fn spawn(
    exe: &Path,
    root: &Path,
    command: FleetCommand,
    passed: &[String],
    target: &Target,
) -> std::io::Result<Child> {
    let mut child = Command::new(exe);
    child
        .arg("-C")
        .arg(root)
        .arg(command.name())
        .args(["--format", "json"])
        .args(passed)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for var in CONNECTION_VARIABLES {
        child.env_remove(var);
    }
    // A group of its own: a Ctrl-C on the terminal reaches only the fleet, which passes
    // it on once. Reaching the child too, it would be a second signal, which exits at once.
    std::os::unix::process::CommandExt::process_group(&mut child, 0);
    child.env("DATABASE_URL", &target.url);
    child.spawn()
}

/// Waits for the child and reads what it said.
pub fn finish(command: FleetCommand, target: &Target, child: Child, started: Instant) -> TargetRun {
    let output = child.wait_with_output();
    let duration_ms = duration_ms(started.elapsed());
    let output = match output {
        Ok(output) => output,
        Err(e) => {
            return TargetRun {
                name: target.name.clone(),
                target: target.shown.clone(),
                result: Result::Error,
                exit_code: None,
                reason: Some(format!("cannot read the run's output: {e}")),
                summary: String::new(),
                duration_ms,
                report: None,
            };
        }
    };
    let stderr = String::from_utf8_lossy(&output.stderr);
    let report: Option<Value> = serde_json::from_slice(&output.stdout).ok();
    let code = output.status.code();
    let result = match code {
        Some(0) if command == FleetCommand::Apply && warnings(report.as_ref()) > 0 => {
            Result::Warnings
        }
        Some(0) => Result::Ok,
        Some(1) => Result::Failed,
        Some(2) => Result::Error,
        Some(3) => Result::Locked,
        Some(130 | 143) | None => Result::Stopped,
        Some(_) => Result::Failed,
    };
    let reason = result.failed().then(|| reason(&stderr, code));
    TargetRun {
        name: target.name.clone(),
        target: target.shown.clone(),
        result,
        exit_code: code,
        reason,
        summary: report
            .as_ref()
            .map(|r| summary(command, r))
            .unwrap_or_default(),
        duration_ms,
        report,
    }
}

fn duration_ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// The child's `error: …` line (its last), else its last line of output.
fn reason(stderr: &str, code: Option<i32>) -> String {
    let lines: Vec<&str> = stderr
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    lines
        .iter()
        .rev()
        .find_map(|l| l.strip_prefix("error: "))
        .or(lines.last().copied())
        .map(str::to_owned)
        .unwrap_or_else(|| match code {
            Some(code) => format!("exited {code} without a message"),
            None => "killed by a signal".to_owned(),
        })
}

fn n_top(report: &Value, key: &str) -> u64 {
    report[key].as_u64().unwrap_or(0)
}

fn warnings(report: Option<&Value>) -> u64 {
    report
        .and_then(|r| r["summary"]["warnings"].as_u64())
        .unwrap_or(0)
}

/// The states of the entries of `list` in the child's report.
fn states<'r>(report: &'r Value, list: &str, key: &str) -> Vec<&'r str> {
    report[list]
        .as_array()
        .map(|a| a.iter().filter_map(|e| e[key].as_str()).collect())
        .unwrap_or_default()
}

/// A one-line account of the child's report.
fn summary(command: FleetCommand, report: &Value) -> String {
    let n = |key: &str| report["summary"][key].as_u64().unwrap_or(0);
    match command {
        FleetCommand::Apply => {
            let mut parts = vec![format!("{} applied", n("applied"))];
            if n("reconciled") > 0 {
                parts.push(format!("{} reconciled", n("reconciled")));
            }
            parts.push(format!("{} built", n("indexes_built")));
            parts.push(format!("{} backfilled", n("backfills_done")));
            parts.push(format!("{} warning(s)", n("warnings")));
            parts.join(", ")
        }
        FleetCommand::Status => {
            let status = Status::of(report);
            format!(
                "at {}, pending: {} ddl, {} indexes, {} backfills{}",
                status.latest.as_deref().unwrap_or("nothing"),
                status.pending_ddl,
                status.pending_indexes,
                status.pending_backfills,
                if status.drifted > 0 {
                    format!(", {} drifted", status.drifted)
                } else {
                    String::new()
                }
            )
        }
        FleetCommand::Plan => {
            let run = states(report, "migrations", "action")
                .iter()
                .filter(|a| matches!(**a, "run" | "reconcile"))
                .count();
            format!("{run} DDL migration(s) to run or reconcile")
        }
        FleetCommand::Verify => {
            let checked = report["migrations"].as_array().map_or(0, Vec::len);
            format!(
                "{checked} fingerprint(s) checked, {} differ",
                n_top(report, "drifted")
            )
        }
    }
}

/// Where one target stands, from its `status --format json`: "which databases are behind".
#[derive(Debug, Default, Serialize)]
pub struct Status {
    /// The last DDL migration recorded (applied, reconciled or marked).
    pub latest: Option<String>,
    pub pending_ddl: usize,
    pub pending_indexes: usize,
    pub pending_backfills: usize,
    pub drifted: usize,
}

impl Status {
    pub fn of(report: &Value) -> Status {
        let ddl = states(report, "migrations", "state");
        let ids = states(report, "migrations", "id");
        let latest = ddl
            .iter()
            .zip(ids.iter())
            .filter(|(s, _)| matches!(**s, "applied" | "reconciled" | "marked"))
            .map(|(_, id)| (*id).to_owned())
            .next_back();
        let indexes = states(report, "indexes", "state");
        let backfills = states(report, "backfills", "state");
        Status {
            latest,
            pending_ddl: ddl.iter().filter(|s| **s == "pending").count(),
            pending_indexes: indexes
                .iter()
                .filter(|s| !crate::exec::indexes::DONE_STATES.contains(s))
                .count(),
            pending_backfills: backfills.iter().filter(|s| **s != "done").count(),
            drifted: ddl.iter().filter(|s| **s == "drifted").count(),
        }
    }
}
