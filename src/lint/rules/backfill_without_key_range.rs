//! `backfill-without-key-range`: a backfill that does not walk a key range.

use crate::config::{Phase, Severity};
use crate::lint::context::FileContext;
use crate::lint::message::{
    self,
    Part::{Tag, Text},
};
use crate::lint::rule::{Check, Report, Rule};
use crate::sql::StatementKind;

pub const RULE: Rule = Rule {
    id: "backfill-without-key-range",
    summary: "a backfill DML statement that does not use both :lo and :hi",
    severity: Severity::Medium,
    check: Check::File(check),
    explanation: r#"**Problem.** The backfill runner walks `table.key` in ranges and binds each range to
`:lo` and `:hi`. A statement without them does the same work every batch: it rescans the
whole table each time (or, with a `LIMIT`, picks rows in no stable order), so each batch
gets slower, progress cannot be saved, and a resumed run starts over.

**Safe alternative.** Restrict the statement to `key BETWEEN :lo AND :hi` (inclusive) and
make it idempotent (`AND col IS DISTINCT FROM …`), so a re-run batch changes nothing.

**Example.**
```sql
UPDATE leads SET order_index = id WHERE order_index IS NULL;     -- backfill-without-key-range

UPDATE leads SET order_index = id
 WHERE id BETWEEN :lo AND :hi AND order_index IS NULL;           -- fine
```"#,
};

fn check(file: &FileContext<'_>, out: &mut Vec<Report>) {
    if file.phase != Phase::Backfills {
        return;
    }
    for (i, statement) in file.statements() {
        if statement.kind != StatementKind::Dml {
            continue;
        }
        let uses = |name: &str| statement.params.iter().any(|p| p.name == name);
        let missing = match (uses("lo"), uses("hi")) {
            (true, true) => continue,
            (false, false) => "`:lo` and `:hi`",
            (false, true) => "`:lo`",
            (true, false) => "`:hi`",
        };
        out.push(
            Report::statement(
                i,
                file.span_of(i),
                message::with_tag(
                    &statement.tag,
                    &[
                        Text("backfill `"),
                        Tag,
                        Text("` does not use "),
                        Text(missing),
                        Text(": every batch rescans the table"),
                    ],
                ),
            )
            .help(
                "restrict it to `<key> BETWEEN :lo AND :hi` (the runner binds each batch's range)",
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use crate::config::Phase;
    use crate::lint::test_utils::{lint_errors, lint_ok};

    #[test]
    fn a_backfill_without_a_range_is_found() {
        insta::assert_snapshot!(lint_errors(
            Phase::Backfills,
            "UPDATE leads SET order_index = id WHERE order_index IS NULL AND id >= :lo;\n"
        ));
    }

    #[test]
    fn a_ranged_backfill_is_clean() {
        lint_ok(
            Phase::Backfills,
            "UPDATE leads SET order_index = id WHERE id BETWEEN :lo AND :hi AND order_index IS NULL;\n",
        );
    }
}
