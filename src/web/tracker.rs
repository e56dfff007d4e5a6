//! The first-party tracker's browser side: the distinct id cookie, automatic `$pageview` and
//! `$pageleave`, `capture()`, and sending batches (fetch keepalive, sendBeacon on page hide,
//! retries with backoff).
//!
//! Owns the tracker's page state. Never sets the cookie, builds an event or sends a request
//! unless `start` ran (the gate calls it only when the tracker's purpose is granted); `stop`
//! forgets everything at once, cancels the timers, and answers of an earlier run are ignored.
//!
//! Size: every state access goes through one non-generic `with`, every timer and listener is a
//! `dom::listener` of a plain `fn` (the one closure type of the shell), and page facts are read
//! with `Reflect.get`, so the module adds few generic copies and imports.
#[allow(unused_imports)]
use crate::prelude::*;
use core::cell::{Cell, RefCell};

use super::global::Global;

use wasm_bindgen::JsValue;

use super::{cookies, dom, transport};
use crate::core::config::TrackerConfig;
use crate::core::tracker::{self as rules, Outcome, Page, Queue};
use crate::core::{backoff, json, time};

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
    /// The two timer callbacks, made once per run.
    on_flush: JsValue,
    on_retry: JsValue,
}

struct PageInfo {
    url: String,
    host: String,
    path: String,
    referrer: String,
    sizes: [i64; 4],
}

fn text(target: &JsValue, key: &str) -> String {
    dom::text(target, key).unwrap_or_default()
}

fn int(target: &JsValue, key: &str) -> i64 {
    dom::get(target, key).as_f64().unwrap_or(0.0) as i64
}

impl PageInfo {
    fn read(allow: &[String]) -> PageInfo {
        let w: JsValue = dom::window().into();
        let loc = dom::get(&w, "location");
        let screen = dom::get(&w, "screen");
        let mut referrer = rules::strip_url(&text(&dom::document(), "referrer"), &[]);
        if referrer.is_empty() {
            referrer = String::from("$direct");
        }
        PageInfo {
            url: rules::strip_url(&text(&loc, "href"), allow),
            host: text(&loc, "host"),
            path: text(&loc, "pathname"),
            referrer,
            sizes: [int(&screen, "width"), int(&screen, "height"), int(&w, "innerWidth"), int(&w, "innerHeight")],
        }
    }
}

static STATE: Global<RefCell<Option<State>>> = Global(RefCell::new(None));
/// Bumped by every `stop`: answers to requests of an earlier run compare and do nothing.
static RUN: Global<Cell<u32>> = Global(Cell::new(0));
static HOOKED: Global<Cell<bool>> = Global(Cell::new(false));

/// Runs `f` on the state when the tracker runs (and the state is not already borrowed).
fn with(f: &mut dyn FnMut(&mut State)) -> bool {
    STATE.with(|s| match s.try_borrow_mut().as_deref_mut() {
        Ok(Some(state)) => {
            f(state);
            true
        }
        _ => false,
    })
}

fn replace(new: Option<State>) -> Option<State> {
    STATE.with(|s| s.try_borrow_mut().ok().and_then(|mut s| core::mem::replace(&mut *s, new)))
}

/// The purpose is granted: keep or create the distinct id, refresh the cookie, count the page.
/// Calling it again while running only updates the consent subject.
pub fn start(cfg: &TrackerConfig, subject: &str) {
    if with(&mut |s| {
        if s.subject != subject {
            s.subject = String::from(subject);
        }
    }) {
        return;
    }
    let id = cookies::read_id().unwrap_or_else(|| rules::uuid_v4(dom::random::<16>()));
    // Written once per page: this is the refresh of its lifetime.
    cookies::write_id(&id, cfg.cookie_days, cfg.cookie_domain.as_deref());
    replace(Some(State {
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
        on_flush: dom::listener(on_flush_timer),
        on_retry: dom::listener(on_retry_timer),
    }));
    hook();
    if cfg.pageviews {
        pageview();
    }
}

/// Refusal or withdrawal: stop at once, purge the queue, cancel the timers, delete the cookie
/// on every variant. Safe to call when not running (then only a stale cookie is removed).
pub fn stop(cookie_domain: Option<&str>) {
    if let Some(s) = replace(None) {
        RUN.set(RUN.get().wrapping_add(1));
        for t in [s.timer, s.retry].into_iter().flatten() {
            dom::cancel(t);
        }
    }
    cookies::delete(cookie_domain);
}

/// `Consentry.capture(name, props)`: dropped (never queued for later) unless running.
pub fn capture(name: &str, props: &JsValue) {
    if !with(&mut |_| {}) {
        return;
    }
    if name.is_empty() || name.len() > 200 {
        dom::console_error("Consentry.capture: the event name must be a text of 1 to 200 characters; dropped.");
        return;
    }
    let mut custom = String::new();
    if props.is_object() {
        let json = dom::get(&dom::window(), "JSON");
        if let Some(text) = dom::run(&json, "stringify", props, &dom::U).as_string() {
            custom = rules::custom_members(&text);
        }
    }
    record(name, &custom);
}

/// Builds the event once and queues it; sends when the batch is full. Costs a few µs: the page
/// context and random bytes are read ahead, not per event.
fn record(name: &str, custom: &str) {
    let mut due = false;
    with(&mut |s| {
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
        due = s.q.due(s.cfg.batch_size) && !waiting;
        if !due && s.timer.is_none() && !waiting && !s.q.is_empty() {
            s.timer = dom::later(s.cfg.flush_ms, &s.on_flush);
        }
    });
    if due {
        send();
    }
}

fn location() -> JsValue {
    dom::get(&dom::window(), "location")
}

fn pageview() {
    let path = text(&location(), "pathname");
    if with(&mut |s| s.path.clone_from(&path)) {
        record("$pageview", "");
    }
}

fn on_flush_timer(_: JsValue) {
    if with(&mut |s| s.timer = None) {
        send();
    }
}

fn on_retry_timer(_: JsValue) {
    if with(&mut |s| s.retry = None) {
        send();
    }
}

/// Sends the next batch now, unless one is under way or waiting for its retry.
fn send() {
    let mut job = None;
    with(&mut |s| {
        if s.retry.is_some() || s.q.sending {
            return;
        }
        if let Some(t) = s.timer.take() {
            dom::cancel(t);
        }
        let sent_at = time::format_utc_iso(dom::now_ms());
        job = s.q.next(s.cfg.batch_size, &s.cfg.api_key, &sent_at).map(|body| (s.cfg.endpoint.clone(), body));
    });
    if let Some((url, body)) = job {
        let run = RUN.get();
        transport::post(&url, &body, done, run as i64);
    }
}

fn done(run: i64, status: u16) {
    if RUN.get() as i64 != run {
        return;
    }
    let mut more = false;
    with(&mut |s| match s.q.done(status) {
        Outcome::Retry(n) => {
            s.retry = dom::later(backoff::delay_ms(n, u32::from_le_bytes(dom::random::<4>())), &s.on_retry);
        }
        outcome => {
            if outcome == Outcome::Refused {
                let mut m = String::from("Consentry tracker: the collector refused a batch (HTTP ");
                json::push_int(&mut m, status as i64);
                m.push_str("); its events were dropped.");
                dom::console_error(&m);
            }
            more = s.q.due(s.cfg.batch_size);
            if !more && !s.q.is_empty() && s.timer.is_none() {
                s.timer = dom::later(s.cfg.flush_ms, &s.on_flush);
            }
        }
    });
    if more {
        send();
    }
}

/// The page is being hidden or closed: hand what waits to `sendBeacon`.
pub fn on_page_hide() {
    with(&mut |s| {
        let sent_at = time::format_utc_iso(dom::now_ms());
        let url = &s.cfg.endpoint;
        s.q.beacon(s.cfg.batch_size, &s.cfg.api_key, &sent_at, &mut |b| transport::beacon(url, b));
    });
}

fn on_page_leave(_: JsValue) {
    let mut leave = false;
    with(&mut |s| leave = s.cfg.pageleave && !core::mem::replace(&mut s.left, true));
    if leave {
        record("$pageleave", "");
    }
    on_page_hide();
}

/// A single-page-app navigation: the page context is read again; a new path is a new `$pageview`.
fn navigated() {
    let path = text(&location(), "pathname");
    let mut new = false;
    with(&mut |s| {
        s.page = None;
        new = s.cfg.pageviews && s.path != path;
    });
    if new {
        pageview();
    }
}

fn on_popstate(_: JsValue) {
    navigated();
}

fn on_resize(_: JsValue) {
    with(&mut |s| s.page = None);
}

/// Wraps `history.pushState`/`replaceState` and listens to `popstate`, `pagehide` and `resize`,
/// once per page. Inert while not running: the handlers find no state and do nothing.
fn hook() {
    if HOOKED.replace(true) {
        return;
    }
    let w = dom::window();
    let history: JsValue = dom::get(&w, "history");
    for name in ["pushState", "replaceState"] {
        let Some(orig) = dom::func_of(dom::get(&history, name)) else { continue };
        let h = history.clone();
        let f = dom::func(alloc::boxed::Box::new(move |a, b, c| {
            let r = orig.call3(&h, &a, &b, &c)?;
            navigated();
            Ok(r)
        }));
        dom::set(&history, name, &f);
    }
    for (event, f) in [("popstate", on_popstate as fn(JsValue)), ("pagehide", on_page_leave), ("resize", on_resize)] {
        dom::listen(&w, event, f);
    }
}
