//! The `.wasm`'s own calling convention: how texts and bytes cross to and from `exports`.
//!
//! Why not wasm-bindgen: its glue for twenty text-passing functions weighed more than the banner
//! code, and every visitor pays for it. Here the module has no imports but one (`env.send`, for
//! beacons) and every export has the same shape: the shell writes the call's texts (UTF-8),
//! bytes (random bytes) and documents (JSON the browser parsed, as a tape: `core::tape`), one
//! after another, into the buffer `buf` returns, and passes their byte lengths (-1: none)
//! followed by the numbers; a text answer is left in `out` and its byte length returned (-1:
//! none). The answer stays valid until the next call. Single-threaded: one call at a time.
#[allow(unused_imports)]
use crate::prelude::*;
use core::cell::RefCell;

use super::exports as x;
use super::global::Global;
use crate::core::json::Value;
use crate::core::tape;

/// `Option<Option<Value>>` → the `Stored` the engine takes.
fn stored(d: &Option<Option<Value>>) -> Option<Option<&Value>> {
    d.as_ref().map(Option::as_ref)
}

static INPUT: Global<RefCell<Vec<u8>>> = Global(RefCell::new(Vec::new()));
static OUTPUT: Global<RefCell<String>> = Global(RefCell::new(String::new()));

#[link(wasm_import_module = "env")]
extern "C" {
    /// `navigator.sendBeacon(trackerEndpoint, text)`: 1 when the browser took it.
    fn send(ptr: *const u8, len: usize) -> i32;
}

/// A buffer of at least `len` bytes for the next call's texts. It only grows: the call reads
/// exactly the lengths it is given, so nothing needs clearing between calls.
#[no_mangle]
pub extern "C" fn buf(len: usize) -> *mut u8 {
    // try_borrow: a call that re-entered would get null, never a panic.
    INPUT.with(|b| {
        b.try_borrow_mut().map_or(core::ptr::null_mut(), |mut b| {
            if b.len() < len {
                b.resize(len, 0);
            }
            b.as_mut_ptr()
        })
    })
}

/// Where the last text answer is.
#[no_mangle]
pub extern "C" fn out() -> *const u8 {
    OUTPUT.with(|o| o.try_borrow().map_or(core::ptr::null(), |o| o.as_ptr()))
}

/// The texts of the current call, read in order.
struct Args<'a>(&'a [u8]);

impl<'a> Args<'a> {
    fn bytes(&mut self, len: i32) -> Option<&'a [u8]> {
        if len < 0 {
            return None;
        }
        let (head, tail) = self.0.split_at_checked(len as usize)?;
        self.0 = tail;
        Some(head)
    }
    /// A text, or None for -1 (and for bytes that are not UTF-8, which the shell never sends).
    fn opt(&mut self, len: i32) -> Option<&'a str> {
        self.bytes(len).and_then(crate::core::utf8)
    }
    fn text(&mut self, len: i32) -> &'a str {
        self.opt(len).unwrap_or("")
    }
    /// A document the shell parsed, as a tape: None for -1, Some(None) for a tape that does not
    /// decode (the shell sends an empty one for text that is not JSON).
    fn doc(&mut self, len: i32) -> Option<Option<Value>> {
        self.bytes(len).map(tape::decode)
    }
}

/// Runs `f` on the call's texts and leaves its answer in `out`.
fn answer(f: impl FnOnce(&mut Args) -> Option<String>) -> i32 {
    let result = INPUT.with(|b| b.try_borrow().ok().and_then(|b| f(&mut Args(&b))));
    match result.and_then(|s| OUTPUT.with(|o| o.try_borrow_mut().ok().map(|mut o| *o = s))) {
        Some(()) => OUTPUT.with(|o| o.try_borrow().map_or(-1, |o| o.len() as i32)),
        None => -1,
    }
}

#[no_mangle]
pub extern "C" fn start(config: i32, table: i32, langs: i32) -> i32 {
    answer(|a| {
        let (config, table) = (a.doc(config), a.doc(table));
        Some(x::start(config.flatten().as_ref(), stored(&table), a.text(langs)))
    })
}

#[no_mangle]
pub extern "C" fn load(stored: i32, origin: i32, path: i32, random: i32, now: i32, gpc: i32) -> i32 {
    answer(|a| {
        let (stored, origin, path, random) = (a.doc(stored), a.text(origin), a.text(path), a.bytes(random).unwrap_or(&[]));
        Some(x::load(self::stored(&stored), gpc != 0, a.text(now), origin, path, random))
    })
}

#[no_mangle]
pub extern "C" fn decide(choices: i32, method: i32, stored: i32, origin: i32, path: i32, random: i32, now: i32) -> i32 {
    answer(|a| {
        let (choices, method, stored) = (a.doc(choices), a.text(method), a.doc(stored));
        let (origin, path, random) = (a.text(origin), a.text(path), a.bytes(random).unwrap_or(&[]));
        Some(x::decide(choices.flatten().as_ref(), method, self::stored(&stored), a.text(now), origin, path, random))
    })
}

#[no_mangle]
pub extern "C" fn export_log() -> i32 {
    answer(|_| Some(x::export_log()))
}

#[no_mangle]
pub extern "C" fn verify(stored: i32) -> i32 {
    answer(|a| Some(x::verify(self::stored(&a.doc(stored)))))
}

#[no_mangle]
pub extern "C" fn outbox() -> i32 {
    answer(|_| Some(x::outbox()))
}

#[no_mangle]
pub extern "C" fn ack(upto: f64) -> i32 {
    answer(|_| Some(x::ack(upto)))
}

#[no_mangle]
pub extern "C" fn track_run(on: i32) {
    x::track_run(on != 0)
}

#[no_mangle]
pub extern "C" fn track(name: i32, rest: i32) -> i32 {
    let mut n = 0;
    answer(|a| {
        n = x::track(a.text(name), a.text(rest));
        None
    });
    n as i32
}

#[no_mangle]
pub extern "C" fn track_next(now: i32) -> i32 {
    answer(|a| x::track_next(a.text(now)))
}

#[no_mangle]
pub extern "C" fn track_done(status: i32, jitter: u32) -> i32 {
    x::track_done(status as u16, jitter)
}

#[no_mangle]
pub extern "C" fn track_waiting() -> u32 {
    x::track_waiting()
}

#[no_mangle]
pub extern "C" fn track_beacon(now: i32) {
    // SAFETY: `send` only reads `len` bytes at `ptr`, which `b` keeps alive during the call.
    answer(|a| {
        x::track_beacon(a.text(now), &mut |b| unsafe { send(b.as_ptr(), b.len()) } == 1);
        None
    });
}

#[no_mangle]
pub extern "C" fn backoff(attempt: u32, jitter: u32) -> u32 {
    x::backoff(attempt, jitter)
}
