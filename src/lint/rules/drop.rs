//! `drop`: dropping a table or column that running code may still use.

use crate::config::Severity;
use crate::lint::context::FileContext;
use crate::lint::rule::{Check, Report, Rule};

pub const RULE: Rule = Rule {
    id: "drop",
    summary: "DROP TABLE or ALTER TABLE … DROP COLUMN on an existing table",
    severity: Severity::Warning,
    check: Check::File(check),
    explanation: r#"**Problem.** Dropping a table or column loses its data for good, and the application
version still running during the deploy fails on every query that names it. A drop is
also the one migration that cannot be rolled back by a later migration.

**Safe alternative.** Stop using the column or table in the application first (one
release), then drop it in a later release, with an allow comment that says so.

**Example.**
```sql
ALTER TABLE leads DROP COLUMN legacy_status;    -- drop
DROP TABLE old_sessions;                        -- drop

-- sqlrail:allow drop reason="unused since release 41 (PR #1234)"
ALTER TABLE leads DROP COLUMN legacy_status;
```"#,
};

fn check(file: &FileContext<'_>, out: &mut Vec<Report>) {
    let help = "stop using it in a release first; drop it later with an allow comment that says so";
    for (i, statement) in file.statements() {
        if statement.tag != "DROP TABLE" {
            continue;
        }
        let code = file.code(i);
        let first = 2 + 2 * usize::from(code.at(2, &["if", "exists"]));
        let all_new = code
            .comma_separated(first..code.len(), 0)
            .iter()
            .filter_map(|r| code.name(r.start))
            .all(|(t, _)| file.created_before(i, &t));
        if !all_new {
            out.push(
                Report::statement(
                    i,
                    file.span_of(i),
                    format!(
                        "dropping table {} loses its data and breaks code still using it",
                        table_names(&code, first)
                    ),
                )
                .help(help),
            );
        }
    }
    for (i, alter) in file.table_alters() {
        let code = &alter.code;
        for action in &alter.actions {
            if !code.is(action.start, "drop") {
                continue;
            }
            let mut at = action.start + 1;
            if code.is(at, "column") {
                at += 1;
            } else if ["constraint", "default", "not", "identity", "expression"]
                .iter()
                .any(|w| code.is(at, w))
            {
                continue;
            }
            if code.at(at, &["if", "exists"]) {
                at += 2;
            }
            let Some((column, _)) = code.name(at) else {
                continue;
            };
            out.push(
                Report::statement(
                    *i,
                    code.span(action.start, action.end - 1),
                    format!(
                        "dropping `{}.{column}` loses its data and breaks code still using it",
                        alter.table
                    ),
                )
                .help(help),
            );
        }
    }
}

/// `DROP TABLE a, b` → "`a`, `b`" for the message.
fn table_names(code: &crate::lint::code::Code<'_>, first: usize) -> String {
    let names: Vec<String> = code
        .comma_separated(first..code.len(), 0)
        .iter()
        .filter_map(|r| code.name(r.start).map(|(n, _)| format!("`{n}`")))
        .collect();
    names.join(", ")
}

#[cfg(test)]
mod tests {
    use crate::config::Phase;
    use crate::lint::test_utils::{lint_errors, lint_ok};

    #[test]
    fn dropping_a_table_and_a_column_is_found() {
        insta::assert_snapshot!(lint_errors(
            Phase::Ddl,
            "ALTER TABLE leads DROP COLUMN IF EXISTS legacy_status;\nDROP TABLE IF EXISTS old_sessions CASCADE;\n"
        ));
    }

    #[test]
    fn dropping_constraints_defaults_and_new_tables_is_clean() {
        lint_ok(
            Phase::Ddl,
            "ALTER TABLE leads DROP CONSTRAINT nn, ALTER COLUMN a DROP DEFAULT;\nCREATE TABLE tmp (a int);\nDROP TABLE tmp;\n",
        );
    }
}
