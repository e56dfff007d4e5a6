#![cfg(not(target_arch = "wasm32"))]
//! Golden vectors for the receipt format (native only).
//!
//! Owns: the proof that the canonical bytes and hashes of receipts never change. The receipts are
//! rebuilt here from plain field values and compared with `tests/vectors/receipts.json`, whose
//! hashes were re-derived outside Rust (see `tests/vectors/README.md`). Must never: regenerate
//! that file from the code under test: a mismatch means the format changed, which breaks every
//! stored chain.
use consentry::core::evidence::{
    parse_export, verify_chain, EvidenceError, EvidenceLog, Method, Receipt, ReceiptDraft, MAX_KEPT, ZERO_HASH,
};
use consentry::core::ids::sha256_hex;
use serde_json::Value;

const SUBJECT: &str = "c0ffee00c0ffee00c0ffee00c0ffee00";
/// sha256("Cookies? We ask first."), from `sha256sum`.
const TEXTS: &str = "3d0d4cb3f0146288497993446d5a26bdd2d2441b73fa1e39620468e14b09de91";
const VECTORS: &str = include_str!("vectors/receipts.json");
const VECTORS_V2: &str = include_str!("vectors/receipts-v2.json");

fn choices(c: &[(&str, bool)]) -> Vec<(String, bool)> {
    c.iter().map(|(k, v)| (k.to_string(), *v)).collect()
}

/// The three receipts of the vectors, from their field values. The third one's time is before
/// the second's: the visitor's clock went back, which the chain allows (seq is the order).
fn golden_chain() -> Vec<Receipt> {
    let base = Receipt {
        v: 1,
        id: "00112233445566778899aabbccddeeff".into(),
        subject: SUBJECT.into(),
        seq: 1,
        time: "2026-11-23T09:15:02.250Z".into(),
        origin: "https://shop.example".into(),
        path: "/de/über-uns".into(),
        policy: "2026-11 \"B\"\\1".into(),
        lang: "de".into(),
        texts: TEXTS.into(),
        // Deliberately not in canonical order.
        choices: choices(&[("necessary", true), ("marketing", true), ("analytics", true)]),
        method: Method::AcceptAll,
        gpc: false,
        prev: ZERO_HASH.into(),
        key: None,
        hash: String::new(),
    };
    let mut r1 = base.clone();
    r1.hash = r1.compute_hash();
    let mut r2 = base.clone();
    r2.id = "10112233445566778899aabbccddeeff".into();
    r2.seq = 2;
    r2.time = "2026-11-23T09:16:40.007Z".into();
    r2.path = "/".into();
    r2.choices = choices(&[("analytics", true), ("marketing", false), ("necessary", true)]);
    r2.method = Method::Custom;
    r2.prev = r1.hash.clone();
    r2.hash = r2.compute_hash();
    let mut r3 = base;
    r3.id = "20112233445566778899aabbccddeeff".into();
    r3.seq = 3;
    r3.time = "2026-11-20T08:00:00.000Z".into();
    r3.path = "/checkout".into();
    r3.lang = "en".into();
    r3.choices = choices(&[("marketing", false), ("necessary", true), ("analytics", false)]);
    r3.method = Method::Withdraw;
    r3.gpc = true;
    r3.prev = r2.hash.clone();
    r3.hash = r3.compute_hash();
    vec![r1, r2, r3]
}

fn vectors(text: &str) -> Vec<Value> {
    let doc: Value = serde_json::from_str(text).expect("the vectors are JSON");
    doc.get("vectors").and_then(Value::as_array).expect("a vectors array").to_vec()
}

fn text<'a>(v: &'a Value, k: &str) -> &'a str {
    v.get(k).and_then(Value::as_str).expect(k)
}

/// The version-2 chain of the vectors: the same decisions as `golden_chain`, written as the
/// browser writes them now (JCS canonical bytes, a subject key).
fn golden_chain_v2() -> Vec<Receipt> {
    let mut out: Vec<Receipt> = Vec::new();
    for mut r in golden_chain() {
        r.v = 2;
        r.key = Some(sha256_hex(b"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"));
        r.texts = WORDING_HASH.into();
        r.prev = out.last().map_or(ZERO_HASH.into(), |p| p.hash.clone());
        r.hash = r.compute_hash();
        out.push(r);
    }
    out
}

/// sha256 of the wording document in `tests/vectors/wording-v2.json` (`sha256sum`).
const WORDING_HASH: &str = "f3c6da8c4668d705b173ebfcedc98ab84aa2b1cbb9324f25550c99b0a391f4c7";

#[test]
fn canonical_bytes_and_hashes_match_the_vectors() {
    assert_eq!(sha256_hex(b"Cookies? We ask first."), TEXTS);
    for (chain, file) in [(golden_chain(), VECTORS), (golden_chain_v2(), VECTORS_V2)] {
        let vecs = vectors(file);
        assert_eq!(vecs.len(), chain.len());
        for (r, v) in chain.iter().zip(&vecs) {
            assert_eq!(r.canonical(), text(v, "canonical"));
            assert_eq!(r.hash, text(v, "hash"));
            // The hash in the file is the digest of the canonical text in the file.
            assert_eq!(sha256_hex(text(v, "canonical").as_bytes()), text(v, "hash"));
            let stored = v.get("receipt").expect("receipt");
            let read = Receipt::from_doc(&stored).expect("the stored receipt reads");
            assert_eq!(read.canonical(), r.canonical());
            assert_eq!(read.to_json(), r.to_json());
            assert!(read.choices.windows(2).all(|w| w[0].0 < w[1].0), "choices come back sorted");
        }
        assert_eq!(verify_chain(&chain, true).ok(), Some(3));
    }
}

/// Version 2's canonical bytes are RFC 8785: an independent JCS implementation (serde_jcs)
/// writes the same bytes from the stored receipt without its hash.
#[test]
fn version_2_canonical_bytes_are_what_a_jcs_library_writes() {
    for r in golden_chain_v2() {
        let mut v: Value = serde_json::from_str(&r.to_json()).unwrap();
        v.as_object_mut().unwrap().remove("hash");
        assert_eq!(serde_jcs::to_string(&v).unwrap(), r.canonical());
    }
    // Version 1 was not (fixed key order), which is why version 2 exists.
    let r1 = &golden_chain()[0];
    let mut v: Value = serde_json::from_str(&r1.to_json()).unwrap();
    v.as_object_mut().unwrap().remove("hash");
    assert_ne!(serde_jcs::to_string(&v).unwrap(), r1.canonical());
}

/// A chain that starts in version 1 (an old visitor) and goes on in version 2 verifies; the
/// wording document's hash in the vectors is the hash of the file next to them.
#[test]
fn a_chain_may_move_from_version_1_to_2() {
    let wording = include_str!("vectors/wording-v2.json").trim_end_matches('\n');
    assert_eq!(sha256_hex(wording.as_bytes()), WORDING_HASH);
    let mut chain = golden_chain();
    let mut next = golden_chain_v2().remove(2);
    next.prev = chain[1].hash.clone();
    next.hash = next.compute_hash();
    chain[2] = next;
    assert_eq!(verify_chain(&chain, true).ok(), Some(3));
    chain.swap(1, 2);
    assert!(verify_chain(&chain, true).is_err());
}

fn receipts_array(chain: &[Receipt]) -> String {
    consentry::core::evidence::receipts_json(chain)
}

/// Every one-character edit of a letter or digit inside receipt i, that still reads as a
/// receipt, breaks verification exactly at index i.
#[test]
fn any_one_character_edit_breaks_the_chain_at_its_receipt() {
    let chain = golden_chain();
    let mut checked = 0;
    for i in 0..chain.len() {
        let before: usize = chain[..i].iter().map(|r| r.to_json().len() + 1).sum::<usize>() + 1;
        let own = chain[i].to_json();
        let doc = receipts_array(&chain);
        for (at, c) in own.char_indices() {
            if !c.is_ascii_alphanumeric() {
                continue;
            }
            let to = match c {
                '0' => '1',
                '0'..='9' => '0',
                'a' => 'b',
                _ => 'a',
            };
            let mut edited = doc.clone();
            edited.replace_range(before + at..before + at + 1, to.encode_utf8(&mut [0; 4]));
            let Ok(rs) = parse_export(&edited) else {
                continue;
            };
            match verify_chain(&rs, true) {
                Ok(_) => panic!("edit at receipt {i} byte {at} ({c} -> {to}) went unnoticed"),
                Err(b) => assert_eq!(b.index, i, "edit at receipt {i} byte {at} ({c} -> {to}): {}", b.reason.as_str()),
            }
            checked += 1;
        }
    }
    assert!(checked > 600, "only {checked} edits were checked");
}

#[test]
fn a_changed_choice_is_a_hash_mismatch_at_its_index() {
    let doc = receipts_array(&golden_chain());
    // In receipt 2 (index 1) marketing was refused; claim it was granted.
    let edited = doc.replacen("\"marketing\":false", "\"marketing\":true", 1);
    assert_ne!(edited, doc);
    let b = verify_chain(&parse_export(&edited).unwrap(), true).unwrap_err();
    assert_eq!((b.index, b.reason), (1, EvidenceError::HashMismatch));
}

#[test]
fn tampered_hash_broken_link_wrong_seq_and_mixed_subjects() {
    let chain = golden_chain();
    let fails = |rs: &[Receipt]| {
        let b = verify_chain(rs, true).unwrap_err();
        (b.index, b.reason.as_str())
    };

    let mut rs = chain.clone();
    rs[2].hash = "f".repeat(64);
    assert_eq!(fails(&rs), (2, "hash mismatch: the receipt was changed"));

    let mut rs = chain.clone();
    rs[1].prev = "e".repeat(64);
    rs[1].hash = rs[1].compute_hash();
    assert_eq!(fails(&rs), (1, "prev: does not match the previous receipt's hash"));

    let mut rs = chain.clone();
    rs[2].seq = 4;
    rs[2].hash = rs[2].compute_hash();
    assert_eq!(fails(&rs), (2, "seq: not one more than the previous receipt's"));

    let mut rs = chain.clone();
    rs[1].subject = "d".repeat(32);
    rs[1].hash = rs[1].compute_hash();
    assert_eq!(fails(&rs), (1, "subject: differs from the previous receipt's"));

    assert_eq!(fails(&chain[1..]), (0, "seq: the chain must start at 1"));
    assert_eq!(verify_chain(&chain[1..], false).ok(), Some(2));
}

fn draft(i: i64) -> ReceiptDraft {
    ReceiptDraft {
        time: consentry::core::time::format_utc_iso(1_795_000_000_000 + i * 1000),
        origin: "https://shop.example".into(),
        path: "/a?b=c".into(),
        policy: "2026-11".into(),
        lang: "en".into(),
        texts: TEXTS.into(),
        choices: choices(&[("necessary", true), ("analytics", i % 2 == 0)]),
        method: if i % 2 == 0 { Method::AcceptAll } else { Method::Withdraw },
        gpc: false,
    }
}

fn random(i: usize) -> [u8; 64] {
    let mut b = [7u8; 64];
    b[..8].copy_from_slice(&(i as u64).to_be_bytes());
    b
}

fn read(text: &str) -> Result<EvidenceLog, EvidenceError> {
    match serde_json::from_str::<Value>(text) {
        Ok(v) => EvidenceLog::from_doc(&&v).map_err(|b| b.reason),
        Err(_) => Err(EvidenceError::NotJson),
    }
}

#[test]
fn stored_log_round_trips_and_refuses_corruption() {
    let mut log = EvidenceLog::new();
    for i in 0..5 {
        log.append(draft(i), &random(i as usize));
    }
    log.acknowledge(3);
    let text = log.to_json();
    let back = read(&text).unwrap();
    assert!(back.receipts() == log.receipts() && back.subject() == log.subject());
    assert_eq!(back.outbox().len(), 2);

    for (corrupt, why) in [
        (text[..text.len() / 2].to_string(), EvidenceError::NotJson),
        (text.replace("\"receipts\":[", "\"receipts\":[[],"), EvidenceError::NotObject),
        (text.replacen("\"analytics\":false", "\"analytics\":true", 1), EvidenceError::HashMismatch),
        (text.replace("\"seq\":4", "\"seq\":40"), EvidenceError::HashMismatch),
        (String::from("null"), EvidenceError::LogNotObject),
        (text.replace("}]}", "}],\"x\":1}"), EvidenceError::LogUnknownField),
    ] {
        assert_ne!(corrupt, text);
        assert_eq!(read(&corrupt).err(), Some(why));
    }
}

#[test]
fn bounded_log_keeps_every_undelivered_receipt() {
    let mut log = EvidenceLog::new();
    let n = MAX_KEPT + 30;
    for i in 0..n {
        log.append(draft(i as i64), &random(i));
    }
    assert_eq!(log.receipts().len(), n, "nothing is delivered, so nothing may be dropped");
    log.acknowledge(5);
    assert_eq!(log.receipts().len(), n - 5);
    assert_eq!(log.outbox().first().map(|r| r.seq), Some(6));
    log.acknowledge(n as u64 - 1);
    assert_eq!(log.receipts().len(), MAX_KEPT);
    assert_eq!(log.outbox().len(), 1, "the newest is still undelivered and kept");
    log.append(draft(999), &random(999));
    assert_eq!(log.receipts().len(), MAX_KEPT, "the oldest delivered one made room");
    assert_eq!(log.outbox().len(), 2);
    log.mark_all_delivered();
    assert_eq!(log.receipts().len(), MAX_KEPT);
    assert!(log.outbox().is_empty());
    let back = read(&log.to_json()).unwrap();
    assert_eq!(back.verify().ok(), Some(MAX_KEPT));
    assert_eq!(back.receipts().first().map(|r| r.seq), Some(n as u64 + 1 - MAX_KEPT as u64 + 1));
    assert_eq!(parse_export(&back.export_json()).unwrap().len(), MAX_KEPT);
}

/// The wording document the module writes for the demo's config in English is the vector file,
/// which was written by an independent script from `src/core/lang/en.json` and
/// `www/consent.json` following the layout documented in `Texts::document` (see the README).
#[test]
fn the_wording_document_matches_the_independent_vector() {
    let config: Value = serde_json::from_str(include_str!("../www/consent.json")).unwrap();
    let (engine, _) = consentry::core::engine::Engine::new(&config, None, &[String::from("en")]).ok().unwrap();
    let (doc, hash) = engine.wording();
    assert_eq!(doc, include_str!("vectors/wording-v2.json").trim_end_matches('\n'));
    assert_eq!(hash, WORDING_HASH);
}
