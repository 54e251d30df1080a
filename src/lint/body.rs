//! Data changes inside procedural code (`DO` blocks, procedure bodies), which the splitter
//! keeps as one string token. The body is lexed as SQL and scanned for statements that
//! write rows; string literals inside it are scanned too, since `EXECUTE 'UPDATE …'` is
//! the same write.

use crate::sql::TokenKind;

use super::code::Code;
use super::context::literal_text;

/// How deep literals inside literals are followed (`EXECUTE format('…')` nests once or
/// twice in practice).
const MAX_NESTING: u32 = 3;

/// What `first_write` returns for a table it cannot name (built at run time).
pub const DYNAMIC: &str = "(a table named at run time)";

/// The first table `body` writes (`INSERT INTO t`, `UPDATE t … SET`, `DELETE FROM t`,
/// `MERGE INTO t`, `TRUNCATE t`, `COPY t FROM`), if any.
pub fn first_write(body: &str) -> Option<String> {
    first_write_nested(body, 0)
}

fn first_write_nested(body: &str, nesting: u32) -> Option<String> {
    // A body that does not lex (a fragment inside a format string) is scanned as far as it
    // lexes.
    let code = Code::of(body);
    for i in 0..code.len() {
        if let Some(table) = write_at(&code, i) {
            return Some(table);
        }
        let kind = code.kind(i);
        if nesting < MAX_NESTING
            && matches!(kind, Some(TokenKind::String | TokenKind::DollarString))
        {
            let inner = literal_text(code.text(i), kind.unwrap_or(TokenKind::String));
            if let Some(table) = first_write_nested(inner, nesting + 1) {
                return Some(table);
            }
        }
    }
    None
}

/// A write statement starting at token `i`. The shapes are strict so that keywords such as
/// `ON DELETE CASCADE`, `FOR UPDATE`, `BEFORE INSERT OR UPDATE` or `ON UPDATE SET NULL`
/// are not writes.
fn write_at(code: &Code<'_>, i: usize) -> Option<String> {
    // After `INSERT INTO` and the like a write is certain even when the table is not a
    // plain name (`INSERT INTO %I` in a format string).
    let after = |n: usize| {
        Some(
            code.name(i + n)
                .map_or_else(|| DYNAMIC.to_owned(), |(name, _)| name),
        )
    };
    if code.at(i, &["insert", "into"]) || code.at(i, &["merge", "into"]) {
        return after(2);
    }
    if code.at(i, &["delete", "from"]) {
        let skip = usize::from(code.is(i + 2, "only"));
        return after(2 + skip);
    }
    if code.is(i, "update") {
        let before = i.checked_sub(1).map_or("", |p| code.text(p));
        if ["for", "on", "or", "before", "after", "of", "do", "instead"]
            .iter()
            .any(|w| before.eq_ignore_ascii_case(w))
        {
            return None;
        }
        let skip = usize::from(code.is(i + 1, "only"));
        let (table, next) = code.name(i + 1 + skip)?;
        if table == "set" {
            return None;
        }
        // `UPDATE t SET`, `UPDATE t x SET`, `UPDATE t AS x SET`.
        return (next..next + 3).any(|j| code.is(j, "set")).then_some(table);
    }
    if code.is(i, "truncate") {
        let mut n = 1;
        while code.is(i + n, "table") || code.is(i + n, "only") {
            n += 1;
        }
        return after(n);
    }
    if code.is(i, "copy") {
        let (table, next) = code.name(i + 1)?;
        let next = code.skip_group(next);
        // `COPY t TO` only reads.
        return code.is(next, "from").then_some(table);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_are_found_in_procedural_code() {
        assert_eq!(
            first_write("BEGIN UPDATE leads l SET x = 1 WHERE true; END").as_deref(),
            Some("leads")
        );
        assert_eq!(
            first_write("begin execute 'delete from public.call_log'; end").as_deref(),
            Some("public.call_log")
        );
        assert_eq!(
            first_write("BEGIN EXECUTE format($q$INSERT INTO %I VALUES (1)$q$, t); END").as_deref(),
            Some(DYNAMIC)
        );
    }

    #[test]
    fn keywords_that_look_like_writes_are_not() {
        for body in [
            "BEGIN PERFORM 1 FROM leads FOR UPDATE; END",
            "BEGIN CREATE TABLE t (a int REFERENCES b ON DELETE CASCADE ON UPDATE SET NULL); END",
            "BEGIN CREATE TRIGGER x BEFORE INSERT OR UPDATE ON t FOR EACH ROW EXECUTE FUNCTION f(); END",
            "BEGIN RAISE NOTICE 'update the docs'; END",
            "BEGIN COPY t TO stdout; END",
        ] {
            assert_eq!(first_write(body), None, "{body}");
        }
    }
}
