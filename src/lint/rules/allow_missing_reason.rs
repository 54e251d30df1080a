//! `allow-missing-reason`: an allow comment without a reason.

use crate::config::Severity;
use crate::lint::rule::{Check, Rule};

pub const RULE: Rule = Rule {
    id: "allow-missing-reason",
    summary: "a sqlrail:allow comment without reason=\"…\"",
    severity: Severity::Low,
    check: Check::Engine,
    explanation: r#"**Problem.** An exception without a reason cannot be reviewed: a year later nobody
knows whether the `UPDATE` in a schema migration was a deliberate ten-row fix or an
accident that happened to pass. The comment still silences the finding it names; this
finding asks for the reason.

**Safe alternative.** Say why, in the comment itself.

**Example.**
```sql
-- sqlrail:allow dml-in-ddl                                   <- allow-missing-reason
-- sqlrail:allow dml-in-ddl reason="dedupe before the unique index; 12 rows in prod"
DELETE FROM contracts WHERE id IN (1, 2);
```"#,
};

#[cfg(test)]
mod tests {
    use crate::config::Phase;
    use crate::lint::test_utils::{lint_errors, lint_ok};

    #[test]
    fn an_allow_without_reason_is_found_but_still_silences() {
        insta::assert_snapshot!(lint_errors(
            Phase::Ddl,
            "-- sqlrail:allow dml-in-ddl\nDELETE FROM contracts WHERE id IN (1, 2);\n"
        ));
    }

    #[test]
    fn an_allow_with_a_reason_is_clean() {
        lint_ok(
            Phase::Ddl,
            "-- sqlrail:allow dml-in-ddl reason=\"dedupe before the unique index\"\nDELETE FROM contracts WHERE id IN (1, 2);\n",
        );
    }
}
