//! Case-insensitive search for a keyword in a statement's bytes: the classifier's cheap
//! filter before it reads tokens (`SELECT … INTO`, `… CONCURRENTLY`). Statements are
//! short (about ninety bytes), where a general substring search pays more to set up than
//! the search costs.

/// Whether `hay` contains `needle` (ASCII letters, at least four) in any case.
pub(crate) fn contains_ignoring_ascii_case(hay: &[u8], needle: &[u8]) -> bool {
    debug_assert!(needle.len() >= 4 && needle.iter().all(u8::is_ascii_alphabetic));
    let confirm = |at: usize| {
        hay.get(at..at + needle.len())
            .is_some_and(|w| w.eq_ignore_ascii_case(needle))
    };
    #[cfg(target_arch = "x86_64")]
    if hay.len() >= BLOCK_SPAN {
        return candidates_in_blocks(hay, needle, confirm);
    }
    (0..hay.len()).any(confirm)
}

/// Bytes one block of candidates reads: sixteen starts and the three bytes after the last.
#[cfg(target_arch = "x86_64")]
const BLOCK_SPAN: usize = 16 + 3;

/// Tests sixteen starting positions at a time against the needle's first four letters
/// (SSE2, which every x86-64 CPU has), and confirms only where all four match.
#[cfg(target_arch = "x86_64")]
fn candidates_in_blocks(hay: &[u8], needle: &[u8], confirm: impl Fn(usize) -> bool) -> bool {
    use std::arch::x86_64::{
        __m128i, _mm_and_si128, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_or_si128,
        _mm_set1_epi8,
    };

    // Letters differ from their capitals only in bit 5: with it set, both cases compare
    // equal to the lower-case letter, and no other byte does.
    let fold = |b: u8| (b | 0x20) as i8;
    let starts_at = |at: usize| -> u32 {
        debug_assert!(at + BLOCK_SPAN <= hay.len());
        // SAFETY: SSE2 is part of x86-64; every load reads `at + k .. at + k + 16` with
        // `k <= 3`, inside `hay` since `at + 19 <= hay.len()`; the loads are unaligned.
        unsafe {
            let case = _mm_set1_epi8(0x20);
            let letter = |k: usize| {
                let block = _mm_loadu_si128(hay.as_ptr().add(at + k).cast::<__m128i>());
                _mm_cmpeq_epi8(_mm_or_si128(block, case), _mm_set1_epi8(fold(needle[k])))
            };
            let all = _mm_and_si128(
                _mm_and_si128(letter(0), letter(1)),
                _mm_and_si128(letter(2), letter(3)),
            );
            _mm_movemask_epi8(all) as u32
        }
    };
    let confirm_any = |at: usize, mut starts: u32| {
        while starts != 0 {
            if confirm(at + starts.trailing_zeros() as usize) {
                return true;
            }
            starts &= starts - 1;
        }
        false
    };
    let mut at = 0;
    while at + BLOCK_SPAN <= hay.len() {
        if confirm_any(at, starts_at(at)) {
            return true;
        }
        at += 16;
    }
    // The tail: the last block's span again, without the starts already tested.
    let last = hay.len() - BLOCK_SPAN;
    at < hay.len() && confirm_any(last, starts_at(last) & (u32::MAX << (at - last)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference(hay: &[u8], needle: &[u8]) -> bool {
        hay.windows(needle.len())
            .any(|w| w.eq_ignore_ascii_case(needle))
    }

    #[test]
    fn finds_words_in_any_case_at_every_position() {
        for len in 0..60 {
            for at in 0..len.max(1) {
                let mut hay = vec![b'x'; len];
                let word = b"InTo";
                if at + 4 <= len {
                    hay[at..at + 4].copy_from_slice(word);
                }
                assert_eq!(
                    contains_ignoring_ascii_case(&hay, b"into"),
                    at + 4 <= len,
                    "len {len}, at {at}"
                );
            }
        }
        // Bytes that differ from a letter only in bit 5 besides its capital do not match.
        assert!(!contains_ignoring_ascii_case(
            b"select 1 \x09\x0e\x14\x0f from t",
            b"into"
        ));
        // Letters beyond the fourth are confirmed.
        assert!(!contains_ignoring_ascii_case(
            b"select x from t where concurrent = 1",
            b"concurrently"
        ));
        assert!(contains_ignoring_ascii_case(
            b"REINDEX (CONCURRENTLY) INDEX i",
            b"concurrently"
        ));
        assert!(!contains_ignoring_ascii_case(
            b"REINDEX (CONCURRENT) INDEX i ......",
            b"concurrently"
        ));
    }

    proptest::proptest! {
        #[test]
        fn agrees_with_a_plain_search(
            hay in proptest::collection::vec(proptest::sample::select(b"inTONto I\x09\x0e\x14\x0f_".to_vec()), 0..90)
        ) {
            proptest::prop_assert_eq!(
                contains_ignoring_ascii_case(&hay, b"into"),
                reference(&hay, b"into")
            );
        }
    }
}
