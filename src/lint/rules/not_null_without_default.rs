//! `not-null-without-default`: a NOT NULL column added to an existing table with nothing
//! to fill it.

use crate::config::Severity;
use crate::lint::alter_action::{added_column, clause};
use crate::lint::context::FileContext;
use crate::lint::rule::{Check, Report, Rule};

pub const RULE: Rule = Rule {
    id: "not-null-without-default",
    summary: "ADD COLUMN … NOT NULL without a DEFAULT on an existing table (fails on any table with rows)",
    severity: Severity::High,
    check: Check::File(check),
    explanation: r#"**Problem.** `ALTER TABLE … ADD COLUMN c int NOT NULL` gives every existing row a NULL
in a column that forbids it: PostgreSQL refuses it (`column "c" … contains null values`)
on any table with rows. Development databases are often empty, so it passes there and
fails at deploy, after the lock (ACCESS EXCLUSIVE) was taken and the deploy stopped.

**Safe alternative.** Either give it a constant default, which is instant since
PostgreSQL 11 (`ADD COLUMN c int NOT NULL DEFAULT 0`), or add it nullable, fill it in
`sql/backfills/`, and make it NOT NULL with the `set-not-null` recipe.

**Example.**
```sql
ALTER TABLE leads ADD COLUMN score int NOT NULL;             -- not-null-without-default

-- instead
ALTER TABLE leads ADD COLUMN score int NOT NULL DEFAULT 0;
```"#,
};

fn check(file: &FileContext<'_>, out: &mut Vec<Report>) {
    for (i, alter) in file.table_alters() {
        let code = &alter.code;
        for action in &alter.actions {
            let Some(column) = added_column(code, action) else {
                continue;
            };
            let Some(not_null) = (column.rest.clone()).find(|&j| {
                code.depth(j) == code.depth(column.type_at)
                    && code.at(j, &["not", "null"])
                    && !code.is(j.wrapping_sub(1), "is")
            }) else {
                continue;
            };
            // A default, an identity, a generated expression or a serial fills the rows.
            let filled = clause(code, &column, &["default"]).is_some()
                || clause(code, &column, &["generated"]).is_some()
                || code
                    .text(column.type_at)
                    .to_ascii_lowercase()
                    .contains("serial")
                || code.at(not_null + 2, &["default"]);
            if filled {
                continue;
            }
            out.push(
                Report::statement(
                    *i,
                    code.span(action.start, action.end - 1),
                    format!(
                        "`{}.{}` is NOT NULL with no default: adding it fails on any table with rows",
                        alter.table, column.name
                    ),
                )
                .help("give it a constant DEFAULT (instant), or add it nullable, backfill it, then SET NOT NULL"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::config::Phase;
    use crate::lint::test_utils::{lint, lint_ok};

    #[test]
    fn a_not_null_column_without_a_default_is_found() {
        let findings = lint(
            Phase::Ddl,
            "ALTER TABLE leads ADD COLUMN score int NOT NULL;\n",
        );
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].rule, "not-null-without-default");
    }

    #[test]
    fn defaults_identities_and_new_tables_are_clean() {
        lint_ok(
            Phase::Ddl,
            "ALTER TABLE leads ADD COLUMN score int NOT NULL DEFAULT 0;\nALTER TABLE leads ADD COLUMN tag text DEFAULT 'x' NOT NULL;\nCREATE TABLE t (a int);\nALTER TABLE t ADD COLUMN b int NOT NULL;\nALTER TABLE leads ADD COLUMN note text;\n",
        );
    }
}
