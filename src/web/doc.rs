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
        if !self.is_object() || Array::is_array(self) || self.is_function() {
            return None;
        }
        let keys = Object::keys::<JsValue>(self.unchecked_ref());
        let mut out = Vec::with_capacity(keys.length() as usize);
        for i in 0..keys.length() {
            out.extend(keys.get(i).as_string());
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
