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
//! | `v`       | number    | `1` or `2` (the format version, see below)                            |
//! | `id`      | string    | 32 lower-case hex digits (16 random bytes)                            |
//! | `subject` | string    | 32 lower-case hex digits: the pseudonymous visitor (16 random bytes)  |
//! | `seq`     | number    | 1, 2, 3 … per subject, whole, at most 2^53 - 1 (`MAX_SEQ`)            |
//! | `time`    | string    | `YYYY-MM-DDTHH:MM:SS.mmmZ` (UTC, see `core::time`)                    |
//! | `origin`  | string    | the page origin, e.g. `https://shop.example`                          |
//! | `path`    | string    | the page path, without `?query` or `#fragment`                        |
//! | `policy`  | string    | the site's policy version                                             |
//! | `lang`    | string    | the language of the texts shown                                       |
//! | `texts`   | string    | 64 lower-case hex digits: SHA-256 of the wording shown (see below)    |
//! | `choices` | object    | purpose id → true/false; ids are 1–64 of `a-z 0-9 _ -`, no repeats    |
//! | `method`  | string    | accept_all reject_all custom withdraw gpc api expired policy_changed reset |
//! | `gpc`     | boolean   | whether the browser sent Global Privacy Control                       |
//! | `prev`    | string    | 64 hex digits: `hash` of this subject's previous receipt; 64 `0` at seq 1 |
//! | `key`     | string    | version 2 only: 64 hex digits, SHA-256 of the visitor's secret (the same in every receipt of a subject); whoever presents the secret may ask the collector for this subject's data |
//! | `hash`    | string    | 64 hex digits: SHA-256 of the canonical bytes below                   |
//!
//! # Canonical bytes (stable, byte-exact; changing them breaks every stored chain)
//!
//! **Version 2** (what the browser writes): the receipt without `hash`, as RFC 8785 (JSON
//! Canonicalization Scheme) writes it, so any JCS library reproduces the bytes: one compact
//! object, keys sorted (`choices, gpc, id, key, lang, method, origin, path, policy, prev, seq,
//! subject, texts, time, v`), choices' keys sorted, numbers in plain decimal, strings with only
//! JCS's escapes (`canonical::push_str`). Its `texts` is the SHA-256 of the wording document
//! (`texts::Texts::document`, itself JCS), which the collector keeps under that hash.
//!
//! **Version 1** (still read and verified): the same strings, numbers and sorted choices, but
//! the keys in the fixed order `v, id, subject, seq, time, origin, path, policy, lang, texts,
//! choices, method, gpc, prev`, and `texts` the SHA-256 of the texts joined with newlines.
//!
//! `hash` is the lower-case hex SHA-256 of those bytes. The stored and sent JSON of a receipt is
//! the canonical text with `,"hash":"<hash>"` added before the closing `}`.
//!
//! # The chain
//!
//! A subject's receipts form a hash chain: receipt n+1 has `seq` one more than receipt n and
//! `prev` equal to receipt n's `hash`; receipt 1 has `prev` of 64 zeros. `seq` is the order, not
//! `time`: a visitor's clock can go backwards, so times are recorded as read and never compared.
//! A chain may change from version 1 to 2 (an old visitor's next decision), never back.
//!
//! The visitor's log keeps at most `MAX_KEPT` receipts but never drops one that the collector
//! has not acknowledged, so a stored log may start after seq 1 (it is verified unanchored) while
//! the collector, which keeps everything, verifies anchored chains.
use crate::core::canonical::{push_int, push_key, push_str};
use crate::core::doc::Doc;
use crate::core::ids::{hex, is_hex, sha256_hex};
use crate::core::time;
use crate::core::tracker::{text, Prop, Props};
use serde::ser::Serializer;
use serde::Serialize;

/// `prev` of a subject's first receipt.
pub const ZERO_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";
/// The most receipts the visitor's log keeps once they are delivered.
pub const MAX_KEPT: usize = 50;
/// The largest `seq`: JavaScript reads JSON numbers as doubles, exact only up to 2^53 - 1.
pub const MAX_SEQ: u64 = (1 << 53) - 1;
/// The `format` of an exported evidence document.
pub const EXPORT_FORMAT: &str = "consentry-evidence";
/// The format version the browser writes.
pub const VERSION: u8 = 2;

/// How a decision was made.
#[derive(Clone, Copy, PartialEq)]
#[cfg_attr(not(target_arch = "wasm32"), derive(Debug))]
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

/// Why a receipt, a chain, a log or an evidence document is refused. Each names the field.
#[derive(Clone, Copy, PartialEq)]
#[cfg_attr(not(target_arch = "wasm32"), derive(Debug))]
pub enum EvidenceError {
    NotObject,
    UnknownField,
    Version,
    Id,
    Subject,
    Seq,
    Time,
    Origin,
    Path,
    Policy,
    Lang,
    Texts,
    Choices,
    DuplicateChoice,
    Method,
    Gpc,
    Prev,
    Key,
    Hash,
    HashMismatch,
    FirstPrev,
    NotAnchored,
    SubjectChanged,
    SeqGap,
    PrevMismatch,
    KeyChanged,
    VersionBack,
    NotJson,
    LogNotObject,
    LogUnknownField,
    LogVersion,
    LogSubject,
    LogDelivered,
    LogSecret,
    LogEmptySubject,
    LogDeliveredBeyond,
    LogMissing,
    Receipts,
    Format,
    DocumentUnknownField,
    DocumentSubject,
}

impl EvidenceError {
    pub fn as_str(self) -> &'static str {
        use EvidenceError as E;
        match self {
            E::NotObject => "receipt: expected an object",
            E::UnknownField => "receipt: unknown field",
            E::Version => "v: expected 1 or 2",
            E::Id => "id: expected 32 hex digits",
            E::Subject => "subject: expected 32 hex digits",
            E::Seq => "seq: expected a whole number from 1 to 2^53-1",
            E::Time => "time: expected UTC time like 2026-11-23T00:11:32.123Z",
            E::Origin => "origin: expected a string",
            E::Path => "path: expected a string without ? or #",
            E::Policy => "policy: expected a string",
            E::Lang => "lang: expected a string",
            E::Texts => "texts: expected 64 hex digits",
            E::Choices => "choices: expected an object of purpose ids (a-z 0-9 _ -) to true or false",
            E::DuplicateChoice => "choices: a purpose id appears twice",
            E::Method => "method: expected one of accept_all reject_all custom withdraw gpc api expired policy_changed reset",
            E::Gpc => "gpc: expected true or false",
            E::Prev => "prev: expected 64 hex digits",
            E::Key => "key: expected 64 hex digits in a version 2 receipt, none in version 1",
            E::Hash => "hash: expected 64 hex digits",
            E::HashMismatch => "hash mismatch: the receipt was changed",
            E::FirstPrev => "prev: a first receipt (seq 1) must have 64 zeros",
            E::NotAnchored => "seq: the chain must start at 1",
            E::SubjectChanged => "subject: differs from the previous receipt's",
            E::SeqGap => "seq: not one more than the previous receipt's",
            E::PrevMismatch => "prev: does not match the previous receipt's hash",
            E::KeyChanged => "key: differs from the previous receipt's",
            E::VersionBack => "v: a version 1 receipt after a version 2 one",
            E::NotJson => "document: not valid JSON",
            E::LogNotObject => "log: expected an object",
            E::LogUnknownField => "log: unknown field",
            E::LogVersion => "log: v: expected 1 or 2",
            E::LogSubject => "log: subject: expected a string",
            E::LogDelivered => "log: delivered: expected a whole number",
            E::LogSecret => "log: secret: expected 64 hex digits",
            E::LogEmptySubject => "log: subject: expected \"\" while there are no receipts",
            E::LogDeliveredBeyond => "log: delivered: beyond the last receipt",
            E::LogMissing => "log: undelivered receipts are missing",
            E::Receipts => "receipts: expected an array",
            E::Format => "format: expected \"consentry-evidence\"",
            E::DocumentUnknownField => "document: unknown field",
            E::DocumentSubject => "subject: differs from a receipt's subject",
        }
    }
}

/// What the shell knows when a decision is made; `EvidenceLog::append` turns it into a receipt.
#[derive(Clone)]
pub struct ReceiptDraft {
    /// UTC time as `time::format_utc_iso` writes it.
    pub time: String,
    pub origin: String,
    pub path: String,
    pub policy: String,
    pub lang: String,
    /// SHA-256 (hex) of the wording document shown.
    pub texts: String,
    pub choices: Vec<(String, bool)>,
    pub method: Method,
    pub gpc: bool,
}

/// One recorded decision. See the module documentation for every field's shape.
#[derive(Clone, PartialEq)]
#[cfg_attr(not(target_arch = "wasm32"), derive(Debug))]
pub struct Receipt {
    pub v: u8,
    pub id: String,
    pub subject: String,
    pub seq: u64,
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
    pub key: Option<String>,
    pub hash: String,
}

impl Receipt {
    /// A receipt as the JSON object it is stored as (`choices` an object, `key` only in version 2).
    pub fn to_prop(&self) -> Prop {
        let mut m = Props::default();
        m.push("v", Prop::Num(self.v as f64));
        // The texts in one loop (one copy of the entry's code in the .wasm).
        let texts = [
            ("id", &self.id),
            ("subject", &self.subject),
            ("time", &self.time),
            ("origin", &self.origin),
            ("path", &self.path),
            ("policy", &self.policy),
            ("lang", &self.lang),
            ("texts", &self.texts),
            ("prev", &self.prev),
            ("hash", &self.hash),
        ];
        for (k, v) in texts {
            m.push(k, text(v));
        }
        // Below 2^53 (`MAX_SEQ`): the double is exact.
        m.push("seq", Prop::Num(self.seq as f64));
        m.push("choices", crate::core::consent::choice_map(&self.choices));
        m.push("method", text(self.method.as_str()));
        m.push("gpc", Prop::Bool(self.gpc));
        if let Some(k) = &self.key {
            m.push("key", text(k));
        }
        Prop::Map(m)
    }
}

impl Serialize for Receipt {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_prop().serialize(s)
    }
}

/// Broken evidence: the index of the first bad receipt in the slice given, and why.
#[derive(Clone, Copy, PartialEq)]
#[cfg_attr(not(target_arch = "wasm32"), derive(Debug))]
pub struct Broken {
    pub index: usize,
    pub reason: EvidenceError,
}

/// The keys a stored receipt may have.
const FIELDS: [&str; 16] =
    ["v", "id", "subject", "seq", "time", "origin", "path", "policy", "lang", "texts", "choices", "method", "gpc", "prev", "key", "hash"];

fn is_purpose_id(s: &str) -> bool {
    crate::core::is_id(s, 64)
}

/// Choices sorted by the bytes of their ids (stable): insertion sort, since there are a handful
/// and a library sort brings kilobytes of code into the `.wasm`.
fn sort_choices(c: &mut [(String, bool)]) {
    for i in 1..c.len() {
        let mut j = i;
        while j > 0 && c[j - 1].0 > c[j].0 {
            c.swap(j - 1, j);
            j -= 1;
        }
    }
}

impl Receipt {
    /// Writes the canonical text of its version (see the module documentation); with `with_hash`
    /// the stored form: the same with `hash` last. The one serialiser of receipts' bytes.
    fn write(&self, out: &mut String, with_hash: bool) {
        let text = |out: &mut String, k: &str, v: &str| {
            push_key(out, k);
            push_str(out, v);
            out.push(',');
        };
        let choices = |out: &mut String| {
            push_key(out, "choices");
            out.push('{');
            // In canonical order whatever order the fields hold them in.
            let mut sorted = self.choices.clone();
            sort_choices(&mut sorted);
            for (i, (k, b)) in sorted.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                push_str(out, k);
                out.push_str(if *b { ":true" } else { ":false" });
            }
            out.push_str("},");
        };
        let num = |out: &mut String, k: &str, n: u64| {
            push_key(out, k);
            push_int(out, n);
            out.push(',');
        };
        let gpc = if self.gpc { "\"gpc\":true," } else { "\"gpc\":false," };
        out.push('{');
        if self.v == 1 {
            num(out, "v", 1);
            text(out, "id", &self.id);
            text(out, "subject", &self.subject);
            num(out, "seq", self.seq);
            text(out, "time", &self.time);
            text(out, "origin", &self.origin);
            text(out, "path", &self.path);
            text(out, "policy", &self.policy);
            text(out, "lang", &self.lang);
            text(out, "texts", &self.texts);
            choices(out);
            text(out, "method", self.method.as_str());
            out.push_str(gpc);
            text(out, "prev", &self.prev);
        } else {
            choices(out);
            out.push_str(gpc);
            text(out, "id", &self.id);
            text(out, "key", self.key.as_deref().unwrap_or(""));
            text(out, "lang", &self.lang);
            text(out, "method", self.method.as_str());
            text(out, "origin", &self.origin);
            text(out, "path", &self.path);
            text(out, "policy", &self.policy);
            text(out, "prev", &self.prev);
            num(out, "seq", self.seq);
            text(out, "subject", &self.subject);
            text(out, "texts", &self.texts);
            text(out, "time", &self.time);
            num(out, "v", self.v as u64);
        }
        if with_hash {
            text(out, "hash", &self.hash);
        }
        out.pop(); // the last ','
        out.push('}');
    }

    /// The canonical bytes (as text) that `hash` covers; see the module documentation.
    pub fn canonical(&self) -> String {
        let mut s = String::with_capacity(560);
        self.write(&mut s, false);
        s
    }

    /// SHA-256 of the canonical bytes, lower-case hex.
    pub fn compute_hash(&self) -> String {
        sha256_hex(self.canonical().as_bytes())
    }

    /// The stored and sent form: the canonical text with `"hash"` last.
    pub fn to_json(&self) -> String {
        let mut s = String::with_capacity(640);
        self.write(&mut s, true);
        s
    }

    /// Reads a receipt, checking every field's type and shape (see `validate`) and refusing
    /// unknown or missing fields. It does not check `hash` against the content: `verify_chain`
    /// does. Choices come back sorted by id.
    pub fn from_doc<D: Doc>(v: &D) -> Result<Receipt, EvidenceError> {
        use EvidenceError as E;
        let keys = v.keys().ok_or(E::NotObject)?;
        if keys.iter().any(|k| !FIELDS.contains(&k.as_str())) {
            return Err(E::UnknownField);
        }
        // The text fields in one loop, in the order their errors are reported (a loop, not
        // eleven inlined reads: the reader ships in the .wasm).
        const TEXTS: [(&str, E); 10] = [
            ("id", E::Id),
            ("subject", E::Subject),
            ("time", E::Time),
            ("origin", E::Origin),
            ("path", E::Path),
            ("policy", E::Policy),
            ("lang", E::Lang),
            ("texts", E::Texts),
            ("prev", E::Prev),
            ("hash", E::Hash),
        ];
        let mut t: [String; 10] = Default::default();
        for (slot, (k, e)) in t.iter_mut().zip(TEXTS) {
            *slot = v.get(k).and_then(|x| x.text()).ok_or(e)?;
        }
        let choice_doc = v.get("choices").ok_or(E::Choices)?;
        let mut choices = Vec::new();
        for k in choice_doc.keys().ok_or(E::Choices)? {
            let b = choice_doc.get(&k).and_then(|b| b.flag()).ok_or(E::Choices)?;
            choices.push((k, b));
        }
        sort_choices(&mut choices);
        let ver = v.get("v").and_then(|n| n.int(1, 2)).ok_or(E::Version)? as u8;
        let seq = v.get("seq").and_then(|n| n.int(1, MAX_SEQ as i64)).ok_or(E::Seq)? as u64;
        let method = v.get("method").and_then(|m| m.text()).and_then(|m| Method::parse(&m)).ok_or(E::Method)?;
        let gpc = v.get("gpc").and_then(|g| g.flag()).ok_or(E::Gpc)?;
        let key = match v.get("key") {
            None => None,
            Some(k) => Some(k.text().ok_or(E::Key)?),
        };
        let [id, subject, time, origin, path, policy, lang, texts, prev, hash] = t;
        let r = Receipt { v: ver, id, subject, seq, time, origin, path, policy, lang, texts, choices, method, gpc, prev, key, hash };
        r.validate()?;
        Ok(r)
    }

    /// Checks every field's shape (not the hash against the content, not the chain).
    pub fn validate(&self) -> Result<(), EvidenceError> {
        use EvidenceError as E;
        let key_ok = match (self.v, &self.key) {
            (2, Some(k)) => is_hex(k, 64),
            (1, None) => true,
            _ => false,
        };
        let checks = [
            (self.v == 1 || self.v == 2, E::Version),
            (is_hex(&self.id, 32), E::Id),
            (is_hex(&self.subject, 32), E::Subject),
            ((1..=MAX_SEQ).contains(&self.seq), E::Seq),
            (time::parse_utc_iso(&self.time).is_some(), E::Time),
            (!crate::core::has(&self.path, b'?') && !crate::core::has(&self.path, b'#'), E::Path),
            (is_hex(&self.texts, 64), E::Texts),
            (self.choices.iter().all(|(k, _)| is_purpose_id(k)), E::Choices),
            (is_hex(&self.prev, 64), E::Prev),
            (key_ok, E::Key),
            (is_hex(&self.hash, 64), E::Hash),
        ];
        for (ok, why) in checks {
            if !ok {
                return Err(why);
            }
        }
        for (i, (k, _)) in self.choices.iter().enumerate() {
            if self.choices[..i].iter().any(|(j, _)| j == k) {
                return Err(E::DuplicateChoice);
            }
        }
        Ok(())
    }
}

/// Verifies receipts given oldest first: each one's shape, its `hash` against its content, one
/// subject throughout, `seq` rising by exactly 1, `prev` equal to the previous `hash` (a
/// receipt with seq 1 must have 64 zeros), and one `key` for the version-2 part. With
/// `anchored`, the first must be seq 1 (a complete chain, as the collector keeps it); without,
/// it may start anywhere (a bounded log). Returns how many receipts were checked.
pub fn verify_chain(receipts: &[Receipt], anchored: bool) -> Result<usize, Broken> {
    use EvidenceError as E;
    let mut before: Option<&Receipt> = None;
    for (index, r) in receipts.iter().enumerate() {
        let broken = |reason| Err(Broken { index, reason });
        if let Err(reason) = r.validate() {
            return broken(reason);
        }
        if r.hash != r.compute_hash() {
            return broken(E::HashMismatch);
        }
        if r.seq == 1 && r.prev != ZERO_HASH {
            return broken(E::FirstPrev);
        }
        match before {
            None if anchored && r.seq != 1 => return broken(E::NotAnchored),
            None => {}
            Some(p) => {
                let why = if r.subject != p.subject {
                    E::SubjectChanged
                } else if r.seq - 1 != p.seq {
                    E::SeqGap
                } else if r.prev != p.hash {
                    E::PrevMismatch
                } else if r.v < p.v {
                    E::VersionBack
                } else if p.v == 2 && r.key != p.key {
                    E::KeyChanged
                } else {
                    before = Some(r);
                    continue;
                };
                return broken(why);
            }
        }
        before = Some(r);
    }
    Ok(receipts.len())
}

/// The visitor's consent record: one subject's newest receipts, how far the collector has
/// acknowledged them, and the visitor's secret (see `key`). A log without receipts has no
/// subject yet ("") and `delivered` 0.
#[derive(Default)]
pub struct EvidenceLog {
    subject: String,
    receipts: Vec<Receipt>,
    /// The highest `seq` the collector has acknowledged (0: none).
    delivered: u64,
    /// 64 hex digits, or "" until the first version-2 receipt is written.
    secret: String,
}

impl EvidenceLog {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn subject(&self) -> &str {
        &self.subject
    }

    pub fn receipts(&self) -> &[Receipt] {
        &self.receipts
    }

    /// The visitor's secret: presented to the collector to ask for this subject's data.
    pub fn secret(&self) -> &str {
        &self.secret
    }

    pub fn last(&self) -> Option<&Receipt> {
        self.receipts.last()
    }

    /// Records a decision: the next receipt of the chain. `random` gives the id (16 bytes), the
    /// subject of a log that has none (16) and the secret of a log that has none (32). The path
    /// loses any `?query` or `#fragment`; choices are stored sorted by id.
    pub fn append(&mut self, d: ReceiptDraft, random: &[u8; 64]) {
        if self.subject.is_empty() {
            self.subject = hex(&random[16..32]);
        }
        if self.secret.is_empty() {
            self.secret = hex(&random[32..]);
        }
        let (seq, prev) = match self.receipts.last() {
            Some(l) => (l.seq + 1, l.hash.clone()),
            None => (1, String::from(ZERO_HASH)),
        };
        let path = String::from(crate::core::before(crate::core::before(&d.path, b'?'), b'#'));
        let mut choices = d.choices;
        sort_choices(&mut choices);
        let mut r = Receipt {
            v: VERSION,
            id: hex(&random[..16]),
            subject: self.subject.clone(),
            seq,
            time: d.time,
            origin: d.origin,
            path,
            policy: d.policy,
            lang: d.lang,
            texts: d.texts,
            choices,
            method: d.method,
            gpc: d.gpc,
            prev,
            key: Some(sha256_hex(self.secret.as_bytes())),
            hash: String::new(),
        };
        r.hash = r.compute_hash();
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
        self.receipts.drain(..n);
    }

    /// The storage form: `{"v":2,"subject":…,"delivered":N,"secret":…,"receipts":[…]}`.
    pub fn to_json(&self) -> String {
        let mut s = String::from("{\"v\":2,\"subject\":");
        push_str(&mut s, &self.subject);
        s.push_str(",\"delivered\":");
        push_int(&mut s, self.delivered);
        s.push_str(",\"secret\":");
        push_str(&mut s, &self.secret);
        s.push_str(",\"receipts\":");
        push_receipts(&mut s, &self.receipts);
        s.push('}');
        s
    }

    /// Reads the storage form (version 1, without a secret, or 2) and verifies it (unanchored:
    /// the log is bounded). Any problem, from a wrong type to a broken link, is an error with
    /// where it is: the index of the first receipt that does not read or verify (0 for a problem
    /// before the receipts, their count for one after them). The caller must not trust such a log.
    pub fn from_doc<D: Doc>(doc: &D) -> Result<EvidenceLog, Broken> {
        use EvidenceError as E;
        let at0 = |reason| Broken { index: 0, reason };
        let keys = doc.keys().ok_or(at0(E::LogNotObject))?;
        if keys.iter().any(|k| !["v", "subject", "delivered", "secret", "receipts"].contains(&k.as_str())) {
            return Err(at0(E::LogUnknownField));
        }
        let version = doc.get("v").and_then(|v| v.int(1, 2)).ok_or(at0(E::LogVersion))?;
        let secret = match (version, doc.get("secret")) {
            (1, None) => String::new(),
            (2, Some(s)) => s.text().filter(|s| s.is_empty() || is_hex(s, 64)).ok_or(at0(E::LogSecret))?,
            _ => return Err(at0(E::LogSecret)),
        };
        let log = EvidenceLog {
            subject: doc.get("subject").and_then(|s| s.text()).ok_or(at0(E::LogSubject))?,
            delivered: doc.get("delivered").and_then(|d| d.int(0, MAX_SEQ as i64)).ok_or(at0(E::LogDelivered))? as u64,
            receipts: receipts_of(doc.get("receipts").and_then(|l| l.items()))?,
            secret,
        };
        let after = |reason| Err(Broken { index: log.receipts.len(), reason });
        let (first_seq, last_seq) = match (log.receipts.first(), log.receipts.last()) {
            (Some(f), Some(l)) => (f.seq, l.seq),
            _ => (1, 0),
        };
        if log.receipts.is_empty() && !log.subject.is_empty() {
            return after(E::LogEmptySubject);
        }
        if log.delivered > last_seq {
            return after(E::LogDeliveredBeyond);
        }
        if log.delivered + 1 < first_seq {
            return after(E::LogMissing);
        }
        let newest_key = log.receipts.last().and_then(|r| r.key.as_deref());
        if newest_key.is_some_and(|k| log.secret.is_empty() || sha256_hex(log.secret.as_bytes()) != k) {
            return after(E::LogSecret);
        }
        log.verify()?;
        Ok(log)
    }

    /// A document for the visitor or an auditor:
    /// `{"format":"consentry-evidence","v":1,"subject":…,"receipts":[…]}` (the secret is not in
    /// it). Read it back with `parse_export`.
    pub fn export_json(&self) -> String {
        let mut s = String::from("{\"format\":\"");
        s.push_str(EXPORT_FORMAT);
        s.push_str("\",\"v\":1,\"subject\":");
        push_str(&mut s, &self.subject);
        s.push_str(",\"receipts\":");
        push_receipts(&mut s, &self.receipts);
        s.push('}');
        s
    }

    /// Verifies the kept receipts as an unanchored chain of this log's subject.
    pub fn verify(&self) -> Result<usize, Broken> {
        match self.receipts.first() {
            Some(f) if f.subject != self.subject => Err(Broken { index: 0, reason: EvidenceError::SubjectChanged }),
            _ => verify_chain(&self.receipts, false),
        }
    }

    /// The receipts not yet acknowledged by the collector, oldest first.
    pub fn outbox(&self) -> &[Receipt] {
        let start = self.receipts.iter().position(|r| r.seq > self.delivered).unwrap_or(self.receipts.len());
        &self.receipts[start..]
    }

    /// The collector has stored every receipt up to `upto_seq`. Never moves backwards or past the
    /// last receipt.
    pub fn acknowledge(&mut self, upto_seq: u64) {
        let last = self.receipts.last().map_or(0, |r| r.seq);
        self.delivered = self.delivered.max(upto_seq.min(last));
        self.prune();
    }

    /// The collector holds other receipts of this subject from `theirs[0].seq` on: another tab
    /// of this browser recorded them in the milliseconds before this log saw its write, so this
    /// log's receipts from that seq on were refused as a fork. Takes `theirs` as delivered and
    /// puts this log's own receipts from that seq on after them, each with its next `seq`, `prev`
    /// and `hash` (id, time and choices unchanged), to be sent again. Refused, the log unchanged,
    /// unless `theirs` verify as one chain of this subject under this log's own key and link to
    /// this log's receipt before them.
    pub fn rebase(&mut self, theirs: Vec<Receipt>) -> Result<(), EvidenceError> {
        use EvidenceError as E;
        verify_chain(&theirs, false).map_err(|b| b.reason)?;
        let (Some(first), Some(last)) = (theirs.first(), theirs.last()) else { return Err(E::Receipts) };
        if first.subject != self.subject {
            return Err(E::SubjectChanged);
        }
        let key = (!self.secret.is_empty()).then(|| sha256_hex(self.secret.as_bytes()));
        if key.is_none() || first.key != key {
            return Err(E::KeyChanged);
        }
        let before = self.receipts.iter().find(|r| r.seq + 1 == first.seq);
        let linked = match before {
            Some(b) => first.prev == b.hash,
            None => first.seq == 1 && first.prev == ZERO_HASH,
        };
        if !linked || self.receipts.last().is_none_or(|r| r.seq < first.seq) {
            return Err(E::PrevMismatch);
        }
        let (from, delivered) = (first.seq, last.seq);
        // This log's own from that seq on, newest first; then theirs; then its own again, oldest first.
        let mut mine = Vec::new();
        while let Some(r) = self.receipts.pop_if(|r| r.seq >= from) {
            mine.push(r);
        }
        let mut theirs = theirs;
        theirs.reverse();
        while let Some(r) = theirs.pop() {
            self.receipts.push(r);
        }
        while let Some(r) = mine.pop() {
            self.push_rechained(r);
        }
        self.delivered = delivered;
        self.prune();
        Ok(())
    }

    /// Puts the receipts `before` (this tab's log until another tab's write replaced it) had not
    /// delivered and this log lacks after this log's last, re-chained as `rebase` does: what a tab
    /// recorded survives another tab's write of a log that missed it. Only for the same subject
    /// under the same secret (a log another tab cleared or replaced with a new subject is not
    /// brought back).
    pub fn keep_unsent(&mut self, before: &EvidenceLog) {
        if before.subject != self.subject || before.secret != self.secret {
            return;
        }
        for r in before.outbox() {
            self.push_rechained(r.clone());
        }
    }

    /// Appends `r` with its next `seq`, `prev` and `hash`, unless this log has its id already.
    fn push_rechained(&mut self, mut r: Receipt) {
        if self.receipts.iter().any(|t| t.id == r.id) {
            return;
        }
        if let Some(p) = self.receipts.last() {
            r.seq = p.seq + 1;
            r.prev = p.hash.clone();
        }
        r.hash = r.compute_hash();
        self.receipts.push(r);
    }

    /// `rebase` with the collector's answer to a fork: `{"receipts":[…], …}`.
    pub fn rebase_on<D: Doc>(&mut self, answer: &D) -> Result<(), EvidenceError> {
        self.rebase(receipts_of(answer.get("receipts").and_then(|l| l.items())).map_err(|b| b.reason)?)
    }

    /// For sites without an evidence endpoint: nothing will ever be delivered, so the log is
    /// bounded by `MAX_KEPT` alone.
    pub fn mark_all_delivered(&mut self) {
        self.acknowledge(u64::MAX);
    }
}

/// The receipts of an array, or the index of the first one that does not read, and why.
fn receipts_of<D: Doc>(list: Option<Vec<D>>) -> Result<Vec<Receipt>, Broken> {
    let list = list.ok_or(Broken { index: 0, reason: EvidenceError::Receipts })?;
    let mut out = Vec::with_capacity(list.len());
    for (index, item) in list.iter().enumerate() {
        out.push(Receipt::from_doc(item).map_err(|reason| Broken { index, reason })?);
    }
    Ok(out)
}

/// Receipts as a JSON array, oldest first: what the shell sends the collector.
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
pub fn read_document<D: Doc>(doc: &D) -> Result<Vec<Receipt>, EvidenceError> {
    use EvidenceError as E;
    if let Some(items) = doc.items() {
        return receipts_of(Some(items)).map_err(|b| b.reason);
    }
    let keys = doc.keys().ok_or(E::NotObject)?;
    let has = |k: &str| keys.iter().any(|x| x == k);
    let allowed: &[&str] = if has("format") {
        if doc.get("format").and_then(|f| f.text()).as_deref() != Some(EXPORT_FORMAT) {
            return Err(E::Format);
        }
        &["format", "v", "subject", "receipts"]
    } else if has("delivered") {
        // The storage form: its own reader checks the log's fields too.
        return EvidenceLog::from_doc(doc).map(|l| l.receipts).map_err(|b| b.reason);
    } else {
        return Ok(vec![Receipt::from_doc(doc)?]);
    };
    if keys.iter().any(|k| !allowed.contains(&k.as_str())) {
        return Err(E::DocumentUnknownField);
    }
    if doc.get("v").and_then(|v| v.int(1, 1)).is_none() {
        return Err(E::LogVersion);
    }
    let subject = doc.get("subject").and_then(|s| s.text()).ok_or(E::LogSubject)?;
    let receipts = receipts_of(doc.get("receipts").and_then(|l| l.items())).map_err(|b| b.reason)?;
    if receipts.iter().any(|r| r.subject != subject) {
        return Err(E::DocumentSubject);
    }
    Ok(receipts)
}

/// `read_document` on JSON text (natively: the collector, `xtask verify`).
#[cfg(not(target_arch = "wasm32"))]
pub fn parse_export(s: &str) -> Result<Vec<Receipt>, EvidenceError> {
    let doc = crate::core::doc::parse(s).map_err(|_| EvidenceError::NotJson)?;
    read_document(&&doc)
}

/// Natively a receipt also reads through serde (`serde_json::from_str::<Receipt>`), by the same
/// strict reader as everywhere else.
#[cfg(not(target_arch = "wasm32"))]
impl<'de> serde::Deserialize<'de> for Receipt {
    fn deserialize<De: serde::Deserializer<'de>>(d: De) -> Result<Self, De::Error> {
        let v = serde_json::Value::deserialize(d)?;
        Receipt::from_doc(&&v).map_err(|e| serde::de::Error::custom(e.as_str()))
    }
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
            texts: sha256_hex(b"texts"),
            choices: choices.iter().map(|(k, v)| (String::from(*k), *v)).collect(),
            method,
            gpc: false,
        }
    }

    fn random(n: u8) -> [u8; 64] {
        [n; 64]
    }

    /// A log with `n` receipts, nothing delivered.
    fn log_of(n: usize) -> EvidenceLog {
        let mut log = EvidenceLog::new();
        for i in 0..n {
            let m = if i % 2 == 0 { Method::AcceptAll } else { Method::Withdraw };
            log.append(draft(1_795_393_892_123 + i as i64, &[("necessary", true), ("analytics", i % 2 == 0)], m), &random(i as u8));
        }
        log
    }

    fn read(text: &str) -> Result<EvidenceLog, Broken> {
        let v: serde_json::Value = serde_json::from_str(text).unwrap();
        EvidenceLog::from_doc(&&v)
    }

    #[test]
    fn a_fork_is_rebased_on_the_collectors_receipts() {
        let t = 1_795_400_000_000;
        let mut a = log_of(2);
        a.acknowledge(2);
        // Two tabs with the same log: each records a decision without seeing the other's.
        let mut b = read(&a.to_json()).unwrap();
        a.append(draft(t, &[("necessary", true), ("analytics", true)], Method::AcceptAll), &random(10));
        a.acknowledge(3);
        b.append(draft(t + 1, &[("necessary", true), ("analytics", false)], Method::RejectAll), &random(11));
        b.append(draft(t + 2, &[("necessary", true), ("analytics", true)], Method::Custom), &random(12));
        let mine: Vec<Receipt> = b.receipts()[2..].to_vec();
        let theirs = a.receipts()[2..].to_vec();
        // Answers that do not check out leave the log as it was.
        let unchanged = b.to_json();
        let mut tampered = theirs.clone();
        tampered[0].choices[0].1 = false;
        let mut stranger = EvidenceLog::new();
        for i in 0..3 {
            stranger.append(draft(t, &[("necessary", true)], Method::AcceptAll), &random(90 + i));
        }
        let mut skipping = theirs.clone();
        skipping[0].seq = 4;
        skipping[0].hash = skipping[0].compute_hash();
        for bad in [Vec::new(), tampered, stranger.receipts()[2..].to_vec(), skipping] {
            assert!(b.rebase(bad).is_err());
            assert_eq!(b.to_json(), unchanged);
        }
        b.rebase(theirs.clone()).unwrap();
        assert_eq!(b.verify(), Ok(5));
        assert_eq!(b.receipts()[2], theirs[0], "the collector's receipt keeps its place");
        for (i, r) in b.receipts()[3..].iter().enumerate() {
            // Same decision, same id and time, next place in the chain.
            assert_eq!((&r.id, &r.time, &r.choices, r.method), (&mine[i].id, &mine[i].time, &mine[i].choices, mine[i].method));
            assert_eq!(r.seq, 4 + i as u64);
        }
        assert_eq!(b.outbox().iter().map(|r| r.seq).collect::<Vec<_>>(), vec![4, 5], "only its own go again");
        assert!(read(&b.to_json()).is_ok(), "the rebased log is stored and read back");
    }

    #[test]
    fn appended_receipts_chain_and_verify() {
        let log = log_of(3);
        assert_eq!(log.verify(), Ok(3));
        let r = &log.receipts()[0];
        assert_eq!((r.v, r.seq, r.prev.as_str()), (2, 1, ZERO_HASH));
        assert_eq!(r.path, "/checkout");
        assert_eq!(r.choices[0].0, "analytics", "sorted");
        assert_eq!(log.receipts()[1].prev, r.hash);
        assert_eq!(log.receipts()[2].subject, r.subject, "one subject: the first random bytes");
        assert_eq!(r.key.as_deref(), Some(sha256_hex(log.secret().as_bytes()).as_str()));
        assert!(log.receipts().iter().all(|x| x.key == r.key), "one key per subject");
    }

    #[test]
    fn v2_canonical_bytes_are_jcs() {
        let log = log_of(2);
        for r in log.receipts() {
            let canonical = r.canonical();
            let parsed: serde_json::Value = serde_json::from_str(&canonical).unwrap();
            assert_eq!(serde_jcs::to_string(&parsed).unwrap(), canonical);
            assert!(parsed.get("hash").is_none());
            let stored: serde_json::Value = serde_json::from_str(&r.to_json()).unwrap();
            assert_eq!(stored["hash"], r.hash.as_str());
        }
    }

    #[test]
    fn the_storage_form_round_trips_and_any_change_is_caught() {
        let log = log_of(4);
        let text = log.to_json();
        let back = read(&text).unwrap();
        assert_eq!(back.receipts(), log.receipts());
        assert_eq!(back.secret(), log.secret());
        // Any edit of a receipt breaks the chain at that receipt.
        let tampered = text.replacen("\"analytics\":false", "\"analytics\":true", 1);
        assert_ne!(tampered, text);
        let b = read(&tampered).err().unwrap();
        assert_eq!((b.index, b.reason), (1, EvidenceError::HashMismatch));
        // A secret that does not match the receipts' key is refused.
        let other = text.replace(log.secret(), &"a".repeat(64));
        assert_eq!(read(&other).err().unwrap().reason, EvidenceError::LogSecret);
        // Unknown fields anywhere are refused.
        let extra = text.replacen("\"method\"", "\"x\":1,\"method\"", 1);
        assert_eq!(read(&extra).err().unwrap().reason, EvidenceError::UnknownField);
        assert_eq!(read("{\"v\":3}").err().unwrap().reason, EvidenceError::LogVersion);
        assert_eq!(read("[]").err().unwrap().reason, EvidenceError::LogNotObject);
    }

    #[test]
    fn a_version_1_log_is_read_and_continued_in_version_2() {
        let v1 = r#"{"v":1,"subject":"c0ffee00c0ffee00c0ffee00c0ffee00","delivered":0,"receipts":[{"v":1,"id":"00112233445566778899aabbccddeeff","subject":"c0ffee00c0ffee00c0ffee00c0ffee00","seq":1,"time":"2026-11-23T09:15:02.250Z","origin":"https://shop.example","path":"/de/über-uns","policy":"2026-11 \"B\"\\1","lang":"de","texts":"3d0d4cb3f0146288497993446d5a26bdd2d2441b73fa1e39620468e14b09de91","choices":{"analytics":true,"marketing":true,"necessary":true},"method":"accept_all","gpc":false,"prev":"0000000000000000000000000000000000000000000000000000000000000000","hash":"13cda34de24dc9123920c3f42c5a73157ad2f0492af2970d1629ca45faa577a3"}]}"#;
        let mut log = read(v1).unwrap();
        assert_eq!(log.secret(), "");
        log.append(draft(1_795_393_892_123, &[("necessary", true)], Method::Withdraw), &random(7));
        assert_eq!(log.verify(), Ok(2));
        let r = &log.receipts()[1];
        assert_eq!((r.v, r.seq, r.subject.as_str()), (2, 2, "c0ffee00c0ffee00c0ffee00c0ffee00"));
        let again = read(&log.to_json()).unwrap();
        assert_eq!(again.receipts().len(), 2);
        // Back from 2 to 1 is refused.
        let mut back = again.receipts().to_vec();
        back.swap(0, 1);
        assert!(verify_chain(&back, false).is_err());
    }

    #[test]
    fn undelivered_receipts_are_never_pruned() {
        let mut log = log_of(MAX_KEPT + 10);
        assert_eq!(log.receipts().len(), MAX_KEPT + 10, "nothing delivered: everything kept");
        assert_eq!(log.outbox().len(), MAX_KEPT + 10);
        log.acknowledge(5);
        assert_eq!(log.receipts().len(), MAX_KEPT + 5);
        assert_eq!(log.outbox().first().map(|r| r.seq), Some(6));
        log.acknowledge(1); // never backwards
        assert_eq!(log.outbox().first().map(|r| r.seq), Some(6));
        log.mark_all_delivered();
        assert_eq!(log.receipts().len(), MAX_KEPT);
        assert!(log.outbox().is_empty());
        let back = read(&log.to_json()).unwrap();
        assert_eq!(back.verify(), Ok(MAX_KEPT), "a pruned log verifies unanchored");
        assert!(verify_chain(back.receipts(), true).is_err(), "but not anchored");
    }

    #[test]
    fn documents_of_every_form_are_read() {
        let log = log_of(2);
        for text in [log.export_json(), log.to_json(), receipts_json(log.receipts())] {
            assert_eq!(parse_export(&text).unwrap(), log.receipts());
        }
        assert_eq!(parse_export(&log.receipts()[0].to_json()).unwrap().len(), 1);
        let wrong = log.export_json().replace("consentry-evidence", "other");
        assert_eq!(parse_export(&wrong), Err(EvidenceError::Format));
        assert_eq!(parse_export("{"), Err(EvidenceError::NotJson));
        let r: Receipt = serde_json::from_str(&log.receipts()[1].to_json()).unwrap();
        assert_eq!(&r, &log.receipts()[1]);
        assert!(serde_json::from_str::<Receipt>("{\"v\":2}").is_err());
    }

    #[test]
    fn shapes_are_checked_field_by_field() {
        let good = log_of(1).receipts()[0].clone();
        let bad = |f: &dyn Fn(&mut Receipt)| {
            let mut r = good.clone();
            f(&mut r);
            r.validate().err()
        };
        assert_eq!(bad(&|r| r.id.push('0')), Some(EvidenceError::Id));
        assert_eq!(bad(&|r| r.seq = 0), Some(EvidenceError::Seq));
        assert_eq!(bad(&|r| r.time = String::from("yesterday")), Some(EvidenceError::Time));
        assert_eq!(bad(&|r| r.path = String::from("/a?b")), Some(EvidenceError::Path));
        assert_eq!(bad(&|r| r.key = None), Some(EvidenceError::Key));
        assert_eq!(bad(&|r| r.choices.push((String::from("UPPER"), true))), Some(EvidenceError::Choices));
        assert_eq!(bad(&|r| r.choices.push((String::from("necessary"), true))), Some(EvidenceError::DuplicateChoice));
        assert_eq!(bad(&|_| {}), None);
    }

    #[test]
    fn serialised_for_javascript_as_plain_fields() {
        let log = log_of(1);
        let r = &log.receipts()[0];
        let v = serde_json::to_value(r).unwrap();
        assert_eq!(v["choices"]["analytics"], true);
        assert_eq!(v["method"], "accept_all");
        assert_eq!(v["seq"], 1); // a whole number natively, a JavaScript number in the browser
        assert_eq!(v["key"], r.key.as_deref().unwrap());
    }
}
