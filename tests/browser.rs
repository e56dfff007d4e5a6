//! The shipped module's exported API in headless Chromium (wasm-bindgen-test, run by
//! `cargo xtask test`), built with the same features as the release build.
//!
//! Owns: what `start` and the `Consentry` object do in a real browser: a bad config is refused
//! with the field named (before and after a good start), the banner is rendered by the module
//! (roles, names, both layers), nothing is stored, set or sent before a choice, a decision is
//! recorded, stored and verifiable, the tracker starts only with consent and stops at once on
//! withdrawal, `setConsent` and `on` refuse wrong arguments, `on` unsubscribes, a tampered
//! record is refused, and a blocked storage is survived. The module is one per page, so the
//! stateful journey is one test, in order; the configuration tests need no started module.
#![cfg(target_arch = "wasm32")]

use consentry::web::api::start;
use js_sys::{Array, Function, Promise, Reflect, JSON};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;
use web_sys::{Element, ShadowRoot};

wasm_bindgen_test_configure!(run_in_browser);

// Test-only JavaScript: records what the module would send, and can block storage.
#[wasm_bindgen(inline_js = "
export function record() {
  window.__sent = [];
  const f = window.fetch.bind(window);
  window.fetch = (url, init) => { window.__sent.push({ url: String(url), how: 'fetch', type: init && init.headers && init.headers['Content-Type'] }); return Promise.resolve(new Response('{}', { status: 200 })); };
  navigator.sendBeacon = (url) => { window.__sent.push({ url: String(url), how: 'beacon' }); return true; };
}
export function sent() { return window.__sent.map((s) => s.url); }
export function content_types() { return window.__sent.filter((s) => s.how == 'fetch').map((s) => s.type); }
export function block_storage() {
  Object.defineProperty(window, 'localStorage', { get() { throw new DOMException('blocked', 'SecurityError'); }, configurable: true });
}
export function sleep(ms) { return new Promise((r) => setTimeout(r, ms)); }
export function click(el) { el.click(); }
")]
extern "C" {
    fn record();
    fn sent() -> Vec<String>;
    fn content_types() -> Vec<JsValue>;
    fn block_storage();
    fn sleep(ms: u32) -> Promise;
    fn click(el: &Element);
}

const GOOD: &str = r#"{
  "policyVersion": "test-1",
  "privacyPolicyUrl": "/privacy.html",
  "purposes": [{ "id": "analytics", "services": [{ "name": "cs_id", "provider": "this site", "lifetime": "13 months" }] }, { "id": "marketing" }],
  "evidenceEndpoint": "/consentry/receipts",
  "tracker": { "apiKey": "phc_test", "purpose": "analytics", "batchSize": 1, "allowParams": ["utm_source"] }
}"#;

fn obj(text: &str) -> JsValue {
    JSON::parse(text).unwrap_or_else(|_| panic!("not JSON: {text}"))
}

fn get(v: &JsValue, path: &str) -> JsValue {
    path.split('.').fold(v.clone(), |o, k| Reflect::get(&o, &JsValue::from_str(k)).unwrap_or(JsValue::UNDEFINED))
}

fn call(api: &JsValue, method: &str, args: &[JsValue]) -> Result<JsValue, JsValue> {
    let f: Function = get(api, method).dyn_into().expect(method);
    f.apply(api, &args.iter().collect::<Array>())
}

fn error_message(e: JsValue) -> String {
    get(&e, "message").as_string().unwrap_or_default()
}

fn try_start(config: JsValue) -> Result<JsValue, String> {
    start(config.unchecked_into(), JsValue::UNDEFINED.unchecked_into()).map(JsValue::from).map_err(|e| error_message(e.into()))
}

fn local(key: &str) -> Option<String> {
    web_sys::window()?.local_storage().ok()??.get_item(key).ok()?
}

fn shadow() -> ShadowRoot {
    let d = web_sys::window().unwrap().document().unwrap();
    d.get_element_by_id("consentry").expect("the banner's host").shadow_root().expect("an open shadow root")
}

fn cookie() -> String {
    let d: web_sys::HtmlDocument = web_sys::window().unwrap().document().unwrap().dyn_into().unwrap();
    d.cookie().unwrap_or_default()
}

async fn wait(ms: u32) {
    JsFuture::from(sleep(ms)).await.unwrap();
}

#[wasm_bindgen_test]
fn a_bad_config_is_refused_with_the_field_and_the_problem() {
    use consentry::core::config::ALL_PROBLEMS;
    for (config, field, words) in [
        (
            r#"{"policyVersion":"1","purposes":[{"id":"analytics"}],"privacyPolicyURL":"/p"}"#,
            "privacyPolicyURL",
            "unknown field: check its spelling against the README's config reference",
        ),
        (
            r#"{"policyVersion":"1","purposes":[{"id":"analytics"}],"consentDays":"x"}"#,
            "consentDays",
            "expected days from 1 to 395 (13 months at most)",
        ),
        (
            r#"{"policyVersion":"1","purposes":[{"id":"analytics"},{"id":"Bad Id"}]}"#,
            "purposes[1].id",
            "expected lower-case letters, digits, '_' or '-' (at most 32)",
        ),
        (
            r#"{"policyVersion":"1","purposes":[{"id":"analytics"}],"tracker":{"apiKey":"k","purpose":"necessary"}}"#,
            "tracker.purpose",
            "must name one of your purposes (not \"necessary\"): analytics is never strictly necessary",
        ),
        (r#"[1,2]"#, "", "expected an object { … }"),
    ] {
        // The module names the field and the problem's number (the loaders fetch the words).
        let err: JsValue = start(obj(config).unchecked_into(), JsValue::UNDEFINED.unchecked_into()).err().expect(config).into();
        let code = get(&err, "code").as_f64().expect("a problem number") as usize;
        assert_eq!(get(&err, "field").as_string().as_deref(), Some(field), "{config}");
        assert_eq!(ALL_PROBLEMS[code].as_str(), words, "{config}");
        let shown = if field.is_empty() { "(document)" } else { field };
        assert_eq!(
            error_message(err),
            format!("Consentry config: {shown}: problem {code} (its words are in errors.json next to consentry_bg.wasm)")
        );
    }
    let not_json = try_start(JsValue::from_str("{not json")).err().unwrap_or_default();
    assert!(not_json.starts_with("Consentry config: not valid JSON: "), "{not_json}");
}

/// The visitor's journey on one page, in order (the module is one per page).
#[wasm_bindgen_test]
async fn a_visitors_journey_through_the_exported_api() {
    record();
    let api = try_start(obj(GOOD)).expect("a good config starts");
    assert!(api.is_object());

    // First visit: the banner is the module's, with its roles and names; nothing stored or sent.
    let root = shadow();
    let section = root.query_selector("section[aria-labelledby=ct][aria-describedby=cb]").unwrap().expect("the first layer");
    let buttons: Vec<String> =
        (0..3).map(|i| section.query_selector_all("button").unwrap().item(i).and_then(|b| b.text_content()).unwrap_or_default()).collect();
    assert_eq!(buttons, ["Accept all", "Reject all", "Customise"]);
    assert!(root.query_selector("[role=status]").unwrap().is_some(), "a live region exists before it speaks");
    assert_eq!(local("consentry"), None);
    assert!(!cookie().contains("cs_id"));
    let consent = call(&api, "getConsent", &[]).unwrap();
    assert_eq!(get(&consent, "analytics"), JsValue::FALSE);
    assert_eq!(get(&consent, "necessary"), JsValue::TRUE);

    // Without consent capture() is dropped: nothing goes out, even after the flush interval.
    call(&api, "capture", &["before".into(), obj(r#"{"x":1}"#)]).unwrap();
    wait(300).await;
    assert!(sent().iter().all(|u| !u.contains("/batch/")), "tracker traffic before consent: {:?}", sent());

    // The preferences dialog: one switch per purpose, none pre-ticked but necessary (disabled).
    call(&api, "showPreferences", &[]).unwrap();
    let dialog = root.query_selector("dialog[open][aria-modal=true]").unwrap().expect("an open modal dialog");
    let switches = dialog.query_selector_all("input[role=switch]").unwrap();
    assert_eq!(switches.length(), 3);
    let states: Vec<(String, bool, bool)> = (0..3)
        .map(|i| {
            let s: web_sys::HtmlInputElement = switches.item(i).unwrap().dyn_into().unwrap();
            (s.get_attribute("data-p").unwrap(), s.checked(), s.disabled())
        })
        .collect();
    assert_eq!(states, [("necessary".into(), true, true), ("analytics".into(), false, false), ("marketing".into(), false, false)]);
    assert!(dialog.query_selector("details table th[scope=row]").unwrap().is_some(), "the services table");

    // on(): called after a decision, and no more once unsubscribed.
    let calls = Array::new();
    let seen = calls.clone();
    let listener = Closure::<dyn Fn(JsValue)>::new(move |d: JsValue| {
        seen.push(&get(&d, "method"));
    });
    let off = call(&api, "on", &["change".into(), listener.as_ref().clone()]).unwrap();
    assert!(off.is_function(), "on() returns an unsubscribe function");
    assert!(call(&api, "on", &["nope".into(), listener.as_ref().clone()]).is_err());

    // Accept in the dialog: recorded, stored, verifiable; the tracker starts.
    click(&dialog.query_selector("button[data-a=accept]").unwrap().unwrap());
    assert!(!dialog.has_attribute("open"), "the dialog closed");
    assert_eq!(calls.to_vec(), vec![JsValue::from("accept_all")]);
    let stored = local("consentry").expect("the record is stored");
    assert!(stored.contains("\"method\":\"accept_all\""));
    let receipts: Array = call(&api, "evidence", &[]).unwrap().dyn_into().unwrap();
    assert_eq!(receipts.length(), 1);
    assert_eq!(get(&receipts.get(0), "v").as_f64(), Some(2.0));
    assert_eq!(get(&receipts.get(0), "choices.analytics"), JsValue::TRUE);
    assert_eq!(get(&call(&api, "verifyEvidence", &[]).unwrap(), "ok"), JsValue::TRUE);
    assert!(cookie().contains("cs_id="), "the tracker cookie after consent");
    assert!(root.query_selector("section").unwrap().is_none(), "the first layer went");
    assert!(!get(&root.query_selector("[role=status]").unwrap().unwrap().into(), "textContent").as_string().unwrap_or_default().is_empty());
    wait(300).await;
    assert!(sent().iter().any(|u| u.contains("/batch/")), "a $pageview went: {:?}", sent());
    assert!(sent().iter().any(|u| u.contains("/consentry/receipts")), "the receipt went: {:?}", sent());
    assert!(content_types().iter().all(|t| t.as_string().as_deref() == Some("text/plain")), "every send is text/plain");

    // setConsent refuses what is not a purpose or not a boolean, naming it.
    let e = call(&api, "setConsent", &[obj(r#"{"analytic":true}"#)]).err().unwrap();
    assert!(e.is_instance_of::<js_sys::TypeError>());
    assert_eq!(error_message(e), "Consentry.setConsent: analytic: not a purpose in the config");
    let e = call(&api, "setConsent", &[obj(r#"{"analytics":"yes"}"#)]).err().unwrap();
    assert_eq!(error_message(e), "Consentry.setConsent: analytics: expected true or false");

    // Withdrawal: the tracker stops, the cookie goes, a listener no longer called after off().
    Function::from(off).call0(&JsValue::NULL).unwrap();
    let before = sent().len();
    call(&api, "setConsent", &[obj(r#"{"analytics":false}"#)]).unwrap();
    assert_eq!(calls.length(), 1, "unsubscribed");
    assert!(!cookie().contains("cs_id"), "the cookie went: {}", cookie());
    call(&api, "capture", &["after".into(), JsValue::UNDEFINED]).unwrap();
    wait(300).await;
    assert!(sent()[before..].iter().all(|u| !u.contains("/batch/")), "tracker traffic after withdrawal: {:?}", &sent()[before..]);
    let receipts: Array = call(&api, "evidence", &[]).unwrap().dyn_into().unwrap();
    assert_eq!(get(&receipts.get(1), "method").as_string().as_deref(), Some("api"));

    // A record edited in storage is refused and put aside, and the visitor is asked again.
    let storage = web_sys::window().unwrap().local_storage().unwrap().unwrap();
    let edited = local("consentry").unwrap().replacen("\"analytics\":false", "\"analytics\":true", 1);
    storage.set_item("consentry", &edited).unwrap();
    let verdict = call(&api, "verifyEvidence", &[]).unwrap();
    assert_eq!(get(&verdict, "ok"), JsValue::FALSE);
    assert_eq!(get(&verdict, "brokenAt").as_f64(), Some(1.0));
    assert_eq!(local("consentry:quarantine").as_deref(), Some(edited.as_str()));
    assert_eq!(local("consentry"), None);
    assert!(shadow().query_selector("section").unwrap().is_some(), "asked again");
    assert_eq!(get(&call(&api, "getConsent", &[]).unwrap(), "analytics"), JsValue::FALSE);

    // Storage blocked: a decision still holds for the page and is delivered.
    block_storage();
    let before = sent().len();
    call(&api, "rejectAll", &[]).unwrap();
    assert_eq!(get(&call(&api, "getConsent", &[]).unwrap(), "analytics"), JsValue::FALSE);
    wait(300).await;
    assert!(sent()[before..].iter().any(|u| u.contains("/consentry/receipts")), "delivered without storage");
    drop(listener);
}
