//! The page's events the controller follows, as gloo listeners kept for the page's life: another
//! tab wrote the record (`storage`), the page is hidden or restored (`visibilitychange`,
//! `pagehide`, `pageshow`), a page link asks for the preferences (`data-consentry="preferences"`),
//! and, once the tracker has run, navigations inside the page (`history.pushState` and
//! `replaceState` wrapped, `popstate`) and resizes. Must never: decide anything (each calls the
//! controller), or stop the page's own handlers (only a preferences link's default is prevented).
use crate::web::page;
use crate::web::store::KEY;
use gloo_events::EventListener;
use js_sys::Reflect;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use crate::web::dom::{method, prop};
use web_sys::Element;

pub fn listen() -> Vec<EventListener> {
    let Some(w) = web_sys::window() else { return Vec::new() };
    let d = crate::web::dom::document();
    vec![
        EventListener::new(&w, "storage", |e| {
            // A clear() has no key: like a removal of ours.
            let key = prop(e, "key");
            if key.is_null() || key == KEY {
                page::reread();
            }
        }),
        EventListener::new(&w, "pageshow", |e| {
            if prop(e, "persisted") == true {
                page::restored();
            }
        }),
        EventListener::new(&w, "pagehide", |_| page::hidden(true)),
        EventListener::new(&d, "visibilitychange", |_| {
            if crate::web::dom::page_hidden() {
                page::hidden(false);
            }
        }),
        EventListener::new(&d, "click", |e| {
            let link = e
                .target()
                .map(|t| t.unchecked_into::<Element>())
                .and_then(|t: Element| t.closest("[data-consentry=preferences]").ok().flatten());
            if link.is_some() {
                e.prevent_default();
                page::show_preferences();
            }
        }),
    ]
}

/// Wraps `history.pushState` and `replaceState` (each then tells the controller) and listens for
/// `popstate` and `resize`.
pub fn hook_history() -> Vec<EventListener> {
    let Some(w) = web_sys::window() else { return Vec::new() };
    if let Ok(history) = w.history() {
        for name in ["pushState", "replaceState"] {
            let Some(orig) = method(&history, name) else { continue };
            let h = history.clone();
            let wrapper =
                Closure::<dyn Fn(JsValue, JsValue, JsValue) -> Result<JsValue, JsValue>>::new(move |a: JsValue, b: JsValue, c: JsValue| {
                    let r = if c.is_undefined() { orig.call2(&h, &a, &b) } else { orig.call3(&h, &a, &b, &c) };
                    page::navigated();
                    r
                });
            let _ = Reflect::set(&history, &name.into(), wrapper.as_ref());
            wrapper.forget(); // the page keeps it for its life
        }
    }
    vec![EventListener::new(&w, "popstate", |_| page::navigated()), EventListener::new(&w, "resize", |_| page::resized())]
}
