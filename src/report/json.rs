//! One JSON document: `{"findings":[…],"summary":{…}}`. Field names are stable.

use std::io::Write;

use serde::Serialize;

use crate::lint::Findings;

use super::Summary;

#[derive(Serialize)]
struct Document<'a> {
    findings: Vec<JsonFinding<'a>>,
    summary: JsonSummary,
}

#[derive(Serialize)]
struct JsonFinding<'a> {
    rule: &'a str,
    severity: &'static str,
    path: &'a str,
    line: u32,
    column: u32,
    end_line: u32,
    end_column: u32,
    message: &'a str,
    help: Option<&'a str>,
}

#[derive(Serialize)]
struct JsonSummary {
    files: usize,
    findings: usize,
    high: usize,
    medium: usize,
    low: usize,
    warning: usize,
    baselined: usize,
    stale_baseline: usize,
    errors: usize,
    fail_on: Option<&'static str>,
}

pub fn render(findings: &Findings, summary: &Summary, out: &mut dyn Write) -> std::io::Result<()> {
    let document = Document {
        findings: findings
            .iter()
            .map(|f| JsonFinding {
                rule: &f.rule,
                severity: f.severity.as_str(),
                path: &f.path,
                line: f.line,
                column: f.column,
                end_line: f.end().0,
                end_column: f.end().1,
                message: &f.message,
                help: f.help.as_deref(),
            })
            .collect(),
        summary: JsonSummary {
            files: summary.files,
            findings: summary.findings.total(),
            high: summary.findings.high,
            medium: summary.findings.medium,
            low: summary.findings.low,
            warning: summary.findings.warning,
            baselined: summary.baselined,
            stale_baseline: summary.stale_baseline,
            errors: summary.errors,
            fail_on: summary.fail_on.map(|s| s.as_str()),
        },
    };
    let text = serde_json::to_string_pretty(&document).map_err(std::io::Error::other)?;
    writeln!(out, "{text}")
}
