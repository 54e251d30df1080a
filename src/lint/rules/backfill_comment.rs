//! `backfill-comment`: a comment in a schema migration that talks about backfilling.

use crate::config::{Phase, Severity};
use crate::lint::allow::is_allow_comment;
use crate::lint::context::FileContext;
use crate::lint::rule::{Check, Report, Rule};

pub const RULE: Rule = Rule {
    id: "backfill-comment",
    summary: "a comment in sql/ddl that talks about backfilling (pattern: backfill_comment_pattern)",
    severity: Severity::Low,
    check: Check::File(check),
    explanation: r#"**Problem.** "Backfill the new column" in a schema migration is either a data change
hidden where `dml-in-ddl` cannot see it (in a function called later, in a follow-up
statement someone will add) or a promise nobody keeps. Either way the reader of the
migration learns that data work is expected and sees no backfill file for it. The pattern
is `backfill_comment_pattern` in `lint-rules.yaml` (by default: backfill in any form, and
populate as a verb with an object, "populate the new column"; "a populated cache" is not a
promise of data work and is not reported).

**Safe alternative.** Write the backfill in `sql/backfills/` and say so in its manifest
entry's `description`; keep schema comments about the schema.

**Example.**
```sql
-- sql/ddl/V9__leads_order.sql
-- backfill order_index from id afterwards        <- backfill-comment
ALTER TABLE leads ADD COLUMN order_index bigint;
```"#,
};

fn check(file: &FileContext<'_>, out: &mut Vec<Report>) {
    if file.phase != Phase::Ddl {
        return;
    }
    for comment in file.comments() {
        let text = comment.text(file.src);
        // Allow comments are asked about only once the pattern matched: few comments do.
        let Some(hit) = file.settings.backfill_comment.find(text) else {
            continue;
        };
        if !is_allow_comment(text) {
            let statements = &file.file.statements;
            let statement = Some(statements.partition_point(|s| s.end <= comment.start))
                .filter(|&i| i < statements.len());
            out.push(Report {
                statement,
                ..Report::file(
                    comment.start + hit.start()..comment.start + hit.end(),
                    format!(
                        "comment mentions `{}`: data changes belong in sql/backfills/",
                        hit.as_str()
                    ),
                )
                .help("write the backfill in sql/backfills/ and describe it in its manifest entry")
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::config::Phase;
    use crate::lint::test_utils::{lint_errors, lint_ok};

    #[test]
    fn a_comment_promising_a_backfill_is_found() {
        insta::assert_snapshot!(lint_errors(
            Phase::Ddl,
            "-- Backfill order_index from id afterwards\nALTER TABLE leads ADD COLUMN order_index bigint;\n"
        ));
    }

    #[test]
    fn populate_with_an_object_is_found() {
        let findings = crate::lint::test_utils::lint(
            Phase::Ddl,
            "-- populate the new column in a follow-up\nALTER TABLE leads ADD COLUMN rank int;\n",
        );
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].rule, "backfill-comment");
    }

    #[test]
    fn words_in_strings_and_other_comments_are_clean() {
        lint_ok(
            Phase::Ddl,
            "-- order of leads in a tab; the cache table is populated by the app\nCOMMENT ON COLUMN leads.order_index IS 'backfilled later';\nALTER TABLE leads ADD COLUMN order_index bigint; /* position */\n",
        );
    }

    #[test]
    fn an_allow_comment_whose_reason_mentions_a_backfill_is_clean() {
        lint_ok(
            Phase::Ddl,
            "-- sqlrail:allow dml-in-ddl reason=\"one row, too small to backfill\"\nUPDATE settings SET v = 1 WHERE id = 1;\n",
        );
    }
}
