//! `non-transactional-in-ddl`: a statement that cannot run in the migration's transaction.

use crate::config::{Phase, Severity};
use crate::lint::context::FileContext;
use crate::lint::rule::{Check, Report, Rule};
use crate::sql::StatementKind;

pub const RULE: Rule = Rule {
    id: "non-transactional-in-ddl",
    summary: "a statement in sql/ddl that cannot run inside a transaction (CONCURRENTLY, VACUUM, CREATE DATABASE…)",
    severity: Severity::High,
    check: Check::File(check),
    explanation: r#"**Problem.** Each DDL file runs in one transaction together with its ledger row.
PostgreSQL refuses `CREATE INDEX CONCURRENTLY`, `VACUUM`, `CREATE DATABASE`, `ALTER
SYSTEM`, `REINDEX … CONCURRENTLY` and similar statements inside a transaction block, so the
migration fails on every deploy.

**Safe alternative.** Concurrent index work goes to `sql/indexes/`, which runs outside
transactions. Maintenance such as `VACUUM` belongs to operations, not migrations.

**Example.**
```sql
-- sql/ddl/V30__call_recording.sql
ALTER TABLE call_log ADD COLUMN recording_url text;
CREATE INDEX CONCURRENTLY call_log_recording ON call_log (recording_url);   -- non-transactional-in-ddl
```"#,
};

fn check(file: &FileContext<'_>, out: &mut Vec<Report>) {
    if file.phase != Phase::Ddl {
        return;
    }
    for (i, statement) in file.statements() {
        if !statement.in_transaction && statement.kind != StatementKind::TransactionControl {
            let help = if statement.kind == StatementKind::Index {
                "move the index build to sql/indexes/, which runs outside transactions"
            } else {
                "run it outside the migration (operations work), or in sql/indexes/ if it is index work"
            };
            out.push(
                Report::statement(
                    i,
                    file.span_of(i),
                    format!(
                        "`{}` cannot run inside the migration's transaction block",
                        statement.tag
                    ),
                )
                .help(help),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::config::Phase;
    use crate::lint::test_utils::{lint_errors, lint_ok};

    #[test]
    fn concurrently_and_vacuum_are_found() {
        insta::assert_snapshot!(lint_errors(
            Phase::Ddl,
            "CREATE TABLE t (a int);\nCREATE INDEX CONCURRENTLY t_a ON t (a);\nVACUUM ANALYZE t;\n"
        ));
    }

    #[test]
    fn transactional_statements_are_clean() {
        lint_ok(
            Phase::Ddl,
            "CREATE TABLE t (a int);\nCREATE INDEX t_a ON t (a);\nANALYZE t;\n",
        );
    }
}
