//! One action of `ALTER TABLE … ADD …`, read once for the lock-hazard rules: the column or
//! the constraint it adds, and the clauses that decide what lock it holds and whether it
//! scans or rewrites the table while holding it.

use std::ops::Range;

use crate::sql::code::Code;

/// The kinds of constraint whose addition PostgreSQL checks against existing rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConstraintKind {
    Check,
    ForeignKey,
    Unique,
    PrimaryKey,
    Exclude,
}

impl ConstraintKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ConstraintKind::Check => "check constraint",
            ConstraintKind::ForeignKey => "foreign key",
            ConstraintKind::Unique => "unique constraint",
            ConstraintKind::PrimaryKey => "primary key",
            ConstraintKind::Exclude => "exclusion constraint",
        }
    }
}

/// `ADD [CONSTRAINT name] kind …`.
#[derive(Debug, Clone)]
pub struct AddedConstraint {
    /// Folded; `None` when PostgreSQL names it.
    pub name: Option<String>,
    pub kind: ConstraintKind,
    /// The token of the kind's first word.
    pub kind_at: usize,
    pub not_valid: bool,
    /// `UNIQUE USING INDEX i` / `PRIMARY KEY USING INDEX i`: an index built beforehand.
    pub using_index: bool,
}

/// `ADD [COLUMN] [IF NOT EXISTS] name type …`.
#[derive(Debug, Clone)]
pub struct AddedColumn {
    /// Folded.
    pub name: String,
    /// The type's first token.
    pub type_at: usize,
    /// The action's tokens after the column name.
    pub rest: Range<usize>,
}

/// The constraint an `ADD` action adds (`None` for a column or any other action).
pub fn added_constraint(code: &Code<'_>, action: &Range<usize>) -> Option<AddedConstraint> {
    if !code.is(action.start, "add") {
        return None;
    }
    let mut at = action.start + 1;
    let mut name = None;
    if code.is(at, "constraint") {
        let (n, next) = code.name(at + 1)?;
        name = Some(n);
        at = next;
    }
    let kind = constraint_kind(code, at)?;
    Some(AddedConstraint {
        name,
        kind,
        kind_at: at,
        not_valid: code
            .find_at_depth(at..action.end, 0, &["not", "valid"])
            .is_some(),
        using_index: code
            .find_at_depth(at..action.end, 0, &["using", "index"])
            .is_some(),
    })
}

fn constraint_kind(code: &Code<'_>, at: usize) -> Option<ConstraintKind> {
    if code.is(at, "check") {
        Some(ConstraintKind::Check)
    } else if code.at(at, &["foreign", "key"]) {
        Some(ConstraintKind::ForeignKey)
    } else if code.is(at, "unique") {
        Some(ConstraintKind::Unique)
    } else if code.at(at, &["primary", "key"]) {
        Some(ConstraintKind::PrimaryKey)
    } else if code.is(at, "exclude") {
        Some(ConstraintKind::Exclude)
    } else {
        None
    }
}

/// The column an `ADD` action adds (`None` for a constraint or any other action).
pub fn added_column(code: &Code<'_>, action: &Range<usize>) -> Option<AddedColumn> {
    if !code.is(action.start, "add") {
        return None;
    }
    let mut at = action.start + 1;
    if code.is(at, "column") {
        at += 1;
    }
    if code.at(at, &["if", "not", "exists"]) {
        at += 3;
    }
    if code.is(at, "constraint") || constraint_kind(code, at).is_some() {
        return None;
    }
    let (name, type_at) = code.name(at)?;
    Some(AddedColumn {
        name,
        type_at,
        rest: type_at..action.end,
    })
}

/// The column an `ALTER [COLUMN] c [SET DATA] TYPE …` action retypes, and the new type's
/// first token (`None` for any other action).
pub fn altered_type(code: &Code<'_>, action: &Range<usize>) -> Option<(String, usize)> {
    if !code.is(action.start, "alter") {
        return None;
    }
    let at = action.start + 1 + usize::from(code.is(action.start + 1, "column"));
    let (column, next) = code.name(at)?;
    if code.is(next, "type") {
        Some((column, next + 1))
    } else if code.at(next, &["set", "data", "type"]) {
        Some((column, next + 3))
    } else {
        None
    }
}

/// The constraints declared inline on an added column (`… REFERENCES t`, `… CHECK (…)`,
/// `… UNIQUE`, `… PRIMARY KEY`), each with its first token.
pub fn inline_constraints(code: &Code<'_>, column: &AddedColumn) -> Vec<(ConstraintKind, usize)> {
    (column.rest.clone())
        .filter(|&j| code.depth(j) == code.depth(column.type_at))
        .filter_map(|j| {
            let kind = if code.is(j, "references") {
                ConstraintKind::ForeignKey
            } else if code.is(j, "check") {
                ConstraintKind::Check
            } else if code.is(j, "unique") {
                ConstraintKind::Unique
            } else if code.at(j, &["primary", "key"]) {
                ConstraintKind::PrimaryKey
            } else {
                return None;
            };
            Some((kind, j))
        })
        .collect()
}

/// Where `words` start at the column definition's own depth, after its name.
pub fn clause(code: &Code<'_>, column: &AddedColumn, words: &[&str]) -> Option<usize> {
    code.find_at_depth(column.rest.clone(), code.depth(column.type_at), words)
}

/// The tokens of the `DEFAULT` expression of an added column: from after `DEFAULT` to the
/// next clause keyword at the column's depth.
pub fn default_expression(code: &Code<'_>, column: &AddedColumn) -> Option<Range<usize>> {
    let at = clause(code, column, &["default"])?;
    let depth = code.depth(column.type_at);
    const ENDS: &[&str] = &[
        "not",
        "null",
        "constraint",
        "check",
        "unique",
        "primary",
        "references",
        "generated",
        "collate",
    ];
    // The expression's first token is never the next clause (`DEFAULT NULL`).
    let end = (at + 2..column.rest.end)
        .find(|&j| {
            code.depth(j) == depth
                && ENDS.iter().any(|w| code.is(j, w))
                // `DEFAULT x IS NOT NULL` is part of the expression.
                && !(code.is(j, "not") && code.is(j.wrapping_sub(1), "is"))
                && !(code.is(j, "null") && (code.is(j - 1, "is") || code.is(j - 1, "not")))
        })
        .unwrap_or(column.rest.end);
    Some(at + 1..end)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sql::code::alter_table;

    fn actions(sql: &str) -> (Code<'_>, Vec<Range<usize>>) {
        let code = Code::of(sql);
        let (_, actions) = alter_table(&code).unwrap();
        (code, actions)
    }

    #[test]
    fn constraints_and_columns_are_told_apart() {
        let (code, a) = actions(
            "ALTER TABLE t ADD CONSTRAINT u UNIQUE USING INDEX i, ADD CHECK (a > 0) NOT VALID, \
             ADD COLUMN c int REFERENCES u (id) DEFAULT 0 NOT NULL, ADD d text UNIQUE",
        );
        let u = added_constraint(&code, &a[0]).unwrap();
        assert_eq!(
            (u.name.as_deref(), u.kind, u.using_index),
            (Some("u"), ConstraintKind::Unique, true)
        );
        let c = added_constraint(&code, &a[1]).unwrap();
        assert_eq!(
            (c.kind, c.not_valid, c.name),
            (ConstraintKind::Check, true, None)
        );
        assert!(added_column(&code, &a[0]).is_none());
        let col = added_column(&code, &a[2]).unwrap();
        assert_eq!(col.name, "c");
        assert_eq!(
            inline_constraints(&code, &col)
                .iter()
                .map(|(k, _)| *k)
                .collect::<Vec<_>>(),
            [ConstraintKind::ForeignKey]
        );
        let default = default_expression(&code, &col).unwrap();
        assert_eq!(code.text(default.start), "0");
        assert_eq!(default.len(), 1);
        let d = added_column(&code, &a[3]).unwrap();
        assert_eq!(inline_constraints(&code, &d)[0].0, ConstraintKind::Unique);
    }
}
