//! `lint-rules.yaml`: which rules run at which severity, hot tables, custom patterns and
//! the baseline path. See `docs/lint-rules.md`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Shown, never fails unless `--fail-on warning`.
    Warning,
    Low,
    Medium,
    High,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Warning => "warning",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
        }
    }
}

/// A rule's configured level: a severity, or `off`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RuleLevel {
    Off,
    Warning,
    Low,
    Medium,
    High,
}

/// The three kinds of migration directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    Ddl,
    Indexes,
    Backfills,
}

impl Phase {
    pub const ALL: [Phase; 3] = [Phase::Ddl, Phase::Indexes, Phase::Backfills];

    /// The directory name under `sql/`, and the prefix of a migration id.
    pub fn dir(self) -> &'static str {
        match self {
            Phase::Ddl => "ddl",
            Phase::Indexes => "indexes",
            Phase::Backfills => "backfills",
        }
    }

    pub fn from_dir(name: &str) -> Option<Phase> {
        Phase::ALL.into_iter().find(|p| p.dir() == name)
    }
}

/// The oldest major version still supported by the PostgreSQL project (14 reached its end
/// of life in November 2026): what a project that names none is linted for.
pub const DEFAULT_POSTGRES_VERSION: u32 = 15;

/// The oldest version `postgres_version` may name: the oldest whose lock behaviour the
/// rules know (before 11 every `ADD COLUMN … DEFAULT` rewrites the table).
pub const OLDEST_POSTGRES_VERSION: u32 = 10;

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct LintRules {
    /// Findings at or above this severity make `lint` exit 1.
    pub fail_on: Severity,
    /// Tables whose writes in a DDL migration are HIGH severity.
    pub hot_tables: Vec<String>,
    /// An `INSERT … VALUES` of at most this many literal rows into a non-hot table is LOW.
    pub seed_rows_max: u32,
    /// Where `lint --write-baseline` records grandfathered findings (relative to this file).
    pub baseline: String,
    /// Comments in DDL files matching this regex are `backfill-comment` findings.
    pub backfill_comment_pattern: String,
    /// Per-rule levels, overriding each rule's default: `rename: off`, `drop: high`.
    pub rules: BTreeMap<String, RuleLevel>,
    pub custom: Vec<CustomRule>,
    /// The oldest PostgreSQL major version the project's migrations run on: verdicts that
    /// changed across versions (instant constant defaults since 11, `REINDEX
    /// CONCURRENTLY` since 12, `DETACH … CONCURRENTLY` since 14) follow it.
    pub postgres_version: u32,
    /// The project's own functions known to be STABLE or IMMUTABLE: a column default
    /// calling one is computed once, not for every row (`volatile-default`).
    pub stable_functions: Vec<String>,
    /// Turns on the style rules (`prefer-bigint-keys`, `prefer-identity`, `prefer-text`,
    /// `prefer-timestamptz`), which are off by default.
    pub style: bool,
}

impl Default for LintRules {
    fn default() -> Self {
        LintRules {
            fail_on: Severity::Low,
            hot_tables: Vec::new(),
            seed_rows_max: 10,
            baseline: "lint-baseline.json".into(),
            backfill_comment_pattern: r"(?i)\bback-?fill(s|ed|ing)?\b|\b(re-?)?populat(e|es|ing)\s+(the|all|existing|old|new|this|that|these|those|it|them|every|each)\b"
                .into(),
            rules: BTreeMap::new(),
            custom: Vec::new(),
            postgres_version: DEFAULT_POSTGRES_VERSION,
            stable_functions: Vec::new(),
            style: false,
        }
    }
}

/// A project-specific rule: a regex over each statement's text with comments and literals
/// masked, in the listed directories.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CustomRule {
    pub id: String,
    pub message: String,
    pub pattern: String,
    #[serde(default = "all_phases")]
    pub directories: Vec<Phase>,
    #[serde(default = "medium")]
    pub severity: Severity,
    #[serde(default)]
    pub help: Option<String>,
}

fn all_phases() -> Vec<Phase> {
    Phase::ALL.to_vec()
}

fn medium() -> Severity {
    Severity::Medium
}
