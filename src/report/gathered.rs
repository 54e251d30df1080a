//! Output made of rendered blocks (one per file), written a batch at a time with one
//! vectored write instead of copied into a buffer first.

use std::io::{self, IoSlice, Write};

/// Blocks are held until this many bytes are waiting (then written together).
const BATCH_BYTES: usize = 64 << 10;
/// At most this many blocks go in one write (the system's limit on a write's pieces is
/// 1,024).
const BATCH_BLOCKS: usize = 512;

/// A writer of whole blocks. A lint run renders each file's findings into a block of its
/// own, in parallel; copying every block into a `BufWriter` was about 1% of a run on the
/// lint bench tree, and holding the blocks until a batch is written costs no copy.
///
/// Small writes through `Write` (a summary, JSON) are gathered into a block of their own,
/// as a `BufWriter` would.
pub struct Gathered<W: Write> {
    out: W,
    blocks: Vec<Vec<u8>>,
    waiting: usize,
    /// The last block is one `Write::write` fills (it may grow).
    open_tail: bool,
}

impl<W: Write> Gathered<W> {
    pub fn new(out: W) -> Self {
        Gathered {
            out,
            blocks: Vec::new(),
            waiting: 0,
            open_tail: false,
        }
    }

    /// Queues `block`, and writes the queue once a batch is waiting.
    pub fn push(&mut self, block: Vec<u8>) -> io::Result<()> {
        if block.is_empty() {
            return Ok(());
        }
        self.waiting += block.len();
        self.blocks.push(block);
        self.open_tail = false;
        self.write_if_batch()
    }

    fn write_if_batch(&mut self) -> io::Result<()> {
        if self.waiting >= BATCH_BYTES || self.blocks.len() >= BATCH_BLOCKS {
            self.write_waiting()?;
        }
        Ok(())
    }

    fn write_waiting(&mut self) -> io::Result<()> {
        let mut slices: Vec<IoSlice<'_>> = self.blocks.iter().map(|b| IoSlice::new(b)).collect();
        let mut rest = &mut slices[..];
        while !rest.is_empty() {
            match self.out.write_vectored(rest) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => IoSlice::advance_slices(&mut rest, n),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        drop(slices);
        self.blocks.clear();
        self.waiting = 0;
        self.open_tail = false;
        Ok(())
    }
}

impl<W: Write> Write for Gathered<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if !self.open_tail {
            self.blocks.push(Vec::with_capacity(8 << 10));
            self.open_tail = true;
        }
        self.blocks
            .last_mut()
            .expect("an open tail block")
            .extend_from_slice(buf);
        self.waiting += buf.len();
        self.write_if_batch()?;
        Ok(buf.len())
    }

    /// Writes every queued block, then flushes the writer.
    fn flush(&mut self) -> io::Result<()> {
        self.write_waiting()?;
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A writer that takes at most `limit` bytes per call, from the first two slices only,
    /// as short writes do.
    struct Short {
        written: Vec<u8>,
        limit: usize,
        calls: usize,
    }

    impl Write for Short {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.write_vectored(&[IoSlice::new(buf)])
        }

        fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
            self.calls += 1;
            let mut taken = 0;
            for buf in bufs.iter().take(2) {
                let n = buf.len().min(self.limit - taken);
                self.written.extend_from_slice(&buf[..n]);
                taken += n;
                if n < buf.len() {
                    break;
                }
            }
            Ok(taken)
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn blocks_come_out_whole_and_in_order_through_short_writes() {
        let mut gathered = Gathered::new(Short {
            written: Vec::new(),
            limit: 7,
            calls: 0,
        });
        let mut expected = Vec::new();
        for n in 0..2_000u32 {
            let block = format!("block {n}\n").repeat(n as usize % 5).into_bytes();
            expected.extend_from_slice(&block);
            gathered.push(block).unwrap();
            // Small writes in between are kept in order with the blocks.
            if n % 7 == 0 {
                write!(gathered, "w{n};").unwrap();
                write!(gathered, "!").unwrap();
                expected.extend_from_slice(format!("w{n};!").as_bytes());
            }
        }
        // Nothing waits after a flush.
        gathered.flush().unwrap();
        assert_eq!(gathered.out.written, expected);
        let calls = gathered.out.calls;
        gathered.flush().unwrap();
        assert_eq!(gathered.out.calls, calls);
    }

    #[test]
    fn a_batch_is_written_once_enough_is_waiting() {
        let mut gathered = Gathered::new(Vec::new());
        gathered.push(vec![b'a'; BATCH_BYTES - 1]).unwrap();
        assert!(gathered.out.is_empty());
        gathered.push(vec![b'b']).unwrap();
        assert_eq!(gathered.out.len(), BATCH_BYTES);
        assert!(gathered.blocks.is_empty());
    }
}
