//! The lexer and splitter never panic, never loop and keep their invariants, whatever the
//! input: arbitrary bytes, and SQL-shaped soup built from the tricky pieces.

use proptest::prelude::*;
use sqlrail::sql::{Lexer, PsqlSyntaxKind, split, split_by_tokens};

/// Pieces that stress every lexer state, glued in random order.
fn sql_soup() -> impl Strategy<Value = String> {
    let pieces = prop::sample::select(vec![
        "'",
        "''",
        "E'",
        "\\",
        "\\'",
        "\"",
        "$$",
        "$a$",
        "$1",
        "$",
        "--",
        "\n",
        "/*",
        "*/",
        ";",
        "(",
        ")",
        "BEGIN",
        "ATOMIC",
        "END",
        "CASE",
        "CREATE",
        "FUNCTION",
        "COPY",
        "FROM",
        "stdin",
        "\\.",
        ":lo",
        ":'v'",
        "::",
        "U&'",
        "x",
        " ",
        ".",
        "AS",
        "é",
        "\r\n",
        "WITH",
        "INTO",
        "CONCURRENTLY",
        "INDEX",
    ]);
    prop::collection::vec(pieces, 0..60).prop_map(|v| v.concat())
}

fn check(sql: &str) {
    let mut last_end = 0;
    for token in Lexer::new(sql.as_bytes()) {
        let Ok(token) = token else { break };
        assert!(token.start >= last_end && token.end > token.start && token.end <= sql.len());
        assert!(sql.is_char_boundary(token.start) && sql.is_char_boundary(token.end));
        last_end = token.end;
    }
    if let Ok(file) = split(sql) {
        let mut previous_end = 0;
        for s in &file.statements {
            assert!(s.start >= previous_end && s.end > s.start && s.end <= sql.len());
            assert!(sql.is_char_boundary(s.start) && sql.is_char_boundary(s.end));
            assert!(s.line >= 1 && s.column >= 1);
            previous_end = s.end;
        }
    }
}

proptest! {
    // 4096 cases per property in the suite; `PROPTEST_CASES=200000` for a long run.
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(4096),
        ..ProptestConfig::default()
    })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        check(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn sql_shaped_soup_never_panics(sql in sql_soup()) {
        check(&sql);
    }

    /// The fast path (skimming mid-statement bytes) gives exactly what the token-only
    /// path gives: statements, kinds, parameters, psql items, and errors with positions.
    #[test]
    fn skimming_agrees_with_the_token_path(sql in sql_soup()) {
        prop_assert_eq!(split(&sql), split_by_tokens(&sql), "{:?}", sql);
    }

    #[test]
    fn skimming_agrees_on_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let sql = String::from_utf8_lossy(&bytes);
        prop_assert_eq!(split(&sql), split_by_tokens(&sql));
    }

    /// The comments and literals the splitter hands to the linter are exactly the
    /// lexer's (the linter no longer lexes whole files itself).
    #[test]
    fn split_reports_every_comment_and_literal_the_lexer_sees(sql in sql_soup()) {
        if let Ok(file) = split(&sql)
            && file.psql.iter().all(|p| p.kind != PsqlSyntaxKind::CopyData)
        {
            let tokens: Vec<_> = Lexer::new(sql.as_bytes()).map_while(Result::ok).collect();
            let comments: Vec<_> = tokens.iter().filter(|t| t.kind.is_comment()).copied().collect();
            let literals: Vec<_> = tokens.iter().filter(|t| t.kind.is_literal()).copied().collect();
            prop_assert_eq!(&file.comments, &comments, "{:?}", sql);
            prop_assert_eq!(&file.literals, &literals, "{:?}", sql);
        }
    }

    /// Splitting a file and splitting each statement again gives the same statements:
    /// boundaries are stable.
    #[test]
    fn statements_resplit_to_themselves(sql in sql_soup()) {
        if let Ok(file) = split(&sql) {
            for s in &file.statements {
                let text = s.text(&sql);
                if let Ok(again) = split(text)
                    && file.psql.is_empty()
                {
                    prop_assert_eq!(again.statements.len(), 1, "{:?} from {:?}", text, sql);
                }
            }
        }
    }
}
