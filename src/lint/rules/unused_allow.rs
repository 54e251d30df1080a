//! `unused-allow`: an allow comment that silences nothing.

use crate::config::Severity;
use crate::lint::rule::{Check, Rule};

pub const RULE: Rule = Rule {
    id: "unused-allow",
    summary: "a sqlrail:allow comment (or one of its rules) that silences no finding",
    severity: Severity::Warning,
    check: Check::Engine,
    explanation: r#"**Problem.** An allow comment that matches nothing is left over from a statement that
changed or moved; it misleads readers and will silently excuse the next finding that lands
under it.

**Safe alternative.** Delete it, or move it to the line before the statement it is about
(a statement-level allow applies to the next statement, or to the statement it sits in).

**Example.**
```sql
-- sqlrail:allow drop reason="old column"       <- unused-allow: nothing is dropped
ALTER TABLE leads ADD COLUMN score int;
```"#,
};

#[cfg(test)]
mod tests {
    use crate::config::Phase;
    use crate::lint::test_utils::{lint_errors, lint_ok};

    #[test]
    fn an_allow_that_silences_nothing_is_found() {
        insta::assert_snapshot!(lint_errors(
            Phase::Ddl,
            "-- sqlrail:allow drop reason=\"old column\"\nALTER TABLE leads ADD COLUMN score int;\n"
        ));
    }

    #[test]
    fn a_file_level_allow_that_is_used_is_clean() {
        lint_ok(
            Phase::Ddl,
            "-- sqlrail:allow-file drop reason=\"retire v1 tables\"\nDROP TABLE a;\nDROP TABLE b;\n",
        );
    }
}
