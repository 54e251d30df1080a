//! `refresh-materialized-view`: `REFRESH MATERIALIZED VIEW` without `CONCURRENTLY`.

use crate::config::Severity;
use crate::lint::context::FileContext;
use crate::lint::rule::{Check, Report, Rule};

pub const RULE: Rule = Rule {
    id: "refresh-materialized-view",
    summary: "REFRESH MATERIALIZED VIEW without CONCURRENTLY (ACCESS EXCLUSIVE: reads of the view wait for the whole refresh)",
    severity: Severity::Medium,
    check: Check::File(check),
    explanation: r#"**Problem.** `REFRESH MATERIALIZED VIEW v` recomputes the view under ACCESS EXCLUSIVE:
every query reading `v` waits until the whole query behind it has run again.

**Safe alternative.** `REFRESH MATERIALIZED VIEW CONCURRENTLY v` takes EXCLUSIVE, which
lets reads go on (nothing writes to a materialized view). It needs a unique index on the
view, built in `sql/indexes/` and placed `before:` the migration that refreshes, and a
view that was populated once. (`WITH NO DATA` empties the view and is not reported.)

**Example.**
```sql
REFRESH MATERIALIZED VIEW lead_totals;                  -- refresh-materialized-view

-- instead: sql/indexes/V14__lead_totals_key.sql   (manifest: before: ddl/V70__lead_totals_refresh)
CREATE UNIQUE INDEX CONCURRENTLY lead_totals_key ON lead_totals (tenant_id);

-- sql/ddl/V70__lead_totals_refresh.sql
REFRESH MATERIALIZED VIEW CONCURRENTLY lead_totals;
```"#,
};

fn check(file: &FileContext<'_>, out: &mut Vec<Report>) {
    for (i, statement) in file.statements() {
        if statement.tag != "REFRESH" {
            continue;
        }
        let code = file.code(i);
        if !code.at(0, &["refresh", "materialized", "view"])
            || code.is(3, "concurrently")
            || code
                .find_at_depth(3..code.len(), 0, &["with", "no", "data"])
                .is_some()
        {
            continue;
        }
        let view = code.name(3).map_or_else(String::new, |(name, _)| name);
        out.push(
            Report::statement(
                i,
                file.span_of(i),
                format!("refreshing `{view}` blocks every read of it until the refresh ends (ACCESS EXCLUSIVE)"),
            )
            .help("REFRESH MATERIALIZED VIEW CONCURRENTLY, with a unique index on the view built in sql/indexes/"),
        );
    }
}

#[cfg(test)]
mod tests {
    use crate::config::Phase;
    use crate::lint::test_utils::{lint, lint_ok};

    #[test]
    fn a_blocking_refresh_is_found() {
        let findings = lint(Phase::Ddl, "REFRESH MATERIALIZED VIEW lead_totals;\n");
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].rule, "refresh-materialized-view");
    }

    #[test]
    fn concurrent_and_no_data_refreshes_are_clean() {
        lint_ok(
            Phase::Ddl,
            "REFRESH MATERIALIZED VIEW CONCURRENTLY lead_totals;\nREFRESH MATERIALIZED VIEW lead_totals WITH NO DATA;\n",
        );
    }
}
