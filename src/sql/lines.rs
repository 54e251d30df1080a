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
        // A sum of comparisons vectorises; only the last newline's position is needed.
        let newlines: u32 = walked.iter().map(|&b| u32::from(b == b'\n')).sum();
        if newlines > 0 {
            self.line += newlines;
            self.line_start = self.scanned + memchr::memrchr(b'\n', walked).map_or(0, |n| n + 1);
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
}
