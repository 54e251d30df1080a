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

/// The newlines in `bytes` and the offset of the last one, eight bytes at a time: the
/// stretch between two statements is short (a few lines), where a library search pays
/// more in setup than it saves.
fn newlines(bytes: &[u8]) -> (u32, Option<usize>) {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    let mut count = 0;
    let mut last = None;
    let mut chunks = bytes.chunks_exact(8);
    let mut base = 0;
    for chunk in &mut chunks {
        let word = u64::from_le_bytes(chunk.try_into().expect("eight bytes"));
        let v = word ^ (ONES * u64::from(b'\n'));
        // Bit 7 set in exactly the bytes of `v` that are zero (the newlines of `word`).
        let zero = !(((v & LOW7) + LOW7) | v | LOW7);
        if zero != 0 {
            // One per newline byte, summed into the top byte by the multiplication.
            count += ((zero >> 7).wrapping_mul(ONES) >> 56) as u32;
            last = Some(base + (63 - zero.leading_zeros() as usize) / 8);
        }
        base += 8;
    }
    for (k, &b) in chunks.remainder().iter().enumerate() {
        if b == b'\n' {
            count += 1;
            last = Some(base + k);
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
        (
            self.line,
            char_count(&self.src[self.line_start..offset]) as u32 + 1,
        )
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
        fn word_at_a_time_newline_count_matches_a_plain_count(
            bytes in proptest::collection::vec(proptest::sample::select(vec![b'\n', b'a', 0x8a, 0x0b, 0xff, 0]), 0..80)
        ) {
            let count = bytes.iter().filter(|&&b| b == b'\n').count() as u32;
            let last = bytes.iter().rposition(|&b| b == b'\n');
            proptest::prop_assert_eq!(newlines(&bytes), (count, last));
        }
    }
}
