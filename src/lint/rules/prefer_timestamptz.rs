//! `prefer-timestamptz` (style): a timestamp without a time zone.

use crate::config::Severity;
use crate::lint::column_types::each_declared;
use crate::lint::context::FileContext;
use crate::lint::rule::{Check, Report, Rule};
use crate::sql::TokenKind;

pub const RULE: Rule = Rule {
    id: "prefer-timestamptz",
    summary: "style (off unless `style: true`): a timestamp column without time zone",
    severity: Severity::Low,
    check: Check::File(check),
    explanation: r#"**Problem.** `timestamp` (without time zone) stores a wall-clock reading with no zone:
the same value means different instants for servers and clients in different zones, and
`now()` written into it depends on the session's `TimeZone`. Changing it to
`timestamptz` later rewrites the table unless the session zone is UTC.

**Safe alternative.** `timestamptz`, which stores an instant and shows it in the reader's
zone. (A style rule: on with `style: true` in `lint-rules.yaml`.)

**Example.**
```sql
CREATE TABLE notes (created_at timestamp);                            -- prefer-timestamptz

-- instead
CREATE TABLE notes (created_at timestamptz);
```"#,
};

fn check(file: &FileContext<'_>, out: &mut Vec<Report>) {
    each_declared(file, |i, code, column, at| {
        if !code.is(at, "timestamp") {
            return;
        }
        let mut next = at + 1;
        if code.kind(next) == Some(TokenKind::OpenParen) {
            next = code.skip_group(next);
        }
        if code.at(next, &["with", "time", "zone"]) {
            return;
        }
        out.push(
            Report::statement(
                i,
                code.span(at, at),
                format!("`{}` is a timestamp without time zone", column.column),
            )
            .help("declare it timestamptz"),
        );
    });
}

#[cfg(test)]
mod tests {
    use crate::config::Phase;
    use crate::lint::test_utils::{lint_with, settings_with};

    #[test]
    fn timestamps_without_zone_are_found() {
        let findings = lint_with(
            &settings_with("style: true\n"),
            Phase::Ddl,
            "CREATE TABLE notes (a timestamp, b timestamp(3) without time zone, c timestamp with time zone, d timestamptz);\n",
        );
        let rules: Vec<&str> = findings.iter().map(|f| &*f.rule).collect();
        assert_eq!(rules, ["prefer-timestamptz"; 2]);
    }
}
