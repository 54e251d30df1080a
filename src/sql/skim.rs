//! The splitter's fast path: finds where a statement ends without producing tokens for
//! the words, numbers and operators in between. Only the bytes that can change a boundary
//! are looked at: quotes, comments, `$`, `;`, parentheses, `:` (parameters) and `\`
//! (psql meta-commands). Everything it decides agrees with the lexer, which the tests
//! check against a token-only split on arbitrary input.

use super::lexer::{
    LexError, Lexer, Token, TokenKind, Unclosed, block_comment_end, colon, dollar, ident_end,
    line_end,
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

const fn skim_classes() -> [u8; 256] {
    let mut t = [PLAIN; 256];
    let specials = b"'\"$-/;():\\";
    let mut i = 0;
    while i < specials.len() {
        t[specials[i] as usize] = SPECIAL;
        i += 1;
    }
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
/// byte at `base + k`). It depends only on the text, so one window serves every skim of
/// a file: statements average about ninety bytes and hold a special byte every dozen, so
/// one classification of sixty-four bytes answers several questions.
pub(crate) struct Window {
    base: usize,
    bits: u64,
}

impl Window {
    pub(crate) fn new() -> Self {
        // No position is at or after `usize::MAX`: the first question classifies.
        Window {
            base: usize::MAX,
            bits: 0,
        }
    }

    /// The first special byte at or after `i`.
    #[inline(always)]
    fn next_special<const LEVEL: u8>(&mut self, src: &[u8], mut i: usize) -> Option<usize> {
        loop {
            if let Some(offset) = i.checked_sub(self.base)
                && offset < WINDOW
            {
                let bits = self.bits >> offset;
                if bits != 0 {
                    return Some(i + bits.trailing_zeros() as usize);
                }
                i = self.base + WINDOW;
            }
            if i >= src.len() {
                return None;
            }
            self.base = i;
            self.bits = specials::<LEVEL>(src, i);
        }
    }
}

/// Classification levels: byte by byte, 16 bytes at a time (SSSE3), 32 (AVX2).
pub(crate) const BYTES: u8 = 0;
#[cfg(target_arch = "x86_64")]
pub(crate) const SSSE3: u8 = 1;
#[cfg(target_arch = "x86_64")]
pub(crate) const AVX2: u8 = 2;

/// The special bytes among the 64 at `at` (fewer at the end of the text), as bits.
#[inline(always)]
fn specials<const LEVEL: u8>(src: &[u8], at: usize) -> u64 {
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
                simd::specials_avx2(window)
            } else {
                simd::specials_ssse3(window)
            }
        };
    }
    specials_bytes(src, at)
}

/// `specials` a byte at a time: the reference, and CPUs without SSSE3.
fn specials_bytes(src: &[u8], at: usize) -> u64 {
    let end = src.len().min(at + WINDOW);
    src[at..end].iter().enumerate().fold(0, |bits, (k, &b)| {
        bits | (u64::from(SKIM[b as usize] == SPECIAL) << k)
    })
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

    use super::WINDOW;

    // Class bits of the special bytes: S1 = `"` `$` `'` `(` `)` `-` `/` (0x2_),
    // S2 = `:` `;` (0x3_), S3 = `\` (0x5_).
    const S1: i8 = 1;
    const S2: i8 = 2;
    const S3: i8 = 4;
    const SPECIAL_BITS: i8 = S1 | S2 | S3;

    /// By low nibble: the classes whose bytes have that low nibble.
    const BY_LOW: [i8; 16] = [0, 0, S1, 0, S1, 0, 0, S1, S1, S1, S2, S2, S3, S1, 0, S1];
    /// By high nibble: the classes whose bytes have that high nibble (none at 0x8_ and
    /// above, so UTF-8 is plain).
    const BY_HIGH: [i8; 16] = [0, 0, S1, S2, 0, S3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];

    /// # Safety
    /// The CPU must support AVX2.
    #[inline]
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn specials_avx2(window: &[u8; WINDOW]) -> u64 {
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
        let not_special = |k: usize| {
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
            u64::from(_mm256_movemask_epi8(none) as u32)
        };
        !(not_special(0) | not_special(32) << 32)
    }

    /// # Safety
    /// The CPU must support SSSE3.
    #[inline]
    #[target_feature(enable = "ssse3")]
    pub(super) unsafe fn specials_ssse3(window: &[u8; WINDOW]) -> u64 {
        // SAFETY: 16 bytes are read from each array.
        let (by_low, by_high) = unsafe {
            (
                _mm_loadu_si128(BY_LOW.as_ptr().cast()),
                _mm_loadu_si128(BY_HIGH.as_ptr().cast()),
            )
        };
        let nibble = _mm_set1_epi8(0x0f);
        let not_special = |k: usize| {
            // SAFETY: `k` is at most 48, so the load reads inside the 64-byte window.
            let block = unsafe { _mm_loadu_si128(window.as_ptr().add(k).cast()) };
            let low = _mm_shuffle_epi8(by_low, _mm_and_si128(block, nibble));
            let high = _mm_shuffle_epi8(by_high, _mm_and_si128(_mm_srli_epi16(block, 4), nibble));
            let special = _mm_and_si128(_mm_and_si128(low, high), _mm_set1_epi8(SPECIAL_BITS));
            let none = _mm_cmpeq_epi8(special, _mm_setzero_si128());
            u64::from(_mm_movemask_epi8(none) as u32 & 0xffff)
        };
        !(not_special(0) | not_special(16) << 16 | not_special(32) << 32 | not_special(48) << 48)
    }
}

/// The end of the plain `'…'` string at `at`: `lexer::quoted_end` without escapes, found
/// through the window (a quote is a special byte), since strings are short and a fresh
/// search for each costs more to set up than the string takes to cross.
#[inline(always)]
fn string_end<const LEVEL: u8>(
    src: &[u8],
    at: usize,
    window: &mut Window,
) -> Result<usize, Unclosed> {
    let mut i = at + 1;
    loop {
        let Some(special) = window.next_special::<LEVEL>(src, i) else {
            return Err(Unclosed::String);
        };
        i = special + 1;
        if src[special] == b'\'' {
            // `''` is a quote inside the string.
            if src.get(i) != Some(&b'\'') {
                return Ok(i);
            }
            i += 1;
        }
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
        let Some(at) = window.next_special::<LEVEL>(src, i) else {
            return Ok(Skimmed {
                stop: Stop::End,
                end: last_text_end(src, plain_from, src.len()).unwrap_or(end),
                paren_depth,
            });
        };
        let byte = src[at];
        if byte | 1 == b')' {
            // A third of the special bytes are parentheses. Taken apart from the `match`,
            // whose jump on the byte is mispredicted for most special bytes (the order of
            // quotes, parentheses and comments follows the text), and counted without
            // a branch of their own.
            let open = u32::from(byte == b'(');
            paren_depth = (paren_depth + open).saturating_sub(1 - open);
            i = at + 1;
            end = i;
            floor = i;
            plain_from = i;
            continue;
        }
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
                let end = string_end::<LEVEL>(src, at, window).map_err(unclosed)?;
                found.literals.push(Token {
                    kind: TokenKind::String,
                    start: at,
                    end,
                });
                end
            }
            b'"' => ident_end(src, at + 1).map_err(unclosed)?,
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
    fn levels() -> Vec<fn(&[u8], usize) -> u64> {
        let mut levels: Vec<fn(&[u8], usize) -> u64> = vec![specials_bytes];
        #[cfg(target_arch = "x86_64")]
        {
            assert!(
                std::arch::is_x86_feature_detected!("ssse3"),
                "this test needs SSSE3"
            );
            levels.push(specials::<SSSE3>);
            if std::arch::is_x86_feature_detected!("avx2") {
                levels.push(specials::<AVX2>);
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
                    let expected = specials_bytes(&src, from);
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
            let expected = specials_bytes(&src, from);
            for level in levels() {
                proptest::prop_assert_eq!(level(&src, from), expected);
            }
        }
    }
}
