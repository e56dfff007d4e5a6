//! JavaScript values as the core's `Doc`: the config object, a parsed stored log or language
//! table, a caller's choices or event properties, read through `js_sys::Reflect`.
//!
//! Why not serde-wasm-bindgen's deserialiser: the core's readers need field paths, unknown-key
//! checks and their own words for every problem, and serde's deserialisers (with their error
//! formatting) cost about 10 KB brotli of `.wasm` more (see ../shared/TOOLCHAIN.md). What goes
//! out to JavaScript is serialised with serde-wasm-bindgen.
use crate::core::doc::Doc;
use js_sys::{Array, Object, Reflect};
use wasm_bindgen::{JsCast, JsValue};

impl Doc for JsValue {
    fn get(&self, key: &str) -> Option<Self> {
        if !self.is_object() {
            return None;
        }
        Reflect::get(self, &JsValue::from_str(key)).ok().filter(|v| !v.is_null() && !v.is_undefined())
    }
    fn keys(&self) -> Option<Vec<String>> {
        let keys = own_keys(self)?;
        let mut out = Vec::with_capacity(keys.length() as usize);
        for i in 0..keys.length() {
            out.extend(keys.get(i).as_string());
        }
        Some(out)
    }
    fn entries(&self) -> Option<Vec<(String, Self)>> {
        let keys = own_keys(self)?;
        let mut out = Vec::with_capacity(keys.length() as usize);
        for i in 0..keys.length() {
            // The value is read with the key as JavaScript has it: its text may differ (U+FFFD).
            let k = keys.get(i);
            if let (Some(name), Ok(v)) = (k.as_string(), Reflect::get(self, &k)) {
                if !v.is_null() && !v.is_undefined() {
                    out.push((name, v));
                }
            }
        }
        Some(out)
    }
    fn items(&self) -> Option<Vec<Self>> {
        let list = self.dyn_ref::<Array>()?;
        let mut out = Vec::with_capacity(list.length() as usize);
        for i in 0..list.length() {
            out.push(list.get(i));
        }
        Some(out)
    }
    fn text(&self) -> Option<String> {
        self.as_string()
    }
    fn flag(&self) -> Option<bool> {
        self.as_bool()
    }
    fn number(&self) -> Option<f64> {
        self.as_f64()
    }
    fn is_null(&self) -> bool {
        JsValue::is_null(self) || self.is_undefined()
    }
}

/// An object's own enumerable keys; None when it is not an object (an array or a function is not).
fn own_keys(v: &JsValue) -> Option<Array> {
    if !v.is_object() || Array::is_array(v) || v.is_function() {
        return None;
    }
    Some(Object::keys::<JsValue>(v.unchecked_ref()))
}
