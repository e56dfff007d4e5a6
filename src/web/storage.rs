//! localStorage with a memory fallback: the visitor's own consent record (strictly necessary).
//!
//! Owns: reading and writing the `consentry` key. Writes nothing until the visitor (or their GPC
//! signal) has made a choice. When storage is blocked or full, the record lives in memory for
//! this page only and the banner asks again on the next page: never tracks without a stored choice.
#[allow(unused_imports)]
use crate::prelude::*;
/// The evidence log, whose newest receipt is the current decision.
pub const KEY: &str = "consentry";
/// A log that failed verification, kept aside for inspection.
pub const QUARANTINE: &str = "consentry:quarantine";

fn local() -> Option<web_sys::Storage> {
    super::dom::window().local_storage().ok().flatten()
}

pub fn read(key: &str) -> Option<String> {
    local()?.get_item(key).ok().flatten()
}

/// Writes, and says whether the write reached storage.
pub fn write(key: &str, value: &str) -> bool {
    local().map(|s| s.set_item(key, value).is_ok()).unwrap_or(false)
}

pub fn remove(key: &str) {
    if let Some(s) = local() {
        let _ = s.remove_item(key);
    }
}

