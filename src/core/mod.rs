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

/// Whether `s` holds the byte `b` (a plain loop: no searcher in the `.wasm`).
pub fn has(s: &str, b: u8) -> bool {
    s.bytes().any(|c| c == b)
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

/// `s` without its first and last byte when they are `open` and `close` (ASCII): `/re/` → `re`,
/// `prefix*` (open 0: none) → `prefix`. Byte checks: no pattern searcher in the `.wasm`.
pub fn unwrap_ends(s: &str, open: u8, close: u8) -> Option<&str> {
    let b = s.as_bytes();
    let start = usize::from(open != 0);
    if b.len() < 1 + start || b.last() != Some(&close) || (open != 0 && b.first() != Some(&open)) {
        return None;
    }
    s.get(start..b.len() - 1)
}

/// `s` without the spaces around it (ASCII spaces only, as around a cookie's name).
pub fn trim_spaces(s: &str) -> &str {
    let b = s.as_bytes();
    let start = b.iter().position(|&c| c != b' ').unwrap_or(b.len());
    let end = b.iter().rposition(|&c| c != b' ').map_or(start, |i| i + 1);
    s.get(start..end.max(start)).unwrap_or("")
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_helpers() {
        assert_eq!(unwrap_ends("/^_ga/", b'/', b'/'), Some("^_ga"));
        assert_eq!(unwrap_ends("/", b'/', b'/'), None);
        assert_eq!(unwrap_ends("_ga", b'/', b'/'), None);
        assert_eq!(unwrap_ends("_demo_*", 0, b'*'), Some("_demo_"));
        assert_eq!(unwrap_ends("*", 0, b'*'), Some(""));
        assert_eq!(unwrap_ends("_demo", 0, b'*'), None);
        assert_eq!((trim_spaces("  a b "), trim_spaces("   "), trim_spaces("")), ("a b", "", ""));
        assert_eq!(find("Mozilla Chrome/1", "Chrome/"), Some(8));
        assert_eq!((find("ab", "abc"), find("", "")), (None, Some(0)));
        assert_eq!((digits("0123"), digits(""), digits("1a"), digits("1234567890123456789")), (Some(123), None, None, None));
    }
}
