//! `unknown-rule`: an allow comment naming a rule that does not exist.

use crate::config::Severity;
use crate::lint::rule::{Check, Rule};

pub const RULE: Rule = Rule {
    id: "unknown-rule",
    summary: "an allow comment naming a rule that does not exist",
    severity: Severity::Low,
    check: Check::Engine,
    explanation: r#"**Problem.** `-- sqlrail:allow dml-in-dll reason="…"` (a typo) silences nothing: the
finding it was meant for still fails the build, and the comment misleads the next reader.

**Safe alternative.** Use an id from `sqlrail lint --list-rules` (or a custom rule's id
from `lint-rules.yaml`).

**Example.**
```sql
-- sqlrail:allow dml-in-dll reason="seed"       <- unknown-rule
INSERT INTO plans VALUES ('basic');
```"#,
};

#[cfg(test)]
mod tests {
    use crate::config::Phase;
    use crate::lint::test_utils::{lint_errors, lint_ok};

    #[test]
    fn a_misspelt_rule_is_found() {
        insta::assert_snapshot!(lint_errors(
            Phase::Ddl,
            "-- sqlrail:allow dml-in-dll reason=\"seed\"\nINSERT INTO plans VALUES ('basic');\n"
        ));
    }

    #[test]
    fn a_custom_rule_id_is_known() {
        lint_ok(
            Phase::Ddl,
            "-- sqlrail:allow-file no-truncate-cascade, dml-in-ddl reason=\"empty staging tables\"\nTRUNCATE staging_a, staging_b CASCADE;\n",
        );
    }
}
