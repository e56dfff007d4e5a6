//! Browser-shell tests in headless Chromium (wasm-bindgen-test, run by `cargo xtask test`).
//!
//! Owns: checking the shell against a real DOM and real localStorage: config errors name the
//! field and fail closed, a valid init shows the banner in an open shadow root, decisions are
//! recorded as receipts that verify, the API refuses what it does not know, a tampered record is
//! caught, and blocked storage falls back to memory. Must never: depend on a server, or assume
//! a fresh app per test. The app is a per-page singleton and wasm-bindgen-test runs every test in
//! ONE page, so everything that initialises lives in the one ordered test `lifecycle`; the other
//! tests never call `init` and leave the page as they found it.
#![cfg(target_arch = "wasm32")]

use consentry::web::{api, storage};
use js_sys::{Function, Object, Reflect, JSON};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::*;
use web_sys::{Document, Element, HtmlDocument, HtmlElement, ShadowRoot, Storage};

wasm_bindgen_test_configure!(run_in_browser);

const GOOD: &str = r#"{
  "policyVersion": "test-1",
  "privacyPolicyUrl": "/privacy.html",
  "purposes": [{ "id": "analytics" }, { "id": "marketing" }],
  "honorGpc": true
}"#;

fn doc() -> Document {
    web_sys::window().unwrap().document().unwrap()
}

fn local() -> Storage {
    web_sys::window().unwrap().local_storage().unwrap().unwrap()
}

fn cookies() -> String {
    doc().dyn_into::<HtmlDocument>().unwrap().cookie().unwrap()
}

fn hosts() -> u32 {
    doc().query_selector_all("#consentry").unwrap().length()
}

fn shadow() -> ShadowRoot {
    let host = doc().get_element_by_id("consentry").expect("the #consentry host exists");
    host.shadow_root().expect("#consentry has an OPEN shadow root")
}

fn q(root: &ShadowRoot, sel: &str) -> Option<Element> {
    root.query_selector(sel).unwrap()
}

fn get(v: &JsValue, key: &str) -> JsValue {
    Reflect::get(v, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

fn message(e: &JsValue) -> String {
    get(e, "message").as_string().unwrap_or_else(|| format!("{e:?}"))
}

fn js(body: &str) -> JsValue {
    Function::new_no_args(body).call0(&JsValue::NULL).expect(body)
}

/// Nothing happened: no banner host, no cookie, nothing stored, API not started.
fn assert_fail_closed(after: &str) {
    assert_eq!(hosts(), 0, "{after}: a #consentry host was created");
    assert_eq!(cookies(), "", "{after}: a cookie was set");
    assert_eq!(local().length().unwrap(), 0, "{after}: localStorage was written");
    let state: Object = api::get_consent().unchecked_into();
    let keys = Object::keys(&state).length();
    assert_eq!(keys, 0, "{after}: getConsent() reports state although init failed");
}

fn init_err(config: &str) -> String {
    match api::init(config) {
        Ok(()) => panic!("init accepted an invalid config: {config}"),
        Err(e) => {
            assert!(e.is_instance_of::<js_sys::Error>(), "init should throw an Error, threw {e:?}");
            message(&e)
        }
    }
}

fn stored_receipts() -> Vec<JsValue> {
    let text = local().get_item("consentry").unwrap().expect("localStorage['consentry'] exists");
    let doc = JSON::parse(&text).expect("the stored record is JSON");
    let list: js_sys::Array = get(&doc, "receipts").dyn_into().expect("the record has a receipts array");
    list.iter().collect()
}

fn click(root: &ShadowRoot, sel: &str) {
    let b = q(root, sel).unwrap_or_else(|| panic!("no {sel} in the shadow root"));
    b.dyn_into::<HtmlElement>().unwrap().click();
}

fn visible(e: &Element) -> bool {
    let h: &HtmlElement = e.unchecked_ref();
    !e.has_attribute("hidden") && e.is_connected() && h.offset_width() > 0 && h.offset_height() > 0
}

/// Makes `window.localStorage` throw (as with blocked third-party storage or a privacy mode).
fn block_storage(blocked: bool) {
    if blocked {
        js("window.__csLs = Object.getOwnPropertyDescriptor(window, 'localStorage');
            Object.defineProperty(window, 'localStorage', { configurable: true,
              get() { throw new DOMException('The operation is insecure.', 'SecurityError'); } });");
    } else {
        js("if (window.__csLs) { Object.defineProperty(window, 'localStorage', window.__csLs); delete window.__csLs; }");
    }
}

#[wasm_bindgen_test]
fn storage_blocked_reads_nothing_and_reports_failed_writes() {
    let key = "consentry:test-probe";
    assert!(storage::write(key, "1"), "a write to working storage reports success");
    assert_eq!(storage::read(key).as_deref(), Some("1"));
    block_storage(true);
    let (read, wrote) = (storage::read(key), storage::write(key, "2"));
    block_storage(false);
    assert_eq!(read, None, "a blocked read must give nothing");
    assert!(!wrote, "a blocked write must report failure");
    assert_eq!(local().get_item(key).unwrap().as_deref(), Some("1"), "the blocked write changed storage");
    storage::remove(key);
    assert_eq!(storage::read(key), None);
}

/// The whole life of the one app on this page, in order.
#[wasm_bindgen_test]
fn lifecycle() {
    local().clear().unwrap();

    // Before init every API call does nothing (fails closed) and does not throw.
    api::accept_all();
    api::show_banner();
    assert!(api::set_consent(&JSON::parse(r#"{"analytics":true}"#).unwrap()).is_ok());
    assert_fail_closed("API calls before init");

    // Invalid configs: the error names the field; nothing happens.
    let m = init_err(r#"{"policyVersion": "#);
    assert!(m.contains("Consentry config") && m.contains("JSON at byte"), "bad JSON error: {m}");
    assert_fail_closed("bad JSON");

    let m = init_err(r#"{"policyVersion":"1","purposes":[{"id":"analytics"}],"colour":"red"}"#);
    assert!(m.contains("colour") && m.contains("unknown field"), "unknown field error: {m}");
    assert_fail_closed("unknown top-level field");

    let m = init_err(r#"{"policyVersion":"1","purposes":[{"id":"analytics"},{"id":"marketing","tilte":"Ads"}]}"#);
    assert!(m.contains("purposes[1].tilte"), "nested unknown field error should give the path: {m}");
    assert_fail_closed("unknown nested field");

    let m = init_err(r#"{"policyVersion":"1","purposes":[{"id":"analytics"}],"ccpa":"yes"}"#);
    assert!(m.contains("ccpa"), "wrong type error: {m}");
    assert_fail_closed("wrong type");

    let m = init_err(r#"{"purposes":[{"id":"analytics"}]}"#);
    assert!(m.contains("policyVersion"), "missing field error: {m}");
    assert_fail_closed("missing policyVersion");

    let m = init_err(r#"{"policyVersion":"1","privacyPolicyUrl":"javascript:alert(1)","purposes":[{"id":"analytics"}]}"#);
    assert!(m.contains("privacyPolicyUrl"), "unsafe link error: {m}");
    assert_fail_closed("javascript: link");

    // A valid config: the banner appears in an open shadow root, and nothing is stored yet.
    api::init(GOOD).expect("the valid config is accepted");
    assert_eq!(hosts(), 1);
    let root = shadow();
    let section = q(&root, "section").expect("the first layer is a <section>");
    assert!(visible(&section), "the first layer is not visible");
    let label = section.get_attribute("aria-labelledby").expect("the first layer is labelled");
    assert!(q(&root, &format!("#{label}")).is_some_and(|h| !h.text_content().unwrap_or_default().trim().is_empty()));
    let accept = q(&root, "section button[data-a=accept]").expect("an Accept all button");
    let reject = q(&root, "section button[data-a=reject]").expect("a Reject all button");
    assert!(visible(&accept) && visible(&reject));
    assert!(!accept.text_content().unwrap().trim().is_empty() && !reject.text_content().unwrap().trim().is_empty());
    let link = q(&root, "section a[href]").expect("a privacy policy link");
    assert_eq!(link.get_attribute("href").as_deref(), Some("/privacy.html"));
    assert_eq!(cookies(), "", "a cookie before any decision");
    assert_eq!(local().length().unwrap(), 0, "storage written before any decision");
    let c = api::get_consent();
    assert_eq!(get(&c, "necessary"), JsValue::TRUE);
    assert_eq!(get(&c, "analytics"), JsValue::FALSE, "analytics must be refused before a decision");
    assert_eq!(get(&c, "marketing"), JsValue::FALSE);

    // A second init (a second script tag) does not add a second banner.
    api::init(GOOD).expect("a second init is a no-op");
    assert_eq!(hosts(), 1, "two banners after two inits");
    assert_eq!(root.query_selector_all("section").unwrap().length(), 1, "two first layers after two inits");

    // Listeners: the API's on('change') and the document event.
    js("window.__csApi = []; window.__csDoc = [];
        document.addEventListener('consentry:change', e => window.__csDoc.push(e.detail));");
    let push: Function = Function::new_with_args("d", "window.__csApi.push(d)");
    api::on("change", push.into()).expect("on('change') accepted");
    assert!(api::on("chnage", Function::new_no_args("").into()).is_err(), "on() with an unknown event must throw");
    assert!(api::on("change", JsValue::from_str("not a function")).is_err(), "on() without a function must throw");

    // Accept all, by clicking the real button: one receipt that verifies.
    click(&root, "section button[data-a=accept]");
    let receipts = stored_receipts();
    assert_eq!(receipts.len(), 1, "one receipt after Accept all");
    let r0 = &receipts[0];
    assert_eq!(get(r0, "method").as_string().as_deref(), Some("accept_all"));
    assert_eq!(get(r0, "seq").as_f64(), Some(1.0));
    assert_eq!(get(r0, "policy").as_string().as_deref(), Some("test-1"));
    assert_eq!(get(&get(r0, "choices"), "analytics"), JsValue::TRUE);
    assert_eq!(get(r0, "hash").as_string().map(|h| h.len()), Some(64));
    let v = api::verify_evidence();
    assert_eq!(get(&v, "ok"), JsValue::TRUE, "the stored receipt does not verify: {:?}", get(&v, "reason"));
    assert_eq!(get(&v, "count").as_f64(), Some(1.0));
    assert_eq!(get(&api::get_consent(), "analytics"), JsValue::TRUE);
    assert!(q(&root, "section").is_none(), "the first layer stays after a decision");
    let reopen = q(&root, "button.o2").expect("a reopen button after the decision");
    assert!(visible(&reopen), "the reopen button is hidden after the decision");
    let api_seen = js("return window.__csApi.map(d => d.method).join(',')").as_string().unwrap();
    let doc_seen = js("return window.__csDoc.map(d => d.method + ':' + d.consent.analytics).join(',')").as_string().unwrap();
    assert_eq!(api_seen, "accept_all", "on('change') listener calls");
    assert_eq!(doc_seen, "accept_all:true", "consentry:change events");
    assert_eq!(api::evidence().unchecked_into::<js_sys::Array>().length(), 1);

    // setConsent refuses what it does not know, naming the key, and records nothing.
    let e = api::set_consent(&JSON::parse(r#"{"ads":true}"#).unwrap()).expect_err("unknown purpose accepted");
    assert!(e.is_instance_of::<js_sys::TypeError>(), "expected a TypeError, got {e:?}");
    assert!(message(&e).contains("ads"), "the error should name the key: {}", message(&e));
    let e = api::set_consent(&JSON::parse(r#"{"marketing":"yes"}"#).unwrap()).expect_err("non-boolean accepted");
    assert!(message(&e).contains("marketing"), "the error should name the key: {}", message(&e));
    assert!(api::set_consent(&JsValue::from_str("analytics")).is_err(), "a string instead of an object was accepted");
    assert_eq!(stored_receipts().len(), 1, "a refused setConsent recorded a receipt");

    // A valid change is a second, chained receipt.
    api::set_consent(&JSON::parse(r#"{"analytics":false}"#).unwrap()).expect("valid setConsent");
    let receipts = stored_receipts();
    assert_eq!(receipts.len(), 2);
    assert_eq!(get(&receipts[1], "prev"), get(&receipts[0], "hash"), "the second receipt is not chained to the first");
    assert_eq!(get(&get(&receipts[1], "choices"), "analytics"), JsValue::FALSE);
    assert_eq!(get(&get(&receipts[1], "choices"), "marketing"), JsValue::TRUE, "setConsent changed a purpose it was not given");
    assert_eq!(get(&api::get_consent(), "analytics"), JsValue::FALSE);
    let v = api::verify_evidence();
    assert_eq!((get(&v, "ok"), get(&v, "count").as_f64()), (JsValue::TRUE, Some(2.0)));

    // The preferences dialog reflects the state and is a modal dialog.
    api::show_preferences();
    let dialog = q(&root, "dialog").expect("a preferences <dialog>");
    assert!(dialog.has_attribute("open"), "the preferences dialog did not open");
    assert!(dialog.matches(":modal").unwrap_or(false), "the preferences dialog is not modal");
    let sw = |p: &str| -> web_sys::HtmlInputElement {
        q(&root, &format!("dialog input[data-p={p}]")).unwrap_or_else(|| panic!("no switch for {p}")).unchecked_into()
    };
    assert!(sw("necessary").checked() && sw("necessary").disabled());
    assert!(!sw("analytics").checked() && sw("marketing").checked(), "switches do not show the current state");
    assert_eq!(sw("analytics").get_attribute("role").as_deref(), Some("switch"));
    sw("analytics").set_checked(true);
    sw("marketing").set_checked(false);
    click(&root, "dialog button[data-a=save]");
    assert!(!dialog.has_attribute("open"), "Save choices did not close the dialog");
    let receipts = stored_receipts();
    assert_eq!(receipts.len(), 3);
    // Marketing was granted before and is now taken back: a custom save that withdraws is a withdrawal.
    assert_eq!(get(&receipts[2], "method").as_string().as_deref(), Some("withdraw"));
    assert_eq!(get(&get(&receipts[2], "choices"), "analytics"), JsValue::TRUE);
    assert_eq!(get(&get(&receipts[2], "choices"), "marketing"), JsValue::FALSE);

    // A tampered record is caught, put aside, and the visitor is asked again.
    let text = local().get_item("consentry").unwrap().unwrap();
    let forged = text.replacen("\"marketing\":false", "\"marketing\":true", 1);
    assert_ne!(forged, text, "test set-up: could not find the marketing choice in the stored record");
    local().set_item("consentry", &forged).unwrap();
    let v = api::verify_evidence();
    assert_eq!(get(&v, "ok"), JsValue::FALSE, "an edited receipt verified");
    assert_eq!(get(&v, "brokenAt").as_f64(), Some(2.0), "the edit is in the third receipt");
    assert!(get(&v, "reason").as_string().is_some_and(|r| !r.is_empty()));
    assert_eq!(local().get_item("consentry:quarantine").unwrap().as_deref(), Some(forged.as_str()));
    assert_eq!(get(&api::get_consent(), "marketing"), JsValue::FALSE, "a forged grant was applied");
    assert!(q(&root, "section").is_some_and(|s| visible(&s)), "the banner should ask again after tampering");

    // Storage blocked: the decision holds in memory, nothing throws, nothing is stored.
    let before = local().get_item("consentry").unwrap();
    block_storage(true);
    api::reject_all();
    let (c, v) = (api::get_consent(), api::verify_evidence());
    block_storage(false);
    assert_eq!(get(&c, "analytics"), JsValue::FALSE);
    assert_eq!(get(&v, "ok"), JsValue::TRUE);
    assert_eq!(get(&v, "count").as_f64(), Some(1.0), "the in-memory record should hold the refusal");
    assert_eq!(local().get_item("consentry").unwrap(), before, "storage changed while blocked");
    assert!(q(&root, "section").is_none(), "the banner stays after a refusal with blocked storage");
    assert_eq!(cookies(), "", "a cookie after refusing everything");
}
