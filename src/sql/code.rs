//! A statement's significant tokens (no comments, no psql meta-commands) with their
//! parenthesis depth: the view rules match keyword sequences on. Matching on tokens, never
//! on raw text, is what keeps `ON DELETE CASCADE`, strings and function bodies from
//! becoming findings.

use std::ops::Range;

use crate::sql::names::push_part;
use crate::sql::{Lexer, Token, TokenKind};

pub struct Code<'a> {
    src: &'a str,
    tokens: Vec<Token>,
    /// Parenthesis depth of each token; a `(` has the depth outside it.
    depth: Vec<u32>,
}

impl<'a> Code<'a> {
    pub fn new(src: &'a str, tokens: &[Token]) -> Self {
        let mut code = Code {
            src,
            tokens: Vec::with_capacity(tokens.len()),
            depth: Vec::with_capacity(tokens.len()),
        };
        code.extend(tokens.iter().copied(), usize::MAX);
        code
    }

    /// The significant tokens of `text`, as far as it lexes without error.
    pub fn of(text: &'a str) -> Self {
        Code::lex(text, 0..text.len())
    }

    /// The significant tokens of `src[span]`, lexed directly (no token list of the whole
    /// file is needed), as far as the span lexes without error (a statement's span always
    /// does).
    pub fn lex(src: &'a str, span: Range<usize>) -> Self {
        // About one significant token per five bytes of SQL.
        let capacity = (span.end - span.start) / 5 + 1;
        let mut code = Code {
            src,
            tokens: Vec::with_capacity(capacity),
            depth: Vec::with_capacity(capacity),
        };
        let tokens = Lexer::at(&src.as_bytes()[..span.end], span.start).map_while(Result::ok);
        code.extend(tokens, usize::MAX);
        code
    }

    /// The leading significant tokens of `src[span]` up to its first `(` (included), at
    /// most `limit`: the head of `CREATE TABLE name (…)` without its column list.
    pub fn lex_head(src: &'a str, span: Range<usize>, limit: usize) -> Self {
        let mut code = Code {
            src,
            tokens: Vec::with_capacity(limit),
            depth: Vec::with_capacity(limit),
        };
        let mut lexer = Lexer::at(&src.as_bytes()[..span.end], span.start);
        let tokens = std::iter::from_fn(|| lexer.next_simple_first()?.ok());
        let mut open = false;
        let tokens = tokens.take_while(|t| {
            let more = !open;
            open |= t.kind == TokenKind::OpenParen;
            more
        });
        code.extend(tokens, limit);
        code
    }

    fn extend(&mut self, tokens: impl Iterator<Item = Token>, limit: usize) {
        let mut depth = 0u32;
        for token in tokens {
            if self.tokens.len() == limit {
                break;
            }
            if token.kind.is_comment() || token.kind == TokenKind::MetaCommand {
                continue;
            }
            if token.kind == TokenKind::CloseParen {
                depth = depth.saturating_sub(1);
            }
            self.tokens.push(token);
            self.depth.push(depth);
            if token.kind == TokenKind::OpenParen {
                depth += 1;
            }
        }
    }

    pub fn len(&self) -> usize {
        self.tokens.len()
    }

    /// The text the tokens' spans refer to.
    pub fn source(&self) -> &'a str {
        self.src
    }

    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }

    pub fn token(&self, i: usize) -> Option<Token> {
        self.tokens.get(i).copied()
    }

    pub fn kind(&self, i: usize) -> Option<TokenKind> {
        self.token(i).map(|t| t.kind)
    }

    pub fn text(&self, i: usize) -> &'a str {
        self.token(i).map_or("", |t| t.text(self.src))
    }

    pub fn depth(&self, i: usize) -> u32 {
        self.depth.get(i).copied().unwrap_or(0)
    }

    /// Whether token `i` is the word `word` (ASCII case-insensitive).
    pub fn is(&self, i: usize, word: &str) -> bool {
        self.token(i).is_some_and(|t| {
            t.kind == TokenKind::Word && t.text(self.src).eq_ignore_ascii_case(word)
        })
    }

    /// Whether the words `seq` start at token `i`.
    pub fn at(&self, i: usize, seq: &[&str]) -> bool {
        seq.iter().enumerate().all(|(k, word)| self.is(i + k, word))
    }

    /// The first `i >= from` where `seq` starts at parenthesis depth `depth`, before `to`.
    pub fn find_at_depth(&self, range: Range<usize>, depth: u32, seq: &[&str]) -> Option<usize> {
        (range.start..range.end.min(self.len()))
            .find(|&i| self.depth(i) == depth && self.at(i, seq))
    }

    /// The first `i >= from` where `seq` starts, at any depth.
    pub fn find(&self, from: usize, seq: &[&str]) -> Option<usize> {
        (from..self.len()).find(|&i| self.at(i, seq))
    }

    /// A possibly qualified name at `i` (`a`, `s.a`, `"S"."a"`), folded as PostgreSQL folds
    /// identifiers, and the index after it.
    pub fn name(&self, mut i: usize) -> Option<(String, usize)> {
        let mut name = String::new();
        loop {
            let token = self.token(i)?;
            if !push_part(&mut name, token, self.src) {
                if name.is_empty() {
                    return None;
                }
                break;
            }
            i += 1;
            if self.kind(i) == Some(TokenKind::Dot) {
                name.push('.');
                i += 1;
            } else {
                break;
            }
        }
        Some((name, i))
    }

    /// Bytes from the start of token `first` to the end of token `last`.
    pub fn span(&self, first: usize, last: usize) -> Range<usize> {
        let last = last.min(self.len().saturating_sub(1));
        match (self.token(first), self.token(last)) {
            (Some(a), Some(b)) => a.start..b.end.max(a.end),
            _ => 0..0,
        }
    }

    /// Splits `range` at commas of depth `depth` (the actions of `ALTER TABLE … a, b`).
    pub fn comma_separated(&self, range: Range<usize>, depth: u32) -> Vec<Range<usize>> {
        let mut parts = Vec::new();
        let mut start = range.start;
        for i in range.clone() {
            if self.kind(i) == Some(TokenKind::Comma) && self.depth(i) == depth {
                parts.push(start..i);
                start = i + 1;
            }
        }
        if start < range.end {
            parts.push(start..range.end);
        }
        parts
    }

    /// The index after the group opened by the `(` at `i` (`i` itself if it is no `(`).
    pub fn skip_group(&self, i: usize) -> usize {
        if self.kind(i) != Some(TokenKind::OpenParen) {
            return i;
        }
        let depth = self.depth(i);
        (i + 1..self.len())
            .find(|&j| self.kind(j) == Some(TokenKind::CloseParen) && self.depth(j) == depth)
            .map_or(self.len(), |j| j + 1)
    }
}

/// `ALTER TABLE [IF EXISTS] [ONLY] name [*] actions…`: the table and the token ranges of
/// its comma-separated actions. `None` for any other statement.
pub fn alter_table(code: &Code<'_>) -> Option<(String, Vec<Range<usize>>)> {
    if !code.at(0, &["alter", "table"]) {
        return None;
    }
    let mut i = 2;
    if code.at(i, &["if", "exists"]) {
        i += 2;
    }
    if code.is(i, "only") {
        i += 1;
    }
    let (table, mut i) = code.name(i)?;
    if code.text(i) == "*" {
        i += 1;
    }
    Some((table, code.comma_separated(i..code.len(), 0)))
}

/// `CREATE [GLOBAL|LOCAL] [TEMP|TEMPORARY|UNLOGGED] TABLE [IF NOT EXISTS] name`: the name.
pub fn created_table(code: &Code<'_>) -> Option<String> {
    if !code.is(0, "create") {
        return None;
    }
    let mut i = 1;
    while ["global", "local", "temp", "temporary", "unlogged"]
        .iter()
        .any(|w| code.is(i, w))
    {
        i += 1;
    }
    if !code.is(i, "table") {
        return None;
    }
    i += 1;
    if code.at(i, &["if", "not", "exists"]) {
        i += 3;
    }
    code.name(i).map(|(name, _)| name)
}

/// What a `CREATE INDEX` statement builds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexStatement {
    /// The index name (never schema-qualified: an index lives in its table's schema);
    /// `None` when PostgreSQL is left to choose one.
    pub name: Option<String>,
    /// The table, possibly qualified, folded.
    pub table: String,
    pub unique: bool,
    pub concurrently: bool,
    pub if_not_exists: bool,
}

/// `CREATE [UNIQUE] INDEX [CONCURRENTLY] [IF NOT EXISTS] [name] ON [ONLY] table …`.
pub fn index_statement(code: &Code<'_>) -> Option<IndexStatement> {
    if !code.is(0, "create") {
        return None;
    }
    let mut i = 1;
    let unique = code.is(i, "unique");
    if unique {
        i += 1;
    }
    if !code.is(i, "index") {
        return None;
    }
    i += 1;
    let concurrently = code.is(i, "concurrently");
    if concurrently {
        i += 1;
    }
    let if_not_exists = code.at(i, &["if", "not", "exists"]);
    if if_not_exists {
        i += 3;
    }
    let on = code.find_at_depth(i..code.len(), 0, &["on"])?;
    let name = (on > i)
        .then(|| code.name(i).map(|(name, _)| name))
        .flatten();
    let mut i = on + 1;
    if code.is(i, "only") {
        i += 1;
    }
    let (table, _) = code.name(i)?;
    Some(IndexStatement {
        name,
        table,
        unique,
        concurrently,
        if_not_exists,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sql::Lexer;

    fn code(src: &str) -> Code<'_> {
        let tokens: Vec<Token> = Lexer::new(src.as_bytes()).map(Result::unwrap).collect();
        Code::new(src, &tokens)
    }

    #[test]
    fn alter_table_actions_split_at_top_level_commas() {
        let c = code("ALTER TABLE ONLY crm.\"Leads\" ADD COLUMN a numeric(10, 2), DROP COLUMN b");
        let (table, actions) = alter_table(&c).unwrap();
        assert_eq!(table, "crm.Leads");
        assert_eq!(actions.len(), 2);
        assert!(c.at(actions[1].start, &["drop", "column"]));
    }

    #[test]
    fn created_objects_are_named() {
        assert_eq!(
            created_table(&code("create unlogged table if not exists s.t (a int)")),
            Some("s.t".into())
        );
        let created_index = |sql| index_statement(&code(sql)).map(|i| (i.table, i.concurrently));
        assert_eq!(
            created_index("CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS i ON ONLY t (a)"),
            Some(("t".into(), true))
        );
        assert_eq!(
            created_index("create index on t using gin (a)"),
            Some(("t".into(), false))
        );
        assert_eq!(created_index("create table t (a int)"), None);
        // The head stops at the column list.
        let sql = "CREATE TEMP TABLE s.t (a int, b int)";
        let head = Code::lex_head(sql, 0..sql.len(), 16);
        assert_eq!(head.len(), 7);
        assert_eq!(created_table(&head), Some("s.t".into()));
    }
}
