//! What the JavaScript shell (`src/web/shell.js`) asks the `.wasm`: the engine of this page and
//! the tracker's queue, through texts, numbers and bytes only (`abi` carries them across; the
//! browser tests call these functions directly).
//!
//! Why the shell is JavaScript: every DOM call made from Rust costs a glue function in JS plus
//! its marshalling code in the `.wasm`; the banner, the gates and the network written as a small
//! JS file weigh a fraction of that. The consent, evidence and config rules stay here, in
//! `crate::core`: the shell asks, stores what it is given, renders and sends. One exception, for
//! size: what a tracker event says and the tracker cookie's text are written by the shell (see
//! `core::tracker`). Answers that carry structure are JSON texts.
#[allow(unused_imports)]
use crate::prelude::*;
use core::cell::RefCell;

use super::global::Global;
use crate::core::engine::{Engine, Facts, Step, Stored};
use crate::core::evidence::Method;
use crate::core::json::{push_int, push_str, Value};
use crate::core::{backoff, tracker};

static ENGINE: Global<RefCell<Option<Engine>>> = Global(RefCell::new(None));

/// Runs `f` on the engine once started (never re-entrantly).
fn with<R: Default>(f: impl FnOnce(&mut Engine) -> R) -> R {
    ENGINE.with(|e| e.try_borrow_mut().ok().and_then(|mut e| e.as_mut().map(f)).unwrap_or_default())
}

/// Starts the engine with the config document (None: its text was not JSON), the language table
/// the shell fetched (see `Stored`) and the page's and browser's languages (one per line).
/// `{"view":…,"warning"?:…}`, or `{"error":{"field":…,"code":…}}` naming the config field and
/// the problem (`config::Msg`; the shell fetches its words); nothing is started then.
/// Documents arrive parsed by the browser, as tapes (`core::tape`, read in `abi`).
pub fn start(config: Option<&Value>, table: Stored, wanted: &str) -> String {
    let mut langs: Vec<&str> = Vec::new();
    let mut rest = wanted;
    while !rest.is_empty() {
        let (l, more) = crate::core::cut(rest, b'\n').unwrap_or((rest, ""));
        langs.push(l);
        rest = more;
    }
    match Engine::new(config, table, &langs) {
        Err(e) => {
            let mut s = String::from("{\"error\":{\"field\":");
            push_str(&mut s, &e.field);
            s.push_str(",\"code\":");
            push_int(&mut s, e.message as i64);
            s.push_str("}}");
            s
        }
        Ok((engine, warning)) => {
            let mut s = String::from("{\"view\":");
            s.push_str(&engine.view_json());
            if let Some(w) = warning {
                s.push_str(",\"warning\":");
                push_str(&mut s, &w);
            }
            s.push('}');
            ENGINE.with(|e| {
                if let Ok(mut slot) = e.try_borrow_mut() {
                    *slot = Some(engine);
                }
            });
            s
        }
    }
}

/// The page's facts; `now` is UTC text from `Date.prototype.toISOString`. A time the receipt
/// format cannot hold (before 1970, after 9999) counts as the epoch: the decision is recorded
/// and, being that old, asked again on the next page.
fn facts<'a>(now: &'a str, origin: &'a str, path: &'a str, random: &'a [u8]) -> Facts<'a> {
    let (now, now_ms) = match crate::core::time::parse_utc_iso(now) {
        Some(ms) => (now, ms),
        None => ("1970-01-01T00:00:00.000Z", 0),
    };
    Facts { now, now_ms, origin, path, random }
}

/// At load, and when another tab wrote the log: the stored log (`undefined` when none), the GPC
/// signal and the page's facts. A step (see `Engine::step_json`).
pub fn load(stored: Stored, gpc: bool, now: &str, origin: &str, path: &str, random: &[u8]) -> String {
    let f = facts(now, origin, path, random);
    with(|e| {
        let step = e.load(stored, gpc, &f);
        e.step_json(&step)
    })
}

/// A decision: `method` is `accept-all`, `reject-all`, `custom` or `api`; `choices` an object
/// of purpose → boolean for the last two. `stored` is the log in storage now.
pub fn decide(choices: Option<&Value>, method: &str, stored: Stored, now: &str, origin: &str, path: &str, random: &[u8]) -> String {
    let f = facts(now, origin, path, random);
    let mut requested = Vec::new();
    for (k, v) in choices.and_then(Value::as_object).unwrap_or(&[]) {
        if let Some(b) = v.as_bool() {
            requested.push((k.clone(), b));
        }
    }
    let asked = Method::parse(method).unwrap_or(Method::Api);
    with(|e| {
        let step: Step = e.decide(&requested, asked, stored, &f);
        e.step_json(&step)
    })
}

/// The visitor's consent record as a JSON document ("Download my consent record").
pub fn export_log() -> String {
    with(|e| e.log.export_json())
}

/// `{"ok":true,"count":N}` or `{"ok":false,"count":I,"brokenAt":I,"reason":…}` for the log
/// as stored now (None: the log in memory).
pub fn verify(stored: Stored) -> String {
    let mut j = String::from("{\"ok\":");
    match with(|e| Some(e.verify(stored))).unwrap_or(Ok(0)) {
        Ok(n) => {
            j.push_str("true,\"count\":");
            push_int(&mut j, n as i64);
        }
        Err((index, reason)) => {
            j.push_str("false,\"count\":");
            push_int(&mut j, index as i64);
            j.push_str(",\"brokenAt\":");
            push_int(&mut j, index as i64);
            j.push_str(",\"reason\":");
            push_str(&mut j, reason);
        }
    }
    j.push('}');
    j
}

/// The undelivered receipts: `"<seq>\n<JSON array>"`, or "" when all are delivered. The seq is
/// what `ack` takes when the collector answered 2xx.
pub fn outbox() -> String {
    with(|e| {
        let mut s = String::new();
        if let Some((body, upto)) = e.outbox() {
            push_int(&mut s, upto);
            s.push('\n');
            s.push_str(&body);
        }
        s
    })
}

/// The collector stored every receipt up to `upto`: the log text to store.
pub fn ack(upto: f64) -> String {
    with(|e| {
        e.log.acknowledge(upto as i64);
        e.log.to_json()
    })
}

/// The tracker's purpose is granted (a queue exists from now on) or refused (`false`: the queue
/// and everything in it is forgotten at once).
pub fn track_run(on: bool) {
    with(|e| {
        if on {
            e.track_start();
        } else {
            e.queue = None;
        }
    })
}

/// Queues an event the shell composed: its name and the rest of its JSON text (see
/// `tracker::Event::new`). 0 not running (dropped), 1 queued, 2 queued and a batch is due, 3 a
/// name that is not 1 to 200 bytes, 4 too large (dropped).
pub fn track(name: &str, rest: &str) -> u32 {
    with(|e| e.track(name, rest))
}

/// The next batch body to send, marking it under way (`undefined` when none is due or one is
/// under way).
pub fn track_next(now: &str) -> Option<String> {
    with(|e| e.track_next(now))
}

/// The answer to the body `trackNext` gave (0 for a network failure): -1 refused (dropped),
/// 0 delivered, else the milliseconds to wait before retrying it.
pub fn track_done(status: u16, jitter: u32) -> i32 {
    with(|e| match e.queue.as_mut().map(|q| q.done(status)) {
        Some(tracker::Outcome::Retry(n)) => backoff::delay_ms(n, jitter) as i32,
        Some(tracker::Outcome::Refused) => -1,
        _ => 0,
    })
}

/// Whether events wait (for the flush timer), and whether a batch is due now (bit 2).
pub fn track_waiting() -> u32 {
    with(|e| {
        let batch = e.config.tracker.as_ref().map_or(1, |t| t.batch_size);
        e.queue.as_ref().map_or(0, |q| (!q.is_empty() as u32) | ((q.due(batch) as u32) << 1))
    })
}

/// The page is being hidden: hands every body to `send` (sendBeacon) until it returns false.
pub fn track_beacon(now: &str, send: &mut dyn FnMut(&str) -> bool) {
    with(|e| {
        let (Some(q), Some(cfg)) = (e.queue.as_mut(), e.config.tracker.as_ref()) else { return };
        q.beacon(cfg.batch_size, &cfg.api_key, now, send);
    })
}

/// Milliseconds before retry number `attempt` (from 1), with jitter.
pub fn backoff(attempt: u32, jitter: u32) -> u32 {
    backoff::delay_ms(attempt, jitter)
}
