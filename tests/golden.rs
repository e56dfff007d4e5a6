#![cfg(not(target_arch = "wasm32"))]
//! Golden vectors for the receipt format (native only).
//!
//! Owns: the proof that the canonical bytes and hashes of receipts never change. The receipts are
//! rebuilt here from plain field values and compared with `tests/vectors/receipts.json`, whose
//! hashes were re-derived outside Rust (see `tests/vectors/README.md`). Must never: regenerate
//! that file from the code under test: a mismatch means the format changed, which breaks every
//! stored chain.
use consentry::core::evidence::{
    parse_export, verify_chain, EvidenceLog, Method, Receipt, ReceiptDraft, MAX_KEPT, ZERO_HASH,
};
use consentry::core::json::{self, Value};
use consentry::core::sha256;

const SUBJECT: &str = "c0ffee00c0ffee00c0ffee00c0ffee00";
/// sha256("Cookies? We ask first."), from `sha256sum`.
const TEXTS: &str = "3d0d4cb3f0146288497993446d5a26bdd2d2441b73fa1e39620468e14b09de91";
const VECTORS: &str = include_str!("vectors/receipts.json");

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
        choices: choices(&[
            ("necessary", true),
            ("marketing", true),
            ("analytics", true),
        ]),
        method: Method::AcceptAll,
        gpc: false,
        prev: ZERO_HASH.into(),
        hash: String::new(),
    };
    let mut r1 = base.clone();
    r1.hash = r1.compute_hash();
    let mut r2 = base.clone();
    r2.id = "10112233445566778899aabbccddeeff".into();
    r2.seq = 2;
    r2.time = "2026-11-23T09:16:40.007Z".into();
    r2.path = "/".into();
    r2.choices = choices(&[
        ("analytics", true),
        ("marketing", false),
        ("necessary", true),
    ]);
    r2.method = Method::Custom;
    r2.prev = r1.hash.clone();
    r2.hash = r2.compute_hash();
    let mut r3 = base;
    r3.id = "20112233445566778899aabbccddeeff".into();
    r3.seq = 3;
    r3.time = "2026-11-20T08:00:00.000Z".into();
    r3.path = "/checkout".into();
    r3.lang = "en".into();
    r3.choices = choices(&[
        ("marketing", false),
        ("necessary", true),
        ("analytics", false),
    ]);
    r3.method = Method::Withdraw;
    r3.gpc = true;
    r3.prev = r2.hash.clone();
    r3.hash = r3.compute_hash();
    vec![r1, r2, r3]
}

fn vectors() -> Vec<Value> {
    let doc = json::parse(VECTORS).ok().expect("receipts.json is JSON");
    doc.get("vectors")
        .and_then(Value::as_array)
        .expect("a vectors array")
        .to_vec()
}

fn text<'a>(v: &'a Value, k: &str) -> &'a str {
    v.get(k).and_then(Value::as_str).expect(k)
}

#[test]
fn canonical_bytes_and_hashes_match_the_vectors() {
    let chain = golden_chain();
    let vecs = vectors();
    assert_eq!(vecs.len(), chain.len());
    assert_eq!(
        sha256::hex(&sha256::sha256(b"Cookies? We ask first.")),
        TEXTS
    );
    for (r, v) in chain.iter().zip(&vecs) {
        assert_eq!(r.canonical(), text(v, "canonical"));
        assert_eq!(r.hash, text(v, "hash"));
        // The hash in the file is the digest of the canonical text in the file.
        assert_eq!(
            sha256::hex(&sha256::sha256(text(v, "canonical").as_bytes())),
            text(v, "hash")
        );
        let stored = v.get("receipt").expect("receipt");
        assert_eq!(r.to_json(), stored.to_json());
        let read = Receipt::from_value(stored).expect("the stored receipt reads");
        assert_eq!(read.canonical(), r.canonical());
        assert!(
            read.choices.windows(2).all(|w| w[0].0 < w[1].0),
            "choices come back sorted"
        );
    }
    assert_eq!(verify_chain(&chain, true).ok(), Some(3));
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
        let before: usize = chain[..i]
            .iter()
            .map(|r| r.to_json().len() + 1)
            .sum::<usize>()
            + 1;
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
                Err(b) => assert_eq!(
                    b.index, i,
                    "edit at receipt {i} byte {at} ({c} -> {to}): {}",
                    b.reason
                ),
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
    assert_eq!(
        (b.index, b.reason),
        (1, "hash mismatch: the receipt was changed")
    );
}

#[test]
fn tampered_hash_broken_link_wrong_seq_and_mixed_subjects() {
    let chain = golden_chain();
    let fails = |rs: &[Receipt]| {
        let b = verify_chain(rs, true).unwrap_err();
        (b.index, b.reason)
    };

    let mut rs = chain.clone();
    rs[2].hash = "f".repeat(64);
    assert_eq!(fails(&rs), (2, "hash mismatch: the receipt was changed"));

    let mut rs = chain.clone();
    rs[1].prev = "e".repeat(64);
    rs[1].hash = rs[1].compute_hash();
    assert_eq!(
        fails(&rs),
        (1, "prev: does not match the previous receipt's hash")
    );

    let mut rs = chain.clone();
    rs[2].seq = 4;
    rs[2].hash = rs[2].compute_hash();
    assert_eq!(
        fails(&rs),
        (2, "seq: not one more than the previous receipt's")
    );

    let mut rs = chain.clone();
    rs[1].subject = "d".repeat(32);
    rs[1].hash = rs[1].compute_hash();
    assert_eq!(
        fails(&rs),
        (1, "subject: differs from the previous receipt's")
    );

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
        method: if i % 2 == 0 {
            Method::AcceptAll
        } else {
            Method::Withdraw
        },
        gpc: false,
    }
}

fn id(i: usize) -> [u8; 16] {
    let mut b = [0u8; 16];
    b[..8].copy_from_slice(&(i as u64).to_be_bytes());
    b
}

#[test]
fn stored_log_round_trips_and_refuses_corruption() {
    let mut log = EvidenceLog::new();
    for i in 0..5 {
        log.append(draft(i), id(i as usize), [7; 16]);
    }
    log.acknowledge(3);
    let text = log.to_json();
    let back = EvidenceLog::from_json(&text).unwrap();
    assert!(back.receipts == log.receipts && back.subject == log.subject && back.delivered == 3);
    assert_eq!(back.outbox().len(), 2);

    for (corrupt, why) in [
        (text[..text.len() / 2].to_string(), "log: not valid JSON"),
        (
            text.replace("\"receipts\":[", "\"receipts\":[[],"),
            "receipt: expected an object",
        ),
        (
            text.replacen("\"analytics\":false", "\"analytics\":true", 1),
            "hash mismatch: the receipt was changed",
        ),
        (
            text.replace("\"seq\":4", "\"seq\":40"),
            "hash mismatch: the receipt was changed",
        ),
        (String::from("null"), "log: expected an object"),
        (text.replace("}]}", "}],\"x\":1}"), "log: unknown field"),
    ] {
        assert_ne!(corrupt, text);
        assert_eq!(EvidenceLog::from_json(&corrupt).err(), Some(why));
    }
}

#[test]
fn bounded_log_keeps_every_undelivered_receipt() {
    let mut log = EvidenceLog::new();
    let n = MAX_KEPT + 30;
    for i in 0..n {
        log.append(draft(i as i64), id(i), [7; 16]);
    }
    assert_eq!(
        log.receipts.len(),
        n,
        "nothing is delivered, so nothing may be dropped"
    );
    log.acknowledge(5);
    assert_eq!(log.receipts.len(), n - 5);
    assert_eq!(log.outbox().first().map(|r| r.seq), Some(6));
    log.acknowledge(n as i64 - 1);
    assert_eq!(log.receipts.len(), MAX_KEPT);
    assert_eq!(
        log.outbox().len(),
        1,
        "the newest is still undelivered and kept"
    );
    log.append(draft(999), id(999), [7; 16]);
    assert_eq!(
        log.receipts.len(),
        MAX_KEPT,
        "the oldest delivered one made room"
    );
    assert_eq!(log.outbox().len(), 2);
    log.mark_all_delivered();
    assert_eq!(log.receipts.len(), MAX_KEPT);
    assert!(log.outbox().is_empty());
    let back = EvidenceLog::from_json(&log.to_json()).unwrap();
    assert_eq!(back.verify().ok(), Some(MAX_KEPT));
    assert_eq!(
        back.receipts.first().map(|r| r.seq),
        Some(n as i64 + 1 - MAX_KEPT as i64 + 1)
    );
    assert_eq!(parse_export(&back.export_json()).unwrap().len(), MAX_KEPT);
}
