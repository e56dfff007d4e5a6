//! Applies the current consent to the page: the tracker, `<script type="text/plain"
//! data-consentry="PURPOSE">`, `<iframe data-consentry="PURPOSE" data-consentry-src=…>`, Google
//! Consent Mode v2 and posthog-js.
//!
//! Owns what runs on the page because of consent. Never runs a gated script or loads a gated
//! iframe whose purposes (space-separated in `data-consentry`, all required) are not all granted.
//! `apply` is idempotent: it is called at load, after every decision and when another tab changed
//! the decision, and only acts on what changed.
use std::cell::RefCell;

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use super::app::App;
use super::{dom, tracker};
use crate::core::consent;

#[derive(Default)]
struct Gates {
    /// Purposes granted now (read by the script chain between loads).
    granted: Vec<String>,
    /// A chain of gated scripts is under way (waiting for an external one to load).
    busy: bool,
    /// Consent Mode signals last told to gtag: (analytics, ads). None before the default.
    mode: Option<(bool, bool)>,
    /// What posthog-js was last told.
    posthog: Option<bool>,
}

thread_local! {
    static G: RefCell<Gates> = RefCell::new(Gates::default());
}

/// Called after every change of `app.effective` (and once at load).
pub fn apply(app: &App) {
    let on = |p: &str| consent::granted(&app.effective, p);
    // The tracker first, so a withdrawal stops it before anything else happens.
    let purpose = match &app.config.tracker {
        Some(t) => {
            if on(&t.purpose) {
                tracker::start(t, &app.log.subject);
            } else {
                tracker::stop(t.cookie_domain.as_deref());
            }
            t.purpose.as_str()
        }
        None => "analytics",
    };
    if app.config.consent_mode {
        consent_mode(on("analytics"), on("marketing"));
    }
    posthog(on(purpose));
    let granted: Vec<String> = app.effective.iter().filter(|(_, v)| *v).map(|(k, _)| k.clone()).collect();
    let start = G.with(|g| {
        let mut g = g.borrow_mut();
        g.granted = granted;
        !core::mem::replace(&mut g.busy, true)
    });
    iframes();
    if start {
        run_scripts();
    }
}

/// Whether every purpose named in the element's `data-consentry` is granted.
fn allowed(el: &web_sys::Element) -> bool {
    let Some(list) = el.get_attribute("data-consentry") else { return false };
    G.with(|g| {
        let g = g.borrow();
        let mut names = list.split_whitespace().peekable();
        names.peek().is_some() && names.all(|p| g.granted.iter().any(|k| k == p))
    })
}

fn each(selector: &str, mut f: impl FnMut(web_sys::Element) -> bool) {
    let Ok(list) = dom::document().query_selector_all(selector) else { return };
    for i in 0..list.length() {
        if let Some(el) = list.item(i).and_then(|n| n.dyn_into::<web_sys::Element>().ok()) {
            if !f(el) {
                return;
            }
        }
    }
}

/// Gated iframes load when allowed and go back to `about:blank` when consent is withdrawn.
fn iframes() {
    each("iframe[data-consentry][data-consentry-src]", |el| {
        let want = el.get_attribute("data-consentry-src").unwrap_or_default();
        let has = el.get_attribute("src").is_some_and(|s| s == want);
        if allowed(&el) != has {
            let _ = el.set_attribute("src", if has { "about:blank" } else { &want });
        }
        true
    });
}

/// Runs the allowed gated scripts in document order, each once: a copy with the same attributes
/// (and nonce), `type="text/javascript"`, replaces the inert one. An external script without
/// `async` is waited for (load or error) before the next one runs, so order is kept.
fn run_scripts() {
    if !run_one() {
        G.with(|g| g.borrow_mut().busy = false);
    }
}

/// Runs allowed gated scripts until one must be waited for (true) or none is left (false).
fn run_one() -> bool {
    loop {
        let mut next = None;
        each("script[type=\"text/plain\"][data-consentry]", |el| {
            if allowed(&el) {
                next = Some(el);
                return false;
            }
            true
        });
        let Some(old) = next else { return false };
        let Ok(new) = dom::document().create_element("script") else { return false };
        for name in old.get_attribute_names().iter().filter_map(|n| n.as_string()) {
            if name != "type" {
                let _ = new.set_attribute(&name, &old.get_attribute(&name).unwrap_or_default());
            }
        }
        let _ = new.set_attribute("type", "text/javascript");
        let _ = js_sys::Reflect::set(&new, &"nonce".into(), &dom::get(&old, "nonce"));
        new.set_text_content(old.text_content().as_deref());
        let wait = old.has_attribute("src") && !old.has_attribute("async");
        if wait {
            let cont = Closure::once_into_js(run_scripts);
            let _ = js_sys::Reflect::set(&new, &"onload".into(), &cont);
            let _ = js_sys::Reflect::set(&new, &"onerror".into(), &cont);
        }
        let replaced = old.parent_node().map(|p| p.replace_child(&new, &old).is_ok());
        if replaced != Some(true) {
            // Detached meanwhile: mark it so it is not found again.
            let _ = old.set_attribute("type", "text/consentry-skipped");
        } else if wait {
            return true;
        }
    }
}

/// `gtag('consent', 'default' | 'update', {…})`: the default (all denied) once, then an update
/// whenever the signals change. Defines `dataLayer` and `gtag` as Google's snippet does when the
/// page has not.
fn consent_mode(analytics: bool, ads: bool) {
    let last = G.with(|g| g.borrow_mut().mode.replace((analytics, ads)));
    let w = dom::window();
    let mut f = dom::get(&w, "gtag");
    if !f.is_function() {
        if !js_sys::Array::is_array(&dom::get(&w, "dataLayer")) {
            let _ = js_sys::Reflect::set(&w, &"dataLayer".into(), &js_sys::Array::new());
        }
        let g = Closure::<dyn Fn(JsValue, JsValue, JsValue)>::new(|a, b, c| push_arguments(&[a, b, c]));
        f = g.into_js_value();
        let _ = js_sys::Reflect::set(&w, &"gtag".into(), &f);
    }
    let call = |cmd: &str, a: bool, ads: bool, wait: bool| {
        let o = js_sys::Object::new();
        let state = |g: bool| JsValue::from_str(if g { "granted" } else { "denied" });
        for (k, g) in [("ad_storage", ads), ("ad_user_data", ads), ("ad_personalization", ads), ("analytics_storage", a)] {
            let _ = js_sys::Reflect::set(&o, &k.into(), &state(g));
        }
        if wait {
            let _ = js_sys::Reflect::set(&o, &"wait_for_update".into(), &JsValue::from(500));
        }
        if let Some(f) = f.dyn_ref::<js_sys::Function>() {
            let _ = f.call3(&JsValue::UNDEFINED, &"consent".into(), &cmd.into(), &o);
        }
    };
    let before = match last {
        None => {
            call("default", false, false, true);
            (false, false)
        }
        Some(l) => l,
    };
    if before != (analytics, ads) {
        call("update", analytics, ads, false);
    }
}

/// What Google's `function gtag(){dataLayer.push(arguments)}` pushes: an arguments object. A
/// real one cannot be made without `eval` (forbidden by strict CSPs), so this pushes an
/// array-like with the same indices, a non-enumerable `length`, and the `Arguments` tag, which is
/// what `Object.prototype.toString` (and gtag.js, which tells commands apart by it) sees.
fn push_arguments(args: &[JsValue]) {
    let n = args.iter().rposition(|a| !a.is_undefined()).map_or(0, |i| i + 1);
    let o = js_sys::Object::new();
    for (i, a) in args[..n].iter().enumerate() {
        let _ = js_sys::Reflect::set(&o, &JsValue::from(i as u32), a);
    }
    let len = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&len, &"value".into(), &JsValue::from(n as u32));
    let _ = js_sys::Reflect::set(&len, &"writable".into(), &JsValue::TRUE);
    js_sys::Object::define_property(&o, &"length".into(), &len);
    let _ = js_sys::Reflect::set(&o, &js_sys::Symbol::to_string_tag().into(), &"Arguments".into());
    let dl = dom::get(&dom::window(), "dataLayer");
    if let Ok(push) = dom::get(&dl, "push").dyn_into::<js_sys::Function>() {
        let _ = push.call1(&dl, &o);
    }
}

/// posthog-js on the same page follows the tracker's purpose (told once per page and change).
fn posthog(on: bool) {
    let ph = dom::get(&dom::window(), "posthog");
    if !ph.is_object() || G.with(|g| g.borrow_mut().posthog.replace(on)) == Some(on) {
        return;
    }
    let (has, act) = if on { ("has_opted_in_capturing", "opt_in_capturing") } else { ("has_opted_out_capturing", "opt_out_capturing") };
    let call = |name: &str| match dom::get(&ph, name).dyn_into::<js_sys::Function>() {
        Ok(f) => f.call0(&ph).unwrap_or(JsValue::UNDEFINED),
        Err(_) => JsValue::UNDEFINED,
    };
    if call(has) != JsValue::TRUE {
        call(act);
    }
}
