//! Sending to the site's own collector: `fetch` with `keepalive`, `sendBeacon` on page hide,
//! and the delivery of the evidence outbox with retries.
//!
//! Owns the network. Never sends anything but what the core hands it (a receipt already in the
//! log, a batch the tracker built after consent), and only to URLs from the site's config.
//! A receipt leaves the outbox only when the collector acknowledged it.
#[allow(unused_imports)]
use crate::prelude::*;
use wasm_bindgen::JsValue;

use super::app::{self, App};
use super::dom;
use crate::core::backoff;

/// Bodies larger than this cannot use `keepalive` (the browser's 64 KiB in-flight limit).
const KEEPALIVE_MAX: usize = 60_000;

/// POSTs `body` as JSON; calls `done(ctx, status)` with the HTTP status, or 0 when the network
/// failed.
pub fn post(url: &str, body: &str, done: fn(i64, u16), ctx: i64) {
    // `keepalive` lets the request outlive the page, up to the browser's in-flight limit.
    let init = dom::json(INIT);
    dom::set(&init, "keepalive", &JsValue::from_bool(body.len() <= KEEPALIVE_MAX));
    dom::set(&init, "body", &dom::s(body));
    // One function for both outcomes: a `Response` has a status, a rejection reason has none.
    let f = dom::func(alloc::boxed::Box::new(move |v, _, _| {
        done(ctx, dom::get(&v, "status").as_f64().unwrap_or(0.0) as u16);
        Ok(JsValue::UNDEFINED)
    }));
    let promise = dom::run(&dom::window(), "fetch", &dom::s(url), &init);
    dom::then(&promise, &f);
}

const INIT: &str = r#"{"method":"POST","credentials":"same-origin","headers":{"Content-Type":"application/json"}}"#;

/// Hands `body` to the browser to send even after the page is gone. True when it was queued.
pub fn beacon(url: &str, body: &str) -> bool {
    let nav = dom::get(&dom::window(), "navigator");
    dom::run(&nav, "sendBeacon", &dom::s(url), &dom::s(body)) == JsValue::TRUE
}

/// Retry state of the evidence outbox for this page.
#[derive(Default)]
pub struct Delivery {
    in_flight: bool,
    attempt: u32,
    retry_pending: bool,
    /// The collector refused a receipt (4xx): keep it, report once, try again on the next page.
    refused: bool,
}

fn outbox_body(app: &App) -> Option<(String, i64)> {
    let out = app.log.outbox();
    let last = out.last()?.seq;
    Some((app::receipts_json_of(out), last))
}

/// Sends the outbox (every undelivered receipt, oldest first, in one body) unless a send is
/// already under way or waiting for its retry.
pub fn flush_evidence(app: &mut App, url: &str) {
    let d = &app.delivery;
    if d.in_flight || d.retry_pending || d.refused {
        return;
    }
    let Some((body, upto)) = outbox_body(app) else { return };
    app.delivery.in_flight = true;
    post(url, &body, on_delivered, upto);
}

fn on_delivered(upto: i64, status: u16) {
    app::with(|app| delivered(app, upto, status));
}

/// The evidence endpoint of the config (the only URL evidence is ever sent to).
fn endpoint(app: &App) -> String {
    app.config.evidence_endpoint.clone().unwrap_or_default()
}

fn delivered(app: &mut App, upto: i64, status: u16) {
    let d = &mut app.delivery;
    d.in_flight = false;
    if (200..300).contains(&status) {
        d.attempt = 0;
        app.log.acknowledge(upto);
        app.save();
        let url = endpoint(app);
        flush_evidence(app, &url); // anything recorded meanwhile
    } else if (400..500).contains(&status) && status != 408 && status != 429 {
        d.refused = true;
        dom::console_error("Consentry: the evidence collector refused a receipt; it is kept in this browser.");
    } else {
        d.attempt += 1;
        d.retry_pending = true;
        let wait = backoff::delay_ms(d.attempt, u32::from_le_bytes(dom::random::<4>()));
        dom::later(wait, &dom::listener(on_retry));
    }
}

fn on_retry(_: JsValue) {
    app::with(|app| {
        app.delivery.retry_pending = false;
        let url = endpoint(app);
        flush_evidence(app, &url);
    });
}

/// The page is going away: hand the outbox to `sendBeacon`. It is not acknowledged (a beacon
/// cannot tell), so it is sent again on the next page view; the collector ignores duplicates.
pub fn beacon_evidence(app: &App) {
    if let (Some(url), Some((body, _))) = (&app.config.evidence_endpoint, outbox_body(app)) {
        if !app.delivery.in_flight {
            beacon(url, &body);
        }
    }
}
