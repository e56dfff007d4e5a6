//! What runs on the page because of consent: `<script type="text/plain" data-consentry="…">`
//! (run in document order, each once, an external one awaited), `<iframe data-consentry="…"
//! data-consentry-src="…">` (loaded while allowed, `about:blank` otherwise), Google Consent Mode
//! v2 (the default, all denied, once; then an update on every change) and posthog-js on the same
//! page (told to opt in or out once per change).
//!
//! Owns its own small state, apart from the page controller's, because every call here may run
//! the page's code (a script, gtag, posthog-js) which may call Consentry's API again. Must never:
//! run a script or load a frame whose purposes are not all granted.
use crate::web::dom::document;
use crate::web::global::Global;
use js_sys::{Function, Object, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{Element, HtmlScriptElement};

// Google's snippet defines `gtag` as a function that pushes its `arguments` object (not an
// array) onto `dataLayer`, and gtag.js reads exactly that; Rust cannot make an `arguments`
// object, so these few lines are JavaScript. Used only when the page has no gtag of its own.
#[wasm_bindgen(
    inline_js = "export function gtag_stub(){var w=window;if(typeof w.gtag!='function'){if(!Array.isArray(w.dataLayer))w.dataLayer=[];w.gtag=function(){w.dataLayer.push(arguments)}}}"
)]
extern "C" {
    fn gtag_stub();
}

struct Gates {
    /// The script runner is waiting for an external script to load.
    busy: bool,
    /// The Consent Mode state last told (analytics, ads); None before the default.
    mode: Option<(bool, bool)>,
    /// What posthog-js was last told.
    told: Option<bool>,
}

static GATES: Global<Gates> = Global::new(Gates { busy: false, mode: None, told: None });

/// What the gates obey: purpose id → granted.
pub type Consent = Vec<(String, bool)>;

fn on(consent: &Consent, id: &str) -> bool {
    consent.iter().any(|(k, v)| k == id && *v)
}

/// Whether an element's `data-consentry` purposes (space-separated) are all granted.
fn allowed(e: &Element, consent: &Consent) -> bool {
    let ids = e.get_attribute("data-consentry").unwrap_or_default();
    let mut any = false;
    let mut rest = ids.as_str();
    while !rest.is_empty() {
        // ASCII whitespace separates the ids (as in a class list).
        let end = rest.bytes().position(|b| b.is_ascii_whitespace()).unwrap_or(rest.len());
        let id = rest.get(..end).unwrap_or("");
        if !id.is_empty() {
            if !on(consent, id) {
                return false;
            }
            any = true;
        }
        rest = rest.get(end + 1..).unwrap_or("");
    }
    any
}

/// Applies the consent to everything gated on the page.
pub fn apply(consent: &Consent, consent_mode: bool, tracker_purpose: &str) {
    if consent_mode {
        update_consent_mode(on(consent, "analytics"), on(consent, "marketing"));
    }
    posthog(on(consent, tracker_purpose));
    for f in crate::web::dom::all(&document(), "iframe[data-consentry][data-consentry-src]") {
        let want = f.get_attribute("data-consentry-src").unwrap_or_default();
        let has = f.get_attribute("src").as_deref() == Some(want.as_str());
        if allowed(&f, consent) != has {
            let _ = f.set_attribute("src", if has { "about:blank" } else { &want });
        }
    }
    let start = GATES.0.try_borrow_mut().map(|mut g| !std::mem::replace(&mut g.busy, true)).unwrap_or(false);
    if start {
        run_scripts(consent);
    }
}

/// Runs the allowed gated scripts in document order, each once: a copy typed as JavaScript
/// replaces it; an external one without `async` is awaited first (order kept), then the runner
/// goes on with the consent as it is then.
fn run_scripts(consent: &Consent) {
    loop {
        let mut next = None;
        for e in crate::web::dom::all(&document(), "script[type=\"text/plain\"][data-consentry]") {
            if allowed(&e, consent) {
                next = Some(e);
                break;
            }
        }
        let Some(old) = next else { break };
        let Some(copy) = old.clone_node_with_deep(true).ok().map(|n| n.unchecked_into::<HtmlScriptElement>()) else { break };
        let _ = copy.set_attribute("type", "text/javascript");
        let wait = old.get_attribute("src").is_some() && old.get_attribute("async").is_none();
        if wait {
            let go_on = Closure::<dyn FnMut()>::once_into_js(|| run_scripts(&crate::web::page::consent_now()));
            crate::web::dom::set_prop(&copy, "onload", &go_on);
            crate::web::dom::set_prop(&copy, "onerror", &go_on);
        }
        match crate::web::dom::obj::<web_sys::Node>(&old, "parentNode").map(|p| p.replace_child(&copy, &old)) {
            Some(Ok(_)) if wait => return,
            Some(Ok(_)) => {}
            // Detached meanwhile: never tried again.
            _ => {
                let _ = old.set_attribute("type", "text/consentry-skipped");
            }
        }
    }
    if let Ok(mut g) = GATES.0.try_borrow_mut() {
        g.busy = false;
    }
}

fn window_fn(name: &str) -> Option<(JsValue, Function)> {
    let w: JsValue = crate::web::dom::window()?.into();
    let f = crate::web::dom::method(&w, name)?;
    Some((w, f))
}

/// Google Consent Mode v2: the default (all denied, waiting 500 ms for an update) once, unless
/// `consentry-defaults.js` set it before any tag loaded; then an update whenever analytics or
/// ads change.
fn update_consent_mode(analytics: bool, ads: bool) {
    let last = GATES.0.try_borrow_mut().ok().map(|mut g| g.mode.replace((analytics, ads)));
    let Some(last) = last else { return };
    gtag_stub();
    // consentry-defaults.js, loaded before gtag.js or GTM, already set the default.
    if last.is_none() && !web_sys::window().is_some_and(|w| Reflect::get(&w, &"consentryDefaults".into()).is_ok_and(|v| v.is_truthy())) {
        gtag("default", false, false);
    }
    if last.unwrap_or((false, false)) != (analytics, ads) {
        gtag("update", analytics, ads);
    }
}

fn gtag(command: &str, analytics: bool, ads: bool) {
    let Some((w, f)) = window_fn("gtag") else { return };
    let word = |on: bool| JsValue::from_str(if on { "granted" } else { "denied" });
    let p = Object::new();
    for (k, v) in [("ad_storage", ads), ("ad_user_data", ads), ("ad_personalization", ads), ("analytics_storage", analytics)] {
        let _ = Reflect::set(&p, &k.into(), &word(v));
    }
    if command == "default" {
        let _ = Reflect::set(&p, &"wait_for_update".into(), &500.into());
    }
    let _ = f.call3(&w, &"consent".into(), &command.into(), &p);
}

/// posthog-js on the same page follows the tracker's purpose (told once per change).
fn posthog(granted: bool) {
    let Some(p) = crate::web::dom::window().and_then(|w| Reflect::get(&w, &"posthog".into()).ok()).filter(|p| p.is_object()) else {
        return;
    };
    let changed = GATES.0.try_borrow_mut().map(|mut g| g.told.replace(granted) != Some(granted)).unwrap_or(false);
    if !changed {
        return;
    }
    let call = |name: &str| crate::web::dom::method(&p, name).and_then(|f| f.call0(&p).ok());
    let (has, set) =
        if granted { ("has_opted_in_capturing", "opt_in_capturing") } else { ("has_opted_out_capturing", "opt_out_capturing") };
    if call(has) != Some(JsValue::TRUE) {
        call(set);
    }
}
