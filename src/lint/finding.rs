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
    /// 1-based line and character column of `span.start`, and of `span.end`.
    pub line: u32,
    pub column: u32,
    pub end_line: u32,
    pub end_column: u32,
    /// Bytes of `source` the finding points at.
    pub span: Range<usize>,
    pub message: Cow<'static, str>,
    pub help: Option<Cow<'static, str>>,
    /// The statement it is about, as its index in the file (`None`: the whole file).
    pub statement: Option<usize>,
    /// The statement's bytes, for the baseline key.
    pub statement_span: Option<Range<usize>>,
    /// The text of the file, for snippets.
    pub source: Arc<String>,
}

impl Finding {
    /// Whether this finding fails a run whose fail level is `fail_on`.
    pub fn fails(&self, fail_on: Severity) -> bool {
        self.severity >= fail_on
    }

    /// Hash of the normalised statement (0 for whole-file findings): the baseline key, so
    /// that moving a statement to another line keeps its baseline entry. Computed only
    /// when a baseline is used.
    pub fn key(&self) -> u64 {
        self.statement_span.as_ref().map_or(0, |s| {
            crate::sql::normalized_hash(&self.source, s.start, s.end)
        })
    }
}
