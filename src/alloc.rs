//! The global allocator of both binaries: mimalloc, called the way its
//! size classes are meant to be used.
//!
//! The `mimalloc` crate passes every request to `mi_malloc_aligned`. In
//! mimalloc 3 that takes the plain path only while the size class's current
//! page has a free block; otherwise it over-allocates by the alignment, so a
//! 192-byte session with 8-byte alignment lands in the 224-byte class
//! (microsoft/mimalloc#889; BENCHMARKS.md, row 5: 33 bytes a session). Every mimalloc block is aligned to
//! at least a word, so requests aligned to a word or less need no aligned
//! call at all; only larger alignments go through the aligned API.

use std::alloc::{GlobalAlloc, Layout};
use std::ffi::c_void;

use libmimalloc_sys as mi;

/// Alignment every mimalloc block has: size classes are whole words.
const WORD: usize = std::mem::size_of::<usize>();

/// mimalloc as the global allocator (`#[global_allocator]` in each binary).
pub struct MiMalloc;

// SAFETY: each method forwards to the mimalloc function of the same
// contract. Requests aligned to at most a word use the unaligned functions,
// whose blocks are always word-aligned; larger alignments use the aligned
// ones. `mi_free` frees blocks from either.
unsafe impl GlobalAlloc for MiMalloc {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: mimalloc accepts any size; the pointer is checked by the
        // caller for null.
        unsafe {
            if layout.align() <= WORD {
                mi::mi_malloc(layout.size()).cast()
            } else {
                mi::mi_malloc_aligned(layout.size(), layout.align()).cast()
            }
        }
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as `alloc`.
        unsafe {
            if layout.align() <= WORD {
                mi::mi_zalloc(layout.size()).cast()
            } else {
                mi::mi_zalloc_aligned(layout.size(), layout.align()).cast()
            }
        }
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, _layout: Layout) {
        // SAFETY: `ptr` came from this allocator (GlobalAlloc's contract).
        unsafe { mi::mi_free(ptr.cast::<c_void>()) }
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: `ptr` came from this allocator with `layout`; the new
        // block keeps the alignment asked for.
        unsafe {
            if layout.align() <= WORD {
                mi::mi_realloc(ptr.cast::<c_void>(), new_size).cast()
            } else {
                mi::mi_realloc_aligned(ptr.cast::<c_void>(), new_size, layout.align()).cast()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    extern "C" {
        /// In the C library; `libmimalloc-sys` declares it only with its
        /// `extended` feature.
        fn mi_usable_size(p: *const c_void) -> usize;
    }

    /// What mimalloc reserves for a block at `p`.
    fn usable(p: *mut u8) -> usize {
        // SAFETY: `p` is a live block of this allocator.
        unsafe { mi_usable_size(p.cast::<c_void>()) }
    }

    #[test]
    fn a_word_aligned_request_takes_its_own_size_class() {
        // Many, so that pages fill up: the aligned path over-allocated only
        // once a page had no free block left.
        let layout = Layout::from_size_align(192, 8).unwrap();
        let blocks: Vec<*mut u8> = (0..10_000)
            .map(|_| unsafe { MiMalloc.alloc(layout) })
            .collect();
        for &p in &blocks {
            assert!(!p.is_null());
            assert_eq!(p as usize % 8, 0);
            assert_eq!(usable(p), 192, "a 192-byte request stays in the 192 class");
        }
        for p in blocks {
            unsafe { MiMalloc.dealloc(p, layout) };
        }
    }

    #[test]
    fn every_alignment_is_honoured() {
        for align in [1, 2, 4, 8, 16, 32, 64, 4096] {
            for size in [1, 7, 8, 24, 100, 192, 5000] {
                let layout = Layout::from_size_align(size, align).unwrap();
                unsafe {
                    let p = MiMalloc.alloc(layout);
                    assert_eq!(p as usize % align, 0, "alloc {size}/{align}");
                    let z = MiMalloc.alloc_zeroed(layout);
                    assert_eq!(z as usize % align, 0, "zeroed {size}/{align}");
                    assert!(std::slice::from_raw_parts(z, size).iter().all(|&b| b == 0));
                    let r = MiMalloc.realloc(p, layout, size * 3);
                    assert_eq!(r as usize % align, 0, "realloc {size}/{align}");
                    MiMalloc.dealloc(r, Layout::from_size_align(size * 3, align).unwrap());
                    MiMalloc.dealloc(z, layout);
                }
            }
        }
    }
}
