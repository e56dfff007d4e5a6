//! The sans-I/O core: every rule lives here, nothing here touches the browser.
//!
//! Code here ships in the `.wasm` to every visitor: no `format!`, no `Debug` derives outside
//! tests, no panicking `unwrap`/`expect` with messages (they pull in `core::fmt`).
pub mod backoff;
pub mod config;
pub mod consent;
pub mod engine;
pub mod evidence;
pub mod json;
pub mod sha256;
pub mod texts;
pub mod time;
pub mod tracker;

/// `s` split around its first byte `b`, or None when there is none. `b` must be ASCII, so both
/// halves are whole UTF-8. A byte loop: no char pattern searcher or memchr in the module.
pub fn cut(s: &str, b: u8) -> Option<(&str, &str)> {
    let mut i = 0;
    while *s.as_bytes().get(i)? != b {
        i += 1;
    }
    Some((s.get(..i)?, s.get(i + 1..)?))
}

/// The part of `s` before its first byte `b` (all of `s` when there is none). `b` must be ASCII.
pub fn before(s: &str, b: u8) -> &str {
    cut(s, b).map_or(s, |(head, _)| head)
}

/// Whether `s` is an id: 1 to `max` bytes of `a-z`, `0-9`, `_` and `-` (purpose ids in the
/// config and in receipts). A plain loop: iterator adaptors cost more code in the module.
pub fn is_id(s: &str, max: usize) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    while let Some(c) = b.get(i) {
        if !matches!(c, b'a'..=b'z' | b'0'..=b'9' | b'_' | b'-') {
            return false;
        }
        i += 1;
    }
    i > 0 && i <= max
}
