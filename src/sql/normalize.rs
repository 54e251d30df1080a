//! A statement's text reduced to what PostgreSQL reads: its tokens without comments, with
//! unquoted words lower-cased. Two texts that differ only in comments, whitespace or the
//! case of keywords normalise alike, which is what the lint baseline keys on and what
//! `apply` uses to tell an edited comment from drift.

use super::lexer::{Lexer, TokenKind};

/// FNV-1a (64 bit) of the normalised tokens of `src[range]`. The function is fixed here
/// because the values are stored (in baselines and ledgers) and must not change between
/// releases or platforms, which `std`'s hashers do not promise.
pub fn normalized_hash(src: &str, start: usize, end: usize) -> u64 {
    let mut hash = Fnv::new();
    for token in Lexer::at(&src.as_bytes()[..end.min(src.len())], start).map_while(Result::ok) {
        if token.kind.is_comment() {
            continue;
        }
        let text = token.text(src);
        if token.kind == TokenKind::Word {
            text.bytes().for_each(|b| hash.byte(b.to_ascii_lowercase()));
        } else {
            text.bytes().for_each(|b| hash.byte(b));
        }
        // A separator, so that `a b` and `ab` differ.
        hash.byte(0);
    }
    hash.0
}

struct Fnv(u64);

impl Fnv {
    fn new() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }

    fn byte(&mut self, b: u8) {
        self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hash(s: &str) -> u64 {
        normalized_hash(s, 0, s.len())
    }

    #[test]
    fn comments_whitespace_and_keyword_case_do_not_count() {
        assert_eq!(
            hash("UPDATE leads SET a = 1 -- why\n"),
            hash("update  leads\n  set a=1 /* other */")
        );
        assert_ne!(
            hash("update leads set a = 1"),
            hash("update leads set a = 2")
        );
        assert_ne!(hash("select 'A'"), hash("select 'a'"));
        assert_ne!(hash("select \"A\""), hash("select \"a\""));
        // Pinned: the value is stored in baselines.
        assert_eq!(format!("{:016x}", hash("SELECT 1")), "578e931a2ba77216");
    }
}
