//! The boundary: what JavaScript can call, exported with wasm-bindgen (which also writes the
//! package's `.d.ts`; the shapes of the config, consent, receipts and events are the custom
//! section below). `start` validates the config and starts the page controller; the returned
//! `Consentry` object is the public API (`window.Consentry` with the script tag, `init()`'s
//! result with the npm package). Must never: take a decision itself, or throw for anything but
//! a caller's mistake (a bad config, a wrong `setConsent` or `on` argument).
use crate::core::doc::Doc;
use crate::core::engine::Engine;
use crate::core::evidence::Method;
use crate::core::tracker::Props;
use crate::web::page;
use js_sys::{Function, JsString, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &str = r#"
/** A service or cookie a purpose covers, listed in the preferences layer. */
export interface ServiceConfig {
  name: string;
  provider?: string;
  purpose?: string;
  lifetime?: string;
  /** Cookies this service sets, deleted on refusal and withdrawal: names, or "/regex/". */
  cookies?: string[];
  /** localStorage / sessionStorage keys it writes, removed likewise: names, or "prefix*". */
  storage?: string[];
}

/** A processing purpose the visitor decides on. "necessary" is always on and need not be listed. */
export interface PurposeConfig {
  /** Lower-case letters, digits, "_" or "-"; built-in texts exist for necessary, analytics, marketing, functional. */
  id: string;
  title?: string;
  description?: string;
  /** Refused automatically when the browser sends Global Privacy Control. Default: true for analytics and marketing. */
  gpc?: boolean;
  services?: ServiceConfig[];
}

/** The first-party tracker; it does nothing until its purpose is granted. */
export interface TrackerConfig {
  apiKey: string;
  /** Origin of a self-hosted PostHog or collector; default: this site. */
  apiHost?: string;
  /** Batch path; default "/batch/". */
  path?: string;
  /** Purpose that gates the tracker; default "analytics". */
  purpose?: string;
  pageviews?: boolean;
  pageleave?: boolean;
  /** Query parameters kept in URLs, e.g. ["utm_*"]; everything else is stripped. */
  allowParams?: string[];
  batchSize?: number;
  /** Milliseconds between flushes. */
  flushInterval?: number;
  maxQueue?: number;
  cookieDomain?: string;
  /** At most 395 (13 months). */
  cookieDays?: number;
  /** Let PostHog geolocate the request's IP address (default false: `$geoip_disable` is sent). */
  geoip?: boolean;
  /** Send the whole user agent as `$raw_user_agent` (default false). */
  rawUserAgent?: boolean;
}

export type TextKey =
  | 'title' | 'body' | 'acceptAll' | 'rejectAll' | 'customise' | 'save' | 'close' | 'prefsTitle'
  | 'prefsBody' | 'policyLink' | 'alwaysOn' | 'reopen' | 'saved' | 'gpcHonoured' | 'ccpaLink'
  | 'download' | 'provider' | 'lifetime' | 'services' | 'name' | 'purpose' | 'yourChoices'
  | `purpose.${string}.title` | `purpose.${string}.description`;

export interface ConsentryConfig {
  $schema?: string;
  /** Change it to ask every visitor again. */
  policyVersion: string;
  privacyPolicyUrl?: string;
  /** Language code; default from <html lang>, then navigator.languages, then English. */
  language?: string;
  layout?: 'box' | 'bar';
  reopenButton?: 'bottom-left' | 'bottom-right' | 'none';
  purposes: PurposeConfig[];
  /** CCPA/CPRA mode: "Do Not Sell or Share" link with the opt-out icon. */
  ccpa?: boolean;
  /** Honour the Global Privacy Control signal (default true). */
  honorGpc?: boolean;
  /** Days a consent lasts (default 365, at most 395). */
  consentDays?: number;
  /** Days a refusal lasts (default 182, at most 395). */
  refusalDays?: number;
  /** Text overrides per language code ("*" for all languages). */
  texts?: Record<string, Partial<Record<TextKey, string>>>;
  /** Where consent receipts are sent (this site's collector). */
  evidenceEndpoint?: string;
  tracker?: TrackerConfig;
  /** Google Consent Mode v2 defaults and updates through gtag/dataLayer. */
  consentMode?: boolean;
  /** Reload the page after a withdrawal, so scripts that already ran stop (default false). */
  reloadOnWithdraw?: boolean;
}

/** The visitor's current choice per purpose id. */
export type ConsentState = Record<string, boolean>;

export type Method =
  | 'accept_all' | 'reject_all' | 'custom' | 'withdraw' | 'gpc' | 'api' | 'expired' | 'policy_changed' | 'reset';

/** One consent receipt; see the README's "Proof of consent". */
export interface Receipt {
  v: 1 | 2;
  id: string;
  subject: string;
  seq: number;
  time: string;
  origin: string;
  path: string;
  policy: string;
  lang: string;
  texts: string;
  choices: Record<string, boolean>;
  method: Method;
  gpc: boolean;
  prev: string;
  /** Version 2: SHA-256 of the visitor's secret. */
  key?: string;
  hash: string;
}

export interface VerifyResult {
  ok: boolean;
  count: number;
  brokenAt?: number;
  reason?: string;
}

export interface ChangeDetail {
  consent: ConsentState;
  method: Method;
}

/** A language table (src/core/lang/<code>.json): its code as `lang` and every text. */
export type LanguageTable = { lang: string } & Record<string, string>;

/** A custom event's properties. */
export type Properties = Record<string, unknown>;
"#;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(typescript_type = "ConsentryConfig | string")]
    pub type ConfigInput;
    #[wasm_bindgen(typescript_type = "LanguageTable | string | undefined")]
    pub type TableInput;
    #[wasm_bindgen(typescript_type = "ConsentState")]
    pub type ConsentOut;
    #[wasm_bindgen(typescript_type = "Receipt[]")]
    pub type ReceiptsOut;
    #[wasm_bindgen(typescript_type = "VerifyResult")]
    pub type VerifyOut;
    #[wasm_bindgen(typescript_type = "(detail: ChangeDetail) => void")]
    pub type Listener;
    #[wasm_bindgen(typescript_type = "() => void")]
    pub type Unsubscribe;
    #[wasm_bindgen(typescript_type = "Properties")]
    pub type PropsInput;
}

/// A JSON text parsed, or the value itself.
fn document(v: JsValue) -> Result<JsValue, JsValue> {
    match v.as_string() {
        Some(text) => js_sys::JSON::parse(&text),
        None => Ok(v),
    }
}

/// The page's and the browser's languages, in that order.
fn wanted_languages() -> Vec<String> {
    let mut out = Vec::new();
    let Some(w) = crate::web::dom::window() else { return out };
    let html = crate::web::dom::obj::<web_sys::Element>(&crate::web::dom::prop(&w, "document"), "documentElement");
    if let Some(l) = html.and_then(|h| h.get_attribute("lang")) {
        out.push(l);
    }
    let languages = crate::web::dom::prop(&crate::web::dom::prop(&w, "navigator"), "languages");
    if js_sys::Array::is_array(&languages) {
        let list = languages.unchecked_into::<js_sys::Array>();
        let mut i = 0;
        while i < list.length() {
            out.extend(list.get(i).as_string());
            i += 1;
        }
    }
    out
}

/// Starts Consentry on this page with `config` (an object or its JSON text) and the visitor's
/// language table (`lang/<code>.json`'s content; none for English, which is built in). Throws an
/// Error naming the field when the config is invalid; nothing happens then. A second call
/// returns the same API.
#[wasm_bindgen]
pub fn start(config: ConfigInput, table: TableInput) -> Result<Consentry, JsError> {
    let config = document(config.into()).map_err(|e| {
        let why = crate::web::dom::prop_text(&e, "message");
        let mut msg = String::from("Consentry config: not valid JSON: ");
        msg.push_str(&why);
        JsError::new(&msg)
    })?;
    let table: JsValue = table.into();
    let table = if table.is_null() || table.is_undefined() || table.as_string().is_some_and(|s| s.is_empty()) {
        None
    } else {
        // A text that is not JSON is a table that does not read (English is shown, with a warning).
        Some(document(table).unwrap_or(JsValue::UNDEFINED))
    };
    let (engine, warning) = Engine::new(config, table, &wanted_languages()).map_err(config_error)?;
    if page::started() {
        return Ok(Consentry { _private: () }); // one banner per page
    }
    if let Some(w) = warning {
        web_sys::console::warn_1(&w.to_message().into());
    }
    page::start(engine);
    Ok(Consentry { _private: () })
}

/// A config error as JavaScript's Error: `Consentry config: <field>: problem <n>`, with `field` and
/// `code` (the problem's number) on it. The loaders put the words in its place from `errors.json`
/// (written by the build from `core::config::Problem`), fetched only now.
fn config_error(e: crate::core::config::ConfigError) -> JsError {
    let mut msg = String::from("Consentry config: ");
    msg.push_str(if e.field.is_empty() { "(document)" } else { &e.field });
    msg.push_str(": problem ");
    crate::core::canonical::push_int(&mut msg, e.problem as u64);
    msg.push_str(" (its words are in errors.json next to consentry_bg.wasm)");
    let err = JsError::new(&msg);
    let v: JsValue = err.clone().into();
    let _ = Reflect::set(&v, &"field".into(), &JsValue::from_str(&e.field));
    let _ = Reflect::set(&v, &"code".into(), &(e.problem as u32).into());
    err
}

/// Consentry's API on this page.
#[wasm_bindgen]
pub struct Consentry {
    _private: (),
}

fn type_error(key: &str, what: &str) -> JsValue {
    let mut msg = String::from("Consentry.setConsent: ");
    if !key.is_empty() {
        msg.push_str(key);
        msg.push_str(": ");
    }
    msg.push_str(what);
    js_sys::TypeError::new(&msg).into()
}

#[wasm_bindgen]
impl Consentry {
    /// Opens the first layer.
    #[wasm_bindgen(js_name = showBanner)]
    pub fn show_banner(&self) {
        page::show_banner();
    }

    /// Opens the preferences dialog.
    #[wasm_bindgen(js_name = showPreferences)]
    pub fn show_preferences(&self) {
        page::show_preferences();
    }

    /// Grants every purpose (those a honoured GPC signal covers stay refused).
    #[wasm_bindgen(js_name = acceptAll)]
    pub fn accept_all(&self) {
        page::decide(&[], Method::AcceptAll);
    }

    /// Refuses every purpose but `necessary`.
    #[wasm_bindgen(js_name = rejectAll)]
    pub fn reject_all(&self) {
        page::decide(&[], Method::RejectAll);
    }

    /// Changes the named purposes (`{ analytics: true }`); the others keep their state. Throws a
    /// TypeError naming an unknown purpose or a value that is not a boolean.
    #[wasm_bindgen(js_name = setConsent)]
    pub fn set_consent(&self, choices: ConsentOut) -> Result<(), JsValue> {
        let choices: JsValue = choices.into();
        if !choices.is_object() || js_sys::Array::is_array(&choices) {
            return Err(type_error("", "expected an object such as { analytics: true }"));
        }
        let mut requested = Vec::new();
        for k in Doc::keys(&choices).unwrap_or_default() {
            let Some(v) = Doc::get(&choices, &k).and_then(|v| v.as_bool()) else {
                return Err(type_error(&k, "expected true or false"));
            };
            if !page::is_purpose(&k) {
                return Err(type_error(&k, "not a purpose in the config"));
            }
            requested.push((k, v));
        }
        page::decide(&requested, Method::Api);
        Ok(())
    }

    /// What is granted now: `{ necessary: true, analytics: false, … }`.
    #[wasm_bindgen(js_name = getConsent)]
    pub fn get_consent(&self) -> ConsentOut {
        page::consent_value().unchecked_into()
    }

    /// Calls `listener({ consent, method })` after every decision (also the `consentry:change`
    /// event on `document`). Returns a function that removes it.
    pub fn on(&self, #[wasm_bindgen(unchecked_param_type = "'change'")] event: &str, listener: Listener) -> Result<Unsubscribe, JsValue> {
        let f: JsValue = listener.into();
        let Some(f) = f.is_function().then(|| f.unchecked_ref::<Function>()).filter(|_| event == "change") else {
            return Err(js_sys::TypeError::new("Consentry.on: the only event is \"change\", with a function").into());
        };
        let id = page::add_listener(f.clone());
        let off = Closure::<dyn FnMut()>::new(move || page::remove_listener(id));
        Ok(off.into_js_value().unchecked_into())
    }

    /// The visitor's receipts, oldest first.
    pub fn evidence(&self) -> ReceiptsOut {
        page::evidence().unchecked_into()
    }

    /// The visitor's consent record as a JSON document (what "Download my consent record" saves).
    #[wasm_bindgen(js_name = exportEvidence)]
    pub fn export_evidence(&self) -> String {
        page::export()
    }

    /// Verifies the record as stored now: `{ ok, count, brokenAt?, reason? }`. A broken one is
    /// put aside and the visitor asked again.
    #[wasm_bindgen(js_name = verifyEvidence)]
    pub fn verify_evidence(&self) -> VerifyOut {
        page::verify().unchecked_into()
    }

    /// A custom analytics event; dropped (never queued) without analytics consent.
    pub fn capture(&self, #[wasm_bindgen(unchecked_param_type = "string")] event: JsValue, properties: Option<PropsInput>) {
        let name = event.as_string().unwrap_or_else(|| String::from(JsString::from(event)));
        let props: JsValue = properties.map(Into::into).unwrap_or(JsValue::UNDEFINED);
        page::capture(&name, Props::from_doc(&props, 0));
    }
}
