//! `attach-partition`: `ATTACH PARTITION` of a table no validated check proves fits.

use crate::config::Severity;
use crate::lint::checks::Evidence;
use crate::lint::context::FileContext;
use crate::lint::rule::{Check, Report, Rule};

pub const RULE: Rule = Rule {
    id: "attach-partition",
    summary: "ALTER TABLE … ATTACH PARTITION of an existing table without a CHECK validated before it (scan under ACCESS EXCLUSIVE on the partition)",
    severity: Severity::Medium,
    check: Check::File(check),
    explanation: r#"**Problem.** `ATTACH PARTITION p FOR VALUES …` scans all of `p` to prove its rows fit
the bounds, holding ACCESS EXCLUSIVE on `p` (and, with a default partition, scanning that
too under the same lock). The partitioned table itself is only SHARE UPDATE EXCLUSIVE
since PostgreSQL 12, but nothing can read or write `p` for the whole scan. PostgreSQL
skips the scan when a validated CHECK constraint on `p` already implies the bounds.

**Safe alternative.** Two DDL migrations:
1. `sql/ddl/V50`: `ALTER TABLE p ADD CONSTRAINT … CHECK (<the bounds>) NOT VALID` (instant).
2. `sql/ddl/V51`: `VALIDATE CONSTRAINT` it (SHARE UPDATE EXCLUSIVE: reads and writes go
   on), then `ATTACH PARTITION` (no scan), then drop the check.

The rule is satisfied when an earlier migration, or this file before the attach,
validates a check on the partition; whether it implies the bounds is yours to get right
(PostgreSQL scans if it does not).

**Example.**
```sql
ALTER TABLE events ATTACH PARTITION events_2027 FOR VALUES FROM ('2027-01-01') TO ('2028-01-01');   -- attach-partition

-- instead: sql/ddl/V50__events_2027_bounds.sql
ALTER TABLE events_2027 ADD CONSTRAINT events_2027_bounds
  CHECK (at IS NOT NULL AND at >= '2027-01-01' AND at < '2028-01-01') NOT VALID;

-- sql/ddl/V51__events_2027_attach.sql
ALTER TABLE events_2027 VALIDATE CONSTRAINT events_2027_bounds;
ALTER TABLE events ATTACH PARTITION events_2027 FOR VALUES FROM ('2027-01-01') TO ('2028-01-01');
ALTER TABLE events_2027 DROP CONSTRAINT events_2027_bounds;
```"#,
};

fn check(file: &FileContext<'_>, out: &mut Vec<Report>) {
    for (i, alter) in file.table_alters() {
        let i = *i;
        let code = &alter.code;
        for action in &alter.actions {
            if !code.at(action.start, &["attach", "partition"]) {
                continue;
            }
            let Some((partition, _)) = code.name(action.start + 2) else {
                continue;
            };
            if file.created_before(i, &partition) {
                continue;
            }
            out.push(
                Report::statement(
                    i,
                    code.span(action.start, action.end - 1),
                    format!(
                        "attaching `{partition}` scans it under ACCESS EXCLUSIVE to prove its rows fit `{}`",
                        alter.table
                    ),
                )
                .help("add a CHECK of the bounds NOT VALID in one DDL migration; VALIDATE it, then ATTACH, in the next")
                .unless(Evidence::ValidatedCheck { table: partition }),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::config::Phase;
    use crate::lint::test_utils::{lint, lint_ok};

    #[test]
    fn attaching_without_a_validated_check_is_found() {
        let findings = lint(
            Phase::Ddl,
            "ALTER TABLE events ATTACH PARTITION events_2027 FOR VALUES FROM ('2027-01-01') TO ('2028-01-01');\n",
        );
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].rule, "attach-partition");
    }

    #[test]
    fn a_validated_check_or_a_new_table_is_clean() {
        lint_ok(
            Phase::Ddl,
            "ALTER TABLE events_2027 VALIDATE CONSTRAINT b;\nALTER TABLE events ATTACH PARTITION events_2027 FOR VALUES FROM ('2027-01-01') TO ('2028-01-01');\nCREATE TABLE e2 (at date);\nALTER TABLE events ATTACH PARTITION e2 FOR VALUES FROM ('2029-01-01') TO ('2030-01-01');\n",
        );
    }
}
