//! Consent receipts, their canonical bytes, the per-subject hash chain, and the visitor's log. STUB.
use crate::core::json::Value;

/// How a decision was made.
#[derive(Clone, Copy, PartialEq)]
#[cfg_attr(test, derive(Debug))]
pub enum Method { AcceptAll, RejectAll, Custom, Withdraw, Gpc, Api, Expired, PolicyChanged, Reset }

impl Method {
    pub fn as_str(self) -> &'static str { "" }
    pub fn parse(_s: &str) -> Option<Method> { None }
}

/// What the shell knows when a decision is made; `EvidenceLog::append` turns it into a receipt.
pub struct ReceiptDraft {
    pub time_ms: i64,
    pub origin: String,
    pub path: String,
    pub policy: String,
    pub lang: String,
    pub texts: String,
    pub choices: Vec<(String, bool)>,
    pub method: Method,
    pub gpc: bool,
}

#[derive(Clone, PartialEq)]
#[cfg_attr(test, derive(Debug))]
pub struct Receipt {
    pub v: i64, pub id: String, pub subject: String, pub seq: i64, pub time: String, pub origin: String,
    pub path: String, pub policy: String, pub lang: String, pub texts: String, pub choices: Vec<(String, bool)>,
    pub method: Method, pub gpc: bool, pub prev: String, pub hash: String,
}

#[cfg_attr(test, derive(Debug))]
pub struct Broken { pub index: usize, pub reason: &'static str }

impl Receipt {
    pub fn canonical(&self) -> String { String::new() }
    pub fn compute_hash(&self) -> String { String::new() }
    pub fn to_value(&self) -> Value { Value::Null }
    pub fn to_json(&self) -> String { String::new() }
    pub fn from_value(_v: &Value) -> Result<Receipt, &'static str> { Err("stub") }
}

pub fn verify_chain(_r: &[Receipt], _anchored: bool) -> Result<usize, Broken> { Ok(0) }

#[derive(Default)]
pub struct EvidenceLog { pub subject: String, pub receipts: Vec<Receipt>, pub delivered: i64 }

impl EvidenceLog {
    pub fn new() -> Self { Self::default() }
    pub fn last(&self) -> Option<&Receipt> { self.receipts.last() }
    pub fn append(&mut self, _d: ReceiptDraft, _id: [u8; 16], _subject: [u8; 16]) {}
    pub fn to_json(&self) -> String { String::new() }
    pub fn from_json(_s: &str) -> Result<EvidenceLog, &'static str> { Err("stub") }
    pub fn export_json(&self) -> String { String::new() }
    pub fn verify(&self) -> Result<usize, Broken> { Ok(0) }
    pub fn outbox(&self) -> &[Receipt] { &[] }
    pub fn acknowledge(&mut self, _upto_seq: i64) {}
}
