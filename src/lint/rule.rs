//! What a rule is: an id users type, a summary, an explanation, a default severity and the
//! check that produces its findings. Findings are plain data; rendering is `report`'s job.

use std::borrow::Cow;
use std::ops::Range;

use crate::config::Severity;

use super::checks::Evidence;
use super::context::FileContext;
use super::project::ProjectContext;

pub struct Rule {
    /// Kebab-case id: the name in allow comments, `lint-rules.yaml` and `--explain`.
    pub id: &'static str,
    /// One line: what the rule finds.
    pub summary: &'static str,
    /// Markdown: the problem, the safe alternative, an example.
    pub explanation: &'static str,
    /// Severity unless `lint-rules.yaml` sets another (or `off`).
    pub severity: Severity,
    pub check: Check,
}

pub enum Check {
    /// Runs once per SQL file.
    File(fn(&FileContext<'_>, &mut Vec<Report>)),
    /// Runs once per project, on the manifest and the file list.
    Project(fn(&ProjectContext<'_>, &mut Vec<ProjectReport>)),
    /// Reported by the lint engine itself (allow comments).
    Engine,
}

/// One finding as a file rule reports it; the engine adds the rule, position and key.
#[derive(Debug, Clone)]
pub struct Report {
    /// Bytes of the file the finding points at.
    pub span: Range<usize>,
    /// The statement it is about (inline allows and the baseline key use it).
    pub statement: Option<usize>,
    /// Static text where the message does not name an object: a million findings cost
    /// no allocation for their message or help.
    pub message: Cow<'static, str>,
    pub help: Option<Cow<'static, str>>,
    /// A severity the rule decided (dml-in-ddl grades its findings); `None`: the rule's.
    pub severity: Option<Severity>,
    /// What an earlier migration may have proven that makes this finding wrong (a
    /// validated check before `SET NOT NULL`): judged once the earlier files are linted.
    pub unless: Option<Evidence>,
}

impl Report {
    pub fn statement(
        statement: usize,
        span: Range<usize>,
        message: impl Into<Cow<'static, str>>,
    ) -> Self {
        Report {
            span,
            statement: Some(statement),
            message: message.into(),
            help: None,
            severity: None,
            unless: None,
        }
    }

    pub fn file(span: Range<usize>, message: impl Into<Cow<'static, str>>) -> Self {
        Report {
            span,
            statement: None,
            message: message.into(),
            help: None,
            severity: None,
            unless: None,
        }
    }

    pub fn help(mut self, help: impl Into<Cow<'static, str>>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn severity(mut self, severity: Severity) -> Self {
        self.severity = Some(severity);
        self
    }

    pub fn unless(mut self, evidence: Evidence) -> Self {
        self.unless = Some(evidence);
        self
    }
}

/// Which file a project finding points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    Manifest,
    /// An index into `ProjectContext::files`.
    File(usize),
}

#[derive(Debug, Clone)]
pub struct ProjectReport {
    pub place: Place,
    pub report: Report,
}
