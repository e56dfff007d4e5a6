//! The small element helper every view function uses (after wasm-bindgen's todomvc `element.rs`).
//! Must never put text into HTML: texts go in with `textContent`, attributes as attributes.
use wasm_bindgen::JsCast;
use web_sys::{Document, Element, Node};

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
        if let Some(h) = e.dyn_ref::<web_sys::HtmlElement>() {
            let _ = h.focus();
        }
    }
}
