//! `detach-partition`: `DETACH PARTITION` without `CONCURRENTLY`.

use crate::config::Severity;
use crate::lint::context::FileContext;
use crate::lint::rule::{Check, Report, Rule};

pub const RULE: Rule = Rule {
    id: "detach-partition",
    summary: "ALTER TABLE … DETACH PARTITION without CONCURRENTLY (ACCESS EXCLUSIVE on the partitioned table)",
    severity: Severity::Medium,
    check: Check::File(check),
    explanation: r#"**Problem.** `ALTER TABLE parent DETACH PARTITION p` takes ACCESS EXCLUSIVE on the
partitioned table: every read and write of *every* partition waits for it, and it waits
for every open transaction that touched the table. Since PostgreSQL 14, `DETACH
PARTITION … CONCURRENTLY` takes SHARE UPDATE EXCLUSIVE instead, which lets reads and
writes go on; it cannot run in a transaction block.

**Safe alternative.** Put it in its own file in `sql/indexes/`, which runs outside a
transaction: `ALTER TABLE parent DETACH PARTITION p CONCURRENTLY;`. Before 14
(`postgres_version`) there is no concurrent form: detach when the table is quiet; the
runner's `lock_timeout` bounds the wait.

**Example.**
```sql
-- sql/ddl/V60__detach_2019.sql
ALTER TABLE events DETACH PARTITION events_2019;                 -- detach-partition

-- instead: sql/indexes/V12__detach_events_2019.sql
ALTER TABLE events DETACH PARTITION events_2019 CONCURRENTLY;
```"#,
};

fn check(file: &FileContext<'_>, out: &mut Vec<Report>) {
    for (i, alter) in file.table_alters() {
        let code = &alter.code;
        for action in &alter.actions {
            if !code.at(action.start, &["detach", "partition"]) {
                continue;
            }
            let concurrent = code
                .find_at_depth(action.clone(), 0, &["concurrently"])
                .is_some()
                || code
                    .find_at_depth(action.clone(), 0, &["finalize"])
                    .is_some();
            if concurrent {
                continue;
            }
            let help = if file.settings.postgres_version >= 14 {
                "write DETACH PARTITION … CONCURRENTLY in its own file in sql/indexes/ (outside a transaction)"
            } else {
                "before PostgreSQL 14 it cannot be concurrent: detach while the table is quiet"
            };
            out.push(
                Report::statement(
                    *i,
                    code.span(action.start, action.end - 1),
                    format!(
                        "detaching a partition blocks reads and writes of all of `{}` (ACCESS EXCLUSIVE)",
                        alter.table
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
    use crate::lint::test_utils::{lint, lint_ok};

    #[test]
    fn a_plain_detach_is_found() {
        let findings = lint(
            Phase::Ddl,
            "ALTER TABLE events DETACH PARTITION events_2019;\n",
        );
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].rule, "detach-partition");
    }

    #[test]
    fn a_concurrent_detach_outside_a_transaction_is_clean() {
        lint_ok(
            Phase::Indexes,
            "ALTER TABLE events DETACH PARTITION events_2019 CONCURRENTLY;\n",
        );
    }
}
