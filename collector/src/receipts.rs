//! `POST /consentry/receipts`: what a body holds, and the decision what to store (sans I/O).
//!
//! A body is an array of receipts (oldest first), one receipt object, or the envelope
//! `{"receipts":[…], "texts":["<shown-texts document>", …]}` that carries the documents of
//! the wording the receipts refer to (each stored under its SHA-256; see `texts.rs`).
//!
//! The decision (`plan`), given what the database holds for the body's subjects and ids:
//! receipts are taken in order; one whose id is stored with the same hash is a duplicate
//! (acknowledged again, stored once); one whose id is stored with another hash is refused; any
//! other must follow its subject's last receipt (stored, or earlier in this body) by the core's
//! chain rules. The first receipt that does not read or does not follow refuses the whole body:
//! nothing of it is stored. Must never: store a receipt that does not verify and link, or
//! treat an edited copy of a stored receipt as a duplicate.
use crate::body::Refusal;
use crate::evidence::Receipt;
use serde_json::value::RawValue;
use std::collections::{BTreeMap, HashMap};

/// The most receipts one body may hold.
pub const MAX_RECEIPTS: usize = 1000;
/// The most shown-texts documents one body may carry.
pub const MAX_TEXTS: usize = 16;

/// One item of a body: a receipt that reads (shape and hash checked), or why it does not.
pub type Item = Result<Receipt, Unreadable>;

/// A receipt that does not read: its `id` when it has one, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Unreadable {
    pub id: String,
    pub reason: String,
}

/// What a body holds.
#[derive(Debug, Default)]
pub struct Body {
    pub items: Vec<Item>,
    /// The shown-texts documents sent along (exact text).
    pub texts: Vec<String>,
    /// The subject's secret, sent again with receipts the collector answered as a fork: it
    /// opens the stored receipts from the fork's seq on (`fork_answer`).
    pub secret: Option<String>,
}

/// Reads a body (already unpacked text). Err (400/413) when it is not one of the three forms.
pub fn parse_body(text: &str) -> Result<Body, Refusal> {
    let bad = |what: String| Refusal::new(400, what);
    let first = text.trim_start().as_bytes().first().copied();
    let mut secret = None;
    let (raw, texts): (Vec<&RawValue>, Vec<String>) = match first {
        Some(b'[') => (serde_json::from_str(text).map_err(|e| bad(format!("malformed JSON: {e}")))?, Vec::new()),
        Some(b'{') => {
            let fields: BTreeMap<String, &RawValue> = serde_json::from_str(text).map_err(|e| bad(format!("malformed JSON: {e}")))?;
            if let Some(list) = fields.get("receipts") {
                if let Some(k) = fields.keys().find(|k| !["receipts", "texts", "secret"].contains(&k.as_str())) {
                    return Err(bad(format!("unknown field {k:?} (the envelope holds receipts, texts and secret)")));
                }
                if let Some(t) = fields.get("secret") {
                    secret = Some(serde_json::from_str::<String>(t.get()).map_err(|e| bad(format!("secret must be a string: {e}")))?);
                }
                let receipts = serde_json::from_str(list.get()).map_err(|e| bad(format!("receipts must be an array of receipts: {e}")))?;
                let texts = match fields.get("texts") {
                    None => Vec::new(),
                    Some(t) => serde_json::from_str(t.get())
                        .map_err(|e| bad(format!("texts must be an array of documents, each a JSON string: {e}")))?,
                };
                (receipts, texts)
            } else {
                let one: &RawValue = serde_json::from_str(text).map_err(|e| bad(format!("malformed JSON: {e}")))?;
                (vec![one], Vec::new())
            }
        }
        _ => {
            // Let the JSON parser say what is wrong, or that it is JSON of the wrong kind.
            return Err(match serde_json::from_str::<&RawValue>(text) {
                Err(e) => bad(format!("malformed JSON: {e}")),
                Ok(_) => bad("expected a receipt, an array of receipts or {\"receipts\":[…]}".into()),
            });
        }
    };
    if raw.len() > MAX_RECEIPTS {
        return Err(Refusal::new(
            413,
            format!("a body may hold at most {MAX_RECEIPTS} receipts (this one holds {}); send them in parts, oldest first", raw.len()),
        ));
    }
    if texts.len() > MAX_TEXTS {
        return Err(Refusal::new(413, format!("a body may carry at most {MAX_TEXTS} texts documents")));
    }
    let items = raw.into_iter().map(|r| Receipt::parse(r.get()).map_err(|reason| Unreadable { id: id_of(r.get()), reason })).collect();
    Ok(Body { items, texts, secret })
}

/// The `id` of a receipt that does not read, when it has a string one.
fn id_of(raw: &str) -> String {
    #[derive(serde::Deserialize)]
    struct Id {
        id: Option<String>,
    }
    serde_json::from_str::<Id>(raw).ok().and_then(|i| i.id).unwrap_or_default()
}

/// What the database holds that a body's decision depends on.
#[derive(Debug, Default)]
pub struct Stored {
    /// The hash stored under each of the body's ids that is stored.
    pub hash_by_id: HashMap<String, String>,
    /// The last stored receipt of each of the body's subjects (absent: none stored).
    pub last: HashMap<String, Receipt>,
}

/// The decision for a body that is taken.
#[derive(Debug, Default, PartialEq)]
pub struct Plan {
    /// To insert, in order.
    pub new: Vec<Receipt>,
    pub accepted: Vec<String>,
    pub duplicates: Vec<String>,
}

/// The first receipt that refuses the body: its id and why, and itself when it takes a place
/// its subject's stored chain already holds (a fork: see `fork_answer`).
#[derive(Debug, Clone, PartialEq)]
pub struct Refused {
    pub id: String,
    pub reason: String,
    pub fork: Option<Box<Receipt>>,
}

/// Most stored receipts one fork answer carries (the browser asks again for the rest).
pub const FORK_ANSWER_MAX: i64 = 50;

/// What a fork's sender is shown: the stored receipts from the fork's seq on, when the fork
/// follows the stored receipt before that seq by every chain rule (so its sender holds the
/// chain up to there and the subject's key): it re-chains its own receipts after them. None
/// otherwise (a 422 as for any other refusal). `stored` is the subject's stored receipts from
/// the seq before the fork's on (from seq 1 for a fork at 1), oldest first.
pub fn fork_answer(fork: &Receipt, stored: &[Receipt]) -> Option<Vec<Receipt>> {
    let at = |seq: i64| stored.iter().find(|r| r.seq() == seq);
    let follows = match fork.seq() {
        1 => crate::evidence::follows(None, fork).is_ok() && at(1)?.secret_hash() == fork.secret_hash(),
        k => crate::evidence::follows(Some(at(k - 1)?), fork).is_ok(),
    };
    let theirs: Vec<Receipt> = stored.iter().filter(|r| r.seq() >= fork.seq()).cloned().collect();
    (follows && fork.secret_hash().is_some() && !theirs.is_empty()).then_some(theirs)
}

/// The ids and subjects a body's decision needs looked up.
pub fn lookups(items: &[Item]) -> (Vec<String>, Vec<String>) {
    let mut ids = Vec::new();
    let mut subjects: Vec<String> = Vec::new();
    for r in items.iter().flatten() {
        ids.push(r.id().to_string());
        if !subjects.iter().any(|s| s == r.subject()) {
            subjects.push(r.subject().to_string());
        }
    }
    subjects.sort();
    (ids, subjects)
}

/// Decides what to store (see the module documentation).
pub fn plan(items: Vec<Item>, mut stored: Stored) -> Result<Plan, Refused> {
    let mut p = Plan::default();
    for item in items {
        let r = item.map_err(|u| Refused { id: u.id, reason: u.reason, fork: None })?;
        let last = stored.last.get(r.subject());
        let fork = last.is_some_and(|l| r.seq() <= l.seq()).then(|| Box::new(r.clone()));
        let refuse = |reason: String| Refused { id: r.id().to_string(), reason, fork: fork.clone() };
        match stored.hash_by_id.get(r.id()) {
            Some(h) if h == r.hash() => {
                p.duplicates.push(r.id().to_string());
                continue;
            }
            Some(_) => {
                let reason = "id: another receipt with this id is already stored".into();
                return Err(Refused { id: r.id().to_string(), reason, fork: None });
            }
            None => {}
        }
        crate::evidence::follows(last, &r).map_err(refuse)?;
        stored.hash_by_id.insert(r.id().to_string(), r.hash().to_string());
        stored.last.insert(r.subject().to_string(), r.clone());
        p.accepted.push(r.id().to_string());
        p.new.push(r);
    }
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::ChainMaker;
    use proptest::prelude::*;

    fn chain(s: u8, n: usize) -> Vec<Receipt> {
        let mut m = ChainMaker::new([s; 16], &"b".repeat(64));
        (0..n).map(|_| m.next_receipt()).collect()
    }

    fn items(rs: &[Receipt]) -> Vec<Item> {
        rs.iter().cloned().map(Ok).collect()
    }

    fn array(rs: &[Receipt]) -> String {
        let parts: Vec<String> = rs.iter().map(Receipt::to_json).collect();
        format!("[{}]", parts.join(","))
    }

    #[test]
    fn the_three_forms_read() {
        let c = chain(1, 2);
        let b = parse_body(&array(&c)).unwrap();
        assert_eq!(b.items, items(&c));
        let b = parse_body(&c[0].to_json()).unwrap();
        assert_eq!(b.items, items(&c[..1]));
        let env = format!("{{\"receipts\":{},\"texts\":[\"{{\\\"a\\\":1}}\"]}}", array(&c));
        let b = parse_body(&env).unwrap();
        assert_eq!((b.items.len(), b.texts), (2, vec!["{\"a\":1}".to_string()]));
        for (text, has) in [
            ("", "malformed JSON"),
            ("\"x\"", "expected a receipt"),
            ("{\"receipts\":[],\"extra\":1}", "unknown field \"extra\""),
            ("{\"receipts\":{}}", "receipts must be an array"),
            ("{\"receipts\":[],\"texts\":[1]}", "texts must be an array of documents"),
        ] {
            let r = parse_body(text).unwrap_err();
            assert_eq!(r.status, 400, "{text}");
            assert!(r.error.contains(has), "{text}: {r:?}");
        }
        // A lone surrogate inside a receipt: that receipt does not read, and says why.
        let b = parse_body("[\"\\udc00\"]").unwrap();
        assert!(b.items[0].as_ref().unwrap_err().reason.contains("surrogate"));
        // A receipt that does not read is an item that says why, with its id.
        let b = parse_body("[{\"id\":\"x\"},5]").unwrap();
        assert_eq!(b.items[0].as_ref().unwrap_err().id, "x");
        assert_eq!(b.items[1].as_ref().unwrap_err().id, "");
    }

    #[test]
    fn too_many_receipts_is_a_413() {
        let many = format!("[{}]", vec!["{}"; MAX_RECEIPTS + 1].join(","));
        assert_eq!(parse_body(&many).unwrap_err().status, 413);
        let texts = format!("{{\"receipts\":[],\"texts\":[{}]}}", vec!["\"t\""; MAX_TEXTS + 1].join(","));
        assert_eq!(parse_body(&texts).unwrap_err().status, 413);
    }

    #[test]
    fn plans_new_duplicate_and_refused() {
        let c = chain(1, 3);
        let p = plan(items(&c), Stored::default()).unwrap();
        assert_eq!(p.new, c);
        // The first two stored: they are duplicates, the third follows the second.
        let mut s = Stored::default();
        for r in &c[..2] {
            s.hash_by_id.insert(r.id().into(), r.hash().into());
        }
        s.last.insert(c[0].subject().into(), c[1].clone());
        let p = plan(items(&c), s).unwrap();
        assert_eq!(p.duplicates, vec![c[0].id(), c[1].id()]);
        assert_eq!(p.accepted, vec![c[2].id()]);
        // The same receipt twice in one body is stored once.
        let twice = vec![Ok(c[0].clone()), Ok(c[0].clone())];
        let p = plan(twice, Stored::default()).unwrap();
        assert_eq!((p.new.len(), p.duplicates.len()), (1, 1));
        // A gap, a fork and an id stored with another hash.
        let gap = plan(items(&[c[0].clone(), c[2].clone()]), Stored::default()).unwrap_err();
        assert_eq!(gap.id, c[2].id());
        assert!(gap.reason.contains("seq"), "{gap:?}");
        let mut s = Stored::default();
        s.last.insert(c[0].subject().into(), c[0].clone());
        let fork = ChainMaker::reissued(&c[0], &"e".repeat(32));
        assert!(plan(items(&[fork]), s).unwrap_err().reason.contains("seq"));
        let mut s = Stored::default();
        s.hash_by_id.insert(c[0].id().into(), "0".repeat(64));
        assert!(plan(items(&c[..1]), s).unwrap_err().reason.contains("id:"));
        // Two subjects interleaved.
        let d = chain(2, 2);
        let mixed = vec![c[0].clone(), d[0].clone(), c[1].clone(), d[1].clone()];
        assert_eq!(plan(items(&mixed), Stored::default()).unwrap().new.len(), 4);
    }

    #[test]
    fn an_unreadable_item_refuses_where_it_is() {
        let c = chain(1, 2);
        let mut it = items(&c);
        it.insert(1, Err(Unreadable { id: "x".into(), reason: "seq: bad".into() }));
        assert_eq!(plan(it, Stored::default()).unwrap_err().id, "x");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        /// Any order, any duplication and any dropping of a chain's receipts: what the plan
        /// stores is always a prefix-extending, gap-free chain, never a fork.
        #[test]
        fn a_plan_never_forks(picks in proptest::collection::vec(0usize..6, 0..12)) {
            let c = chain(3, 6);
            let body: Vec<Receipt> = picks.iter().map(|&i| c[i].clone()).collect();
            match plan(items(&body), Stored::default()) {
                Ok(p) => {
                    for (k, r) in p.new.iter().enumerate() {
                        prop_assert_eq!(r, &c[k]);
                    }
                    prop_assert_eq!(p.new.len() + p.duplicates.len(), body.len());
                }
                Err(r) => prop_assert!(!r.reason.is_empty()),
            }
        }

        #[test]
        fn any_text_reads_or_is_a_4xx(text in "\\PC{0,400}") {
            if let Err(r) = parse_body(&text) {
                prop_assert!(r.status == 400 || r.status == 413);
            }
        }
    }
}
