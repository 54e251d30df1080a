//! A byte lexer that follows PostgreSQL's own scanner (`src/backend/parser/scan.l`) and
//! psql's additions to it (`src/fe_utils/psqlscan.l`): comments, every string form,
//! quoted identifiers, dollar quotes, parameters, psql variables and meta-commands.
//!
//! It only finds token boundaries; it does not build keyword tables or allocate. Whitespace
//! is skipped, comments are tokens (the linter reads them). It never panics and always
//! advances, whatever the bytes: every branch consumes at least one byte.

use std::fmt;

use memchr::{memchr, memchr2, memmem};

/// What a token is. Keywords are `Word`s: which word it is depends on context, and the
/// splitter and classifier compare the text only where it matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenKind {
    /// An unquoted identifier or keyword; may contain `$` after the first byte (`a$b`).
    Word,
    /// `"…"` or `U&"…"`.
    QuotedIdent,
    /// `'…'`, `E'…'`, `B'…'`, `X'…'`, `N'…'` or `U&'…'`.
    String,
    /// `$tag$…$tag$`.
    DollarString,
    Number,
    /// A positional parameter: `$1`.
    Param,
    /// A psql variable: `:name`, `:'name'` or `:"name"` (sqlrail's named parameters).
    Variable,
    LineComment,
    BlockComment,
    Semicolon,
    OpenParen,
    CloseParen,
    Comma,
    Dot,
    /// `::`.
    Cast,
    /// A run of operator characters (`+`, `<=`, `->>` …), never containing a comment start.
    Operator,
    /// A psql meta-command: a backslash outside quotes, to the end of the line (`\set x 1`).
    /// `\;` and `\:` are two-byte tokens of this kind.
    MetaCommand,
    /// Any other single byte (`[`, `]`, `:`, a stray `$`, control bytes…).
    Other,
}

impl TokenKind {
    pub fn is_comment(self) -> bool {
        matches!(self, TokenKind::LineComment | TokenKind::BlockComment)
    }

    /// A string or dollar-quoted literal.
    pub fn is_literal(self) -> bool {
        matches!(self, TokenKind::String | TokenKind::DollarString)
    }
}

/// One token: its kind and byte range in the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token {
    pub kind: TokenKind,
    pub start: usize,
    pub end: usize,
}

impl Token {
    pub fn text<'a>(&self, src: &'a str) -> &'a str {
        &src[self.start..self.end]
    }
}

/// A construct that was opened but never closed before the end of the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unclosed {
    String,
    QuotedIdent,
    DollarQuote,
    BlockComment,
}

impl fmt::Display for Unclosed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Unclosed::String => "string literal",
            Unclosed::QuotedIdent => "quoted identifier",
            Unclosed::DollarQuote => "dollar-quoted string",
            Unclosed::BlockComment => "block comment",
        })
    }
}

/// The only way lexing fails: something opened at `start` runs to the end of the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LexError {
    pub unclosed: Unclosed,
    pub start: usize,
}

// Byte classes, as in scan.l: ident_start [A-Za-z\200-\377_], ident_cont adds [0-9$];
// op_chars [~!@#^&|`?+\-*/%<>=]; space [ \t\n\r\f\v].
pub(crate) const IDENT_START: u8 = 1;
pub(crate) const IDENT_CONT: u8 = 2;
const OP_CHAR: u8 = 4;
pub(crate) const SPACE: u8 = 8;
pub(crate) const DIGIT: u8 = 16;

const fn byte_classes() -> [u8; 256] {
    let mut t = [0u8; 256];
    let mut b = 0usize;
    while b < 256 {
        let c = b as u8;
        if c.is_ascii_alphabetic() || c == b'_' || c >= 0x80 {
            t[b] |= IDENT_START | IDENT_CONT;
        }
        if c.is_ascii_digit() {
            t[b] |= IDENT_CONT | DIGIT;
        }
        if c == b'$' {
            t[b] |= IDENT_CONT;
        }
        if matches!(
            c,
            b'~' | b'!'
                | b'@'
                | b'#'
                | b'^'
                | b'&'
                | b'|'
                | b'`'
                | b'?'
                | b'+'
                | b'-'
                | b'*'
                | b'/'
                | b'%'
                | b'<'
                | b'>'
                | b'='
        ) {
            t[b] |= OP_CHAR;
        }
        if matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x0c | 0x0b) {
            t[b] |= SPACE;
        }
        b += 1;
    }
    t
}

const BYTE_CLASSES: [u8; 256] = byte_classes();
static CLASS: [u8; 256] = BYTE_CLASSES;

#[inline]
pub(crate) fn is(b: u8, class: u8) -> bool {
    CLASS[b as usize] & class != 0
}

/// Iterates over the tokens of a byte string. After an error it yields nothing more.
pub struct Lexer<'a> {
    src: &'a [u8],
    pos: usize,
    failed: bool,
}

impl<'a> Lexer<'a> {
    pub fn new(src: &'a [u8]) -> Self {
        Lexer {
            src,
            pos: 0,
            failed: false,
        }
    }

    /// Starts lexing at `pos` (used to resume after a psql `COPY … FROM stdin` data block).
    pub fn at(src: &'a [u8], pos: usize) -> Self {
        Lexer {
            src,
            pos: pos.min(src.len()),
            failed: false,
        }
    }

    pub fn position(&self) -> usize {
        self.pos
    }

    /// Moves the lexer to `pos` (never backwards).
    pub fn skip_to(&mut self, pos: usize) {
        self.pos = self.pos.max(pos.min(self.src.len()));
    }

    /// The next token if `simple_token` decides it (then the lexer moves past it), else
    /// `None` and the lexer stays: statement heads are mostly such tokens, and they skip
    /// the general dispatch.
    #[inline]
    pub(crate) fn next_simple(&mut self) -> Option<Token> {
        let token = simple_token(self.src, self.pos)?;
        self.pos = token.end;
        Some(token)
    }

    /// The next token, as `next` gives it, through `next_simple` where that decides it.
    #[inline]
    pub(crate) fn next_simple_first(&mut self) -> Option<Result<Token, LexError>> {
        match self.next_simple() {
            Some(token) => Some(Ok(token)),
            None => self.next(),
        }
    }

    /// The first byte after the spaces here: where the next token starts (`None` at the
    /// end).
    pub(crate) fn next_byte(&self) -> Option<u8> {
        self.src[self.pos..]
            .iter()
            .copied()
            .find(|&b| !is(b, SPACE))
    }

    /// The significant tokens from here, through `next_simple_first`: no comments, no psql
    /// meta-commands. Ends at the end or at an error: it is for re-reading spans the
    /// splitter already lexed without one.
    pub(crate) fn significant(mut self) -> impl Iterator<Item = Token> + 'a {
        std::iter::from_fn(move || {
            loop {
                let token = self.next_simple_first()?.ok()?;
                if !token.kind.is_comment() && token.kind != TokenKind::MetaCommand {
                    return Some(token);
                }
            }
        })
    }

    #[inline]
    fn peek(&self, at: usize) -> u8 {
        self.src.get(at).copied().unwrap_or(0)
    }

    #[inline(always)]
    fn lex(&mut self) -> Option<Result<Token, LexError>> {
        let src = self.src;
        let start = match src[self.pos..].iter().position(|&b| !is(b, SPACE)) {
            Some(n) => self.pos + n,
            None => {
                self.pos = src.len();
                return None;
            }
        };
        let c = src[start];
        let next = self.peek(start + 1);
        let result = match START[c as usize] {
            Start::Word => match c {
                b'e' | b'E' if next == b'\'' => {
                    quoted_end(src, start + 2, true).map(|e| (TokenKind::String, e))
                }
                b'b' | b'B' | b'x' | b'X' | b'n' | b'N' if next == b'\'' => {
                    quoted_end(src, start + 2, false).map(|e| (TokenKind::String, e))
                }
                b'u' | b'U' if next == b'&' && self.peek(start + 2) == b'\'' => {
                    quoted_end(src, start + 3, false).map(|e| (TokenKind::String, e))
                }
                b'u' | b'U' if next == b'&' && self.peek(start + 2) == b'"' => {
                    ident_end(src, start + 3).map(|e| (TokenKind::QuotedIdent, e))
                }
                _ => Ok((TokenKind::Word, word_end(src, start + 1))),
            },
            Start::Digit => Ok((TokenKind::Number, number_end(src, start))),
            Start::Punct(kind) => Ok((kind, start + 1)),
            Start::Operator => match (c, next) {
                (b'-', b'-') => Ok((TokenKind::LineComment, line_end(src, start))),
                (b'/', b'*') => block_comment_end(src, start).map(|e| (TokenKind::BlockComment, e)),
                _ => Ok((TokenKind::Operator, operator_end(src, start))),
            },
            Start::Quote => quoted_end(src, start + 1, false).map(|e| (TokenKind::String, e)),
            Start::DoubleQuote => ident_end(src, start + 1).map(|e| (TokenKind::QuotedIdent, e)),
            Start::Dollar => dollar(src, start),
            Start::Colon => Ok(colon(src, start)),
            Start::Backslash => Ok(backslash(src, start)),
            Start::Dot if next.is_ascii_digit() => Ok((TokenKind::Number, number_end(src, start))),
            Start::Dot => Ok((TokenKind::Dot, start + 1)),
        };
        match result {
            Ok((kind, end)) => {
                debug_assert!(end > start, "the lexer must always advance");
                self.pos = end;
                Some(Ok(Token { kind, start, end }))
            }
            Err(unclosed) => {
                self.failed = true;
                self.pos = src.len();
                Some(Err(LexError { unclosed, start }))
            }
        }
    }
}

/// How a token starting with a given byte is lexed (spaces never reach this table).
#[derive(Clone, Copy)]
enum Start {
    Word,
    Digit,
    Punct(TokenKind),
    Operator,
    Quote,
    DoubleQuote,
    Dollar,
    Colon,
    Backslash,
    Dot,
}

const fn start_table() -> [Start; 256] {
    let mut t = [Start::Punct(TokenKind::Other); 256];
    let mut b = 0usize;
    while b < 256 {
        let c = b as u8;
        t[b] = if BYTE_CLASSES[b] & DIGIT != 0 {
            Start::Digit
        } else if BYTE_CLASSES[b] & IDENT_START != 0 {
            Start::Word
        } else if BYTE_CLASSES[b] & OP_CHAR != 0 {
            Start::Operator
        } else {
            match c {
                b'\'' => Start::Quote,
                b'"' => Start::DoubleQuote,
                b'$' => Start::Dollar,
                b':' => Start::Colon,
                b'\\' => Start::Backslash,
                b'.' => Start::Dot,
                b';' => Start::Punct(TokenKind::Semicolon),
                b'(' => Start::Punct(TokenKind::OpenParen),
                b')' => Start::Punct(TokenKind::CloseParen),
                b',' => Start::Punct(TokenKind::Comma),
                _ => Start::Punct(TokenKind::Other),
            }
        };
        b += 1;
    }
    t
}

static START: [Start; 256] = start_table();

/// The end of the identifier bytes (`IDENT_CONT`) starting at `from`.
///
/// Words are short and of every length, so a loop over their bytes ends in a mispredicted
/// branch for most words (about one per statement in PostgreSQL's regression SQL). Sixteen
/// bytes are classified at once here (SSE2, part of every x86-64 CPU) and the end is read
/// off the mask; longer words and the last bytes of the text take the loop.
#[inline(always)]
fn word_end(src: &[u8], from: usize) -> usize {
    #[cfg(target_arch = "x86_64")]
    if let Some(block) = src.get(from..from + 16) {
        let block: &[u8; 16] = block.try_into().expect("16 bytes");
        let ends = !ident_cont_bits(block) & 0xffff;
        if ends != 0 {
            return from + ends.trailing_zeros() as usize;
        }
    }
    src[from..]
        .iter()
        .position(|&b| !is(b, IDENT_CONT))
        .map_or(src.len(), |n| from + n)
}

/// Which of sixteen bytes are `IDENT_CONT` (letters, digits, `_`, `$`, and every byte from
/// 0x80), as the low 16 bits.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn ident_cont_bits(block: &[u8; 16]) -> u32 {
    use std::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_min_epu8, _mm_movemask_epi8, _mm_or_si128,
        _mm_set1_epi8, _mm_sub_epi8,
    };
    // SAFETY: the load reads the 16 bytes of `block`; SSE2 is part of the x86-64 baseline.
    unsafe {
        let bytes = _mm_loadu_si128(block.as_ptr().cast());
        let splat = |b: u8| _mm_set1_epi8(b as i8);
        // `lo <= x <= hi` as `x - lo <= hi - lo`, unsigned.
        let within = |x: __m128i, lo: u8, hi: u8| {
            let offset = _mm_sub_epi8(x, splat(lo));
            _mm_cmpeq_epi8(_mm_min_epu8(offset, splat(hi - lo)), offset)
        };
        // Bit 5 set folds capitals onto letters and no other byte into `a..=z`.
        let letter = within(_mm_or_si128(bytes, splat(0x20)), b'a', b'z');
        let digit = within(bytes, b'0', b'9');
        let other = _mm_or_si128(
            _mm_cmpeq_epi8(bytes, splat(b'_')),
            _mm_cmpeq_epi8(bytes, splat(b'$')),
        );
        let ascii = _mm_or_si128(_mm_or_si128(letter, digit), other);
        // Bytes from 0x80 have their top bit set, which `movemask` reads directly.
        (_mm_movemask_epi8(ascii) | _mm_movemask_epi8(bytes)) as u32
    }
}

impl Iterator for Lexer<'_> {
    type Item = Result<Token, LexError>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        self.lex()
    }
}

/// The token after the spaces at `pos` when it is one the lexer needs no lookahead for: a
/// word that is not a string prefix (`E'`, `U&'`…), or `(`, `)`, `,`, `;`. `None` when the
/// full lexer must decide (or at the end). Statement heads are mostly such tokens, and
/// the classifier reads them this way without the lexer's general dispatch.
#[inline]
pub(crate) fn simple_token(src: &[u8], pos: usize) -> Option<Token> {
    let start = pos + src.get(pos..)?.iter().position(|&b| !is(b, SPACE))?;
    let c = src[start];
    let kind = match c {
        b'(' => TokenKind::OpenParen,
        b')' => TokenKind::CloseParen,
        b',' => TokenKind::Comma,
        b';' => TokenKind::Semicolon,
        b'e' | b'E' | b'b' | b'B' | b'x' | b'X' | b'n' | b'N' | b'u' | b'U'
            if matches!(src.get(start + 1), Some(b'\'' | b'&')) =>
        {
            return None;
        }
        _ if c.is_ascii() && is(c, IDENT_START) => {
            let end = word_end(src, start + 1);
            return Some(Token {
                kind: TokenKind::Word,
                start,
                end,
            });
        }
        _ => return None,
    };
    Some(Token {
        kind,
        start,
        end: start + 1,
    })
}

/// End of a `--` comment: before the next `\n` or `\r` (scan.l's `non_newline`).
///
/// Comments are short (PostgreSQL's regression SQL has one every 80 bytes, most under a
/// line's width), and `memchr2` spent about 90 instructions a call, most of it setting up
/// its search. The first 64 bytes are looked at here, 16 at a time with SSE2 (part of
/// every x86-64 CPU, so this inlines anywhere); `memchr2` takes longer comments.
#[inline]
pub(crate) fn line_end(src: &[u8], from: usize) -> usize {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{
            _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi8,
        };
        const BLOCK: usize = 16;
        let limit = src.len().min(from + 4 * BLOCK);
        let mut i = from;
        while i + BLOCK <= limit {
            // SAFETY: `i + 16 <= src.len()`, so the unaligned load reads inside `src`; SSE2
            // is part of the x86-64 baseline.
            let newlines = unsafe {
                let block = _mm_loadu_si128(src.as_ptr().add(i).cast());
                let lf = _mm_cmpeq_epi8(block, _mm_set1_epi8(b'\n' as i8));
                let cr = _mm_cmpeq_epi8(block, _mm_set1_epi8(b'\r' as i8));
                _mm_movemask_epi8(_mm_or_si128(lf, cr))
            };
            if newlines != 0 {
                return i + newlines.trailing_zeros() as usize;
            }
            i += BLOCK;
        }
        if limit == src.len() {
            // Fewer than 16 bytes are left: one at a time.
            return src[i..]
                .iter()
                .position(|&b| b == b'\n' || b == b'\r')
                .map_or(src.len(), |n| i + n);
        }
        memchr2(b'\n', b'\r', &src[i..]).map_or(src.len(), |n| i + n)
    }
    #[cfg(not(target_arch = "x86_64"))]
    memchr2(b'\n', b'\r', &src[from..]).map_or(src.len(), |n| from + n)
}

/// End of a nested `/* … */` comment that starts at `from`.
pub(crate) fn block_comment_end(src: &[u8], from: usize) -> Result<usize, Unclosed> {
    let mut depth = 1usize;
    let mut i = from + 2;
    while let Some(n) = memchr2(b'*', b'/', &src[i..]) {
        let at = i + n;
        let next = src.get(at + 1).copied();
        if src[at] == b'*' && next == Some(b'/') {
            depth -= 1;
            i = at + 2;
            if depth == 0 {
                return Ok(i);
            }
        } else if src[at] == b'/' && next == Some(b'*') {
            depth += 1;
            i = at + 2;
        } else {
            i = at + 1;
        }
    }
    Err(Unclosed::BlockComment)
}

/// End of a single-quoted literal whose body starts at `from`. `''` is a quote; with
/// `escapes` (an `E'…'` string) a backslash escapes the next byte, and a continuation
/// segment after whitespace containing a newline stays in escape mode, as in scan.l's
/// `xqs` state. Without escapes a continuation is lexed as its own string token, which
/// puts the boundaries in the same place.
pub(crate) fn quoted_end(src: &[u8], from: usize, escapes: bool) -> Result<usize, Unclosed> {
    let mut i = from;
    loop {
        let found = if escapes {
            memchr2(b'\'', b'\\', &src[i..])
        } else {
            memchr(b'\'', &src[i..])
        };
        let Some(n) = found else {
            return Err(Unclosed::String);
        };
        let at = i + n;
        if src[at] == b'\\' {
            i = at + 2;
            if i > src.len() {
                return Err(Unclosed::String);
            }
            continue;
        }
        if src.get(at + 1) == Some(&b'\'') {
            i = at + 2;
            continue;
        }
        if escapes && let Some(quote) = continuation_quote(src, at + 1) {
            i = quote + 1;
            continue;
        }
        return Ok(at + 1);
    }
}

/// If the bytes at `from` are scan.l's `whitespace_with_newline` followed by a quote,
/// returns the position of that quote: the literal continues there.
fn continuation_quote(src: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    let mut saw_newline = false;
    loop {
        match src.get(i)? {
            b' ' | b'\t' | 0x0c => i += 1,
            0x0b if saw_newline => i += 1,
            b'\n' | b'\r' => {
                saw_newline = true;
                i += 1;
            }
            b'-' if src.get(i + 1) == Some(&b'-') => {
                i = line_end(src, i);
                // After the newline, a comment only counts if a newline follows it.
                if saw_newline && i >= src.len() {
                    return None;
                }
            }
            b'\'' if saw_newline => return Some(i),
            _ => return None,
        }
    }
}

/// End of a double-quoted identifier whose body starts at `from`; `""` is a quote.
pub(crate) fn ident_end(src: &[u8], from: usize) -> Result<usize, Unclosed> {
    let mut i = from;
    loop {
        let Some(n) = memchr(b'"', &src[i..]) else {
            return Err(Unclosed::QuotedIdent);
        };
        let at = i + n;
        if src.get(at + 1) == Some(&b'"') {
            i = at + 2;
        } else {
            return Ok(at + 1);
        }
    }
}

/// A `$` starts a parameter (`$1`), a dollar quote (`$tag$`, tag as scan.l's
/// `dolqdelim`), or is a stray byte. The closing delimiter is the first exact occurrence
/// of the opening one: tags cannot contain `$`, so no earlier partial match can hide it.
pub(crate) fn dollar(src: &[u8], at: usize) -> Result<(TokenKind, usize), Unclosed> {
    let mut i = at + 1;
    if i < src.len() && src[i].is_ascii_digit() {
        while i < src.len() && src[i].is_ascii_digit() {
            i += 1;
        }
        return Ok((TokenKind::Param, i));
    }
    if i < src.len() && is(src[i], IDENT_START) {
        while i < src.len() && is(src[i], IDENT_START | DIGIT) {
            i += 1;
        }
    }
    if src.get(i) != Some(&b'$') {
        return Ok((TokenKind::Other, at + 1));
    }
    let delimiter = &src[at..=i];
    let body = i + 1;
    match memmem::find(&src[body..], delimiter) {
        Some(n) => Ok((TokenKind::DollarString, body + n + delimiter.len())),
        None => Err(Unclosed::DollarQuote),
    }
}

/// `::` (cast), `:=`, psql variables `:name`, `:'name'`, `:"name"` (psqlscan.l's
/// `variable_char` is `[A-Za-z\200-\377_0-9]`), or a lone `:` (array slices).
pub(crate) fn colon(src: &[u8], at: usize) -> (TokenKind, usize) {
    let name_end = |from: usize| {
        let mut e = from;
        while e < src.len() && is(src[e], IDENT_START | DIGIT) {
            e += 1;
        }
        e
    };
    match src.get(at + 1).copied() {
        Some(b':') => (TokenKind::Cast, at + 2),
        Some(b'=') => (TokenKind::Operator, at + 2),
        Some(q @ (b'\'' | b'"')) => {
            let e = name_end(at + 2);
            if e > at + 2 && src.get(e) == Some(&q) {
                (TokenKind::Variable, e + 1)
            } else {
                (TokenKind::Other, at + 1)
            }
        }
        Some(b) if is(b, IDENT_START) => (TokenKind::Variable, name_end(at + 1)),
        _ => (TokenKind::Other, at + 1),
    }
}

/// A psql meta-command runs to the end of its line. `\;` and `\:` are psql's escapes for
/// a literal semicolon or colon and stand alone.
fn backslash(src: &[u8], at: usize) -> (TokenKind, usize) {
    match src.get(at + 1) {
        Some(b';' | b':') => (TokenKind::MetaCommand, at + 2),
        _ => (
            TokenKind::MetaCommand,
            memchr(b'\n', &src[at..]).map_or(src.len(), |n| at + n),
        ),
    }
}

/// Numbers (`42`, `1.5e-3`, `0x1F`, `1_000`, `.5`) and the junk PostgreSQL rejects
/// right after them (`123abc`) form one token: a boundary never falls inside.
fn number_end(src: &[u8], from: usize) -> usize {
    let mut i = from;
    while i < src.len() {
        let b = src[i];
        let exponent_sign = (b == b'+' || b == b'-')
            && matches!(src[i - 1], b'e' | b'E')
            && src.get(i + 1).is_some_and(u8::is_ascii_digit);
        if is(b, IDENT_CONT) && b != b'$' || b == b'.' || exponent_sign {
            i += 1;
        } else {
            break;
        }
    }
    i
}

/// A run of operator characters, stopped before `--` or `/*`, which start comments even
/// inside an operator (`+--x` is `+` and a comment).
fn operator_end(src: &[u8], from: usize) -> usize {
    let mut i = from + 1;
    while i < src.len() && is(src[i], OP_CHAR) {
        let pair = (src[i], src.get(i + 1).copied());
        if matches!(pair, (b'-', Some(b'-')) | (b'/', Some(b'*'))) {
            break;
        }
        i += 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every byte value at every place of a block: the vector classification is `is`.
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn identifier_bytes_are_classified_as_the_table_does() {
        for b in 0..=255u8 {
            for at in 0..16 {
                let mut block = [b'a'; 16];
                block[at] = b;
                let expected = (0..16).fold(0u32, |bits, k| {
                    bits | (u32::from(is(block[k], IDENT_CONT)) << k)
                });
                assert_eq!(ident_cont_bits(&block), expected, "byte {b:#04x} at {at}");
            }
        }
        // Words shorter and longer than a block, ending inside, at and past its end.
        for (len, word) in [0, 1, 15, 16, 17, 40]
            .into_iter()
            .flat_map(|l| [(l, 7), (l, 16), (l, 17), (l, 33)])
        {
            for from in 0..=len {
                let src: Vec<u8> = (0..len)
                    .map(|k| if k % word == word - 1 { b' ' } else { b'x' })
                    .collect();
                let expected = src[from..]
                    .iter()
                    .position(|&b| !is(b, IDENT_CONT))
                    .map_or(len, |n| from + n);
                assert_eq!(word_end(&src, from), expected, "{len} {from}");
            }
        }
    }

    /// A `\n` or `\r` at every place of texts around the 16-byte blocks and the 64-byte
    /// limit of the vector scan, from every start: the end `memchr2` finds.
    #[test]
    fn line_ends_are_memchr2s() {
        for len in [0, 1, 15, 16, 17, 63, 64, 65, 80, 130] {
            for newline in [None, Some(b'\n'), Some(b'\r')] {
                for at in 0..len.max(1) {
                    let mut src = vec![b'-'; len];
                    if let (Some(b), Some(slot)) = (newline, src.get_mut(at)) {
                        *slot = b;
                    }
                    for from in 0..=len {
                        let expected =
                            memchr2(b'\n', b'\r', &src[from..]).map_or(src.len(), |n| from + n);
                        assert_eq!(line_end(&src, from), expected, "{len} {at} {from}");
                    }
                }
            }
        }
    }

    proptest::proptest! {
        /// Wherever the shortcut gives a token, it is the token the lexer gives there.
        #[test]
        fn simple_tokens_are_the_lexers_tokens(
            bytes in proptest::collection::vec(
                proptest::sample::select(b"aEeUuxX_9$ \n\t'&\"();,.-/*:\\\xc3\xa9".to_vec()),
                0..40,
            )
        ) {
            for pos in 0..=bytes.len() {
                if let Some(token) = simple_token(&bytes, pos) {
                    let lexed = Lexer::at(&bytes, pos).next().map(|t| t.ok());
                    proptest::prop_assert_eq!(lexed, Some(Some(token)));
                }
            }
        }
    }

    fn kinds(sql: &str) -> Vec<(TokenKind, &str)> {
        Lexer::new(sql.as_bytes())
            .map(|t| t.unwrap())
            .map(|t| (t.kind, t.text(sql)))
            .collect()
    }

    #[test]
    fn tokens_of_every_literal_form() {
        insta::assert_debug_snapshot!(kinds(
            "SELECT 'a''b', E'c\\'d', B'01', X'1F', N'n', U&'u' UESCAPE '!', \"q\"\"i\", U&\"x\", $$d$$, $t$e$t$, $1, :lo, :'v', :\"w\", a::int, 1.5e-3, .5, x$y, AS$$z$$;"
        ));
    }

    #[test]
    fn comments_and_operators() {
        insta::assert_debug_snapshot!(kinds("a +-- c\n b */* n /* m */ */ c <= d -- end"));
    }

    #[test]
    fn e_string_continuation_stays_in_escape_mode() {
        // `\'` in the continued segment is an escaped quote, so `;` is inside the literal.
        let sql = "E'a'\n  'b\\';c'";
        assert_eq!(kinds(sql), vec![(TokenKind::String, sql)]);
    }

    #[test]
    fn continuation_needs_a_newline() {
        let sql = "E'a' 'b\\'";
        assert_eq!(
            kinds(sql),
            vec![(TokenKind::String, "E'a'"), (TokenKind::String, "'b\\'")]
        );
    }

    #[test]
    fn meta_command_runs_to_end_of_line() {
        insta::assert_debug_snapshot!(kinds("\\set x 'a;b'\nSELECT 1 \\; SELECT 2;"));
    }

    #[test]
    fn unterminated_constructs_report_where_they_opened() {
        for (sql, unclosed, start) in [
            ("SELECT 'abc", Unclosed::String, 7),
            ("SELECT E'ab\\'", Unclosed::String, 7),
            ("SELECT \"abc", Unclosed::QuotedIdent, 7),
            ("SELECT $x$ abc $y$", Unclosed::DollarQuote, 7),
            ("SELECT /* a /* b */", Unclosed::BlockComment, 7),
            ("SELECT E'\\", Unclosed::String, 7),
        ] {
            let err = Lexer::new(sql.as_bytes()).find_map(Result::err);
            assert_eq!(err, Some(LexError { unclosed, start }), "{sql}");
        }
    }

    #[test]
    fn stray_dollar_and_colon_are_single_bytes() {
        assert_eq!(
            kinds("$ a[1:2] :: $x"),
            vec![
                (TokenKind::Other, "$"),
                (TokenKind::Word, "a"),
                (TokenKind::Other, "["),
                (TokenKind::Number, "1"),
                (TokenKind::Other, ":"),
                (TokenKind::Number, "2"),
                (TokenKind::Other, "]"),
                (TokenKind::Cast, "::"),
                (TokenKind::Other, "$"),
                (TokenKind::Word, "x"),
            ]
        );
    }
}
