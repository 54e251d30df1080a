//! `lock-table`: an explicit `LOCK TABLE` in a migration.

use crate::config::Severity;
use crate::lint::context::FileContext;
use crate::lint::rule::{Check, Report, Rule};

pub const RULE: Rule = Rule {
    id: "lock-table",
    summary: "LOCK TABLE in a migration (held until the file's transaction ends)",
    severity: Severity::Medium,
    check: Check::File(check),
    explanation: r#"**Problem.** `LOCK TABLE t` takes ACCESS EXCLUSIVE unless told otherwise, and holds it
until the migration's transaction commits: every statement after it in the file runs with
all reads and writes of `t` waiting, however cheap each statement is on its own. In a
backfill it also defeats `SKIP LOCKED` batching.

**Safe alternative.** Leave locking to the statements: each takes the lock it needs, for
as short a time as the file allows, and the runner's `lock_timeout` bounds every wait.
Split a file whose statements must not interleave with traffic into steps that are each
safe on their own (see the other lock rules' recipes).

**Example.**
```sql
LOCK TABLE leads IN ACCESS EXCLUSIVE MODE;          -- lock-table
ALTER TABLE leads ADD COLUMN source text;

-- instead
ALTER TABLE leads ADD COLUMN source text;
```"#,
};

fn check(file: &FileContext<'_>, out: &mut Vec<Report>) {
    for (i, statement) in file.statements() {
        if statement.tag != "LOCK" {
            continue;
        }
        let code = file.code(i);
        let mode = code
            .find_at_depth(1..code.len(), 0, &["in"])
            .map(|at| {
                let end = code
                    .find_at_depth(at..code.len(), 0, &["mode"])
                    .unwrap_or(code.len());
                (at + 1..end)
                    .map(|j| code.text(j).to_ascii_uppercase())
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .unwrap_or_else(|| "ACCESS EXCLUSIVE".to_owned());
        out.push(
            Report::statement(
                i,
                file.span_of(i),
                format!("`LOCK` holds {mode} until the migration's transaction ends"),
            )
            .help("drop it: each statement takes the lock it needs, bounded by lock_timeout"),
        );
    }
}

#[cfg(test)]
mod tests {
    use crate::config::Phase;
    use crate::lint::test_utils::lint;

    #[test]
    fn lock_table_is_found_with_its_mode() {
        let findings = lint(
            Phase::Ddl,
            "LOCK TABLE leads;\nLOCK leads IN SHARE ROW EXCLUSIVE MODE;\n",
        );
        assert_eq!(findings.len(), 2);
        assert!(
            findings[0].message.contains("ACCESS EXCLUSIVE"),
            "{}",
            findings[0].message
        );
        assert!(
            findings[1].message.contains("SHARE ROW EXCLUSIVE"),
            "{}",
            findings[1].message
        );
    }
}
