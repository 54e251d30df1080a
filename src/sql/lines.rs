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

/// The newlines in `src[from..to]` and the offset in `src` of the last one, a 64-byte
/// block at a time (the stretch is short, a statement or a few lines, where a library
/// search pays more in setup than it saves).
fn newlines(src: &[u8], from: usize, to: usize) -> (u32, Option<usize>) {
    let mut count = 0;
    let mut last = None;
    let mut base = from & !(BLOCK - 1);
    while base < to {
        let mut bits = block_newlines::<false>(src, base) & (u64::MAX << (from.max(base) - base));
        if to - base < BLOCK {
            bits &= (1 << (to - base)) - 1;
        }
        if bits != 0 {
            count += bits.count_ones();
            last = Some(base + BLOCK - 1 - bits.leading_zeros() as usize);
        }
        base += BLOCK;
    }
    (count, last)
}

/// The newline bits of the 64 bytes at `base` (fewer at the end of the text).
#[inline(always)]
fn block_newlines<const AVX2: bool>(src: &[u8], base: usize) -> u64 {
    match src.get(base..base + BLOCK) {
        Some(block) => newline_bits::<AVX2>(block.try_into().expect("64 bytes")),
        None => {
            // The last, short block: zero bytes are not newlines.
            let mut padded = [0u8; BLOCK];
            padded[..src.len() - base].copy_from_slice(&src[base..]);
            newline_bits::<AVX2>(&padded)
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod simd {
    use std::arch::x86_64::*;

    /// `LineCounter::new` compiled for AVX2 and POPCNT.
    ///
    /// # Safety
    /// The CPU must support AVX2 and POPCNT.
    #[target_feature(enable = "avx2,popcnt")]
    pub(super) unsafe fn line_counter_avx2(src: &[u8]) -> super::LineCounter<'_> {
        super::LineCounter::build::<true>(src)
    }

    /// # Safety
    /// The CPU must support AVX2.
    #[inline]
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn newline_bits_avx2(block: &[u8; super::BLOCK]) -> u64 {
        let newline = _mm256_set1_epi8(b'\n' as i8);
        let half = |k: usize| {
            // SAFETY: `k` is 0 or 32: the unaligned load stays inside the block.
            let bytes = unsafe { _mm256_loadu_si256(block.as_ptr().add(k).cast()) };
            u64::from(_mm256_movemask_epi8(_mm256_cmpeq_epi8(bytes, newline)) as u32)
        };
        half(0) | half(32) << 32
    }
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

/// Line and column numbers of offsets of one text, for a caller that mostly walks forward
/// (the splitter, a file's sorted reports). The text's newlines are found once, 64 bytes
/// at a time, and kept as one bit mask per 64-byte block with the count of newlines before
/// the block (12 bytes per 64 of text): a line number is that count plus the bits below
/// the offset in its block. The last answer is kept, so a walk forward costs the bytes it
/// crosses and no more, however long the lines (a file of one long line of statements
/// would otherwise count its columns from the line's start for every statement).
pub(crate) struct LineCounter<'a> {
    src: &'a [u8],
    /// Newline bits of the block at `64 * k` (bit `i` for the byte at `64 * k + i`).
    newlines: Vec<u64>,
    /// Newlines before the block at `64 * k`.
    before: Vec<u32>,
    last: Answer,
}

/// A position and what it took to find it.
#[derive(Clone, Copy)]
struct Answer {
    offset: usize,
    line: u32,
    line_start: usize,
    column: u32,
}

impl<'a> LineCounter<'a> {
    pub fn new(src: &'a [u8]) -> Self {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2")
            && std::arch::is_x86_feature_detected!("popcnt")
        {
            // SAFETY: the CPU has the features (checked just above).
            return unsafe { simd::line_counter_avx2(src) };
        }
        Self::build::<false>(src)
    }

    /// Classifies every block of `src`: the last one is short or, when the text fills its
    /// blocks exactly, empty, so that the end of the text has a block too.
    #[inline(always)]
    fn build<const AVX2: bool>(src: &'a [u8]) -> Self {
        // Collected from exact-size iterators: no capacity check per block.
        let newlines: Vec<u64> = src
            .chunks_exact(BLOCK)
            .map(|chunk| newline_bits::<AVX2>(chunk.try_into().expect("64 bytes")))
            .chain(std::iter::once(block_newlines::<AVX2>(
                src,
                src.len() & !(BLOCK - 1),
            )))
            .collect();
        let mut count = 0u32;
        let before = newlines
            .iter()
            .map(|bits| {
                let before = count;
                count += bits.count_ones();
                before
            })
            .collect();
        LineCounter {
            src,
            newlines,
            before,
            last: Answer {
                offset: 0,
                line: 1,
                line_start: 0,
                column: 1,
            },
        }
    }

    /// The 1-based line and character column of `offset` (offsets past the end map to
    /// the end). Cheapest when `offset` is at or after the previous call's. Inlined, so
    /// that in the splitter, which is compiled for POPCNT where the CPU has it, the bit
    /// count is one instruction.
    #[inline(always)]
    pub fn position(&mut self, offset: usize) -> (u32, u32) {
        let offset = offset.min(self.src.len());
        let block = offset / BLOCK;
        let below = self.newlines[block] & ((1u64 << (offset % BLOCK)) - 1);
        let line = self.before[block] + below.count_ones() + 1;
        let last = self.last;
        let (line_start, column) = if line == last.line && offset >= last.offset {
            // Further along the line of the last answer.
            let column = last.column + char_count(&self.src[last.offset..offset]) as u32;
            (last.line_start, column)
        } else {
            let line_start = if below != 0 {
                block * BLOCK + BLOCK - below.leading_zeros() as usize
            } else {
                // The line began in an earlier block: after the last answer's offset
                // when walking forward, since the line changed since.
                self.newlines[..block]
                    .iter()
                    .rposition(|&bits| bits != 0)
                    .map_or(0, |k| {
                        k * BLOCK + BLOCK - self.newlines[k].leading_zeros() as usize
                    })
            };
            // Most statements start a line.
            let column = if offset == line_start {
                1
            } else {
                char_count(&self.src[line_start..offset]) as u32 + 1
            };
            (line_start, column)
        };
        self.last = Answer {
            offset,
            line,
            line_start,
            column,
        };
        (line, column)
    }
}

/// `LineCounter`'s block size: one bit per byte in a `u64`.
const BLOCK: usize = 64;

/// The newline bits of 64 bytes: 32 at a time with AVX2 (the caller is compiled for it),
/// else 16 with SSE2, which every x86-64 CPU has.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn newline_bits<const AVX2: bool>(block: &[u8; BLOCK]) -> u64 {
    use std::arch::x86_64::*;
    if AVX2 {
        // SAFETY: `AVX2` is only set under `simd::line_counter_avx2`, which runs where
        // the CPU has AVX2.
        return unsafe { simd::newline_bits_avx2(block) };
    }
    let quarter = |k: usize| {
        // SAFETY: SSE2 is part of x86-64; `k` is at most 48, so the unaligned 16-byte
        // load stays inside the block.
        unsafe {
            let bytes = _mm_loadu_si128(block.as_ptr().add(k).cast());
            let hits = _mm_cmpeq_epi8(bytes, _mm_set1_epi8(b'\n' as i8));
            u64::from(_mm_movemask_epi8(hits) as u16)
        }
    };
    quarter(0) | quarter(16) << 16 | quarter(32) << 32 | quarter(48) << 48
}

#[cfg(not(target_arch = "x86_64"))]
fn newline_bits<const AVX2: bool>(block: &[u8; BLOCK]) -> u64 {
    block
        .iter()
        .enumerate()
        .fold(0, |bits, (k, &b)| bits | (u64::from(b == b'\n') << k))
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
        /// Texts of several blocks, walked in steps of any size, mostly forward, sometimes
        /// back (lines that begin blocks before, long lines, the end): the counter agrees
        /// with the index.
        #[test]
        fn line_counter_agrees_with_the_line_index(
            chars in proptest::collection::vec(proptest::sample::select(vec!['\n', 'a', ' ', 'é', '\r']), 0..400),
            steps in proptest::collection::vec(-100isize..150, 1..16),
        ) {
            let src: String = chars.into_iter().collect();
            let index = LineIndex::new(&src);
            let mut counter = LineCounter::new(src.as_bytes());
            let mut offset = 0usize;
            for step in steps {
                offset = offset.saturating_add_signed(step).min(src.len());
                while !src.is_char_boundary(offset) {
                    offset += 1;
                }
                proptest::prop_assert_eq!(counter.position(offset), index.position(&src, offset), "at {}", offset);
            }
        }

        #[test]
        fn block_newline_count_matches_a_plain_count(
            bytes in proptest::collection::vec(proptest::sample::select(vec![b'\n', b'a', 0x8a, 0x0b, 0xff, 0]), 0..200),
            from in 0usize..200,
            len in 0usize..200,
        ) {
            let from = from.min(bytes.len());
            let to = (from + len).min(bytes.len());
            let range = &bytes[from..to];
            let count = range.iter().filter(|&&b| b == b'\n').count() as u32;
            let last = range.iter().rposition(|&b| b == b'\n').map(|k| from + k);
            proptest::prop_assert_eq!(newlines(&bytes, from, to), (count, last));
        }
    }
}
