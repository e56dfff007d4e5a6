//! A parsed JSON document, as the core reads the config, the stored evidence log, a language
//! table and a caller's choices or event properties.
//!
//! Owns: the one small interface every reader in the core is written against, so that one
//! reader (with its field paths and error words) serves both sides: in the browser the document
//! is the JavaScript value itself (`JSON.parse`d text or the caller's object, read through
//! `js_sys::Reflect` in `web::doc`, so the `.wasm` carries no JSON parser and no serde
//! deserialiser), natively it is a `serde_json::Value`. Must never: treat `null` as a value
//! (an absent member and `null` are the same), or an array as an object.

/// A JSON-like value the core can read.
pub trait Doc: Sized {
    /// The member `key` of an object; None when this is not an object, has no such member, or
    /// the member is `null`.
    fn get(&self, key: &str) -> Option<Self>;
    /// The keys of an object, in their order; None when this is not an object (an array is not).
    fn keys(&self) -> Option<Vec<String>>;
    /// The members of an object with their values (members that are `null` left out), in their
    /// order; None when this is not an object. Unlike `keys` + `get`, a key that is not
    /// well-formed Unicode (a lone UTF-16 surrogate, replaced by U+FFFD in its text) keeps its
    /// value.
    fn entries(&self) -> Option<Vec<(String, Self)>> {
        let keys = self.keys()?;
        Some(keys.into_iter().filter_map(|k| self.get(&k).map(|v| (k, v))).collect())
    }
    /// The items of an array; None when this is not an array.
    fn items(&self) -> Option<Vec<Self>>;
    /// A string's text.
    fn text(&self) -> Option<String>;
    fn flag(&self) -> Option<bool>;
    fn number(&self) -> Option<f64>;
    /// Whether this is `null` (or JavaScript's `undefined`).
    fn is_null(&self) -> bool;

    /// A whole number from `min` to `max`.
    fn int(&self, min: i64, max: i64) -> Option<i64> {
        let n = self.number()?;
        (n.fract() == 0.0 && n >= min as f64 && n <= max as f64).then_some(n as i64)
    }
}

#[cfg(not(target_arch = "wasm32"))]
impl Doc for &serde_json::Value {
    fn get(&self, key: &str) -> Option<Self> {
        self.as_object()?.get(key).filter(|v| !v.is_null())
    }
    fn keys(&self) -> Option<Vec<String>> {
        Some(self.as_object()?.keys().cloned().collect())
    }
    fn items(&self) -> Option<Vec<Self>> {
        Some(self.as_array()?.iter().collect())
    }
    fn text(&self) -> Option<String> {
        self.as_str().map(String::from)
    }
    fn flag(&self) -> Option<bool> {
        self.as_bool()
    }
    fn number(&self) -> Option<f64> {
        self.as_f64()
    }
    fn is_null(&self) -> bool {
        serde_json::Value::is_null(self)
    }
}

/// Parses JSON text natively (the collector, the verifier, tests). serde_json keeps the order
/// of keys only with its `preserve_order` feature; no reader here depends on that order.
#[cfg(not(target_arch = "wasm32"))]
pub fn parse(text: &str) -> Result<serde_json::Value, serde_json::Error> {
    serde_json::from_str(text)
}
