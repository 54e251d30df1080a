//! `index-not-concurrent`: an index build or drop in `sql/indexes` without `CONCURRENTLY`.

use crate::config::{Phase, Severity};
use crate::lint::context::FileContext;
use crate::lint::rule::{Check, Report, Rule};

pub const RULE: Rule = Rule {
    id: "index-not-concurrent",
    summary: "CREATE INDEX, DROP INDEX or REINDEX in sql/indexes without CONCURRENTLY",
    severity: Severity::High,
    check: Check::File(check),
    explanation: r#"**Problem.** Without `CONCURRENTLY`, `CREATE INDEX` takes a lock that blocks all
writes to the table for the whole build, `DROP INDEX` takes an ACCESS EXCLUSIVE lock that
blocks reads too, and `REINDEX` blocks writes. The index phase exists to build indexes
while the application keeps writing.

**Safe alternative.** `CREATE INDEX CONCURRENTLY`, `DROP INDEX CONCURRENTLY`,
`REINDEX … CONCURRENTLY`. sqlrail runs index files outside a transaction, so these work.

**Example.**
```sql
-- sql/indexes/V3__messages_thread_created.sql
CREATE INDEX idx_messages_thread ON messages (thread_id, created_at);               -- index-not-concurrent
CREATE INDEX CONCURRENTLY idx_messages_thread ON messages (thread_id, created_at);  -- fine
```"#,
};

fn check(file: &FileContext<'_>, out: &mut Vec<Report>) {
    if file.phase != Phase::Indexes {
        return;
    }
    for (i, statement) in file.statements() {
        if !matches!(&*statement.tag, "CREATE INDEX" | "DROP INDEX" | "REINDEX") {
            continue;
        }
        // Without the word anywhere in it, the statement is not concurrent: no need to lex.
        let concurrent = file.may_contain(i, b"concurrently") && {
            let code = file.code(i);
            match &*statement.tag {
                "CREATE INDEX" => code
                    .find_at_depth(0..code.len(), 0, &["concurrently"])
                    .is_some(),
                "DROP INDEX" => code.is(2, "concurrently"),
                "REINDEX" => reindex_is_concurrent(&code),
                _ => continue,
            }
        };
        if statement.tag == "REINDEX" && file.code_head(i, 4).is(1, "system") {
            out.push(
                Report::statement(
                    i,
                    file.span_of(i),
                    "`REINDEX SYSTEM` rebuilds the catalogs' indexes, which cannot be done concurrently",
                )
                .help("catalog maintenance is an operations task, not a migration"),
            );
            continue;
        }
        if !concurrent && statement.tag == "REINDEX" && file.settings.postgres_version < 12 {
            out.push(
                Report::statement(i, file.span_of(i), "`REINDEX` blocks writes to the table")
                    .help("before PostgreSQL 12 there is no REINDEX CONCURRENTLY: build a new index CONCURRENTLY and drop the old one"),
            );
            continue;
        }
        if !concurrent {
            out.push(
                Report::statement(
                    i,
                    file.span_of(i),
                    format!(
                        "`{}` without CONCURRENTLY blocks writes to the table",
                        statement.tag
                    ),
                )
                .help(format!("write `{} CONCURRENTLY …`", statement.tag)),
            );
        }
    }
}

/// `REINDEX (CONCURRENTLY [true]) …` or `REINDEX INDEX|TABLE|SCHEMA|DATABASE CONCURRENTLY
/// …`; `(CONCURRENTLY false)` is not.
pub fn reindex_is_concurrent(code: &crate::sql::code::Code<'_>) -> bool {
    let options = code.find_at_depth(1..code.skip_group(1), 1, &["concurrently"]);
    if let Some(at) = options {
        return !["false", "off", "0"]
            .iter()
            .any(|w| code.text(at + 1).eq_ignore_ascii_case(w));
    }
    let kind = code.skip_group(1);
    code.is(kind + 1, "concurrently")
}

#[cfg(test)]
mod tests {
    use crate::config::Phase;
    use crate::lint::test_utils::{lint_errors, lint_ok};

    #[test]
    fn a_plain_index_build_is_found() {
        insta::assert_snapshot!(lint_errors(
            Phase::Indexes,
            "CREATE INDEX idx_messages_thread ON messages (thread_id, created_at);\n"
        ));
    }

    #[test]
    fn concurrent_builds_drops_and_reindexes_are_clean() {
        lint_ok(
            Phase::Indexes,
            "CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS i ON t (a);\n",
        );
        lint_ok(Phase::Indexes, "DROP INDEX CONCURRENTLY IF EXISTS i;\n");
        lint_ok(Phase::Indexes, "REINDEX (VERBOSE) INDEX CONCURRENTLY i;\n");
        lint_ok(Phase::Indexes, "REINDEX (CONCURRENTLY) TABLE t;\n");
    }

    #[test]
    fn a_reindex_made_not_concurrent_and_reindex_system_are_found() {
        let findings = crate::lint::test_utils::lint(
            Phase::Indexes,
            "REINDEX (CONCURRENTLY false) INDEX i;\n",
        );
        assert_eq!(findings.len(), 1, "{findings:?}");
        let findings = crate::lint::test_utils::lint(Phase::Indexes, "REINDEX SYSTEM;\n");
        assert_eq!(findings.len(), 1, "{findings:?}");
        assert!(findings[0].message.contains("cannot be done concurrently"));
    }
}
