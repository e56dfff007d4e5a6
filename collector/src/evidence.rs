//! The collector's one door to `consentry::core::evidence`: the same receipt definition, canonical
//! bytes and chain verifier as the browser. Every other module of the collector sees only the
//! small surface below, so a change of the core's API (the evidence format v2, serde types, error
//! enums) is a change of this file alone.
//!
//! Owns: reading one receipt from its JSON text (shape and hash checked), checking that a
//! receipt follows another (the chain link), writing the stored form, and the subject secret's
//! hash a first receipt may carry. Must never: accept a receipt whose hash does not cover its
//! content, or judge a chain any other way than `verify_chain`.
use consentry::core::evidence::{self as core, verify_chain};

/// A receipt whose shape and hash are checked (its place in a chain is not).
#[derive(Clone, PartialEq)]
pub struct Receipt(core::Receipt);

impl std::fmt::Debug for Receipt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_json())
    }
}

impl Receipt {
    /// Reads one receipt from its JSON text and checks every field's shape and its hash. The
    /// error names the field or says that the hash does not match.
    pub fn parse(text: &str) -> Result<Receipt, String> {
        let v: serde_json::Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
        let r = core::Receipt::from_doc(&&v).map_err(|e| e.as_str().to_string())?;
        verify_chain(std::slice::from_ref(&r), false).map_err(|b| b.reason.as_str().to_string())?;
        Ok(Receipt(r))
    }

    pub fn id(&self) -> &str {
        &self.0.id
    }
    pub fn subject(&self) -> &str {
        &self.0.subject
    }
    pub fn seq(&self) -> i64 {
        self.0.seq as i64
    }
    pub fn hash(&self) -> &str {
        &self.0.hash
    }
    /// The SHA-256 (hex) of the shown-texts document.
    pub fn texts(&self) -> &str {
        &self.0.texts
    }

    /// The SHA-256 (64 lower-case hex digits) of the subject's secret: a receipt of evidence
    /// format v2 carries it as `key`, covered by its hash; the collector registers the one of a
    /// chain's first receipt (a chain begun in format v1 has none: only the admin token opens it).
    pub fn secret_hash(&self) -> Option<&str> {
        self.0.key.as_deref()
    }

    /// The stored and sent form (canonical fields, then `hash`).
    pub fn to_json(&self) -> String {
        self.0.to_json()
    }
}

/// Checks that `next` is the receipt after `prev` in one subject's chain; with `prev` None,
/// that `next` starts a chain (seq 1, `prev` of zeros). The reason names what is wrong.
pub fn follows(prev: Option<&Receipt>, next: &Receipt) -> Result<(), String> {
    let broken = match prev {
        None => verify_chain(std::slice::from_ref(&next.0), true).err(),
        Some(p) => verify_chain(&[p.0.clone(), next.0.clone()], false).err(),
    };
    match broken {
        None => Ok(()),
        Some(b) => Err(b.reason.as_str().to_string()),
    }
}

/// The `format` of an exported evidence document (the browser's `exportEvidence()`).
pub const EXPORT_FORMAT: &str = core::EXPORT_FORMAT;

/// Test and benchmark aid: the chain of one subject, built by the core as the browser builds
/// it, one receipt at a time (so that a chain of any length takes constant memory).
pub struct ChainMaker {
    log: core::EvidenceLog,
    subject: [u8; 16],
    n: u64,
    texts: String,
}

impl ChainMaker {
    /// A new subject whose 16 bytes are `subject`; every receipt says it showed the texts whose
    /// SHA-256 is `texts` (64 hex digits).
    pub fn new(subject: [u8; 16], texts: &str) -> ChainMaker {
        ChainMaker { log: core::EvidenceLog::new(), subject, n: 0, texts: texts.to_string() }
    }

    /// The subject id as it appears in receipts (32 hex digits).
    pub fn subject_id(subject: [u8; 16]) -> String {
        subject.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// The visitor's secret (64 hex digits), as the browser keeps it beside its log.
    pub fn secret(&self) -> &str {
        self.log.secret()
    }

    /// Later receipts say they showed the texts whose SHA-256 is `texts`.
    pub fn set_texts(&mut self, texts: &str) {
        self.texts = texts.to_string();
    }

    /// The next receipt of the chain (an accept or a withdrawal, in turn).
    pub fn next_receipt(&mut self) -> Receipt {
        self.n += 1;
        let mut id = [0u8; 16];
        id[..8].copy_from_slice(&self.n.to_be_bytes());
        id[8..].copy_from_slice(&self.subject[..8]);
        let accept = self.n % 2 == 1;
        let draft = core::ReceiptDraft {
            time: consentry::core::time::format_utc_iso(1_795_000_000_000 + self.n as i64),
            origin: "https://shop.example".into(),
            path: "/".into(),
            policy: "2026-11".into(),
            lang: "en".into(),
            texts: self.texts.clone(),
            choices: vec![("analytics".into(), accept), ("necessary".into(), true)],
            method: if accept { core::Method::AcceptAll } else { core::Method::Withdraw },
            gpc: false,
        };
        // The id, the subject, then a secret derived from the subject (the same for the chain).
        let mut random = [0u8; 64];
        random[..16].copy_from_slice(&id);
        random[16..32].copy_from_slice(&self.subject);
        random[32..48].copy_from_slice(&self.subject);
        self.log.append(draft, &random);
        self.log.mark_all_delivered();
        let last = self.log.last().cloned();
        Receipt(last.expect("append adds a receipt"))
    }

    /// The same receipt with one choice flipped but the old hash kept: a forgery.
    pub fn forged(r: &Receipt) -> Receipt {
        let mut f = r.0.clone();
        if let Some(c) = f.choices.first_mut() {
            c.1 = !c.1;
        }
        Receipt(f)
    }

    /// The same receipt under another id, hash recomputed: a well-formed fork.
    pub fn reissued(r: &Receipt, id: &str) -> Receipt {
        let mut f = r.0.clone();
        f.id = id.to_string();
        f.gpc = !f.gpc;
        f.hash = f.compute_hash();
        Receipt(f)
    }

    /// `reissued` under another subject secret's hash: a fork by someone without the secret.
    pub fn stranger(r: &Receipt, id: &str) -> Receipt {
        let mut f = r.0.clone();
        f.id = id.to_string();
        f.key = Some("e".repeat(64));
        f.hash = f.compute_hash();
        Receipt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_checks_and_links() {
        let mut m = ChainMaker::new([7; 16], &"a".repeat(64));
        let (a, b, c) = (m.next_receipt(), m.next_receipt(), m.next_receipt());
        let back = Receipt::parse(&a.to_json()).unwrap();
        assert_eq!(back, a);
        assert_eq!(a.subject(), ChainMaker::subject_id([7; 16]));
        assert_eq!((a.seq(), b.seq()), (1, 2));
        assert_eq!(follows(None, &a), Ok(()));
        assert_eq!(follows(Some(&a), &b), Ok(()));
        assert!(follows(Some(&a), &c).unwrap_err().contains("seq"));
        assert!(follows(None, &b).unwrap_err().contains("seq"));
        let forged = ChainMaker::forged(&b);
        assert!(Receipt::parse(&forged.to_json()).unwrap_err().contains("hash"));
        let fork = ChainMaker::reissued(&a, &"f".repeat(32));
        assert!(follows(Some(&a), &fork).unwrap_err().contains("seq"));
        assert!(Receipt::parse("{").unwrap_err().starts_with("not JSON"));
        assert!(Receipt::parse("[]").is_err());
    }
}
