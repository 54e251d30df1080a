//! `alter-column-type`: changing a column's type on an existing table.

use crate::config::Severity;
use crate::lint::context::FileContext;
use crate::lint::rule::{Check, Report, Rule};

pub const RULE: Rule = Rule {
    id: "alter-column-type",
    summary: "ALTER COLUMN … TYPE on an existing table (usually a full rewrite under an exclusive lock)",
    severity: Severity::Medium,
    check: Check::File(check),
    explanation: r#"**Problem.** `ALTER TABLE … ALTER COLUMN … TYPE` takes an ACCESS EXCLUSIVE lock and,
for most type changes, rewrites the whole table and rebuilds its indexes while holding it.
Reads and writes wait for the whole rewrite. (A few changes are free, such as widening a
`varchar(n)` or `varchar` to `text`; allow those with a reason.)

**Safe alternative.** Add a new column with the new type, backfill it in batches
(`sql/backfills/`), switch the application over, then drop the old column in a later
release.

**Example.**
```sql
ALTER TABLE call_log ALTER COLUMN duration TYPE bigint;    -- alter-column-type

-- instead
ALTER TABLE call_log ADD COLUMN duration_big bigint;       -- sql/ddl
UPDATE call_log SET duration_big = duration WHERE id BETWEEN :lo AND :hi;   -- sql/backfills
```"#,
};

fn check(file: &FileContext<'_>, out: &mut Vec<Report>) {
    for (i, alter) in file.table_alters() {
        let i = *i;
        let code = &alter.code;
        for action in &alter.actions {
            let mut at = action.start;
            if !code.is(at, "alter") {
                continue;
            }
            at += 1 + usize::from(code.is(at + 1, "column"));
            let Some((column, next)) = code.name(at) else {
                continue;
            };
            if code.is(next, "type") || code.at(next, &["set", "data", "type"]) {
                out.push(
                    Report::statement(
                        i,
                        code.span(action.start, action.end - 1),
                        format!(
                            "changing the type of `{}.{column}` rewrites the table under an exclusive lock",
                            alter.table
                        ),
                    )
                    .help("add a column of the new type, backfill it in sql/backfills/, then switch over"),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::config::Phase;
    use crate::lint::test_utils::{lint_errors, lint_ok};

    #[test]
    fn a_type_change_is_found() {
        insta::assert_snapshot!(lint_errors(
            Phase::Ddl,
            "ALTER TABLE call_log ADD COLUMN note text, ALTER COLUMN duration TYPE bigint USING duration::bigint;\n"
        ));
    }

    #[test]
    fn new_tables_and_other_alters_are_clean() {
        lint_ok(
            Phase::Ddl,
            "CREATE TABLE t (a int);\nALTER TABLE t ALTER COLUMN a TYPE bigint;\nALTER TABLE call_log ALTER COLUMN duration SET DEFAULT 0;\nALTER TYPE mood ADD VALUE 'sad';\n",
        );
    }
}
