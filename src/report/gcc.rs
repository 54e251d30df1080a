//! `path:line:col: severity: [rule] message`: what editors and `grep`-minded tools read.

use std::io::Write;

use crate::lint::Finding;

/// Appends one finding's line to `out`.
pub fn render(f: &Finding, out: &mut Vec<u8>) {
    // Writing to a Vec cannot fail.
    let _ = writeln!(
        out,
        "{}:{}:{}: {}: [{}] {}",
        f.path,
        f.line,
        f.column,
        f.severity.as_str(),
        f.rule,
        f.message
    );
}
