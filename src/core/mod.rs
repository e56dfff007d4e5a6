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

/// Where `needle` first occurs in `hay`: a plain byte loop (the standard substring search
/// brings several kilobytes of searcher code into the `.wasm` for a few short user-agent tokens).
pub fn find(hay: &str, needle: &str) -> Option<usize> {
    let (h, n) = (hay.as_bytes(), needle.as_bytes());
    (0..=h.len().checked_sub(n.len())?).find(|&i| h.get(i..i + n.len()) == Some(n))
}

/// A whole number written in decimal digits only.
pub fn digits(s: &str) -> Option<u64> {
    if s.is_empty() || s.len() > 18 {
        return None;
    }
    s.bytes().try_fold(0u64, |v, b| b.is_ascii_digit().then(|| v * 10 + (b - b'0') as u64))
}

/// Whether `s` is an id: 1 to `max` bytes of `a-z`, `0-9`, `_` and `-` (purpose ids in the
/// config and in receipts).
pub fn is_id(s: &str, max: usize) -> bool {
    !s.is_empty() && s.len() <= max && s.bytes().all(|c| matches!(c, b'a'..=b'z' | b'0'..=b'9' | b'_' | b'-'))
}
