//! A finding: plain data about one problem in one file. Renderers in `report` turn it
//! into text; nothing here knows about output formats.

use std::borrow::Cow;
use std::ops::Range;
use std::path::Path;
use std::sync::Arc;

use crate::config::Severity;

#[derive(Debug, Clone)]
pub struct Finding {
    /// The rule id (`dml-in-ddl`, or a custom rule's id).
    pub rule: Cow<'static, str>,
    pub severity: Severity,
    /// The file as shown to the user (relative to the current directory when inside it).
    pub path: Arc<str>,
    /// The file where it is (for baseline keys).
    pub file: Arc<Path>,
    /// 1-based line and character column of `span.start`.
    pub line: u32,
    pub column: u32,
    /// Line and column of `span.end`: `None` when the run was told not to place ends (see
    /// `lint::engine::Keep`), for output that does not print them.
    pub end: Option<(u32, u32)>,
    /// Bytes of `source` the finding points at.
    pub span: Range<usize>,
    pub message: Cow<'static, str>,
    pub help: Option<Cow<'static, str>>,
    /// The statement it is about, as its index in the file (`None`: the whole file).
    pub statement: Option<usize>,
    /// The statement's bytes, for the baseline key.
    pub statement_span: Option<Range<usize>>,
    /// The text of the file, for snippets and the baseline key; `None` when the run was
    /// told not to keep sources (see `lint::run`).
    pub source: Option<Arc<String>>,
}

impl Finding {
    /// Line and column of `span.end`, for the formats that print them (json, sarif,
    /// github), whose runs place every end.
    pub fn end(&self) -> (u32, u32) {
        self.end
            .expect("a format that prints ends was given findings linted without them")
    }

    /// Hash of the normalised statement (0 for whole-file findings): the baseline key, so
    /// that moving a statement to another line keeps its baseline entry. Computed only
    /// when a baseline is used, by runs that keep sources.
    pub fn key(&self) -> u64 {
        debug_assert!(
            self.statement_span.is_none() || self.source.is_some(),
            "a baseline key needs the source: lint::run was told not to keep it"
        );
        match (&self.statement_span, &self.source) {
            (Some(s), Some(source)) => crate::sql::normalized_hash(source, s.start, s.end),
            _ => 0,
        }
    }
}

/// Sorts one file's findings by line, column and rule, and keeps the order they came in
/// where those agree: the output order.
///
/// Rules report one after another, so a file's findings come as one sorted run per rule.
/// Sorting them in place moved each finding (about 190 bytes) twice per merge of runs:
/// 11 million instructions of a 384-million lint of three copies of the corpus. Sorting
/// keys and then moving each finding once takes 5.8 million.
pub fn sort(findings: &mut Vec<Finding>) {
    let in_order =
        |a: &Finding, b: &Finding| (a.line, a.column, &a.rule).cmp(&(b.line, b.column, &b.rule));
    if findings.is_sorted_by(|a, b| in_order(a, b).is_le()) {
        return;
    }
    let mut order: Vec<(u32, u32, &str, usize)> = findings
        .iter()
        .enumerate()
        .map(|(i, f)| (f.line, f.column, &*f.rule, i))
        .collect();
    // Stable, as it finds and merges the runs.
    order.sort_by(|a, b| (a.0, a.1, a.2).cmp(&(b.0, b.1, b.2)));
    let order: Vec<usize> = order.into_iter().map(|(_, _, _, i)| i).collect();
    let mut unsorted: Vec<Option<Finding>> =
        std::mem::take(findings).into_iter().map(Some).collect();
    *findings = order
        .iter()
        .map(|&i| unsorted[i].take().expect("each index is in `order` once"))
        .collect();
}

/// Findings counted by severity.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Tally {
    pub high: usize,
    pub medium: usize,
    pub low: usize,
    pub warning: usize,
}

impl Tally {
    pub fn of<'a>(findings: impl IntoIterator<Item = &'a Finding>) -> Self {
        let mut tally = Tally::default();
        findings.into_iter().for_each(|f| tally.count(f.severity));
        tally
    }

    fn count(&mut self, severity: Severity) {
        *match severity {
            Severity::High => &mut self.high,
            Severity::Medium => &mut self.medium,
            Severity::Low => &mut self.low,
            Severity::Warning => &mut self.warning,
        } += 1;
    }

    pub fn add(&mut self, other: Tally) {
        self.high += other.high;
        self.medium += other.medium;
        self.low += other.low;
        self.warning += other.warning;
    }

    pub fn total(&self) -> usize {
        self.high + self.medium + self.low + self.warning
    }

    /// Whether some finding fails a run whose fail level is `fail_on`.
    pub fn fails(&self, fail_on: Severity) -> bool {
        [
            (Severity::High, self.high),
            (Severity::Medium, self.medium),
            (Severity::Low, self.low),
            (Severity::Warning, self.warning),
        ]
        .iter()
        .any(|&(severity, n)| n > 0 && severity >= fail_on)
    }
}

/// A run's findings in output order: grouped by file, files in natural path order, each
/// file's sorted by line, column and rule. They stay grouped, never copied into one list: a
/// big tree has a million findings, and renderers work through the groups in parallel.
#[derive(Debug, Default)]
pub struct Findings {
    groups: Vec<Vec<Finding>>,
}

impl Findings {
    /// Groups as given: each non-empty, in output order.
    pub fn from_groups(groups: Vec<Vec<Finding>>) -> Self {
        debug_assert!(groups.iter().all(|g| !g.is_empty()));
        Findings { groups }
    }

    pub fn groups(&self) -> &[Vec<Finding>] {
        &self.groups
    }

    pub fn iter(&self) -> impl Iterator<Item = &Finding> {
        self.groups.iter().flatten()
    }

    pub fn len(&self) -> usize {
        self.groups.iter().map(Vec::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }

    /// Keeps the findings whose flag (one per finding, in output order) is set.
    pub fn retain_flagged(&mut self, keep: &[bool]) {
        let mut flags = keep.iter();
        for group in &mut self.groups {
            group.retain(|_| *flags.next().unwrap_or(&true));
        }
        self.groups.retain(|g| !g.is_empty());
    }
}
