//! `path:line:col: severity: [rule] message`: what editors and `grep`-minded tools read.

use std::io::Write;

use crate::lint::Finding;

pub fn render(findings: &[Finding], out: &mut dyn Write) -> std::io::Result<()> {
    for f in findings {
        writeln!(
            out,
            "{}:{}:{}: {}: [{}] {}",
            f.path,
            f.line,
            f.column,
            f.severity.as_str(),
            f.rule,
            f.message
        )?;
    }
    Ok(())
}
