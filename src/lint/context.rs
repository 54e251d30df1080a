//! One SQL file as the rules see it: its statements, every token (comments included), its
//! phase and the settings, with the few derived facts several rules share.

use std::borrow::Cow;
use std::ops::Range;
use std::path::Path;
use std::sync::OnceLock;

use crate::config::Phase;
use crate::sql::names::{split_schema, table_after};
use crate::sql::{Lexer, SqlFile, Statement, Token, TokenKind};

use super::code::{Code, alter_table};
use super::settings::LintSettings;

/// A table created by a `CREATE TABLE` of the file.
struct CreatedTable<'a> {
    /// `name_key` of the unqualified name: the list is sorted and searched by it.
    key: u64,
    statement: usize,
    /// Folded, as written: `t` or `s.t` (mostly the file's own bytes).
    qualified: Cow<'a, str>,
    /// Where the unqualified name starts in `qualified`.
    name_at: usize,
}

impl CreatedTable<'_> {
    fn name(&self) -> &str {
        &self.qualified[self.name_at..]
    }

    fn schema(&self) -> Option<&str> {
        self.name_at
            .checked_sub(1)
            .map(|dot| &self.qualified[..dot])
    }
}

/// A hash of a table name (FxHash's step, a byte at a time: names are short). The created
/// tables are sorted and searched by it: comparing names as strings took a `memcmp` call
/// per comparison, and the regression files that create a hundred tables each made the
/// sort and the lookups 5% of a lint run.
fn name_key(name: &str) -> u64 {
    name.bytes().fold(name.len() as u64, |h, b| {
        (h.rotate_left(5) ^ u64::from(b)).wrapping_mul(0x517c_c1b7_2722_0a95)
    })
}

pub struct FileContext<'a> {
    pub path: &'a Path,
    pub phase: Phase,
    pub src: &'a str,
    pub file: &'a SqlFile,
    pub settings: &'a LintSettings,
    /// Tables created by `CREATE TABLE`, sorted by the name's key, then statement: every
    /// `ALTER TABLE`, `DROP TABLE` and `CREATE INDEX` asks, and a binary search over a list
    /// built once costs less than a map of names.
    created: OnceLock<Vec<CreatedTable<'a>>>,
    alters: OnceLock<Vec<(usize, AlterTable<'a>)>>,
}

impl<'a> FileContext<'a> {
    pub fn new(
        path: &'a Path,
        phase: Phase,
        src: &'a str,
        file: &'a SqlFile,
        settings: &'a LintSettings,
    ) -> Self {
        FileContext {
            path,
            phase,
            src,
            file,
            settings,
            created: OnceLock::new(),
            alters: OnceLock::new(),
        }
    }

    pub fn statements(&self) -> impl Iterator<Item = (usize, &'a Statement)> + use<'a> {
        self.file.statements.iter().enumerate()
    }

    /// The tokens of statement `i`, comments inside it included. Lexed on demand: most
    /// rules read only the statement kinds the splitter gives, so most statements are
    /// never lexed a second time.
    pub fn tokens_of(&self, i: usize) -> Vec<Token> {
        let s = &self.file.statements[i];
        // The splitter lexed this span without error, so lexing it again cannot fail.
        Lexer::at(&self.src.as_bytes()[..s.end], s.start)
            .map_while(Result::ok)
            .collect()
    }

    /// Statement `i`'s significant tokens.
    pub fn code(&self, i: usize) -> Code<'a> {
        Code::lex(self.src, self.span_of(i))
    }

    /// Statement `i`'s leading significant tokens up to its first `(`, at most `limit`:
    /// enough for rules that read only its head (`CREATE TABLE name`), without lexing a
    /// column list or a long body.
    pub fn code_head(&self, i: usize, limit: usize) -> Code<'a> {
        Code::lex_head(self.src, self.span_of(i), limit)
    }

    /// Whether statement `i`'s bytes contain `word` (ASCII letters, at least four) in any
    /// case: a cheap filter before lexing the statement for a keyword a rule needs. It
    /// also matches inside literals, comments and longer words, so a hit proves nothing.
    pub fn may_contain(&self, i: usize, word: &[u8]) -> bool {
        let span = self.span_of(i);
        crate::sql::find::contains_ignoring_ascii_case(&self.src.as_bytes()[span], word)
    }

    /// Whether the file's bytes contain `word` in any case (a cheap filter, like
    /// `may_contain`, for rules that read a kind of statement only when it is there).
    pub fn may_contain_anywhere(&self, word: &[u8]) -> bool {
        crate::sql::find::contains_ignoring_ascii_case(self.src.as_bytes(), word)
    }

    /// Every comment of the file (none from `COPY … FROM stdin` data), in order.
    pub fn comments(&self) -> impl Iterator<Item = &'a Token> + use<'a> {
        self.file.comments.iter()
    }

    /// Whether `table` was created by a statement of this file before statement `i`: lock
    /// hazards on a table nobody else can see yet are not hazards.
    pub fn created_before(&self, i: usize, table: &str) -> bool {
        let created = self.created.get_or_init(|| {
            let mut created = Vec::new();
            for (n, s) in self.statements() {
                // Read from where the splitter's classifier stopped, not lexed again from
                // the statement's start.
                let Some(qualified) = self.table_of(s, "CREATE TABLE") else {
                    continue;
                };
                let name_at = split_schema(&qualified)
                    .0
                    .map_or(0, |schema| schema.len() + 1);
                created.push(CreatedTable {
                    key: name_key(&qualified[name_at..]),
                    statement: n,
                    qualified,
                    name_at,
                });
            }
            // Entries of one key in statement order, which the lookup relies on.
            created.sort_unstable_by_key(|c| (c.key, c.statement));
            created
        });
        let (schema, name) = split_schema(table);
        let key = name_key(name);
        let first = created.partition_point(|c| c.key < key);
        // Unqualified on either side: the search path may resolve it to the same table.
        created[first..]
            .iter()
            .take_while(|c| c.key == key && c.statement < i)
            .any(|c| {
                c.name() == name
                    && (c.schema().is_none() || schema.is_none() || c.schema() == schema)
            })
    }

    /// Every `ALTER TABLE` of a table this file did not create, with its statement and its
    /// actions, for the lock-hazard rules (built once, shared by them).
    pub fn table_alters(&self) -> &[(usize, AlterTable<'a>)] {
        self.alters.get_or_init(|| {
            self.statements()
                .filter(|(_, s)| s.tag == "ALTER TABLE")
                .filter_map(|(i, s)| {
                    // Tables this file created are skipped before their statements are
                    // lexed again (in PostgreSQL's regression SQL, most are).
                    let table = self.table_of(s, "ALTER TABLE")?;
                    if self.created_before(i, &table) {
                        return None;
                    }
                    let code = self.code(i);
                    let (_, actions) = alter_table(&code)?;
                    Some((
                        i,
                        AlterTable {
                            table,
                            code,
                            actions,
                        },
                    ))
                })
                .collect()
        })
    }

    /// For a statement tagged `tag` (`CREATE TABLE`, `ALTER TABLE`), the table it names.
    fn table_of(&self, s: &Statement, tag: &str) -> Option<Cow<'a, str>> {
        if s.tag != tag {
            return None;
        }
        table_after(self.src, s.head_end()?, s.end)
    }

    /// The statement's span, for findings about the whole statement.
    pub fn span_of(&self, i: usize) -> Range<usize> {
        let s = &self.file.statements[i];
        s.start..s.end
    }

    /// The literal text of a string or dollar-quoted token (quotes and tags removed).
    pub fn literal(&self, token: &Token) -> &'a str {
        literal_text(token.text(self.src), token.kind)
    }
}

/// `ALTER TABLE` of an existing table, split into its actions.
pub struct AlterTable<'a> {
    pub table: Cow<'a, str>,
    pub code: Code<'a>,
    /// Token ranges in `code`, one per comma-separated action.
    pub actions: Vec<Range<usize>>,
}

/// A string or dollar-quoted literal's content: `'a''b'` → `a''b` (doubled quotes kept:
/// the text is scanned, never executed), `$f$…$f$` → `…`.
pub fn literal_text(text: &str, kind: TokenKind) -> &str {
    match kind {
        TokenKind::DollarString => {
            let tag_end = text[1..].find('$').map_or(text.len(), |n| n + 2);
            let tag_len = tag_end;
            if text.len() >= 2 * tag_len {
                &text[tag_len..text.len() - tag_len]
            } else {
                ""
            }
        }
        TokenKind::String => {
            let open = text.find('\'').map_or(0, |n| n + 1);
            let close = text.rfind('\'').unwrap_or(text.len()).max(open);
            &text[open..close]
        }
        _ => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_before_matches_name_schema_and_order() {
        let sql = "CREATE TABLE b (x int);\nALTER TABLE a ADD y int;\nCREATE TABLE s.a (x int);\n\
                   CREATE TEMP TABLE IF NOT EXISTS \"Q\".\"C\" (x int);\nCREATE TABLE aa (x int);\nSELECT 1;\n";
        let file = crate::sql::split(sql).unwrap();
        let settings = crate::lint::test_utils::settings();
        let context = FileContext::new(Path::new("f.sql"), Phase::Ddl, sql, &file, &settings);
        let last = file.statements.len() - 1;
        // Only statements before `i` count: `a` is created by statement 2.
        assert!(!context.created_before(1, "a"));
        assert!(!context.created_before(2, "a"));
        assert!(context.created_before(3, "a"));
        // Schemas must agree when both sides name one; unqualified matches either.
        assert!(context.created_before(last, "s.a"));
        assert!(!context.created_before(last, "t.a"));
        assert!(context.created_before(last, "b"));
        assert!(context.created_before(last, "public.b"));
        // Quoted names keep their case; a name that is only a prefix of another is not it.
        assert!(context.created_before(last, "Q.C"));
        assert!(!context.created_before(last, "c"));
        assert!(context.created_before(last, "aa"));
        assert!(!context.created_before(last, "z"));
    }

    #[test]
    fn literal_bodies_lose_their_quotes() {
        assert_eq!(
            literal_text("$f$ body $f$", TokenKind::DollarString),
            " body "
        );
        assert_eq!(literal_text("$$x$$", TokenKind::DollarString), "x");
        assert_eq!(literal_text("E'a''b'", TokenKind::String), "a''b");
    }
}
