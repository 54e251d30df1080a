//! `one-statement-per-index-file`: an index file holds exactly one statement.

use crate::config::{Phase, Severity};
use crate::lint::context::FileContext;
use crate::lint::rule::{Check, Report, Rule};

pub const RULE: Rule = Rule {
    id: "one-statement-per-index-file",
    summary: "a file in sql/indexes that does not hold exactly one statement",
    severity: Severity::Medium,
    check: Check::File(check),
    explanation: r#"**Problem.** An index file is one unit of work: it runs outside a transaction, its
success is checked with `indisvalid`, and a failed build is dropped and retried. With two
statements a failure after the first leaves half the file applied and nothing records
which half; an empty file records a build that never happened.

**Safe alternative.** One `CREATE INDEX CONCURRENTLY` per file; a second index is a second
file.

**Example.**
```sql
-- sql/indexes/V4__threads.sql                  <- one-statement-per-index-file
CREATE INDEX CONCURRENTLY a ON threads (tenant_id);
CREATE INDEX CONCURRENTLY b ON threads (last_message_at);
```"#,
};

fn check(file: &FileContext<'_>, out: &mut Vec<Report>) {
    if file.phase != Phase::Indexes {
        return;
    }
    let statements = &file.file.statements;
    match statements.len() {
        1 => {}
        0 => out.push(Report::file(0..0, "index file holds no statement").help(
            "write one CREATE INDEX CONCURRENTLY, or delete the file and its manifest entry",
        )),
        n => out.push(
            Report::statement(
                1,
                file.span_of(1),
                format!("index file holds {n} statements; this is the second"),
            )
            .help(
                "one index per file: move each further statement to its own file in sql/indexes/",
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use crate::config::Phase;
    use crate::lint::test_utils::{lint_errors, lint_ok};

    #[test]
    fn two_builds_in_one_file_are_found() {
        insta::assert_snapshot!(lint_errors(
            Phase::Indexes,
            "CREATE INDEX CONCURRENTLY a ON threads (tenant_id);\nCREATE INDEX CONCURRENTLY b ON threads (last_message_at);\n"
        ));
    }

    #[test]
    fn an_empty_index_file_is_found() {
        insta::assert_snapshot!(lint_errors(Phase::Indexes, "-- nothing yet\n"));
    }

    #[test]
    fn one_build_with_comments_is_clean() {
        lint_ok(
            Phase::Indexes,
            "-- leads by tenant\nCREATE INDEX CONCURRENTLY a ON leads (tenant_id); -- fast tabs\n",
        );
    }
}
