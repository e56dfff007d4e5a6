//! The first-party tracker's browser side: the distinct id cookie, automatic `$pageview` and
//! `$pageleave`, `capture()`, and sending batches (fetch keepalive, sendBeacon on page hide,
//! retries with backoff).
//!
//! Owns the tracker's page state. Never sets the cookie, builds an event or sends a request
//! unless `start` ran (the gate calls it only when the tracker's purpose is granted); `stop`
//! forgets everything at once, and answers or timers of an earlier run are ignored.
use std::cell::{Cell, RefCell};

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use super::{cookies, dom, transport};
use crate::core::config::TrackerConfig;
use crate::core::json;
use crate::core::tracker::{self as rules, Outcome, Page, Queue};
use crate::core::{backoff, time};

struct State {
    cfg: TrackerConfig,
    subject: String,
    id: String,
    q: Queue,
    /// The flush timer (`flush_ms` after the first waiting event).
    timer: Option<i32>,
    /// The retry timer of a failed batch.
    retry: Option<i32>,
    /// The path of the last `$pageview`, so a `replaceState` to the same path is no new view.
    path: String,
    /// `$pageleave` went out for this page.
    left: bool,
    /// The page context of events, read once and again after a navigation or a resize.
    page: Option<PageInfo>,
    /// Random bytes for event uuids, drawn from the CSPRNG 256 at a time.
    pool: [u8; 256],
    used: usize,
}

struct PageInfo {
    url: String,
    host: String,
    path: String,
    referrer: String,
    sizes: [i64; 4],
}

impl PageInfo {
    fn read(allow: &[String]) -> PageInfo {
        let w = dom::window();
        let loc = w.location();
        let mut referrer = rules::strip_url(&dom::document().referrer(), &[]);
        if referrer.is_empty() {
            referrer = String::from("$direct");
        }
        let (sw, sh) = w.screen().map(|sc| (sc.width().unwrap_or(0), sc.height().unwrap_or(0))).unwrap_or((0, 0));
        let px = |v: Result<JsValue, JsValue>| v.ok().and_then(|v| v.as_f64()).unwrap_or(0.0) as i64;
        PageInfo {
            url: rules::strip_url(&loc.href().unwrap_or_default(), allow),
            host: loc.host().unwrap_or_default(),
            path: loc.pathname().unwrap_or_default(),
            referrer,
            sizes: [sw as i64, sh as i64, px(w.inner_width()), px(w.inner_height())],
        }
    }
}

thread_local! {
    static STATE: RefCell<Option<State>> = const { RefCell::new(None) };
    /// Bumped by every `stop`: callbacks of an earlier run compare and do nothing.
    static RUN: Cell<u32> = const { Cell::new(0) };
    static HOOKED: Cell<bool> = const { Cell::new(false) };
}

fn with<R>(f: impl FnOnce(&mut State) -> R) -> Option<R> {
    STATE.with(|s| s.try_borrow_mut().ok().and_then(|mut s| s.as_mut().map(f)))
}

pub fn running() -> bool {
    STATE.with(|s| s.try_borrow().map(|s| s.is_some()).unwrap_or(true))
}

/// The purpose is granted: keep or create the distinct id, refresh the cookie, count the page.
/// Calling it again while running only updates the consent subject.
pub fn start(cfg: &TrackerConfig, subject: &str) {
    if with(|s| {
        if s.subject != subject {
            s.subject = String::from(subject);
        }
    })
    .is_some()
    {
        return;
    }
    let id = cookies::read_id().unwrap_or_else(|| rules::uuid_v4(dom::random::<16>()));
    // Written once per page: this is the refresh of its lifetime.
    cookies::write_id(&id, cfg.cookie_days, cfg.cookie_domain.as_deref());
    let state = State {
        q: Queue::new(cfg.max_queue),
        cfg: cfg.clone(),
        subject: String::from(subject),
        id,
        timer: None,
        retry: None,
        path: String::new(),
        left: false,
        page: None,
        pool: [0; 256],
        used: 256,
    };
    STATE.with(|s| *s.borrow_mut() = Some(state));
    hook();
    if cfg.pageviews {
        pageview();
    }
}

/// Refusal or withdrawal: stop at once, purge the queue, cancel the timers, delete the cookie
/// on every variant. Safe to call when not running (then only a stale cookie is removed).
pub fn stop(cookie_domain: Option<&str>) {
    let old = STATE.with(|s| s.try_borrow_mut().ok().and_then(|mut s| s.take()));
    if let Some(s) = old {
        RUN.set(RUN.get().wrapping_add(1));
        let w = dom::window();
        for t in [s.timer, s.retry].into_iter().flatten() {
            w.clear_timeout_with_handle(t);
        }
    }
    cookies::delete(cookie_domain);
}

/// `Consentry.capture(name, props)`: dropped (never queued for later) unless running.
pub fn capture(name: &str, props: &JsValue) {
    if !running() {
        return;
    }
    if name.is_empty() || name.len() > 200 {
        dom::console_error("Consentry.capture: the event name must be a text of 1 to 200 characters; dropped.");
        return;
    }
    let mut custom = String::new();
    if props.is_object() {
        if let Some(text) = js_sys::JSON::stringify(props).ok().and_then(|s| s.as_string()) {
            custom = rules::custom_members(&text);
        }
    }
    record(name, &custom);
}

/// Builds the event once and queues it; sends when the batch is full. Costs a few µs: the page
/// context and random bytes are read ahead, not per event.
fn record(name: &str, custom: &str) {
    let due = with(|s| {
        let now = dom::now_ms();
        if s.used + 16 > s.pool.len() {
            s.pool = dom::random::<256>();
            s.used = 0;
        }
        let mut r = [0u8; 16];
        r.copy_from_slice(&s.pool[s.used..s.used + 16]);
        s.used += 16;
        let uuid = rules::uuid_v7(now, r);
        let p = s.page.get_or_insert_with(|| PageInfo::read(&s.cfg.allow_params));
        let page = Page { url: &p.url, host: &p.host, path: &p.path, referrer: &p.referrer, sizes: p.sizes };
        if !s.q.push(rules::event(name, &s.id, &s.subject, &page, custom, now, &uuid)) {
            dom::console_error("Consentry.capture: the event's properties are too large (16 KB at most); dropped.");
        }
        let waiting = s.retry.is_some();
        (s.q.due(s.cfg.batch_size) && !waiting, s.timer.is_none() && !waiting)
    });
    match due {
        Some((true, _)) => send(),
        Some((false, true)) => arm(),
        _ => {}
    }
}

fn pageview() {
    let path = dom::window().location().pathname().unwrap_or_default();
    if with(|s| core::mem::replace(&mut s.path, path)).is_some() {
        record("$pageview", "");
    }
}

fn later(ms: u32, f: impl FnOnce() + 'static) -> Option<i32> {
    let cb = Closure::once_into_js(f);
    dom::window().set_timeout_with_callback_and_timeout_and_arguments_0(cb.unchecked_ref(), ms as i32).ok()
}

/// Arms the flush timer unless it or a retry is already waiting.
fn arm() {
    let run = RUN.get();
    with(|s| {
        if s.timer.is_none() && s.retry.is_none() && !s.q.is_empty() {
            s.timer = later(s.cfg.flush_ms, move || {
                if RUN.get() == run {
                    with(|s| s.timer = None);
                    send();
                }
            });
        }
    });
}

/// Sends the next batch now, unless one is under way or waiting for its retry.
fn send() {
    let run = RUN.get();
    let job = with(|s| {
        if s.retry.is_some() {
            return None;
        }
        if let Some(t) = s.timer.take() {
            dom::window().clear_timeout_with_handle(t);
        }
        let sent_at = time::format_utc_iso(dom::now_ms());
        let body = s.q.next(s.cfg.batch_size, &s.cfg.api_key, &sent_at)?;
        Some((s.cfg.endpoint.clone(), body))
    });
    if let Some(Some((url, body))) = job {
        transport::post(&url, &body, move |status| done(run, status));
    }
}

fn done(run: u32, status: u16) {
    if RUN.get() != run {
        return;
    }
    let more = with(|s| {
        match s.q.done(status) {
            Outcome::Retry(n) => {
                let wait = backoff::delay_ms(n, u32::from_le_bytes(dom::random::<4>()));
                s.retry = later(wait, move || {
                    if RUN.get() == run {
                        with(|s| s.retry = None);
                        send();
                    }
                });
                return None;
            }
            Outcome::Refused => {
                let mut m = String::from("Consentry tracker: the collector refused a batch (HTTP ");
                json::push_int(&mut m, status as i64);
                m.push_str("); its events were dropped.");
                dom::console_error(&m);
            }
            Outcome::Sent => {}
        }
        Some(s.q.len() >= s.cfg.batch_size)
    });
    match more {
        Some(Some(true)) => send(),
        Some(Some(false)) => arm(),
        _ => {}
    }
}

/// The page is being hidden or closed: hand what waits to `sendBeacon`.
pub fn on_page_hide() {
    with(|s| {
        let sent_at = time::format_utc_iso(dom::now_ms());
        let url = &s.cfg.endpoint;
        s.q.beacon(s.cfg.batch_size, &s.cfg.api_key, &sent_at, &mut |b| transport::beacon(url, b));
    });
}

fn on_page_leave(_ev: web_sys::Event) {
    let leave = with(|s| s.cfg.pageleave && !core::mem::replace(&mut s.left, true));
    if leave == Some(true) {
        record("$pageleave", "");
    }
    on_page_hide();
}

/// A single-page-app navigation: the page context is read again; a new path is a new `$pageview`.
fn navigated() {
    let path = dom::window().location().pathname().unwrap_or_default();
    if with(|s| {
        s.page = None;
        s.cfg.pageviews && s.path != path
    }) == Some(true)
    {
        pageview();
    }
}

/// Wraps `history.pushState`/`replaceState` and listens to `popstate`, `pagehide` and `resize`,
/// once per page. Inert while not running: `navigated` and `on_page_leave` find no state and do nothing.
fn hook() {
    if HOOKED.replace(true) {
        return;
    }
    let w = dom::window();
    if let Ok(history) = w.history() {
        for name in ["pushState", "replaceState"] {
            let Ok(orig) = dom::get(&history, name).dyn_into::<js_sys::Function>() else { continue };
            let h = history.clone();
            let f = Closure::<dyn Fn(JsValue, JsValue, JsValue) -> Result<JsValue, JsValue>>::new(
                move |a: JsValue, b: JsValue, c: JsValue| {
                    let r = orig.call3(&h, &a, &b, &c)?;
                    navigated();
                    Ok(r)
                },
            );
            let _ = js_sys::Reflect::set(&history, &JsValue::from_str(name), f.as_ref());
            f.forget();
        }
    }
    let resized: fn(web_sys::Event) = |_| {
        with(|s| s.page = None);
    };
    for (event, f) in [("popstate", (|_| navigated()) as fn(web_sys::Event)), ("pagehide", on_page_leave), ("resize", resized)] {
        let cb = Closure::<dyn Fn(web_sys::Event)>::new(f);
        let _ = w.add_event_listener_with_callback(event, cb.as_ref().unchecked_ref());
        cb.forget();
    }
}
