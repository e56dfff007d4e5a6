//! The small element helper every view function uses (after wasm-bindgen's todomvc `element.rs`).
//! Must never put text into HTML: texts go in with `textContent`, attributes as attributes.
use js_sys::{Function, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{Document, Element, Node};

/// A property of a JavaScript object (`undefined` when it cannot be read). The shell reads plain
/// properties this way rather than through one web-sys binding each: every distinct binding is a
/// function in the JavaScript glue and an import of the `.wasm`, for every visitor.
pub fn prop(o: &JsValue, key: &str) -> JsValue {
    Reflect::get(o, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

/// A property that is a text ("" otherwise).
pub fn prop_text(o: &JsValue, key: &str) -> String {
    prop(o, key).as_string().unwrap_or_default()
}

/// A property that is a function.
pub fn method(o: &JsValue, key: &str) -> Option<Function> {
    let f = prop(o, key);
    f.is_function().then(|| f.unchecked_into())
}

/// Whether the page is hidden (a background tab, or being unloaded).
pub fn page_hidden() -> bool {
    prop(&document(), "visibilityState") == "hidden"
}

pub fn document() -> Document {
    // The shell only starts in a window with a document (see `api::start`).
    web_sys::window().and_then(|w| w.document()).unwrap_or_else(|| wasm_bindgen::throw_str("Consentry: no document"))
}

/// A new `tag` with `attrs`, appended to `parent`. A non-empty `text` is its text content, and
/// it takes its own direction (an English fallback reads right inside a right-to-left page).
pub fn el(parent: &Node, tag: &str, attrs: &[(&str, &str)], text: &str) -> Element {
    let e = document().create_element(tag).unwrap_or_else(|_| wasm_bindgen::throw_str("Consentry: createElement"));
    for (k, v) in attrs {
        let _ = e.set_attribute(k, v);
    }
    if !text.is_empty() {
        let _ = e.set_attribute("dir", "auto");
        e.set_text_content(Some(text));
    }
    let _ = parent.append_child(&e);
    e
}

/// An SVG element (`tag` with `attrs`) appended to `parent`.
pub fn svg(parent: &Node, tag: &str, attrs: &[(&str, &str)]) -> Element {
    let e = document()
        .create_element_ns(Some("http://www.w3.org/2000/svg"), tag)
        .unwrap_or_else(|_| wasm_bindgen::throw_str("Consentry: createElementNS"));
    for (k, v) in attrs {
        let _ = e.set_attribute(k, v);
    }
    let _ = parent.append_child(&e);
    e
}

/// Focuses `e` if it is an HTML element that is still in the document.
pub fn focus(e: &Element) {
    if e.is_connected() {
        // HTML and SVG elements both have focus(); the shell only focuses its own controls and
        // the page's opener of the dialog.
        let _ = e.unchecked_ref::<web_sys::HtmlElement>().focus();
    }
}
