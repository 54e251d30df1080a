//! Splits a SQL file into statements where PostgreSQL's parser would: at top-level `;`,
//! not inside parentheses (`CREATE RULE … DO (…; …)`) and not inside the `BEGIN ATOMIC …
//! END` body of a SQL-standard function.
//!
//! psql recognises those bodies with a heuristic (psqlscan.l counts every `begin`, `case`
//! and `end` word after `CREATE [OR REPLACE] FUNCTION|PROCEDURE`), which mis-splits a body
//! that names a column `end` (`SELECT t.end`, `AS end`). Here `begin` only opens a body
//! when `atomic` follows it, and `end`/`case` after `.` or `AS` are names, which is how the
//! grammar reads them.

use std::cell::Cell;

use memchr::memchr;

use crate::speed::scratch::{reserve_empty, worth_keeping};

use super::classify::classify;
use super::keywords::{Key, key_at, kw};
use super::lexer::{LexError, Lexer, Token, TokenKind};
use super::lines::LineCounter;
use super::skim::{BYTES, Found, Stop, Window, skim_with};
use super::statement::{Param, PsqlSyntax, PsqlSyntaxKind, Statement};

/// Everything found in one source text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SqlFile {
    pub statements: Vec<Statement>,
    /// psql meta-commands and `COPY … FROM stdin` data, in order.
    pub psql: Vec<PsqlSyntax>,
    /// Every comment outside `COPY … FROM stdin` data, in order (the linter reads allow
    /// comments and comment rules from these without lexing the file again).
    pub comments: Vec<Token>,
    /// Every string and dollar-quoted literal, in order (custom lint patterns are matched
    /// with these and the comments blanked).
    pub literals: Vec<Token>,
}

/// Splits `src` into statements. Fails only on a string, quoted identifier, dollar quote
/// or block comment that is never closed.
pub fn split(src: &str) -> Result<SqlFile, LexError> {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2")
            && std::arch::is_x86_feature_detected!("popcnt")
            && std::arch::is_x86_feature_detected!("bmi1")
        {
            // SAFETY: the CPU has AVX2, POPCNT and BMI1 (checked just above).
            return unsafe { simd::split_avx2(src) };
        }
        if std::arch::is_x86_feature_detected!("ssse3") {
            // SAFETY: the CPU has SSSE3 (checked just above).
            return unsafe { simd::split_ssse3(src) };
        }
    }
    split_with::<BYTES>(src, true)
}

/// `split_with` compiled for the vector instructions the skim classifies bytes with.
#[cfg(target_arch = "x86_64")]
mod simd {
    use super::super::skim::{AVX2, SSSE3};
    use super::{LexError, SqlFile, split_with};

    /// # Safety
    /// The CPU must support AVX2, POPCNT and BMI1 (every CPU with AVX2 has the other two;
    /// the window counts parentheses with them).
    #[target_feature(enable = "avx2,popcnt,bmi1")]
    pub(super) unsafe fn split_avx2(src: &str) -> Result<SqlFile, LexError> {
        split_with::<AVX2>(src, true)
    }

    /// # Safety
    /// The CPU must support SSSE3.
    #[target_feature(enable = "ssse3")]
    pub(super) unsafe fn split_ssse3(src: &str) -> Result<SqlFile, LexError> {
        split_with::<SSSE3>(src, true)
    }
}

thread_local! {
    /// The lists of a split handed back by `recycle`, empty, for the next split on this
    /// thread to fill, and the classifier's token buffer (see `crate::speed::scratch`).
    static SPARE: Cell<(SqlFile, Vec<Token>)> = Cell::default();
}

/// Hands `file`'s lists back, emptied, for the next split on this thread to fill instead of
/// allocating its own (see `crate::speed::scratch`).
pub fn recycle(mut file: SqlFile) {
    if !worth_keeping(&file.statements) {
        return;
    }
    file.statements.clear();
    file.psql.clear();
    file.comments.clear();
    file.literals.clear();
    SPARE.with(|spare| {
        let (_, tokens) = spare.take();
        spare.set((file, tokens));
    });
}

/// The same split taking the token path everywhere (no skimming): the reference the fast
/// path is tested against.
#[doc(hidden)]
pub fn split_by_tokens(src: &str) -> Result<SqlFile, LexError> {
    split_with::<BYTES>(src, false)
}

/// The split, skimming each statement past its first word (classifying bytes at `LEVEL`)
/// or, for the reference, taking tokens everywhere.
#[inline(always)]
fn split_with<const LEVEL: u8>(src: &str, skimming: bool) -> Result<SqlFile, LexError> {
    let bytes = src.as_bytes();
    // The lists of an earlier split, when one was recycled (empty).
    let (mut out, mut tokens) = SPARE.with(Cell::take);
    debug_assert!(out == SqlFile::default() && tokens.is_empty());
    let mut lines = LineCounter::new(bytes);
    let mut lexer = Lexer::new(bytes);
    let mut current = Pending::default();
    // The current statement's significant tokens, for the classifier; reused.
    tokens.reserve(256);
    let mut window = Window::new();
    // Sized for the densest files of PostgreSQL's own regression SQL (a statement every
    // 35 bytes; on average one every 90, a literal every 130, a comment every 230), so that
    // the lists are seldom grown by copying. Capacity never used costs address space only:
    // pages are touched as the lists fill. (With transparent huge pages, whole 2 MiB pages
    // were zeroed up front, and this measured no faster than regrowing.)
    reserve_empty(&mut out.statements, src.len() / 32 + 1);
    reserve_empty(&mut out.literals, src.len() / 48 + 1);
    reserve_empty(&mut out.comments, src.len() / 96 + 1);
    while let Some(token) = lexer.next() {
        let token = token?;
        match token.kind {
            TokenKind::LineComment | TokenKind::BlockComment => {
                out.comments.push(token);
                continue;
            }
            TokenKind::Semicolon if current.at_top_level() => {
                let copy_data = current.copy == CopyState::FromStdin;
                current.finish(src, &mut tokens, &mut lines, &mut out);
                if copy_data {
                    skip_copy_data(src, token.end, &mut lexer, &mut lines, &mut out);
                }
                continue;
            }
            TokenKind::MetaCommand => {
                // A meta-command after statement text is almost always one that sends the
                // buffer (`\g`, `\gset`, `\gexec`, `\;`), so it ends the statement; `\:` is
                // a literal colon inside one.
                if token.text(src) != "\\:" {
                    current.finish(src, &mut tokens, &mut lines, &mut out);
                }
                let (line, _) = lines.position(token.start);
                out.psql.push(PsqlSyntax {
                    kind: PsqlSyntaxKind::MetaCommand,
                    start: token.start,
                    end: token.end,
                    line,
                });
                continue;
            }
            _ => {}
        }
        if current.skimmed_from.is_none() {
            tokens.push(token);
        }
        if token.kind.is_literal() {
            out.literals.push(token);
        }
        current.push(src, token);
        // Past its first word, a statement that is neither a routine (BEGIN ATOMIC bodies)
        // nor COPY (stdin data) needs no more tokens to be split: skim to its end.
        if skimming && current.routine == Routine::No && current.copy == CopyState::No {
            let from = lexer.position();
            let mut found = Found {
                params: &mut current.params,
                comments: &mut out.comments,
                literals: &mut out.literals,
            };
            let skimmed = skim_with::<LEVEL>(
                src,
                from,
                current.paren_depth,
                current.end,
                &mut window,
                &mut found,
            )?;
            current.skimmed_from.get_or_insert(from);
            current.paren_depth = skimmed.paren_depth;
            current.end = skimmed.end;
            match skimmed.stop {
                Stop::Semicolon(at) => {
                    current.finish(src, &mut tokens, &mut lines, &mut out);
                    lexer.skip_to(at + 1);
                }
                Stop::Backslash(at) => lexer.skip_to(at),
                Stop::End => lexer.skip_to(src.len()),
            }
        }
    }
    current.finish(src, &mut tokens, &mut lines, &mut out);
    tokens.clear();
    SPARE.with(|spare| {
        let (file, _) = spare.take();
        spare.set((file, tokens));
    });
    Ok(out)
}

/// After `COPY … FROM stdin;` psql sends the following lines as data, up to a line that
/// is `\.` or the end of the input. Lexing resumes after it.
fn skip_copy_data(
    src: &str,
    semicolon_end: usize,
    lexer: &mut Lexer,
    lines: &mut LineCounter,
    out: &mut SqlFile,
) {
    let bytes = src.as_bytes();
    let Some(newline) = memchr(b'\n', &bytes[semicolon_end..]) else {
        return;
    };
    let start = semicolon_end + newline + 1;
    // The rest of the `COPY` line is not data: a comment there is the file's like any other.
    for token in Lexer::at(&bytes[..start], semicolon_end).map_while(Result::ok) {
        if token.kind.is_comment() {
            out.comments.push(token);
        } else if token.kind.is_literal() {
            out.literals.push(token);
        }
    }
    let mut line_start = start;
    let end = loop {
        if line_start >= bytes.len() {
            break bytes.len();
        }
        let line_end = memchr(b'\n', &bytes[line_start..]).map_or(bytes.len(), |n| line_start + n);
        let line = src[line_start..line_end].trim_end_matches(['\r', ' ', '\t']);
        if line == "\\." {
            break (line_end + 1).min(bytes.len());
        }
        line_start = line_end + 1;
    };
    if end > start {
        let (line, _) = lines.position(start);
        out.psql.push(PsqlSyntax {
            kind: PsqlSyntaxKind::CopyData,
            start,
            end,
            line,
        });
    }
    lexer.skip_to(end);
}

const CREATE: Key = kw("CREATE");
const COPY: Key = kw("COPY");

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum Routine {
    /// No word seen yet.
    #[default]
    Start,
    Create,
    CreateOr,
    CreateOrReplace,
    /// `CREATE [OR REPLACE] FUNCTION|PROCEDURE`: may have a `BEGIN ATOMIC` body.
    Yes,
    No,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum CopyState {
    #[default]
    No,
    Copy,
    From,
    FromStdin,
}

/// The statement being collected.
#[derive(Debug, Default)]
struct Pending {
    start: Option<usize>,
    end: usize,
    paren_depth: u32,
    routine: Routine,
    /// Open `BEGIN ATOMIC` and, inside one, `CASE` blocks.
    atomic_depth: u32,
    /// The previous token was the word `begin` at the routine's top level.
    after_begin: bool,
    /// The previous token makes a following `end`/`case` a name: `.` or the word `AS`.
    name_position: bool,
    copy: CopyState,
    /// Words seen so far.
    words: u32,
    /// Where skimming took over: tokens after it were not collected.
    skimmed_from: Option<usize>,
    /// The keyword key of the statement's first token, when that is a word.
    verb: Option<Key>,
    params: Vec<Param>,
}

impl Pending {
    fn at_top_level(&self) -> bool {
        self.paren_depth == 0 && self.atomic_depth == 0
    }

    #[inline(always)]
    fn push(&mut self, src: &str, token: Token) {
        if self.start.is_none() {
            self.start = Some(token.start);
            if token.kind == TokenKind::Word {
                // The verb, keyed once: the key decides routine and COPY here and is
                // handed to the classifier, which starts from it.
                let key = key_at(src.as_bytes(), token.start, token.end);
                self.verb = Some(key);
                self.routine = if key == CREATE {
                    Routine::Create
                } else {
                    Routine::No
                };
                if key == COPY {
                    self.copy = CopyState::Copy;
                }
                self.end = token.end;
                self.words = 1;
                return;
            }
        }
        self.end = token.end;
        let after_begin = std::mem::take(&mut self.after_begin);
        let name_position = std::mem::take(&mut self.name_position);
        match token.kind {
            TokenKind::OpenParen => self.paren_depth += 1,
            TokenKind::CloseParen => self.paren_depth = self.paren_depth.saturating_sub(1),
            TokenKind::Dot => self.name_position = true,
            TokenKind::Variable => self.params.push(param_at(src, token.start, token.end)),
            TokenKind::Word => self.word(token.text(src), after_begin, name_position),
            _ => {}
        }
    }

    fn word(&mut self, word: &str, after_begin: bool, name_position: bool) {
        if self.routine == Routine::No && self.copy == CopyState::No {
            // Neither a routine nor COPY: no later word changes how this statement splits.
            return;
        }
        let is = |w: &str| word.eq_ignore_ascii_case(w);
        self.routine = match self.routine {
            Routine::Start if is("create") => Routine::Create,
            Routine::Create if is("or") => Routine::CreateOr,
            Routine::CreateOr if is("replace") => Routine::CreateOrReplace,
            Routine::Create | Routine::CreateOrReplace if is("function") || is("procedure") => {
                Routine::Yes
            }
            Routine::Yes => Routine::Yes,
            _ => Routine::No,
        };
        if self.routine == Routine::Yes && self.paren_depth == 0 {
            if after_begin && is("atomic") {
                self.atomic_depth += 1;
            } else if is("begin") {
                self.after_begin = true;
            } else if !name_position && self.atomic_depth > 0 {
                if is("case") {
                    self.atomic_depth += 1;
                } else if is("end") {
                    self.atomic_depth -= 1;
                }
            }
            self.name_position = is("as");
        }
        self.copy = match self.copy {
            CopyState::No if self.words == 0 && is("copy") => CopyState::Copy,
            CopyState::Copy | CopyState::From if self.paren_depth == 0 && is("from") => {
                CopyState::From
            }
            CopyState::From if is("stdin") => CopyState::FromStdin,
            CopyState::From => CopyState::Copy,
            other => other,
        };
        self.words += 1;
    }

    #[inline(always)]
    fn finish(
        &mut self,
        src: &str,
        tokens: &mut Vec<Token>,
        lines: &mut LineCounter,
        out: &mut SqlFile,
    ) {
        // Fields are read one by one and the rest reset in place, and the statement is
        // written straight into the list's spare slot: copying the whole `Pending` out
        // (`mem::take`) and pushing a statement built on the stack both reloaded, 16 bytes
        // at a time, memory just stored in narrower pieces, and the failed store-to-load
        // forwarding stalled every statement (−2.7% of the split's cycles, `perf stat`).
        let Some(start) = self.start else { return };
        let end = self.end;
        let verb = self.verb;
        let resume = self.skimmed_from.unwrap_or(end);
        let params = std::mem::take(&mut self.params);
        *self = Pending::default();
        let class = classify(src, tokens, verb, resume, end);
        tokens.clear();
        let (line, column) = lines.position(start);
        let statements = &mut out.statements;
        statements.reserve(1);
        statements.spare_capacity_mut()[0].write(Statement {
            start,
            end,
            line,
            column,
            kind: class.kind,
            tag: class.tag,
            writes: class.writes,
            dml_in_cte: class.dml_in_cte,
            in_transaction: class.in_transaction,
            params,
            head_len: class
                .head_end
                .and_then(|end| u32::try_from(end - start).ok())
                .unwrap_or(0),
        });
        // SAFETY: the slot just past the length was initialised above.
        unsafe { statements.set_len(statements.len() + 1) };
    }
}

/// The parameter whose `:name` (or `:'name'`, `:"name"`) spans `start..end`.
pub(crate) fn param_at(src: &str, start: usize, end: usize) -> Param {
    let text = &src[start + 1..end];
    let quoted = text.starts_with(['\'', '"']);
    let name = if quoted {
        &text[1..text.len() - 1]
    } else {
        text
    };
    Param {
        name: name.to_owned(),
        offset: start,
        quoted,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(sql: &str) -> Vec<&str> {
        split(sql)
            .unwrap()
            .statements
            .iter()
            .map(|s| s.text(sql))
            .collect()
    }

    #[test]
    fn splits_at_top_level_semicolons_only() {
        assert_eq!(
            texts("SELECT 1; SELECT (2; 3); ;; -- x;\n SELECT 4"),
            ["SELECT 1", "SELECT (2; 3)", "SELECT 4"]
        );
    }

    #[test]
    fn a_split_into_recycled_lists_is_a_fresh_split() {
        let big = "-- c\nINSERT INTO t VALUES ('a'); /* d */ UPDATE u SET x = $$y$$;\n\\set x 1\n"
            .repeat(50);
        let small = "SELECT 1; -- only\nDELETE FROM v;";
        for (first, second) in [(&big[..], small), (small, &big[..]), (&big[..], &big[..])] {
            recycle(split(first).unwrap());
            // Nothing of the first file is left in the lists the second one fills.
            assert_eq!(split(second).unwrap(), split_by_tokens(second).unwrap());
        }
    }

    #[test]
    fn begin_atomic_bodies_hold_their_semicolons() {
        let sql = "CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT CASE WHEN t.end THEN 1 END AS end FROM t; END; SELECT 3;";
        assert_eq!(texts(sql).len(), 2);
        // Outside a routine, BEGIN is a transaction and END commits it.
        assert_eq!(
            texts("BEGIN; SELECT 1; END; SELECT 2;"),
            ["BEGIN", "SELECT 1", "END", "SELECT 2"]
        );
        // `begin` not followed by `atomic` opens nothing (a column named begin).
        assert_eq!(
            texts("CREATE FUNCTION f(begin int) RETURNS int RETURN 1; SELECT 2;").len(),
            2
        );
    }

    #[test]
    fn copy_from_stdin_data_is_skipped_and_reported() {
        let sql = "COPY t (a) FROM stdin;\n1;x\n2\n\\.\nSELECT 2;";
        let file = split(sql).unwrap();
        assert_eq!(
            file.statements
                .iter()
                .map(|s| s.text(sql))
                .collect::<Vec<_>>(),
            ["COPY t (a) FROM stdin", "SELECT 2"]
        );
        assert_eq!(file.psql.len(), 1);
        assert_eq!(&sql[file.psql[0].start..file.psql[0].end], "1;x\n2\n\\.\n");
        assert_eq!(file.statements[1].line, 5);
    }

    #[test]
    fn meta_commands_end_statements_and_resynchronise_at_the_next_line() {
        let sql = "SELECT 1 \\gset\n\\set x 'a;\nSELECT :x;";
        let file = split(sql).unwrap();
        assert_eq!(
            file.statements
                .iter()
                .map(|s| s.text(sql))
                .collect::<Vec<_>>(),
            ["SELECT 1", "SELECT :x"]
        );
        assert_eq!(file.psql.iter().map(|p| p.line).collect::<Vec<_>>(), [1, 2]);
        assert_eq!(file.statements[1].params[0].name, "x");
    }

    #[test]
    fn statements_carry_lines_columns_and_params() {
        let sql = "-- header\n\n  UPDATE leads SET x = 1 WHERE id BETWEEN :lo AND :hi;\nSELECT ':no', :'yes';";
        insta::assert_debug_snapshot!(split(sql).unwrap().statements);
    }
}
