//! `dml-in-indexes`: data changes in an index file.

use crate::config::{Phase, Severity};
use crate::lint::context::FileContext;
use crate::lint::message::{
    self,
    Part::{Tag, Text},
};
use crate::lint::rule::{Check, Report, Rule};
use crate::sql::StatementKind;

pub const RULE: Rule = Rule {
    id: "dml-in-indexes",
    summary: "a data change in sql/indexes",
    severity: Severity::Medium,
    check: Check::File(check),
    explanation: r#"**Problem.** Index files run outside any transaction, one statement each, and a
failure only warns. A data change there is unbatched, not retried safely (nothing records
whether it ran) and invisible to reviewers looking for data work in `sql/backfills/`.

**Safe alternative.** Move the data change to `sql/backfills/`; if the index needs clean
data first (a unique index over duplicates), the backfill's `priority` makes it run first.

**Example.**
```sql
-- sql/indexes/V8__contracts_one_open.sql
DELETE FROM contracts WHERE duplicate;                                        -- dml-in-indexes
CREATE UNIQUE INDEX CONCURRENTLY one_open ON contracts (lead_id) WHERE status = 'open';
```"#,
};

fn check(file: &FileContext<'_>, out: &mut Vec<Report>) {
    if file.phase != Phase::Indexes {
        return;
    }
    for (i, statement) in file.statements() {
        if statement.kind == StatementKind::Dml {
            out.push(
                Report::statement(
                    i,
                    file.span_of(i),
                    message::with_tag(
                        &statement.tag,
                        &[Text("`"), Tag, Text("` changes data in an index file")],
                    ),
                )
                .help("move the data change to sql/backfills/"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::config::Phase;
    use crate::lint::test_utils::{lint_errors, lint_ok};

    #[test]
    fn a_delete_in_an_index_file_is_found() {
        insta::assert_snapshot!(lint_errors(
            Phase::Indexes,
            "DELETE FROM contracts WHERE duplicate;\n"
        ));
    }

    #[test]
    fn a_partial_index_mentioning_update_is_clean() {
        lint_ok(
            Phase::Indexes,
            "CREATE INDEX CONCURRENTLY due ON reminders (due_at) WHERE kind <> 'update';\n",
        );
    }
}
