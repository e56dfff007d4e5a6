//! SHA-256 (FIPS 180-4), written here so the `.wasm` needs no crypto crate. STUB: being written.
/// The digest of `data`.
pub fn sha256(_data: &[u8]) -> [u8; 32] {
    [0; 32]
}
/// Lower-case hex of a digest.
pub fn hex(d: &[u8; 32]) -> String {
    let mut s = String::with_capacity(64);
    for b in d {
        s.push(crate::core::json::HEX[(b >> 4) as usize] as char);
        s.push(crate::core::json::HEX[(b & 15) as usize] as char);
    }
    s
}
