//! `set-not-null`: `SET NOT NULL` on an existing table without a validated check first.

use crate::config::Severity;
use crate::lint::checks::Evidence;
use crate::lint::context::FileContext;
use crate::lint::rule::{Check, Report, Rule};

pub const RULE: Rule = Rule {
    id: "set-not-null",
    summary: "ALTER COLUMN … SET NOT NULL on an existing table without a validated CHECK (col IS NOT NULL) on that column",
    severity: Severity::High,
    check: Check::File(check),
    explanation: r#"**Problem.** `SET NOT NULL` scans the whole table to prove there are no NULLs, holding
an ACCESS EXCLUSIVE lock: every read and write of the table waits for the whole scan.
Since PostgreSQL 12 the scan is skipped when a validated `CHECK (col IS NOT NULL)` on the
same column already proves it (a check on another column proves nothing). Validating
that check in the file that added it does not help either: each DDL file is one
transaction, so the validation would scan under the lock the `ADD` took.

**Safe alternative.** Two DDL migrations:
1. `sql/ddl/V20`: `ADD CONSTRAINT … CHECK (col IS NOT NULL) NOT VALID`: ACCESS EXCLUSIVE
   for an instant, no scan; new rows are checked from now on.
2. `sql/ddl/V21`: `VALIDATE CONSTRAINT` (a scan under SHARE UPDATE EXCLUSIVE: reads and
   writes go on), then `SET NOT NULL` (ACCESS EXCLUSIVE for an instant: the check proves
   it, no scan) and drop the check.

The rule is satisfied when an earlier migration, or this file before the `SET NOT NULL`,
validates such a check. Before PostgreSQL 12 (`postgres_version`) there is no way around
the scan.

**Example.**
```sql
ALTER TABLE leads ALTER COLUMN tenant_id SET NOT NULL;          -- set-not-null

-- instead: sql/ddl/V20__leads_tenant_check.sql
ALTER TABLE leads ADD CONSTRAINT leads_tenant_nn CHECK (tenant_id IS NOT NULL) NOT VALID;

-- sql/ddl/V21__leads_tenant_not_null.sql
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
            let at = action.start + 1 + usize::from(code.is(action.start + 1, "column"));
            let Some((column, next)) = code.name(at) else {
                continue;
            };
            if !code.at(next, &["set", "not", "null"]) {
                continue;
            }
            let report = Report::statement(
                i,
                code.span(action.start, next + 2),
                format!(
                    "SET NOT NULL on `{}.{column}` scans the table under an ACCESS EXCLUSIVE lock",
                    alter.table
                ),
            );
            out.push(if file.settings.postgres_version < 12 {
                report.help("before PostgreSQL 12 the scan cannot be avoided: keep the column nullable with a validated CHECK (… IS NOT NULL) instead")
            } else {
                report
                    .help("add CHECK (… IS NOT NULL) NOT VALID in one DDL migration; VALIDATE it, then SET NOT NULL, in the next")
                    .unless(Evidence::NotNullCheck {
                        table: alter.table.to_string(),
                        column,
                    })
            });
        }
    }
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
    fn a_check_on_another_column_or_before_12_does_not_count() {
        let sql = "ALTER TABLE leads ADD CONSTRAINT nn CHECK (other IS NOT NULL);\nALTER TABLE leads ALTER COLUMN tenant_id SET NOT NULL;\n";
        let findings = crate::lint::test_utils::lint(Phase::Ddl, sql);
        assert!(
            findings.iter().any(|f| f.rule == "set-not-null"),
            "{findings:?}"
        );
        let settings = crate::lint::test_utils::settings_with("postgres_version: 11\n");
        let sql = "ALTER TABLE leads VALIDATE CONSTRAINT nn;\nALTER TABLE leads ALTER COLUMN tenant_id SET NOT NULL;\n";
        assert_eq!(
            crate::lint::test_utils::lint_with(&settings, Phase::Ddl, sql).len(),
            1
        );
    }

    #[test]
    fn a_check_validated_by_an_earlier_migration_counts() {
        use crate::lint::test_utils::{Fixture, project_errors};
        let manifest = "migrations:\n  - id: ddl/V1__check\n  - id: ddl/V2__not_null\n";
        let fixture = Fixture::new(
            manifest,
            &[
                (
                    "ddl/V1__check.sql",
                    "ALTER TABLE leads ADD CONSTRAINT nn CHECK (tenant_id IS NOT NULL) NOT VALID;\n",
                ),
                (
                    "ddl/V2__not_null.sql",
                    "ALTER TABLE leads VALIDATE CONSTRAINT nn;\nALTER TABLE leads ALTER COLUMN tenant_id SET NOT NULL;\n",
                ),
            ],
        );
        let errors = project_errors(&fixture);
        assert!(!errors.contains("set-not-null"), "{errors}");
        // Validated only after the SET NOT NULL: the scan happens.
        let fixture = Fixture::new(
            manifest,
            &[
                (
                    "ddl/V1__check.sql",
                    "ALTER TABLE leads ADD CONSTRAINT nn CHECK (tenant_id IS NOT NULL) NOT VALID;\n",
                ),
                (
                    "ddl/V2__not_null.sql",
                    "ALTER TABLE leads ALTER COLUMN tenant_id SET NOT NULL;\nALTER TABLE leads VALIDATE CONSTRAINT nn;\n",
                ),
            ],
        );
        assert!(project_errors(&fixture).contains("set-not-null"));
    }

    #[test]
    fn set_not_null_after_validating_a_check_is_clean() {
        lint_ok(
            Phase::Ddl,
            "ALTER TABLE leads VALIDATE CONSTRAINT leads_tenant_nn;\nALTER TABLE leads ALTER COLUMN tenant_id SET NOT NULL;\nALTER TABLE leads DROP CONSTRAINT leads_tenant_nn;\n",
        );
    }
}
