//! The global allocator of the `sqlrail` binary (and of the benches, so that their figures
//! are the binary's): mimalloc, called the way its C API is fastest.
//!
//! mimalloc instead of the system allocator: `lint` makes millions of small allocations
//! from two threads (findings, names), where glibc's malloc spent a sixth of the run.
//!
//! Not the `mimalloc` crate's `MiMalloc`: it passes every allocation to
//! `mi_malloc_aligned`, and mimalloc v3 serves that on its fast path only for blocks of at
//! most 1 KiB. A larger block whose size is not a power of two was over-allocated by its
//! alignment and carved out by the generic path: per-file buffers of `lint` (statement
//! lists, findings, output) took 730 instructions an allocation there, and mimalloc's page
//! search after them as much again, 6% of a lint run in all. Every mimalloc block is aligned
//! to the machine word (block sizes are multiples of 8, pages start aligned), so a layout
//! aligned to 8 bytes or less needs no aligned call at all.

use std::alloc::{GlobalAlloc, Layout};
use std::ffi::c_void;

use libmimalloc_sys::{
    mi_free, mi_malloc, mi_malloc_aligned, mi_realloc, mi_realloc_aligned, mi_zalloc,
    mi_zalloc_aligned,
};

/// The largest alignment every mimalloc block has.
const WORD_ALIGNED: usize = 8;

pub struct MiMalloc;

// SAFETY: every method hands mimalloc's result on unchanged; mimalloc returns blocks of at
// least the size asked for, aligned as asked (plain calls only where every block already
// is: `WORD_ALIGNED`), or null on failure, and frees or resizes only its own blocks.
unsafe impl GlobalAlloc for MiMalloc {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: see the impl.
        unsafe {
            if layout.align() <= WORD_ALIGNED {
                mi_malloc(layout.size()).cast()
            } else {
                mi_malloc_aligned(layout.size(), layout.align()).cast()
            }
        }
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: see the impl.
        unsafe {
            if layout.align() <= WORD_ALIGNED {
                mi_zalloc(layout.size()).cast()
            } else {
                mi_zalloc_aligned(layout.size(), layout.align()).cast()
            }
        }
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, _layout: Layout) {
        // SAFETY: `ptr` came from this allocator (the caller's contract).
        unsafe { mi_free(ptr.cast::<c_void>()) }
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: `ptr` came from this allocator with `layout` (the caller's contract).
        unsafe {
            if layout.align() <= WORD_ALIGNED {
                mi_realloc(ptr.cast(), new_size).cast()
            } else {
                mi_realloc_aligned(ptr.cast(), new_size, layout.align()).cast()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Blocks of every size class up to a few MiB, at every alignment up to a page, are
    /// aligned as asked, hold what was written and keep it through a resize.
    #[test]
    fn blocks_are_aligned_as_asked_and_keep_their_bytes() {
        let allocator = MiMalloc;
        let mut size = 1;
        while size < 4 << 20 {
            for align in [1, 2, 4, 8, 16, 32, 64, 4096] {
                let layout = Layout::from_size_align(size, align).unwrap();
                // SAFETY: the layout is not zero-sized; each block is freed once, with the
                // layout it has.
                unsafe {
                    let block = allocator.alloc(layout);
                    assert!(!block.is_null());
                    assert_eq!(block as usize % align, 0, "size {size}, align {align}");
                    block.write_bytes(0xA5, size);
                    let grown = allocator.realloc(block, layout, 2 * size + 3);
                    assert_eq!(grown as usize % align, 0, "size {size}, align {align}");
                    assert!((0..size).all(|i| *grown.add(i) == 0xA5));
                    let grown_layout = Layout::from_size_align(2 * size + 3, align).unwrap();
                    allocator.dealloc(grown, grown_layout);
                    let zeroed = allocator.alloc_zeroed(layout);
                    assert_eq!(zeroed as usize % align, 0, "size {size}, align {align}");
                    assert!((0..size).all(|i| *zeroed.add(i) == 0));
                    allocator.dealloc(zeroed, layout);
                }
            }
            size = size * 5 / 4 + 1;
        }
    }
}
