//! `rewrite-table`: statements that rewrite a whole table under an exclusive lock.

use crate::config::Severity;
use crate::lint::context::FileContext;
use crate::lint::rule::{Check, Report, Rule};

pub const RULE: Rule = Rule {
    id: "rewrite-table",
    summary: "VACUUM FULL, CLUSTER, SET LOGGED / UNLOGGED or SET TABLESPACE: a full table rewrite under an ACCESS EXCLUSIVE lock",
    severity: Severity::High,
    check: Check::File(check),
    explanation: r#"**Problem.** `VACUUM FULL`, `CLUSTER`, `ALTER TABLE … SET LOGGED` / `SET UNLOGGED` and
`ALTER TABLE|INDEX|MATERIALIZED VIEW … SET TABLESPACE` copy the whole relation (and
rebuild or move its indexes) while holding an ACCESS EXCLUSIVE lock: nothing can read or
write it until they finish, and on a big table that is an outage.

**Safe alternative.** Plain `VACUUM` (run by autovacuum anyway) reclaims space for reuse
without blocking. To shrink, reorder or move a table online, use an extension such as
`pg_repack` as an operations task, not in a migration; to make a table logged or
unlogged, create the new table as such and move the data in `sql/backfills/`.

**Example.**
```sql
VACUUM FULL call_log;        -- rewrite-table
CLUSTER leads USING leads_pkey;   -- rewrite-table
```"#,
};

fn check(file: &FileContext<'_>, out: &mut Vec<Report>) {
    for (i, statement) in file.statements() {
        let what = match &*statement.tag {
            "CLUSTER" => "CLUSTER",
            "VACUUM" => {
                let code = file.code(i);
                // `VACUUM FULL t` or `VACUUM (FULL [true], …) t`.
                let full = code.is(1, "full")
                    || (1..code.len())
                        .take_while(|&j| j == 1 || code.depth(j) > 0)
                        .any(|j| {
                            code.depth(j) == 1
                                && code.is(j, "full")
                                && !code.is(j + 1, "false")
                                && !code.is(j + 1, "off")
                        });
                if !full {
                    continue;
                }
                "VACUUM FULL"
            }
            "ALTER TABLE" | "ALTER INDEX" | "ALTER MATERIALIZED VIEW" => {
                if !(file.may_contain(i, b"logged") || file.may_contain(i, b"tablespace")) {
                    continue;
                }
                let code = file.code(i);
                let Some(what) = rewriting_action(&code) else {
                    continue;
                };
                if statement.tag == "ALTER TABLE"
                    && code
                        .name(2 + usize::from(code.at(2, &["if", "exists"])) * 2)
                        .is_some_and(|(t, _)| file.created_before(i, &t))
                {
                    continue;
                }
                what
            }
            _ => continue,
        };
        out.push(
            Report::statement(
                i,
                file.span_of(i),
                format!("`{what}` rewrites the table while blocking reads and writes"),
            )
            .help(
                "leave space reuse to (auto)vacuum; repack online (pg_repack) outside migrations",
            ),
        );
    }
}

/// `SET LOGGED`, `SET UNLOGGED` or `SET TABLESPACE` among the top-level words of an
/// `ALTER` (`ALTER TABLE ALL IN TABLESPACE a SET TABLESPACE b` too).
fn rewriting_action(code: &crate::sql::code::Code<'_>) -> Option<&'static str> {
    (2..code.len())
        .filter(|&j| code.depth(j) == 0)
        .find_map(|j| {
            if code.at(j, &["set", "logged"]) {
                Some("SET LOGGED")
            } else if code.at(j, &["set", "unlogged"]) {
                Some("SET UNLOGGED")
            } else if code.at(j, &["set", "tablespace"]) {
                Some("SET TABLESPACE")
            } else {
                None
            }
        })
}

#[cfg(test)]
mod tests {
    use crate::config::Phase;
    use crate::lint::test_utils::{lint_errors, lint_ok};

    #[test]
    fn vacuum_full_and_cluster_are_found() {
        insta::assert_snapshot!(lint_errors(
            Phase::Ddl,
            "VACUUM (FULL, ANALYZE) call_log;\nCLUSTER leads USING leads_pkey;\n"
        ));
    }

    #[test]
    fn plain_vacuum_is_clean() {
        lint_ok(Phase::Indexes, "VACUUM (ANALYZE) call_log;\n");
        lint_ok(Phase::Indexes, "VACUUM (FULL false) call_log;\n");
        lint_ok(
            Phase::Ddl,
            "CREATE TABLE t (a int);\nALTER TABLE t SET UNLOGGED;\nALTER TABLE leads SET (fillfactor = 90);\n",
        );
    }

    #[test]
    fn logged_unlogged_and_tablespace_moves_are_found() {
        let findings = crate::lint::test_utils::lint(
            Phase::Ddl,
            "ALTER TABLE leads SET LOGGED;\nALTER TABLE leads SET UNLOGGED;\nALTER TABLE leads SET TABLESPACE fast;\nALTER INDEX leads_pkey SET TABLESPACE fast;\n",
        );
        assert_eq!(findings.len(), 4, "{findings:?}");
        assert!(findings.iter().all(|f| f.rule == "rewrite-table"));
    }
}
