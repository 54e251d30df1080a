//! The splitter's fast path: finds where a statement ends without producing tokens for
//! the words, numbers and operators in between. Only the bytes that can change a boundary
//! are looked at: quotes, comments, `$`, `;`, parentheses, `:` (parameters) and `\`
//! (psql meta-commands). Everything it decides agrees with the lexer, which the tests
//! check against a token-only split on arbitrary input.

use super::lexer::{
    LexError, Lexer, Token, TokenKind, Unclosed, block_comment_end, colon, dollar, ident_end,
    line_end, quoted_end,
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

/// The end of the run of non-special bytes at `from`; `end` moves past its last
/// non-space byte, if it has one. `BLOCKS`: sixteen bytes at a time.
#[inline(always)]
fn plain_run<const BLOCKS: bool>(src: &[u8], from: usize, end: &mut usize) -> usize {
    #[cfg(target_arch = "x86_64")]
    if BLOCKS {
        // SAFETY: `BLOCKS` is true only under `block::skim` (or a test that checked),
        // which run only where the CPU has SSSE3.
        return unsafe { block::plain_run(src, from, end) };
    }
    plain_run_bytes(src, from, end)
}

/// `plain_run` a byte at a time: the reference, and the tail shorter than a block.
fn plain_run_bytes(src: &[u8], from: usize, end: &mut usize) -> usize {
    let mut i = from;
    while i < src.len() && SKIM[src[i] as usize] != SPECIAL {
        i += 1;
    }
    let mut last = i;
    while last > from && SKIM[src[last - 1] as usize] == SPACE {
        last -= 1;
    }
    if last > from {
        *end = last;
    }
    i
}

/// `plain_run` sixteen bytes at a time. Runs average about a dozen bytes in SQL, so a
/// block classifies the whole run at once: each byte's class is looked up by its low and
/// its high nibble (two `pshufb` table lookups), as simdjson classifies JSON.
#[cfg(target_arch = "x86_64")]
mod block {
    use std::arch::x86_64::*;

    use super::{Found, LexError, Skimmed, plain_run_bytes};

    // Class bits. Specials: S1 = `"` `$` `'` `(` `)` `-` `/` (0x2_), S2 = `:` `;` (0x3_),
    // S3 = `\` (0x5_). Spaces: W1 = ` ` (0x2_), W2 = `\t` `\n` `\v` `\f` `\r` (0x0_).
    const S1: i8 = 1;
    const S2: i8 = 2;
    const S3: i8 = 4;
    const W1: i8 = 8;
    const W2: i8 = 16;
    const SPECIAL_BITS: i8 = S1 | S2 | S3;
    const SPACE_BITS: i8 = W1 | W2;

    /// `super::skim` compiled for SSSE3, so that the block scan inlines into its loop.
    ///
    /// # Safety
    /// The CPU must support SSSE3.
    #[target_feature(enable = "ssse3")]
    pub(super) unsafe fn skim(
        text: &str,
        from: usize,
        paren_depth: u32,
        end: usize,
        found: &mut Found<'_>,
    ) -> Result<Skimmed, LexError> {
        super::skim_with::<true>(text, from, paren_depth, end, found)
    }

    /// # Safety
    /// The CPU must support SSSE3.
    #[inline]
    #[target_feature(enable = "ssse3")]
    pub(super) unsafe fn plain_run(src: &[u8], from: usize, end: &mut usize) -> usize {
        // By low nibble: the classes whose bytes have that low nibble.
        let by_low = _mm_setr_epi8(
            W1,
            0,
            S1,
            0,
            S1,
            0,
            0,
            S1,
            S1,
            S1 | W2,
            S2 | W2,
            S2 | W2,
            S3 | W2,
            S1 | W2,
            0,
            S1,
        );
        // By high nibble: the classes whose bytes have that high nibble (none at 0x8_ and
        // above, so UTF-8 is plain).
        let by_high = _mm_setr_epi8(W2, 0, S1 | W1, S2, 0, S3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
        let nibble = _mm_set1_epi8(0x0f);
        let zero = _mm_setzero_si128();
        let mut i = from;
        while i + 16 <= src.len() {
            // SAFETY: `i + 16 <= src.len()`, and the load is unaligned.
            let block = unsafe { _mm_loadu_si128(src.as_ptr().add(i).cast()) };
            let low = _mm_shuffle_epi8(by_low, _mm_and_si128(block, nibble));
            let high = _mm_shuffle_epi8(by_high, _mm_and_si128(_mm_srli_epi16(block, 4), nibble));
            let class = _mm_and_si128(low, high);
            let not = |bits: i8| {
                let none = _mm_cmpeq_epi8(_mm_and_si128(class, _mm_set1_epi8(bits)), zero);
                !(_mm_movemask_epi8(none) as u32) & 0xffff
            };
            let special = not(SPECIAL_BITS);
            let space = not(SPACE_BITS);
            // Bytes before the first special (all 16 if there is none).
            let before = (1u32 << special.trailing_zeros().min(16)) - 1;
            let text = !space & before;
            if text != 0 {
                *end = i + 32 - text.leading_zeros() as usize;
            }
            if special != 0 {
                return i + special.trailing_zeros() as usize;
            }
            i += 16;
        }
        plain_run_bytes(src, i, end)
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
pub(crate) fn skim(
    text: &str,
    from: usize,
    paren_depth: u32,
    end: usize,
    found: &mut Found<'_>,
) -> Result<Skimmed, LexError> {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("ssse3") {
        // SAFETY: the CPU has SSSE3 (checked just above).
        return unsafe { block::skim(text, from, paren_depth, end, found) };
    }
    skim_with::<false>(text, from, paren_depth, end, found)
}

#[inline(always)]
fn skim_with<const BLOCKS: bool>(
    text: &str,
    from: usize,
    mut paren_depth: u32,
    mut end: usize,
    found: &mut Found<'_>,
) -> Result<Skimmed, LexError> {
    let src = text.as_bytes();
    let mut i = from;
    // Lookbacks for string prefixes and `$` never cross the end of the last token we
    // delimited ourselves (a dollar quote ends in `$`, an identifier byte).
    let mut floor = from;
    let len = src.len();
    while i < len {
        if SKIM[src[i] as usize] != SPECIAL {
            // Words, numbers, operators and spaces: run to the next special byte; the
            // statement's end moves to the last non-space byte of the run.
            i = plain_run::<BLOCKS>(src, i, &mut end);
            continue;
        }
        let start = i;
        let next = src.get(i + 1).copied().unwrap_or(0);
        let unclosed = |unclosed: Unclosed| LexError { unclosed, start };
        let token_end = match src[i] {
            b';' if paren_depth == 0 => {
                return Ok(Skimmed {
                    stop: Stop::Semicolon(i),
                    end,
                    paren_depth,
                });
            }
            b';' => i + 1,
            b'\\' => {
                return Ok(Skimmed {
                    stop: Stop::Backslash(i),
                    end,
                    paren_depth,
                });
            }
            b'(' => {
                paren_depth += 1;
                i + 1
            }
            b')' => {
                paren_depth = paren_depth.saturating_sub(1);
                i + 1
            }
            b'-' if next == b'-' => {
                i = line_end(src, i);
                found.comments.push(Token {
                    kind: TokenKind::LineComment,
                    start,
                    end: i,
                });
                floor = i;
                continue;
            }
            b'/' if next == b'*' => {
                i = block_comment_end(src, i).map_err(unclosed)?;
                found.comments.push(Token {
                    kind: TokenKind::BlockComment,
                    start,
                    end: i,
                });
                floor = i;
                continue;
            }
            b'-' | b'/' => i + 1,
            b'\'' | b'"' | b'$' if i > floor && SKIM[src[i - 1] as usize] == PLAIN => {
                // A prefix (`E'`, `U&"`), an identifier (`a$b`) or a number (`1$$…$$`)
                // decides what this byte starts: ask the lexer.
                let token = token_around(src, floor, i)?;
                if token.kind.is_literal() {
                    found.literals.push(token);
                }
                token.end
            }
            b'\'' => {
                let end = quoted_end(src, i + 1, false).map_err(unclosed)?;
                found.literals.push(Token {
                    kind: TokenKind::String,
                    start,
                    end,
                });
                end
            }
            b'"' => ident_end(src, i + 1).map_err(unclosed)?,
            b'$' => {
                let (kind, end) = dollar(src, i).map_err(unclosed)?;
                if kind == TokenKind::DollarString {
                    found.literals.push(Token { kind, start, end });
                }
                end
            }
            b':' => {
                let (kind, token_end) = colon(src, i);
                if kind == TokenKind::Variable {
                    found
                        .params
                        .push(super::splitter::param_at(text, i, token_end));
                }
                token_end
            }
            _ => i + 1,
        };
        i = token_end;
        end = i;
        floor = i;
    }
    Ok(Skimmed {
        stop: Stop::End,
        end,
        paren_depth,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run_in_blocks(src: &[u8], from: usize, end: &mut usize) -> usize {
        #[cfg(target_arch = "x86_64")]
        assert!(
            std::arch::is_x86_feature_detected!("ssse3"),
            "this test needs SSSE3"
        );
        plain_run::<true>(src, from, end)
    }

    /// Every byte value, alone in a block of letters, and at every place in it: the block
    /// scan agrees with the byte loop.
    #[test]
    fn block_and_byte_runs_agree_on_every_byte_value() {
        for b in 0..=255u8 {
            for at in 0..40 {
                let mut src = vec![b'a'; 40];
                src[at] = b;
                src[0] = b'a';
                let (mut fast_end, mut slow_end) = (0, 0);
                let fast = run_in_blocks(&src, 0, &mut fast_end);
                let slow = plain_run_bytes(&src, 0, &mut slow_end);
                assert_eq!((fast, fast_end), (slow, slow_end), "byte {b:#04x} at {at}");
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn block_and_byte_runs_agree(
            src in proptest::collection::vec(proptest::sample::select(b"a ;\n\t'(-\xc3\xa9x\r".to_vec()), 1..70)
        ) {
            let from = src.iter().position(|&b| SKIM[b as usize] != SPECIAL).unwrap_or(0);
            if SKIM[src[from] as usize] != SPECIAL {
                let (mut fast_end, mut slow_end) = (7, 7);
                let fast = run_in_blocks(&src, from, &mut fast_end);
                let slow = plain_run_bytes(&src, from, &mut slow_end);
                proptest::prop_assert_eq!((fast, fast_end), (slow, slow_end));
            }
        }
    }
}
