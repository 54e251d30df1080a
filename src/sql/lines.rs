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

/// The newlines in `bytes` and the offset of the last one.
#[cfg(not(target_arch = "x86_64"))]
fn newlines(bytes: &[u8]) -> (u32, Option<usize>) {
    newlines_bytes(bytes)
}

/// The newlines in `bytes` and the offset of the last one, sixteen bytes at a time (SSE2,
/// which every x86-64 CPU has): the stretch between two statements is short (a few
/// lines), where a library search pays more in setup than it saves.
#[cfg(target_arch = "x86_64")]
fn newlines(bytes: &[u8]) -> (u32, Option<usize>) {
    use std::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_set1_epi8,
    };

    let block_mask = |at: usize| {
        debug_assert!(at + 16 <= bytes.len());
        // SAFETY: SSE2 is part of x86-64; `at + 16 <= bytes.len()`, and the load is
        // unaligned.
        unsafe {
            let block = _mm_loadu_si128(bytes.as_ptr().add(at).cast::<__m128i>());
            _mm_movemask_epi8(_mm_cmpeq_epi8(block, _mm_set1_epi8(b'\n' as i8))) as u32
        }
    };
    let mut count = 0;
    let mut last = None;
    let mut note = |base: usize, mask: u32| {
        if mask != 0 {
            count += mask.count_ones();
            last = Some(base + 31 - mask.leading_zeros() as usize);
        }
    };
    if bytes.len() < 16 {
        return newlines_bytes(bytes);
    }
    let mut at = 0;
    while at + 16 <= bytes.len() {
        note(at, block_mask(at));
        at += 16;
    }
    if at < bytes.len() {
        // The tail: the last sixteen bytes again, without those already counted.
        let base = bytes.len() - 16;
        note(base, block_mask(base) & (u32::MAX << (at - base)));
    }
    (count, last)
}

/// `newlines` a byte at a time: the reference, and texts shorter than a block.
fn newlines_bytes(bytes: &[u8]) -> (u32, Option<usize>) {
    let mut count = 0;
    let mut last = None;
    for (k, &b) in bytes.iter().enumerate() {
        if b == b'\n' {
            count += 1;
            last = Some(k);
        }
    }
    (count, last)
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
        let walked = &self.src[self.scanned..offset];
        let (count, last) = newlines(walked);
        if let Some(last) = last {
            self.line += count;
            self.line_start = self.scanned + last + 1;
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
    }

    proptest::proptest! {
        #[test]
        fn block_newline_count_matches_a_plain_count(
            bytes in proptest::collection::vec(proptest::sample::select(vec![b'\n', b'a', 0x8a, 0x0b, 0xff, 0]), 0..80)
        ) {
            let count = bytes.iter().filter(|&&b| b == b'\n').count() as u32;
            let last = bytes.iter().rposition(|&b| b == b'\n');
            proptest::prop_assert_eq!(newlines(&bytes), (count, last));
            proptest::prop_assert_eq!(newlines_bytes(&bytes), (count, last));
        }
    }
}
