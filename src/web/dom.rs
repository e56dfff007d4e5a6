//! The small element helper every view function uses (after wasm-bindgen's todomvc `element.rs`).
//! Must never put text into HTML: texts go in with `textContent`, attributes as attributes.
use js_sys::{Function, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{Document, Element, Node, Window};

/// A property of a JavaScript object (`undefined` when it cannot be read). The shell reads plain
/// properties this way rather than through one web-sys binding each: every distinct binding is a
/// function in the JavaScript glue and an import of the `.wasm`, for every visitor.
pub fn prop(o: &JsValue, key: &str) -> JsValue {
    Reflect::get(o, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

/// Sets a property (a setter that throws is ignored).
pub fn set_prop(o: &JsValue, key: &str, v: &JsValue) {
    let _ = Reflect::set(o, &JsValue::from_str(key), v);
}

/// A property that is an object (not null), as `T`.
pub fn obj<T: JsCast>(o: &JsValue, key: &str) -> Option<T> {
    let v = prop(o, key);
    v.is_object().then(|| v.unchecked_into())
}

/// Whether a property is `true`.
pub fn is_true(o: &JsValue, key: &str) -> bool {
    prop(o, key) == JsValue::TRUE
}

/// The elements under `root` (a document, shadow root or element) that match `selector`, in
/// document order. One binding serves every kind of root (`querySelectorAll` is called by
/// name), and the list is read by index like an array.
pub fn all(root: &JsValue, selector: &str) -> Vec<Element> {
    let mut out = Vec::new();
    if let Ok(list) = root.unchecked_ref::<Element>().query_selector_all(selector) {
        let list = list.unchecked_into::<js_sys::Array>();
        let mut i = 0;
        while i < list.length() {
            out.push(list.get(i).unchecked_into());
            i += 1;
        }
    }
    out
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

#[wasm_bindgen::prelude::wasm_bindgen]
extern "C" {
    /// `window`, where there is one (a worker has none).
    #[wasm_bindgen(thread_local_v2, js_name = window)]
    static WINDOW: Option<Window>;
}

/// The page's window. One binding of the global `window` (rather than `web_sys::window()`,
/// which looks for the global object four ways and checks its class: five more functions in
/// the JavaScript glue).
pub fn window() -> Option<Window> {
    WINDOW.with(Option::clone)
}

pub fn document() -> Document {
    // The shell only starts in a window with a document (see `api::start`).
    window().and_then(|w| obj(&w, "document")).unwrap_or_else(|| wasm_bindgen::throw_str("Consentry: no document"))
}

/// A new element from `spec`, `"tag|name=value|…"` (the banner's own markup: no value holds a
/// `|`), appended to `parent`; an SVG element with `svg`. Specs are strings rather than lists of
/// pairs: the markup is data in the `.wasm`, not code at every call site.
fn make(parent: &Node, spec: &str, svg: bool) -> Element {
    let (tag, mut rest) = crate::core::cut(spec, b'|').unwrap_or((spec, ""));
    let d = document();
    let made = if svg { d.create_element_ns(Some("http://www.w3.org/2000/svg"), tag) } else { d.create_element(tag) };
    let e = made.unwrap_or_else(|_| wasm_bindgen::throw_str("Consentry: createElement"));
    while !rest.is_empty() {
        let (pair, more) = crate::core::cut(rest, b'|').unwrap_or((rest, ""));
        if let Some((k, v)) = crate::core::cut(pair, b'=') {
            let _ = e.set_attribute(k, v);
        }
        rest = more;
    }
    let _ = parent.append_child(&e);
    e
}

/// An HTML element from `spec` (see `make`); a non-empty `text` is its text content, and it takes
/// its own direction (an English fallback reads right inside a right-to-left page).
pub fn el(parent: &Node, spec: &str, text: &str) -> Element {
    let e = make(parent, spec, false);
    if !text.is_empty() {
        let _ = e.set_attribute("dir", "auto");
        e.set_text_content(Some(text));
    }
    e
}

/// `e` with more attributes (the ones whose values are not the banner's own constants).
pub fn with_attrs(e: Element, attrs: &[(&str, &str)]) -> Element {
    for (k, v) in attrs {
        let _ = e.set_attribute(k, v);
    }
    e
}

/// An SVG element from `spec` (see `make`).
pub fn svg(parent: &Node, spec: &str) -> Element {
    make(parent, spec, true)
}

/// Focuses `e` if it is an HTML element that is still in the document.
pub fn focus(e: &Element) {
    if is_true(e, "isConnected") {
        // HTML and SVG elements both have focus(); the shell only focuses its own controls and
        // the page's opener of the dialog.
        let _ = e.unchecked_ref::<web_sys::HtmlElement>().focus();
    }
}
