//! Small DOM helpers for the shell: build elements with text (never HTML) and attributes.
#[allow(unused_imports)]
use crate::prelude::*;
use wasm_bindgen::prelude::Closure;
use wasm_bindgen::{JsCast, JsValue, UnwrapThrowExt};
use web_sys::{Document, Element, Node, Window};

pub fn window() -> Window {
    web_sys::window().unwrap_throw()
}

pub fn document() -> Document {
    window().document().unwrap_throw()
}

/// Appends a new `tag` element to `parent`, with attributes and text content (set as text,
/// never parsed as HTML, so config texts cannot inject markup).
pub fn el(parent: &Node, tag: &str, attrs: &[(&str, &str)], text: &str) -> Element {
    let e = document().create_element(tag).unwrap_throw();
    for (k, v) in attrs {
        let _ = e.set_attribute(k, v);
    }
    if !text.is_empty() {
        // Each text takes its direction from its own words: an English fallback on an RTL page
        // reads left to right inside the mirrored layout, an Arabic override right to left.
        let _ = e.set_attribute("dir", "auto");
        e.set_text_content(Some(text));
    }
    let _ = parent.append_child(&e);
    e
}

pub fn html(e: &Element) -> &web_sys::HtmlElement {
    e.unchecked_ref()
}

/// A property of a JS object, or `undefined`.
pub fn get(target: &JsValue, key: &str) -> JsValue {
    js_sys::Reflect::get(target, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

/// `count` random bytes from the browser's CSPRNG.
pub fn random<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    if let Some(c) = window().crypto().ok() {
        let _ = c.get_random_values_with_u8_array(&mut b);
    }
    b
}

pub fn now_ms() -> i64 {
    js_sys::Date::now() as i64
}

pub fn console_error(msg: &str) {
    web_sys::console::error_1(&JsValue::from_str(msg));
}

/// The one closure type the shell hands to JS (every distinct type costs its own glue): up to
/// three arguments, a return value, and an exception when it returns `Err`.
pub type Callback = dyn Fn(JsValue, JsValue, JsValue) -> Result<JsValue, JsValue>;

/// A JS function calling `f` (freed when JS lets go of it).
pub fn func(f: alloc::boxed::Box<Callback>) -> JsValue {
    Closure::wrap(f).into_js_value()
}

/// A JS function calling `f` with its first argument (the event, for listeners).
pub fn listener(f: fn(JsValue)) -> JsValue {
    func(alloc::boxed::Box::new(move |a, _, _| {
        f(a);
        Ok(JsValue::UNDEFINED)
    }))
}

/// `promise.then(f, f)`: `f` gets the result or the rejection reason.
pub fn then(promise: &JsValue, f: &JsValue) {
    if let Ok(then) = get(promise, "then").dyn_into::<js_sys::Function>() {
        let _ = then.call2(promise, f, f);
    }
}
