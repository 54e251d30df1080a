//! What a statement does, read from its leading keywords: its kind, its command tag, the
//! tables its own DML writes (also through `WITH`), and whether it may run inside a
//! transaction block. Only the statement's tokens are read, never its literals or
//! comments, so `ON DELETE CASCADE` or an `INSERT` in a function body is not DML.

use std::borrow::Cow;

use super::keywords::{Key, NONE, key_at, kw, object_tag, takes_second_word};
use super::lexer::{Lexer, Token, TokenKind};
use super::statement::StatementKind;

pub(crate) struct Classification {
    pub kind: StatementKind,
    pub tag: Cow<'static, str>,
    pub writes: Vec<String>,
    pub dml_in_cte: bool,
    pub in_transaction: bool,
    pub head_end: Option<usize>,
}

/// Classifies one statement. `tokens` holds its leading significant tokens, collected by
/// the splitter; beyond them the statement is lexed lazily from `resume` to `end`, only as
/// far as the classifier reads. `verb`: the key of the first token, if the splitter has it.
pub(crate) fn classify(
    src: &str,
    tokens: &mut Vec<Token>,
    verb: Option<Key>,
    resume: usize,
    end: usize,
) -> Classification {
    let lexer = Lexer::at(&src.as_bytes()[..end], resume);
    let mut cursor = Cursor {
        src,
        tokens,
        lexer,
        end,
        peeked_key: verb.map(|key| (0, key)),
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
struct Cursor<'a, 'b> {
    src: &'a str,
    tokens: &'b mut Vec<Token>,
    /// Lexes the rest of the statement on demand (the range was lexed without error).
    lexer: Lexer<'a>,
    /// End of the statement's last token.
    end: usize,
    /// The key of the token at `.0`.
    peeked_key: Option<(usize, Key)>,
    at: usize,
    depth: u32,
}

impl<'a> Cursor<'a, '_> {
    #[inline(always)]
    fn peek(&mut self) -> Option<Token> {
        match self.tokens.get(self.at) {
            Some(&token) => Some(token),
            None => self.fetch(),
        }
    }

    /// Lexes the next significant token and appends it to `tokens`.
    #[inline(never)]
    fn fetch(&mut self) -> Option<Token> {
        let token = match self.lexer.next_simple() {
            Some(token) => token,
            None => self.fetch_lexed()?,
        };
        self.tokens.push(token);
        Some(token)
    }

    /// `fetch` through the full lexer: literals, numbers, operators, comments… (about one
    /// fetch in five in PostgreSQL's regression SQL).
    fn fetch_lexed(&mut self) -> Option<Token> {
        loop {
            // The range was lexed without error before, so `Err` cannot occur.
            let token = self.lexer.next()?.ok()?;
            // psql meta-commands (`\:`) are not part of the statement's tokens either.
            if !token.kind.is_comment() && token.kind != TokenKind::MetaCommand {
                return Some(token);
            }
        }
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

    fn key(&self, token: Token) -> Key {
        if token.kind == TokenKind::Word {
            key_at(self.src.as_bytes(), token.start, token.end)
        } else {
            NONE
        }
    }

    /// The keyword key of the next token (`NONE` if it is not a word or no keyword),
    /// remembered: the same token is often asked about several times.
    fn peek_key(&mut self) -> Key {
        if let Some((at, key)) = self.peeked_key
            && at == self.at
        {
            return key;
        }
        let key = self.peek().map_or(NONE, |t| self.key(t));
        self.peeked_key = Some((self.at, key));
        key
    }

    /// Consumes the next token if it is the keyword `key`.
    fn eat(&mut self, key: Key) -> bool {
        let hit = self.peek_key() == key;
        if hit {
            self.next();
        }
        hit
    }

    /// Consumes words while they are in `keys`.
    fn eat_any(&mut self, keys: &[Key]) {
        while keys.contains(&self.peek_key()) {
            self.next();
        }
    }

    /// Consumes tokens until the depth drops below `depth` (the matching `)` included).
    fn close_group(&mut self, depth: u32) {
        // Tokens already read ahead go through the cursor; the rest of the group is only
        // counted, not collected (CTE bodies are long, and nothing in them is asked for).
        while self.depth >= depth && self.at < self.tokens.len() {
            self.next();
        }
        while self.depth >= depth {
            let Some(Ok(token)) = self.lexer.next() else {
                return;
            };
            match token.kind {
                TokenKind::OpenParen => self.depth += 1,
                TokenKind::CloseParen => self.depth = self.depth.saturating_sub(1),
                _ => {}
            }
        }
    }

    /// Reads a possibly qualified name (`a`, `s.a`, `"S"."a"`): unquoted parts lower-cased.
    fn name(&mut self) -> Option<String> {
        let mut name = String::with_capacity(24);
        loop {
            let token = self.peek()?;
            if !super::names::push_part(&mut name, token, self.src) {
                break;
            }
            self.next();
            if self.dot_next() {
                self.next();
                name.push('.');
            } else {
                break;
            }
        }
        (!name.is_empty()).then_some(name)
    }

    /// Whether the next token is `.`. Past the tokens read so far, the next byte decides
    /// without lexing unless it may start a dot, a comment or a meta-command: a name is
    /// mostly followed by a space and a word or `(`, which nobody reads.
    fn dot_next(&mut self) -> bool {
        if self.at >= self.tokens.len()
            && !matches!(self.lexer.next_byte(), Some(b'.' | b'-' | b'/' | b'\\'))
        {
            return false;
        }
        self.peek().is_some_and(|t| t.kind == TokenKind::Dot)
    }

    /// Whether the statement's bytes contain `word` in any case: a cheap filter (it also
    /// matches inside literals and longer words) before a token scan.
    fn may_contain(&self, word: &[u8]) -> bool {
        let Some(first) = self.tokens.first() else {
            return false;
        };
        super::find::contains_ignoring_ascii_case(&self.src.as_bytes()[first.start..self.end], word)
    }

    /// True if the keyword `key` appears before the statement ends, not followed by
    /// `false`, `off` or `0` (`REINDEX (CONCURRENTLY false)`; consumes the rest).
    fn any_word_not_negated(&mut self, key: Key) -> bool {
        while let Some(token) = self.next() {
            if self.key(token) == key {
                let negated = self.peek().is_some_and(|t| {
                    ["false", "off", "0"]
                        .iter()
                        .any(|w| self.text(t).eq_ignore_ascii_case(w))
                });
                if !negated {
                    return true;
                }
            }
        }
        false
    }

    /// True if the keyword `key` appears at the current depth before the statement ends
    /// (consumes the rest of the statement).
    fn any_word_at_depth(&mut self, key: Key) -> bool {
        let depth = self.depth;
        while let Some(token) = self.next() {
            if self.depth == depth && self.key(token) == key {
                return true;
            }
        }
        false
    }
}

fn class(kind: StatementKind, tag: impl Into<Cow<'static, str>>) -> Classification {
    Classification {
        kind,
        tag: tag.into(),
        writes: Vec::new(),
        dml_in_cte: false,
        in_transaction: kind != StatementKind::TransactionControl,
        head_end: None,
    }
}

fn non_transactional(mut class: Classification) -> Classification {
    class.in_transaction = false;
    class
}

const SELECT: Key = kw("SELECT");
const VALUES: Key = kw("VALUES");
const TABLE: Key = kw("TABLE");
const WITH: Key = kw("WITH");
const INSERT: Key = kw("INSERT");
const UPDATE: Key = kw("UPDATE");
const DELETE: Key = kw("DELETE");
const MERGE: Key = kw("MERGE");
const TRUNCATE: Key = kw("TRUNCATE");
const COPY: Key = kw("COPY");
const CREATE: Key = kw("CREATE");
const ALTER: Key = kw("ALTER");
const DROP: Key = kw("DROP");
const CONCURRENTLY: Key = kw("CONCURRENTLY");
const INTO: Key = kw("INTO");
const INDEX: Key = kw("INDEX");
const SYSTEM: Key = kw("SYSTEM");
const DATABASE: Key = kw("DATABASE");
const TABLESPACE: Key = kw("TABLESPACE");
const SUBSCRIPTION: Key = kw("SUBSCRIPTION");
const ABORT: Key = kw("ABORT");
const ANALYZE: Key = kw("ANALYZE");
const ANALYSE: Key = kw("ANALYSE");
const BEGIN: Key = kw("BEGIN");
const CALL: Key = kw("CALL");
const CLUSTER: Key = kw("CLUSTER");
const COMMENT: Key = kw("COMMENT");
const COMMIT: Key = kw("COMMIT");
const DO: Key = kw("DO");
const END: Key = kw("END");
const EXPLAIN: Key = kw("EXPLAIN");
const GRANT: Key = kw("GRANT");
const IMPORT: Key = kw("IMPORT");
const LOCK: Key = kw("LOCK");
const PREPARE: Key = kw("PREPARE");
const REASSIGN: Key = kw("REASSIGN");
const REINDEX: Key = kw("REINDEX");
const RELEASE: Key = kw("RELEASE");
const RESET: Key = kw("RESET");
const REVOKE: Key = kw("REVOKE");
const ROLLBACK: Key = kw("ROLLBACK");
const SAVEPOINT: Key = kw("SAVEPOINT");
const SECURITY: Key = kw("SECURITY");
const SET: Key = kw("SET");
const SHOW: Key = kw("SHOW");
const START: Key = kw("START");
const VACUUM: Key = kw("VACUUM");

fn statement(c: &mut Cursor<'_, '_>) -> Classification {
    use StatementKind::{Ddl, Procedural, TransactionControl, Utility};
    let Some(first) = c.peek() else {
        return class(Utility, "");
    };
    if first.kind == TokenKind::OpenParen {
        return select(c);
    }
    let verb = c.peek_key();
    let tx_control = |tag: &'static str, in_transaction: bool| {
        let mut class = class(TransactionControl, tag);
        class.in_transaction = in_transaction;
        class
    };
    match verb {
        SELECT => select(c),
        VALUES => class(StatementKind::Select, "VALUES"),
        TABLE => class(StatementKind::Select, "TABLE"),
        WITH => with(c),
        INSERT => dml(c, "INSERT"),
        UPDATE => dml(c, "UPDATE"),
        DELETE => dml(c, "DELETE"),
        MERGE => dml(c, "MERGE"),
        TRUNCATE => truncate(c),
        COPY => copy(c),
        CREATE | ALTER | DROP => object_command(c, verb),
        GRANT => class(Ddl, "GRANT"),
        REVOKE => class(Ddl, "REVOKE"),
        COMMENT => class(Ddl, "COMMENT ON"),
        SECURITY => class(Ddl, "SECURITY LABEL"),
        IMPORT => class(Ddl, "IMPORT FOREIGN SCHEMA"),
        REASSIGN => class(Ddl, "REASSIGN OWNED"),
        BEGIN => tx_control("BEGIN", false),
        START => tx_control("START TRANSACTION", false),
        COMMIT => tx_control("COMMIT", false),
        END => tx_control("END", false),
        ROLLBACK => tx_control("ROLLBACK", false),
        ABORT => tx_control("ABORT", false),
        // SAVEPOINT and RELEASE only make sense inside a transaction block.
        SAVEPOINT => tx_control("SAVEPOINT", true),
        RELEASE => tx_control("RELEASE", true),
        PREPARE => {
            c.next();
            if c.peek_key() == kw("TRANSACTION") {
                tx_control("PREPARE TRANSACTION", false)
            } else {
                class(Utility, "PREPARE")
            }
        }
        DO => class(Procedural, "DO"),
        CALL => class(Procedural, "CALL"),
        VACUUM => non_transactional(class(Utility, "VACUUM")),
        REINDEX => {
            c.next();
            let whole = [kw("SCHEMA"), kw("DATABASE"), kw("SYSTEM")].contains(&c.peek_key());
            // `REINDEX INDEX CONCURRENTLY i` or `REINDEX (CONCURRENTLY) INDEX i`.
            let concurrent = c.may_contain(b"concurrently") && c.any_word_not_negated(CONCURRENTLY);
            let class = class(Utility, "REINDEX");
            if whole || concurrent {
                non_transactional(class)
            } else {
                class
            }
        }
        CLUSTER => {
            c.next();
            c.eat(kw("VERBOSE"));
            // Without a table, CLUSTER reclusters every table and refuses a transaction block.
            let class = class(Utility, "CLUSTER");
            if c.peek().is_none() {
                non_transactional(class)
            } else {
                class
            }
        }
        ANALYZE | ANALYSE => class(Utility, "ANALYZE"),
        SET => class(Utility, "SET"),
        RESET => class(Utility, "RESET"),
        SHOW => class(Utility, "SHOW"),
        EXPLAIN => class(Utility, "EXPLAIN"),
        LOCK => class(Utility, "LOCK"),
        _ => class(Utility, c.text(first).to_ascii_uppercase()),
    }
}

const CREATE_MODIFIERS: &[Key] = &[
    kw("OR"),
    kw("REPLACE"),
    kw("UNIQUE"),
    kw("GLOBAL"),
    kw("LOCAL"),
    kw("TEMP"),
    kw("TEMPORARY"),
    kw("UNLOGGED"),
    kw("RECURSIVE"),
    kw("TRUSTED"),
    kw("PROCEDURAL"),
    kw("CONSTRAINT"),
];

fn object_command(c: &mut Cursor<'_, '_>, verb: Key) -> Classification {
    let verb_token = c.next().expect("the verb was peeked");
    if verb == CREATE {
        c.eat_any(CREATE_MODIFIERS);
    }
    let object_token = c.peek();
    let object = c.peek_key();
    c.next();
    let mut head_end = object_token.map(|t| t.end);
    let mut second = 0;
    if takes_second_word(object) && c.peek_key() != NONE {
        second = c.peek_key();
        head_end = c.next().map(|t| t.end);
    }
    let tag: Cow<'static, str> = match object_tag(verb, object, second) {
        Some(tag) => Cow::Borrowed(tag),
        None => {
            let object_text = object_token.map_or("", |t| c.text(t));
            Cow::Owned(format!("{} {}", c.text(verb_token), object_text).to_ascii_uppercase())
        }
    };
    // Decided on keys, not on the tag's text.
    let single = second == 0;
    let kind = match (verb, object) {
        (CREATE, INDEX) if single => StatementKind::Index,
        (ALTER, SYSTEM) => StatementKind::Utility,
        _ => StatementKind::Ddl,
    };
    let outside_transaction = match (verb, object) {
        (CREATE | DROP, DATABASE | TABLESPACE | SUBSCRIPTION) | (ALTER, SYSTEM) => true,
        // `CREATE [UNIQUE] INDEX CONCURRENTLY …`, `DROP INDEX CONCURRENTLY …`.
        (CREATE | DROP, INDEX) => c.peek_key() == CONCURRENTLY,
        // `ALTER TABLE … DETACH PARTITION … CONCURRENTLY`.
        (ALTER, TABLE) => c.may_contain(b"concurrently") && c.any_word_at_depth(CONCURRENTLY),
        _ => false,
    };
    let mut class = class(kind, tag);
    class.head_end = head_end;
    if outside_transaction {
        non_transactional(class)
    } else {
        class
    }
}

/// INSERT INTO t, UPDATE [ONLY] t, DELETE FROM [ONLY] t, MERGE INTO [ONLY] t.
fn dml(c: &mut Cursor<'_, '_>, verb: &'static str) -> Classification {
    c.next();
    c.eat_any(&[INTO, kw("FROM"), kw("ONLY")]);
    let mut class = class(StatementKind::Dml, verb);
    // One exact allocation: `extend` from an `Option` went through the general growth path.
    if let Some(table) = c.name() {
        class.writes = vec![table];
    }
    class
}

/// TRUNCATE [TABLE] [ONLY] t [*] [, …]
fn truncate(c: &mut Cursor<'_, '_>) -> Classification {
    c.next();
    c.eat(TABLE);
    let mut class = class(StatementKind::Dml, "TRUNCATE");
    loop {
        c.eat(kw("ONLY"));
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
fn copy(c: &mut Cursor<'_, '_>) -> Classification {
    c.next();
    let table = c.name();
    if c.peek().is_some_and(|t| t.kind == TokenKind::OpenParen) {
        c.next();
        c.close_group(1);
    }
    match table {
        Some(table) if c.peek_key() == kw("FROM") => {
            let mut class = class(StatementKind::Dml, "COPY");
            class.writes.push(table);
            class
        }
        _ => class(StatementKind::Select, "COPY"),
    }
}

/// Words that end a SELECT's target list: an `INTO` after them is not `SELECT … INTO`.
const SELECT_LIST_END: &[Key] = &[
    kw("FROM"),
    kw("WHERE"),
    kw("UNION"),
    kw("INTERSECT"),
    kw("EXCEPT"),
    kw("GROUP"),
    kw("ORDER"),
    kw("LIMIT"),
    kw("WINDOW"),
];

/// SELECT reads, unless it is `SELECT … INTO [TEMP|UNLOGGED] [TABLE] t` before its FROM,
/// which creates and fills a table.
fn select(c: &mut Cursor<'_, '_>) -> Classification {
    if !c.may_contain(b"into") {
        return class(StatementKind::Select, "SELECT");
    }
    let depth = c.depth;
    while let Some(token) = c.next() {
        if c.depth != depth || token.kind != TokenKind::Word {
            continue;
        }
        let key = c.key(token);
        if key == INTO {
            c.eat_any(&[kw("TEMPORARY"), kw("TEMP"), kw("UNLOGGED"), TABLE]);
            let mut class = class(StatementKind::Dml, "SELECT INTO");
            class.writes.extend(c.name());
            return class;
        }
        if SELECT_LIST_END.contains(&key) {
            break;
        }
    }
    class(StatementKind::Select, "SELECT")
}

/// Words that start the main statement after the CTEs.
const MAIN_STATEMENT: &[Key] = &[SELECT, INSERT, UPDATE, DELETE, MERGE, VALUES, TABLE];

/// `WITH [RECURSIVE] name [(cols)] AS [NOT] [MATERIALIZED] (body) [SEARCH …] [CYCLE …], …`
/// then the main statement. Bodies that write make the whole statement DML.
fn with(c: &mut Cursor<'_, '_>) -> Classification {
    c.next();
    c.eat(kw("RECURSIVE"));
    let mut cte_writes = Vec::new();
    loop {
        if c.name().is_none() {
            break;
        }
        if c.peek().is_some_and(|t| t.kind == TokenKind::OpenParen) {
            c.next();
            c.close_group(1);
        }
        if !c.eat(kw("AS")) {
            break;
        }
        c.eat_any(&[kw("NOT"), kw("MATERIALIZED")]);
        if !c.peek().is_some_and(|t| t.kind == TokenKind::OpenParen) {
            break;
        }
        c.next();
        let body_verb = match c.peek_key() {
            INSERT => Some("INSERT"),
            UPDATE => Some("UPDATE"),
            DELETE => Some("DELETE"),
            MERGE => Some("MERGE"),
            _ => None,
        };
        if let Some(verb) = body_verb {
            cte_writes.extend(dml(c, verb).writes);
        }
        c.close_group(1);
        // SEARCH/CYCLE clauses, up to the next CTE or the main statement.
        while let Some(token) = c.peek() {
            if matches!(token.kind, TokenKind::Comma | TokenKind::OpenParen)
                || MAIN_STATEMENT.contains(&c.peek_key())
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
    fn object_commands_mark_where_their_head_ends() {
        let sql = "CREATE UNLOGGED TABLE IF NOT EXISTS s.t (a int);\n\
                   ALTER /* c */ TABLE ONLY t ADD c int;\n\
                   CREATE MATERIALIZED VIEW mv AS SELECT 1;\n\
                   SELECT 1;";
        let heads: Vec<Option<&str>> = split(sql)
            .unwrap()
            .statements
            .iter()
            .map(|s| s.head_end().map(|end| &sql[s.start..end]))
            .collect();
        assert_eq!(
            heads,
            [
                Some("CREATE UNLOGGED TABLE"),
                Some("ALTER /* c */ TABLE"),
                Some("CREATE MATERIALIZED VIEW"),
                None
            ]
        );
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
