//! The sans-I/O core: every rule lives here, nothing here touches the browser.
//!
//! Code here ships in the `.wasm` to every visitor: no `format!`, no `Debug` derives outside
//! tests, no panicking `unwrap`/`expect` with messages (they pull in `core::fmt`).
#[allow(unused_imports)]
use crate::prelude::*;

pub mod backoff;
pub mod config;
pub mod consent;
pub mod engine;
pub mod evidence;
pub mod json;
pub mod sha256;
pub mod tape;
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

/// Removes the first `n` items of `v` (all when there are fewer). `retain`, not `drain`: drain's
/// range check brings a panic path and its messages into the module.
pub fn drop_front<T>(v: &mut Vec<T>, n: usize) {
    let mut i = 0;
    v.retain(|_| {
        i += 1;
        i > n
    });
}

/// `b` as text when it is well-formed UTF-8 (`core::str::from_utf8` without its code size).
pub fn utf8(b: &[u8]) -> Option<&str> {
    // SAFETY: `is_utf8` accepts exactly what `core::str::from_utf8` accepts (tested against it
    // on every sequence of up to three bytes, and after each four-byte lead).
    is_utf8(b).then(|| unsafe { core::str::from_utf8_unchecked(b) })
}

/// Whether `b` is well-formed UTF-8: exactly what `core::str::from_utf8` accepts (no overlong
/// forms, no surrogates, nothing above U+10FFFF), in a plain byte loop. The standard one's
/// word-at-a-time fast path costs about 0.8 KB of `.wasm`; the texts checked here are short.
pub fn is_utf8(b: &[u8]) -> bool {
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        if c < 0x80 {
            i += 1; // ASCII, most of every text: one comparison
            continue;
        }
        // How many continuation bytes follow, and the range of the first (Unicode table 3-7).
        let (n, lo, hi) = match c {
            0xc2..=0xdf => (1, 0x80, 0xbf),
            0xe0 => (2, 0xa0, 0xbf),
            0xed => (2, 0x80, 0x9f),
            0xe1..=0xef => (2, 0x80, 0xbf),
            0xf0 => (3, 0x90, 0xbf),
            0xf1..=0xf3 => (3, 0x80, 0xbf),
            0xf4 => (3, 0x80, 0x8f),
            _ => return false,
        };
        let mut k = 1;
        while k <= n {
            let (l, h) = if k == 1 { (lo, hi) } else { (0x80, 0xbf) };
            match b.get(i + k) {
                Some(&x) if x >= l && x <= h => k += 1,
                _ => return false,
            }
        }
        i += k;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn is_utf8_agrees_with_the_standard_library() {
        let check = |b: &[u8]| assert_eq!(is_utf8(b), std::str::from_utf8(b).is_ok(), "{b:02x?}");
        // Every sequence of one, two and three bytes; after the four-byte leads (F0-FF) also
        // the lowest and highest continuation byte as a fourth.
        for a in 0..=255u8 {
            check(&[a]);
            for b in 0..=255u8 {
                check(&[a, b]);
                for c in 0..=255u8 {
                    check(&[a, b, c]);
                    if a >= 0xf0 {
                        check(&[a, b, c, 0x80]);
                        check(&[a, b, c, 0xbf]);
                    }
                }
            }
        }
        for s in ["", "plain", "Grüße", "日本語", "🍪 cookies", "\u{10ffff}", "\u{d7ff}\u{e000}"] {
            assert!(is_utf8(s.as_bytes()), "{s}");
        }
    }
}
