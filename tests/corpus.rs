//! Conformance of the splitter with PostgreSQL's own parser, on the corpus in
//! `../shared/corpus/` (see its README): PostgreSQL's regression SQL with the statement
//! boundaries libpg_query gives, and cases from splitting bugs in other tools.

use std::path::PathBuf;

use serde_json::Value;
use sqlrail::sql::{Lexer, PsqlSyntaxKind, split, split_by_tokens};

fn corpus_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
    if dir.join("splitter_cases.json").exists() {
        Some(dir)
    } else {
        eprintln!(
            "SKIPPED: the conformance corpus is not at {} (it lives in ../shared/corpus)",
            dir.display()
        );
        None
    }
}

/// The text between the first and last token of `text` (comments and whitespace trimmed).
fn token_trimmed(text: &str) -> &str {
    let mut tokens = Lexer::new(text.as_bytes())
        .map(Result::unwrap)
        .filter(|t| !t.kind.is_comment());
    let Some(first) = tokens.next() else {
        return "";
    };
    let last = tokens.last().unwrap_or(first);
    &text[first.start..last.end]
}

#[test]
fn splitter_cases_split_exactly_as_the_parser() {
    let Some(dir) = corpus_dir() else { return };
    let cases: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(dir.join("splitter_cases.json")).unwrap())
            .unwrap();
    let (mut checked, mut failures) = (0, Vec::new());
    for case in &cases {
        let Some(expected) = case["pglast_parser_split"].as_array() else {
            continue;
        };
        let sql = case["sql"].as_str().unwrap();
        let expected: Vec<&str> = expected
            .iter()
            .map(|t| token_trimmed(t.as_str().unwrap()))
            .collect();
        let got: Vec<&str> = split(sql)
            .unwrap()
            .statements
            .iter()
            .map(|s| s.text(sql))
            .collect();
        checked += 1;
        if got != expected {
            failures.push(format!(
                "{}: expected {expected:?}, got {got:?}",
                case["name"]
            ));
        }
    }
    eprintln!(
        "splitter_cases.json: {} of {checked} cases with a parser split match",
        checked - failures.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(checked >= 38, "only {checked} cases checked");
}

#[test]
fn cases_the_parser_rejects_still_split_without_error() {
    let Some(dir) = corpus_dir() else { return };
    let cases: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(dir.join("splitter_cases.json")).unwrap())
            .unwrap();
    let by_name = |name: &str| {
        cases.iter().find(|c| c["name"] == name).unwrap()["sql"]
            .as_str()
            .unwrap()
    };
    let meta = split(by_name("psql_meta_command")).unwrap();
    assert_eq!((meta.statements.len(), meta.psql.len()), (1, 1));
    let var = split(by_name("psql_variable")).unwrap();
    assert_eq!(var.statements[0].params[0].name, "v");
    let copy = split(by_name("copy_from_stdin_inline_data")).unwrap();
    assert_eq!(copy.statements.len(), 2);
    assert_eq!(copy.statements[1].line, 4);
}

#[test]
fn regression_files_split_exactly_as_the_parser() {
    let Some(dir) = corpus_dir() else { return };
    let oracle = std::fs::read_to_string(dir.join("pg_regress_sql.boundaries.jsonl")).unwrap();
    let (mut files, mut statements, mut failures) = (0, 0, Vec::new());
    for line in oracle.lines() {
        let entry: Value = serde_json::from_str(line).unwrap();
        if entry["mode"] != "parser" {
            continue;
        }
        let name = entry["file"].as_str().unwrap();
        let sql = std::fs::read_to_string(dir.join("pg_regress_sql").join(name)).unwrap();
        let expected: Vec<&str> = entry["stmts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                let start = s[0].as_u64().unwrap() as usize;
                let len = s[1].as_u64().unwrap() as usize;
                token_trimmed(&sql[start..if len == 0 { sql.len() } else { start + len }])
            })
            .filter(|t| !t.is_empty())
            .collect();
        let got: Vec<&str> = split(&sql)
            .unwrap()
            .statements
            .iter()
            .map(|s| s.text(&sql))
            .collect();
        files += 1;
        statements += expected.len();
        if got != expected {
            let at = got
                .iter()
                .zip(&expected)
                .position(|(g, e)| g != e)
                .unwrap_or(got.len().min(expected.len()));
            failures.push(format!(
                "{name}: {} statements, parser {}; first difference at #{at}:\n  ours:   {:?}\n  parser: {:?}",
                got.len(),
                expected.len(),
                got.get(at).map(|t| &t[..t.len().min(200)]),
                expected.get(at).map(|t| &t[..t.len().min(200)])
            ));
        }
    }
    eprintln!(
        "pg_regress_sql: {} of {files} parser-mode files ({statements} statements) match",
        files - failures.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(files >= 100, "only {files} parser-mode files");
}

#[test]
fn every_regression_file_lexes_without_panic() {
    let Some(dir) = corpus_dir() else { return };
    let mut files = 0;
    for entry in std::fs::read_dir(dir.join("pg_regress_sql")).unwrap() {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        let sql = String::from_utf8_lossy(&bytes);
        // Some files hold deliberate errors; what matters is a result, not a panic or hang,
        // and that the fast path agrees with the token path on every file.
        let file = split(&sql);
        assert_eq!(file, split_by_tokens(&sql), "{}", path.display());
        // The comments and literals handed to the linter are the lexer's, outside COPY data.
        if let Ok(file) = file {
            let mut tokens = Vec::new();
            let mut from = 0;
            let data = file
                .psql
                .iter()
                .filter(|p| p.kind == PsqlSyntaxKind::CopyData);
            for skip in data
                .map(|p| p.start..p.end)
                .chain(std::iter::once(sql.len()..sql.len()))
            {
                tokens.extend(Lexer::at(&sql.as_bytes()[..skip.start], from).map_while(Result::ok));
                from = skip.end;
            }
            let comments: Vec<_> = tokens
                .iter()
                .filter(|t| t.kind.is_comment())
                .copied()
                .collect();
            let literals: Vec<_> = tokens
                .iter()
                .filter(|t| t.kind.is_literal())
                .copied()
                .collect();
            assert_eq!(file.comments, comments, "{}", path.display());
            assert_eq!(file.literals, literals, "{}", path.display());
        }
        files += 1;
    }
    eprintln!("pg_regress_sql: all {files} files lexed");
    assert_eq!(files, 232);
}
