//! `enum-value-in-transaction`: an enum value added by a DDL file and used by it too.

use crate::config::{Phase, Severity};
use crate::lint::context::FileContext;
use crate::lint::rule::{Check, Report, Rule};
use crate::sql::TokenKind;

pub const RULE: Rule = Rule {
    id: "enum-value-in-transaction",
    summary: "ALTER TYPE … ADD VALUE in sql/ddl followed by a use of the new value in the same file (fails), or before PostgreSQL 12 at all",
    severity: Severity::High,
    check: Check::File(check),
    explanation: r#"**Problem.** Each DDL file runs as one transaction. Since PostgreSQL 12 `ALTER TYPE …
ADD VALUE` may run in a transaction, but the new value cannot be used until that
transaction commits: a later statement of the same file that uses it (a default, a check,
an index predicate) fails with `unsafe use of new value`, and the deploy stops. Before 12
(`postgres_version`) `ADD VALUE` cannot run in a transaction block at all. The lock it
takes (ACCESS EXCLUSIVE on the type) is brief.

**Safe alternative.** Add the value in its own DDL migration and use it from the next
one: `sql/ddl/V80` adds it, `sql/ddl/V81` uses it.

**Example.**
```sql
-- sql/ddl/V80__lead_status.sql
ALTER TYPE lead_status ADD VALUE 'archived';
ALTER TABLE leads ALTER COLUMN status SET DEFAULT 'archived';   -- enum-value-in-transaction

-- instead: the ALTER TABLE goes to sql/ddl/V81__lead_status_default.sql
```"#,
};

fn check(file: &FileContext<'_>, out: &mut Vec<Report>) {
    if file.phase != Phase::Ddl {
        return;
    }
    for (i, statement) in file.statements() {
        if statement.tag != "ALTER TYPE" || !file.may_contain(i, b"value") {
            continue;
        }
        let code = file.code(i);
        let Some((type_name, at)) = code.name(2) else {
            continue;
        };
        if !code.at(at, &["add", "value"]) {
            continue;
        }
        let mut value_at = at + 2;
        if code.at(value_at, &["if", "not", "exists"]) {
            value_at += 3;
        }
        let Some(token) = code.token(value_at).filter(|t| t.kind == TokenKind::String) else {
            continue;
        };
        let value = file.literal(&token);
        if file.settings.postgres_version < 12 {
            out.push(
                Report::statement(
                    i,
                    file.span_of(i),
                    format!("before PostgreSQL 12, `ALTER TYPE {type_name} ADD VALUE` cannot run in a DDL file's transaction"),
                )
                .help("add enum values in sql/indexes/ (outside a transaction), or set postgres_version if you run 12 or later"),
            );
            continue;
        }
        // Only statements whose bytes hold the value can use it (a literal compares as
        // written, between its quotes): the rest of the file is not lexed again for every
        // ADD VALUE, which made a file of many quadratic.
        let finder = memchr::memmem::Finder::new(value.as_bytes());
        let used = (i + 1..file.file.statements.len()).find(|&n| {
            (value.is_empty() || finder.find(&file.src.as_bytes()[file.span_of(n)]).is_some())
                && file
                    .tokens_of(n)
                    .iter()
                    .any(|t| t.kind == TokenKind::String && file.literal(t) == value)
        });
        if let Some(n) = used {
            out.push(
                Report::statement(
                    n,
                    file.span_of(n),
                    format!("uses `'{value}'`, which this file added to `{type_name}`: a new enum value cannot be used before its transaction commits"),
                )
                .help("move this statement to the next DDL migration"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::config::Phase;
    use crate::lint::test_utils::{lint, lint_ok, lint_with, settings_with};

    #[test]
    fn a_new_value_used_in_the_same_file_is_found() {
        let findings = lint(
            Phase::Ddl,
            "ALTER TYPE lead_status ADD VALUE IF NOT EXISTS 'archived';\nALTER TABLE leads ALTER COLUMN status SET DEFAULT 'archived';\n",
        );
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].rule, "enum-value-in-transaction");
        assert_eq!(findings[0].line, 2);
    }

    #[test]
    fn adding_alone_is_clean_from_12() {
        let sql = "ALTER TYPE lead_status ADD VALUE 'archived' AFTER 'open';\nALTER TABLE leads ALTER COLUMN status SET DEFAULT 'open';\n";
        lint_ok(Phase::Ddl, sql);
        let old = settings_with("postgres_version: 11\n");
        assert_eq!(lint_with(&old, Phase::Ddl, sql).len(), 1);
    }
}
