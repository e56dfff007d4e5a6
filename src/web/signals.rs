//! What the browser tells us after load: another tab changed the decision (storage event), the
//! page is being hidden or closed, and clicks on the site's own "privacy choices" links.
//!
//! Owns the page-level listeners. Never decides: a change in another tab is re-read from
//! storage, verified, and evaluated by the core like a page load.
#[allow(unused_imports)]
use crate::prelude::*;
use wasm_bindgen::JsValue;
use wasm_bindgen::JsCast;

use super::{app, banner, dom, storage, tracker, transport};

fn listen_on(target: &web_sys::EventTarget, event: &str, f: fn(JsValue)) {
    let _ = target.add_event_listener_with_callback(event, dom::listener(f).unchecked_ref());
}

pub fn listen() {
    let w = dom::window();
    listen_on(&w, "storage", on_storage);
    listen_on(&w, "pagehide", on_hide);
    listen_on(&dom::document(), "visibilitychange", on_hide);
    listen_on(&dom::document(), "click", on_click);
}

/// Another tab wrote the consent record: adopt it (or, if it does not verify, fail closed).
fn on_storage(ev: JsValue) {
    let Some(ev) = ev.dyn_ref::<web_sys::StorageEvent>() else { return };
    // A `clear()` has no key; treat it like a removal of ours.
    if ev.key().is_some_and(|k| k != storage::KEY) {
        return;
    }
    let (log, _) = app::load_log();
    let notice = app::with(|app| {
        app.log = log;
        app.evaluate(false)
    });
    if let Some(Some(n)) = notice {
        n.tell();
    }
}

fn on_hide(_ev: JsValue) {
    if dom::document().visibility_state() != web_sys::VisibilityState::Hidden {
        return;
    }
    app::with(|app| transport::beacon_evidence(app));
    tracker::on_page_hide();
}

/// `<a href="#" data-consentry="preferences">Privacy choices</a>` anywhere on the page.
fn on_click(ev: JsValue) {
    let ev: web_sys::Event = ev.unchecked_into();
    let Some(t) = ev.target().and_then(|t| t.dyn_into::<web_sys::Element>().ok()) else { return };
    if let Ok(Some(_)) = t.closest("[data-consentry=preferences]") {
        ev.prevent_default();
        banner::show_preferences();
    }
}
