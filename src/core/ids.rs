//! Identifiers made from random bytes the shell passes in: receipt ids and subjects (hex),
//! UUIDs for tracker ids and events (RFC 9562 versions 4 and 7), and hex checks.
//!
//! Must never: read randomness or clocks itself (sans-I/O).

pub const HEX: &[u8; 16] = b"0123456789abcdef";

/// Lower-case hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(HEX[(b >> 4) as usize] as char);
        s.push(HEX[(b & 15) as usize] as char);
    }
    s
}

/// Whether `s` is exactly `len` lower-case hex digits.
pub fn is_hex(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c))
}

/// SHA-256 of `data` as lower-case hex.
pub fn sha256_hex(data: &[u8]) -> String {
    use sha2::Digest;
    hex(&sha2::Sha256::digest(data))
}

/// A UUID of version 4 (random), or 7 when `ms` is given (the Unix milliseconds in its first
/// 48 bits, time-ordered as posthog-js makes event ids), from 16 random bytes.
pub fn uuid(mut b: [u8; 16], ms: Option<u64>) -> String {
    let version = match ms {
        Some(ms) => {
            let be = ms.to_be_bytes();
            b[..6].copy_from_slice(&be[2..]);
            7
        }
        None => 4,
    };
    b[6] = (b[6] & 0x0f) | (version << 4);
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex(&b);
    let mut s = String::with_capacity(36);
    for (start, end) in [(0, 8), (8, 12), (12, 16), (16, 20), (20, 32)] {
        if start > 0 {
            s.push('-');
        }
        s.push_str(h.get(start..end).unwrap_or(""));
    }
    s
}

/// Whether `s` is a UUID as `uuid` writes them (lower-case, hyphenated, any version).
pub fn is_uuid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, &c)| match i {
            8 | 13 | 18 | 23 => c == b'-',
            _ => c.is_ascii_digit() || (b'a'..=b'f').contains(&c),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_have_their_version_and_variant() {
        let v4 = uuid([0xff; 16], None);
        assert_eq!(v4, "ffffffff-ffff-4fff-bfff-ffffffffffff");
        assert!(is_uuid(&v4));
        let v7 = uuid([0; 16], Some(0x0190_0000_0001));
        assert_eq!(v7, "01900000-0001-7000-8000-000000000000");
        assert!(!is_uuid("FFFFFFFF-ffff-4fff-bfff-ffffffffffff"));
        assert!(!is_uuid("ffffffff-ffff-4fff-bfff-fffffffffff"));
    }

    #[test]
    fn sha256_matches_the_known_vector() {
        assert_eq!(sha256_hex(b"abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assert!(is_hex(&sha256_hex(b""), 64));
        assert!(!is_hex("ABCD", 4));
    }
}
