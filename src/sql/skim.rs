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
    mut paren_depth: u32,
    mut end: usize,
    params: &mut Vec<Param>,
    comments: &mut Vec<Token>,
    literals: &mut Vec<Token>,
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
            let run = i;
            while i < len && SKIM[src[i] as usize] != SPECIAL {
                i += 1;
            }
            let mut last = i;
            while last > run && SKIM[src[last - 1] as usize] == SPACE {
                last -= 1;
            }
            if last > run {
                end = last;
            }
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
                comments.push(Token {
                    kind: TokenKind::LineComment,
                    start,
                    end: i,
                });
                floor = i;
                continue;
            }
            b'/' if next == b'*' => {
                i = block_comment_end(src, i).map_err(unclosed)?;
                comments.push(Token {
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
                    literals.push(token);
                }
                token.end
            }
            b'\'' => {
                let end = quoted_end(src, i + 1, false).map_err(unclosed)?;
                literals.push(Token {
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
                    literals.push(Token { kind, start, end });
                }
                end
            }
            b':' => {
                let (kind, token_end) = colon(src, i);
                if kind == TokenKind::Variable {
                    params.push(super::splitter::param_at(text, i, token_end));
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
