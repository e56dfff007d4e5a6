//! The page's events the shell follows, as gloo listeners kept for the page's life: another tab
//! wrote the record (`storage`), the page is hidden or restored (`visibilitychange`, `pagehide`,
//! `pageshow`), a page link asks for the preferences (`data-consentry="preferences"`), the
//! banner's own controls (`click` in its shadow root) and dialog (`close`), and, once the tracker
//! has run, navigations inside the page (the Navigation API, or `popstate`) and resizes.
//!
//! Every listener is the one function `on_event`, which dispatches on the event's type: one
//! closure type for all of them, so the `.wasm` carries one copy of gloo's listener code. Must
//! never: decide anything (each case calls the controller), or stop the page's own handlers (only
//! a preferences link's default is prevented).
use crate::web::dom::{document, page_hidden, prop, prop_text};
use crate::web::page;
use crate::web::store::KEY;
use gloo_events::{EventListener, EventListenerOptions};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{Element, Event, EventTarget};

fn on_event(e: &Event) {
    match prop_text(e, "type").as_str() {
        "storage" => {
            // A clear() has no key: like a removal of ours.
            let key = prop(e, "key");
            if key.is_null() || key == KEY {
                page::reread();
            }
        }
        "pageshow" if prop(e, "persisted") == true => page::restored(),
        "pagehide" => page::hidden(true),
        "visibilitychange" if page_hidden() => page::hidden(false),
        "popstate" | "currententrychange" => page::navigated(),
        "resize" => page::resized(),
        "close" => page::dialog_closed(),
        "click" => {
            // A click's target is an element (a non-element has no closest(): Err).
            let target = crate::web::dom::obj::<Element>(e, "target");
            let find = |selector: &str| target.as_ref().and_then(|t| t.closest(selector).ok().flatten());
            if prop(e, "currentTarget") == JsValue::from(document()) {
                // On the page: `<a href="#" data-consentry="preferences">Privacy choices</a>`.
                if find("[data-consentry=preferences]").is_some() {
                    e.prevent_default();
                    page::show_preferences();
                }
            } else if let Some(action) = find("[data-a]").and_then(|b| b.get_attribute("data-a")) {
                page::action(&action, e); // in the banner's shadow root
            }
        }
        _ => {}
    }
}

/// Listens for `kind` on `target` for the page's life (the listener is kept by the caller).
/// With the default options spelled out: `EventListener::new` keeps them in a `thread_local!`,
/// whose access checks bring panic formatting into the `.wasm`.
pub fn on(target: &EventTarget, kind: &'static str) -> EventListener {
    EventListener::new_with_options(target, kind, EventListenerOptions::default(), on_event)
}

pub fn listen() -> Vec<EventListener> {
    let Some(w) = crate::web::dom::window() else { return Vec::new() };
    let d = document();
    vec![on(&w, "storage"), on(&w, "pageshow"), on(&w, "pagehide"), on(&d, "visibilitychange"), on(&d, "click")]
}

/// Navigations inside the page: the Navigation API's `currententrychange` (fired for
/// `history.pushState`, `replaceState` and traversals; Baseline since 2026) where the browser has
/// it, `popstate` (traversals only) where it does not; and `resize`.
pub fn hook_history() -> Vec<EventListener> {
    let Some(w) = crate::web::dom::window() else { return Vec::new() };
    let navigation = prop(&w, "navigation");
    let entries = if navigation.is_object() { on(navigation.unchecked_ref(), "currententrychange") } else { on(&w, "popstate") };
    vec![entries, on(&w, "resize")]
}
