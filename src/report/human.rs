//! For people: rustc-style snippets (annotate-snippets) with the statement underlined, the
//! rule id and severity, and the help line. Colour when the caller's stream is a terminal.

use std::ops::Range;

use annotate_snippets::{AnnotationKind, Group, Level, Origin, Renderer, Snippet};

use crate::config::Severity;
use crate::lint::Finding;

/// Renders one finding. `styled`: with ANSI colours.
pub fn render(finding: &Finding, styled: bool) -> String {
    let level = match finding.severity {
        Severity::High | Severity::Medium => Level::ERROR,
        Severity::Low | Severity::Warning => Level::WARNING,
    }
    .with_name(finding.severity.as_str());
    let title = level
        .primary_title(finding.message.as_ref())
        .id(finding.rule.as_ref());
    let source = finding
        .source
        .as_deref()
        .filter(|_| !(finding.span.is_empty() && finding.statement.is_none()));
    let place = || {
        Origin::path(&*finding.path)
            .line(finding.line as usize)
            .char_column(finding.column as usize)
    };
    let mut group: Group<'_> = if let Some(source) = source {
        let shown = Shown::around(source, finding.span.clone());
        let snippet = Snippet::source(&source[shown.text.clone()])
            .line_start(finding.line as usize)
            .annotation(AnnotationKind::Primary.span(shown.underline));
        if shown.clipped {
            // The snippet starts mid-line, where the renderer would count columns from:
            // the place is given on its own.
            title.element(place()).element(snippet)
        } else {
            title.element(snippet.path(&*finding.path))
        }
    } else {
        // A finding about the whole file (or a run that kept no sources): its place only.
        title.element(place())
    };
    if let Some(help) = &finding.help {
        group = group.element(Level::HELP.message(help.as_ref()));
    }
    let renderer = if styled {
        Renderer::styled()
    } else {
        Renderer::plain()
    };
    renderer.render(&[group])
}

/// How far before and after the underline a snippet shows its line: far enough that the
/// renderer elides a long line itself, as it does a line of any length.
const CONTEXT: usize = 4096;

/// What of the source a snippet shows: the line of the finding's first byte, underlined
/// from there to the end of the span or of the line (a 40-line CREATE TABLE is found by its
/// first line). A long line is cut to `CONTEXT` bytes around the underline: a generated
/// file of one long line would otherwise hand the renderer the whole file for every
/// finding (20,000 findings on a 520 kB line took minutes).
struct Shown {
    /// Bytes of the source.
    text: Range<usize>,
    /// Bytes of `text`.
    underline: Range<usize>,
    /// `text` starts after the start of its line.
    clipped: bool,
}

impl Shown {
    fn around(source: &str, span: Range<usize>) -> Self {
        let bytes = source.as_bytes();
        let start = span.start.min(source.len());
        let back = char_boundary_at_or_before(source, start.saturating_sub(CONTEXT));
        let (line_start, clipped) = match memchr::memrchr(b'\n', &bytes[back..start]) {
            Some(n) => (back + n + 1, false),
            None => (back, back > 0),
        };
        let ahead =
            char_boundary_at_or_after(source, start.saturating_add(CONTEXT).min(source.len()));
        let line_end = memchr::memchr(b'\n', &bytes[start..ahead]).map_or(ahead, |n| start + n);
        let line_end = if bytes[..line_end].ends_with(b"\r") {
            line_end - 1
        } else {
            line_end
        };
        let underline_end = span.end.clamp(start, line_end);
        Shown {
            text: line_start..line_end,
            underline: start - line_start..underline_end - line_start,
            clipped,
        }
    }
}

/// `str::floor_char_boundary`, which is newer than this crate's minimum Rust.
fn char_boundary_at_or_before(text: &str, mut at: usize) -> usize {
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

/// `str::ceil_char_boundary`, likewise (`at` at most the length).
fn char_boundary_at_or_after(text: &str, mut at: usize) -> usize {
    while !text.is_char_boundary(at) {
        at += 1;
    }
    at
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_snippet_shows_the_line_of_the_span_underlined_to_its_first_line_end() {
        let source = "SELECT 1;\r\nCREATE TABLE t (\n  a int\n);\n";
        let start = source.find("CREATE").unwrap();
        let shown = Shown::around(source, start..source.len() - 2);
        assert_eq!(&source[shown.text.clone()], "CREATE TABLE t (");
        assert_eq!(&source[shown.text][shown.underline], "CREATE TABLE t (");
        assert!(!shown.clipped);
    }

    #[test]
    fn a_long_line_is_cut_around_the_span() {
        let source =
            "é".repeat(3 * CONTEXT) + "INSERT INTO t VALUES (1);" + &"x".repeat(3 * CONTEXT);
        let start = source.find("INSERT").unwrap();
        let shown = Shown::around(&source, start..start + 24);
        assert!(shown.clipped);
        assert!(shown.text.len() <= 2 * CONTEXT + 2);
        assert_eq!(
            &source[shown.text][shown.underline],
            "INSERT INTO t VALUES (1)"
        );
    }
}
