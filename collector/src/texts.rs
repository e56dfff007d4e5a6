//! The wording itself: shown-texts documents, content-addressed by SHA-256.
//!
//! A receipt's `texts` field is the SHA-256 (64 lower-case hex digits) of the exact bytes of the
//! document of texts the visitor was shown. The collector keeps each document under that hash,
//! so a site can show which wording a visitor saw. The collector does not read the document: it
//! is opaque UTF-8 text whose hash must match.
//!
//! Owns: the hash of a document and the shape of a hash. Must never: store a document under a
//! hash its bytes do not have.
use sha2::{Digest, Sha256};

/// The SHA-256 of the document's exact UTF-8 bytes, lower-case hex.
pub fn hash_of(doc: &str) -> String {
    let d = Sha256::digest(doc.as_bytes());
    d.iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether `s` is 64 lower-case hex digits.
pub fn is_hash(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_as_sha256sum_does() {
        // `printf 'abc' | sha256sum`
        assert_eq!(hash_of("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assert!(is_hash(&hash_of("")));
        assert!(!is_hash(&hash_of("x").to_uppercase()));
        assert!(!is_hash("abc"));
    }
}
