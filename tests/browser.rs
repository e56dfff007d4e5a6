//! The `.wasm`'s exports in headless Chromium (wasm-bindgen-test, run by `cargo xtask test`).
//!
//! Owns: checking what the JavaScript shell asks (`consentry::web::exports`, below the byte-level
//! `abi`), built for wasm32 and run in a real browser: config errors name the field, a decision comes back with the log text to store and
//! verifies, a tampered log is refused, the outbox and its acknowledgement, the tracker's queue
//! (nothing before `track_run(true)`, retry delays, beacons). The shell itself (DOM, storage, network) is tested end to end in
//! tests/e2e. The engine is a per-page singleton: each test starts its own before using it.
#![cfg(target_arch = "wasm32")]

use consentry::core::json::{self, Value};
use consentry::core::tape;
use consentry::web::exports as x;
use js_sys::{Array, Reflect, JSON};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const GOOD: &str = r#"{
  "policyVersion": "test-1",
  "privacyPolicyUrl": "/privacy.html",
  "purposes": [{ "id": "analytics" }, { "id": "marketing" }],
  "evidenceEndpoint": "/consentry/receipts",
  "tracker": { "apiKey": "phc_test", "purpose": "analytics", "batchSize": 2, "allowParams": ["utm_source"] }
}"#;

fn parse(text: &str) -> JsValue {
    JSON::parse(text).unwrap_or_else(|_| panic!("not JSON: {text}"))
}

fn get(v: &JsValue, path: &str) -> JsValue {
    path.split('.').fold(v.clone(), |o, k| Reflect::get(&o, &JsValue::from_str(k)).unwrap_or(JsValue::UNDEFINED))
}

fn text(v: &JsValue, path: &str) -> String {
    get(v, path).as_string().unwrap_or_default()
}

const RANDOM: [u8; 32] = [9; 32];

/// A JSON text as the shell hands it over: parsed, written as a tape, and read back by the
/// module's own tape reader (None: not JSON).
fn doc(t: &str) -> Option<Value> {
    let mut b = Vec::new();
    tape::encode(&json::parse(t).ok()?, &mut b);
    Some(tape::decode(&b).expect("the module reads its tape back"))
}

/// A stored log text (or none) as `exports` takes it.
fn stored(t: Option<&str>) -> Option<Option<Value>> {
    t.map(doc)
}

fn start(config: &str, langs: &str) -> String {
    x::start(doc(config).as_ref(), None, langs)
}

fn verify(t: Option<&str>) -> String {
    x::verify(stored(t).as_ref().map(Option::as_ref))
}

fn started() {
    let s = parse(&start(GOOD, "en-GB\nen"));
    assert!(get(&s, "error").is_undefined(), "a valid config starts: {:?}", get(&s, "error"));
}

fn load(stored: Option<&str>, gpc: bool) -> JsValue {
    parse(&x::load(self::stored(stored).as_ref().map(Option::as_ref), gpc, "2023-11-14T22:13:20.000Z", "https://shop.example", "/p?q=1", &RANDOM))
}

fn decide(choices: &str, method: &str, stored: Option<&str>) -> JsValue {
    parse(&x::decide(doc(choices).as_ref(), method, self::stored(stored).as_ref().map(Option::as_ref), "2023-11-14T22:13:21.000Z", "https://shop.example", "/p", &RANDOM))
}

#[wasm_bindgen_test]
fn a_bad_config_is_refused_with_the_field_named() {
    use consentry::core::config::Msg;
    for (config, field, problem) in [
        (r#"{"policyVersion":"1","purposes":[{"id":"analytics"}],"privacyPolicyURL":"/p"}"#, "privacyPolicyURL", Msg::UnknownField),
        (r#"{"policyVersion":"1","purposes":[{"id":"analytics"}],"consentDays":"x"}"#, "consentDays", Msg::Days),
        ("{not json", "", Msg::NotJson),
    ] {
        let s = parse(&start(config, ""));
        assert!(get(&s, "view").is_undefined(), "{config}: no view for a bad config");
        assert_eq!(text(&s, "error.field"), field, "{config}: the error names the field");
        assert_eq!(get(&s, "error.code").as_f64(), Some(problem as u8 as f64), "{config}: and the problem");
    }
}

#[wasm_bindgen_test]
fn the_view_has_texts_purposes_and_settings() {
    let s = parse(&start(GOOD, "de-DE"));
    assert!(text(&s, "warning").contains("\"de\""), "a German visitor without lang/de.json is warned about");
    assert_eq!(text(&s, "view.lang"), "en");
    assert_eq!(text(&s, "view.t.acceptAll"), "Accept all");
    assert_eq!(text(&s, "view.policy"), "/privacy.html");
    assert_eq!(text(&s, "view.evidence"), "/consentry/receipts");
    assert_eq!(text(&s, "view.tracker.purpose"), "analytics");
    let purposes: Array = get(&s, "view.purposes").dyn_into().expect("purposes is an array");
    let ids: Vec<String> = purposes.iter().map(|p| text(&p, "id")).collect();
    assert_eq!(ids, ["necessary", "analytics", "marketing"]);
}

#[wasm_bindgen_test]
fn a_time_a_receipt_cannot_hold_is_recorded_as_the_epoch() {
    started();
    load(None, false);
    let mut saved = String::new();
    for (i, now) in ["+010000-01-01T00:00:00.000Z", "1969-12-31T23:59:59.999Z", "not a time"].iter().enumerate() {
        let step = parse(&x::decide(None, "accept_all", None, now, "https://shop.example", "/p", &RANDOM));
        saved = text(&step, "save");
        let receipts: Array = get(&parse(&saved), "receipts").dyn_into().expect("receipts");
        assert_eq!(receipts.length() as usize, i + 1);
        assert_eq!(text(&receipts.get(i as u32), "time"), "1970-01-01T00:00:00.000Z", "{now}");
    }
    assert_eq!(get(&parse(&verify(None)), "ok"), JsValue::TRUE, "and the log still verifies");
    let kept = stored(Some(&saved));
    let later = parse(&x::load(kept.as_ref().map(Option::as_ref), false, "2026-11-23T10:00:00.000Z", "https://shop.example", "/p", &RANDOM));
    assert!(get(&later, "bad").is_undefined(), "the stored log is good");
    assert_eq!(get(&later, "ask"), JsValue::TRUE, "so old a decision is asked again");
}

#[wasm_bindgen_test]
fn decisions_are_recorded_stored_verified_and_tamper_evident() {
    started();
    let first = load(None, false);
    assert_eq!(get(&first, "ask"), JsValue::TRUE, "first visit asks");
    assert!(get(&first, "save").is_undefined(), "nothing to store before a choice");
    assert_eq!(get(&first, "consent.analytics"), JsValue::FALSE);

    let accepted = decide("", "accept_all", None);
    assert_eq!(text(&accepted, "method"), "accept_all");
    assert_eq!(get(&accepted, "consent.analytics"), JsValue::TRUE);
    let saved = text(&accepted, "save");
    assert!(saved.contains("\"receipts\""), "the log to store comes with the decision");
    assert_eq!(get(&parse(&verify(Some(&saved))), "count").as_f64(), Some(1.0));

    let custom = decide(r#"{"marketing":true,"nope":true}"#, "custom", Some(&saved));
    assert_eq!(get(&custom, "consent.marketing"), JsValue::TRUE);
    assert_eq!(get(&custom, "consent.analytics"), JsValue::TRUE, "unnamed purposes keep their state");
    let saved = text(&custom, "save");
    let receipts: Array = get(&parse(&x::export_log()), "receipts").dyn_into().unwrap();
    assert_eq!(receipts.length(), 2);
    assert!(x::export_log().contains("consentry-evidence"));

    // The next page: no question, the same grants.
    started();
    let again = load(Some(&saved), false);
    assert_eq!(get(&again, "ask"), JsValue::FALSE);
    assert_eq!(get(&again, "consent.marketing"), JsValue::TRUE);

    // One flipped grant: refused, the index and reason named, the visitor asked again.
    let forged = saved.replacen("\"analytics\":true", "\"analytics\":false", 1);
    let v = parse(&verify(Some(&forged)));
    assert_eq!(get(&v, "ok"), JsValue::FALSE);
    assert!(!text(&v, "reason").is_empty());
    started();
    let bad = load(Some(&forged), false);
    assert!(!text(&bad, "bad").is_empty(), "the tampered log is named bad");
    assert_eq!(get(&bad, "ask"), JsValue::TRUE);
    assert_eq!(get(&bad, "consent.analytics"), JsValue::FALSE, "fails closed");
}

#[wasm_bindgen_test]
fn gpc_is_an_opt_out_recorded_without_asking() {
    started();
    let s = load(None, true);
    assert_eq!(text(&s, "method"), "gpc");
    assert_eq!(get(&s, "gpc"), JsValue::TRUE);
    assert_eq!(get(&s, "consent.analytics"), JsValue::FALSE);
    let a = decide("", "accept_all", Some(&text(&s, "save")));
    assert_eq!(get(&a, "consent.analytics"), JsValue::FALSE, "accept all keeps the honoured opt-out");
}

#[wasm_bindgen_test]
fn the_outbox_is_acknowledged_only_up_to_what_was_sent() {
    started();
    load(None, false);
    assert_eq!(x::outbox(), "", "nothing recorded, nothing to send");
    decide("", "reject_all", None);
    let o = x::outbox();
    let (seq, body) = o.split_once('\n').expect("seq and body");
    assert_eq!(seq, "1");
    assert_eq!(Array::from(&parse(body)).length(), 1);
    decide(r#"{"analytics":true}"#, "api", None);
    assert!(x::outbox().starts_with("2\n"), "both wait");
    let stored = x::ack(1.0);
    assert!(stored.contains("\"delivered\":1"));
    assert!(x::outbox().starts_with("2\n"), "the second still waits");
    x::ack(2.0);
    assert_eq!(x::outbox(), "");
}

#[wasm_bindgen_test]
fn the_tracker_queue_runs_only_while_started() {
    started();
    load(None, false);
    x::track_run(false);
    let rest = |n: u8| format!(r#""distinct_id":"d","plan":"pro"}},"timestamp":"2026-01-01T00:00:00.000Z","uuid":"u-{n}"}}"#);
    assert_eq!(x::track("signup", &rest(1)), 0, "not running: dropped");
    assert_eq!(x::track_next("2023-11-14T22:13:20.000Z"), None);
    x::track_run(true);
    assert_eq!(x::track("", &rest(1)), 3, "an empty name is refused");
    assert_eq!(x::track("signup", &rest(1)), 1);
    assert_eq!(x::track_waiting() & 1, 1, "an event waits for the flush timer");
    assert_eq!(x::track("signup", &rest(2)), 2, "the batch of 2 is due");
    let body = x::track_next("2023-11-14T22:13:20.000Z").expect("a batch");
    let batch = parse(&body);
    assert_eq!(text(&batch, "api_key"), "phc_test");
    assert_eq!(Array::from(&get(&batch, "batch")).length(), 2);
    assert_eq!(text(&batch, "sent_at"), "2023-11-14T22:13:20.000Z");
    assert!(body.contains("\"plan\":\"pro\""), "{body}");
    assert_eq!(x::track_next("2023-11-14T22:13:20.000Z"), None, "one batch under way at a time");
    let wait = x::track_done(503, 0);
    assert!((1000..=1250).contains(&wait), "a 503 is retried after about a second, not {wait}");
    assert_eq!(x::track_next("2023-11-14T22:13:22.000Z").as_deref().map(|b| b.contains("signup")), Some(true), "the same batch again");
    assert_eq!(x::track_done(200, 0), 0);
    assert_eq!(x::track("later", &rest(3)), 1);
    let mut sent = Vec::new();
    x::track_beacon("2023-11-14T22:13:20.000Z", &mut |b| {
        sent.push(String::from(b));
        true
    });
    assert_eq!(sent.len(), 1, "the waiting event goes by beacon on page hide");
    assert!(sent[0].contains("\"later\""));
    x::track_run(false);
    assert_eq!(x::track("after", &rest(4)), 0, "withdrawn: dropped");
    assert_eq!(x::track_waiting(), 0, "and nothing is kept");
    assert_eq!(x::backoff(1, 0), 1000);
}

