//! `transaction-control`: BEGIN/COMMIT/ROLLBACK/SAVEPOINT in a migration file.

use crate::config::Severity;
use crate::lint::context::FileContext;
use crate::lint::message::{
    self,
    Part::{Tag, Text},
};
use crate::lint::rule::{Check, Report, Rule};
use crate::sql::StatementKind;

pub const RULE: Rule = Rule {
    id: "transaction-control",
    summary: "BEGIN, COMMIT, ROLLBACK, SAVEPOINT… in any migration file: the runner owns transactions",
    severity: Severity::Medium,
    check: Check::File(check),
    explanation: r#"**Problem.** sqlrail runs each DDL file and its ledger row in one transaction, each
index build outside any transaction, and each backfill batch in its own. A `COMMIT` in a
file ends the runner's transaction early: the statements before it are committed without a
ledger row, so a retry applies them twice. A `BEGIN` nests nothing and only warns.

**Safe alternative.** Delete the transaction statements; split work that must commit
separately into separate files.

**Example.**
```sql
BEGIN;                                   -- transaction-control
ALTER TABLE leads ADD COLUMN phone text;
COMMIT;                                  -- transaction-control
```"#,
};

fn check(file: &FileContext<'_>, out: &mut Vec<Report>) {
    for (i, statement) in file.statements() {
        if statement.kind == StatementKind::TransactionControl {
            out.push(
                Report::statement(
                    i,
                    file.span_of(i),
                    message::with_tag(
                        &statement.tag,
                        &[
                            Text("`"),
                            Tag,
                            Text("` in a migration file: sqlrail owns the transactions"),
                        ],
                    ),
                )
                .help("remove it; split work that must commit separately into separate files"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::config::Phase;
    use crate::lint::test_utils::{lint_errors, lint_ok};

    #[test]
    fn begin_and_commit_are_found() {
        insta::assert_snapshot!(lint_errors(
            Phase::Ddl,
            "BEGIN;\nALTER TABLE leads ADD COLUMN phone text;\nCOMMIT;\n"
        ));
    }

    #[test]
    fn begin_atomic_bodies_are_clean() {
        lint_ok(
            Phase::Ddl,
            "CREATE FUNCTION one() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; END;\n",
        );
    }
}
