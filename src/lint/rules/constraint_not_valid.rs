//! `constraint-not-valid`: a foreign key or check added to an existing table and validated
//! in the same step.

use crate::config::Severity;
use crate::lint::context::FileContext;
use crate::lint::rule::{Check, Report, Rule};

pub const RULE: Rule = Rule {
    id: "constraint-not-valid",
    summary: "ADD FOREIGN KEY / CHECK on an existing table without NOT VALID",
    severity: Severity::Medium,
    check: Check::File(check),
    explanation: r#"**Problem.** Adding a foreign key or a check constraint validates every existing row
while holding a lock that blocks writes (SHARE ROW EXCLUSIVE on both tables for a foreign
key, ACCESS EXCLUSIVE for a check). On a big table that is minutes of blocked writes and a
likely `lock_timeout`.

**Safe alternative.** Add it `NOT VALID` (instant: only new rows are checked), then
`VALIDATE CONSTRAINT` in a later migration, which scans without blocking writes.

**Example.**
```sql
ALTER TABLE leads ADD CONSTRAINT fk_leads_user FOREIGN KEY (assigned_user_id) REFERENCES business_users (id);   -- constraint-not-valid

-- instead
ALTER TABLE leads ADD CONSTRAINT fk_leads_user FOREIGN KEY (assigned_user_id) REFERENCES business_users (id) NOT VALID;
ALTER TABLE leads VALIDATE CONSTRAINT fk_leads_user;     -- next migration
```"#,
};

fn check(file: &FileContext<'_>, out: &mut Vec<Report>) {
    for (i, alter) in file.table_alters() {
        let i = *i;
        let code = &alter.code;
        for action in &alter.actions {
            if !code.is(action.start, "add") {
                continue;
            }
            let mut at = action.start + 1;
            if code.is(at, "constraint") {
                at = code.name(at + 1).map_or(at + 1, |(_, next)| next);
            }
            let kind = if code.at(at, &["foreign", "key"]) {
                "foreign key"
            } else if code.is(at, "check") {
                "check constraint"
            } else {
                continue;
            };
            let not_valid = code
                .find_at_depth(action.clone(), 0, &["not", "valid"])
                .is_some();
            if !not_valid {
                out.push(
                    Report::statement(
                        i,
                        code.span(action.start, action.end - 1),
                        format!(
                            "adding a {kind} to `{}` checks every row while blocking writes",
                            alter.table
                        ),
                    )
                    .help("add it NOT VALID, then VALIDATE CONSTRAINT in a later migration"),
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
    fn a_validated_foreign_key_and_check_are_found() {
        insta::assert_snapshot!(lint_errors(
            Phase::Ddl,
            "ALTER TABLE leads\n  ADD CONSTRAINT fk_user FOREIGN KEY (user_id) REFERENCES users (id),\n  ADD CHECK (score >= 0);\n"
        ));
    }

    #[test]
    fn not_valid_and_new_tables_are_clean() {
        lint_ok(
            Phase::Ddl,
            "ALTER TABLE leads ADD CONSTRAINT fk_user FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID;\nCREATE TABLE t (a int);\nALTER TABLE t ADD CHECK (a > 0);\nALTER TABLE leads ADD COLUMN note text;\n",
        );
    }
}
