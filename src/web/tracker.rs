//! The first-party tracker's browser side. STUB: being written.
use wasm_bindgen::JsValue;

/// `Consentry.capture(name, props)`: dropped unless analytics is granted.
pub fn capture(_name: &str, _props: &JsValue) {}

/// The page is being hidden or closed: send what is queued.
pub fn on_page_hide() {}
