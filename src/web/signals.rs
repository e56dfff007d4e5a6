//! What the browser tells us after load: another tab changed the decision (storage event), the
//! page is being hidden or closed, and clicks on the site's own "privacy choices" links.
//!
//! Owns the page-level listeners. Never decides: a change in another tab is re-read from
//! storage, verified, and evaluated by the core like a page load.
#[allow(unused_imports)]
use crate::prelude::*;
use wasm_bindgen::JsValue;

use super::{app, banner, dom, storage, tracker, transport};

pub fn listen() {
    let (w, d) = (dom::window(), dom::document());
    dom::listen(&w, "storage", on_storage);
    dom::listen(&w, "pagehide", on_hide);
    dom::listen(&d, "visibilitychange", on_hide);
    dom::listen(&d, "click", on_click);
}

/// Another tab wrote the consent record: adopt it (or, if it does not verify, fail closed).
fn on_storage(ev: JsValue) {
    // A `clear()` has no key; treat it like a removal of ours.
    if dom::text(&ev, "key").is_some_and(|k| k != storage::KEY) {
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
    if dom::text(&dom::document(), "visibilityState").as_deref() != Some("hidden") {
        return;
    }
    app::with(|app| transport::beacon_evidence(app));
    tracker::on_page_hide();
}

/// `<a href="#" data-consentry="preferences">Privacy choices</a>` anywhere on the page.
fn on_click(ev: JsValue) {
    let hit = dom::run(&dom::get(&ev, "target"), "closest", &dom::s("[data-consentry=preferences]"), &dom::U);
    if hit.is_object() {
        let _ = dom::call(&ev, "preventDefault", &dom::U, &dom::U);
        banner::show_preferences();
    }
}
