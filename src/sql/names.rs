//! Identifiers as PostgreSQL folds them: unquoted names lower-cased (ASCII letters only,
//! scansup.c), quoted names kept as written with `""` undoubled.

use std::ops::Range;

use super::lexer::{Lexer, TokenKind};

/// `"a""b"` → `a"b`. `U&"x"` keeps its escapes (such names are only compared and shown).
pub fn unquote(text: &str) -> String {
    let inner = text.trim_start_matches(['U', 'u', '&']);
    inner[1..inner.len() - 1].replace("\"\"", "\"")
}

/// One part of a name as written in configuration (`Leads`, `"Leads"`), folded.
pub fn fold_part(part: &str) -> String {
    let part = part.trim();
    if part.len() >= 2 && part.starts_with('"') && part.ends_with('"') {
        unquote(part)
    } else {
        part.to_ascii_lowercase()
    }
}

/// A dotted name from configuration (`crm.Leads`), every part folded.
pub fn fold_qualified(name: &str) -> String {
    name.split('.').map(fold_part).collect::<Vec<_>>().join(".")
}

/// The name written at `span` of `src` (`s.t`, `"S" . "T"`), folded: what
/// [`Statement::table`](super::Statement::table) points at.
pub fn folded_at(src: &str, span: Range<usize>) -> String {
    let mut name = String::with_capacity(span.len());
    for token in Lexer::at(&src.as_bytes()[..span.end], span.start).map_while(Result::ok) {
        match token.kind {
            TokenKind::Word => {
                let at = name.len();
                name.push_str(token.text(src));
                name[at..].make_ascii_lowercase();
            }
            TokenKind::QuotedIdent => name.push_str(&unquote(token.text(src))),
            TokenKind::Dot => name.push('.'),
            // Comments between the parts.
            _ => {}
        }
    }
    name
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
    fn names_at_a_span_fold_each_part() {
        let src = "ALTER TABLE Crm /* x */ . \"Le\"\"ads\" ADD c int";
        assert_eq!(folded_at(src, 12..35), "crm.Le\"ads");
        assert_eq!(folded_at(src, 12..15), "crm");
    }
}
