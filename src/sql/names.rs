//! Identifiers as PostgreSQL folds them: unquoted names lower-cased (ASCII letters only,
//! scansup.c), quoted names kept as written with `""` undoubled.

use std::borrow::Cow;
use std::ops::Range;

use super::lexer::{Lexer, SPACE, Token, TokenKind, is};

/// `"a""b"` → `a"b`. `U&"x"` keeps its escapes (such names are only compared and shown).
pub fn unquote(text: &str) -> String {
    let inner = text.trim_start_matches(['U', 'u', '&']);
    inner[1..inner.len() - 1].replace("\"\"", "\"")
}

/// One part of a name as written in configuration (`Leads`, `"Leads"`), folded.
pub fn fold_part(part: &str) -> String {
    let part = part.trim();
    let folded = if part.len() >= 2 && part.starts_with('"') && part.ends_with('"') {
        unquote(part)
    } else {
        part.to_ascii_lowercase()
    };
    // The server keeps 63 bytes of a longer name.
    crate::sql::effects::truncated(folded)
}

/// A dotted name from configuration (`crm.Leads`), every part folded.
pub fn fold_qualified(name: &str) -> String {
    name.split('.').map(fold_part).collect::<Vec<_>>().join(".")
}

/// Appends `token` to `name` as one part of a name, folded as PostgreSQL folds it: only
/// the ASCII letters of an unquoted name are lower-cased (scansup.c); a quoted name is
/// unquoted. `false`, appending nothing, when the token is no name part.
pub fn push_part(name: &mut String, token: Token, src: &str) -> bool {
    match token.kind {
        TokenKind::Word => {
            let at = name.len();
            name.push_str(token.text(src));
            name[at..].make_ascii_lowercase();
        }
        TokenKind::QuotedIdent => name.push_str(&unquote(token.text(src))),
        _ => return false,
    }
    true
}

/// The table named from byte `from` of `src` (up to `end`) after an optional `IF [NOT]
/// EXISTS` and `ONLY`, folded: read from [`Statement::head_end`](super::Statement::head_end)
/// of `CREATE TABLE IF NOT EXISTS S."T" (…)` it gives `s.T`. `None` if no name is there.
pub fn table_after(src: &str, from: usize, end: usize) -> Option<Cow<'_, str>> {
    match plain_name_at(src.as_bytes(), from, end) {
        Some(name) => Some(Cow::Borrowed(&src[name])),
        None => table_after_lexed(src, from, end).map(Cow::Owned),
    }
}

/// Where the name after `from` is when it is one unquoted word of lower-case ASCII letters,
/// digits, `_` and `$` (so folding leaves it as written), not `if` or `only`, and nothing
/// after it can continue or qualify it. `None` sends the caller to the lexer: most tables
/// are named so, and the linter asks this of every CREATE, ALTER and DROP TABLE.
fn plain_name_at(src: &[u8], from: usize, end: usize) -> Option<Range<usize>> {
    let src = &src[..end];
    let start = from + src.get(from..)?.iter().position(|&b| !is(b, SPACE))?;
    if !matches!(src[start], b'a'..=b'z' | b'_') {
        return None;
    }
    let is_plain = |b: u8| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'_' | b'$');
    let stop = src[start..]
        .iter()
        .position(|&b| !is_plain(b))
        .map_or(src.len(), |n| start + n);
    // Right after the word: a byte that ends it (not `U&"`, `E'`, an upper-case letter or
    // a non-ASCII letter that would continue it). After the spaces: no `.` qualifying it,
    // and nothing (`-- …`, `/* … */`, a meta-command) that may hide one.
    let ends_word = src
        .get(stop)
        .is_none_or(|&b| is(b, SPACE) || matches!(b, b'(' | b')' | b',' | b';'));
    let after = src[stop..].iter().copied().find(|&b| !is(b, SPACE));
    let qualified = matches!(after, Some(b'.' | b'-' | b'/' | b'\\'));
    let word = &src[start..stop];
    (ends_word && !qualified && word != b"if" && word != b"only").then_some(start..stop)
}

/// `table_after` through the lexer.
fn table_after_lexed(src: &str, from: usize, end: usize) -> Option<String> {
    // Lexed one token at a time, up to the end of the name: `ALTER TABLE t ALTER COLUMN …`
    // is all words.
    let mut tokens = Lexer::at(&src.as_bytes()[..end], from)
        .significant()
        .peekable();
    let is = |token: &Token, word: &str| {
        token.kind == TokenKind::Word && token.text(src).eq_ignore_ascii_case(word)
    };
    let mut token = tokens.next()?;
    // `if` followed by anything but `not`/`exists` is the table's name: `CREATE TABLE if (…)`.
    if is(&token, "if")
        && tokens
            .next_if(|t| is(t, "not") || is(t, "exists"))
            .is_some()
    {
        tokens.next_if(|t| is(t, "exists"));
        token = tokens.next()?;
    }
    if is(&token, "only") {
        token = tokens.next()?;
    }
    let mut name = String::with_capacity(24);
    loop {
        if !push_part(&mut name, token, src) {
            return None;
        }
        if tokens.next_if(|t| t.kind == TokenKind::Dot).is_none() {
            return Some(name);
        }
        name.push('.');
        token = tokens.next()?;
    }
}

/// Whether two folded relation names can denote the same relation: equal, or equal in
/// their last part when either leaves the schema to the search path.
pub fn same_relation(a: &str, b: &str) -> bool {
    if a == b {
        return true;
    }
    match (split_schema(a), split_schema(b)) {
        ((Some(_), a), (None, b)) | ((None, a), (Some(_), b)) => a == b,
        _ => false,
    }
}

/// `s.t` → (`Some("s")`, `t`); `t` → (`None`, `t`). A byte loop: names are short, and
/// `rsplit_once` searched them with a general character searcher, which cost more than
/// the comparisons it served.
pub fn split_schema(name: &str) -> (Option<&str>, &str) {
    match name.bytes().rposition(|b| b == b'.') {
        Some(dot) => (Some(&name[..dot]), &name[dot + 1..]),
        None => (None, name),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_follows_postgres() {
        assert_eq!(fold_qualified("CRM.\"Leads\""), "crm.Leads");
        assert_eq!(unquote("\"a\"\"b\""), "a\"b");
        assert!(same_relation("public.leads", "leads"));
        assert!(same_relation("leads", "leads"));
        assert!(!same_relation("crm.leads", "public.leads"));
        assert!(!same_relation("leads", "Leads"));
        assert!(!same_relation("a.leads", "b.leads"));
        assert_eq!(split_schema("a.b.c"), (Some("a.b"), "c"));
        assert_eq!(split_schema("c"), (None, "c"));
    }

    #[test]
    fn table_names_after_the_command_words() {
        fn after(sql: &str) -> Option<Cow<'_, str>> {
            table_after(sql, sql.find("TABLE").unwrap() + 5, sql.len())
        }
        assert_eq!(
            after("ALTER TABLE Crm /* x */ . \"Le\"\"ads\" ADD c int").as_deref(),
            Some("crm.Le\"ads")
        );
        assert_eq!(
            after("ALTER TABLE IF EXISTS ONLY t ADD c int").as_deref(),
            Some("t")
        );
        assert_eq!(
            after("CREATE TABLE IF NOT EXISTS t (a int)").as_deref(),
            Some("t")
        );
        // `if` alone is the table's name.
        assert_eq!(after("CREATE TABLE if (a int)").as_deref(), Some("if"));
        assert_eq!(after("ALTER TABLE (").as_deref(), None);
        // Words read without the lexer, and words next to what may qualify them.
        assert_eq!(
            after("ALTER TABLE t2_$x ADD c int").as_deref(),
            Some("t2_$x")
        );
        assert_eq!(after("CREATE TABLE t(a int)").as_deref(), Some("t"));
        assert_eq!(
            after("CREATE TABLE s -- c\n.t (a int)").as_deref(),
            Some("s.t")
        );
        assert_eq!(
            after("CREATE TABLE s/**/.t (a int)").as_deref(),
            Some("s.t")
        );
        assert_eq!(after("CREATE TABLE tAb (a int)").as_deref(), Some("tab"));
        assert_eq!(after("CREATE TABLE u&\"x\" (a int)").as_deref(), Some("x"));
    }

    proptest::proptest! {
        /// Names read without the lexer are the names the lexer reads.
        #[test]
        fn plain_names_are_the_lexed_names(
            parts in proptest::collection::vec(proptest::sample::select(vec![
                "t", "if", "only", "not", "exists", "Ab", "x1$", "_", " ", "\n", ".", "-- c\n",
                "/* c */", "(", ",", ";", "\"Q\"", "u&\"q\"", "é", "e'", "\\", "-", "/",
            ]), 0..8),
        ) {
            let text = parts.concat();
            if let Some(name) = plain_name_at(text.as_bytes(), 0, text.len()) {
                let lexed = table_after_lexed(&text, 0, text.len());
                proptest::prop_assert_eq!(lexed.as_deref(), Some(&text[name]));
            }
        }
    }
}
