//! The first-party tracker's rules: event encoding, the bounded queue, batching and retry
//! decisions, URL stripping, ids, and the tracker cookie's text.
//!
//! Owns: the PostHog batch wire format (`{"api_key","batch":[{event,properties,timestamp,uuid}],
//! "sent_at"}`), which events go in which body, what a reply status means, and which query
//! parameters survive. Never touches the browser and never decides about consent: the shell only
//! creates a `Queue` after the tracker's purpose is granted, and drops it (`purge`) on refusal.
//!
//! Queue bound: at most `max` events wait; when a new one arrives at the bound the oldest is
//! dropped and counted. The count goes out once, as the property `$dropped` on the first event of
//! the next batch formed (and is reset then). One formed batch (at most `batch` events, at most
//! `MAX_BODY` bytes) may be in flight or waiting for its retry besides the waiting events, so the
//! memory held is bounded by `max + batch` events. A retried batch carries the same events with
//! the same `uuid`s (the collector and PostHog count each uuid once) and a fresh `sent_at`.
#[allow(unused_imports)]
use crate::prelude::*;
use crate::core::json::{push_int, push_str, Value, HEX};
use crate::core::{before, cut};

pub const LIB: &str = "consentry";
pub const LIB_VERSION: &str = "0.1.0";
/// The tracker cookie: the anonymous distinct id, only after consent.
pub const COOKIE: &str = "cs_id";
/// A body must fit `sendBeacon` / `fetch keepalive` (64 KiB for all in-flight ones together).
pub const MAX_BODY: usize = 60_000;
/// An event bigger than this (huge custom properties) is refused at capture.
pub const MAX_EVENT: usize = 16_384;

/// Properties the tracker sets itself, and person-profile updates (events are anonymous): custom
/// properties with these names are ignored.
const RESERVED: [&str; 16] = [
    "distinct_id",
    "$lib",
    "$lib_version",
    "$current_url",
    "$host",
    "$pathname",
    "$referrer",
    "$screen_width",
    "$screen_height",
    "$viewport_width",
    "$viewport_height",
    "$process_person_profile",
    "$consentry_subject",
    "$dropped",
    "$set",
    "$set_once",
];

/// Where the event happened, as the shell read it (once per page view). URLs already stripped.
pub struct Page<'a> {
    pub url: &'a str,
    pub host: &'a str,
    pub path: &'a str,
    /// The stripped referrer, or `$direct` when there is none (as posthog-js writes it).
    pub referrer: &'a str,
    /// Screen width, height; viewport width, height (CSS pixels).
    pub sizes: [i64; 4],
}

/// One encoded event: its JSON object text and where its properties start (for `$dropped`).
#[derive(Clone)]
#[cfg_attr(test, derive(Debug))]
pub struct Event {
    text: String,
    props_at: usize,
}

fn prop(out: &mut String, key: &str) {
    if !out.ends_with('{') {
        out.push(',');
    }
    push_str(out, key);
    out.push(':');
}

fn prop_str(out: &mut String, key: &str, v: &str) {
    prop(out, key);
    push_str(out, v);
}

/// The caller's properties as JSON object members (`"a":1,"b":"x"`), from the JSON text of an
/// object (what `JSON.stringify` gives), without the reserved names. Fast path: text that cannot
/// name a reserved property is used as it is; otherwise its parsed form `doc` is filtered (the
/// shell sends it only then). Anything but an object gives nothing.
pub fn custom_members(json_text: &str, doc: Option<&Value>) -> String {
    let t = json_text.trim_ascii(); // JSON's white space is ASCII
    let Some(inner) = t.strip_prefix('{').and_then(|r| r.strip_suffix('}')) else { return String::new() };
    // Every reserved name starts with `$` or is `distinct_id`.
    let b = inner.as_bytes();
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        if c == b'$' || b.get(i..i + 11) == Some(&b"distinct_id"[..]) {
            break;
        }
        i += 1;
    }
    if i == b.len() {
        return String::from(inner.trim_ascii());
    }
    let mut out = String::new();
    if let Some(Value::Obj(fields)) = doc {
        for (k, v) in fields {
            if !RESERVED.contains(&k.as_str()) {
                if !out.is_empty() {
                    out.push(',');
                }
                push_str(&mut out, k);
                out.push(':');
                v.write(&mut out);
            }
        }
    }
    out
}

/// Encodes one event once, at capture time: `distinct_id` and `subject` identify the browser and
/// the consent subject, `custom` are the caller's properties as `custom_members` gives them,
/// `uuid` makes retries idempotent.
pub fn event(
    name: &str,
    distinct_id: &str,
    subject: &str,
    page: &Page,
    custom: &str,
    time_ms: i64,
    uuid: &str,
) -> Event {
    let mut t = String::with_capacity(512);
    t.push_str("{\"event\":");
    push_str(&mut t, name);
    t.push_str(",\"properties\":{");
    let props_at = t.len();
    prop_str(&mut t, "distinct_id", distinct_id);
    prop_str(&mut t, "$lib", LIB);
    prop_str(&mut t, "$lib_version", LIB_VERSION);
    prop_str(&mut t, "$current_url", page.url);
    prop_str(&mut t, "$host", page.host);
    prop_str(&mut t, "$pathname", page.path);
    prop_str(&mut t, "$referrer", page.referrer);
    for (k, v) in ["$screen_width", "$screen_height", "$viewport_width", "$viewport_height"].iter().zip(page.sizes) {
        prop(&mut t, k);
        push_int(&mut t, v);
    }
    prop(&mut t, "$process_person_profile");
    t.push_str("false");
    if !subject.is_empty() {
        prop_str(&mut t, "$consentry_subject", subject);
    }
    if !custom.is_empty() {
        t.push(',');
        t.push_str(custom);
    }
    t.push_str("},\"timestamp\":");
    push_str(&mut t, &crate::core::time::format_utc_iso(time_ms));
    t.push_str(",\"uuid\":");
    push_str(&mut t, uuid);
    t.push('}');
    Event { text: t, props_at }
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
                out.push(',');
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

/// Whether a query parameter name is allowed: exact, or a prefix when the entry ends in `*`.
fn allowed(name: &str, allow: &[String]) -> bool {
    allow.iter().any(|a| match a.strip_suffix('*') {
        Some(prefix) => name.starts_with(prefix),
        None => name == a,
    })
}

/// The URL without its fragment and without every query parameter the allow-list does not name
/// (`utm_*` matches every name starting `utm_`). Kept parameters keep their order and text.
pub fn strip_url(url: &str, allow: &[String]) -> String {
    let url = before(url, b'#');
    let (base, query) = cut(url, b'?').unwrap_or((url, ""));
    let mut out = String::from(base);
    let mut first = true;
    let mut rest = Some(query);
    while let Some(q) = rest {
        let (pair, next) = cut(q, b'&').map_or((q, None), |(p, n)| (p, Some(n)));
        rest = next;
        let name = before(pair, b'=');
        if !name.is_empty() && allowed(name, allow) {
            out.push(if first { '?' } else { '&' });
            out.push_str(pair);
            first = false;
        }
    }
    out
}

/// Formats 16 bytes as a UUID of `version` (4 or 7) with the RFC 9562 variant bits.
fn uuid(mut b: [u8; 16], version: u8) -> String {
    b[6] = (b[6] & 0x0f) | (version << 4);
    b[8] = (b[8] & 0x3f) | 0x80;
    let mut s = String::with_capacity(36);
    for (i, byte) in b.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            s.push('-');
        }
        s.push(HEX[(byte >> 4) as usize] as char);
        s.push(HEX[(byte & 15) as usize] as char);
    }
    s
}

/// A random UUID (version 4) from 16 random bytes: the anonymous distinct id.
pub fn uuid_v4(random: [u8; 16]) -> String {
    uuid(random, 4)
}

/// A time-ordered UUID (version 7): 48-bit Unix milliseconds, then random bits. Event ids, as
/// posthog-js makes them.
pub fn uuid_v7(ms: i64, random: [u8; 16]) -> String {
    let mut b = random;
    let t = (ms.max(0) as u64).to_be_bytes();
    for (x, y) in b.iter_mut().zip(t.iter().skip(2)) {
        *x = *y; // the low 48 bits, big-endian, in bytes 0 to 5
    }
    uuid(b, 7)
}

/// Whether `s` has the shape of a lower-case UUID (so a cookie value can be trusted as an id).
pub fn is_uuid(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        let ok = match i {
            8 | 13 | 18 | 23 => c == b'-',
            _ => matches!(c, b'0'..=b'9' | b'a'..=b'f'),
        };
        if !ok {
            return false;
        }
        i += 1;
    }
    i == 36
}

/// The value of cookie `name` in a `document.cookie` string.
pub fn cookie_value<'a>(cookies: &'a str, name: &str) -> Option<&'a str> {
    let mut rest = Some(cookies);
    while let Some(c) = rest {
        let (item, next) = cut(c, b';').map_or((c, None), |(i, n)| (i, Some(n)));
        rest = next;
        if let Some((k, v)) = cut(item, b'=') {
            if k.trim_ascii() == name {
                return Some(v.trim_ascii());
            }
        }
    }
    None
}

/// The text to assign to `document.cookie`: sets the tracker cookie, or deletes it when `value`
/// is empty (Max-Age=0). `domain` None = host-only.
pub fn cookie_text(value: &str, max_age_s: i64, domain: Option<&str>, secure: bool) -> String {
    let mut s = String::from(COOKIE);
    s.push('=');
    s.push_str(value);
    s.push_str("; Path=/; Max-Age=");
    push_int(&mut s, if value.is_empty() { 0 } else { max_age_s });
    if let Some(d) = domain {
        s.push_str("; Domain=");
        s.push_str(d);
    }
    s.push_str("; SameSite=Lax");
    if secure {
        s.push_str("; Secure");
    }
    s
}

/// Every Domain attribute the cookie may have been set with, to delete each variant: the
/// configured domain, the host itself and each parent domain with at least two labels (host-only
/// is the caller's `None`). An IPv4 host has no parents; an IPv6 one no Domain at all.
pub fn cookie_domains(host: &str, configured: Option<&str>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut add = |d: &str| {
        let d = d.strip_prefix('.').unwrap_or(d);
        if !d.is_empty() && !out.iter().any(|o| o.eq_ignore_ascii_case(d)) {
            out.push(String::from(d));
        }
    };
    if let Some(c) = configured {
        add(c);
    }
    if cut(host, b':').is_some() {
        return out; // IPv6: no Domain attribute can match
    }
    // Whether the last label is all digits (an empty one counts).
    let mut i = host.len();
    let mut numeric = true;
    while let Some(&c) = i.checked_sub(1).and_then(|j| host.as_bytes().get(j)) {
        if c == b'.' {
            break;
        }
        numeric &= c.is_ascii_digit();
        i -= 1;
    }
    if numeric {
        add(host); // IPv4: only the address itself
        return out;
    }
    let mut d = host;
    while let Some((_, parent)) = cut(d, b'.') {
        add(d);
        d = parent;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `custom_members` with the document the shell would send.
    fn cm(t: &str) -> String {
        custom_members(t, crate::core::json::parse(t).ok().as_ref())
    }
    use crate::core::json;

    fn page() -> Page<'static> {
        Page {
            url: "https://shop.example/p?utm_source=x",
            host: "shop.example",
            path: "/p",
            referrer: "$direct",
            sizes: [1920, 1080, 1280, 720],
        }
    }

    fn ev(name: &str, n: u8) -> Event {
        event(name, "id-1", "", &page(), "", 1_700_000_000_000, &uuid_v7(1_700_000_000_000, [n; 16]))
    }

    #[test]
    fn encodes_an_event_byte_for_byte() {
        let custom = cm(r#"{"plan":"pro \"x\"","n":2.5,"distinct_id":"spoof","$consentry_subject":"spoof"}"#);
        let e = event("signup", "0f0e-id", "ab12", &page(), &custom, 1_700_000_000_123, "u-1");
        let want = concat!(
            r#"{"event":"signup","properties":{"distinct_id":"0f0e-id","$lib":"consentry","$lib_version":"0.1.0","#,
            r#""$current_url":"https://shop.example/p?utm_source=x","$host":"shop.example","$pathname":"/p","#,
            r#""$referrer":"$direct","$screen_width":1920,"$screen_height":1080,"$viewport_width":1280,"#,
            r#""$viewport_height":720,"$process_person_profile":false,"$consentry_subject":"ab12","#,
            r#""plan":"pro \"x\"","n":2.5},"timestamp":"2023-11-14T22:13:20.123Z","uuid":"u-1"}"#
        );
        assert_eq!(e.text, want);
        assert!(json::parse(&e.text).is_ok());
        // No subject yet: the property is left out rather than sent empty.
        let e = event("x", "i", "", &page(), "", 0, "u");
        assert!(!e.text.contains("$consentry_subject"));
    }

    #[test]
    fn custom_properties_keep_their_text_and_lose_reserved_names() {
        assert_eq!(cm(r#"{"a":1,"b":{"c":[true,null]},"s":"$x"}"#), r#""a":1,"b":{"c":[true,null]},"s":"$x""#);
        assert_eq!(
            cm(r#"{"a":1,"$lib":"evil","x":"y","distinct_id":"z","$own":2,"$set":{"email":"e"}}"#),
            r#""a":1,"x":"y","$own":2"#
        );
        assert_eq!(cm("{}"), "");
        for not_object in ["[1,2]", "\"text\"", "1", "null", ""] {
            assert_eq!(cm(not_object), "", "{not_object}");
        }
        // Whatever comes out, the event stays valid JSON without duplicate keys.
        let e = event("e", "i", "s", &page(), &cm(r#"{"$pathname":"/x","$current_url":1,"k":"\"$lib\":"}"#), 0, "u");
        let v = json::parse(&e.text).unwrap();
        assert_eq!(v.get("properties").unwrap().get("$pathname").unwrap().as_str(), Some("/p"));
        assert_eq!(v.get("properties").unwrap().get("k").unwrap().as_str(), Some("\"$lib\":"));
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
        assert_eq!(batch[0].get("uuid").unwrap().as_str(), Some(uuid_v7(1_700_000_000_000, [4; 16]).as_str()));
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
            assert!(q.push(event("e", "i", "", &page(), &big, 0, &uuid_v4([n; 16]))));
        }
        let b = q.next(100, "k", "t").unwrap();
        assert!(b.len() <= MAX_BODY, "{}", b.len());
        let first = json::parse(&b).unwrap().get("batch").unwrap().as_array().unwrap().len();
        assert!((5..12).contains(&first), "{first}");
        assert_eq!(q.len(), 12 - first);
        // Too big for any body: refused at capture.
        let huge = "x".repeat(MAX_EVENT);
        assert!(!q.push(event("e", "i", "", &page(), &huge, 0, "u")));
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

    #[test]
    fn strips_query_and_fragment_but_keeps_allowed_params() {
        let allow = vec![String::from("utm_*"), String::from("ref")];
        assert_eq!(strip_url("https://a.example/p?q=secret&utm_source=x#frag", &allow), "https://a.example/p?utm_source=x");
        assert_eq!(
            strip_url("https://a.example/p?utm_medium=m&email=a%40b&ref=1&utm_=z&refx=2", &allow),
            "https://a.example/p?utm_medium=m&ref=1&utm_=z"
        );
        assert_eq!(strip_url("https://a.example/p?token=1#x?utm_a=1", &allow), "https://a.example/p");
        assert_eq!(strip_url("https://a.example/?&&utm_a", &allow), "https://a.example/?utm_a");
        assert_eq!(strip_url("https://a.example/p?utm_source=x", &[]), "https://a.example/p");
        assert_eq!(strip_url("/p#top", &[]), "/p");
    }

    #[test]
    fn uuids_have_version_variant_and_time() {
        let v4 = uuid_v4([0xff; 16]);
        assert_eq!(v4, "ffffffff-ffff-4fff-bfff-ffffffffffff");
        assert!(is_uuid(&v4));
        let v4 = uuid_v4([0; 16]);
        assert_eq!(v4, "00000000-0000-4000-8000-000000000000");
        let v7 = uuid_v7(0x0123_4567_89ab, [0xaa; 16]);
        assert_eq!(v7, "01234567-89ab-7aaa-aaaa-aaaaaaaaaaaa");
        assert!(is_uuid(&v7));
        assert!(uuid_v7(1000, [0; 16]) < uuid_v7(1001, [0xff; 16]), "time-ordered");
        for bad in ["", "ffffffff-ffff-4fff-bfff-fffffffffff", "FFFFFFFF-ffff-4fff-bfff-ffffffffffff", "ffffffff_ffff-4fff-bfff-ffffffffffff", "x; Domain=evil"] {
            assert!(!is_uuid(bad), "{bad}");
        }
    }

    #[test]
    fn cookie_texts_and_every_domain_variant() {
        assert_eq!(cookie_value("a=1; cs_id=abc ; b=2", "cs_id"), Some("abc"));
        assert_eq!(cookie_value("xcs_id=1; cs_idx=2", "cs_id"), None);
        assert_eq!(cookie_value("", "cs_id"), None);
        assert_eq!(
            cookie_text("v", 86400, Some("example.com"), true),
            "cs_id=v; Path=/; Max-Age=86400; Domain=example.com; SameSite=Lax; Secure"
        );
        assert_eq!(cookie_text("", 86400, None, false), "cs_id=; Path=/; Max-Age=0; SameSite=Lax");
        assert_eq!(cookie_domains("a.b.example.com", Some(".example.com")), ["example.com", "a.b.example.com", "b.example.com"]);
        assert_eq!(cookie_domains("localhost", None), Vec::<String>::new());
        assert_eq!(cookie_domains("127.0.0.1", Some("x.test")), ["x.test", "127.0.0.1"]);
        assert_eq!(cookie_domains("[::1]", None), Vec::<String>::new());
        assert_eq!(cookie_domains("shop.example", None), ["shop.example"]);
    }

    #[test]
    fn byte_loop_edges() {
        // Fast path (nothing reserved) and the slow path for a name only containing `distinct_id`.
        assert_eq!(cm(r#" {"a":1,"b":"x"} "#), r#""a":1,"b":"x""#);
        assert_eq!(cm(r#"{"my_distinct_id":1,"distinct_id":2}"#), r#""my_distinct_id":1"#);
        assert_eq!(cm(r#"{"distinct_i":1}"#), r#""distinct_i":1"#);
        // A trailing dot leaves an empty last label, which counts as numeric (address only).
        assert_eq!(cookie_domains("example.com.", None), ["example.com."]);
        assert_eq!(cookie_domains("10.0.0.x", None), ["10.0.0.x", "0.0.x", "0.x"]);
        assert_eq!(strip_url("/p?", &[String::from("a")]), "/p");
        assert_eq!(strip_url("/p?a&a=1&", &[String::from("a")]), "/p?a&a=1");
        assert_eq!(cookie_value("a=1;b", "b"), None);
        assert_eq!(cookie_value(" b = 2 ", "b"), Some("2"));
    }
}
