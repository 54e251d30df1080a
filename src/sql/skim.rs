//! The splitter's fast path: finds where a statement ends without producing tokens for
//! the words, numbers and operators in between. Only the bytes that can change a boundary
//! are looked at: quotes, comments, `$`, `;`, parentheses, `:` (parameters) and `\`
//! (psql meta-commands). Everything it decides agrees with the lexer, which the tests
//! check against a token-only split on arbitrary input.

use super::lexer::{
    LexError, Lexer, Token, TokenKind, Unclosed, block_comment_end, colon, dollar, line_end,
};
use super::statement::Param;

/// Why skimming stopped.
pub(crate) enum Stop {
    /// A top-level `;` at this offset.
    Semicolon(usize),
    /// A backslash (psql meta-command) at this offset: the token path handles it.
    Backslash(usize),
    /// The end of the input.
    End,
}

/// Where the skim puts what it meets on the way: the statement's parameters, and the
/// file's comments and literals.
pub(crate) struct Found<'a> {
    pub params: &'a mut Vec<Param>,
    pub comments: &'a mut Vec<Token>,
    pub literals: &'a mut Vec<Token>,
}

/// What the skim learned about the statement.
pub(crate) struct Skimmed {
    pub stop: Stop,
    /// End of the last significant byte (the statement's end if it stops here).
    pub end: usize,
    pub paren_depth: u32,
}

const PLAIN: u8 = 0;
const SPACE: u8 = 1;
const SPECIAL: u8 = 2;
/// `(` and `)`: not plain (they end words), but not stops either: the window counts them.
const PAREN: u8 = 3;

const fn skim_classes() -> [u8; 256] {
    let mut t = [PLAIN; 256];
    let specials = b"'\"$-/;:\\";
    let mut i = 0;
    while i < specials.len() {
        t[specials[i] as usize] = SPECIAL;
        i += 1;
    }
    t[b'(' as usize] = PAREN;
    t[b')' as usize] = PAREN;
    let spaces = b" \t\n\r\x0b\x0c";
    let mut i = 0;
    while i < spaces.len() {
        t[spaces[i] as usize] = SPACE;
        i += 1;
    }
    t
}

static SKIM: [u8; 256] = skim_classes();

/// How many bytes the skim classifies at once.
const WINDOW: usize = 64;

/// Which bytes of a 64-byte stretch of the text are special, as bits (bit `k` for the
/// byte at `base + k`), and which are parentheses. It depends only on the text, so one
/// window serves every skim of a file: statements average about ninety bytes and hold a
/// special byte every dozen, so one classification of sixty-four bytes answers several
/// questions.
pub(crate) struct Window {
    base: usize,
    bytes: Classes,
}

/// A window's bytes by class, as bits.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Classes {
    /// Bytes the skim stops at: quotes, `$`, `-`, `/`, `;`, `:`, `\`.
    specials: u64,
    opens: u64,
    closes: u64,
    /// `'`: inside a string only these matter (a third of the special bytes the skim
    /// meets in strings of PostgreSQL's regression SQL are quotes; JSON and casts in
    /// literals make the rest).
    quotes: u64,
    /// `"`: likewise inside a quoted identifier.
    double_quotes: u64,
}

impl Window {
    pub(crate) fn new() -> Self {
        // No position is at or after `usize::MAX`: the first question classifies.
        Window {
            base: usize::MAX,
            bytes: Classes::default(),
        }
    }

    /// The first byte at or after `i` among the bits `of` picks from the classes.
    #[inline(always)]
    fn next<const LEVEL: u8>(
        &mut self,
        src: &[u8],
        i: usize,
        of: impl Fn(&Classes) -> u64,
    ) -> Option<usize> {
        self.next_crossing::<LEVEL>(src, i, of, |_, _| {})
    }

    /// The first special byte at or after `i`, counting the parentheses on the way into
    /// `depth`. Parentheses are a third of the bytes that matter to the skim; counted
    /// here, a few bits at a time, they never reach the skim's jump on the byte, which
    /// mispredicts for most bytes it is taken on.
    #[inline(always)]
    fn next_special_counting<const LEVEL: u8>(
        &mut self,
        src: &[u8],
        i: usize,
        depth: &mut u32,
    ) -> Option<usize> {
        self.next_crossing::<LEVEL>(
            src,
            i,
            |classes| classes.specials,
            |classes, crossed| {
                *depth = count_parens(*depth, classes.opens & crossed, classes.closes & crossed);
            },
        )
    }

    /// `next`, handing `crossed` the classes of each window it looks in and the bits of
    /// the bytes it steps over there, up to the byte found (all the rest of the window
    /// when there is none).
    #[inline(always)]
    fn next_crossing<const LEVEL: u8>(
        &mut self,
        src: &[u8],
        mut i: usize,
        of: impl Fn(&Classes) -> u64,
        mut crossed: impl FnMut(&Classes, u64),
    ) -> Option<usize> {
        loop {
            if let Some(offset) = i.checked_sub(self.base)
                && offset < WINDOW
            {
                let bits = of(&self.bytes) >> offset;
                // The bits from `i` up to the first one found (all of them when none is).
                crossed(&self.bytes, (bits ^ bits.wrapping_sub(1)) << offset);
                if bits != 0 {
                    return Some(i + bits.trailing_zeros() as usize);
                }
                i = self.base + WINDOW;
            }
            if i >= src.len() {
                return None;
            }
            self.classify::<LEVEL>(src, i);
        }
    }

    #[inline(always)]
    fn classify<const LEVEL: u8>(&mut self, src: &[u8], at: usize) {
        self.base = at;
        self.bytes = classes::<LEVEL>(src, at);
    }
}

/// The depth after the parentheses `opens` and `closes` (bits in text order), starting at
/// `depth`. A `)` at depth 0 is ignored, as psql ignores it.
#[inline(always)]
fn count_parens(depth: u32, opens: u64, closes: u64) -> u32 {
    let (opened, closed) = (opens.count_ones(), closes.count_ones());
    // The opens before the first `)`: each `)` after it has at least these open, and
    // `depth`, to close (`f(x)`, `(a, (b))`).
    let first_close = closes & closes.wrapping_neg();
    let open_before = (opens & first_close.wrapping_sub(1)).count_ones();
    if closed <= depth + open_before {
        // No prefix closes more than is open: the depth never goes below zero on the way.
        return depth + opened - closed;
    }
    // Otherwise take them in order (`f(x) + g(y)` at depth 0, or a `)` at depth 0).
    let (mut depth, mut both) = (depth, opens | closes);
    while both != 0 {
        let open = u32::from(opens >> both.trailing_zeros() & 1 == 1);
        depth = (depth + open).saturating_sub(1 - open);
        both &= both - 1;
    }
    depth
}

/// Classification levels: byte by byte, 16 bytes at a time (SSSE3), 32 (AVX2).
pub(crate) const BYTES: u8 = 0;
#[cfg(target_arch = "x86_64")]
pub(crate) const SSSE3: u8 = 1;
#[cfg(target_arch = "x86_64")]
pub(crate) const AVX2: u8 = 2;

/// The classes of the 64 bytes at `at` (fewer at the end of the text), as bits.
#[inline(always)]
fn classes<const LEVEL: u8>(src: &[u8], at: usize) -> Classes {
    #[cfg(target_arch = "x86_64")]
    if LEVEL != BYTES {
        let full = src
            .get(at..at + WINDOW)
            .map(|w| <&[u8; WINDOW]>::try_from(w).expect("64 bytes"));
        let padded;
        let window = match full {
            Some(window) => window,
            None => {
                // The end of the text: zero bytes are not special.
                let tail = &src[at..];
                let mut buf = [0u8; WINDOW];
                buf[..tail.len()].copy_from_slice(tail);
                padded = buf;
                &padded
            }
        };
        // SAFETY: `LEVEL` is SSSE3 or AVX2 only in code compiled for those features (the
        // splitter's `simd` module, or a test that checked), which runs only where the CPU
        // has them.
        return unsafe {
            if LEVEL == AVX2 {
                simd::classes_avx2(window)
            } else {
                simd::classes_ssse3(window)
            }
        };
    }
    classes_bytes(src, at)
}

/// `classes` a byte at a time: the reference, and CPUs without SSSE3.
fn classes_bytes(src: &[u8], at: usize) -> Classes {
    let end = src.len().min(at + WINDOW);
    let bits = |wanted: fn(u8) -> bool| {
        src[at..end]
            .iter()
            .enumerate()
            .fold(0, |bits, (k, &b)| bits | (u64::from(wanted(b)) << k))
    };
    Classes {
        specials: bits(|b| SKIM[b as usize] == SPECIAL),
        opens: bits(|b| b == b'('),
        closes: bits(|b| b == b')'),
        quotes: bits(|b| b == b'\''),
        double_quotes: bits(|b| b == b'"'),
    }
}

/// The end of the last non-space byte in `from..to` (bytes that are all plain or space),
/// if there is one.
#[inline(always)]
fn last_text_end(src: &[u8], from: usize, to: usize) -> Option<usize> {
    let mut k = to;
    while k > from && SKIM[src[k - 1] as usize] == SPACE {
        k -= 1;
    }
    (k > from).then_some(k)
}

/// Byte classification with `pshufb` nibble tables, as simdjson classifies JSON: each
/// byte's class is looked up by its low and by its high nibble, and the two lookups are
/// ANDed.
#[cfg(target_arch = "x86_64")]
mod simd {
    use std::arch::x86_64::*;

    use super::{Classes, WINDOW};

    // Class bits of the special bytes: S1 = `"` `$` `'` `-` `/` (0x2_), S2 = `:` `;`
    // (0x3_), S3 = `\` (0x5_). Parentheses are compared for directly.
    const S1: i8 = 1;
    const S2: i8 = 2;
    const S3: i8 = 4;
    const SPECIAL_BITS: i8 = S1 | S2 | S3;

    /// By low nibble: the classes whose bytes have that low nibble.
    const BY_LOW: [i8; 16] = [0, 0, S1, 0, S1, 0, 0, S1, 0, 0, S2, S2, S3, S1, 0, S1];
    /// By high nibble: the classes whose bytes have that high nibble (none at 0x8_ and
    /// above, so UTF-8 is plain).
    const BY_HIGH: [i8; 16] = [0, 0, S1, S2, 0, S3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];

    /// # Safety
    /// The CPU must support AVX2.
    #[inline]
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn classes_avx2(window: &[u8; WINDOW]) -> Classes {
        // `vpshufb` looks up within each 128-bit lane: both lanes hold the table.
        let table = |t: [i8; 16]| {
            // SAFETY: 16 bytes are read from the array, twice.
            unsafe {
                let half = _mm_loadu_si128(t.as_ptr().cast());
                _mm256_broadcastsi128_si256(half)
            }
        };
        let (by_low, by_high) = (table(BY_LOW), table(BY_HIGH));
        let nibble = _mm256_set1_epi8(0x0f);
        let half = |k: usize| {
            // SAFETY: `k` is 0 or 32, so the load reads inside the 64-byte window.
            let block = unsafe { _mm256_loadu_si256(window.as_ptr().add(k).cast()) };
            let low = _mm256_shuffle_epi8(by_low, _mm256_and_si256(block, nibble));
            let high = _mm256_shuffle_epi8(
                by_high,
                _mm256_and_si256(_mm256_srli_epi16(block, 4), nibble),
            );
            let special =
                _mm256_and_si256(_mm256_and_si256(low, high), _mm256_set1_epi8(SPECIAL_BITS));
            let none = _mm256_cmpeq_epi8(special, _mm256_setzero_si256());
            let mask = |v| u64::from(_mm256_movemask_epi8(v) as u32);
            Classes {
                specials: !mask(none) & 0xffff_ffff,
                opens: mask(_mm256_cmpeq_epi8(block, _mm256_set1_epi8(b'(' as i8))),
                closes: mask(_mm256_cmpeq_epi8(block, _mm256_set1_epi8(b')' as i8))),
                quotes: mask(_mm256_cmpeq_epi8(block, _mm256_set1_epi8(b'\'' as i8))),
                double_quotes: mask(_mm256_cmpeq_epi8(block, _mm256_set1_epi8(b'"' as i8))),
            }
        };
        let (low, high) = (half(0), half(32));
        Classes {
            specials: low.specials | high.specials << 32,
            opens: low.opens | high.opens << 32,
            closes: low.closes | high.closes << 32,
            quotes: low.quotes | high.quotes << 32,
            double_quotes: low.double_quotes | high.double_quotes << 32,
        }
    }

    /// # Safety
    /// The CPU must support SSSE3.
    #[inline]
    #[target_feature(enable = "ssse3")]
    pub(super) unsafe fn classes_ssse3(window: &[u8; WINDOW]) -> Classes {
        // SAFETY: 16 bytes are read from each array.
        let (by_low, by_high) = unsafe {
            (
                _mm_loadu_si128(BY_LOW.as_ptr().cast()),
                _mm_loadu_si128(BY_HIGH.as_ptr().cast()),
            )
        };
        let nibble = _mm_set1_epi8(0x0f);
        let mut classes = Classes::default();
        for k in [0, 16, 32, 48] {
            // SAFETY: `k` is at most 48, so the load reads inside the 64-byte window.
            let block = unsafe { _mm_loadu_si128(window.as_ptr().add(k).cast()) };
            let low = _mm_shuffle_epi8(by_low, _mm_and_si128(block, nibble));
            let high = _mm_shuffle_epi8(by_high, _mm_and_si128(_mm_srli_epi16(block, 4), nibble));
            let special = _mm_and_si128(_mm_and_si128(low, high), _mm_set1_epi8(SPECIAL_BITS));
            let none = _mm_cmpeq_epi8(special, _mm_setzero_si128());
            let mask = |v| u64::from(_mm_movemask_epi8(v) as u32 & 0xffff) << k;
            classes.specials |= !mask(none) & (0xffff << k);
            classes.opens |= mask(_mm_cmpeq_epi8(block, _mm_set1_epi8(b'(' as i8)));
            classes.closes |= mask(_mm_cmpeq_epi8(block, _mm_set1_epi8(b')' as i8)));
            classes.quotes |= mask(_mm_cmpeq_epi8(block, _mm_set1_epi8(b'\'' as i8)));
            classes.double_quotes |= mask(_mm_cmpeq_epi8(block, _mm_set1_epi8(b'"' as i8)));
        }
        classes
    }
}

/// The end of the plain `'…'` string at `at`, or of the quoted identifier `"…"` there:
/// `lexer::quoted_end` without escapes, or `lexer::ident_end`, found through the window's
/// bits for the quote, since strings and identifiers are short and a fresh search for each
/// costs more to set up than the literal takes to cross.
#[inline(always)]
fn quoted_end<const LEVEL: u8>(src: &[u8], at: usize, window: &mut Window) -> Option<usize> {
    let quote = src[at];
    let mut i = at + 1;
    loop {
        let closing = if quote == b'\'' {
            window.next::<LEVEL>(src, i, |c| c.quotes)
        } else {
            window.next::<LEVEL>(src, i, |c| c.double_quotes)
        }?;
        i = closing + 1;
        // A doubled quote is a quote inside the literal.
        if src.get(i) != Some(&quote) {
            return Some(i);
        }
        i += 1;
    }
}

/// The token the lexer would produce around `at` (a quote or `$` that does not start
/// at a known boundary, e.g. `E'…'`, `a$b`, `0.A$x$`): lexing restarts at the nearest
/// position before it that must be a token boundary (after whitespace, or the end of the
/// last token the skim delimited), so the lexer stays the one authority on tokens.
fn token_around(src: &[u8], floor: usize, at: usize) -> Result<Token, LexError> {
    let mut boundary = at;
    while boundary > floor && SKIM[src[boundary - 1] as usize] == PLAIN {
        boundary -= 1;
    }
    for token in Lexer::at(src, boundary) {
        let token = token?;
        if token.end > at {
            return Ok(token);
        }
    }
    unreachable!("the byte at {at} is not whitespace, so some token covers it")
}

/// Skims from `from` (a token boundary) to the end of the statement, starting at paren
/// depth `paren_depth`. `end` is the end of the statement's last significant byte so far.
/// `window` is the file's: positions only move forward through it. `LEVEL` is the
/// classification the CPU offers: the splitter's loop is compiled once per level, so that
/// this inlines into it (a call per statement cost about 45 instructions of entry and exit:
/// inlined, a split takes 1.9% fewer instructions).
#[inline(always)]
pub(crate) fn skim_with<const LEVEL: u8>(
    text: &str,
    from: usize,
    mut paren_depth: u32,
    mut end: usize,
    window: &mut Window,
    found: &mut Found<'_>,
) -> Result<Skimmed, LexError> {
    let src = text.as_bytes();
    let mut i = from;
    // Lookbacks for string prefixes and `$` never cross the end of the last token we
    // delimited ourselves (a dollar quote ends in `$`, an identifier byte).
    let mut floor = from;
    // Words, numbers, operators and spaces since the last token the skim delimited: the
    // statement's end moves to their last non-space byte, found only when it is needed
    // (at a comment or at the end of the statement).
    let mut plain_from = from;
    loop {
        let Some(at) = window.next_special_counting::<LEVEL>(src, i, &mut paren_depth) else {
            return Ok(Skimmed {
                stop: Stop::End,
                end: last_text_end(src, plain_from, src.len()).unwrap_or(end),
                paren_depth,
            });
        };
        let next = src.get(at + 1).copied().unwrap_or(0);
        let unclosed = |unclosed: Unclosed| LexError {
            unclosed,
            start: at,
        };
        let stopped = |stop: Stop, end: usize| Skimmed {
            stop,
            end: last_text_end(src, plain_from, at).unwrap_or(end),
            paren_depth,
        };
        let token_end = match src[at] {
            b';' if paren_depth == 0 => return Ok(stopped(Stop::Semicolon(at), end)),
            b'\\' => return Ok(stopped(Stop::Backslash(at), end)),
            b'-' | b'/' if (src[at], next) == (b'-', b'-') || (src[at], next) == (b'/', b'*') => {
                end = last_text_end(src, plain_from, at).unwrap_or(end);
                let (kind, comment_end) = if src[at] == b'-' {
                    (TokenKind::LineComment, line_end(src, at))
                } else {
                    let comment_end = block_comment_end(src, at).map_err(unclosed)?;
                    (TokenKind::BlockComment, comment_end)
                };
                found.comments.push(Token {
                    kind,
                    start: at,
                    end: comment_end,
                });
                i = comment_end;
                floor = i;
                plain_from = i;
                continue;
            }
            b'\'' | b'"' | b'$' if at > floor && SKIM[src[at - 1] as usize] == PLAIN => {
                // A prefix (`E'`, `U&"`), an identifier (`a$b`) or a number (`1$$…$$`)
                // decides what this byte starts: ask the lexer.
                let token = token_around(src, floor, at)?;
                if token.kind.is_literal() {
                    found.literals.push(token);
                }
                token.end
            }
            b'\'' => {
                let end = quoted_end::<LEVEL>(src, at, window).ok_or(unclosed(Unclosed::String))?;
                found.literals.push(Token {
                    kind: TokenKind::String,
                    start: at,
                    end,
                });
                end
            }
            b'"' => quoted_end::<LEVEL>(src, at, window).ok_or(unclosed(Unclosed::QuotedIdent))?,
            b'$' => {
                let (kind, end) = dollar(src, at).map_err(unclosed)?;
                if kind == TokenKind::DollarString {
                    found.literals.push(Token {
                        kind,
                        start: at,
                        end,
                    });
                }
                end
            }
            b':' => {
                let (kind, token_end) = colon(src, at);
                if kind == TokenKind::Variable {
                    found
                        .params
                        .push(super::splitter::param_at(text, at, token_end));
                }
                token_end
            }
            // `;` inside parentheses, and `-` or `/` that start no comment.
            _ => at + 1,
        };
        i = token_end;
        end = i;
        floor = i;
        plain_from = i;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every level of classification the CPU offers, the byte loop first.
    fn levels() -> Vec<fn(&[u8], usize) -> Classes> {
        let mut levels: Vec<fn(&[u8], usize) -> Classes> = vec![classes_bytes];
        #[cfg(target_arch = "x86_64")]
        {
            assert!(
                std::arch::is_x86_feature_detected!("ssse3"),
                "this test needs SSSE3"
            );
            levels.push(classes::<SSSE3>);
            if std::arch::is_x86_feature_detected!("avx2") {
                levels.push(classes::<AVX2>);
            }
        }
        levels
    }

    /// Every byte value, alone among letters, at every place of a window and of a short
    /// tail: the vector classifications agree with the byte loop.
    #[test]
    fn vector_and_byte_classification_agree_on_every_byte_value() {
        for b in 0..=255u8 {
            for len in [64, 70, 23] {
                for at in 0..len {
                    let mut src = vec![b'a'; len];
                    src[at] = b;
                    let from = len.saturating_sub(64).min(3);
                    let expected = classes_bytes(&src, from);
                    for level in levels() {
                        assert_eq!(
                            level(&src, from),
                            expected,
                            "byte {b:#04x} at {at} of {len}"
                        );
                    }
                }
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn vector_and_byte_classification_agree(
            src in proptest::collection::vec(proptest::sample::select(b"a ;\n\t'(-\xc3\xa9x\r\\:$/\")".to_vec()), 0..150),
            from in 0usize..150,
        ) {
            let from = from.min(src.len());
            let expected = classes_bytes(&src, from);
            for level in levels() {
                proptest::prop_assert_eq!(level(&src, from), expected);
            }
        }

        /// Parentheses counted a window at a time give the depth that counting them one
        /// at a time gives, a `)` at depth 0 ignored.
        #[test]
        fn parens_count_as_one_at_a_time(
            depth in 0u32..6,
            parens in proptest::array::uniform3(proptest::num::u64::ANY),
            sparse in proptest::bool::ANY,
        ) {
            let [a, b, c] = parens;
            // Sparse masks take the fast path more often; dense ones the ordered one.
            let (opens, closes) = if sparse { (a & b & !c, a & !b & c) } else { (a & !b, b) };
            let mut expected = depth;
            for k in 0..64 {
                if opens >> k & 1 == 1 {
                    expected += 1;
                } else if closes >> k & 1 == 1 {
                    expected = expected.saturating_sub(1);
                }
            }
            proptest::prop_assert_eq!(count_parens(depth, opens, closes), expected);
        }
    }
}
