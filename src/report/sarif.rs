//! SARIF 2.1.0, the format GitHub code scanning (and most security dashboards) ingest:
//! one run, the rules that fired as `tool.driver.rules`, one result per finding.

use std::io::Write;

use serde_json::json;

use crate::config::Severity;
use crate::lint::Findings;

pub fn render(findings: &Findings, out: &mut dyn Write) -> std::io::Result<()> {
    let mut rule_ids: Vec<&str> = findings.iter().map(|f| f.rule.as_ref()).collect();
    rule_ids.sort_unstable();
    rule_ids.dedup();
    let rules: Vec<_> = rule_ids
        .iter()
        .map(|id| {
            let summary = crate::lint::rules::find(id).map_or("custom rule from lint-rules.yaml", |r| r.summary);
            json!({
                "id": id,
                "shortDescription": { "text": summary },
                "helpUri": format!("https://github.com/sqlrail/sqlrail/blob/main/docs/rules.md#{id}"),
            })
        })
        .collect();
    let results: Vec<_> = findings
        .iter()
        .map(|f| {
            let level = match f.severity {
                Severity::High | Severity::Medium => "error",
                Severity::Low => "warning",
                Severity::Warning => "note",
            };
            let mut text = f.message.to_string();
            if let Some(help) = &f.help {
                text.push_str(&format!(" (help: {help})"));
            }
            json!({
                "ruleId": f.rule,
                "ruleIndex": rule_ids.binary_search(&f.rule.as_ref()).unwrap_or(0),
                "level": level,
                "message": { "text": text },
                "properties": { "severity": f.severity.as_str() },
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": { "uri": f.path.replace('\\', "/") },
                        "region": {
                            "startLine": f.line,
                            "startColumn": f.column,
                            "endLine": f.end().0,
                            "endColumn": f.end().1,
                        }
                    }
                }],
            })
        })
        .collect();
    let document = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "sqlrail",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://github.com/sqlrail/sqlrail",
                "rules": rules,
            }},
            "results": results,
        }],
    });
    let text = serde_json::to_string_pretty(&document).map_err(std::io::Error::other)?;
    writeln!(out, "{text}")
}
