//! The exact bytes of receipts and of the shown-texts document: JSON strings and whole numbers
//! written as RFC 8785 (JSON Canonicalization Scheme) writes them.
//!
//! Why hand-written: a receipt's hash covers these bytes, so they must never change with a
//! library's release, and the `.wasm` must not carry a JSON serialiser for a few strings. Tested
//! against `serde_jcs` (an independent JCS implementation) in `tests/golden.rs` and below.
//! Must never: write a number with a fraction or exponent, or escape anything JCS does not.

/// Appends `s` as a JSON string: `"` and `\` escaped, U+0008/09/0A/0C/0D as `\b \t \n \f \r`,
/// the other controls below U+0020 as `\u00xx` (lower-case hex); everything else as itself.
pub fn push_str(out: &mut String, s: &str) {
    out.push('"');
    let mut start = 0;
    for (i, b) in s.bytes().enumerate() {
        let short = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0c => "\\f",
            0..=0x1f => "",
            _ => continue,
        };
        // `get`, not indexing: both ends are ASCII positions, and indexing would bring the
        // panic path of a slice that is not on a character boundary (and its tables) along.
        out.push_str(s.get(start..i).unwrap_or_default());
        if short.is_empty() {
            out.push_str("\\u00");
            out.push(crate::core::ids::HEX[(b >> 4) as usize] as char);
            out.push(crate::core::ids::HEX[(b & 15) as usize] as char);
        } else {
            out.push_str(short);
        }
        start = i + 1;
    }
    out.push_str(s.get(start..).unwrap_or_default());
    out.push('"');
}

/// Appends a whole number in plain decimal.
pub fn push_int(out: &mut String, n: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    let mut v = n;
    loop {
        i -= 1;
        digits[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    for d in &digits[i..] {
        out.push(*d as char);
    }
}

/// Appends `"key":` (keys written by the core are plain ASCII names).
pub fn push_key(out: &mut String, key: &str) {
    out.push('"');
    out.push_str(key);
    out.push_str("\":");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_written_as_jcs_writes_them() {
        let samples = ["", "plain", "quote \" and \\ back", "über-uns 🍪", "\u{0}\u{1}\u{8}\t\n\u{b}\u{c}\r\u{1f} \u{7f}", "a/b\u{2028}"];
        for s in samples {
            let mut mine = String::new();
            push_str(&mut mine, s);
            assert_eq!(mine, serde_jcs::to_string(&s).unwrap(), "{s:?}");
        }
        // Every single character below 0x80 and a few above, one at a time.
        for c in (0u32..0x80).chain([0xe9, 0x2028, 0xfeff, 0x1f36a]) {
            let s = char::from_u32(c).unwrap().to_string();
            let mut mine = String::new();
            push_str(&mut mine, &s);
            assert_eq!(mine, serde_jcs::to_string(&s).unwrap(), "U+{c:04X}");
        }
    }

    #[test]
    fn whole_numbers_are_plain_decimal() {
        for n in [0u64, 1, 9, 10, 99, 100, 12345, (1 << 53) - 1, u64::MAX] {
            let mut s = String::new();
            push_int(&mut s, n);
            assert_eq!(s, n.to_string());
        }
    }
}
