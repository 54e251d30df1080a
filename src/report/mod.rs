//! Renderers for lint findings: human (rustc-style snippets), json, GitHub workflow
//! annotations, SARIF and gcc-style lines. Each is one small file; they share the summary.

mod gathered;
mod gcc;
mod github;
mod human;
mod json;
mod sarif;

use std::io::Write;

use clap::ValueEnum;

use crate::config::Severity;

use crate::lint::{Finding, Findings, Tally};

pub use gathered::Gathered;
pub use human::render as human;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LintFormat {
    /// Snippets with the statement underlined, for people (stderr).
    Text,
    /// One JSON document on stdout.
    Json,
    /// GitHub Actions workflow commands (annotations on the pull request), on stdout.
    Github,
    /// SARIF 2.1.0 for code-scanning upload, on stdout.
    Sarif,
    /// `path:line:col: severity: [rule] message`, one per line, on stdout.
    Gcc,
}

/// Totals of one run.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    pub files: usize,
    /// Findings reported (not covered by the baseline), by severity.
    pub findings: Tally,
    /// Findings covered by the baseline (not reported).
    pub baselined: usize,
    /// Baseline entries that matched no finding.
    pub stale_baseline: usize,
    /// Files that could not be read or lexed.
    pub errors: usize,
    pub fail_on: Option<Severity>,
}

impl Summary {
    pub fn new(tally: Tally, files: usize, fail_on: Severity) -> Self {
        Summary {
            files,
            findings: tally,
            fail_on: Some(fail_on),
            ..Summary::default()
        }
    }

    /// `3 findings (1 high, 2 medium) in 41 files`.
    pub fn line(&self) -> String {
        let total = self.findings.total();
        let mut parts = Vec::new();
        for (n, name) in [
            (self.findings.high, "high"),
            (self.findings.medium, "medium"),
            (self.findings.low, "low"),
            (self.findings.warning, "warning"),
        ] {
            if n > 0 {
                parts.push(format!("{n} {name}"));
            }
        }
        let plural = |n: usize, word: &str| {
            if n == 1 {
                format!("{n} {word}")
            } else {
                format!("{n} {word}s")
            }
        };
        let mut line = plural(total, "finding");
        if !parts.is_empty() {
            line.push_str(&format!(" ({})", parts.join(", ")));
        }
        line.push_str(&format!(" in {}", plural(self.files, "file")));
        if self.baselined > 0 {
            line.push_str(&format!("; {} in the baseline", self.baselined));
        }
        line
    }
}

/// Writes `findings` to `out` in `format`. The text format is only the findings' snippets
/// (the caller writes the summary line after them).
pub fn render(
    format: LintFormat,
    findings: &Findings,
    summary: &Summary,
    out: &mut (dyn Write + Send),
) -> std::io::Result<()> {
    match format {
        LintFormat::Json => json::render(findings, summary, out),
        LintFormat::Sarif => sarif::render(findings, out),
        LintFormat::Text | LintFormat::Github | LintFormat::Gcc => {
            write_each_file(format, findings, out)
        }
    }
}

impl LintFormat {
    /// Whether each file's findings render on their own, so output can be written file by
    /// file while linting goes on (json and sarif are one document, written whole).
    pub fn renders_by_file(self) -> bool {
        matches!(
            self,
            LintFormat::Text | LintFormat::Github | LintFormat::Gcc
        )
    }
}

/// One file's findings in a format that `renders_by_file`.
pub fn render_file(format: LintFormat, findings: &[Finding]) -> Vec<u8> {
    debug_assert!(format.renders_by_file());
    // Sized from the findings (a line of gcc output is its path, rule and message and at
    // most 40 bytes more; github's adds the help and about 60), so that the output is
    // seldom copied to grow.
    let size = findings
        .iter()
        .map(|f| {
            let line = f.path.len() + f.rule.len() + f.message.len() + 40;
            match format {
                LintFormat::Github => line + 60 + f.help.as_ref().map_or(0, |h| h.len()),
                _ => line,
            }
        })
        .sum();
    let mut out = Vec::with_capacity(size);
    for finding in findings {
        match format {
            LintFormat::Text => {
                out.extend_from_slice(human::render(finding, true).as_bytes());
                out.extend_from_slice(b"\n\n");
            }
            LintFormat::Github => github::render(finding, &mut out),
            _ => gcc::render(finding, &mut out),
        }
    }
    out
}

/// Writes every file's findings, rendered in parallel and written in order as each file
/// is rendered, so that memory holds the few files rendered ahead, not all the output.
fn write_each_file(
    format: LintFormat,
    findings: &Findings,
    out: &mut (dyn Write + Send),
) -> std::io::Result<()> {
    let mut result = Ok(());
    let render = |group: &Vec<Finding>| render_file(format, group);
    crate::speed::in_order::for_each_in_order(findings.groups(), render, |bytes| {
        if result.is_ok() {
            result = out.write_all(&bytes);
        }
    });
    result
}

#[cfg(test)]
pub(crate) mod tests {
    use std::sync::Arc;

    use super::*;

    /// Two findings in one file, for the renderers' snapshots.
    pub fn sample() -> Vec<Finding> {
        let source: Arc<String> = Arc::new(
            "ALTER TABLE leads ADD COLUMN s text;\nUPDATE leads SET s = 'open';\n".to_owned(),
        );
        let finding = |rule: &'static str,
                       severity,
                       line,
                       span: std::ops::Range<usize>,
                       message: &'static str| Finding {
            rule: rule.into(),
            severity,
            path: Arc::from("sql/ddl/V12__leads_status.sql"),
            file: Arc::from(std::path::Path::new("sql/ddl/V12__leads_status.sql")),
            line,
            column: 1,
            end: Some((line, 1 + (span.end - span.start) as u32)),
            span: span.clone(),
            message: message.into(),
            help: Some("move data changes to sql/backfills/".into()),
            statement: Some(line as usize - 1),
            statement_span: Some(span),
            source: Some(source.clone()),
        };
        vec![
            finding(
                "drop",
                Severity::Warning,
                1,
                0..35,
                "a \"quoted\" warning, with: punctuation",
            ),
            finding(
                "dml-in-ddl",
                Severity::High,
                2,
                37..64,
                "`UPDATE` writes hot table `leads` in a schema migration",
            ),
        ]
    }

    #[test]
    fn the_summary_line_counts_by_severity() {
        let summary = Summary::new(Tally::of(&sample()), 41, Severity::Low);
        assert_eq!(summary.line(), "2 findings (1 high, 1 warning) in 41 files");
        assert_eq!(
            Summary::new(Tally::default(), 1, Severity::Low).line(),
            "0 findings in 1 file"
        );
    }

    #[test]
    fn machine_formats_render() {
        let findings = Findings::from_groups(vec![sample()]);
        let summary = Summary::new(Tally::of(findings.iter()), 41, Severity::Low);
        for format in [
            LintFormat::Json,
            LintFormat::Github,
            LintFormat::Sarif,
            LintFormat::Gcc,
        ] {
            let mut out = Vec::new();
            render(format, &findings, &summary, &mut out).unwrap();
            insta::assert_snapshot!(
                format!("{format:?}").to_lowercase(),
                String::from_utf8(out).unwrap()
            );
        }
    }
}
