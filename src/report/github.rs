//! GitHub Actions workflow commands: each finding becomes an annotation on the pull
//! request's diff. HIGH and MEDIUM are errors, LOW warnings, `warning` notices.

use std::io::Write;

use crate::config::Severity;
use crate::lint::Finding;

/// Appends one finding's workflow command to `out`.
pub fn render(f: &Finding, out: &mut Vec<u8>) {
    let command = match f.severity {
        Severity::High | Severity::Medium => "error",
        Severity::Low => "warning",
        Severity::Warning => "notice",
    };
    let mut message = f.message.to_string();
    if let Some(help) = &f.help {
        message.push_str("\nhelp: ");
        message.push_str(help);
    }
    // Writing to a Vec cannot fail.
    let _ = writeln!(
        out,
        "::{command} file={},line={},col={},endLine={},title={}::{}",
        property(&f.path),
        f.line,
        f.column,
        f.end().0,
        property(&format!("{} [{}]", f.severity.as_str(), f.rule)),
        data(&message)
    );
}

/// Escaping of a workflow command's message (actions/toolkit `escapeData`).
fn data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escaping of a workflow command's property value (`escapeProperty`).
fn property(s: &str) -> String {
    data(s).replace(':', "%3A").replace(',', "%2C")
}
