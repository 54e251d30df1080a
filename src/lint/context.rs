//! One SQL file as the rules see it: its statements, every token (comments included), its
//! phase and the settings, with the few derived facts several rules share.

use std::ops::Range;
use std::path::Path;
use std::sync::OnceLock;

use crate::config::Phase;
use crate::sql::{Lexer, SqlFile, Statement, Token, TokenKind};

use super::code::{Code, alter_table, created_table};
use super::settings::LintSettings;

pub struct FileContext<'a> {
    pub path: &'a Path,
    pub phase: Phase,
    pub src: &'a str,
    pub file: &'a SqlFile,
    pub settings: &'a LintSettings,
    /// Tables created by `CREATE TABLE`, in statement order: (statement, schema, name).
    created: OnceLock<Vec<(usize, Option<String>, String)>>,
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
        Code::new(self.src, &self.tokens_of(i))
    }

    /// Every comment of the file (none from `COPY … FROM stdin` data), in order.
    pub fn comments(&self) -> impl Iterator<Item = &'a Token> + use<'a> {
        self.file.comments.iter()
    }

    /// Whether `table` was created by a statement of this file before statement `i`: lock
    /// hazards on a table nobody else can see yet are not hazards.
    pub fn created_before(&self, i: usize, table: &str) -> bool {
        let created = self.created.get_or_init(|| {
            self.statements()
                .filter(|(_, s)| s.tag == "CREATE TABLE")
                .filter_map(|(n, _)| {
                    let name = created_table(&self.code(n))?;
                    Some(match name.rsplit_once('.') {
                        Some((schema, name)) => (n, Some(schema.to_owned()), name.to_owned()),
                        None => (n, None, name),
                    })
                })
                .collect()
        });
        let (schema, name) = match table.rsplit_once('.') {
            Some((schema, name)) => (Some(schema), name),
            None => (None, table),
        };
        // Unqualified on either side: the search path may resolve it to the same table.
        created
            .iter()
            .take_while(|(n, _, _)| *n < i)
            .any(|(_, s, n)| {
                n == name && (s.is_none() || schema.is_none() || s.as_deref() == schema)
            })
    }

    /// Every `ALTER TABLE` of a table this file did not create, with its statement and its
    /// actions, for the lock-hazard rules (built once, shared by them).
    pub fn table_alters(&self) -> &[(usize, AlterTable<'a>)] {
        self.alters.get_or_init(|| {
            self.statements()
                .filter(|(_, s)| s.tag == "ALTER TABLE")
                .filter_map(|(i, _)| {
                    let code = self.code(i);
                    let (table, actions) = alter_table(&code)?;
                    (!self.created_before(i, &table)).then_some((
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
    pub table: String,
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
    fn literal_bodies_lose_their_quotes() {
        assert_eq!(
            literal_text("$f$ body $f$", TokenKind::DollarString),
            " body "
        );
        assert_eq!(literal_text("$$x$$", TokenKind::DollarString), "x");
        assert_eq!(literal_text("E'a''b'", TokenKind::String), "a''b");
    }
}
