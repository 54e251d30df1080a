//! `prefer-identity` (style): a `serial` column.

use crate::config::Severity;
use crate::lint::column_types::each_declared;
use crate::lint::context::FileContext;
use crate::lint::rule::{Check, Report, Rule};

pub const RULE: Rule = Rule {
    id: "prefer-identity",
    summary: "style (off unless `style: true`): a serial, bigserial or smallserial column",
    severity: Severity::Low,
    check: Check::File(check),
    explanation: r#"**Problem.** `serial` is a sequence and a default stitched together: the sequence's
ownership and grants are separate objects, `INSERT` can write past it, and copying the
table's definition (`LIKE`) shares the sequence. Identity columns are the SQL-standard
form PostgreSQL recommends since 10.

**Safe alternative.** `bigint GENERATED ALWAYS AS IDENTITY` (or `BY DEFAULT`). (A style
rule: on with `style: true` in `lint-rules.yaml`.)

**Example.**
```sql
CREATE TABLE notes (id bigserial PRIMARY KEY);                       -- prefer-identity

-- instead
CREATE TABLE notes (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY);
```"#,
};

fn check(file: &FileContext<'_>, out: &mut Vec<Report>) {
    each_declared(file, |i, code, column, at| {
        let word = code.text(at).to_ascii_lowercase();
        if word.starts_with("serial") || word == "bigserial" || word == "smallserial" {
            out.push(
                Report::statement(
                    i,
                    code.span(at, at),
                    format!("`{}` is `{}`", column.column, code.text(at)),
                )
                .help("declare it bigint GENERATED ALWAYS AS IDENTITY"),
            );
        }
    });
}

#[cfg(test)]
mod tests {
    use crate::config::Phase;
    use crate::lint::test_utils::{lint_with, settings_with};

    #[test]
    fn serials_are_found() {
        let findings = lint_with(
            &settings_with("style: true\n"),
            Phase::Ddl,
            "CREATE TABLE notes (id bigserial PRIMARY KEY, n serial4);\n",
        );
        let rules: Vec<&str> = findings.iter().map(|f| &*f.rule).collect();
        assert!(
            rules.iter().filter(|r| **r == "prefer-identity").count() == 2,
            "{rules:?}"
        );
    }
}
