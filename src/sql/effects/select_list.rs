//! The column names a query gives a view (or a `CREATE TABLE … AS`), where the tokens
//! show them: every select-list item is `expression AS name` or a column reference
//! (`p.title` is `title`). Anything else (`*`, an unnamed expression, a `WITH` query) and
//! the names are not known: PostgreSQL's own choices (`?column?`, a function's name) are
//! not guessed.

use crate::sql::TokenKind;
use crate::sql::code::Code;

use super::name::ident;

/// The names of the select list of the query starting at token `at`.
pub fn columns(code: &Code<'_>, at: usize) -> Option<Vec<String>> {
    if !code.is(at, "select") {
        return None;
    }
    let mut i = at + 1;
    if code.is(i, "all") {
        i += 1;
    } else if code.is(i, "distinct") {
        i += 1;
        if code.is(i, "on") {
            i = code.skip_group(i + 1);
        }
    }
    let depth = code.depth(at);
    let end = (i..code.len())
        .find(|&j| {
            code.depth(j) == depth
                && [
                    "from",
                    "where",
                    "group",
                    "having",
                    "window",
                    "union",
                    "intersect",
                    "except",
                    "order",
                    "limit",
                    "offset",
                    "fetch",
                    "for",
                    "with",
                ]
                .iter()
                .any(|w| code.is(j, w))
        })
        .unwrap_or(code.len());
    let mut names = Vec::new();
    for item in code.comma_separated(i..end, depth) {
        let (first, last) = (item.start, item.end.checked_sub(1)?);
        let name = if last > first && code.is(last - 1, "as") {
            ident(code, last)?
        } else {
            // A column reference: `name` or `qualifier.name`, nothing else.
            let parts = (first..=last).step_by(2).all(|k| ident(code, k).is_some())
                && (first + 1..=last)
                    .step_by(2)
                    .all(|k| code.kind(k) == Some(TokenKind::Dot))
                && (last - first) % 2 == 0;
            if !parts {
                return None;
            }
            ident(code, last)?
        };
        names.push(name);
    }
    (!names.is_empty()).then_some(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_come_from_aliases_and_column_references() {
        let names = |sql: &str| columns(&Code::of(sql), 0);
        assert_eq!(
            names("SELECT p.id AS post_id, p.title, slug, count(v.id) AS views FROM posts p"),
            Some(vec![
                "post_id".into(),
                "title".into(),
                "slug".into(),
                "views".into()
            ])
        );
        assert_eq!(
            names("SELECT DISTINCT ON (a) a, b FROM t"),
            Some(vec!["a".into(), "b".into()])
        );
        assert_eq!(names("SELECT *, a FROM t"), None);
        assert_eq!(names("SELECT count(*) FROM t"), None);
        assert_eq!(names("SELECT a::text FROM t"), None);
    }
}
