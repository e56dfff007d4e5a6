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

use super::dom::{self, s, U};
use wasm_bindgen::JsValue;

/// `localStorage`, or `Err` when it is blocked (reading it can throw).
fn local() -> Result<JsValue, JsValue> {
    let l = dom::try_get(&dom::window(), "localStorage")?;
    if l.is_object() {
        Ok(l)
    } else {
        Err(U)
    }
}

pub fn read(key: &str) -> Option<String> {
    dom::call(&local().ok()?, "getItem", &s(key), &U).ok()?.as_string()
}

/// Writes, and says whether the write reached storage.
pub fn write(key: &str, value: &str) -> bool {
    local().and_then(|l| dom::call(&l, "setItem", &s(key), &s(value))).is_ok()
}

pub fn remove(key: &str) {
    if let Ok(l) = local() {
        let _ = dom::call(&l, "removeItem", &s(key), &U);
    }
}
