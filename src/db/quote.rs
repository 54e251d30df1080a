//! Quoting for the few values sqlrail must write into SQL text: the ledger's names and
//! the literals of a unit sent as one simple-protocol batch (which has no parameters).
//! Everything else travels as a parameter.

/// `"name"`, with `"` doubled: always quoted, so case and keywords are kept.
pub fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// `'text'` with `'` doubled. Correct with `standard_conforming_strings = on` (the default
/// since PostgreSQL 9.1), which each unit sets explicitly. NUL bytes cannot be sent in SQL
/// text at all and are dropped.
pub fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\0', "").replace('\'', "''"))
}

/// `"schema"."table"`.
pub fn qualified(schema: &str, table: &str) -> String {
    format!("{}.{}", ident(schema), ident(table))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_are_doubled() {
        assert_eq!(ident("a\"b"), "\"a\"\"b\"");
        assert_eq!(literal("it's\0"), "'it''s'");
        assert_eq!(
            qualified("public", "Schema Migrations"),
            "\"public\".\"Schema Migrations\""
        );
    }
}
