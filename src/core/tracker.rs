//! The first-party tracker's queue: bounds, batching, retry decisions and the batch body.
//!
//! Owns: the PostHog batch wire format (`{"api_key","batch":[{event,properties,timestamp,uuid}],
//! "sent_at"}`), which events go in which body, and what a reply status means. Never touches the
//! browser and never decides about consent: the shell only creates a `Queue` after the tracker's
//! purpose is granted, and drops it (`purge`) on refusal.
//!
//! What an event says (its properties, ids, time, the tracker cookie) is composed by the shell
//! (src/web/shell.js) with the browser's own JSON, URL and Date: the same work in Rust cost about
//! 2 KB brotli of `.wasm` more than it costs in JavaScript. The queue checks what it must: the
//! event's name and size, and it splices `$dropped` into the properties.
//!
//! Queue bound: at most `max` events wait; when a new one arrives at the bound the oldest is
//! dropped and counted. The count goes out once, as the property `$dropped` on the first event of
//! the next batch formed (and is reset then). One formed batch (at most `batch` events, at most
//! `MAX_BODY` bytes) may be in flight or waiting for its retry besides the waiting events, so the
//! memory held is bounded by `max + batch` events. A retried batch carries the same events with
//! the same `uuid`s (the collector and PostHog count each uuid once) and a fresh `sent_at`.
#[allow(unused_imports)]
use crate::prelude::*;
use crate::core::json::{push_int, push_str};

/// A body must fit `sendBeacon` / `fetch keepalive` (64 KiB for all in-flight ones together).
pub const MAX_BODY: usize = 60_000;
/// An event bigger than this (huge custom properties) is refused at capture.
pub const MAX_EVENT: usize = 16_384;

/// One encoded event: its JSON object text and where its properties start (for `$dropped`).
#[derive(Clone)]
#[cfg_attr(test, derive(Debug))]
pub struct Event {
    text: String,
    props_at: usize,
}

impl Event {
    /// `{"event":<name>,"properties":{` then `rest`: the properties' members as the shell wrote
    /// them, then `},"timestamp":…,"uuid":…}`. None for a name that is not 1 to 200 bytes.
    pub fn new(name: &str, rest: &str) -> Option<Event> {
        if name.is_empty() || name.len() > 200 {
            return None;
        }
        let mut text = String::from("{\"event\":");
        push_str(&mut text, name);
        text.push_str(",\"properties\":{");
        let props_at = text.len();
        text.push_str(rest);
        Some(Event { text, props_at })
    }
}

/// What the reply to a batch means.
#[derive(Clone, Copy, PartialEq)]
#[cfg_attr(test, derive(Debug))]
pub enum Outcome {
    /// Accepted (2xx): the batch is gone.
    Sent,
    /// Network error (0), 5xx, 408 or 429: the same batch is sent again after retry `n`'s delay.
    Retry(u32),
    /// Any other status: the collector will never take it; the batch is dropped (say so once).
    Refused,
}

/// The events waiting to be sent and the one batch in flight or waiting for its retry.
#[derive(Default)]
pub struct Queue {
    /// Oldest first. A `Vec`: at most `max` (≤ 1000) small handles, so removing at the front is cheap
    /// and the code is smaller than a `VecDeque`'s.
    events: Vec<Event>,
    max: usize,
    /// Events dropped at the bound since the last batch was formed.
    pub dropped: u32,
    /// The formed batch's events, joined with `,` (already with `$dropped`).
    pending: Option<String>,
    /// A request for `pending` is under way.
    pub sending: bool,
    /// Failed attempts of `pending` so far.
    pub attempt: u32,
}

impl Queue {
    pub fn new(max: usize) -> Queue {
        Queue { max: max.max(1), ..Queue::default() }
    }

    /// Queues an event, dropping (and counting) the oldest at the bound. Refuses (false) an
    /// event larger than `MAX_EVENT`.
    pub fn push(&mut self, e: Event) -> bool {
        if e.text.len() > MAX_EVENT {
            return false;
        }
        if self.events.len() >= self.max {
            let n = self.events.len() + 1 - self.max;
            crate::core::drop_front(&mut self.events, n);
            self.dropped += n as u32;
        }
        self.events.push(e);
        true
    }

    /// Whether a batch should be sent now: none is under way and one is formed (a retry) or
    /// `batch` events wait.
    pub fn due(&self, batch: usize) -> bool {
        !self.sending && (self.pending.is_some() || self.events.len() >= batch)
    }

    /// Events waiting (not counting the formed batch).
    pub fn len(&self) -> usize {
        self.events.len()
    }

    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// Whether a batch is formed and not yet accepted or refused.
    pub fn has_pending(&self) -> bool {
        self.pending.is_some()
    }

    /// The first up-to-`batch` waiting events that fit in one body, joined, with `$dropped`
    /// spliced into the first; and how many they are. Removes nothing.
    fn peek(&self, batch: usize) -> Option<(String, usize)> {
        let mut out = String::new();
        let mut n = 0;
        for e in self.events.iter().take(batch.max(1)) {
            // The wrapper (api key, sent_at) stays well under 1 KB beyond this.
            if n > 0 && out.len() + e.text.len() + 1 > MAX_BODY - 1024 {
                break;
            }
            if n > 0 {
                out.push(',');
            }
            if n == 0 && self.dropped > 0 {
                // `props_at` is just after an ASCII `{`, so the split cannot fail.
                let (head, tail) = e.text.split_at_checked(e.props_at).unwrap_or((&e.text, ""));
                out.push_str(head);
                out.push_str("\"$dropped\":");
                push_int(&mut out, self.dropped as i64);
                if !tail.starts_with('}') {
                    out.push(',');
                }
                out.push_str(tail);
            } else {
                out.push_str(&e.text);
            }
            n += 1;
        }
        if n == 0 {
            None
        } else {
            Some((out, n))
        }
    }

    /// Removes the first `n` waiting events, sent in a batch, and resets the drop count.
    fn commit(&mut self, n: usize) {
        crate::core::drop_front(&mut self.events, n);
        self.dropped = 0;
    }

    /// The body to send now, if any: the pending batch again (a retry) or a new batch of up to
    /// `batch` waiting events. None while a request is under way or nothing waits. Marks the
    /// queue as sending until `done`.
    pub fn next(&mut self, batch: usize, api_key: &str, sent_at: &str) -> Option<String> {
        if self.sending {
            return None;
        }
        if self.pending.is_none() {
            let (events, n) = self.peek(batch)?;
            self.commit(n);
            self.pending = Some(events);
        }
        self.sending = true;
        self.pending.as_deref().map(|e| body(api_key, e, sent_at))
    }

    /// The reply to the body `next` gave.
    pub fn done(&mut self, status: u16) -> Outcome {
        self.sending = false;
        let outcome = match status {
            200..=299 => Outcome::Sent,
            0 | 408 | 429 | 500..=599 => Outcome::Retry(self.attempt + 1),
            _ => Outcome::Refused,
        };
        match outcome {
            Outcome::Retry(n) => self.attempt = n,
            _ => {
                self.pending = None;
                self.attempt = 0;
            }
        }
        outcome
    }

    /// The page is being hidden: hands bodies to `send` (sendBeacon) until it refuses one. The
    /// pending batch is offered too unless its request is under way, and kept for its retry
    /// (resending is harmless: uuids). Waiting events leave the queue when `send` took them.
    pub fn beacon(&mut self, batch: usize, api_key: &str, sent_at: &str, send: &mut dyn FnMut(&str) -> bool) {
        if let (false, Some(p)) = (self.sending, &self.pending) {
            send(&body(api_key, p, sent_at));
        }
        while let Some((events, n)) = self.peek(batch) {
            if !send(&body(api_key, &events, sent_at)) {
                break;
            }
            self.commit(n);
        }
    }

    /// Forgets everything: on refusal or withdrawal.
    pub fn purge(&mut self) {
        let max = self.max;
        *self = Queue::new(max);
    }
}

/// The PostHog batch body around already joined events.
pub fn body(api_key: &str, events: &str, sent_at: &str) -> String {
    let mut s = String::with_capacity(events.len() + 96);
    s.push_str("{\"api_key\":");
    push_str(&mut s, api_key);
    s.push_str(",\"batch\":[");
    s.push_str(events);
    s.push_str("],\"sent_at\":");
    push_str(&mut s, sent_at);
    s.push('}');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::core::json;

    /// The rest of an event as the shell writes it: properties, then timestamp and uuid.
    fn rest(props: &str, n: u8) -> String {
        format!(r#"{props}}},"timestamp":"2023-11-14T22:13:20.000Z","uuid":"u-{n}"}}"#)
    }

    fn ev(name: &str, n: u8) -> Event {
        Event::new(name, &rest(r#""distinct_id":"id-1""#, n)).unwrap()
    }

    #[test]
    fn an_event_is_its_name_then_what_the_shell_wrote() {
        let e = Event::new("sign \"up\"", &rest(r#""distinct_id":"i","plan":"pro""#, 1)).unwrap();
        assert_eq!(
            e.text,
            r#"{"event":"sign \"up\"","properties":{"distinct_id":"i","plan":"pro"},"timestamp":"2023-11-14T22:13:20.000Z","uuid":"u-1"}"#
        );
        assert_eq!(&e.text[..e.props_at], r#"{"event":"sign \"up\"","properties":{"#);
        assert!(json::parse(&e.text).is_ok());
        assert!(Event::new("", "}").is_none(), "an empty name");
        assert!(Event::new(&"x".repeat(201), "}").is_none(), "a name over 200 bytes");
        assert!(Event::new(&"é".repeat(100), "}").is_some(), "200 bytes");
    }

    #[test]
    fn batch_body_is_posthog_shaped_and_carries_the_drop_count_once() {
        let mut q = Queue::new(2);
        for n in 1..=5 {
            assert!(q.push(ev("e", n)));
        }
        assert_eq!((q.len(), q.dropped), (2, 3));
        let b = q.next(10, "phc_k", "2026-01-01T00:00:00.000Z").unwrap();
        let v = json::parse(&b).unwrap();
        assert_eq!(v.get("api_key").unwrap().as_str(), Some("phc_k"));
        assert_eq!(v.get("sent_at").unwrap().as_str(), Some("2026-01-01T00:00:00.000Z"));
        let batch = v.get("batch").unwrap().as_array().unwrap();
        assert_eq!(batch.len(), 2);
        let p0 = batch[0].get("properties").unwrap();
        assert_eq!(p0.get("$dropped").unwrap().as_i64(), Some(3));
        assert_eq!(p0.get("distinct_id").unwrap().as_str(), Some("id-1"));
        assert!(batch[1].get("properties").unwrap().get("$dropped").is_none());
        // the oldest were dropped: the survivors are events 4 and 5
        assert_eq!(batch[0].get("uuid").unwrap().as_str(), Some("u-4"));
        assert_eq!(q.done(200), Outcome::Sent);
        q.push(ev("e", 6));
        let b = q.next(10, "k", "t").unwrap();
        assert!(!b.contains("$dropped"), "{b}");
    }

    #[test]
    fn queue_never_holds_more_than_its_bound() {
        let mut q = Queue::new(3);
        for n in 0..200u8 {
            q.push(ev("e", n));
            assert!(q.len() <= 3);
        }
        assert_eq!(q.dropped, 197);
        q.purge();
        assert_eq!((q.len(), q.dropped, q.has_pending()), (0, 0, false));
        assert!(q.next(5, "k", "t").is_none());
    }

    #[test]
    fn batches_take_at_most_n_events_and_fit_the_body_limit() {
        let mut q = Queue::new(100);
        for n in 0..25 {
            assert_eq!(q.due(10), n >= 10);
            q.push(ev("e", n));
        }
        let b = q.next(10, "k", "t").unwrap();
        assert_eq!(json::parse(&b).unwrap().get("batch").unwrap().as_array().unwrap().len(), 10);
        // Only one request at a time.
        assert!(!q.due(10));
        assert!(q.next(10, "k", "t").is_none());
        assert_eq!(q.done(200), Outcome::Sent);
        assert_eq!(q.len(), 15);

        // Big events: split by bytes long before the count.
        let mut q = Queue::new(100);
        let mut big = String::from("\"blob\":\"");
        big.push_str(&"x".repeat(10_000));
        big.push('"');
        for n in 0..12 {
            assert!(q.push(Event::new("e", &rest(&big, n)).unwrap()));
        }
        let b = q.next(100, "k", "t").unwrap();
        assert!(b.len() <= MAX_BODY, "{}", b.len());
        let first = json::parse(&b).unwrap().get("batch").unwrap().as_array().unwrap().len();
        assert!((5..12).contains(&first), "{first}");
        assert_eq!(q.len(), 12 - first);
        // Too big for any body: refused at capture.
        let huge = "x".repeat(MAX_EVENT);
        assert!(!q.push(Event::new("e", &rest(&huge, 0)).unwrap()));
    }

    #[test]
    fn retries_resend_the_same_events_with_a_fresh_sent_at() {
        let mut q = Queue::new(10);
        q.push(ev("a", 1));
        let first = q.next(10, "k", "2026-01-01T00:00:00.000Z").unwrap();
        assert_eq!(q.done(0), Outcome::Retry(1));
        q.push(ev("b", 2)); // waits behind the pending batch
        assert_eq!(q.done_again_for_test(503), Outcome::Retry(2));
        let again = q.next(10, "k", "2026-01-01T00:00:09.000Z").unwrap();
        assert_eq!(first.replace("00:00:00.000Z", "00:00:09.000Z"), again);
        assert_eq!(q.done(429), Outcome::Retry(3));
        q.next(10, "k", "t").unwrap();
        assert_eq!(q.done(204), Outcome::Sent);
        assert_eq!(q.attempt, 0);
        // Then the waiting event goes.
        let b = q.next(10, "k", "t").unwrap();
        assert!(b.contains("\"event\":\"b\"") && !b.contains("\"event\":\"a\""));
        // A 4xx is final: the batch is dropped, nothing is retried.
        assert_eq!(q.done(400), Outcome::Refused);
        assert!(!q.has_pending() && q.next(10, "k", "t").is_none());
    }

    impl Queue {
        fn done_again_for_test(&mut self, status: u16) -> Outcome {
            self.next(10, "k", "t");
            self.done(status)
        }
    }

    #[test]
    fn page_hide_beacons_everything_it_can() {
        let mut q = Queue::new(50);
        for n in 0..7 {
            q.push(ev("e", n));
        }
        q.next(2, "k", "t"); // two in flight
        let mut sent = Vec::new();
        q.beacon(3, "k", "t", &mut |b| {
            sent.push(String::from(b));
            true
        });
        // The in-flight batch is not resent (its keepalive request continues); 5 waiting → 3 + 2.
        assert_eq!(sent.len(), 2);
        assert_eq!(q.len(), 0);
        // A failed pending batch is offered again and kept for its retry; a refused beacon keeps events.
        q.done(0);
        q.push(ev("f", 9));
        let mut calls = 0;
        q.beacon(3, "k", "t", &mut |_| {
            calls += 1;
            calls == 1
        });
        assert_eq!((calls, q.len(), q.has_pending()), (2, 1, true));
    }
}
