//! The JavaScript API: what `window.Consentry` and the npm package's `init()` result offer.
//!
//! Owns the exported names and the checking of what callers pass in. Every function is safe to
//! call before `init` or after a failed init: it then does nothing (fails closed) and says so.
#[allow(unused_imports)]
use crate::prelude::*;
use wasm_bindgen::prelude::*;

use super::{app, banner, dom, tracker};
use crate::core::evidence::Method;
use crate::core::json;

/// Starts Consentry with the config document (JSON text) and English texts. Throws an `Error`
/// naming the field when the config is invalid; nothing else happens then: no banner, no cookie,
/// no request. Not exported: both loaders call `initWithTexts`; the browser tests call this.
pub fn init(config: &str) -> Result<(), JsValue> {
    app::start(config)
}

fn not_started() {
    dom::console_error("Consentry: not started (missing or invalid config); nothing was done.");
}

#[wasm_bindgen(js_name = showBanner)]
pub fn show_banner() {
    if app::with(|app| app.ui(|ui, app| ui.show_banner(app, false))).is_none() {
        not_started();
    }
}

#[wasm_bindgen(js_name = showPreferences)]
pub fn show_preferences() {
    if !app::started() {
        return not_started();
    }
    banner::show_preferences();
}

#[wasm_bindgen(js_name = acceptAll)]
pub fn accept_all() {
    app::decide_all(true);
}

#[wasm_bindgen(js_name = rejectAll)]
pub fn reject_all() {
    app::decide_all(false);
}

/// `setConsent({analytics: true, …})`: the named purposes change, the others keep their state.
/// Throws a `TypeError` naming the key for an unknown purpose or a value that is not a boolean.
#[wasm_bindgen(js_name = setConsent)]
pub fn set_consent(choices: &JsValue) -> Result<(), JsValue> {
    let Some(mut merged) = app::with(|app| app.effective.clone()) else {
        not_started();
        return Ok(());
    };
    if !choices.is_object() {
        return Err(type_error("", "expected an object such as { analytics: true }"));
    }
    let keys = dom::run(&dom::get(&dom::window(), "Object"), "keys", choices, &dom::U);
    for i in 0..dom::len(&keys) {
        let key = dom::at(&keys, i).as_string().unwrap_or_default();
        let Some(v) = dom::get(choices, &key).as_bool() else {
            return Err(type_error(&key, "expected true or false"));
        };
        match merged.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = v,
            None => return Err(type_error(&key, "not a purpose in the config")),
        }
    }
    app::decide(merged, Method::Api);
    Ok(())
}

fn type_error(key: &str, what: &str) -> JsValue {
    let mut s = String::from("Consentry.setConsent: ");
    if !key.is_empty() {
        s.push_str(key);
        s.push_str(": ");
    }
    s.push_str(what);
    dom::error("TypeError", &s)
}

/// The current state: `{ necessary: true, analytics: false, … }`; every purpose refused
/// (except `necessary`) before a valid decision exists.
#[wasm_bindgen(js_name = getConsent)]
pub fn get_consent() -> JsValue {
    app::with(|app| app.consent_object()).unwrap_or_else(|| dom::json("{}"))
}

/// Registers a listener for decisions: `fn({ consent, method })`.
#[wasm_bindgen]
pub fn on(event: &str, listener: JsValue) -> Result<(), JsValue> {
    let (true, Some(listener)) = (event == "change", dom::func_of(listener)) else {
        return Err(dom::error("TypeError", "Consentry.on: the only event is \"change\", with a function"));
    };
    app::with(|app| app.listeners.push(listener));
    Ok(())
}

/// The visitor's receipts kept in this browser, oldest first.
#[wasm_bindgen]
pub fn evidence() -> JsValue {
    let json = app::with(|app| app::receipts_json(&app.log)).unwrap_or_else(|| String::from("[]"));
    dom::json(&json)
}

/// The visitor's consent record as a JSON document (what "Download my consent record" saves).
#[wasm_bindgen(js_name = exportEvidence)]
pub fn export_evidence() -> String {
    app::with(|app| app.log.export_json()).unwrap_or_default()
}

/// `{ ok, count, brokenAt?, reason? }` for the log as stored in this browser right now
/// (re-read from storage, so an edit made since the page loaded is caught).
#[wasm_bindgen(js_name = verifyEvidence)]
pub fn verify_evidence() -> JsValue {
    let mut j = String::from("{\"ok\":");
    match app::verify_stored() {
        Ok(n) => {
            j.push_str("true,\"count\":");
            json::push_int(&mut j, n as i64);
        }
        Err((index, reason)) => {
            j.push_str("false,\"count\":");
            json::push_int(&mut j, index as i64);
            j.push_str(",\"brokenAt\":");
            json::push_int(&mut j, index as i64);
            j.push_str(",\"reason\":");
            json::push_str(&mut j, reason);
        }
    }
    j.push('}');
    dom::json(&j)
}

/// Records a custom analytics event; dropped (never queued) unless analytics is granted.
#[wasm_bindgen]
pub fn capture(event: &str, properties: JsValue) {
    tracker::capture(event, &properties);
}

/// `init` with the visitor's language table: the text of the `lang/<code>.json` the loader
/// fetched (a string; anything else means none). The module still chooses the language itself;
/// a table that is not for that language gives English and a console warning.
#[wasm_bindgen(js_name = initWithTexts)]
pub fn init_with_texts(config: &str, table: JsValue) -> Result<(), JsValue> {
    app::start_with(config, &table.as_string().unwrap_or_default())
}
