//! Case-insensitive search for a keyword in a statement's bytes: the classifier's cheap
//! filter before it reads tokens (`SELECT … INTO`, `… CONCURRENTLY`). Statements are
//! short (about ninety bytes), where a general substring search pays more to set up than
//! the search costs. Custom lint patterns search whole files for their first word with it
//! too (`lint::pattern`): it tests a byte in half the instructions of the regex crate's
//! case-insensitive literal search (Teddy).

/// Whether `hay` contains `needle` (ASCII letters, at least four) in any case.
pub(crate) fn contains_ignoring_ascii_case(hay: &[u8], needle: &[u8]) -> bool {
    debug_assert!(needle.iter().all(u8::is_ascii_alphabetic));
    find_ignoring_ascii_case(hay, needle).is_some()
}

/// Where `needle` (at least four bytes) first starts in `hay`, in any ASCII case. Fastest
/// when its first four bytes are letters; other bytes only let through more candidates,
/// which are confirmed byte by byte.
#[inline]
pub(crate) fn find_ignoring_ascii_case(hay: &[u8], needle: &[u8]) -> Option<usize> {
    debug_assert!(needle.len() >= 4);
    #[cfg(target_arch = "x86_64")]
    {
        if hay.len() >= 32 + 3 && std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU has AVX2 (checked just above).
            return unsafe { simd::find_avx2(hay, needle) };
        }
        if hay.len() >= 16 + 3 {
            return simd::find_sse2(hay, needle);
        }
    }
    (0..hay.len()).find(|&at| confirmed(hay, needle, at))
}

/// Whether `needle` is at `at` in `hay`, in any case.
#[inline(always)]
fn confirmed(hay: &[u8], needle: &[u8], at: usize) -> bool {
    hay.get(at..at + needle.len())
        .is_some_and(|w| w.eq_ignore_ascii_case(needle))
}

/// Tests 16 or 32 starting positions at a time against the needle's first four letters,
/// and confirms only where all four match. Letters differ from their capitals only in
/// bit 5: with it set, both cases compare equal to the lower-case letter, and no other
/// byte does.
#[cfg(target_arch = "x86_64")]
mod simd {
    use std::arch::x86_64::*;

    use super::confirmed;

    /// Runs `starts_at` (the candidate bits of `width` starts, reading `width + 3` bytes)
    /// over `hay`, which holds at least `width + 3` bytes, and returns the first confirmed
    /// start; the tail is the last block again, without the starts already tested.
    #[inline(always)]
    fn search(
        hay: &[u8],
        needle: &[u8],
        width: usize,
        starts_at: impl Fn(usize) -> u32,
    ) -> Option<usize> {
        let span = width + 3;
        debug_assert!(hay.len() >= span);
        let confirm_first = |at: usize, mut starts: u32| {
            while starts != 0 {
                let start = at + starts.trailing_zeros() as usize;
                if confirmed(hay, needle, start) {
                    return Some(start);
                }
                starts &= starts - 1;
            }
            None
        };
        let mut at = 0;
        while at + span <= hay.len() {
            if let Some(start) = confirm_first(at, starts_at(at)) {
                return Some(start);
            }
            at += width;
        }
        // `at - last` is at most `width`: then every start is tested already.
        let last = hay.len() - span;
        let untested = u32::MAX.checked_shl((at - last) as u32).unwrap_or(0);
        if untested == 0 {
            return None;
        }
        confirm_first(last, starts_at(last) & untested)
    }

    /// # Safety
    /// The CPU must support AVX2.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn find_avx2(hay: &[u8], needle: &[u8]) -> Option<usize> {
        search(hay, needle, 32, |at| {
            let case = _mm256_set1_epi8(0x20);
            let letter = |k: usize| {
                // SAFETY: `at + k + 32 <= at + 35 <= hay.len()` (see `search`); unaligned.
                let block = unsafe { _mm256_loadu_si256(hay.as_ptr().add(at + k).cast()) };
                let folded = _mm256_set1_epi8((needle[k] | 0x20) as i8);
                _mm256_cmpeq_epi8(_mm256_or_si256(block, case), folded)
            };
            let all = _mm256_and_si256(
                _mm256_and_si256(letter(0), letter(1)),
                _mm256_and_si256(letter(2), letter(3)),
            );
            _mm256_movemask_epi8(all) as u32
        })
    }

    pub(super) fn find_sse2(hay: &[u8], needle: &[u8]) -> Option<usize> {
        search(hay, needle, 16, |at| {
            // SAFETY: SSE2 is part of x86-64; every load reads `at + k .. at + k + 16`
            // with `k <= 3`, inside `hay` (see `search`); the loads are unaligned.
            unsafe {
                let case = _mm_set1_epi8(0x20);
                let letter = |k: usize| {
                    let block = _mm_loadu_si128(hay.as_ptr().add(at + k).cast());
                    let folded = _mm_set1_epi8((needle[k] | 0x20) as i8);
                    _mm_cmpeq_epi8(_mm_or_si128(block, case), folded)
                };
                let all = _mm_and_si128(
                    _mm_and_si128(letter(0), letter(1)),
                    _mm_and_si128(letter(2), letter(3)),
                );
                _mm_movemask_epi8(all) as u32
            }
        })
    }
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
            let expected = reference(&hay, b"into");
            proptest::prop_assert_eq!(contains_ignoring_ascii_case(&hay, b"into"), expected);
            #[cfg(target_arch = "x86_64")]
            if hay.len() >= 19 {
                proptest::prop_assert_eq!(simd::find_sse2(&hay, b"into").is_some(), expected);
            }
        }

        /// The first start, also of needles with bytes other than letters.
        #[test]
        fn finds_the_first_start(
            hay in proptest::collection::vec(proptest::sample::select(b"bAcK-fil\x0d@`_ ".to_vec()), 0..120),
            needle in proptest::sample::select(vec![&b"back-fill"[..], b"back", b"-fil", b"@`_ "]),
        ) {
            let expected = hay.windows(needle.len()).position(|w| w.eq_ignore_ascii_case(needle));
            proptest::prop_assert_eq!(find_ignoring_ascii_case(&hay, needle), expected);
            #[cfg(target_arch = "x86_64")]
            if hay.len() >= 19 {
                proptest::prop_assert_eq!(simd::find_sse2(&hay, needle), expected);
            }
        }
    }
}
