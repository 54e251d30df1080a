//! `dml-in-ddl`: data changes in a schema migration, the failure this project exists for.

use crate::config::{Phase, Severity};
use crate::lint::code::Code;
use crate::lint::context::FileContext;
use crate::lint::rule::{Check, Report, Rule};
use crate::sql::{StatementKind, TokenKind};

pub const RULE: Rule = Rule {
    id: "dml-in-ddl",
    summary: "a data change (INSERT, UPDATE, DELETE, MERGE, COPY, TRUNCATE, SELECT INTO, DML in WITH) in sql/ddl",
    severity: Severity::Medium,
    check: Check::File(check),
    explanation: r#"**Problem.** A schema migration runs in one transaction with a short `lock_timeout`, and
a failure stops the deploy. A data change inside it holds every lock the migration took for
as long as the rows take to write: on a big or busy table that is minutes of blocked
writers, a `lock_timeout`, and a failed deploy. Severity is HIGH when the statement writes a
hot table (`hot_tables` in `lint-rules.yaml`), LOW for an `INSERT … VALUES` of at most
`seed_rows_max` literal rows into another table (a seed), MEDIUM otherwise.

Only top-level statements count: DML inside function bodies, trigger definitions, strings
and comments, and keywords such as `ON DELETE CASCADE` or `FOR UPDATE`, are not findings.

**Safe alternative.** Move the change to `sql/backfills/`, where it runs in small batches
with `SKIP LOCKED`, patient timeouts and a resumable cursor. A seed a new table needs may
stay, with a documented exception.

**Example.**
```sql
-- sql/ddl/V12__leads_status.sql
ALTER TABLE leads ADD COLUMN status text;
UPDATE leads SET status = 'open';          -- dml-in-ddl (HIGH: leads is hot)

-- instead: sql/backfills/V3__leads_status.sql
UPDATE leads SET status = 'open' WHERE id BETWEEN :lo AND :hi AND status IS NULL;
```"#,
};

fn check(file: &FileContext<'_>, out: &mut Vec<Report>) {
    if file.phase != Phase::Ddl {
        return;
    }
    for (i, statement) in file.statements() {
        if statement.kind != StatementKind::Dml {
            continue;
        }
        let hot = statement.writes.iter().find(|t| file.settings.is_hot(t));
        let severity = if hot.is_some() {
            Severity::High
        } else if statement.tag == "INSERT"
            && file.may_contain(i, b"values")
            && literal_rows(&file.code(i)).is_some_and(|n| n <= file.settings.seed_rows_max)
        {
            Severity::Low
        } else {
            Severity::Medium
        };
        let via = if statement.dml_in_cte {
            " (in its WITH clause)"
        } else {
            ""
        };
        let tag = &*statement.tag;
        // Joined, not `format!`ted: one finding per DML statement of every DDL file, and
        // formatting cost several times the copy.
        let message = match (hot, statement.writes.first()) {
            (Some(table), _) => {
                ["`", tag, "` writes hot table `", table, "`", via, " in a schema migration"].concat()
            }
            (None, Some(table)) => {
                ["`", tag, "` writes `", table, "`", via, " in a schema migration"].concat()
            }
            (None, None) => ["`", tag, "` changes data in a schema migration"].concat(),
        };
        out.push(
            Report::statement(i, file.span_of(i), message)
                .severity(severity)
                .help(
                    "move data changes to sql/backfills/ (batched, resumable); a small seed may stay with `-- sqlrail:allow dml-in-ddl reason=\"…\"`",
                ),
        );
    }
}

/// For `INSERT INTO t [(cols)] VALUES (…), (…) [ON CONFLICT …] [RETURNING …]` whose rows
/// hold only constants (literals, NULL, DEFAULT, TRUE/FALSE, casts, signs, ARRAY[…]): the
/// number of rows. `None` for anything else (a SELECT, a function call, a subquery).
fn literal_rows(code: &Code<'_>) -> Option<u32> {
    let values = code.find_at_depth(0..code.len(), 0, &["values"])?;
    let mut rows = 0;
    let mut i = values + 1;
    loop {
        if code.kind(i) != Some(TokenKind::OpenParen) {
            return None;
        }
        let end = code.skip_group(i);
        if !(i + 1..end - 1).all(|j| constant_token(code, j)) {
            return None;
        }
        rows += 1;
        i = end;
        match code.kind(i) {
            Some(TokenKind::Comma) => i += 1,
            None => return Some(rows),
            _ if code.is(i, "on") || code.is(i, "returning") => return Some(rows),
            _ => return None,
        }
    }
}

fn constant_token(code: &Code<'_>, i: usize) -> bool {
    match code.kind(i) {
        Some(
            TokenKind::String
            | TokenKind::DollarString
            | TokenKind::Number
            | TokenKind::Comma
            | TokenKind::Cast
            | TokenKind::OpenParen
            | TokenKind::CloseParen
            | TokenKind::Dot,
        ) => true,
        Some(TokenKind::Operator) => matches!(code.text(i), "-" | "+"),
        Some(TokenKind::Other) => matches!(code.text(i), "[" | "]"),
        // A word is a constant keyword or the type name of a cast.
        Some(TokenKind::Word | TokenKind::QuotedIdent) => {
            ["null", "default", "true", "false", "array"]
                .iter()
                .any(|w| code.is(i, w))
                || i.checked_sub(1)
                    .is_some_and(|p| matches!(code.kind(p), Some(TokenKind::Cast | TokenKind::Dot)))
                || code.kind(i + 1) == Some(TokenKind::Dot)
                    && i.checked_sub(1)
                        .is_some_and(|p| code.kind(p) == Some(TokenKind::Cast))
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use crate::config::Phase;
    use crate::lint::test_utils::{lint_errors, lint_ok};

    #[test]
    fn update_of_a_hot_table_is_high() {
        insta::assert_snapshot!(lint_errors(
            Phase::Ddl,
            "ALTER TABLE leads ADD COLUMN status text;\nUPDATE leads SET status = 'open';\n"
        ));
    }

    #[test]
    fn dml_through_with_and_select_into_are_found() {
        insta::assert_snapshot!(lint_errors(
            Phase::Ddl,
            "WITH gone AS (DELETE FROM sessions RETURNING id)\nSELECT count(*) FROM gone;\nSELECT * INTO archive FROM sessions;\n"
        ));
    }

    #[test]
    fn a_small_literal_seed_is_low_and_a_computed_insert_medium() {
        insta::assert_snapshot!(lint_errors(
            Phase::Ddl,
            "INSERT INTO plans (code, price) VALUES ('basic', 0), ('pro', 9.90::numeric);\nINSERT INTO plans (code) SELECT code FROM old_plans;\n"
        ));
    }

    #[test]
    fn dml_inside_bodies_strings_and_keywords_is_not_found() {
        lint_ok(
            Phase::Ddl,
            r#"
CREATE TABLE calls (id bigint PRIMARY KEY, lead_id bigint REFERENCES leads ON DELETE CASCADE ON UPDATE CASCADE);
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE threads SET last_message_at = now() WHERE id = NEW.thread_id;
  RETURN NEW;
END $$;
CREATE TRIGGER trg BEFORE INSERT OR UPDATE ON calls FOR EACH ROW EXECUTE FUNCTION touch();
CREATE FUNCTION n() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; END;
COMMENT ON TABLE calls IS 'DELETE FROM calls; -- not a statement';
-- UPDATE leads SET x = 1;
"#,
        );
    }
}
