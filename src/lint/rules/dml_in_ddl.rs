//! `dml-in-ddl`: data changes in a schema migration, the failure this project exists for.

use std::borrow::Cow;
use std::ops::Range;

use crate::config::{Phase, Severity};
use crate::lint::context::FileContext;
use crate::lint::message::{
    self,
    Part::{Tag, Text},
};
use crate::lint::rule::{Check, Report, Rule};
use crate::sql::{Lexer, StatementKind, Token, TokenKind};

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
            && is_seed(file.src, file.span_of(i), file.settings.seed_rows_max)
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
        let message: Cow<'static, str> = match (hot, statement.writes.first()) {
            (Some(table), _) => [
                "`",
                tag,
                "` writes hot table `",
                table,
                "`",
                via,
                " in a schema migration",
            ]
            .concat()
            .into(),
            (None, Some(table)) => [
                "`",
                tag,
                "` writes `",
                table,
                "`",
                via,
                " in a schema migration",
            ]
            .concat()
            .into(),
            (None, None) => message::with_tag(
                &statement.tag,
                &[Text("`"), Tag, Text("` changes data in a schema migration")],
            ),
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

/// Whether the `INSERT` at `span` is a seed: `INSERT INTO t [(cols)] VALUES (…), (…)
/// [ON CONFLICT …] [RETURNING …]` of at most `max` rows holding only constants (literals,
/// NULL, DEFAULT, TRUE/FALSE, casts, signs, ARRAY[…]); not a SELECT, a function call or a
/// subquery. Lexed lazily and given up at the first row past `max` or the first token that
/// is no constant: regression-style files insert hundreds of rows at a time.
fn is_seed(src: &str, span: Range<usize>, max: u32) -> bool {
    let mut tokens = Lexer::at(&src.as_bytes()[..span.end], span.start)
        .significant()
        .peekable();
    let is = |token: &Token, word: &str| {
        token.kind == TokenKind::Word && token.text(src).eq_ignore_ascii_case(word)
    };
    // `VALUES` at the top level (not in a column list or a CTE).
    let mut depth = 0u32;
    loop {
        let Some(token) = tokens.next() else {
            return false;
        };
        match token.kind {
            TokenKind::OpenParen => depth += 1,
            TokenKind::CloseParen => depth = depth.saturating_sub(1),
            _ if depth == 0 && is(&token, "values") => break,
            _ => {}
        }
    }
    let mut rows = 0;
    loop {
        if tokens.next().map(|t| t.kind) != Some(TokenKind::OpenParen) {
            return false;
        }
        // Every token inside the row's parentheses, nested ones included.
        let (mut depth, mut previous) = (1u32, TokenKind::OpenParen);
        loop {
            let Some(token) = tokens.next() else {
                return false;
            };
            match token.kind {
                TokenKind::OpenParen => depth += 1,
                TokenKind::CloseParen => depth -= 1,
                _ => {}
            }
            if depth == 0 {
                break;
            }
            let next = tokens.peek().map(|t| t.kind);
            if !constant_token(src, token, previous, next) {
                return false;
            }
            previous = token.kind;
        }
        rows += 1;
        if rows > max {
            return false;
        }
        match tokens.next() {
            Some(t) if t.kind == TokenKind::Comma => {}
            None => return true,
            Some(t) => return is(&t, "on") || is(&t, "returning"),
        }
    }
}

/// Whether `token` (between `previous` and `next` kinds) is part of a constant.
fn constant_token(src: &str, token: Token, previous: TokenKind, next: Option<TokenKind>) -> bool {
    let text = token.text(src);
    match token.kind {
        TokenKind::String
        | TokenKind::DollarString
        | TokenKind::Number
        | TokenKind::Comma
        | TokenKind::Cast
        | TokenKind::OpenParen
        | TokenKind::CloseParen
        | TokenKind::Dot => true,
        TokenKind::Operator => matches!(text, "-" | "+"),
        TokenKind::Other => matches!(text, "[" | "]"),
        // A word is a constant keyword or the type name of a cast (`::public.mood`).
        TokenKind::Word | TokenKind::QuotedIdent => {
            (token.kind == TokenKind::Word
                && ["null", "default", "true", "false", "array"]
                    .iter()
                    .any(|w| text.eq_ignore_ascii_case(w)))
                || matches!(previous, TokenKind::Cast | TokenKind::Dot)
                || next == Some(TokenKind::Dot) && previous == TokenKind::Cast
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
    fn seeds_are_few_rows_of_constants() {
        let seed = |sql: &str, max| super::is_seed(sql, 0..sql.len(), max);
        let two = "INSERT INTO t (a, b) VALUES (1, 'x'), (-2.5, NULL::public.mood)";
        assert!(seed(two, 2));
        assert!(!seed(two, 1), "past the maximum");
        assert!(seed(
            "INSERT INTO t VALUES (ARRAY[1, +2], DEFAULT) ON CONFLICT DO NOTHING",
            1
        ));
        assert!(seed("INSERT INTO t VALUES (true) RETURNING id", 1));
        assert!(seed("INSERT INTO t VALUES ('a'::text) /* c */, (('b'))", 2));
        assert!(!seed("INSERT INTO t VALUES (now())", 10), "a function call");
        assert!(!seed("INSERT INTO t SELECT 1", 10));
        assert!(
            !seed("INSERT INTO t VALUES (1), (x)", 10),
            "a column reference"
        );
        assert!(!seed("INSERT INTO t VALUES (1) , 2", 10));
        // `values` inside the column list or a CTE is not the rows.
        assert!(!seed(
            "WITH v AS (VALUES (1)) INSERT INTO t SELECT * FROM v",
            10
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
