//! Consent receipts, their canonical bytes, the per-subject hash chain, and the visitor's log.
//!
//! Owns: the one definition of a receipt, used by the browser (to record and to check its own
//! log) and natively by the collector and the verifier. Must never: trust a receipt it has not
//! verified, drop a receipt that has not been delivered, or read clocks, storage or randomness
//! (the shell passes time, ids and bytes in).
//!
//! # A receipt
//!
//! | field     | JSON type | shape                                                                 |
//! |-----------|-----------|-----------------------------------------------------------------------|
//! | `v`       | number    | `1`                                                                   |
//! | `id`      | string    | 32 lower-case hex digits (16 random bytes)                            |
//! | `subject` | string    | 32 lower-case hex digits: the pseudonymous visitor (16 random bytes)  |
//! | `seq`     | number    | 1, 2, 3 … per subject, whole, at most 2^53 - 1 (`MAX_SEQ`)            |
//! | `time`    | string    | `YYYY-MM-DDTHH:MM:SS.mmmZ` (UTC, see `core::time`)                    |
//! | `origin`  | string    | the page origin, e.g. `https://shop.example`                          |
//! | `path`    | string    | the page path, without `?query` or `#fragment`                        |
//! | `policy`  | string    | the site's policy version                                             |
//! | `lang`    | string    | the language of the texts shown                                       |
//! | `texts`   | string    | 64 lower-case hex digits: SHA-256 of the exact texts shown            |
//! | `choices` | object    | purpose id → true/false; ids are 1–64 of `a-z 0-9 _ -`, no repeats    |
//! | `method`  | string    | accept_all reject_all custom withdraw gpc api expired policy_changed reset |
//! | `gpc`     | boolean   | whether the browser sent Global Privacy Control                       |
//! | `prev`    | string    | 64 hex digits: `hash` of this subject's previous receipt; 64 `0` at seq 1 |
//! | `hash`    | string    | 64 hex digits: SHA-256 of the canonical bytes below                   |
//!
//! # Canonical bytes (stable, byte-exact; changing them breaks every stored chain)
//!
//! The canonical form is the UTF-8 text of one compact JSON object:
//!
//! ```text
//! {"v":1,"id":"…","subject":"…","seq":N,"time":"…","origin":"…","path":"…","policy":"…",
//!  "lang":"…","texts":"…","choices":{"a":true,"b":false},"method":"…","gpc":false,"prev":"…"}
//! ```
//!
//! (shown wrapped; the real text has no line break.) Exactly:
//! - the fourteen keys above in exactly that order, `hash` left out; no white space anywhere;
//! - numbers (`v`, `seq`) in plain decimal: no sign, no leading zero, no fraction, no exponent;
//! - booleans as `true` / `false`;
//! - `choices` as an object whose keys are sorted by their bytes (the order a receipt lists them
//!   in does not matter), an empty object as `{}`;
//! - every string (keys and values) in double quotes with only these escapes: `"` → `\"`,
//!   `\` → `\\`, U+000A → `\n`, U+000D → `\r`, U+0009 → `\t`, U+0008 → `\b`, U+000C → `\f`,
//!   any other U+0000–U+001F → `\u00` + two lower-case hex digits. Everything else, `/` and all
//!   non-ASCII included, is written as itself in UTF-8 (the choices RFC 8785 makes as well).
//!
//! `hash` is the lower-case hex SHA-256 of those bytes. The stored and sent JSON of a receipt is
//! the canonical text with `,"hash":"<hash>"` added before the closing `}`.
//!
//! # The chain
//!
//! A subject's receipts form a hash chain: receipt n+1 has `seq` one more than receipt n and
//! `prev` equal to receipt n's `hash`; receipt 1 has `prev` of 64 zeros. `seq` is the order, not
//! `time`: a visitor's clock can go backwards, so times are recorded as read and never checked
//! against each other.
//!
//! The visitor's log keeps at most `MAX_KEPT` receipts but never drops one that the collector
//! has not acknowledged, so a stored log may start after seq 1 (it is verified unanchored) while
//! the collector, which keeps everything, verifies anchored chains.
#[allow(unused_imports)]
use crate::prelude::*;
use crate::core::json::{self, Value};
use crate::core::{sha256, time};

/// `prev` of a subject's first receipt.
pub const ZERO_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";
/// The most receipts the visitor's log keeps once they are delivered.
pub const MAX_KEPT: usize = 50;
/// The largest `seq`: JavaScript reads JSON numbers as doubles, exact only up to 2^53 - 1.
pub const MAX_SEQ: i64 = (1 << 53) - 1;
/// The `format` of an exported evidence document.
pub const EXPORT_FORMAT: &str = "consentry-evidence";

/// How a decision was made.
#[derive(Clone, Copy, PartialEq)]
#[cfg_attr(test, derive(Debug))]
pub enum Method {
    AcceptAll,
    RejectAll,
    Custom,
    Withdraw,
    Gpc,
    Api,
    Expired,
    PolicyChanged,
    Reset,
}

const ALL_METHODS: [Method; 9] = [
    Method::AcceptAll,
    Method::RejectAll,
    Method::Custom,
    Method::Withdraw,
    Method::Gpc,
    Method::Api,
    Method::Expired,
    Method::PolicyChanged,
    Method::Reset,
];

impl Method {
    /// The name written in receipts and told to listeners.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::AcceptAll => "accept_all",
            Method::RejectAll => "reject_all",
            Method::Custom => "custom",
            Method::Withdraw => "withdraw",
            Method::Gpc => "gpc",
            Method::Api => "api",
            Method::Expired => "expired",
            Method::PolicyChanged => "policy_changed",
            Method::Reset => "reset",
        }
    }
    pub fn parse(s: &str) -> Option<Method> {
        ALL_METHODS.into_iter().find(|m| m.as_str() == s)
    }
}

/// What the shell knows when a decision is made; `EvidenceLog::append` turns it into a receipt.
#[derive(Clone)]
pub struct ReceiptDraft {
    /// UTC time as `time::format_utc_iso` writes it (in the browser: `Date.prototype.toISOString`).
    pub time: String,
    pub origin: String,
    pub path: String,
    pub policy: String,
    pub lang: String,
    pub texts: String,
    pub choices: Vec<(String, bool)>,
    pub method: Method,
    pub gpc: bool,
}

/// One recorded decision. See the module documentation for every field's shape.
#[derive(Clone, PartialEq)]
#[cfg_attr(test, derive(Debug))]
pub struct Receipt {
    pub v: i64,
    pub id: String,
    pub subject: String,
    pub seq: i64,
    pub time: String,
    pub origin: String,
    pub path: String,
    pub policy: String,
    pub lang: String,
    pub texts: String,
    pub choices: Vec<(String, bool)>,
    pub method: Method,
    pub gpc: bool,
    pub prev: String,
    pub hash: String,
}

/// Where a chain breaks: the index into the slice given, and why.
#[derive(Clone, Copy, PartialEq)]
#[cfg_attr(test, derive(Debug))]
pub struct Broken {
    pub index: usize,
    pub reason: &'static str,
}

/// The keys of a stored receipt: the canonical fields in order, then `hash`.
const FIELDS: [&str; 15] = [
    "v", "id", "subject", "seq", "time", "origin", "path", "policy", "lang", "texts", "choices",
    "method", "gpc", "prev", "hash",
];

fn is_purpose_id(s: &str) -> bool {
    crate::core::is_id(s, 64)
}

/// Where a path's `?query` or `#fragment` starts (byte-wise: no `core::str` pattern code).
fn query_at(path: &str) -> Option<usize> {
    let mut i = 0;
    loop {
        match path.as_bytes().get(i)? {
            b'?' | b'#' => return Some(i),
            _ => i += 1,
        }
    }
}

/// The index of the choice that follows choice `after` in canonical order (the first when
/// `after` is None): the smallest (id bytes, index) pair beyond `after`'s, so equal ids keep their
/// order, as a stable sort would. No sorted copy, no sort code: there are a handful of choices.
fn next_in_order(c: &[(String, bool)], after: Option<usize>) -> Option<usize> {
    let prev = after.and_then(|a| Some((a, &c.get(a)?.0)));
    let mut best: Option<(usize, &String)> = None;
    for (i, (k, _)) in c.iter().enumerate() {
        let later = match prev {
            None => true,
            Some((a, p)) => k > p || (k == p && i > a),
        };
        if later && best.map_or(true, |(_, b)| k < b) {
            best = Some((i, k));
        }
    }
    best.map(|(i, _)| i)
}

/// The choices in canonical order (by the bytes of their ids).
fn sorted_owned(c: &[(String, bool)]) -> Vec<(String, bool)> {
    let mut out = Vec::with_capacity(c.len());
    let mut at = next_in_order(c, None);
    while let Some(i) = at {
        if let Some(choice) = c.get(i) {
            out.push(choice.clone());
        }
        at = next_in_order(c, Some(i));
    }
    out
}

/// Appends `,"k":` (receipt keys are plain ASCII and need no escaping).
fn key(out: &mut String, k: &str) {
    out.push_str(",\"");
    out.push_str(k);
    out.push_str("\":");
}

impl Receipt {
    /// Writes the canonical text (see the module documentation), or with `with_hash` the stored
    /// form: the same with `hash` last. The one serialiser of receipts.
    fn write(&self, out: &mut String, with_hash: bool) {
        out.push_str("{\"v\":");
        json::push_int(out, self.v);
        for (k, v) in [("id", &self.id), ("subject", &self.subject)] {
            key(out, k);
            json::push_str(out, v);
        }
        key(out, "seq");
        json::push_int(out, self.seq);
        for (k, v) in [
            ("time", &self.time),
            ("origin", &self.origin),
            ("path", &self.path),
            ("policy", &self.policy),
            ("lang", &self.lang),
            ("texts", &self.texts),
        ] {
            key(out, k);
            json::push_str(out, v);
        }
        key(out, "choices");
        out.push('{');
        // In canonical order, as `sorted_owned` gives them.
        let mut at = next_in_order(&self.choices, None);
        let mut sep = "";
        while let Some(i) = at {
            if let Some((k, b)) = self.choices.get(i) {
                out.push_str(sep);
                sep = ",";
                json::push_str(out, k);
                out.push_str(if *b { ":true" } else { ":false" });
            }
            at = next_in_order(&self.choices, Some(i));
        }
        out.push('}');
        key(out, "method");
        json::push_str(out, self.method.as_str());
        out.push_str(if self.gpc {
            ",\"gpc\":true"
        } else {
            ",\"gpc\":false"
        });
        key(out, "prev");
        json::push_str(out, &self.prev);
        if with_hash {
            key(out, "hash");
            json::push_str(out, &self.hash);
        }
        out.push('}');
    }

    /// The canonical bytes (as text) that `hash` covers; see the module documentation.
    pub fn canonical(&self) -> String {
        let mut s = String::with_capacity(512);
        self.write(&mut s, false);
        s
    }

    /// SHA-256 of the canonical bytes, lower-case hex.
    pub fn compute_hash(&self) -> String {
        sha256::hex(&sha256::sha256(self.canonical().as_bytes()))
    }

    /// Sets `hash` from the other fields.
    pub fn seal(&mut self) {
        self.hash = self.compute_hash();
    }

    /// The stored form as a JSON value (the canonical fields, then `hash`).
    pub fn to_value(&self) -> Value {
        // Our own output always parses; Null is unreachable.
        json::parse(&self.to_json()).unwrap_or(Value::Null)
    }

    /// The stored and sent form: the canonical text with `"hash"` last.
    pub fn to_json(&self) -> String {
        let mut s = String::with_capacity(600);
        self.write(&mut s, true);
        s
    }

    /// Reads a receipt, checking every field's type and shape (see `validate`) and refusing
    /// unknown or missing fields. It does not check `hash` against the content: `verify_chain`
    /// does. Choices come back sorted by id.
    pub fn from_value(v: &Value) -> Result<Receipt, &'static str> {
        let Some(obj) = v.as_object() else {
            return Err("receipt: expected an object");
        };
        if obj.iter().any(|(k, _)| !FIELDS.contains(&k.as_str())) {
            return Err("receipt: unknown field");
        }
        let Some(choice_fields) = v.get("choices").and_then(Value::as_object) else {
            return Err(CHOICES);
        };
        let mut choices = Vec::with_capacity(choice_fields.len());
        for (k, b) in choice_fields {
            choices.push((k.clone(), b.as_bool().ok_or(CHOICES)?));
        }
        // Every other field by its place in FIELDS, type-checked in that order before anything
        // is built: texts, the two numbers (`v`, `seq`), `method` and `gpc`.
        let mut text = [""; 15];
        let (mut ver, mut seq) = (0, 0);
        let mut method = Method::Reset;
        let mut gpc = false;
        for (i, (key, slot)) in FIELDS.iter().zip(text.iter_mut()).enumerate() {
            let f = v.get(key);
            let ok = match i {
                0 => f.and_then(Value::as_i64).map(|n| ver = n).is_some(),
                3 => f.and_then(Value::as_i64).map(|n| seq = n).is_some(),
                10 => true,
                11 => f.and_then(Value::as_str).and_then(Method::parse).map(|m| method = m).is_some(),
                12 => f.and_then(Value::as_bool).map(|b| gpc = b).is_some(),
                _ => f.and_then(Value::as_str).map(|s| *slot = s).is_some(),
            };
            if !ok {
                return Err(wrong_type(i));
            }
        }
        let [_, id, subject, _, time, origin, path, policy, lang, texts, _, _, _, prev, hash] = text.map(String::from);
        let r = Receipt {
            v: ver,
            id,
            subject,
            seq,
            time,
            origin,
            path,
            policy,
            lang,
            texts,
            choices: sorted_owned(&choices),
            method,
            gpc,
            prev,
            hash,
        };
        r.validate()?;
        Ok(r)
    }

    /// Checks every field's shape (not the hash against the content, not the chain). The reason
    /// names the field.
    pub fn validate(&self) -> Result<(), &'static str> {
        let hex = sha256::is_hex;
        let checks = [
            (self.v == 1, V),
            (hex(&self.id, 32), ID),
            (hex(&self.subject, 32), SUBJECT),
            ((1..=MAX_SEQ).contains(&self.seq), SEQ),
            (time::parse_utc_iso(&self.time).is_some(), TIME),
            (query_at(&self.path).is_none(), PATH),
            (hex(&self.texts, 64), TEXTS),
            (self.choices.iter().all(|(k, _)| is_purpose_id(k)), CHOICES),
            (hex(&self.prev, 64), PREV),
            (hex(&self.hash, 64), HASH),
        ];
        if let Some((_, why)) = checks.iter().find(|(ok, _)| !ok) {
            return Err(why);
        }
        for (i, (k, _)) in self.choices.iter().enumerate() {
            if self.choices.iter().take(i).any(|(j, _)| j == k) {
                return Err("choices: a purpose id appears twice");
            }
        }
        Ok(())
    }
}

fn wrong_type(i: usize) -> &'static str {
    match i {
        0 => V,
        1 => ID,
        2 => SUBJECT,
        3 => SEQ,
        4 => TIME,
        5 => "origin: expected a string",
        6 => PATH,
        7 => "policy: expected a string",
        8 => "lang: expected a string",
        9 => TEXTS,
        10 => CHOICES,
        11 => METHOD,
        12 => "gpc: expected true or false",
        13 => PREV,
        _ => HASH,
    }
}
const V: &str = "v: expected 1";
const ID: &str = "id: expected 32 hex digits";
const SUBJECT: &str = "subject: expected 32 hex digits";
const SEQ: &str = "seq: expected a whole number from 1 to 2^53-1";
const TIME: &str = "time: expected UTC time like 2026-11-23T00:11:32.123Z";
const PATH: &str = "path: expected a string without ? or #";
const TEXTS: &str = "texts: expected 64 hex digits";
const CHOICES: &str = "choices: expected an object of purpose ids (a-z 0-9 _ -) to true or false";
const METHOD: &str = "method: expected one of accept_all reject_all custom withdraw gpc api expired policy_changed reset";
const PREV: &str = "prev: expected 64 hex digits";
const HASH: &str = "hash: expected 64 hex digits";

/// Verifies receipts given oldest first: each one's shape, its `hash` against its content, one
/// subject throughout, `seq` rising by exactly 1, and `prev` equal to the previous `hash` (a
/// receipt with seq 1 must have 64 zeros). With `anchored`, the first must be seq 1 (a complete
/// chain, as the collector keeps it); without, it may start anywhere (a bounded log). `time` is
/// not compared: clocks go backwards, `seq` is the order. Returns how many receipts were checked.
pub fn verify_chain(receipts: &[Receipt], anchored: bool) -> Result<usize, Broken> {
    let mut before: Option<&Receipt> = None;
    for (index, r) in receipts.iter().enumerate() {
        let broken = |reason| Err(Broken { index, reason });
        if let Err(reason) = r.validate() {
            return broken(reason);
        }
        if r.hash != r.compute_hash() {
            return broken("hash mismatch: the receipt was changed");
        }
        if r.seq == 1 && r.prev != ZERO_HASH {
            return broken("prev: a first receipt (seq 1) must have 64 zeros");
        }
        match before {
            None if anchored && r.seq != 1 => return broken("seq: the chain must start at 1"),
            None => {}
            Some(p) => {
                if r.subject != p.subject {
                    return broken("subject: differs from the previous receipt's");
                }
                if r.seq - 1 != p.seq {
                    return broken("seq: not one more than the previous receipt's");
                }
                if r.prev != p.hash {
                    return broken("prev: does not match the previous receipt's hash");
                }
            }
        }
        before = Some(r);
    }
    Ok(receipts.len())
}

/// The visitor's consent record: one subject's newest receipts, and how far the collector has
/// acknowledged them. A log without receipts has no subject yet ("") and `delivered` 0.
#[derive(Default)]
pub struct EvidenceLog {
    pub subject: String,
    pub receipts: Vec<Receipt>,
    /// The highest `seq` the collector has acknowledged (0: none).
    pub delivered: i64,
}

impl EvidenceLog {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn last(&self) -> Option<&Receipt> {
        self.receipts.last()
    }

    /// Records a decision: the next receipt of the chain, with `id` as its id. `subject` is used
    /// only for the first receipt of a log that has no subject yet. The path loses any `?query`
    /// or `#fragment`; choices are stored sorted by id.
    pub fn append(&mut self, d: ReceiptDraft, id: [u8; 16], subject: [u8; 16]) {
        if self.subject.is_empty() {
            self.subject = sha256::hex_of(&subject);
        }
        let (seq, prev) = match self.receipts.last() {
            Some(l) => (l.seq + 1, l.hash.clone()),
            None => (1, String::from(ZERO_HASH)),
        };
        let mut path = d.path;
        if let Some(head) = query_at(&path).and_then(|cut| path.get(..cut)) {
            path = String::from(head);
        }
        let mut r = Receipt {
            v: 1,
            id: sha256::hex_of(&id),
            subject: self.subject.clone(),
            seq,
            time: d.time,
            origin: d.origin,
            path,
            policy: d.policy,
            lang: d.lang,
            texts: d.texts,
            choices: sorted_owned(&d.choices),
            method: d.method,
            gpc: d.gpc,
            prev,
            hash: String::new(),
        };
        r.seal();
        self.receipts.push(r);
        self.prune();
    }

    /// Drops the oldest delivered receipts beyond `MAX_KEPT`; undelivered ones always stay.
    fn prune(&mut self) {
        let extra = self.receipts.len().saturating_sub(MAX_KEPT);
        let mut n = 0;
        while n < extra && self.receipts.get(n).is_some_and(|r| r.seq <= self.delivered) {
            n += 1;
        }
        crate::core::drop_front(&mut self.receipts, n);
    }

    /// The storage form: `{"v":1,"subject":…,"delivered":N,"receipts":[…]}`.
    pub fn to_json(&self) -> String {
        let mut s = String::from("{\"v\":1,\"subject\":");
        json::push_str(&mut s, &self.subject);
        s.push_str(",\"delivered\":");
        json::push_int(&mut s, self.delivered);
        s.push_str(",\"receipts\":");
        self.push_receipts(&mut s);
        s.push('}');
        s
    }

    fn push_receipts(&self, s: &mut String) {
        push_receipts(s, &self.receipts);
    }

    /// Reads the storage form and verifies it (unanchored: the log is bounded). Any problem, from
    /// bad JSON to a broken link, is an error: the caller must not trust such a log.
    pub fn from_json(s: &str) -> Result<EvidenceLog, &'static str> {
        EvidenceLog::from_value(json::parse(s).ok().as_ref())
    }

    /// `from_json` on the parsed document (None: the stored text was not JSON).
    pub fn from_value(doc: Option<&Value>) -> Result<EvidenceLog, &'static str> {
        EvidenceLog::read(doc).map_err(|(_, why)| why)
    }

    /// `from_value`, with where it failed: the index of the first receipt that does not read or
    /// verify (0 for a problem before the receipts, their count for one after them).
    pub fn read(doc: Option<&Value>) -> Result<EvidenceLog, (usize, &'static str)> {
        let doc = doc.ok_or((0, "log: not valid JSON"))?;
        let Some(obj) = doc.as_object() else {
            return Err((0, "log: expected an object"));
        };
        if obj
            .iter()
            .any(|(k, _)| !["v", "subject", "delivered", "receipts"].contains(&k.as_str()))
        {
            return Err((0, "log: unknown field"));
        }
        if doc.get("v").and_then(Value::as_i64) != Some(1) {
            return Err((0, "log: v: expected 1"));
        }
        let log = EvidenceLog {
            subject: String::from(
                doc.get("subject")
                    .and_then(Value::as_str)
                    .ok_or((0, "log: subject: expected a string"))?,
            ),
            delivered: doc
                .get("delivered")
                .and_then(Value::as_i64)
                .ok_or((0, "log: delivered: expected a whole number"))?,
            receipts: receipts_of(doc.get("receipts"))?,
        };
        let after = |why| Err((log.receipts.len(), why));
        let (first_seq, last_seq) = match (log.receipts.first(), log.receipts.last()) {
            (Some(f), Some(l)) => (f.seq, l.seq),
            _ => (1, 0),
        };
        if log.receipts.is_empty() && !log.subject.is_empty() {
            return after("log: subject: expected \"\" while there are no receipts");
        }
        if log.delivered < 0 || log.delivered > last_seq {
            return after("log: delivered: beyond the last receipt");
        }
        if log.delivered < first_seq - 1 {
            return after("log: undelivered receipts are missing");
        }
        log.verify().map_err(|b| (b.index, b.reason))?;
        Ok(log)
    }

    /// A document for the visitor or an auditor:
    /// `{"format":"consentry-evidence","v":1,"subject":…,"receipts":[…]}`. Read it back with
    /// `parse_export`.
    pub fn export_json(&self) -> String {
        let mut s = String::from("{\"format\":\"");
        s.push_str(EXPORT_FORMAT);
        s.push_str("\",\"v\":1,\"subject\":");
        json::push_str(&mut s, &self.subject);
        s.push_str(",\"receipts\":");
        self.push_receipts(&mut s);
        s.push('}');
        s
    }

    /// Verifies the kept receipts as an unanchored chain of this log's subject.
    pub fn verify(&self) -> Result<usize, Broken> {
        match self.receipts.first() {
            Some(f) if f.subject != self.subject => Err(Broken {
                index: 0,
                reason: "subject: differs from the log's subject",
            }),
            _ => verify_chain(&self.receipts, false),
        }
    }

    /// The receipts not yet acknowledged by the collector, oldest first.
    pub fn outbox(&self) -> &[Receipt] {
        let start = self
            .receipts
            .iter()
            .position(|r| r.seq > self.delivered)
            .unwrap_or(self.receipts.len());
        self.receipts.get(start..).unwrap_or(&[])
    }

    /// The collector has stored every receipt up to `upto_seq`. Never moves backwards or past the
    /// last receipt.
    pub fn acknowledge(&mut self, upto_seq: i64) {
        let last = self.receipts.last().map_or(0, |r| r.seq);
        self.delivered = self.delivered.max(upto_seq.min(last));
        self.prune();
    }

    /// For sites without an evidence endpoint: nothing will ever be delivered, so the log is
    /// bounded by `MAX_KEPT` alone.
    pub fn mark_all_delivered(&mut self) {
        self.acknowledge(i64::MAX);
    }
}

/// The receipts of an array, or the index of the first one that does not read, and why.
fn receipts_of(v: Option<&Value>) -> Result<Vec<Receipt>, (usize, &'static str)> {
    let list = v
        .and_then(Value::as_array)
        .ok_or((0, "receipts: expected an array"))?;
    let mut out = Vec::with_capacity(list.len());
    for (i, item) in list.iter().enumerate() {
        out.push(Receipt::from_value(item).map_err(|why| (i, why))?);
    }
    Ok(out)
}

/// Receipts as a JSON array, oldest first: what the shell sends the collector and shows.
pub fn receipts_json(receipts: &[Receipt]) -> String {
    let mut s = String::new();
    push_receipts(&mut s, receipts);
    s
}

fn push_receipts(s: &mut String, receipts: &[Receipt]) {
    s.push('[');
    for (i, r) in receipts.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        r.write(s, true);
    }
    s.push(']');
}

/// Reads receipts, oldest first, from an exported document (`export_json`), the storage form
/// (`EvidenceLog::to_json`), an array of receipts (what the shell sends the collector) or one
/// receipt. Each receipt's shape is checked, and a document's `subject` must match its receipts;
/// the chain is NOT verified here, so that the caller can report where `verify_chain` breaks it.
pub fn parse_export(s: &str) -> Result<Vec<Receipt>, &'static str> {
    let doc = json::parse(s).map_err(|_| "document: not valid JSON")?;
    let (allowed, subject): (&[&str], _) = match &doc {
        Value::Arr(_) => return receipts_of(Some(&doc)).map_err(|(_, why)| why),
        Value::Obj(_) if doc.get("format").is_some() => {
            if doc.get("format").and_then(Value::as_str) != Some(EXPORT_FORMAT) {
                return Err("format: expected \"consentry-evidence\"");
            }
            (&["format", "v", "subject", "receipts"], doc.get("subject"))
        }
        Value::Obj(_) if doc.get("delivered").is_some() => (
            &["v", "subject", "delivered", "receipts"],
            doc.get("subject"),
        ),
        _ => return Ok(vec![Receipt::from_value(&doc)?]),
    };
    if doc
        .as_object()
        .is_some_and(|o| o.iter().any(|(k, _)| !allowed.contains(&k.as_str())))
    {
        return Err("document: unknown field");
    }
    if doc.get("v").and_then(Value::as_i64) != Some(1) {
        return Err("v: expected 1");
    }
    let subject = subject
        .and_then(Value::as_str)
        .ok_or("subject: expected a string")?;
    let receipts = receipts_of(doc.get("receipts")).map_err(|(_, why)| why)?;
    if receipts.iter().any(|r| r.subject != subject) {
        return Err("subject: differs from a receipt's subject");
    }
    Ok(receipts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft(t: i64, choices: &[(&str, bool)], method: Method) -> ReceiptDraft {
        ReceiptDraft {
            time: time::format_utc_iso(t),
            origin: String::from("https://shop.example"),
            path: String::from("/checkout?coupon=x#top"),
            policy: String::from("2026-11"),
            lang: String::from("en"),
            texts: sha256::hex(&sha256::sha256(b"texts")),
            choices: choices
                .iter()
                .map(|(k, v)| (String::from(*k), *v))
                .collect(),
            method,
            gpc: false,
        }
    }

    fn id(n: u8) -> [u8; 16] {
        [n; 16]
    }

    /// A log with `n` receipts, nothing delivered.
    fn log_of(n: usize) -> EvidenceLog {
        let mut log = EvidenceLog::new();
        for i in 0..n {
            let m = if i % 2 == 0 {
                Method::AcceptAll
            } else {
                Method::Withdraw
            };
            log.append(
                draft(
                    1_795_393_892_123 + i as i64,
                    &[("necessary", true), ("analytics", i % 2 == 0)],
                    m,
                ),
                id(i as u8),
                id(0xab),
            );
        }
        log
    }

    #[test]
    fn methods_round_trip() {
        let names = [
            "accept_all",
            "reject_all",
            "custom",
            "withdraw",
            "gpc",
            "api",
            "expired",
            "policy_changed",
            "reset",
        ];
        for (m, n) in ALL_METHODS.into_iter().zip(names) {
            assert_eq!(m.as_str(), n);
            assert_eq!(Method::parse(n), Some(m));
        }
        assert_eq!(Method::parse("Accept_all"), None);
        assert_eq!(Method::parse(""), None);
    }

    #[test]
    fn canonical_bytes_are_exact() {
        let mut log = EvidenceLog::new();
        let mut d = draft(
            1_795_393_892_123,
            &[("necessary", true), ("analytics", false), ("ads", true)],
            Method::Custom,
        );
        d.lang = String::from("de\"\\\n\u{1}é/");
        log.append(d, id(0x11), id(0x22));
        let r = log.last().unwrap();
        let want = concat!(
            r#"{"v":1,"id":"11111111111111111111111111111111","subject":"22222222222222222222222222222222","#,
            r#""seq":1,"time":"2026-11-23T00:31:32.123Z","origin":"https://shop.example","path":"/checkout","#,
            r#""policy":"2026-11","lang":"de\"\\\n\u0001é/","#,
            r#""texts":"a5a97eb8a9f5b9a4d0f1d1d5d3d6fb1bb9dd3f2d9b22c0aed96e4ac1e2f3c08f","#,
            r#""choices":{"ads":true,"analytics":false,"necessary":true},"method":"custom","gpc":false,"#,
            r#""prev":"0000000000000000000000000000000000000000000000000000000000000000"}"#
        )
        .replace("a5a97eb8a9f5b9a4d0f1d1d5d3d6fb1bb9dd3f2d9b22c0aed96e4ac1e2f3c08f", &r.texts);
        assert_eq!(r.canonical(), want);
        assert_eq!(r.hash, sha256::hex(&sha256::sha256(want.as_bytes())));
        let mut full = String::from(&want[..want.len() - 1]);
        full.push_str(",\"hash\":\"");
        full.push_str(&r.hash);
        full.push_str("\"}");
        assert_eq!(r.to_json(), full);
    }

    #[test]
    fn choice_order_does_not_change_the_hash() {
        let r = log_of(1).receipts.remove(0);
        let mut shuffled = r.clone();
        shuffled.choices.reverse();
        assert_ne!(shuffled.choices, r.choices);
        assert_eq!(shuffled.canonical(), r.canonical());
        assert_eq!(verify_chain(&[shuffled], true), Ok(1));
    }

    #[test]
    fn canonical_order_is_a_stable_sort_by_id_bytes() {
        let ids = ["b", "a", "b", "", "ab", "a", "é", "Z", "a"];
        let c: Vec<(String, bool)> = ids.iter().enumerate().map(|(i, k)| (String::from(*k), i % 2 == 0)).collect();
        for n in 0..=c.len() {
            let mut want = c[..n].to_vec();
            want.sort_by(|x, y| x.0.cmp(&y.0));
            assert_eq!(sorted_owned(&c[..n]), want);
            let mut rev = c[..n].to_vec();
            rev.reverse();
            let mut want = rev.clone();
            want.sort_by(|x, y| x.0.cmp(&y.0));
            assert_eq!(sorted_owned(&rev), want);
        }
    }

    #[test]
    fn from_value_round_trips_and_sorts_choices() {
        let r = log_of(2).receipts.remove(1);
        let back = Receipt::from_value(&json::parse(&r.to_json()).unwrap()).unwrap();
        assert_eq!(back, r);
        let reordered = r.to_json().replace(
            r#""analytics":false,"necessary":true"#,
            r#""necessary":true,"analytics":false"#,
        );
        assert_ne!(reordered, r.to_json());
        assert_eq!(
            Receipt::from_value(&json::parse(&reordered).unwrap()).unwrap(),
            r
        );
    }

    #[test]
    fn from_value_names_the_bad_field() {
        let r = log_of(1).receipts.remove(0);
        let good = r.to_json();
        let edit = |from: &str, to: &str| {
            assert!(good.contains(from), "{from}");
            let v = json::parse(&good.replacen(from, to, 1)).unwrap();
            Receipt::from_value(&v).unwrap_err()
        };
        assert_eq!(edit(r#""v":1"#, r#""v":2"#), V);
        assert_eq!(edit(r#""v":1"#, r#""v":"1""#), V);
        assert_eq!(edit(r#""id":"0000"#, r#""id":"000"#), ID);
        assert_eq!(edit(r#""id":"0000"#, r#""id":"000A"#), ID);
        assert_eq!(edit(r#""subject":"abab"#, r#""subject":"ABab"#), SUBJECT);
        assert_eq!(edit(r#""seq":1"#, r#""seq":0"#), SEQ);
        assert_eq!(edit(r#""seq":1"#, r#""seq":-1"#), SEQ);
        assert_eq!(edit(r#""seq":1"#, r#""seq":1.0"#), SEQ);
        assert_eq!(edit(r#""seq":1"#, r#""seq":9007199254740992"#), SEQ);
        let mut top = r.clone();
        top.seq = MAX_SEQ;
        assert_eq!(top.validate(), Ok(()));
        assert_eq!(
            edit(r#""time":"2026-11-23T"#, r#""time":"2026-11-31T"#),
            TIME
        );
        assert_eq!(
            edit(r#""origin":"https://shop.example""#, r#""origin":null"#),
            "origin: expected a string"
        );
        assert_eq!(
            edit(r#""path":"/checkout""#, r#""path":"/checkout?a=1""#),
            PATH
        );
        assert_eq!(
            edit(r#""policy":"2026-11""#, r#""policy":202611"#),
            "policy: expected a string"
        );
        assert_eq!(
            edit(r#""lang":"en""#, r#""lang":["en"]"#),
            "lang: expected a string"
        );
        assert_eq!(edit(&r.texts[..10], "x"), TEXTS);
        assert_eq!(edit(r#""necessary":true"#, r#""necessary":1"#), CHOICES);
        assert_eq!(edit(r#""necessary":true"#, r#""Necessary":true"#), CHOICES);
        assert_eq!(edit(r#""choices":{"#, r#""choices":{"":true,"#), CHOICES);
        assert_eq!(
            edit(r#""method":"accept_all""#, r#""method":"accept""#),
            METHOD
        );
        assert_eq!(
            edit(r#""gpc":false"#, r#""gpc":"false""#),
            "gpc: expected true or false"
        );
        assert_eq!(edit(r#""prev":"0000"#, r#""prev":"000"#), PREV);
        assert_eq!(
            edit(&format!("\"hash\":\"{}", &r.hash[..4]), "\"hash\":\""),
            HASH
        );
        assert_eq!(
            edit(r#""gpc":false"#, r#""gpc":false,"extra":1"#),
            "receipt: unknown field"
        );
        assert_eq!(edit(r#""gpc":false,"#, ""), "gpc: expected true or false");
        assert_eq!(
            Receipt::from_value(&Value::Arr(vec![])).unwrap_err(),
            "receipt: expected an object"
        );
        let mut twice = r.clone();
        twice.choices.push((String::from("analytics"), true));
        assert_eq!(twice.validate(), Err("choices: a purpose id appears twice"));
    }

    #[test]
    fn a_chain_verifies_and_every_break_is_found_where_it_is() {
        let log = log_of(5);
        assert_eq!(verify_chain(&log.receipts, true), Ok(5));
        assert_eq!(verify_chain(&log.receipts[2..], false), Ok(3));
        assert_eq!(verify_chain(&[], true), Ok(0));
        let broken = |rs: &[Receipt], anchored| verify_chain(rs, anchored).unwrap_err();

        // Unanchored tail presented as a complete chain.
        assert_eq!(
            broken(&log.receipts[2..], true),
            Broken {
                index: 0,
                reason: "seq: the chain must start at 1"
            }
        );

        // A field edited after the fact.
        let mut rs = log.receipts.clone();
        rs[3].choices[0].1 = !rs[3].choices[0].1;
        assert_eq!(
            broken(&rs, true),
            Broken {
                index: 3,
                reason: "hash mismatch: the receipt was changed"
            }
        );

        // The hash itself edited.
        let mut rs = log.receipts.clone();
        let first = if rs[2].hash.starts_with('0') {
            "1"
        } else {
            "0"
        };
        rs[2].hash.replace_range(0..1, first);
        assert_eq!(broken(&rs, true).index, 2);
        assert_eq!(
            broken(&rs, true).reason,
            "hash mismatch: the receipt was changed"
        );

        // A receipt resealed after editing: its own hash is right, the next link is not.
        let mut rs = log.receipts.clone();
        rs[1].gpc = true;
        rs[1].seal();
        assert_eq!(
            broken(&rs, true),
            Broken {
                index: 2,
                reason: "prev: does not match the previous receipt's hash"
            }
        );

        // A receipt removed from the middle.
        let mut rs = log.receipts.clone();
        rs.remove(2);
        assert_eq!(
            broken(&rs, true),
            Broken {
                index: 2,
                reason: "seq: not one more than the previous receipt's"
            }
        );

        // Two receipts swapped.
        let mut rs = log.receipts.clone();
        rs.swap(3, 4);
        assert_eq!(broken(&rs, true).index, 3);

        // A receipt of another subject spliced in, resealed and relinked.
        let mut rs = log.receipts.clone();
        rs[4].subject = "cd".repeat(16);
        rs[4].seal();
        assert_eq!(
            broken(&rs, true),
            Broken {
                index: 4,
                reason: "subject: differs from the previous receipt's"
            }
        );

        // A forged first receipt with a non-zero prev.
        let mut rs = log.receipts.clone();
        rs[0].prev = "1".repeat(64);
        rs[0].seal();
        assert_eq!(
            broken(&rs, false),
            Broken {
                index: 0,
                reason: "prev: a first receipt (seq 1) must have 64 zeros"
            }
        );

        // Shape problems come out of verify_chain too.
        let mut rs = log.receipts.clone();
        rs[1].time = String::from("yesterday");
        assert_eq!(
            broken(&rs, true),
            Broken {
                index: 1,
                reason: TIME
            }
        );
    }

    #[test]
    fn time_may_go_backwards() {
        let mut log = log_of(1);
        log.append(
            draft(1_000_000, &[("analytics", true)], Method::Api),
            id(9),
            id(1),
        );
        assert!(log.receipts[1].time < log.receipts[0].time);
        assert_eq!(log.verify(), Ok(2));
    }

    #[test]
    fn append_builds_the_chain() {
        let log = log_of(3);
        assert_eq!(log.subject, "ab".repeat(16));
        for (i, r) in log.receipts.iter().enumerate() {
            assert_eq!(r.seq, i as i64 + 1);
            assert_eq!(r.subject, log.subject);
            assert_eq!(r.id, sha256::hex_of(&id(i as u8)));
            assert_eq!(r.path, "/checkout");
            assert_eq!(r.choices[0].0, "analytics");
            assert_eq!(r.hash, r.compute_hash());
            assert_eq!(
                r.prev,
                if i == 0 {
                    ZERO_HASH
                } else {
                    &log.receipts[i - 1].hash
                }
            );
        }
        assert_eq!(log.receipts[1].method, Method::Withdraw);
        assert_eq!(log.receipts[2].time, "2026-11-23T00:31:32.125Z");
    }

    #[test]
    fn storage_form_round_trips_and_is_verified() {
        let mut log = log_of(4);
        log.acknowledge(2);
        let text = log.to_json();
        assert!(text.starts_with(&format!(
            "{{\"v\":1,\"subject\":\"{}\",\"delivered\":2,\"receipts\":[{{",
            log.subject
        )));
        let back = EvidenceLog::from_json(&text).unwrap();
        assert_eq!(
            (&back.subject, &back.receipts, back.delivered),
            (&log.subject, &log.receipts, 2)
        );
        assert_eq!(back.to_json(), text);

        let empty = EvidenceLog::new();
        assert_eq!(
            empty.to_json(),
            r#"{"v":1,"subject":"","delivered":0,"receipts":[]}"#
        );
        assert!(EvidenceLog::from_json(&empty.to_json())
            .unwrap()
            .receipts
            .is_empty());

        let bad = |t: &str| EvidenceLog::from_json(t).err().unwrap();
        assert_eq!(bad(&text[..text.len() - 1]), "log: not valid JSON");
        assert_eq!(bad(""), "log: not valid JSON");
        assert_eq!(bad("[]"), "log: expected an object");
        assert_eq!(
            bad(&text.replacen("{\"v\":1,", "{\"v\":1,\"x\":0,", 1)),
            "log: unknown field"
        );
        assert_eq!(
            bad(&text.replacen("{\"v\":1,", "{\"v\":2,", 1)),
            "log: v: expected 1"
        );
        assert_eq!(
            bad(&text.replace("\"delivered\":2", "\"delivered\":5")),
            "log: delivered: beyond the last receipt"
        );
        assert_eq!(
            bad(&text.replace("\"delivered\":2", "\"delivered\":-1")),
            "log: delivered: beyond the last receipt"
        );
        assert_eq!(
            bad(&text.replace("\"delivered\":2", "\"delivered\":\"2\"")),
            "log: delivered: expected a whole number"
        );
        assert_eq!(
            bad(
                r#"{"v":1,"subject":"abababababababababababababababab","delivered":0,"receipts":[]}"#
            ),
            "log: subject: expected \"\" while there are no receipts"
        );
        assert_eq!(
            bad(&text.replace("\"policy\":\"2026-11\"", "\"policy\":\"2026-12\"")),
            "hash mismatch: the receipt was changed"
        );
        assert_eq!(
            bad(&text.replace(&log.subject, &"cd".repeat(16))),
            "hash mismatch: the receipt was changed"
        );
        assert_eq!(
            bad(&text.replacen(&log.subject, &"cd".repeat(16), 1)),
            "subject: differs from the log's subject"
        );
        assert_eq!(
            bad(&text.replace("\"receipts\":[", "\"receipts\":[1,")),
            "receipt: expected an object"
        );
        // A log missing its oldest undelivered receipts.
        let mut cut = log_of(4);
        cut.receipts.drain(..2);
        assert_eq!(bad(&cut.to_json()), "log: undelivered receipts are missing");
        cut.delivered = 2;
        assert!(EvidenceLog::from_json(&cut.to_json()).is_ok());
    }

    #[test]
    fn outbox_and_acknowledge() {
        let mut log = log_of(3);
        assert_eq!(log.outbox().len(), 3);
        log.acknowledge(2);
        assert_eq!(log.delivered, 2);
        assert_eq!(log.outbox().iter().map(|r| r.seq).collect::<Vec<_>>(), [3]);
        log.acknowledge(1); // never backwards
        assert_eq!(log.delivered, 2);
        log.acknowledge(99); // never past the last
        assert_eq!(log.delivered, 3);
        assert!(log.outbox().is_empty());
        assert!(EvidenceLog::new().outbox().is_empty());
    }

    #[test]
    fn pruning_keeps_undelivered_receipts() {
        let mut log = log_of(MAX_KEPT + 20);
        assert_eq!(
            log.receipts.len(),
            MAX_KEPT + 20,
            "nothing delivered, nothing dropped"
        );
        log.acknowledge(10);
        assert_eq!(log.receipts.len(), MAX_KEPT + 10);
        assert_eq!(log.receipts[0].seq, 11);
        assert_eq!(log.outbox().len(), MAX_KEPT + 10);
        log.mark_all_delivered();
        assert_eq!(log.receipts.len(), MAX_KEPT);
        assert_eq!(log.receipts[0].seq, 21);
        assert!(log.outbox().is_empty());
        log.append(draft(0, &[], Method::Reset), id(1), id(2));
        assert_eq!(
            (
                log.receipts.len(),
                log.receipts[0].seq,
                log.last().unwrap().seq
            ),
            (MAX_KEPT, 22, MAX_KEPT as i64 + 21)
        );
        assert_eq!(log.outbox().len(), 1);
        assert_eq!(log.verify(), Ok(MAX_KEPT));
        assert_eq!(
            EvidenceLog::from_json(&log.to_json())
                .unwrap()
                .receipts
                .len(),
            MAX_KEPT
        );
    }

    #[test]
    fn export_reads_back_in_every_form() {
        let mut log = log_of(3);
        log.acknowledge(1);
        let export = log.export_json();
        assert!(export.starts_with(&format!(
            "{{\"format\":\"consentry-evidence\",\"v\":1,\"subject\":\"{}\",\"receipts\":[",
            log.subject
        )));
        assert_eq!(parse_export(&export).unwrap(), log.receipts);
        assert_eq!(parse_export(&log.to_json()).unwrap(), log.receipts);
        let array = format!(
            "[{},{}]",
            log.receipts[0].to_json(),
            log.receipts[1].to_json()
        );
        assert_eq!(parse_export(&array).unwrap(), log.receipts[..2]);
        assert_eq!(
            parse_export(&log.receipts[2].to_json()).unwrap(),
            log.receipts[2..]
        );
        assert_eq!(parse_export("{").unwrap_err(), "document: not valid JSON");
        assert_eq!(
            parse_export(&export.replace("consentry-evidence", "other")).unwrap_err(),
            "format: expected \"consentry-evidence\""
        );
        assert_eq!(
            parse_export(&export.replace("\"v\":1,\"subject\"", "\"v\":2,\"subject\""))
                .unwrap_err(),
            "v: expected 1"
        );
        assert_eq!(
            parse_export(&export.replacen(&log.subject, &"cd".repeat(16), 1)).unwrap_err(),
            "subject: differs from a receipt's subject"
        );
        assert_eq!(
            parse_export(&export.replacen("\"v\":1,", "\"v\":1,\"x\":1,", 1)).unwrap_err(),
            "document: unknown field"
        );
        assert_eq!(
            parse_export("42").unwrap_err(),
            "receipt: expected an object"
        );
        // The chain is left to verify_chain.
        let mut rs = parse_export(&export.replace("\"gpc\":false", "\"gpc\":true")).unwrap();
        assert_eq!(verify_chain(&rs, true).unwrap_err().index, 0);
        rs.clear();
        assert_eq!(
            EvidenceLog::new().export_json(),
            r#"{"format":"consentry-evidence","v":1,"subject":"","receipts":[]}"#
        );
    }
}
