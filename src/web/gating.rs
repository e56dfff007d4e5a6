//! Applies the current consent to the page: the tracker, `<script type="text/plain"
//! data-consentry="PURPOSE">`, `<iframe data-consentry="PURPOSE" data-consentry-src=…>`, Google
//! Consent Mode v2 and posthog-js.
//!
//! Owns what runs on the page because of consent. Never runs a gated script or loads a gated
//! iframe whose purposes (space-separated in `data-consentry`, all required) are not all granted.
//! `apply` is idempotent: it is called at load, after every decision and when another tab changed
//! the decision, and only acts on what changed.
#[allow(unused_imports)]
use crate::prelude::*;
use core::cell::RefCell;

use super::global::Global;

use wasm_bindgen::JsValue;

use super::app::App;
use super::{dom, tracker};
use crate::core::consent::{self, Choices};
use crate::core::json::push_str;

#[derive(Default)]
struct Gates {
    /// The choices applied now (read by the script chain between loads).
    granted: Choices,
    /// A chain of gated scripts is under way (waiting for an external one to load).
    busy: bool,
    /// Consent Mode signals last told to gtag: (analytics, ads). None before the default.
    mode: Option<(bool, bool)>,
    /// What posthog-js was last told.
    posthog: Option<bool>,
}

static G: Global<RefCell<Option<Gates>>> = Global(RefCell::new(None));

/// The one way to the gates' state (one generic copy).
fn gates(f: &mut dyn FnMut(&mut Gates)) {
    G.with(|g| {
        if let Ok(mut g) = g.try_borrow_mut() {
            f(g.get_or_insert_with(Gates::default))
        }
    })
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
    let mut start = false;
    gates(&mut |g| {
        g.granted = app.effective.clone();
        start = !core::mem::replace(&mut g.busy, true);
    });
    each("iframe[data-consentry][data-consentry-src]", &mut |el| {
        let want = dom::attr(&el, "data-consentry-src").unwrap_or_default();
        let has = dom::attr(&el, "src").is_some_and(|s| s == want);
        // Loaded when allowed; back to a blank page when consent is withdrawn.
        if allowed(&el) != has {
            dom::set_attr(&el, "src", if has { "about:blank" } else { &want });
        }
        true
    });
    if start {
        run_scripts();
    }
}

/// Whether every purpose named in the element's `data-consentry` is granted.
fn allowed(el: &JsValue) -> bool {
    let list = dom::attr(el, "data-consentry").unwrap_or_default();
    let mut ok = false;
    gates(&mut |g| {
        // Space-separated names, each granted, and at least one.
        let mut rest = list.as_str();
        ok = false;
        while !rest.is_empty() {
            let (p, more) = crate::core::cut(rest, b' ').unwrap_or((rest, ""));
            rest = more;
            if p.is_empty() {
                continue;
            }
            if !consent::granted(&g.granted, p) {
                ok = false;
                return;
            }
            ok = true;
        }
    });
    ok
}

/// Calls `f` on each element matching `selector`, in document order, until it returns false.
fn each(selector: &str, f: &mut dyn FnMut(JsValue) -> bool) {
    let list = dom::run(&dom::document(), "querySelectorAll", &dom::s(selector), &dom::U);
    for i in 0..dom::len(&list) {
        if !f(dom::at(&list, i)) {
            return;
        }
    }
}

fn on_script_done(_: JsValue) {
    run_scripts();
}

/// Runs the allowed gated scripts in document order, each once: a copy with the same attributes
/// (and nonce) and `type="text/javascript"` replaces the inert one. An external script without
/// `async` is waited for (load or error) before the next one runs, so order is kept.
fn run_scripts() {
    loop {
        let mut next = None;
        each("script[type=\"text/plain\"][data-consentry]", &mut |el| {
            let ok = allowed(&el);
            if ok {
                next = Some(el);
            }
            !ok
        });
        let Some(old) = next else { break };
        // A deep clone keeps every attribute, the inline text and the nonce; a `text/plain`
        // script was never "already started", so the clone runs once inserted as JavaScript.
        let Ok(new) = dom::call(&old, "cloneNode", &JsValue::TRUE, &dom::U) else { break };
        dom::set_attr(&new, "type", "text/javascript");
        let wait = dom::attr(&old, "src").is_some() && dom::attr(&old, "async").is_none();
        if wait {
            let cont = dom::listener(on_script_done);
            dom::set(&new, "onload", &cont);
            dom::set(&new, "onerror", &cont);
        }
        match dom::call(&dom::get(&old, "parentNode"), "replaceChild", &new, &old) {
            Ok(_) if wait => return,
            Ok(_) => {}
            // Detached meanwhile: mark it so it is not found again.
            Err(_) => dom::set_attr(&old, "type", "text/consentry-skipped"),
        }
    }
    gates(&mut |g| g.busy = false);
}

/// `gtag('consent', 'default' | 'update', {…})`: the default (all denied) once, then an update
/// whenever the signals change. Defines `dataLayer` and `gtag` as Google's snippet does when the
/// page has not.
fn consent_mode(analytics: bool, ads: bool) {
    let mut last = None;
    gates(&mut |g| last = g.mode.replace((analytics, ads)));
    let w = dom::window();
    if !dom::get(&w, "gtag").is_function() {
        if dom::run(&dom::get(&w, "Array"), "isArray", &dom::get(&w, "dataLayer"), &dom::U) != JsValue::TRUE {
            dom::set(&w, "dataLayer", &dom::json("[]"));
        }
        dom::set(&w, "gtag", &dom::func(alloc::boxed::Box::new(push_arguments)));
    }
    let before = match last {
        Some(l) => l,
        None => {
            gtag("default", false, false);
            (false, false)
        }
    };
    if before != (analytics, ads) {
        gtag("update", analytics, ads);
    }
}

/// Calls the page's `gtag('consent', cmd, {ad_storage, ad_user_data, ad_personalization,
/// analytics_storage})`; the default also carries `wait_for_update: 500`.
fn gtag(cmd: &str, analytics: bool, ads: bool) {
    let mut t = String::from("{");
    for (k, g) in [("ad_storage", ads), ("ad_user_data", ads), ("ad_personalization", ads), ("analytics_storage", analytics)] {
        if t.len() > 1 {
            t.push(',');
        }
        push_str(&mut t, k);
        t.push(':');
        push_str(&mut t, if g { "granted" } else { "denied" });
    }
    if cmd == "default" {
        t.push_str(",\"wait_for_update\":500");
    }
    t.push('}');
    let params = dom::json(&t);
    if let Some(f) = dom::func_of(dom::get(&dom::window(), "gtag")) {
        let _ = f.call3(&JsValue::UNDEFINED, &"consent".into(), &cmd.into(), &params);
    }
}

/// What Google's `function gtag(){dataLayer.push(arguments)}` pushes: an arguments object. A
/// real one cannot be made without `eval` (forbidden by strict CSPs), so this pushes an
/// array-like with the same indices, a non-enumerable `length`, and the `Arguments` tag, which is
/// what `Object.prototype.toString` (and so gtag.js, which tells commands apart by it) sees.
fn push_arguments(a: JsValue, b: JsValue, c: JsValue) -> Result<JsValue, JsValue> {
    let args = [a, b, c];
    let n = args.iter().rposition(|a| !a.is_undefined()).map_or(0, |i| i + 1);
    let o = dom::json("{}");
    for (i, a) in args[..n].iter().enumerate() {
        dom::set_at(&o, &JsValue::from(i as u32), a);
    }
    let w = dom::window();
    let len = dom::json("{\"writable\":true}");
    dom::set(&len, "value", &JsValue::from(n as u32));
    let object = dom::get(&w, "Object");
    if let Some(define) = dom::func_of(dom::get(&object, "defineProperty")) {
        let _ = define.call3(&object, &o, &dom::s("length"), &len);
    }
    let tag = dom::get(&dom::get(&w, "Symbol"), "toStringTag");
    dom::set_at(&o, &tag, &dom::s("Arguments"));
    let dl = dom::get(&w, "dataLayer");
    if let Some(push) = dom::func_of(dom::get(&dl, "push")) {
        let _ = push.call1(&dl, &o);
    }
    Ok(JsValue::UNDEFINED)
}

/// posthog-js on the same page follows the tracker's purpose (told once per page and change,
/// and only when it does not already agree).
fn posthog(on: bool) {
    let ph = dom::get(&dom::window(), "posthog");
    if !ph.is_object() {
        return;
    }
    let mut last = None;
    gates(&mut |g| last = g.posthog.replace(on));
    if last == Some(on) {
        return;
    }
    let (has, act) = if on { ("has_opted_in_capturing", "opt_in_capturing") } else { ("has_opted_out_capturing", "opt_out_capturing") };
    let call = |name: &str| dom::run(&ph, name, &dom::U, &dom::U);
    if call(has) != JsValue::TRUE {
        call(act);
    }
}
