//! `rewrite-table`: statements that rewrite a whole table under an exclusive lock.

use crate::config::Severity;
use crate::lint::context::FileContext;
use crate::lint::rule::{Check, Report, Rule};

pub const RULE: Rule = Rule {
    id: "rewrite-table",
    summary: "VACUUM FULL or CLUSTER: a full table rewrite under an ACCESS EXCLUSIVE lock",
    severity: Severity::Medium,
    check: Check::File(check),
    explanation: r#"**Problem.** `VACUUM FULL` and `CLUSTER` copy the whole table and rebuild its
indexes while holding an ACCESS EXCLUSIVE lock: nothing can read or write the table until
they finish, and on a big table that is an outage.

**Safe alternative.** Plain `VACUUM` (run by autovacuum anyway) reclaims space for reuse
without blocking. To shrink or reorder a table online, use an extension such as
`pg_repack` as an operations task, not in a migration.

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
    }
}
