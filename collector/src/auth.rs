//! Who may make a data-subject request (export, erase) about a subject.
//!
//! Two kinds of bearer token, in `Authorization: Bearer <token>`:
//! - the admin token (`--admin-token-file`), for the site's staff answering requests that
//!   arrive by mail or form, about any subject;
//! - the subject's secret: a random text only the visitor's browser holds. Its SHA-256 (of the
//!   secret's UTF-8 bytes, 64 lower-case hex digits) is in the subject's first receipt
//!   (`secret_hash`, evidence format v2), so the collector stores only the hash and the secret
//!   opens that subject's data and no other.
//!
//! Owns: reading the header and comparing in constant time (digests, with `subtle`). Must
//! never: compare a secret with `==`, keep a secret (only hashes), or let one subject's secret
//! open another subject.
use crate::store::{Store, StoreError};
use crate::Settings;
use axum::http::{header, HeaderMap};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Who made an authorised request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Principal {
    Admin,
    Subject,
    /// A collector started without authorisation for subject requests (the local demo).
    Open,
}

impl Principal {
    pub fn as_str(self) -> &'static str {
        match self {
            Principal::Admin => "admin",
            Principal::Subject => "subject",
            Principal::Open => "open",
        }
    }
}

/// Why a request is not authorised.
#[derive(Debug)]
pub enum Denied {
    /// No bearer token (401).
    Missing,
    /// A token that is neither (403).
    Wrong,
    /// The subject's secret hash could not be read (503).
    Store(StoreError),
}

/// SHA-256 of a token.
pub fn digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// The bearer token of a request, if it has one.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, token) = v.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// Whether the request carries the admin token.
pub fn is_admin(settings: &Settings, headers: &HeaderMap) -> bool {
    match (&settings.admin_token_sha256, bearer(headers)) {
        (Some(want), Some(t)) => bool::from(digest(t).ct_eq(want)),
        _ => false,
    }
}

/// Decodes 64 hex digits.
fn unhex(s: &str) -> Option<[u8; 32]> {
    if s.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(s.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

/// Authorises a request about `subject`.
pub async fn authorise(store: &Store, settings: &Settings, headers: &HeaderMap, subject: &str) -> Result<Principal, Denied> {
    if settings.open_subject_requests {
        return Ok(Principal::Open);
    }
    let Some(token) = bearer(headers) else {
        return Err(Denied::Missing);
    };
    if is_admin(settings, headers) {
        return Ok(Principal::Admin);
    }
    let stored = store.secret_hash(subject).await.map_err(Denied::Store)?;
    match stored.as_deref().and_then(unhex) {
        Some(h) if bool::from(digest(token).ct_eq(&h)) => Ok(Principal::Subject),
        _ => Err(Denied::Wrong),
    }
}

/// Whether `secret` is the subject's (the hash its first receipt registered), compared in
/// constant time. Asked for a fork's answer whatever `open_subject_requests` says.
pub async fn holds_secret(store: &Store, subject: &str, secret: &str) -> Result<bool, StoreError> {
    let stored = store.secret_hash(subject).await?;
    Ok(stored.as_deref().and_then(unhex).is_some_and(|h| bool::from(digest(secret).ct_eq(&h))))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn with(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, HeaderValue::from_str(v).unwrap());
        h
    }

    #[test]
    fn reads_bearer_tokens() {
        assert_eq!(bearer(&with("Bearer abc")), Some("abc"));
        assert_eq!(bearer(&with("bearer   abc ")), Some("abc"));
        assert_eq!(bearer(&with("Basic abc")), None);
        assert_eq!(bearer(&with("Bearer ")), None);
        assert_eq!(bearer(&HeaderMap::new()), None);
    }

    #[test]
    fn admin_token_by_digest() {
        let s = Settings { admin_token_sha256: Some(digest("s3cret")), ..Settings::default() };
        assert!(is_admin(&s, &with("Bearer s3cret")));
        assert!(!is_admin(&s, &with("Bearer s3cre")));
        assert!(!is_admin(&Settings::default(), &with("Bearer s3cret")));
        assert_eq!(unhex(&"ab".repeat(32)), Some([0xab; 32]));
        assert_eq!(unhex("ab"), None);
        assert_eq!(unhex(&"zz".repeat(32)), None);
    }
}
