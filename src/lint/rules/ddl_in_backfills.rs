//! `ddl-in-backfills`: schema changes in a backfill file.

use crate::config::{Phase, Severity};
use crate::lint::context::FileContext;
use crate::lint::message::{
    self,
    Part::{Tag, Text},
};
use crate::lint::rule::{Check, Report, Rule};
use crate::sql::StatementKind;

pub const RULE: Rule = Rule {
    id: "ddl-in-backfills",
    summary: "a schema change (CREATE, ALTER, DROP, an index…) in sql/backfills",
    severity: Severity::Medium,
    check: Check::File(check),
    explanation: r#"**Problem.** A backfill file is run once per batch, many times, with patient lock
timeouts and `SKIP LOCKED`; its failures only warn. A schema change there would run with
every batch, take locks the DDL phase is meant to fail fast on, and its failure would not
stop the deploy that depends on it.

**Safe alternative.** Put the schema change in `sql/ddl/` (it runs first, in the DDL phase)
and keep the backfill to the one DML statement that moves data.

**Example.**
```sql
-- sql/backfills/V2__order_index.sql
ALTER TABLE leads ADD COLUMN order_index bigint;                            -- ddl-in-backfills
UPDATE leads SET order_index = id WHERE id BETWEEN :lo AND :hi;
```"#,
};

fn check(file: &FileContext<'_>, out: &mut Vec<Report>) {
    if file.phase != Phase::Backfills {
        return;
    }
    for (i, statement) in file.statements() {
        if matches!(statement.kind, StatementKind::Ddl | StatementKind::Index) {
            out.push(
                Report::statement(
                    i,
                    file.span_of(i),
                    message::with_tag(
                        &statement.tag,
                        &[
                            Text("`"),
                            Tag,
                            Text("` in a backfill runs with every batch"),
                        ],
                    ),
                )
                .help("move schema changes to sql/ddl/ (or the index to sql/indexes/)"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::config::Phase;
    use crate::lint::test_utils::{lint_errors, lint_ok};

    #[test]
    fn a_schema_change_in_a_backfill_is_found() {
        insta::assert_snapshot!(lint_errors(
            Phase::Backfills,
            "ALTER TABLE leads ADD COLUMN order_index bigint;\nUPDATE leads SET order_index = id WHERE id BETWEEN :lo AND :hi;\n"
        ));
    }

    #[test]
    fn a_batched_update_is_clean() {
        lint_ok(
            Phase::Backfills,
            "UPDATE leads SET order_index = id WHERE id BETWEEN :lo AND :hi AND order_index IS NULL;\n",
        );
    }
}
