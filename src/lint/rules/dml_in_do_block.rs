//! `dml-in-do-block`: procedural code in a schema migration that writes data, a backfill
//! in disguise. `DO` bodies are checked here; a `CALL` is checked against the bodies of
//! the procedures created before it in migration order, by earlier DDL files or earlier
//! in its own file (the engine joins the two across files).

use crate::config::{Phase, Severity};
use crate::lint::body::{DYNAMIC, first_write};
use crate::lint::context::FileContext;
use crate::lint::rule::{Check, Report, Rule};
use crate::lint::settings::LintSettings;
use crate::sql::TokenKind;
use crate::sql::names::same_relation;

pub const RULE: Rule = Rule {
    id: "dml-in-do-block",
    summary: "a DO block (or CALL of a procedure) in sql/ddl whose body writes data",
    severity: Severity::Medium,
    check: Check::File(check),
    explanation: r#"**Problem.** A `DO` block or a procedure that updates rows is a data migration
wrapped in procedural code: it runs inside the schema migration's transaction, holds its
locks for as long as the loop takes, and cannot be resumed. It is `dml-in-ddl` that a
statement-level check cannot see, so sqlrail reads the body (including `EXECUTE '…'`
strings). Severity is HIGH when the body writes a hot table. A `CALL` is judged by the
procedure it runs at deploy time: the latest `CREATE PROCEDURE` of that name before it,
in an earlier DDL file (in path order, which for `V{n}__` names is version order) or
earlier in the same file.

**Safe alternative.** Write the change as a batched backfill in `sql/backfills/`: one DML
statement over a `:lo`/`:hi` key range, run in small transactions and resumed where it
stopped.

**Example.**
```sql
-- sql/ddl/V20__fill_order_index.sql
DO $$
BEGIN
  UPDATE leads SET order_index = id WHERE order_index IS NULL;   -- dml-in-do-block
END $$;

-- instead: sql/backfills/V2__order_index.sql
UPDATE leads SET order_index = id WHERE id BETWEEN :lo AND :hi AND order_index IS NULL;
```"#,
};

fn check(file: &FileContext<'_>, out: &mut Vec<Report>) {
    if file.phase != Phase::Ddl {
        return;
    }
    for (i, statement) in file.statements() {
        if statement.tag != "DO" {
            continue;
        }
        let tokens = file.tokens_of(i);
        let body = tokens
            .iter()
            .find(|t| matches!(t.kind, TokenKind::String | TokenKind::DollarString));
        if let Some(table) = body.and_then(|t| first_write(file.literal(t))) {
            out.push(report(
                file.src,
                file.span_of(i),
                i,
                file.settings,
                "`DO` block",
                &table,
            ));
        }
    }
}

/// The finding for statement `i` (at `span` of `src`), a `DO` block or `CALL` whose body
/// writes `table`.
pub fn report(
    src: &str,
    span: std::ops::Range<usize>,
    i: usize,
    settings: &LintSettings,
    what: &str,
    table: &str,
) -> Report {
    let hot = table != DYNAMIC && settings.is_hot(table);
    let (severity, table) = match (hot, table == DYNAMIC) {
        (true, _) => (Severity::High, format!("hot table `{table}`")),
        (false, true) => (Severity::Medium, table.to_owned()),
        (false, false) => (Severity::Medium, format!("`{table}`")),
    };
    // Point at the first line (`DO $$`, `CALL p()`), not the whole body.
    let first_line = src[span.clone()]
        .find('\n')
        .map_or(span.end, |n| span.start + n);
    Report::statement(
        i,
        span.start..first_line,
        format!("{what} writes {table} in a schema migration"),
    )
    .severity(severity)
    .help("write the change as a batched backfill in sql/backfills/ (one DML over :lo/:hi)")
}

/// A procedure created in a DDL file, and the first table its body writes.
#[derive(Debug, Clone)]
pub struct Procedure {
    /// The `CREATE PROCEDURE` statement's index in its file.
    pub statement: usize,
    pub name: String,
    pub writes: Option<String>,
}

/// The procedures `CREATE [OR REPLACE] PROCEDURE` statements of `file` define.
pub fn procedures(file: &FileContext<'_>) -> Vec<Procedure> {
    let mut found = Vec::new();
    for (i, statement) in file.statements() {
        if statement.tag != "CREATE PROCEDURE" {
            continue;
        }
        let code = file.code(i);
        let Some(at) = code.find(0, &["procedure"]) else {
            continue;
        };
        let Some((name, _)) = code.name(at + 1) else {
            continue;
        };
        // The body is a quoted literal (`AS $$…$$`) or, for SQL-standard bodies, the
        // statement's own text after `BEGIN ATOMIC`.
        let writes = file
            .tokens_of(i)
            .iter()
            .filter(|t| matches!(t.kind, TokenKind::String | TokenKind::DollarString))
            .find_map(|t| first_write(file.literal(t)))
            .or_else(|| {
                let atomic = code.find(0, &["begin", "atomic"])?;
                let from = code.token(atomic)?.start;
                first_write(&file.src[from..statement.end])
            });
        found.push(Procedure {
            statement: i,
            name,
            writes,
        });
    }
    found
}

/// `CALL name(…)` statements of `file`: (statement, procedure name).
pub fn calls(file: &FileContext<'_>) -> Vec<(usize, String)> {
    if file.phase != Phase::Ddl {
        return Vec::new();
    }
    file.statements()
        .filter(|(_, s)| s.tag == "CALL")
        .filter_map(|(i, _)| file.code(i).name(1).map(|(name, _)| (i, name)))
        .collect()
}

/// Whether `call` names `procedure` (either may leave the schema to the search path).
pub fn names_match(call: &str, procedure: &str) -> bool {
    same_relation(call, procedure)
}

#[cfg(test)]
mod tests {
    use crate::config::Phase;
    use crate::lint::test_utils::{lint_errors, lint_ok};

    #[test]
    fn a_do_block_that_updates_rows_is_found() {
        insta::assert_snapshot!(lint_errors(
            Phase::Ddl,
            "DO $$\nBEGIN\n  UPDATE leads SET order_index = id WHERE order_index IS NULL;\nEND $$;\n"
        ));
    }

    #[test]
    fn a_call_of_a_procedure_that_writes_is_found() {
        insta::assert_snapshot!(lint_errors(
            Phase::Ddl,
            "CREATE PROCEDURE fill() LANGUAGE plpgsql AS $$\nBEGIN\n  EXECUTE 'DELETE FROM sessions WHERE expired';\nEND $$;\nCALL fill();\n"
        ));
    }

    #[test]
    fn a_do_block_that_only_changes_schema_is_clean() {
        lint_ok(
            Phase::Ddl,
            "DO $$\nBEGIN\n  IF NOT EXISTS (SELECT 1 FROM pg_type WHERE typname = 'mood') THEN\n    CREATE TYPE mood AS ENUM ('ok');\n  END IF;\nEND $$;\nCREATE PROCEDURE noop() LANGUAGE sql BEGIN ATOMIC SELECT 1; END;\nCALL noop();\n",
        );
    }
}
