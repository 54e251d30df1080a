//! Effects hidden in procedural code: the SQL commands a `DO` block runs as written
//! (usually guarded, `IF NOT EXISTS (…) THEN CREATE TYPE …`), and the trigger diesel's
//! `SELECT diesel_manage_updated_at('t')` creates. Dynamic SQL (`EXECUTE '…'`) cannot be
//! read and is left out. A function's body is not run by its `CREATE FUNCTION`, so it is
//! never looked into.

use crate::sql::code::Code;
use crate::sql::{Lexer, TokenKind};

use super::create::create;
use super::name::string;
use super::{Effect, Name, Object, of_code};

pub fn effects(code: &Code<'_>, out: &mut Vec<Effect>) {
    if code.is(0, "do") {
        if let Some(body) = (1..code.len()).find_map(|i| literal_body(code, i)) {
            block(&body, out);
        }
    } else if code.is(0, "select") && code.is(1, "diesel_manage_updated_at") {
        // diesel's initial setup: `CREATE TRIGGER set_updated_at BEFORE UPDATE ON %s`.
        if let Some(table) = string(code, 3).as_deref().and_then(Name::parse) {
            out.push(create(
                Object::Trigger(table, "set_updated_at".into()),
                None,
                false,
            ));
        }
    }
}

/// The text inside a `$tag$…$tag$` or `'…'` literal at token `i`.
pub fn literal_body(code: &Code<'_>, i: usize) -> Option<String> {
    let text = code.text(i);
    match code.kind(i)? {
        TokenKind::DollarString => {
            let tag_end = text[1..].find('$')? + 2;
            Some(text[tag_end..text.len() - tag_end].to_owned())
        }
        TokenKind::String => string(code, i),
        _ => None,
    }
}

/// What a block runs: its DDL commands' effects. What a block creates may have existed
/// before (blocks are how migrations guard a `CREATE` that has no `IF NOT EXISTS`).
fn block(body: &str, out: &mut Vec<Effect>) {
    for span in commands(body, &["create", "alter", "drop"]) {
        let code = Code::lex(body, span);
        for effect in of_code(&code) {
            out.push(match effect {
                Effect::Create {
                    object, kind, on, ..
                } => Effect::Create {
                    object,
                    kind,
                    may_exist: true,
                    on,
                },
                other => other,
            });
        }
    }
}

/// The lower-cased words of a PL/pgSQL body, outside strings and comments.
pub fn words(body: &str) -> Vec<String> {
    Lexer::new(body.as_bytes())
        .map_while(Result::ok)
        .filter(|t| t.kind == TokenKind::Word)
        .map(|t| t.text(body).to_ascii_lowercase())
        .collect()
}

/// The byte spans of the SQL commands starting with one of `words` in a PL/pgSQL body:
/// each `;`-ended piece whose command starts the piece or follows `THEN`, `ELSE`, `BEGIN`
/// or `LOOP`.
pub fn commands(body: &str, words: &[&str]) -> Vec<std::ops::Range<usize>> {
    let mut spans = Vec::new();
    let tokens: Vec<_> = Lexer::new(body.as_bytes())
        .map_while(Result::ok)
        .filter(|t| !t.kind.is_comment())
        .collect();
    let mut start = 0;
    for (i, token) in tokens.iter().enumerate() {
        if token.kind != TokenKind::Semicolon {
            continue;
        }
        let piece = &tokens[start..i];
        start = i + 1;
        let word = |t: &crate::sql::Token| {
            (t.kind == TokenKind::Word).then(|| t.text(body).to_ascii_lowercase())
        };
        let command = piece.iter().enumerate().position(|(k, t)| {
            let is_command = word(t).is_some_and(|w| words.contains(&w.as_str()));
            let after_keyword = k == 0
                || piece
                    .get(k - 1)
                    .and_then(word)
                    .is_some_and(|w| matches!(w.as_str(), "then" | "else" | "begin" | "loop"));
            is_command && after_keyword
        });
        if let (Some(k), Some(last)) = (command, piece.last()) {
            spans.push(piece[k].start..last.end);
        }
    }
    spans
}
