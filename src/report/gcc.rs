//! `path:line:col: severity: [rule] message`: what editors and `grep`-minded tools read.

use crate::lint::Finding;

/// Appends one finding's line to `out`.
///
/// Written piece by piece rather than with `writeln!`: a lint run on a large tree renders
/// a line per finding, and the formatting machinery cost more than all the bytes it wrote
/// (about 1,200 instructions a line against 250 this way; bench/README.md, session 9).
pub fn render(f: &Finding, out: &mut Vec<u8>) {
    let mut number = itoa::Buffer::new();
    out.extend_from_slice(f.path.as_bytes());
    out.push(b':');
    out.extend_from_slice(number.format(f.line).as_bytes());
    out.push(b':');
    out.extend_from_slice(number.format(f.column).as_bytes());
    out.extend_from_slice(b": ");
    out.extend_from_slice(f.severity.as_str().as_bytes());
    out.extend_from_slice(b": [");
    out.extend_from_slice(f.rule.as_bytes());
    out.extend_from_slice(b"] ");
    out.extend_from_slice(f.message.as_bytes());
    out.push(b'\n');
}
