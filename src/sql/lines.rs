//! Byte offsets to 1-based line and column numbers (columns count characters, not bytes).

use memchr::memchr_iter;

/// Line starts of one source text, built once (memchr speed) and searched by bisection.
#[derive(Debug, Clone)]
pub struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    pub fn new(src: &str) -> Self {
        let mut starts = Vec::with_capacity(src.len() / 40 + 1);
        starts.push(0);
        starts.extend(memchr_iter(b'\n', src.as_bytes()).map(|n| n + 1));
        LineIndex { starts }
    }

    /// The 1-based line and character column of `offset` in `src` (the text this index
    /// was built from). Offsets past the end map to the end.
    pub fn position(&self, src: &str, offset: usize) -> (u32, u32) {
        let offset = offset.min(src.len());
        let line = self.starts.partition_point(|&s| s <= offset) - 1;
        let column = char_count(&src.as_bytes()[self.starts[line]..offset]) + 1;
        (line as u32 + 1, column as u32)
    }
}

/// Characters in a UTF-8 byte slice: every byte that is not a continuation byte.
pub(crate) fn char_count(bytes: &[u8]) -> usize {
    bytes.iter().filter(|&&b| b & 0xC0 != 0x80).count()
}

/// The newlines in `src[from..to]` and the offset in `src` of the last one.
#[cfg(not(target_arch = "x86_64"))]
fn newlines(src: &[u8], from: usize, to: usize) -> (u32, Option<usize>) {
    newlines_bytes(src, from, to)
}

/// The newlines in `src[from..to]` and the offset in `src` of the last one, 64 bytes at a
/// time where the CPU has AVX2, else 16 (SSE2, which every x86-64 CPU has): the stretch
/// between two statements is short (a few lines), where a library search pays more in
/// setup than it saves.
#[cfg(target_arch = "x86_64")]
fn newlines(src: &[u8], from: usize, to: usize) -> (u32, Option<usize>) {
    if std::arch::is_x86_feature_detected!("avx2")
        && std::arch::is_x86_feature_detected!("popcnt")
        && std::arch::is_x86_feature_detected!("lzcnt")
    {
        // SAFETY: the CPU has the features (checked just above).
        unsafe { simd::newlines_avx2(src, from, to) }
    } else {
        simd::newlines_sse2(src, from, to)
    }
}

#[cfg(target_arch = "x86_64")]
mod simd {
    use std::arch::x86_64::*;

    /// Counts the newlines of `src[from..to]` in blocks of `width` bytes whose newline
    /// bits `block_mask` gives. Blocks may read bytes of `src` outside the range (a short
    /// range is still one block), whose bits are masked off.
    #[inline(always)]
    fn newlines_in_blocks(
        src: &[u8],
        from: usize,
        to: usize,
        width: usize,
        block_mask: impl Fn(usize) -> u64,
    ) -> (u32, Option<usize>) {
        if src.len() < width {
            return super::newlines_bytes(src, from, to);
        }
        let mut count = 0;
        let mut last = None;
        let mut at = from;
        while at < to {
            // Near the end of `src` the block starts before `at` instead.
            let base = at.min(src.len() - width);
            let mut mask = block_mask(base) & (u64::MAX << (at - base));
            if to - base < width {
                mask &= (1 << (to - base)) - 1;
            }
            if mask != 0 {
                count += mask.count_ones();
                last = Some(base + 63 - mask.leading_zeros() as usize);
            }
            at = base + width;
        }
        (count, last)
    }

    /// # Safety
    /// The CPU must support AVX2, POPCNT and LZCNT.
    #[target_feature(enable = "avx2,popcnt,lzcnt")]
    pub(super) unsafe fn newlines_avx2(src: &[u8], from: usize, to: usize) -> (u32, Option<usize>) {
        newlines_in_blocks(src, from, to, 64, |at| {
            debug_assert!(at + 64 <= src.len());
            let newline = _mm256_set1_epi8(b'\n' as i8);
            let half = |k: usize| {
                // SAFETY: `k` is 0 or 32 and `at + 64 <= src.len()`; the load is unaligned.
                let block = unsafe { _mm256_loadu_si256(src.as_ptr().add(at + k).cast()) };
                u64::from(_mm256_movemask_epi8(_mm256_cmpeq_epi8(block, newline)) as u32)
            };
            half(0) | half(32) << 32
        })
    }

    pub(super) fn newlines_sse2(src: &[u8], from: usize, to: usize) -> (u32, Option<usize>) {
        newlines_in_blocks(src, from, to, 16, |at| {
            debug_assert!(at + 16 <= src.len());
            // SAFETY: SSE2 is part of x86-64; `at + 16 <= src.len()`, and the load is
            // unaligned.
            unsafe {
                let block = _mm_loadu_si128(src.as_ptr().add(at).cast());
                u64::from(
                    _mm_movemask_epi8(_mm_cmpeq_epi8(block, _mm_set1_epi8(b'\n' as i8))) as u32,
                )
            }
        })
    }
}

/// `newlines` a byte at a time: the reference, and texts shorter than a block.
fn newlines_bytes(src: &[u8], from: usize, to: usize) -> (u32, Option<usize>) {
    let mut count = 0;
    let mut last = None;
    for (k, &b) in src[from..to].iter().enumerate() {
        if b == b'\n' {
            count += 1;
            last = Some(from + k);
        }
    }
    (count, last)
}

/// The position of `to` in `src`, given the position `at` of an earlier offset `from`:
/// costs the bytes between, so a span inside a statement whose position the splitter gave
/// needs no walk from the start of the file.
pub(crate) fn position_from(src: &[u8], from: usize, at: (u32, u32), to: usize) -> (u32, u32) {
    let to = to.min(src.len()).max(from);
    match newlines(src, from, to) {
        (_, None) => (at.0, at.1 + char_count(&src[from..to]) as u32),
        (count, Some(last)) => (at.0 + count, char_count(&src[last + 1..to]) as u32 + 1),
    }
}

/// Counts lines incrementally while a caller walks forward through a text, so that
/// positions cost time proportional to the distance walked, not to the text.
pub(crate) struct LineCounter<'a> {
    src: &'a [u8],
    scanned: usize,
    line: u32,
    line_start: usize,
}

impl<'a> LineCounter<'a> {
    pub fn new(src: &'a [u8]) -> Self {
        LineCounter {
            src,
            scanned: 0,
            line: 1,
            line_start: 0,
        }
    }

    /// The position of `offset`, which must not be before the previous call's.
    pub fn position(&mut self, offset: usize) -> (u32, u32) {
        let offset = offset.min(self.src.len()).max(self.scanned);
        let (count, last) = newlines(self.src, self.scanned, offset);
        if let Some(last) = last {
            self.line += count;
            self.line_start = last + 1;
        }
        self.scanned = offset;
        // Most statements start a line.
        let column = if offset == self.line_start {
            1
        } else {
            char_count(&self.src[self.line_start..offset]) as u32 + 1
        };
        (self.line, column)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_characters_and_lines() {
        let src = "ab\nçé x\r\n\nz";
        let index = LineIndex::new(src);
        assert_eq!(index.position(src, 0), (1, 1));
        assert_eq!(index.position(src, 3), (2, 1));
        assert_eq!(index.position(src, src.find('x').unwrap()), (2, 4));
        assert_eq!(index.position(src, src.len()), (4, 2));
        let mut counter = LineCounter::new(src.as_bytes());
        for offset in [0, 3, src.find('x').unwrap(), src.len()] {
            assert_eq!(counter.position(offset), index.position(src, offset));
        }
        // From any earlier position to any later one.
        for from in 0..=src.len() {
            for to in from..=src.len() {
                if src.is_char_boundary(from) && src.is_char_boundary(to) {
                    let at = index.position(src, from);
                    assert_eq!(
                        position_from(src.as_bytes(), from, at, to),
                        index.position(src, to),
                        "{from}..{to}"
                    );
                }
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn block_newline_count_matches_a_plain_count(
            bytes in proptest::collection::vec(proptest::sample::select(vec![b'\n', b'a', 0x8a, 0x0b, 0xff, 0]), 0..80),
            from in 0usize..80,
            len in 0usize..80,
        ) {
            let from = from.min(bytes.len());
            let to = (from + len).min(bytes.len());
            let range = &bytes[from..to];
            let count = range.iter().filter(|&&b| b == b'\n').count() as u32;
            let last = range.iter().rposition(|&b| b == b'\n').map(|k| from + k);
            proptest::prop_assert_eq!(newlines(&bytes, from, to), (count, last));
            proptest::prop_assert_eq!(newlines_bytes(&bytes, from, to), (count, last));
            #[cfg(target_arch = "x86_64")]
            proptest::prop_assert_eq!(simd::newlines_sse2(&bytes, from, to), (count, last));
        }
    }
}
