//! What a statement does, read from its leading keywords: its kind, its command tag, the
//! tables its own DML writes (also through `WITH`), and whether it may run inside a
//! transaction block. Only the statement's tokens are read, never its literals or
//! comments, so `ON DELETE CASCADE` or an `INSERT` in a function body is not DML.

use std::borrow::Cow;

use super::lexer::{Token, TokenKind};
use super::statement::StatementKind;
use super::tags::tag;

pub(crate) struct Classification {
    pub kind: StatementKind,
    pub tag: Cow<'static, str>,
    pub writes: Vec<String>,
    pub dml_in_cte: bool,
    pub in_transaction: bool,
}

/// Classifies one statement from its significant tokens (comments left out), which the
/// splitter collected while splitting: nothing is lexed twice.
pub(crate) fn classify(src: &str, tokens: &[Token]) -> Classification {
    let mut cursor = Cursor {
        src,
        tokens,
        at: 0,
        depth: 0,
    };
    let mut class = statement(&mut cursor);
    if !class.writes.is_empty() && class.kind == StatementKind::Select {
        class.kind = StatementKind::Dml;
    }
    class
}

/// Walks the significant tokens of one statement, tracking the parenthesis depth.
struct Cursor<'a> {
    src: &'a str,
    tokens: &'a [Token],
    at: usize,
    depth: u32,
}

impl<'a> Cursor<'a> {
    fn peek(&self) -> Option<Token> {
        self.tokens.get(self.at).copied()
    }

    fn next(&mut self) -> Option<Token> {
        let token = self.peek()?;
        self.at += 1;
        match token.kind {
            TokenKind::OpenParen => self.depth += 1,
            TokenKind::CloseParen => self.depth = self.depth.saturating_sub(1),
            _ => {}
        }
        Some(token)
    }

    fn text(&self, token: Token) -> &'a str {
        token.text(self.src)
    }

    /// The next token if it is a word, upper-cased (without allocating).
    fn peek_word(&mut self) -> Option<Upper> {
        let token = self.peek()?;
        (token.kind == TokenKind::Word).then(|| Upper::new(self.text(token)))
    }

    fn peek_is(&self, word: &str) -> bool {
        self.peek().is_some_and(|t| self.is_word(t, word))
    }

    fn is_word(&self, token: Token, word: &str) -> bool {
        token.kind == TokenKind::Word
            && token.end - token.start == word.len()
            && self.text(token).eq_ignore_ascii_case(word)
    }

    /// Consumes the next token if it is the word `word`.
    fn eat(&mut self, word: &str) -> bool {
        let hit = self.peek_is(word);
        if hit {
            self.next();
        }
        hit
    }

    /// Consumes words while they are in `words`.
    fn eat_any(&mut self, words: &[&str]) {
        while words.iter().any(|w| self.peek_is(w)) {
            self.next();
        }
    }

    /// Consumes tokens until the depth drops below `depth` (the matching `)` included).
    fn close_group(&mut self, depth: u32) {
        while self.depth >= depth && self.next().is_some() {}
    }

    /// Reads a possibly qualified name (`a`, `s.a`, `"S"."a"`): unquoted parts lower-cased.
    fn name(&mut self) -> Option<String> {
        let mut name = String::new();
        loop {
            let token = self.peek()?;
            match token.kind {
                TokenKind::Word => name.push_str(&self.text(token).to_ascii_lowercase()),
                TokenKind::QuotedIdent => name.push_str(&unquote(self.text(token))),
                _ => break,
            }
            self.next();
            if self.peek().is_some_and(|t| t.kind == TokenKind::Dot) {
                self.next();
                name.push('.');
            } else {
                break;
            }
        }
        (!name.is_empty()).then_some(name)
    }

    /// True if a word `word` appears at the current depth before the statement ends
    /// (consumes the rest of the statement).
    fn any_word_at_depth(&mut self, word: &str) -> bool {
        let depth = self.depth;
        while let Some(token) = self.next() {
            if self.depth == depth && self.is_word(token, word) {
                return true;
            }
        }
        false
    }
}

/// An upper-cased keyword on the stack. Words that are longer than any keyword or not
/// ASCII read as "".
#[derive(Clone, Copy)]
struct Upper {
    buf: [u8; 16],
    len: usize,
}

impl Upper {
    const EMPTY: Upper = Upper {
        buf: [0; 16],
        len: 0,
    };

    fn new(word: &str) -> Self {
        let mut upper = Upper::EMPTY;
        if word.len() <= upper.buf.len() && word.is_ascii() {
            upper.buf[..word.len()].copy_from_slice(word.as_bytes());
            upper.buf[..word.len()].make_ascii_uppercase();
            upper.len = word.len();
        }
        upper
    }

    fn as_str(&self) -> &str {
        // Only ASCII is stored, so this never fails; validating ≤16 bytes is cheap.
        std::str::from_utf8(&self.buf[..self.len]).unwrap_or_default()
    }
}

/// `"a""b"` → `a"b`; `U&"x"` keeps its escapes (it only names the table in messages).
fn unquote(text: &str) -> String {
    let inner = text.trim_start_matches(['U', 'u', '&']);
    inner[1..inner.len() - 1].replace("\"\"", "\"")
}

fn class(kind: StatementKind, tag: impl Into<Cow<'static, str>>) -> Classification {
    Classification {
        kind,
        tag: tag.into(),
        writes: Vec::new(),
        dml_in_cte: false,
        in_transaction: kind != StatementKind::TransactionControl,
    }
}

fn statement(c: &mut Cursor) -> Classification {
    let Some(first) = c.peek() else {
        return class(StatementKind::Utility, "");
    };
    if first.kind == TokenKind::OpenParen {
        return select(c);
    }
    let Some(upper) = c.peek_word() else {
        return class(StatementKind::Utility, c.text(first).to_owned());
    };
    let verb = upper.as_str();
    let verb_tag = || tag(&[verb]);
    match verb {
        "SELECT" => select(c),
        "VALUES" | "TABLE" => class(StatementKind::Select, verb_tag()),
        "WITH" => with(c),
        "INSERT" | "UPDATE" | "DELETE" | "MERGE" => dml(c, verb),
        "TRUNCATE" => truncate(c),
        "COPY" => copy(c),
        "CREATE" | "ALTER" | "DROP" => object_command(c, verb),
        "GRANT" | "REVOKE" => class(StatementKind::Ddl, verb_tag()),
        "COMMENT" | "SECURITY" | "IMPORT" | "REASSIGN" => {
            class(StatementKind::Ddl, tag_words(c, 2))
        }
        "BEGIN" | "START" | "COMMIT" | "END" | "ROLLBACK" | "ABORT" | "SAVEPOINT" | "RELEASE" => {
            c.next();
            let mut class = class(StatementKind::TransactionControl, verb_tag());
            // SAVEPOINT and RELEASE only make sense inside a transaction block.
            class.in_transaction = matches!(verb, "SAVEPOINT" | "RELEASE");
            class
        }
        "PREPARE" => {
            c.next();
            if c.peek_is("transaction") {
                let mut class = class(StatementKind::TransactionControl, "PREPARE TRANSACTION");
                class.in_transaction = false;
                class
            } else {
                class(StatementKind::Utility, verb_tag())
            }
        }
        "DO" | "CALL" => class(StatementKind::Procedural, verb_tag()),
        "VACUUM" => non_transactional(class(StatementKind::Utility, verb_tag())),
        "REINDEX" => {
            c.next();
            let whole = ["SCHEMA", "DATABASE", "SYSTEM"]
                .iter()
                .any(|w| c.peek_is(w));
            let concurrent = c.any_word_at_depth("concurrently");
            let class = class(StatementKind::Utility, verb_tag());
            if whole || concurrent {
                non_transactional(class)
            } else {
                class
            }
        }
        "CLUSTER" => {
            c.next();
            c.eat("verbose");
            // Without a table, CLUSTER reclusters every table and refuses a transaction block.
            let class = class(StatementKind::Utility, verb_tag());
            if c.peek().is_none() {
                non_transactional(class)
            } else {
                class
            }
        }
        "ANALYZE" | "ANALYSE" => class(StatementKind::Utility, "ANALYZE"),
        "" => class(StatementKind::Utility, c.text(first).to_ascii_uppercase()),
        _ => class(StatementKind::Utility, verb_tag()),
    }
}

fn non_transactional(mut class: Classification) -> Classification {
    class.in_transaction = false;
    class
}

/// The first `n` (at most 4) words, upper-cased: a tag for commands we do not look into.
fn tag_words(c: &mut Cursor, n: usize) -> Cow<'static, str> {
    let mut words = [Upper::EMPTY; 4];
    let mut count = 0;
    while count < n.min(words.len()) {
        let Some(word) = c.peek_word() else { break };
        c.next();
        words[count] = word;
        count += 1;
    }
    tag(&words[..count].iter().map(Upper::as_str).collect::<Vec<_>>())
}

/// Objects named by two words after CREATE/ALTER/DROP (`MATERIALIZED VIEW`, …).
const TWO_WORD_OBJECTS: &[&str] = &[
    "MATERIALIZED",
    "FOREIGN",
    "EVENT",
    "OPERATOR",
    "TEXT",
    "ACCESS",
    "USER",
    "DEFAULT",
];

fn object_command(c: &mut Cursor, verb: &str) -> Classification {
    c.next();
    if verb == "CREATE" {
        c.eat_any(&[
            "OR",
            "REPLACE",
            "UNIQUE",
            "GLOBAL",
            "LOCAL",
            "TEMP",
            "TEMPORARY",
            "UNLOGGED",
            "RECURSIVE",
            "TRUSTED",
            "PROCEDURAL",
            "CONSTRAINT",
        ]);
    }
    let object = c.peek_word().unwrap_or(Upper::EMPTY);
    c.next();
    let mut second = Upper::EMPTY;
    if TWO_WORD_OBJECTS.contains(&object.as_str())
        && let Some(word) = c.peek_word()
    {
        c.next();
        second = word;
    }
    let tag = match (object.as_str(), second.as_str()) {
        (_, "") => tag(&[verb, object.as_str()]),
        ("FOREIGN", "DATA") => {
            c.next();
            tag(&[verb, "FOREIGN DATA WRAPPER"])
        }
        (first, second) => tag(&[verb, first, second]),
    };
    let kind = match tag.as_ref() {
        "CREATE INDEX" => StatementKind::Index,
        "ALTER SYSTEM" => StatementKind::Utility,
        _ => StatementKind::Ddl,
    };
    let outside_transaction = match tag.as_ref() {
        "CREATE DATABASE"
        | "DROP DATABASE"
        | "CREATE TABLESPACE"
        | "DROP TABLESPACE"
        | "ALTER SYSTEM"
        | "CREATE SUBSCRIPTION"
        | "DROP SUBSCRIPTION" => true,
        // `ALTER TABLE … DETACH PARTITION … CONCURRENTLY` too.
        "CREATE INDEX" | "DROP INDEX" | "ALTER TABLE" => c.any_word_at_depth("concurrently"),
        _ => false,
    };
    let class = class(kind, tag);
    if outside_transaction {
        non_transactional(class)
    } else {
        class
    }
}

/// INSERT INTO t, UPDATE [ONLY] t, DELETE FROM [ONLY] t, MERGE INTO [ONLY] t.
fn dml(c: &mut Cursor, verb: &str) -> Classification {
    c.next();
    c.eat_any(&["INTO", "FROM", "ONLY"]);
    let mut class = class(StatementKind::Dml, tag(&[verb]));
    class.writes.extend(c.name());
    class
}

/// TRUNCATE [TABLE] [ONLY] t [*] [, …]
fn truncate(c: &mut Cursor) -> Classification {
    c.next();
    c.eat("table");
    let mut class = class(StatementKind::Dml, "TRUNCATE");
    loop {
        c.eat("only");
        let Some(name) = c.name() else { break };
        class.writes.push(name);
        if c.peek().is_some_and(|t| c.text(t) == "*") {
            c.next();
        }
        if c.peek().is_some_and(|t| t.kind == TokenKind::Comma) {
            c.next();
        } else {
            break;
        }
    }
    class
}

/// COPY t [(cols)] FROM … writes t; COPY t TO … and COPY (query) TO … only read.
fn copy(c: &mut Cursor) -> Classification {
    c.next();
    let table = c.name();
    if c.peek().is_some_and(|t| t.kind == TokenKind::OpenParen) {
        c.next();
        c.close_group(1);
    }
    match table {
        Some(table) if c.peek_is("from") => {
            let mut class = class(StatementKind::Dml, "COPY");
            class.writes.push(table);
            class
        }
        _ => class(StatementKind::Select, "COPY"),
    }
}

/// SELECT reads, unless it is `SELECT … INTO [TEMP|UNLOGGED] [TABLE] t` before its FROM,
/// which creates and fills a table.
fn select(c: &mut Cursor) -> Classification {
    let depth = c.depth;
    while let Some(token) = c.next() {
        if c.depth != depth || token.kind != TokenKind::Word {
            continue;
        }
        if c.is_word(token, "into") {
            c.eat_any(&["TEMPORARY", "TEMP", "UNLOGGED", "TABLE"]);
            let mut class = class(StatementKind::Dml, "SELECT INTO");
            class.writes.extend(c.name());
            return class;
        }
        if [
            "from",
            "where",
            "union",
            "intersect",
            "except",
            "group",
            "order",
            "limit",
            "window",
        ]
        .iter()
        .any(|w| c.is_word(token, w))
        {
            break;
        }
    }
    class(StatementKind::Select, "SELECT")
}

/// `WITH [RECURSIVE] name [(cols)] AS [NOT] [MATERIALIZED] (body) [SEARCH …] [CYCLE …], …`
/// then the main statement. Bodies that write make the whole statement DML.
fn with(c: &mut Cursor) -> Classification {
    c.next();
    c.eat("recursive");
    let mut cte_writes = Vec::new();
    loop {
        if c.name().is_none() {
            break;
        }
        if c.peek().is_some_and(|t| t.kind == TokenKind::OpenParen) {
            c.next();
            c.close_group(1);
        }
        if !c.eat("as") {
            break;
        }
        c.eat_any(&["NOT", "MATERIALIZED"]);
        if !c.peek().is_some_and(|t| t.kind == TokenKind::OpenParen) {
            break;
        }
        c.next();
        if let Some(verb) = c.peek_word()
            && matches!(verb.as_str(), "INSERT" | "UPDATE" | "DELETE" | "MERGE")
        {
            cte_writes.extend(dml(c, verb.as_str()).writes);
        }
        c.close_group(1);
        // SEARCH/CYCLE clauses, up to the next CTE or the main statement.
        while let Some(token) = c.peek() {
            if token.kind == TokenKind::Comma
                || [
                    "SELECT", "INSERT", "UPDATE", "DELETE", "MERGE", "VALUES", "TABLE",
                ]
                .iter()
                .any(|w| c.peek_is(w))
                || token.kind == TokenKind::OpenParen
            {
                break;
            }
            c.next();
        }
        if c.peek().is_some_and(|t| t.kind == TokenKind::Comma) {
            c.next();
        } else {
            break;
        }
    }
    let mut class = statement(c);
    if !cte_writes.is_empty() {
        class.dml_in_cte = true;
        class.kind = StatementKind::Dml;
        cte_writes.append(&mut class.writes);
        class.writes = cte_writes;
    }
    class
}

#[cfg(test)]
mod tests {
    use crate::sql::split;

    fn summary(sql: &str) -> Vec<String> {
        split(sql)
            .unwrap()
            .statements
            .iter()
            .map(|s| {
                format!(
                    "{:<20} {:<19} tx={} writes={:?}{}",
                    s.tag,
                    s.kind.as_str(),
                    s.in_transaction,
                    s.writes,
                    if s.dml_in_cte { " (in CTE)" } else { "" }
                )
            })
            .collect()
    }

    #[test]
    fn kinds_tags_and_written_tables() {
        insta::assert_snapshot!(summary(
            "CREATE TABLE a (id int REFERENCES b ON DELETE CASCADE);
             CREATE UNIQUE INDEX CONCURRENTLY i ON a (id);
             CREATE INDEX j ON a (id);
             DROP INDEX CONCURRENTLY i;
             ALTER TABLE a ADD COLUMN x int;
             CREATE OR REPLACE FUNCTION f() RETURNS trigger AS $$ BEGIN INSERT INTO log VALUES (1); RETURN NEW; END $$ LANGUAGE plpgsql;
             CREATE TRIGGER t BEFORE INSERT OR UPDATE ON a FOR EACH ROW EXECUTE FUNCTION f();
             CREATE MATERIALIZED VIEW mv AS SELECT 1;
             INSERT INTO public.\"Leads\" VALUES (1);
             UPDATE ONLY leads SET x = 1;
             DELETE FROM call_log WHERE id = 1;
             MERGE INTO t USING s ON true WHEN MATCHED THEN DO NOTHING;
             TRUNCATE TABLE a, ONLY b *, c;
             COPY a (id) FROM '/tmp/a.csv';
             COPY (SELECT 1) TO stdout;
             COPY a TO stdout;
             SELECT * INTO TEMP copy_of FROM a;
             SELECT id FROM a FOR UPDATE;
             WITH moved AS (DELETE FROM a RETURNING *) INSERT INTO b SELECT * FROM moved;
             WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SEARCH DEPTH FIRST BY n SET o SELECT * FROM r;
             WITH u AS MATERIALIZED (UPDATE leads SET x = 2 RETURNING id) SELECT count(*) FROM u;
             (SELECT 1) UNION (SELECT 2);
             BEGIN;
             SAVEPOINT s;
             COMMIT;
             PREPARE TRANSACTION 'x';
             DO $$ BEGIN UPDATE leads SET x = 1; END $$;
             CALL p();
             VACUUM FULL a;
             REINDEX INDEX CONCURRENTLY i;
             REINDEX TABLE a;
             CLUSTER;
             CLUSTER a USING i;
             CREATE DATABASE d;
             ALTER SYSTEM SET work_mem = '1MB';
             ALTER TABLE p DETACH PARTITION c CONCURRENTLY;
             COMMENT ON TABLE a IS 'x; y';
             GRANT SELECT ON a TO r;
             SET lock_timeout = '5s';
             ALTER TYPE e ADD VALUE 'z';"
        )
        .join("\n"));
    }
}
