//! `set-not-null`: `SET NOT NULL` on an existing table without a validated check first.

use crate::config::Severity;
use crate::lint::context::FileContext;
use crate::lint::rule::{Check, Report, Rule};

pub const RULE: Rule = Rule {
    id: "set-not-null",
    summary: "ALTER COLUMN … SET NOT NULL on an existing table without a CHECK validated earlier in the file",
    severity: Severity::Medium,
    check: Check::File(check),
    explanation: r#"**Problem.** `SET NOT NULL` scans the whole table to prove there are no NULLs, holding
an ACCESS EXCLUSIVE lock that blocks reads and writes for the whole scan. Since
PostgreSQL 12 the scan is skipped when a validated `CHECK (col IS NOT NULL)` constraint
already proves it.

**Safe alternative.** Add `CHECK (col IS NOT NULL) NOT VALID` (instant), `VALIDATE
CONSTRAINT` it (a scan that lets reads and writes continue), then `SET NOT NULL` (no scan)
and drop the check. The rule is satisfied when the same file validates a constraint on the
table before the `SET NOT NULL`.

**Example.**
```sql
ALTER TABLE leads ALTER COLUMN tenant_id SET NOT NULL;          -- set-not-null

-- instead
ALTER TABLE leads ADD CONSTRAINT leads_tenant_nn CHECK (tenant_id IS NOT NULL) NOT VALID;
ALTER TABLE leads VALIDATE CONSTRAINT leads_tenant_nn;
ALTER TABLE leads ALTER COLUMN tenant_id SET NOT NULL;
ALTER TABLE leads DROP CONSTRAINT leads_tenant_nn;
```"#,
};

fn check(file: &FileContext<'_>, out: &mut Vec<Report>) {
    for (i, alter) in file.table_alters() {
        let i = *i;
        let code = &alter.code;
        for action in &alter.actions {
            if !code.is(action.start, "alter") {
                continue;
            }
            let Some(at) = code.find_at_depth(action.clone(), 0, &["set", "not", "null"]) else {
                continue;
            };
            if validated_before(file, i, &alter.table) {
                continue;
            }
            out.push(
                Report::statement(
                    i,
                    code.span(action.start, at + 2),
                    format!(
                        "SET NOT NULL on `{}` scans the table under an exclusive lock",
                        alter.table
                    ),
                )
                .help("first add CHECK (… IS NOT NULL) NOT VALID and VALIDATE CONSTRAINT it in this file"),
            );
        }
    }
}

/// Whether a statement of the file before `i` validates a constraint on `table`.
fn validated_before(file: &FileContext<'_>, i: usize, table: &str) -> bool {
    file.table_alters()
        .iter()
        .take_while(|(n, _)| *n < i)
        .any(|(_, a)| {
            crate::sql::names::same_relation(&a.table, table)
                && a.actions
                    .iter()
                    .any(|r| a.code.at(r.start, &["validate", "constraint"]))
        })
}

#[cfg(test)]
mod tests {
    use crate::config::Phase;
    use crate::lint::test_utils::{lint_errors, lint_ok};

    #[test]
    fn set_not_null_without_a_validated_check_is_found() {
        insta::assert_snapshot!(lint_errors(
            Phase::Ddl,
            "ALTER TABLE leads ALTER COLUMN tenant_id SET NOT NULL;\n"
        ));
    }

    #[test]
    fn set_not_null_after_validating_a_check_is_clean() {
        lint_ok(
            Phase::Ddl,
            "ALTER TABLE leads ADD CONSTRAINT nn CHECK (tenant_id IS NOT NULL) NOT VALID;\nALTER TABLE leads VALIDATE CONSTRAINT nn;\nALTER TABLE leads ALTER COLUMN tenant_id SET NOT NULL;\n",
        );
    }
}
