//! `rename`: renaming a table, view or column that running code still uses.

use crate::config::Severity;
use crate::lint::context::FileContext;
use crate::lint::rule::{Check, Report, Rule};

pub const RULE: Rule = Rule {
    id: "rename",
    summary: "renaming a table, view or column (breaks the application version still running)",
    severity: Severity::Low,
    check: Check::File(check),
    explanation: r#"**Problem.** During a deploy the old version of the application keeps running
against the new schema. The moment a table or column is renamed, every query of the old
version that names it fails.

**Safe alternative.** Expand and contract: add the new column (or a view with the new
name), write both, backfill, move readers over, and drop the old name in a later release.

**Example.**
```sql
ALTER TABLE leads RENAME COLUMN phone TO phone_e164;     -- rename
ALTER TABLE receipts RENAME TO email_receipts;           -- rename
```"#,
};

fn check(file: &FileContext<'_>, out: &mut Vec<Report>) {
    for (i, statement) in file.statements() {
        let object = match &*statement.tag {
            "ALTER TABLE" => "table",
            "ALTER VIEW" => "view",
            "ALTER MATERIALIZED VIEW" => "materialized view",
            _ => continue,
        };
        if !file.may_contain(i, b"rename") {
            continue;
        }
        let code = file.code(i);
        let Some(at) = code.find_at_depth(0..code.len(), 0, &["rename"]) else {
            continue;
        };
        // `RENAME CONSTRAINT` changes no name the application queries by.
        if code.is(at + 1, "constraint") {
            continue;
        }
        // `ALTER [MATERIALIZED] VIEW|TABLE [IF EXISTS] [ONLY] name`.
        let mut first = if object == "materialized view" { 3 } else { 2 };
        if code.at(first, &["if", "exists"]) {
            first += 2;
        }
        if code.is(first, "only") {
            first += 1;
        }
        let Some((name, _)) = code.name(first) else {
            continue;
        };
        if file.created_before(i, &name) {
            continue;
        }
        let what = if code.is(at + 1, "to") {
            format!("renaming {object} `{name}`")
        } else {
            format!("renaming a column of `{name}`")
        };
        out.push(
            Report::statement(
                i,
                code.span(at, code.len() - 1),
                format!("{what} breaks queries of the application version still running"),
            )
            .help("expand and contract: add the new name, migrate readers, drop the old one later"),
        );
    }
}

#[cfg(test)]
mod tests {
    use crate::config::Phase;
    use crate::lint::test_utils::{lint_errors, lint_ok};

    #[test]
    fn renaming_a_column_and_a_table_is_found() {
        insta::assert_snapshot!(lint_errors(
            Phase::Ddl,
            "ALTER TABLE leads RENAME COLUMN phone TO phone_e164;\nALTER TABLE IF EXISTS receipts RENAME TO email_receipts;\n"
        ));
    }

    #[test]
    fn renaming_a_constraint_or_a_new_table_is_clean() {
        lint_ok(
            Phase::Ddl,
            "ALTER TABLE leads RENAME CONSTRAINT a TO b;\nCREATE TABLE t (a int);\nALTER TABLE t RENAME COLUMN a TO b;\nALTER INDEX i RENAME TO j;\n",
        );
    }
}
