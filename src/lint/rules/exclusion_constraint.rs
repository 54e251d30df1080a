//! `exclusion-constraint`: an exclusion constraint added to an existing table.

use crate::config::Severity;
use crate::lint::alter_action::{ConstraintKind, added_constraint};
use crate::lint::context::FileContext;
use crate::lint::rule::{Check, Report, Rule};

pub const RULE: Rule = Rule {
    id: "exclusion-constraint",
    summary: "ADD EXCLUDE on an existing table: its index is built and every row checked under ACCESS EXCLUSIVE, with no NOT VALID or USING INDEX way around",
    severity: Severity::High,
    check: Check::File(check),
    explanation: r#"**Problem.** `ALTER TABLE … ADD EXCLUDE USING gist (…)` builds the constraint's index
and checks every row against it while holding ACCESS EXCLUSIVE: reads and writes wait for
the whole build. Unlike checks and foreign keys there is no `NOT VALID`, and unlike
unique constraints no `USING INDEX`: PostgreSQL offers no online way to add one.

**Safe alternative.** Declare it when the table is created (then nothing waits), or add
it while the table is still small. On a big, busy table it is planned downtime: make that
a decision in the file, with a measured reason:
`-- sqlrail:allow exclusion-constraint reason="rooms has 2,000 rows; build takes 40 ms"`.

**Example.**
```sql
ALTER TABLE bookings ADD CONSTRAINT no_overlap EXCLUDE USING gist (room WITH =, during WITH &&);   -- exclusion-constraint

-- instead, in the migration that creates the table (`=` on an int in a gist index needs btree_gist)
CREATE EXTENSION IF NOT EXISTS btree_gist;
CREATE TABLE bookings (room int, during tstzrange, EXCLUDE USING gist (room WITH =, during WITH &&));
```"#,
};

fn check(file: &FileContext<'_>, out: &mut Vec<Report>) {
    for (i, alter) in file.table_alters() {
        let code = &alter.code;
        for action in &alter.actions {
            if added_constraint(code, action).is_some_and(|a| a.kind == ConstraintKind::Exclude) {
                out.push(
                    Report::statement(
                        *i,
                        code.span(action.start, action.end - 1),
                        format!(
                            "the exclusion constraint on `{}` is built and checked while blocking reads and writes (ACCESS EXCLUSIVE)",
                            alter.table
                        ),
                    )
                    .help("declare it in CREATE TABLE, or allow it with a reason that measures the table"),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::config::Phase;
    use crate::lint::test_utils::{lint, lint_ok};

    #[test]
    fn an_exclusion_constraint_on_an_existing_table_is_found() {
        let findings = lint(
            Phase::Ddl,
            "ALTER TABLE bookings ADD CONSTRAINT no_overlap EXCLUDE USING gist (room WITH =, during WITH &&);\n",
        );
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].rule, "exclusion-constraint");
    }

    #[test]
    fn on_a_new_table_it_is_clean() {
        lint_ok(
            Phase::Ddl,
            "CREATE TABLE bookings (room int, during tstzrange, EXCLUDE USING gist (room WITH =, during WITH &&));\n",
        );
    }
}
