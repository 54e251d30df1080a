//! Lints one file: split it, run every file rule and custom rule on it, and turn reports
//! into findings with positions and baseline keys. Allow comments are applied later, once
//! findings that need every file (a `CALL` of a procedure defined elsewhere) are in.

use std::borrow::Cow;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::config::{Phase, Severity};
use crate::sql::{LexError, LineIndex, SqlFile};

use super::allow::{self, Allow};
use super::context::FileContext;
use super::finding::Finding;
use super::rule::{Check, Report, Rule};
use super::rules::{self, dml_in_do_block};
use super::settings::LintSettings;

/// One file to lint.
#[derive(Debug, Clone)]
pub struct Source {
    pub path: PathBuf,
    /// As shown in findings.
    pub display: String,
    pub phase: Phase,
}

/// What linting one file produced.
pub struct FileLint {
    pub source: Source,
    /// `source.display` and `source.path`, shared by the file's findings.
    pub path: Arc<str>,
    pub file: Arc<Path>,
    pub text: Arc<String>,
    pub findings: Vec<Finding>,
    pub allows: Vec<Allow>,
    /// Whether `apply_allows` has run.
    pub allows_applied: bool,
    pub procedures: Vec<dml_in_do_block::Procedure>,
    pub calls: Vec<Call>,
    lines: LineIndex,
    /// Each statement's bytes.
    spans: Vec<Range<usize>>,
}

/// Where a finding is: what turning a report into a finding needs of its file.
struct Place<'a> {
    path: &'a Arc<str>,
    file: &'a Arc<Path>,
    text: &'a Arc<String>,
    lines: &'a LineIndex,
    spans: &'a [Range<usize>],
}

/// A `CALL` in a DDL file, judged once every file's procedures are known.
pub struct Call {
    pub statement: usize,
    pub span: Range<usize>,
    pub procedure: String,
}

/// Lints `text`, the contents of `source`. Fails only when the text does not lex.
pub fn lint_text(
    source: Source,
    text: Arc<String>,
    settings: &LintSettings,
) -> Result<FileLint, LexError> {
    let sql = crate::sql::split(&text)?;
    let file = FileContext::new(&source.path, source.phase, &text, &sql, settings);
    let mut reports: Vec<(Cow<'static, str>, Severity, Report)> = Vec::new();
    let mut buffer = Vec::new();
    for rule in rules::ALL {
        if let Check::File(check) = rule.check {
            check(&file, &mut buffer);
            reports.extend(
                buffer
                    .drain(..)
                    .map(|r| (Cow::Borrowed(rule.id), rule.severity, r)),
            );
        }
    }
    for custom in settings.custom_for(source.phase) {
        for (i, statement) in file.statements() {
            let masked = masked_text(&text, &sql, statement.start, statement.end);
            if let Some(hit) = custom.pattern.find(&masked) {
                let span = statement.start + hit.start()..statement.start + hit.end();
                let mut report = Report::statement(i, span, custom.rule.message.clone());
                report.help = custom.rule.help.clone().map(Cow::Owned);
                let id = Cow::Owned(custom.rule.id.clone());
                reports.push((id, custom.rule.severity, report));
            }
        }
    }
    let lines = LineIndex::new(&text);
    let path: Arc<str> = Arc::from(source.display.as_str());
    let file_path: Arc<Path> = Arc::from(source.path.as_path());
    let spans: Vec<Range<usize>> = sql.statements.iter().map(|s| s.start..s.end).collect();
    let place = Place {
        path: &path,
        file: &file_path,
        text: &text,
        lines: &lines,
        spans: &spans,
    };
    let findings = reports
        .into_iter()
        .filter_map(|(id, default, report)| finding(&place, settings, id, default, report))
        .collect();
    let allows = allow::collect(&file);
    let procedures = dml_in_do_block::procedures(&file);
    let calls = dml_in_do_block::calls(&file)
        .into_iter()
        .map(|(i, procedure)| Call {
            statement: i,
            span: file.span_of(i),
            procedure,
        })
        .collect();
    Ok(FileLint {
        source,
        path,
        file: file_path,
        text: text.clone(),
        findings,
        allows,
        allows_applied: false,
        procedures,
        calls,
        lines,
        spans,
    })
}

impl FileLint {
    /// Frees the file's text, line index and statement spans, and the findings' hold on the
    /// text, once nothing will need them: on a big tree this keeps memory proportional to
    /// the findings, and lets the allocator reuse one file's pages for the next file.
    /// Afterwards nothing may be pushed: call this after `apply_allows`.
    pub fn release_text(&mut self) {
        debug_assert!(self.calls.is_empty(), "calls still need the text");
        for finding in &mut self.findings {
            finding.source = None;
        }
        self.text = Arc::default();
        self.lines = LineIndex::new("");
        self.spans = Vec::new();
    }

    /// Sorts the findings into output order.
    pub fn sort_findings(&mut self) {
        super::finding::sort(&mut self.findings);
    }

    /// Line and column of a byte offset of this file.
    pub fn position(&self, offset: usize) -> (u32, u32) {
        self.lines.position(&self.text, offset)
    }

    /// Adds a finding of `rule` from a report (no-op when the rule is off).
    pub fn push(&mut self, settings: &LintSettings, rule: &Rule, report: Report) {
        let place = Place {
            path: &self.path,
            file: &self.file,
            text: &self.text,
            lines: &self.lines,
            spans: &self.spans,
        };
        if let Some(f) = finding(
            &place,
            settings,
            Cow::Borrowed(rule.id),
            rule.severity,
            report,
        ) {
            self.findings.push(f);
        }
    }

    /// Applies the allow comments: drops the findings they cover and adds findings for
    /// allows without a reason, naming unknown rules, or silencing nothing.
    pub fn apply_allows(&mut self, settings: &LintSettings, known: &dyn Fn(&str) -> bool) {
        self.allows_applied = true;
        let mut allows = std::mem::take(&mut self.allows);
        self.findings.retain(|f| {
            let covers = |a: &Allow| {
                (a.file_level || (f.statement.is_some() && a.statement == f.statement))
                    && a.rules.iter().any(|r| *r == f.rule)
            };
            // A statement-level allow wins over a file-level one, so that each is used.
            let by_statement = allows.iter().position(|a| !a.file_level && covers(a));
            let by_file = || allows.iter().position(|a| a.file_level && covers(a));
            match by_statement.or_else(by_file) {
                Some(n) => {
                    let rule = allows[n].rules.iter().position(|r| *r == f.rule);
                    allows[n].used[rule.unwrap_or(0)] = true;
                    false
                }
                None => true,
            }
        });
        for allow in &allows {
            let span = allow.span.clone();
            if allow.reason.is_none() {
                let report = Report::file(span.clone(), "allow comment without a reason")
                    .help("add reason=\"…\": why this exception is safe");
                self.push(settings, &rules::ALLOW_MISSING_REASON, report);
            }
            for (rule, used) in allow.rules.iter().zip(&allow.used) {
                let report = if !known(rule) {
                    Report::file(span.clone(), format!("`{rule}` is not a rule"))
                        .help("`sqlrail lint --list-rules` lists the rules")
                } else if !used {
                    let target = if allow.file_level {
                        "this file"
                    } else {
                        "the statement it is attached to"
                    };
                    Report::file(
                        span.clone(),
                        format!("allow of `{rule}` silences nothing in {target}"),
                    )
                    .help("delete it, or move it to the line before the statement it is about")
                } else {
                    continue;
                };
                let rule = if known(rule) {
                    &rules::UNUSED_ALLOW
                } else {
                    &rules::UNKNOWN_RULE
                };
                self.push(settings, rule, report);
            }
        }
    }
}

fn finding(
    place: &Place<'_>,
    settings: &LintSettings,
    rule: Cow<'static, str>,
    default: Severity,
    report: Report,
) -> Option<Finding> {
    let severity = settings.severity(&rule, report.severity.unwrap_or(default))?;
    let (line, column) = place.lines.position(place.text, report.span.start);
    let (end_line, end_column) = place.lines.position(place.text, report.span.end);
    Some(Finding {
        rule,
        severity,
        path: place.path.clone(),
        file: place.file.clone(),
        line,
        column,
        end_line,
        end_column,
        span: report.span,
        message: report.message,
        help: report.help,
        statement: report.statement,
        statement_span: report.statement.map(|i| place.spans[i].clone()),
        source: Some(place.text.clone()),
    })
}

/// The statement's text with comments and literals blanked (same byte offsets), for
/// custom patterns: a pattern must not match inside a string or a function body. The
/// splitter already found every comment and literal, so nothing is lexed again.
fn masked_text(text: &str, sql: &SqlFile, start: usize, end: usize) -> String {
    let mut masked = text.as_bytes()[start..end].to_vec();
    for spans in [&sql.comments, &sql.literals] {
        let first = spans.partition_point(|t| t.end <= start);
        for token in spans[first..].iter().take_while(|t| t.start < end) {
            let from = token.start.max(start) - start;
            let to = token.end.min(end) - start;
            masked[from..to].fill(b' ');
        }
    }
    // Whole tokens were blanked, so the bytes are still UTF-8.
    String::from_utf8(masked).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masking_blanks_literals_and_comments_only() {
        let text = "UPDATE t SET a = 'TRUNCATE x' -- CASCADE\n WHERE b = $$CASCADE$$";
        let sql = crate::sql::split(text).unwrap();
        let masked = masked_text(text, &sql, 0, text.len());
        assert_eq!(masked.len(), text.len());
        assert!(masked.starts_with("UPDATE t SET a = "));
        assert!(!masked.contains("TRUNCATE") && !masked.contains("CASCADE"));
        assert!(masked.contains("WHERE b ="));
    }
}
