//! What `std` would otherwise bring into the `.wasm`: a panic handler and a memory allocator.
//!
//! Why: std's panic machinery formats messages with `core::fmt` and its allocator is a full
//! dlmalloc; together they were about a fifth of the module, shipped to every visitor. Here a
//! panic (which the code is written never to reach) traps at once, and memory comes from a
//! size-class free list: small, fast, and enough for a page's few kilobytes of live data.
//! Only in the shipped build (`runtime` feature); the browser tests link std instead.
use core::alloc::{GlobalAlloc, Layout};
use core::cell::UnsafeCell;

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    core::arch::wasm32::unreachable()
}

const PAGE: usize = 65536;
/// Size classes 16, 32, … 32768 bytes; anything larger gets whole pages of its own.
const CLASSES: usize = 12;

struct Heap {
    /// Head of the free list of each class (0 = empty); a free block stores the next pointer.
    free: [usize; CLASSES],
    /// Freed whole-page blocks: each stores its page count, then the next block.
    large: usize,
    /// Unused tail of the last page taken from the host.
    next: usize,
    end: usize,
}

struct Allocator(UnsafeCell<Heap>);

// The wasm32-unknown-unknown target runs this module on one thread.
unsafe impl Sync for Allocator {}

#[global_allocator]
static ALLOC: Allocator = Allocator(UnsafeCell::new(Heap { free: [0; CLASSES], large: 0, next: 0, end: 0 }));

fn class(size: usize) -> usize {
    let size = size.max(16);
    (usize::BITS - (size - 1).leading_zeros()) as usize - 4
}

fn grow(pages: usize) -> usize {
    let old = core::arch::wasm32::memory_grow(0, pages);
    if old == usize::MAX {
        0
    } else {
        old * PAGE
    }
}

unsafe impl GlobalAlloc for Allocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let h = &mut *self.0.get();
        // Blocks are aligned to their own size, so any alignment up to the size is met.
        let size = layout.size().max(layout.align());
        let c = class(size);
        if c >= CLASSES {
            let pages = size.div_ceil(PAGE);
            // First fit among freed large blocks (a growing log re-saved many times).
            let mut link = &mut h.large as *mut usize;
            while *link != 0 {
                let block = *link as *mut usize;
                if *block >= pages {
                    *link = *block.add(1);
                    return block as *mut u8;
                }
                link = block.add(1);
            }
            return grow(pages) as *mut u8;
        }
        let head = h.free[c];
        if head != 0 {
            h.free[c] = *(head as *const usize);
            return head as *mut u8;
        }
        let bytes = 16 << c;
        let mut at = (h.next + bytes - 1) & !(bytes - 1);
        if at + bytes > h.end {
            let start = grow(1);
            if start == 0 {
                return core::ptr::null_mut();
            }
            // A fresh page follows the old tail only if nothing else grew memory meanwhile.
            if start != h.end {
                h.next = start;
            }
            h.end = start + PAGE;
            at = (h.next + bytes - 1) & !(bytes - 1);
        }
        h.next = at + bytes;
        at as *mut u8
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        let h = &mut *self.0.get();
        let c = class(layout.size().max(layout.align()));
        let block = ptr as *mut usize;
        if c < CLASSES {
            *block = h.free[c];
            h.free[c] = ptr as usize;
        } else {
            *block = layout.size().max(layout.align()).div_ceil(PAGE);
            *block.add(1) = h.large;
            h.large = ptr as usize;
        }
    }
}
