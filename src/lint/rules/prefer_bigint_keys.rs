//! `prefer-bigint-keys` (style): a key column of a 32- or 16-bit integer type.

use crate::config::Severity;
use crate::lint::column_types::each_declared;
use crate::lint::context::FileContext;
use crate::lint::rule::{Check, Report, Rule};

pub const RULE: Rule = Rule {
    id: "prefer-bigint-keys",
    summary: "style (off unless `style: true`): an id, primary key or foreign key column of type int or smallint",
    severity: Severity::Low,
    check: Check::File(check),
    explanation: r#"**Problem.** An `int` key runs out at 2,147,483,647; by then the table is big, and
changing the column to `bigint` rewrites it under ACCESS EXCLUSIVE (`alter-column-type`),
with every referencing column too. `bigint` costs four bytes more per row.

**Safe alternative.** Declare keys, and the columns that reference them, `bigint` from
the start. (A style rule: on with `style: true` in `lint-rules.yaml`.)

**Example.**
```sql
CREATE TABLE notes (id int PRIMARY KEY, lead_id int REFERENCES leads (id));   -- prefer-bigint-keys (twice)

-- instead
CREATE TABLE notes (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, lead_id bigint REFERENCES leads (id));
```"#,
};

const SMALL_INTEGERS: &[&str] = &[
    "int",
    "integer",
    "int4",
    "int2",
    "smallint",
    "serial",
    "serial4",
    "smallserial",
    "serial2",
];

fn check(file: &FileContext<'_>, out: &mut Vec<Report>) {
    each_declared(file, |i, code, column, at| {
        if column.key && SMALL_INTEGERS.iter().any(|t| code.is(at, t)) {
            out.push(
                Report::statement(
                    i,
                    code.span(at, at),
                    format!("key column `{}` is `{}`", column.column, code.text(at)),
                )
                .help("declare keys bigint"),
            );
        }
    });
}

#[cfg(test)]
mod tests {
    use crate::config::Phase;
    use crate::lint::test_utils::{lint, lint_with, settings_with};

    #[test]
    fn int_keys_are_found_only_with_style_on() {
        let sql = "CREATE TABLE notes (id int PRIMARY KEY, lead_id integer, body text, n int);\n";
        assert!(lint(Phase::Ddl, sql).is_empty());
        let findings = lint_with(&settings_with("style: true\n"), Phase::Ddl, sql);
        let rules: Vec<&str> = findings.iter().map(|f| &*f.rule).collect();
        assert_eq!(rules, ["prefer-bigint-keys", "prefer-bigint-keys"]);
    }
}
