//! Where a text may hold a name longer than PostgreSQL keeps: runs of more than `longest`
//! name bytes, and double-quoted spans of more than `longest` bytes. `identifier-too-long`
//! asks this of every file, most of which hold no such span, so it is one pass of 32-byte
//! blocks turned into bit masks (AVX2 where the CPU has it, else SSE2), not a byte loop: a
//! run longer than 63 bytes fills at least one whole block, so only the blocks where a
//! run ends need a closer look.

/// Bytes per block: one bit per byte in a `u32`, one AVX2 register. (64-byte blocks in a
/// `u64` made LLVM rebuild the two movemask halves into vectors a byte at a time.)
const BLOCK: usize = 32;

/// The start offsets, sorted, of the runs of more than `longest` (≥ 30) bytes that may
/// form an unquoted name (letters, digits, `_`, `$` and any byte beyond ASCII, which
/// PostgreSQL takes as letters), and of the `"` opening a quoted span of more than
/// `longest` bytes (quotes pair in order; a doubled `""` inside a name only splits it
/// into two spans, each shorter, which at worst misses a name that escapes a quote).
/// Literals and comments are not told apart: the caller lexes the statements found.
pub fn long_runs(bytes: &[u8], longest: usize) -> Vec<usize> {
    // A run that neither starts nor ends at a block edge is at most BLOCK - 2 bytes, and
    // the scan does not look inside blocks, so it must be too short to report.
    debug_assert!(longest >= BLOCK - 2);
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2 (checked just above).
        return unsafe { simd::scan_avx2(bytes, longest) };
    }
    scan::<false>(bytes, longest)
}

#[inline(always)]
fn scan<const AVX2: bool>(bytes: &[u8], longest: usize) -> Vec<usize> {
    let mut runs = Vec::new();
    let mut quotes = Vec::new();
    // Start of the run of name bytes that reaches the current block's start.
    let mut run_start = 0;
    let mut open_quote: Option<usize> = None;
    let mut base = 0;
    while base < bytes.len() {
        let (names, quote_bits) = block_bits::<AVX2>(bytes, base);
        if names != u32::MAX {
            // The first byte that is not a name byte ends the run from earlier blocks; a
            // run that starts and ends inside one block is shorter than 32 bytes.
            let end = base + (!names).trailing_zeros() as usize;
            if end - run_start > longest {
                runs.push(run_start);
            }
            run_start = base + BLOCK - names.leading_ones() as usize;
        }
        let mut q = quote_bits;
        while q != 0 {
            let at = base + q.trailing_zeros() as usize;
            match open_quote.take() {
                Some(start) if at - start > longest + 1 => quotes.push(start),
                Some(_) => {}
                None => open_quote = Some(at),
            }
            q &= q - 1;
        }
        base += BLOCK;
    }
    if bytes.len().saturating_sub(run_start) > longest {
        runs.push(run_start);
    }
    if !quotes.is_empty() {
        runs.extend(quotes);
        runs.sort_unstable();
    }
    runs
}

/// The name-byte and quote bits of the 32 bytes at `base`; past the end of the text,
/// zero bytes (neither).
#[inline(always)]
fn block_bits<const AVX2: bool>(bytes: &[u8], base: usize) -> (u32, u32) {
    match bytes.get(base..base + BLOCK) {
        Some(block) => bits::<AVX2>(block.try_into().expect("32 bytes")),
        None => {
            let mut padded = [0u8; BLOCK];
            padded[..bytes.len() - base].copy_from_slice(&bytes[base..]);
            bits::<AVX2>(&padded)
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod simd {
    use std::arch::x86_64::*;

    /// `scan` compiled for AVX2.
    ///
    /// # Safety
    /// The CPU must support AVX2.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn scan_avx2(bytes: &[u8], longest: usize) -> Vec<usize> {
        super::scan::<true>(bytes, longest)
    }

    /// The name-byte and quote bits of one block, in one register.
    ///
    /// # Safety
    /// The CPU must support AVX2.
    #[inline]
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn bits_avx2(block: &[u8; super::BLOCK]) -> (u32, u32) {
        // SAFETY: the unaligned 32-byte load is the whole block.
        half_bits(unsafe { _mm256_loadu_si256(block.as_ptr().cast()) })
    }

    /// The name-byte and quote bits of 32 bytes. Written without closures, which do not
    /// take on the caller's target features: compiled apart, they built each vector a
    /// byte at a time.
    #[inline]
    #[target_feature(enable = "avx2")]
    fn half_bits(v: __m256i) -> (u32, u32) {
        // Signed compares, exact for ASCII; bytes beyond ASCII are negative and fall
        // outside every range.
        let folded = _mm256_or_si256(v, _mm256_set1_epi8(0x20));
        let letter = _mm256_and_si256(
            _mm256_cmpgt_epi8(folded, _mm256_set1_epi8(b'a' as i8 - 1)),
            _mm256_cmpgt_epi8(_mm256_set1_epi8(b'z' as i8 + 1), folded),
        );
        let digit = _mm256_and_si256(
            _mm256_cmpgt_epi8(v, _mm256_set1_epi8(b'0' as i8 - 1)),
            _mm256_cmpgt_epi8(_mm256_set1_epi8(b'9' as i8 + 1), v),
        );
        let underscore = _mm256_cmpeq_epi8(v, _mm256_set1_epi8(b'_' as i8));
        let dollar = _mm256_cmpeq_epi8(v, _mm256_set1_epi8(b'$' as i8));
        let ascii_name = _mm256_or_si256(
            _mm256_or_si256(letter, digit),
            _mm256_or_si256(underscore, dollar),
        );
        // The sign bit is set for every byte beyond ASCII, and movemask reads it.
        let name = _mm256_or_si256(ascii_name, v);
        let quote = _mm256_cmpeq_epi8(v, _mm256_set1_epi8(b'"' as i8));
        (
            _mm256_movemask_epi8(name) as u32,
            _mm256_movemask_epi8(quote) as u32,
        )
    }
}

/// The name-byte and quote bits of one block: all 32 at once with AVX2 (the caller is
/// compiled for it), else 16 at a time with SSE2, which every x86-64 CPU has.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn bits<const AVX2: bool>(block: &[u8; BLOCK]) -> (u32, u32) {
    use std::arch::x86_64::*;
    if AVX2 {
        // SAFETY: `AVX2` is only set under `simd::scan_avx2`, which runs where the CPU
        // has AVX2.
        return unsafe { simd::bits_avx2(block) };
    }
    let quarter = |k: usize| {
        // SAFETY: SSE2 is part of x86-64; `k` is at most 16, so the unaligned 16-byte
        // load stays inside the block.
        unsafe {
            let v = _mm_loadu_si128(block.as_ptr().add(k).cast());
            let between = |v: __m128i, low: u8, high: u8| {
                // Signed compares: ASCII bytes are non-negative, so this is exact for them,
                // and bytes beyond ASCII (negative) fall outside every range.
                _mm_and_si128(
                    _mm_cmpgt_epi8(v, _mm_set1_epi8(low as i8 - 1)),
                    _mm_cmplt_epi8(v, _mm_set1_epi8(high as i8 + 1)),
                )
            };
            let letter = between(_mm_or_si128(v, _mm_set1_epi8(0x20)), b'a', b'z');
            let digit = between(v, b'0', b'9');
            let underscore = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'_' as i8));
            let dollar = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'$' as i8));
            let ascii_name = _mm_or_si128(
                _mm_or_si128(letter, digit),
                _mm_or_si128(underscore, dollar),
            );
            // The sign bit is set for every byte beyond ASCII, and movemask reads it.
            let name = _mm_or_si128(ascii_name, v);
            let quote = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'"' as i8));
            (
                _mm_movemask_epi8(name) as u32,
                _mm_movemask_epi8(quote) as u32,
            )
        }
    };
    let (n0, q0) = quarter(0);
    let (n1, q1) = quarter(16);
    (n0 | n1 << 16, q0 | q1 << 16)
}

#[cfg(not(target_arch = "x86_64"))]
fn bits<const AVX2: bool>(block: &[u8; BLOCK]) -> (u32, u32) {
    let mut names = 0;
    let mut quotes = 0;
    for (k, &c) in block.iter().enumerate() {
        let name = c.is_ascii_alphanumeric() || c == b'_' || c == b'$' || c >= 0x80;
        names |= u32::from(name) << k;
        quotes |= u32::from(c == b'"') << k;
    }
    (names, quotes)
}

#[cfg(test)]
mod tests {
    use super::{long_runs, scan};

    /// The byte-at-a-time definition the block scan must agree with.
    fn slow(bytes: &[u8], longest: usize) -> Vec<usize> {
        let is_name = |c: u8| c.is_ascii_alphanumeric() || c == b'_' || c == b'$' || c >= 0x80;
        let mut out = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            if is_name(bytes[i]) {
                let start = i;
                while i < bytes.len() && is_name(bytes[i]) {
                    i += 1;
                }
                if i - start > longest {
                    out.push(start);
                }
            } else {
                i += 1;
            }
        }
        let quotes: Vec<usize> = (0..bytes.len()).filter(|&i| bytes[i] == b'"').collect();
        for pair in quotes.chunks(2) {
            if let [open, close] = pair
                && close - open > longest + 1
            {
                out.push(*open);
            }
        }
        out.sort_unstable();
        out
    }

    #[test]
    fn runs_are_found_wherever_they_fall_against_the_blocks() {
        for offset in 0..140 {
            for len in [1, 62, 63, 64, 65, 127, 128, 129, 300] {
                for tail in ["", " x", "é"] {
                    let text = format!("{}{}{tail}", " ".repeat(offset), "n".repeat(len));
                    assert_eq!(
                        long_runs(text.as_bytes(), 63),
                        slow(text.as_bytes(), 63),
                        "offset {offset}, length {len}, tail {tail:?}"
                    );
                }
            }
        }
        assert_eq!(long_runs("a".repeat(64).as_bytes(), 63), vec![0]);
        assert!(long_runs("a".repeat(63).as_bytes(), 63).is_empty());
    }

    #[test]
    fn every_byte_class_and_quoted_span_agrees_with_the_byte_loop() {
        // A deterministic mix of name bytes, separators, quotes and UTF-8.
        let alphabet: &[&str] = &[
            "a", "Z", "0", "_", "$", "é", " ", ".", "\"", "'", "\n", "(", "@", "`", "{", "[",
        ];
        let mut state = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..200 {
            let mut text = String::new();
            let len = (state % 400) as usize;
            for _ in 0..len {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                // Long stretches of one class are what the scan is about: repeat picks.
                let pick = alphabet[(state % alphabet.len() as u64) as usize];
                let times = if state % 5 == 0 { 40 } else { 1 };
                text.push_str(&pick.repeat(times));
            }
            assert_eq!(
                long_runs(text.as_bytes(), 63),
                slow(text.as_bytes(), 63),
                "{text:?}"
            );
            // The SSE2 path, which CPUs without AVX2 take.
            assert_eq!(
                scan::<false>(text.as_bytes(), 63),
                slow(text.as_bytes(), 63),
                "{text:?}"
            );
        }
    }
}
