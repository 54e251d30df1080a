//! The columns a statement declares, with their types, for the style rules: every column
//! of `CREATE TABLE`, and those `ALTER TABLE` adds or retypes.

use crate::sql::code::{Code, alter_table};

use super::context::FileContext;

/// One declared column.
pub struct Declared {
    /// Folded.
    pub column: String,
    /// The type's first token in the statement's code.
    pub type_at: usize,
    /// Declared `PRIMARY KEY` or `REFERENCES …` inline, or named `id` or `…_id`.
    pub key: bool,
}

/// Each column the file's statements declare, with its statement's index and code and its
/// type's first word (past `pg_catalog.`): the one loop of the style rules.
pub fn each_declared(
    file: &FileContext<'_>,
    mut visit: impl FnMut(usize, &Code<'_>, &Declared, usize),
) {
    for (i, _) in file.statements() {
        let Some((code, columns)) = declared(file, i) else {
            continue;
        };
        for column in &columns {
            visit(i, &code, column, type_word(&code, column.type_at));
        }
    }
}

/// The statement's code and the columns it declares (none for other statements).
fn declared<'a>(file: &FileContext<'a>, i: usize) -> Option<(Code<'a>, Vec<Declared>)> {
    let tag = &*file.file.statements[i].tag;
    if tag != "CREATE TABLE" && tag != "ALTER TABLE" {
        return None;
    }
    let code = file.code(i);
    let mut out = Vec::new();
    if tag == "CREATE TABLE" {
        let open =
            (0..code.len()).find(|&j| code.kind(j) == Some(crate::sql::TokenKind::OpenParen))?;
        let close = code.skip_group(open).saturating_sub(1);
        for element in code.comma_separated(open + 1..close, 1) {
            const NOT_COLUMNS: &[&str] = &[
                "constraint",
                "primary",
                "unique",
                "check",
                "foreign",
                "exclude",
                "like",
            ];
            if NOT_COLUMNS.iter().any(|w| code.is(element.start, w)) {
                continue;
            }
            if let Some((column, type_at)) = code.name(element.start) {
                let key = inline_key(&code, type_at..element.end, 1);
                out.push(declared_column(column, type_at, key));
            }
        }
    } else {
        let (_, actions) = alter_table(&code)?;
        for action in actions {
            if let Some(added) = super::alter_action::added_column(&code, &action) {
                let key = inline_key(&code, added.rest.clone(), 0);
                out.push(declared_column(added.name, added.type_at, key));
            } else if let Some((column, type_at)) =
                super::alter_action::altered_type(&code, &action)
            {
                out.push(declared_column(column, type_at, false));
            }
        }
    }
    Some((code, out))
}

fn declared_column(column: String, type_at: usize, inline_key: bool) -> Declared {
    let key = inline_key || column == "id" || column.ends_with("_id");
    Declared {
        column,
        type_at,
        key,
    }
}

fn inline_key(code: &Code<'_>, range: std::ops::Range<usize>, depth: u32) -> bool {
    code.find_at_depth(range.clone(), depth, &["primary", "key"])
        .is_some()
        || code.find_at_depth(range, depth, &["references"]).is_some()
}

/// The type at `at`, without a `pg_catalog.` prefix: its first word's index.
fn type_word(code: &Code<'_>, at: usize) -> usize {
    if code.is(at, "pg_catalog") && code.kind(at + 1) == Some(crate::sql::TokenKind::Dot) {
        at + 2
    } else {
        at
    }
}
