//! Renderers for lint findings: human (rustc-style snippets), json, GitHub workflow
//! annotations, SARIF and gcc-style lines. Each is one small file; they share the summary.

mod gcc;
mod github;
mod human;
mod json;
mod sarif;

use std::io::Write;

use clap::ValueEnum;

use crate::config::Severity;
use crate::lint::Finding;

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
    pub high: usize,
    pub medium: usize,
    pub low: usize,
    pub warning: usize,
    /// Findings covered by the baseline (not reported).
    pub baselined: usize,
    /// Baseline entries that matched no finding.
    pub stale_baseline: usize,
    /// Files that could not be read or lexed.
    pub errors: usize,
    pub fail_on: Option<Severity>,
}

impl Summary {
    pub fn new(findings: &[Finding], files: usize, fail_on: Severity) -> Self {
        let count = |s: Severity| findings.iter().filter(|f| f.severity == s).count();
        Summary {
            files,
            high: count(Severity::High),
            medium: count(Severity::Medium),
            low: count(Severity::Low),
            warning: count(Severity::Warning),
            fail_on: Some(fail_on),
            ..Summary::default()
        }
    }

    pub fn total(&self) -> usize {
        self.high + self.medium + self.low + self.warning
    }

    /// `3 findings (1 high, 2 medium) in 41 files`.
    pub fn line(&self) -> String {
        let total = self.total();
        let mut parts = Vec::new();
        for (n, name) in [
            (self.high, "high"),
            (self.medium, "medium"),
            (self.low, "low"),
            (self.warning, "warning"),
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

/// Writes `findings` in a machine format to `out`.
pub fn render(
    format: LintFormat,
    findings: &[Finding],
    summary: &Summary,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    match format {
        LintFormat::Text => Ok(()),
        LintFormat::Json => json::render(findings, summary, out),
        LintFormat::Github => github::render(findings, out),
        LintFormat::Sarif => sarif::render(findings, out),
        LintFormat::Gcc => gcc::render(findings, out),
    }
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
            end_line: line,
            end_column: 1 + (span.end - span.start) as u32,
            span: span.clone(),
            message: message.into(),
            help: Some("move data changes to sql/backfills/".into()),
            statement: Some(line as usize - 1),
            statement_span: Some(span),
            source: source.clone(),
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
        let summary = Summary::new(&sample(), 41, Severity::Low);
        assert_eq!(summary.line(), "2 findings (1 high, 1 warning) in 41 files");
        assert_eq!(
            Summary::new(&[], 1, Severity::Low).line(),
            "0 findings in 1 file"
        );
    }

    #[test]
    fn machine_formats_render() {
        let findings = sample();
        let summary = Summary::new(&findings, 41, Severity::Low);
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
