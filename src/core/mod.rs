//! The sans-I/O core: every rule lives here; nothing here touches the browser, a clock,
//! storage or randomness (the shell passes time, random bytes and what it read in).
//!
//! Code here ships in the `.wasm` to every visitor: no `format!`, no `Debug` outside tests, no
//! `unwrap`/`expect` with messages in browser paths (they pull `core::fmt` into the module).
pub mod backoff;
pub mod canonical;
pub mod config;
pub mod consent;
pub mod doc;
pub mod engine;
pub mod evidence;
pub mod ids;
pub mod texts;
pub mod time;
pub mod tracker;

/// `s` split around its first byte `b`, or None when there is none. `b` must be ASCII, so both
/// halves are whole UTF-8.
pub fn cut(s: &str, b: u8) -> Option<(&str, &str)> {
    let i = s.bytes().position(|c| c == b)?;
    Some((s.get(..i)?, s.get(i + 1..)?))
}

/// The part of `s` before its first byte `b` (all of `s` when there is none). `b` must be ASCII.
pub fn before(s: &str, b: u8) -> &str {
    cut(s, b).map_or(s, |(head, _)| head)
}

/// Whether `s` is an id: 1 to `max` bytes of `a-z`, `0-9`, `_` and `-` (purpose ids in the
/// config and in receipts).
pub fn is_id(s: &str, max: usize) -> bool {
    !s.is_empty() && s.len() <= max && s.bytes().all(|c| matches!(c, b'a'..=b'z' | b'0'..=b'9' | b'_' | b'-'))
}
