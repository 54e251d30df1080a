//! Inline exceptions: `-- sqlrail:allow <rule>[, <rule>…] reason="…"` before (or inside) a
//! statement silences those rules for that statement; `-- sqlrail:allow-file …` for the
//! whole file. A missing reason, an unknown rule and an allow that silences nothing are
//! findings themselves.

use std::ops::Range;
use std::sync::LazyLock;

use memchr::memmem;

use super::context::FileContext;

const MARKER: &str = "sqlrail:allow";

#[derive(Debug, Clone)]
pub struct Allow {
    pub rules: Vec<String>,
    pub reason: Option<String>,
    pub file_level: bool,
    /// The statement a statement-level allow applies to (`None` if no statement follows).
    pub statement: Option<usize>,
    /// The comment.
    pub span: Range<usize>,
    /// Per rule: whether it silenced a finding.
    pub used: Vec<bool>,
}

/// Finds the marker; built once, because a file's every comment is searched (`str::find`
/// would set up its searcher again for each).
static MARKER_FINDER: LazyLock<memmem::Finder<'static>> =
    LazyLock::new(|| memmem::Finder::new(MARKER));

fn marker_in(text: &str) -> Option<usize> {
    MARKER_FINDER.find(text.as_bytes())
}

pub fn is_allow_comment(text: &str) -> bool {
    marker_in(text).is_some()
}

/// Parses the text of one comment (`-- …` or `/* … */`). `None` if it is no allow.
pub fn parse(comment: &str) -> Option<(bool, Vec<String>, Option<String>)> {
    let at = marker_in(comment)?;
    let rest = &comment[at + MARKER.len()..];
    let (file_level, rest) = match rest.strip_prefix("-file") {
        Some(rest) => (true, rest),
        None => (false, rest),
    };
    // `sqlrail:allowed` or `sqlrail:allow_x` is not the marker.
    if !rest.starts_with(|c: char| c.is_whitespace()) && !rest.is_empty() {
        return None;
    }
    let rest = rest.trim_end().trim_end_matches("*/");
    let (rules, reason) = match rest.find("reason=") {
        Some(r) => {
            let value = rest[r + "reason=".len()..].trim();
            let reason = ['"', '\''].iter().find_map(|&q| {
                let inner = value.strip_prefix(q)?;
                inner.find(q).map(|end| inner[..end].trim().to_owned())
            });
            (&rest[..r], reason.filter(|r| !r.is_empty()))
        }
        None => (rest, None),
    };
    let rules = rules
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|r| !r.is_empty())
        .map(str::to_owned)
        .collect();
    Some((file_level, rules, reason))
}

/// Every allow comment of `file`, each bound to its statement: the one it sits in, else
/// the next one.
pub fn collect(file: &FileContext<'_>) -> Vec<Allow> {
    let statements = &file.file.statements;
    file.comments()
        .filter_map(|comment| {
            let (file_level, rules, reason) = parse(comment.text(file.src))?;
            let statement = statements
                .iter()
                .position(|s| s.end > comment.start)
                .filter(|_| !file_level);
            Some(Allow {
                used: vec![false; rules.len()],
                rules,
                reason,
                file_level,
                statement,
                span: comment.start..comment.end,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allow_comments_parse() {
        assert_eq!(
            parse("-- sqlrail:allow dml-in-ddl, drop reason=\"seed rows\""),
            Some((
                false,
                vec!["dml-in-ddl".into(), "drop".into()],
                Some("seed rows".into())
            ))
        );
        assert_eq!(
            parse("/* sqlrail:allow-file rename reason='legacy' */"),
            Some((true, vec!["rename".into()], Some("legacy".into())))
        );
        assert_eq!(
            parse("-- sqlrail:allow drop reason=\"\""),
            Some((false, vec!["drop".into()], None))
        );
        assert_eq!(parse("-- sqlrail:allowed to fail"), None);
        assert_eq!(parse("-- plain comment"), None);
    }
}
