//! `constraint-not-valid`: a foreign key or check added to an existing table and validated
//! in the same step.

use crate::config::Severity;
use crate::lint::alter_action::{
    ConstraintKind, added_column, added_constraint, inline_constraints,
};
use crate::lint::context::FileContext;
use crate::lint::rule::{Check, Report, Rule};
use crate::sql::names::same_relation;

pub const RULE: Rule = Rule {
    id: "constraint-not-valid",
    summary: "a foreign key or check (on a table, a new column or a domain) added without NOT VALID, or validated in the file that added it",
    severity: Severity::Medium,
    check: Check::File(check),
    explanation: r#"**Problem.** Adding a foreign key or a check constraint checks every existing row while
holding the lock the `ADD` takes: SHARE ROW EXCLUSIVE on both tables for a foreign key
(writes wait for the whole scan; high when it is inline on a new column, whose `ADD
COLUMN` holds ACCESS EXCLUSIVE), ACCESS EXCLUSIVE for a check (reads wait too: high).
`ALTER DOMAIN … ADD CONSTRAINT` checks every column of every table using the domain.
On a big table that is minutes of blocked traffic. Adding it `NOT VALID` and then
validating it *in the same file* is no better: each DDL file runs as one transaction, so
the validation scans while the `ADD`'s lock is still held.

**Safe alternative.** Two DDL migrations:
1. `sql/ddl/V30`: `ADD CONSTRAINT … NOT VALID`: instant, only new rows are checked.
2. `sql/ddl/V31`: `VALIDATE CONSTRAINT …`: the scan runs under SHARE UPDATE EXCLUSIVE
   (plus ROW SHARE on the referenced table), which lets reads and writes go on.

For a new column, add the column first and its constraint `NOT VALID` after it.

**Example.**
```sql
ALTER TABLE leads ADD CONSTRAINT fk_leads_user FOREIGN KEY (assigned_user_id) REFERENCES business_users (id);   -- constraint-not-valid

-- instead: sql/ddl/V30__leads_user_fk.sql
ALTER TABLE leads ADD CONSTRAINT fk_leads_user FOREIGN KEY (assigned_user_id) REFERENCES business_users (id) NOT VALID;

-- sql/ddl/V31__leads_user_fk_validate.sql
ALTER TABLE leads VALIDATE CONSTRAINT fk_leads_user;
```"#,
};

/// How bad holding the ADD's lock through a scan is: ACCESS EXCLUSIVE also stops reads.
fn severity(kind: ConstraintKind, inline: bool) -> Severity {
    if kind == ConstraintKind::Check || inline {
        Severity::High
    } else {
        Severity::Medium
    }
}

fn check(file: &FileContext<'_>, out: &mut Vec<Report>) {
    // Constraints added NOT VALID by this file so far: (table, name, kind).
    let mut added_not_valid: Vec<(&str, String, ConstraintKind)> = Vec::new();
    for (i, alter) in file.table_alters() {
        let i = *i;
        let code = &alter.code;
        for action in &alter.actions {
            if let Some(column) = added_column(code, action) {
                for (kind, _) in inline_constraints(code, &column) {
                    if !matches!(kind, ConstraintKind::ForeignKey | ConstraintKind::Check) {
                        continue;
                    }
                    out.push(
                        Report::statement(
                            i,
                            code.span(action.start, action.end - 1),
                            format!(
                                "the {} declared on new column `{}.{}` checks every row while the ADD COLUMN holds ACCESS EXCLUSIVE",
                                kind.as_str(),
                                alter.table,
                                column.name
                            ),
                        )
                        .help("add the column without it, then ADD CONSTRAINT … NOT VALID, and VALIDATE CONSTRAINT in the next DDL migration")
                        .severity(severity(kind, true)),
                    );
                }
                continue;
            }
            if let Some(added) = added_constraint(code, action) {
                if !matches!(
                    added.kind,
                    ConstraintKind::ForeignKey | ConstraintKind::Check
                ) {
                    continue;
                }
                if added.not_valid {
                    if let Some(name) = added.name {
                        added_not_valid.push((&alter.table, name, added.kind));
                    }
                    continue;
                }
                out.push(
                    Report::statement(
                        i,
                        code.span(action.start, action.end - 1),
                        format!(
                            "adding a {} to `{}` checks every row while blocking writes{}",
                            added.kind.as_str(),
                            alter.table,
                            if added.kind == ConstraintKind::Check {
                                " and reads"
                            } else {
                                ""
                            }
                        ),
                    )
                    .help("add it NOT VALID, then VALIDATE CONSTRAINT in the next DDL migration")
                    .severity(severity(added.kind, false)),
                );
                continue;
            }
            if code.at(action.start, &["validate", "constraint"])
                && let Some((name, _)) = code.name(action.start + 2)
                && let Some((_, _, kind)) = added_not_valid
                    .iter()
                    .find(|(t, n, _)| *n == name && same_relation(t, &alter.table))
            {
                out.push(
                    Report::statement(
                        i,
                        code.span(action.start, action.end - 1),
                        format!(
                            "`{name}` is validated in the file that added it: the scan runs under the ADD's lock until this file commits"
                        ),
                    )
                    .help("move the VALIDATE CONSTRAINT to the next DDL migration")
                    .severity(severity(*kind, false)),
                );
            }
        }
    }
    domains(file, out);
}

/// `ALTER DOMAIN d ADD [CONSTRAINT c] CHECK (…)` without `NOT VALID`, and a `VALIDATE
/// CONSTRAINT` of one this file added `NOT VALID`.
fn domains(file: &FileContext<'_>, out: &mut Vec<Report>) {
    let mut added_not_valid: Vec<(String, String)> = Vec::new();
    for (i, statement) in file.statements() {
        if statement.tag != "ALTER DOMAIN" {
            continue;
        }
        let code = file.code(i);
        let Some((domain, at)) = code.name(2) else {
            continue;
        };
        if code.at(at, &["set", "not", "null"]) {
            out.push(
                Report::statement(
                    i,
                    file.span_of(i),
                    format!("SET NOT NULL on domain `{domain}` checks every column of that type in every table while blocking their writes"),
                )
                .help("add CHECK (VALUE IS NOT NULL) NOT VALID to the domain, then VALIDATE CONSTRAINT in the next DDL migration"),
            );
        } else if code.is(at, "add") {
            let mut kind = at + 1;
            let mut name = None;
            if code.is(kind, "constraint")
                && let Some((n, next)) = code.name(kind + 1)
            {
                name = Some(n);
                kind = next;
            }
            if !code.is(kind, "check") {
                continue;
            }
            if code
                .find_at_depth(kind..code.len(), 0, &["not", "valid"])
                .is_some()
            {
                if let Some(name) = name {
                    added_not_valid.push((domain, name));
                }
                continue;
            }
            out.push(
                Report::statement(
                    i,
                    file.span_of(i),
                    format!(
                        "adding a check to domain `{domain}` checks every column of that type in every table while blocking their writes"
                    ),
                )
                .help("add it NOT VALID, then VALIDATE CONSTRAINT in the next DDL migration"),
            );
        } else if code.at(at, &["validate", "constraint"])
            && let Some((name, _)) = code.name(at + 2)
            && added_not_valid
                .iter()
                .any(|(d, n)| *n == name && same_relation(d, &domain))
        {
            out.push(
                Report::statement(
                    i,
                    file.span_of(i),
                    format!("`{name}` is validated in the file that added it: the scan runs under the ADD's lock until this file commits"),
                )
                .help("move the VALIDATE CONSTRAINT to the next DDL migration"),
            );
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
    fn validation_in_the_adding_file_inline_constraints_and_domains_are_found() {
        insta::assert_snapshot!(lint_errors(
            Phase::Ddl,
            "ALTER TABLE leads ADD CONSTRAINT c CHECK (score >= 0) NOT VALID;\nALTER TABLE leads VALIDATE CONSTRAINT c;\nALTER TABLE leads ADD COLUMN user_id int REFERENCES users (id);\nALTER TABLE leads ADD COLUMN n int CHECK (n > 0);\nALTER DOMAIN positive ADD CONSTRAINT p CHECK (VALUE > 0);\n"
        ));
    }

    #[test]
    fn validation_in_a_later_file_and_domain_not_valid_are_clean() {
        lint_ok(
            Phase::Ddl,
            "ALTER TABLE leads VALIDATE CONSTRAINT c;\nALTER DOMAIN positive ADD CONSTRAINT p CHECK (VALUE > 0) NOT VALID;\nALTER TABLE leads ADD COLUMN user_id int;\n",
        );
    }

    #[test]
    fn not_valid_and_new_tables_are_clean() {
        lint_ok(
            Phase::Ddl,
            "ALTER TABLE leads ADD CONSTRAINT fk_user FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID;\nCREATE TABLE t (a int);\nALTER TABLE t ADD CHECK (a > 0);\nALTER TABLE leads ADD COLUMN note text;\n",
        );
    }
}
