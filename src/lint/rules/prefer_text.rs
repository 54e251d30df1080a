//! `prefer-text` (style): a length-limited character type.

use crate::config::Severity;
use crate::lint::column_types::each_declared;
use crate::lint::context::FileContext;
use crate::lint::rule::{Check, Report, Rule};
use crate::sql::TokenKind;

pub const RULE: Rule = Rule {
    id: "prefer-text",
    summary: "style (off unless `style: true`): a varchar(n) or char(n) column",
    severity: Severity::Low,
    check: Check::File(check),
    explanation: r#"**Problem.** `varchar(n)` stores exactly what `text` stores; the limit only adds an
error, and raising it later is a migration (shrinking it rewrites or scans the table under
ACCESS EXCLUSIVE). `char(n)` pads with blanks and compares surprisingly.

**Safe alternative.** `text`, with a `CHECK (length(col) <= n)` when a limit is a real
rule (a check can be replaced `NOT VALID` and validated without blocking). (A style
rule: on with `style: true` in `lint-rules.yaml`.)

**Example.**
```sql
CREATE TABLE notes (title varchar(200));                              -- prefer-text

-- instead
CREATE TABLE notes (title text CHECK (length(title) <= 200));
```"#,
};

fn check(file: &FileContext<'_>, out: &mut Vec<Report>) {
    each_declared(file, |i, code, column, at| {
        let limited = if code.is(at, "varchar") {
            code.kind(at + 1) == Some(TokenKind::OpenParen)
        } else if code.at(at, &["character", "varying"]) {
            code.kind(at + 2) == Some(TokenKind::OpenParen)
        } else {
            ["char", "character", "bpchar", "nchar"]
                .iter()
                .any(|w| code.is(at, w))
        };
        if limited {
            out.push(
                Report::statement(
                    i,
                    code.span(at, at),
                    format!("`{}` is `{}`", column.column, code.text(at)),
                )
                .help("declare it text, with a CHECK on its length if the limit matters"),
            );
        }
    });
}

#[cfg(test)]
mod tests {
    use crate::config::Phase;
    use crate::lint::test_utils::{lint_with, settings_with};

    #[test]
    fn limited_character_types_are_found() {
        let findings = lint_with(
            &settings_with("style: true\n"),
            Phase::Ddl,
            "CREATE TABLE notes (a varchar(20), b character varying(5), c char(2), d varchar, e text);\n",
        );
        let rules: Vec<&str> = findings.iter().map(|f| &*f.rule).collect();
        assert_eq!(rules, ["prefer-text"; 3]);
    }
}
