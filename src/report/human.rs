//! For people: rustc-style snippets (annotate-snippets) with the statement underlined, the
//! rule id and severity, and the help line. Colour when the caller's stream is a terminal.

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
    let mut group: Group<'_> = if let Some(source) = source {
        // Underline the first line only: a 40-line CREATE TABLE is found by its first line.
        let span = finding.span.clone();
        let end = source[span.clone()]
            .find('\n')
            .map_or(span.end, |n| span.start + n)
            .max(span.start);
        title.element(
            Snippet::source(source.as_str())
                .path(&*finding.path)
                .annotation(AnnotationKind::Primary.span(span.start..end)),
        )
    } else {
        // A finding about the whole file (or a run that kept no sources): its place only.
        title.element(
            Origin::path(&*finding.path)
                .line(finding.line as usize)
                .char_column(finding.column as usize),
        )
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
