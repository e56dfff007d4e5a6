//! Request bodies as the collector takes them: plain or gzip-compressed, whatever the
//! `Content-Type` says (browsers send `text/plain` to avoid a CORS preflight, and posthog-js's
//! `?compression=gzip-js` is not trusted either: gzip is recognised by its magic bytes 1f 8b).
//!
//! Owns: unpacking gzip to at most `MAX_UNPACKED` bytes, and the UTF-8 check. Must never: unpack
//! more than the limit (a gzip bomb costs at most `MAX_UNPACKED` + one buffer), or panic on any
//! input.
use std::io::Read;

/// The most a gzip body may unpack to.
pub const MAX_UNPACKED: usize = 1024 * 1024;

/// Why a body was refused: an HTTP status and a sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub status: u16,
    pub error: String,
}

impl Refusal {
    pub fn new(status: u16, error: impl Into<String>) -> Refusal {
        Refusal { status, error: error.into() }
    }
}

/// Whether `body` starts with gzip's magic bytes.
pub fn is_gzip(body: &[u8]) -> bool {
    body.starts_with(&[0x1f, 0x8b])
}

/// The body's bytes, unpacked when it is gzip (at most `MAX_UNPACKED` bytes, else 413).
pub fn unpack(body: &[u8]) -> Result<std::borrow::Cow<'_, [u8]>, Refusal> {
    if !is_gzip(body) {
        return Ok(std::borrow::Cow::Borrowed(body));
    }
    let mut out = Vec::new();
    // A multi-member decoder: gzip allows several members back to back.
    flate2::read::MultiGzDecoder::new(body)
        .take(MAX_UNPACKED as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| Refusal::new(400, format!("the gzip body does not unpack: {e}")))?;
    if out.len() > MAX_UNPACKED {
        return Err(Refusal::new(413, format!("the gzip body unpacks to more than {} KiB", MAX_UNPACKED / 1024)));
    }
    Ok(std::borrow::Cow::Owned(out))
}

/// The body as text: unpacked when gzip, then checked to be UTF-8.
pub fn text(body: &[u8]) -> Result<String, Refusal> {
    let bytes = unpack(body)?;
    match std::str::from_utf8(&bytes) {
        Ok(s) => Ok(s.to_string()),
        Err(e) => Err(Refusal::new(400, format!("the body is not UTF-8 (byte {})", e.valid_up_to()))),
    }
}

#[cfg(test)]
pub(crate) fn gzip(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut z = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    z.write_all(data).expect("writing to memory");
    z.finish().expect("writing to memory")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn plain_and_gzip_bodies() {
        assert_eq!(text(b"{\"a\":1}").unwrap(), "{\"a\":1}");
        assert_eq!(text(&gzip("{\"é\":1}".as_bytes())).unwrap(), "{\"é\":1}");
        // Two members back to back read as one text.
        let mut two = gzip(b"[1,");
        two.extend(gzip(b"2]"));
        assert_eq!(text(&two).unwrap(), "[1,2]");
        assert_eq!(text(b"\xff\xfe").unwrap_err().status, 400);
        assert!(text(b"ab\xc3").unwrap_err().error.contains("byte 2"));
    }

    #[test]
    fn a_gzip_bomb_is_refused_after_the_limit() {
        // 64 MiB of zeros pack into about 64 KiB: refused after unpacking 1 MiB + 1 byte.
        let bomb = gzip(&vec![0u8; 64 << 20]);
        assert!(bomb.len() < 100 * 1024, "{}", bomb.len());
        let r = unpack(&bomb).unwrap_err();
        assert_eq!(r.status, 413, "{r:?}");
        assert!(r.error.contains("1024 KiB"), "{r:?}");
        // Exactly at the limit is fine.
        assert_eq!(unpack(&gzip(&vec![b' '; MAX_UNPACKED])).unwrap().len(), MAX_UNPACKED);
    }

    #[test]
    fn broken_gzip_is_a_400() {
        let mut cut = gzip(b"[1,2,3]");
        cut.truncate(cut.len() - 5);
        assert_eq!(text(&cut).unwrap_err().status, 400);
        assert_eq!(text(&[0x1f, 0x8b]).unwrap_err().status, 400);
        let mut bad_crc = gzip(b"[1,2,3]");
        let n = bad_crc.len();
        bad_crc[n - 6] ^= 0xff;
        assert_eq!(text(&bad_crc).unwrap_err().status, 400);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]
        #[test]
        fn any_bytes_give_text_or_a_4xx(body in proptest::collection::vec(any::<u8>(), 0..4096)) {
            match text(&body) {
                Ok(t) => prop_assert!(t.len() <= MAX_UNPACKED.max(body.len())),
                Err(r) => prop_assert!(r.status == 400 || r.status == 413),
            }
        }

        #[test]
        fn any_bytes_after_the_gzip_magic_give_text_or_a_4xx(tail in proptest::collection::vec(any::<u8>(), 0..4096)) {
            let mut body = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3];
            body.extend(tail);
            if let Err(r) = text(&body) {
                prop_assert!(r.status == 400 || r.status == 413);
            }
        }

        #[test]
        fn gzip_round_trips(data in proptest::collection::vec(any::<u8>(), 0..8192)) {
            prop_assert_eq!(unpack(&gzip(&data)).unwrap().into_owned(), data);
        }
    }
}
