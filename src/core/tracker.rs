//! The first-party tracker: what an event says, the queue, batching, retry decisions, and the
//! tracker cookie's text.
//!
//! Owns: the PostHog event model (`{"event","properties","timestamp","uuid"}` in a batch
//! `{"api_key","batch":[…],"sent_at"}`), the properties the tracker sets itself and the ones a
//! caller may not set, URL stripping (`allowParams`), event ids (UUID v7) and the distinct id
//! (UUID v4), the queue bound, which events go in which batch, what a reply status means, and the
//! cookie that keeps the distinct id (its attributes and every Domain it may have been set on).
//! A `Tracker` exists only while its purpose is granted (`engine::Engine` creates and drops it),
//! so nothing here can queue or send without consent. Never touches the browser: the shell
//! passes in the page's facts, the clock and random bytes, and serialises what comes out.
//!
//! Queue bound: at most `max` events wait; when a new one arrives at the bound the oldest is
//! dropped and counted. The count goes out once, as the property `$dropped` on the first event of
//! the next batch formed. One formed batch (at most `batch` events, at most `MAX_BODY` bytes) may
//! be in flight or waiting for its retry besides the waiting events, so the memory held is
//! bounded by `max + batch` events. A retried batch carries the same events with the same `uuid`s
//! and a fresh `sent_at`.
use crate::core::config::TrackerConfig;
use crate::core::doc::Doc;
use crate::core::ids::uuid;
use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;

/// A body must fit `sendBeacon` / `fetch keepalive` (64 KiB for all in-flight ones together).
pub const MAX_BODY: usize = 60_000;
/// An event bigger than this (huge custom properties) is refused at capture.
pub const MAX_EVENT: usize = 16_384;
/// How deep a caller's properties may nest; deeper values (or a cycle) become `null`.
const MAX_DEPTH: usize = 8;
/// The tracker cookie's name.
pub const COOKIE: &str = "cs_id";
/// The localStorage key of the visit's session, shared by the site's tabs (see `Session`).
pub const SESSION_KEY: &str = "cs_sess";
/// The sessionStorage key of this tab's window id.
pub const WINDOW_KEY: &str = "cs_win";
/// A session ends after this long without an event …
pub const SESSION_IDLE_MS: i64 = 30 * 60_000;
/// … or this long after it began.
pub const SESSION_MAX_MS: i64 = 24 * 3_600_000;
/// The stored session's last-event time is written again only once it is this much behind: a
/// burst of events costs one storage write, and an idle session ends at most this much early.
pub const SESSION_WRITE_MS: i64 = 5_000;

/// A property value; also the one shape everything the module gives JavaScript is built as
/// (receipts, consent, batches: see `to_prop`), so the `.wasm` holds one copy of serde's
/// serialiser code instead of one per type.
#[derive(Clone, PartialEq)]
#[cfg_attr(not(target_arch = "wasm32"), derive(Debug))]
pub enum Prop {
    Null,
    Bool(bool),
    Num(f64),
    Text(String),
    List(Vec<Prop>),
    Map(Props),
}

/// An object of properties, in insertion order.
#[derive(Clone, PartialEq, Default)]
#[cfg_attr(not(target_arch = "wasm32"), derive(Debug))]
pub struct Props(Vec<(String, Prop)>);

impl Serialize for Prop {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Prop::Null => s.serialize_unit(),
            Prop::Bool(b) => s.serialize_bool(*b),
            // JavaScript has one number type; natively (the collector, JSON files) a whole
            // number is written as one (`1`, not `1.0`).
            Prop::Num(n) if !cfg!(target_arch = "wasm32") && n.fract() == 0.0 && n.abs() < 9_007_199_254_740_992.0 => {
                s.serialize_i64(*n as i64)
            }
            Prop::Num(n) => s.serialize_f64(*n),
            Prop::Text(t) => s.serialize_str(t),
            Prop::List(l) => l.serialize(s),
            Prop::Map(m) => m.serialize(s),
        }
    }
}

impl Serialize for Props {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

/// The most bytes a string takes in JSON (every byte escaped as `\u00xx` at worst is 6×; real
/// texts are close to their length, so count the escapes).
fn text_len(t: &str) -> usize {
    let mut n = 2;
    for b in t.bytes() {
        n += if b < 0x20 {
            6
        } else if b == b'"' || b == b'\\' {
            2
        } else {
            1
        };
    }
    n
}

impl Prop {
    /// A caller's value: texts, numbers, booleans, lists and objects; anything else is `null`.
    pub fn from_doc<D: Doc>(d: &D, depth: usize) -> Prop {
        if depth > MAX_DEPTH {
            return Prop::Null;
        }
        if let Some(t) = d.text() {
            Prop::Text(t)
        } else if let Some(b) = d.flag() {
            Prop::Bool(b)
        } else if let Some(n) = d.number() {
            Prop::Num(n)
        } else if let Some(items) = d.items() {
            let mut list = Vec::with_capacity(items.len());
            for i in &items {
                list.push(Prop::from_doc(i, depth + 1));
            }
            Prop::List(list)
        } else if d.keys().is_some() {
            Prop::Map(Props::from_doc(d, depth + 1))
        } else {
            Prop::Null
        }
    }

    /// An upper bound of its JSON length (a number at most 24 characters).
    fn json_len(&self) -> usize {
        match self {
            Prop::Null | Prop::Bool(_) => 5,
            Prop::Num(_) => 24,
            Prop::Text(t) => text_len(t),
            Prop::List(l) => {
                let mut n = 2;
                for p in l {
                    n += p.json_len() + 1;
                }
                n
            }
            Prop::Map(m) => m.json_len(),
        }
    }
}

impl Props {
    /// A caller's object (members that are `null` or `undefined` are left out); `{}` for
    /// anything that is not an object.
    pub fn from_doc<D: Doc>(d: &D, depth: usize) -> Props {
        let mut out = Props::default();
        for (k, v) in d.entries().unwrap_or_default() {
            let p = Prop::from_doc(&v, depth);
            out.0.push((k, p));
        }
        out
    }
    /// Adds a member to an object being built (no look-up: the names are the builder's own).
    pub fn push(&mut self, k: &str, v: Prop) {
        self.0.push((String::from(k), v));
    }
    pub fn set(&mut self, k: &str, v: Prop) {
        match self.0.iter_mut().find(|(n, _)| n == k) {
            Some(slot) => slot.1 = v,
            None => self.0.push((String::from(k), v)),
        }
    }
    pub fn get(&self, k: &str) -> Option<&Prop> {
        self.0.iter().find(|(n, _)| n == k).map(|(_, v)| v)
    }
    pub fn len(&self) -> usize {
        self.0.len()
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    fn json_len(&self) -> usize {
        let mut n = 2;
        for (k, v) in &self.0 {
            n += text_len(k) + 2 + v.json_len();
        }
        n
    }
}

pub fn text(s: &str) -> Prop {
    Prop::Text(String::from(s))
}

/// Properties the tracker sets itself, and person-profile updates (events are anonymous): a
/// caller's properties with these names are left out.
const RESERVED_PROPS: [&str; 25] = [
    "$session_id",
    "$window_id",
    "$browser",
    "$browser_version",
    "$os",
    "$device_type",
    "$raw_user_agent",
    "$geoip_disable",
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
    "$unset",
];

/// Event names PostHog reads as person or group updates; the tracker's events are anonymous
/// (`$process_person_profile: false`), so PostHog would drop them: refused at capture.
const RESERVED_EVENTS: [&str; 7] =
    ["$identify", "$create_alias", "$merge_dangerously", "$groupidentify", "$set", "$delete", "$groupidentify_person"];

/// One event, as PostHog's capture reads it.
#[derive(Clone)]
#[cfg_attr(not(target_arch = "wasm32"), derive(Debug))]
pub struct Event {
    pub event: String,
    pub properties: Props,
    pub timestamp: String,
    pub uuid: String,
}

impl Event {
    fn json_len(&self) -> usize {
        60 + text_len(&self.event) + self.properties.json_len() + self.timestamp.len() + self.uuid.len()
    }
}

impl Event {
    /// `{ event, properties, timestamp, uuid }`.
    fn to_prop(&self) -> Prop {
        let mut m = Props::default();
        m.push("event", text(&self.event));
        m.push("properties", Prop::Map(self.properties.clone()));
        m.push("timestamp", text(&self.timestamp));
        m.push("uuid", text(&self.uuid));
        Prop::Map(m)
    }
}

impl Serialize for Event {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_prop().serialize(s)
    }
}

/// A batch body: what the shell serialises and sends.
pub struct Batch<'a> {
    pub api_key: &'a str,
    pub batch: &'a [Event],
    pub sent_at: String,
}

impl Batch<'_> {
    /// `{ api_key, batch: [event, …], sent_at }`.
    pub fn to_prop(&self) -> Prop {
        let mut events = Vec::with_capacity(self.batch.len());
        for e in self.batch {
            events.push(e.to_prop());
        }
        let mut m = Props::default();
        m.push("api_key", text(self.api_key));
        m.push("batch", Prop::List(events));
        m.push("sent_at", text(&self.sent_at));
        Prop::Map(m)
    }
}

impl Serialize for Batch<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_prop().serialize(s)
    }
}

/// What the page looks like when an event happens (read by the shell).
#[derive(Clone, Default)]
pub struct PageFacts {
    pub href: String,
    pub host: String,
    pub pathname: String,
    pub referrer: String,
    pub screen: (u32, u32),
    pub viewport: (u32, u32),
    pub user_agent: String,
}

/// When an event happens: the clock, random bytes (its id, and a new session's) and the stored
/// session text (`SESSION_KEY`, written by any of the site's tabs).
pub struct Moment<'a> {
    pub now: Now,
    pub random: [u8; 32],
    pub session: Option<&'a str>,
}

/// The visit's session, shared by the site's tabs: its id (a UUID v7), when it began and when it
/// last had an event. Stored by the shell as `id.begin.last` (`SESSION_KEY`), next to the
/// tracker's id, only while the tracker runs.
#[derive(Clone, PartialEq)]
#[cfg_attr(not(target_arch = "wasm32"), derive(Debug))]
pub struct Session {
    pub id: String,
    pub begin: i64,
    pub last: i64,
}

impl Session {
    /// Reads the stored text; None for anything else.
    pub fn parse(text: &str) -> Option<Session> {
        let (id, rest) = crate::core::cut(text, b'.')?;
        let (begin, last) = crate::core::cut(rest, b'.')?;
        let num = |s: &str| crate::core::digits(s).map(|n| n as i64);
        crate::core::ids::is_uuid(id).then_some(())?;
        Some(Session { id: String::from(id), begin: num(begin)?, last: num(last)? })
    }
    pub fn text(&self) -> String {
        let mut s = self.id.clone();
        for n in [self.begin, self.last] {
            s.push('.');
            crate::core::canonical::push_int(&mut s, n.max(0) as u64);
        }
        s
    }
    /// Whether an event at `now` still belongs to it (a clock gone back counts as alive).
    fn alive(&self, now: i64) -> bool {
        now - self.last <= SESSION_IDLE_MS && now - self.begin <= SESSION_MAX_MS
    }
}

/// What PostHog's web analytics reads of the user agent: browser, its major version, operating
/// system and device type, by a small table (tokens in the order they must be tested: Edge and
/// Opera also say Chrome, Chrome also says Safari).
fn device(ua: &str) -> (&'static str, Option<u32>, &'static str, &'static str) {
    const BROWSERS: [(&str, &str); 10] = [
        ("Edg", "Microsoft Edge"),
        ("OPR/", "Opera"),
        ("SamsungBrowser/", "Samsung Internet"),
        ("FxiOS/", "Firefox iOS"),
        ("CriOS/", "Chrome iOS"),
        ("Firefox/", "Firefox"),
        ("Chrome/", "Chrome"),
        ("Version/", "Safari"),
        ("MSIE ", "Internet Explorer"),
        ("Trident/", "Internet Explorer"),
    ];
    const SYSTEMS: [(&str, &str); 7] = [
        ("Windows", "Windows"),
        ("iPhone", "iOS"),
        ("iPad", "iOS"),
        ("Android", "Android"),
        ("CrOS", "Chrome OS"),
        ("Mac OS X", "Mac OS X"),
        ("Linux", "Linux"),
    ];
    let mut browser = ("", None);
    for (token, name) in BROWSERS {
        if let Some(at) = crate::core::find(ua, token) {
            // The major version: the digits after the token's '/' (or after "Edg…/").
            let after = &ua.as_bytes()[at + token.len()..];
            let start = after.iter().position(|b| b.is_ascii_digit()).filter(|&i| i < 8).unwrap_or(after.len());
            let mut digits = 0u32;
            for b in after.get(start..).unwrap_or(&[]) {
                if !b.is_ascii_digit() {
                    break;
                }
                digits = digits.saturating_mul(10).saturating_add((b - b'0') as u32);
            }
            let mobile = name == "Safari" && crate::core::find(ua, "Mobile").is_some();
            browser = (if mobile { "Mobile Safari" } else { name }, (start < after.len()).then_some(digits));
            break;
        }
    }
    let os = SYSTEMS.iter().find(|(t, _)| crate::core::find(ua, t).is_some()).map_or("", |(_, n)| n);
    let device = if crate::core::find(ua, "iPad").is_some()
        || crate::core::find(ua, "Tablet").is_some()
        || (crate::core::find(ua, "Android").is_some() && crate::core::find(ua, "Mobile").is_none())
    {
        "Tablet"
    } else if crate::core::find(ua, "Mobi").is_some()
        || crate::core::find(ua, "iPhone").is_some()
        || crate::core::find(ua, "iPod").is_some()
    {
        "Mobile"
    } else {
        "Desktop"
    };
    (browser.0, browser.1, os, device)
}

/// Why `capture` refused an event.
#[derive(Clone, Copy, PartialEq)]
#[cfg_attr(not(target_arch = "wasm32"), derive(Debug))]
pub enum CaptureError {
    /// The tracker's purpose is not granted: dropped, never kept for later.
    NotConsented,
    /// The name is not a text of 1 to 200 bytes.
    Name,
    /// A name PostHog reads as a person or group update (see `RESERVED_EVENTS`).
    Reserved,
    /// Larger than `MAX_EVENT` bytes.
    TooLarge,
}

impl CaptureError {
    pub fn as_str(self) -> &'static str {
        match self {
            CaptureError::NotConsented => "the visitor has not allowed analytics; dropped",
            CaptureError::Name => "the event name must be a text of 1 to 200 characters; dropped",
            CaptureError::Reserved => {
                "this name is a person or group update, and the tracker's events are anonymous (PostHog would drop it); dropped"
            }
            CaptureError::TooLarge => "the event's properties are too large (16 KB at most); dropped",
        }
    }
}

/// What the reply to a batch means.
#[derive(Clone, Copy, PartialEq)]
#[cfg_attr(not(target_arch = "wasm32"), derive(Debug))]
pub enum Outcome {
    /// Accepted (2xx): the batch is gone.
    Sent,
    /// Network error (0), 5xx, 408 or 429: the same batch is sent again after retry `n`'s delay.
    Retry(u32),
    /// Any other status: the collector will never take it; the batch is dropped (said once).
    Refused,
}

/// What a reply status means for anything sent to the site's collector.
pub fn outcome(status: u16, attempt: u32) -> Outcome {
    match status {
        200..=299 => Outcome::Sent,
        0 | 408 | 429 | 500..=599 => Outcome::Retry(attempt + 1),
        _ => Outcome::Refused,
    }
}

/// The events waiting to be sent and the one batch in flight or waiting for its retry.
#[derive(Default)]
pub struct Queue {
    /// Oldest first.
    events: Vec<Event>,
    max: usize,
    /// Events dropped at the bound since the last batch was formed.
    dropped: u32,
    /// The formed batch (already with `$dropped`).
    pending: Vec<Event>,
    /// A request for `pending` is under way.
    sending: bool,
    /// Failed attempts of `pending` so far, and when to try again.
    attempt: u32,
    retry_at: Option<i64>,
    /// When the oldest waiting event was queued (the flush timer counts from it).
    waiting_since: Option<i64>,
}

impl Queue {
    pub fn new(max: usize) -> Queue {
        Queue { max: max.max(1), ..Queue::default() }
    }

    /// Queues an event, dropping (and counting) the oldest at the bound.
    fn push(&mut self, e: Event, now: i64) {
        if self.events.len() >= self.max {
            let n = self.events.len() + 1 - self.max;
            self.events.drain(..n);
            self.dropped += n as u32;
        }
        self.events.push(e);
        self.waiting_since.get_or_insert(now);
    }

    /// Events waiting (not counting the formed batch).
    pub fn len(&self) -> usize {
        self.events.len()
    }
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }
    pub fn dropped(&self) -> u32 {
        self.dropped
    }
    pub fn has_pending(&self) -> bool {
        !self.pending.is_empty()
    }

    /// When a batch is next due (`i64::MIN`: now), or None while one is under way or nothing waits.
    fn due_at(&self, batch: usize, flush_ms: u32) -> Option<i64> {
        if self.sending {
            None
        } else if self.has_pending() {
            Some(self.retry_at.unwrap_or(i64::MIN))
        } else if self.events.len() >= batch {
            Some(i64::MIN)
        } else {
            self.waiting_since.map(|t| t + flush_ms as i64)
        }
    }

    /// How many of the first waiting events fit one batch of at most `batch` events.
    fn fit(&self, batch: usize) -> usize {
        let mut size = 1024; // the wrapper (api key, sent_at) stays well under this
        let mut n = 0;
        for e in self.events.iter().take(batch.max(1)) {
            size += e.json_len() + 1;
            if n > 0 && size > MAX_BODY {
                break;
            }
            n += 1;
        }
        n
    }

    /// Forms the next batch from the first waiting events (with `$dropped` on the first).
    fn form(&mut self, batch: usize) {
        let n = self.fit(batch);
        let rest = self.events.split_off(n.min(self.events.len()));
        self.pending = core::mem::replace(&mut self.events, rest);
        if let (Some(first), true) = (self.pending.first_mut(), self.dropped > 0) {
            first.properties.set("$dropped", Prop::Num(self.dropped as f64));
        }
        self.dropped = 0;
        // What is left (or queued meanwhile) waits from the reply on (see `done`).
        self.waiting_since = None;
    }

    /// The batch to send now, if one is due: the pending one again (a retry) or a new one. Marks
    /// the queue as sending until `done`.
    fn next(&mut self, batch: usize, flush_ms: u32, now: i64) -> Option<&[Event]> {
        if self.due_at(batch, flush_ms)? > now {
            return None;
        }
        if !self.has_pending() {
            self.form(batch);
        }
        self.sending = true;
        Some(&self.pending)
    }

    /// The reply to the batch `next` gave; the retry delay is `delay(attempt)`.
    fn done(&mut self, status: u16, now: i64, delay: impl Fn(u32) -> u32) -> Outcome {
        self.sending = false;
        if !self.events.is_empty() {
            self.waiting_since.get_or_insert(now);
        }
        let o = outcome(status, self.attempt);
        match o {
            Outcome::Retry(n) => {
                self.attempt = n;
                self.retry_at = Some(now + delay(n) as i64);
            }
            _ => {
                self.pending.clear();
                self.attempt = 0;
                self.retry_at = None;
            }
        }
        o
    }

    /// The page is being hidden: hands batches to `send` (sendBeacon) until it refuses one. The
    /// pending batch is offered too unless its request is under way, and kept for its retry
    /// (resending is harmless: the collector counts each uuid once). Waiting events leave the
    /// queue when `send` took them.
    fn beacon(&mut self, batch: usize, send: &mut dyn FnMut(&[Event]) -> bool) {
        if !self.sending && self.has_pending() {
            send(&self.pending);
        }
        while !self.events.is_empty() {
            let n = self.fit(batch);
            if !send(&self.events[..n]) {
                break;
            }
            self.events.drain(..n);
        }
        self.waiting_since = None;
    }
}

/// The tracker of one page while its purpose is granted.
pub struct Tracker {
    config: TrackerConfig,
    /// The distinct id (the cookie's value).
    id: String,
    queue: Queue,
    /// The properties of the current page view (made again when the page changes).
    page: Option<Props>,
    /// The path of the last `$pageview`.
    viewed: String,
    /// Whether this page view's `$pageleave` went.
    left: bool,
    /// This tab's window id (`WINDOW_KEY`) and the visit's session, as last seen.
    window: String,
    session: Option<Session>,
}

impl Tracker {
    /// Starts with the cookie's id when it is one we wrote (a UUID), else a new UUID v4, and with
    /// this tab's stored window id, else a new UUID v7.
    pub fn new(config: &TrackerConfig, cookie: Option<&str>, window: Option<&str>, now: &Now, random: [u8; 32]) -> Tracker {
        let keep = |stored: Option<&str>| stored.filter(|s| crate::core::ids::is_uuid(s)).map(String::from);
        let mut a = [0u8; 16];
        let mut b = [0u8; 16];
        a.copy_from_slice(&random[..16]);
        b.copy_from_slice(&random[16..]);
        Tracker {
            config: config.clone(),
            id: keep(cookie).unwrap_or_else(|| uuid(a, None)),
            queue: Queue::new(config.max_queue),
            page: None,
            viewed: String::new(),
            left: false,
            window: keep(window).unwrap_or_else(|| uuid(b, Some(now.ms.max(0) as u64))),
            session: None,
        }
    }

    /// This tab's window id, for the shell to keep (`WINDOW_KEY`).
    pub fn window(&self) -> &str {
        &self.window
    }

    /// The session as it stands after the last event, for the shell to store (`SESSION_KEY`).
    pub fn session(&self) -> Option<&Session> {
        self.session.as_ref()
    }

    /// The session text the shell is to store, given what storage holds now (`stored`): None
    /// when that is this session already, less than `SESSION_WRITE_MS` behind.
    pub fn session_to_store(&self, stored: Option<&str>) -> Option<String> {
        let s = self.session.as_ref()?;
        let fresh =
            stored.and_then(Session::parse).is_some_and(|t| t.id == s.id && t.begin == s.begin && s.last - t.last < SESSION_WRITE_MS);
        (!fresh).then(|| s.text())
    }

    pub fn id(&self) -> &str {
        &self.id
    }
    pub fn queue(&self) -> &Queue {
        &self.queue
    }
    pub fn config(&self) -> &TrackerConfig {
        &self.config
    }

    /// The page changed (a navigation inside the page, a resize, a new consent subject): its
    /// properties are read again at the next event.
    pub fn page_changed(&mut self) {
        self.page = None;
    }

    /// Back from the back/forward cache: a new page view.
    pub fn restored(&mut self) {
        self.page = None;
        self.viewed.clear();
        self.left = false;
    }

    fn page_props(&self, page: &PageFacts, subject: &str) -> Props {
        let mut p = Props::default();
        p.set("distinct_id", text(&self.id));
        p.set("$lib", text("consentry"));
        p.set("$lib_version", text(env!("CARGO_PKG_VERSION")));
        p.set("$current_url", Prop::Text(strip_url(&page.href, &self.config.allow_params)));
        p.set("$host", text(&page.host));
        p.set("$pathname", text(&page.pathname));
        let referrer = strip_url(&page.referrer, &[]);
        p.set("$referrer", Prop::Text(if referrer.is_empty() { String::from("$direct") } else { referrer }));
        p.set("$screen_width", Prop::Num(page.screen.0 as f64));
        p.set("$screen_height", Prop::Num(page.screen.1 as f64));
        p.set("$viewport_width", Prop::Num(page.viewport.0 as f64));
        p.set("$viewport_height", Prop::Num(page.viewport.1 as f64));
        p.set("$process_person_profile", Prop::Bool(false));
        let (browser, version, os, device) = device(&page.user_agent);
        for (k, v) in [("$browser", browser), ("$os", os), ("$device_type", device)] {
            if !v.is_empty() {
                p.set(k, text(v));
            }
        }
        if let Some(v) = version {
            p.set("$browser_version", Prop::Num(v as f64));
        }
        if self.config.raw_user_agent {
            p.set("$raw_user_agent", text(&page.user_agent));
        }
        if !self.config.geoip {
            p.set("$geoip_disable", Prop::Bool(true));
        }
        if !subject.is_empty() {
            p.set("$consentry_subject", text(subject));
        }
        p
    }

    /// Composes and queues an event: the page's properties, then the caller's (those with a
    /// reserved name left out), the time and a UUID v7.
    /// `page` is asked only when the page's properties must be read again.
    pub fn capture(
        &mut self,
        name: &str,
        custom: Props,
        page: &dyn Fn() -> PageFacts,
        subject: &str,
        m: &Moment,
    ) -> Result<(), CaptureError> {
        if name.is_empty() || name.len() > 200 {
            return Err(CaptureError::Name);
        }
        if RESERVED_EVENTS.contains(&name) {
            return Err(CaptureError::Reserved);
        }
        let base = match self.page.take() {
            Some(p) if matches!(p.get("$consentry_subject"), Some(Prop::Text(s)) if s == subject) || subject.is_empty() => p,
            _ => self.page_props(&page(), subject),
        };
        let mut properties = base.clone();
        self.page = Some(base);
        // Every name the page's properties use is reserved, and a caller's names are an object's
        // keys (each once): members are added without looking for an earlier one of the name.
        for (k, v) in custom.0 {
            if !RESERVED_PROPS.contains(&k.as_str()) {
                properties.0.push((k, v));
            }
        }
        // The session: the one any tab stored while it is alive, else the one seen here, else new.
        let now = m.now.ms;
        let mut ids = [0u8; 16];
        ids.copy_from_slice(&m.random[16..]);
        let stored = m.session.and_then(Session::parse).filter(|s| s.alive(now));
        let mut session = stored.or_else(|| self.session.take().filter(|s| s.alive(now))).unwrap_or_else(|| Session {
            id: uuid(ids, Some(now.max(0) as u64)),
            begin: now,
            last: now,
        });
        session.last = session.last.max(now);
        properties.push("$session_id", text(&session.id));
        properties.push("$window_id", text(&self.window));
        self.session = Some(session);
        let mut id = [0u8; 16];
        id.copy_from_slice(&m.random[..16]);
        let e = Event { event: String::from(name), properties, timestamp: m.now.iso.clone(), uuid: uuid(id, Some(now.max(0) as u64)) };
        if e.json_len() > MAX_EVENT {
            return Err(CaptureError::TooLarge);
        }
        self.queue.push(e, now);
        Ok(())
    }

    /// A `$pageview` when page views are on and the path is not the one last viewed.
    pub fn pageview(&mut self, page: &dyn Fn() -> PageFacts, subject: &str, m: &Moment) {
        let facts = page();
        if self.config.pageviews && self.viewed != facts.pathname {
            self.viewed = facts.pathname.clone();
            self.left = false;
            let _ = self.capture("$pageview", Props::default(), &|| facts.clone(), subject, m);
        }
    }

    /// The page is being hidden for good: one `$pageleave` per page view, when they are on.
    pub fn pageleave(&mut self, page: &dyn Fn() -> PageFacts, subject: &str, m: &Moment) {
        if self.config.pageleave && !self.left {
            self.left = true;
            let _ = self.capture("$pageleave", Props::default(), page, subject, m);
        }
    }

    /// When the next batch is due (see `Queue::due_at`).
    pub fn due_at(&self) -> Option<i64> {
        self.queue.due_at(self.config.batch_size, self.config.flush_ms)
    }

    /// The batch to send now, if one is due.
    pub fn next(&mut self, now: Now) -> Option<Batch<'_>> {
        let (batch, flush) = (self.config.batch_size, self.config.flush_ms);
        let events = self.queue.next(batch, flush, now.ms)?;
        Some(Batch { api_key: &self.config.api_key, batch: events, sent_at: now.iso })
    }

    /// The reply to the batch `next` gave; `jitter` is any random number.
    pub fn done(&mut self, status: u16, now: i64, jitter: u32) -> Outcome {
        self.queue.done(status, now, |n| crate::core::backoff::delay_ms(n, jitter))
    }

    /// The page is being hidden: every batch it can to `send` (see `Queue::beacon`).
    pub fn beacon(&mut self, now: &Now, send: &mut dyn FnMut(&Batch) -> bool) {
        let key = self.config.api_key.clone();
        let batch = self.config.batch_size;
        self.queue.beacon(batch, &mut |events| send(&Batch { api_key: &key, batch: events, sent_at: now.iso.clone() }));
    }
}

/// A moment, in Unix milliseconds and as the events write it.
#[derive(Clone)]
pub struct Now {
    pub ms: i64,
    pub iso: String,
}

impl Now {
    pub fn at(ms: i64) -> Now {
        Now { ms, iso: crate::core::time::format_utc_iso(ms) }
    }

    /// Now from a clock that reads `ms` and writes ISO text with `iso` (the browser's `Date`).
    /// A time a receipt cannot hold (before 1970, after 9999, not a number) counts as the epoch:
    /// the decision is recorded, the log still verifies, and, being that old, it is asked again.
    pub fn from_clock(ms: f64, iso: impl FnOnce(f64) -> String) -> Now {
        if ms >= 0.0 && ms <= crate::core::time::MAX_MS as f64 {
            let ms = ms.floor();
            Now { ms: ms as i64, iso: iso(ms) }
        } else {
            Now { ms: 0, iso: String::from("1970-01-01T00:00:00.000Z") }
        }
    }
}

/// The URL without its fragment and without every query parameter `allow` does not name
/// (`utm_*` names every one starting `utm_`); the kept ones keep their order and text.
pub fn strip_url(url: &str, allow: &[String]) -> String {
    let url = crate::core::before(url, b'#');
    let Some((base, query)) = crate::core::cut(url, b'?') else {
        return String::from(url);
    };
    let mut out = String::from(base);
    let mut first = true;
    let mut rest = Some(query);
    while let Some(r) = rest {
        let (pair, more) = match crate::core::cut(r, b'&') {
            Some((p, m)) => (p, Some(m)),
            None => (r, None),
        };
        rest = more;
        let name = crate::core::before(pair, b'=');
        let kept = !name.is_empty()
            && allow.iter().any(|a| match crate::core::unwrap_ends(a, 0, b'*') {
                Some(prefix) => name.as_bytes().starts_with(prefix.as_bytes()),
                None => name == a,
            });
        if kept {
            out.push(if first { '?' } else { '&' });
            out.push_str(pair);
            first = false;
        }
    }
    out
}

/// The `document.cookie` text that sets the tracker cookie to `id` for `days`; host-only, or on
/// `domain`; `Secure` on https. (`expire` deletes it.)
pub fn cookie_text(id: &str, days: i64, domain: Option<&str>, secure: bool) -> String {
    let mut s = String::from(COOKIE);
    s.push('=');
    s.push_str(id);
    s.push_str("; Path=/; Max-Age=");
    crate::core::canonical::push_int(&mut s, days.max(0) as u64 * 86_400);
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

/// Every Domain the tracker cookie may have been set with, to delete it from all: the
/// configured one, then the host and each parent with at least two labels. An IPv4 address (a
/// numeric last label) has only itself, IPv6 none. Deleting also needs the host-only variant
/// (no Domain), which the caller adds.
pub fn cookie_domains(hostname: &str, configured: Option<&str>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut add = |d: &str| {
        let d = d.get(d.bytes().position(|b| b != b'.').unwrap_or(d.len())..).unwrap_or("");
        if !d.is_empty() && !out.iter().any(|o| o.eq_ignore_ascii_case(d)) {
            out.push(String::from(d));
        }
    };
    if let Some(c) = configured {
        add(c);
    }
    if !crate::core::has(hostname, b':') {
        // The last label: after the last '.' (bytes, no reverse string search in the .wasm).
        let last_dot = hostname.bytes().rposition(|b| b == b'.').map_or(0, |i| i + 1);
        if hostname.bytes().skip(last_dot).all(|b| b.is_ascii_digit()) {
            add(hostname);
        } else {
            let mut rest = hostname;
            while let Some((_, tail)) = crate::core::cut(rest, b'.') {
                add(rest);
                rest = tail;
            }
        }
    }
    out
}

/// Every path a cookie set on this page may have: `/`, each directory above `pathname` (the
/// default path of a cookie a script sets is the page's directory) and the page's own path.
pub fn cookie_paths(pathname: &str) -> Vec<&str> {
    let mut out = vec!["/"];
    for (i, b) in pathname.bytes().enumerate().skip(1) {
        if b == b'/' {
            out.extend(pathname.get(..i));
        }
    }
    if pathname.len() > 1 {
        out.push(pathname);
    }
    out
}

/// The `document.cookie` text that expires cookie `name` on `path` and `domain` ("" host-only).
pub fn expire(name: &str, path: &str, domain: &str, secure: bool) -> String {
    let mut s = String::from(name);
    s.push_str("=; Max-Age=0; Path=");
    s.push_str(path);
    if !domain.is_empty() {
        s.push_str("; Domain=");
        s.push_str(domain);
    }
    if secure {
        s.push_str("; Secure");
    }
    s
}

/// The value of cookie `name` in a `document.cookie` text, or None.
pub fn cookie_value<'a>(cookies: &'a str, name: &str) -> Option<&'a str> {
    let mut rest = cookies;
    while !rest.is_empty() {
        let (c, more) = crate::core::cut(rest, b';').unwrap_or((rest, ""));
        if let Some((k, v)) = crate::core::cut(c, b'=') {
            if crate::core::trim_spaces(k) == name {
                return Some(crate::core::trim_spaces(v));
            }
        }
        rest = more;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(batch: usize, max: usize) -> TrackerConfig {
        TrackerConfig {
            api_key: String::from("phc_k"),
            endpoint: String::from("/batch/"),
            purpose: String::from("analytics"),
            pageviews: true,
            pageleave: true,
            allow_params: vec![String::from("utm_*"), String::from("ref")],
            batch_size: batch,
            flush_ms: 5000,
            max_queue: max,
            cookie_domain: None,
            cookie_days: 395,
            geoip: false,
            raw_user_agent: false,
        }
    }

    fn page() -> PageFacts {
        PageFacts {
            href: String::from("https://shop.example/p?utm_source=a&email=x%40y&ref=1#top"),
            host: String::from("shop.example"),
            pathname: String::from("/p"),
            referrer: String::from("https://search.example/find?q=secret"),
            screen: (1280, 800),
            viewport: (1200, 700),
            user_agent: String::from(CHROME),
        }
    }

    const T0: i64 = 1_800_000_000_000;

    const CHROME: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.8078.73 Safari/537.36";

    fn m(now: Now, n: u8) -> Moment<'static> {
        Moment { now, random: [n; 32], session: None }
    }

    fn json(b: &Batch) -> serde_json::Value {
        serde_json::to_value(b).unwrap()
    }

    fn props(pairs: serde_json::Value) -> Props {
        Props::from_doc(&&pairs, 0)
    }

    #[test]
    fn an_event_carries_the_page_the_callers_properties_and_its_ids() {
        let mut t = Tracker::new(&cfg(10, 100), None, None, &Now::at(T0), [1; 32]);
        assert!(crate::core::ids::is_uuid(t.id()) && t.id().as_bytes()[14] == b'4');
        let custom = props(
            serde_json::json!({"plan": "pro", "seats": 3, "nested": {"ok": true}, "distinct_id": "spoofed", "$set": {"x": 1}, "$lib": "x"}),
        );
        t.capture("signup", custom, &page, "subj", &m(Now::at(T0), 2)).unwrap();
        assert_eq!(t.due_at(), Some(T0 + 5000), "the flush timer");
        let b = t.next(Now::at(T0 + 5000)).unwrap();
        let v = json(&b);
        assert_eq!(v["api_key"], "phc_k");
        let e = &v["batch"][0];
        assert_eq!(e["event"], "signup");
        assert_eq!(e["timestamp"], "2027-01-15T08:00:00.000Z");
        // 1 800 000 000 000 ms = 0x01a3185c5000 in the first 48 bits, then version 7, variant 10.
        assert_eq!(e["uuid"], "01a3185c-5000-7202-8202-020202020202");
        let p = &e["properties"];
        assert_eq!(p["distinct_id"], t_id(&v));
        assert_eq!(p["$current_url"], "https://shop.example/p?utm_source=a&ref=1");
        assert_eq!(p["$referrer"], "https://search.example/find");
        assert_eq!(p["$consentry_subject"], "subj");
        assert_eq!(p["$lib"], "consentry");
        assert_eq!(p["plan"], "pro");
        assert_eq!(p["seats"], 3.0);
        assert_eq!(p["nested"]["ok"], true);
        assert!(p.get("$set").is_none());
        assert_eq!(p["$process_person_profile"], false);
    }

    fn t_id(v: &serde_json::Value) -> String {
        v["batch"][0]["properties"]["distinct_id"].as_str().unwrap().to_string()
    }

    #[test]
    fn names_sizes_and_the_cookie_id_are_checked() {
        let mut t = Tracker::new(&cfg(10, 100), Some("NOT-A-UUID"), None, &Now::at(T0), [1; 32]);
        assert_ne!(t.id(), "NOT-A-UUID");
        let kept = Tracker::new(&cfg(10, 100), Some("0193a2b4-0000-4000-8000-000000000000"), None, &Now::at(T0), [1; 32]);
        assert_eq!(kept.id(), "0193a2b4-0000-4000-8000-000000000000");
        let now = Now::at(T0);
        assert_eq!(t.capture("", Props::default(), &page, "", &m(now.clone(), 0)), Err(CaptureError::Name));
        assert_eq!(t.capture(&"x".repeat(201), Props::default(), &page, "", &m(now.clone(), 0)), Err(CaptureError::Name));
        assert!(t.capture(&"é".repeat(100), Props::default(), &page, "", &m(now.clone(), 0)).is_ok());
        let huge = props(serde_json::json!({"blob": "x".repeat(MAX_EVENT)}));
        assert_eq!(t.capture("big", huge, &page, "", &m(now, 0)), Err(CaptureError::TooLarge));
        assert_eq!(t.queue().len(), 1);
    }

    #[test]
    fn the_queue_is_bounded_and_counts_what_it_dropped_once() {
        let mut t = Tracker::new(&cfg(10, 2), None, None, &Now::at(T0), [1; 32]);
        for i in 0..5 {
            t.capture(&format!("e{i}"), Props::default(), &page, "", &m(Now::at(T0), i)).unwrap();
        }
        assert_eq!((t.queue().len(), t.queue().dropped()), (2, 3));
        let v = json(&t.next(Now::at(T0 + 5000)).unwrap());
        assert_eq!(v["batch"].as_array().unwrap().len(), 2);
        assert_eq!(v["batch"][0]["event"], "e3", "the oldest went");
        assert_eq!(v["batch"][0]["properties"]["$dropped"], 3.0);
        assert!(v["batch"][1]["properties"].get("$dropped").is_none());
        assert_eq!(t.done(200, T0, 0), Outcome::Sent);
        t.capture("e9", Props::default(), &page, "", &m(Now::at(T0), 9)).unwrap();
        let v = json(&t.next(Now::at(T0 + 10_000)).unwrap());
        assert!(v["batch"][0]["properties"].get("$dropped").is_none());
    }

    #[test]
    fn a_full_batch_is_due_at_once_one_at_a_time_and_fits_the_body_limit() {
        let mut t = Tracker::new(&cfg(3, 100), None, None, &Now::at(T0), [1; 32]);
        for i in 0..7 {
            assert_eq!(t.due_at().is_some_and(|d| d <= T0), i >= 3);
            t.capture("e", Props::default(), &page, "", &m(Now::at(T0), i)).unwrap();
        }
        let v = json(&t.next(Now::at(T0)).unwrap());
        assert_eq!(v["batch"].as_array().unwrap().len(), 3);
        assert!(t.next(Now::at(T0)).is_none(), "one request at a time");
        assert_eq!(t.done(200, T0, 0), Outcome::Sent);
        assert_eq!(t.queue().len(), 4);
        // Big events: split by bytes long before the count.
        let mut t = Tracker::new(&cfg(100, 100), None, None, &Now::at(T0), [1; 32]);
        for i in 0..12 {
            let big = props(serde_json::json!({"blob": "x".repeat(10_000)}));
            t.capture("e", big, &page, "", &m(Now::at(T0), i)).unwrap();
        }
        let b = t.next(Now::at(T0 + 5000)).unwrap();
        let text = serde_json::to_string(&b).unwrap();
        assert!(text.len() <= MAX_BODY, "{}", text.len());
        let n = b.batch.len();
        assert!((4..12).contains(&n), "{n}");
    }

    #[test]
    fn retries_resend_the_same_events_after_a_growing_delay() {
        let mut t = Tracker::new(&cfg(10, 100), None, None, &Now::at(T0), [1; 32]);
        t.capture("a", Props::default(), &page, "", &m(Now::at(T0), 1)).unwrap();
        let first = json(&t.next(Now::at(T0 + 5000)).unwrap());
        assert_eq!(t.done(0, T0 + 5000, 0), Outcome::Retry(1));
        assert_eq!(t.due_at(), Some(T0 + 6000));
        assert!(t.next(Now::at(T0 + 5999)).is_none(), "not before its time");
        t.capture("b", Props::default(), &page, "", &m(Now::at(T0 + 5500), 2)).unwrap();
        let again = json(&t.next(Now::at(T0 + 6000)).unwrap());
        assert_eq!(first["batch"], again["batch"], "the same events, the same uuids");
        assert_ne!(first["sent_at"], again["sent_at"]);
        assert_eq!(t.done(503, T0 + 6000, 0), Outcome::Retry(2));
        assert_eq!(t.due_at(), Some(T0 + 8000));
        t.next(Now::at(T0 + 8000)).unwrap();
        assert_eq!(t.done(204, T0 + 8000, 0), Outcome::Sent);
        let v = json(&t.next(Now::at(T0 + 20_000)).unwrap());
        assert_eq!(v["batch"][0]["event"], "b");
        // A 4xx is final: dropped, nothing retried.
        assert_eq!(t.done(400, T0 + 20_000, 0), Outcome::Refused);
        assert!(!t.queue().has_pending() && t.next(Now::at(T0 + 99_000)).is_none());
    }

    #[test]
    fn page_hide_beacons_everything_it_can() {
        let mut t = Tracker::new(&cfg(2, 50), None, None, &Now::at(T0), [1; 32]);
        for i in 0..7 {
            t.capture("e", Props::default(), &page, "", &m(Now::at(T0), i)).unwrap();
        }
        t.next(Now::at(T0)).unwrap(); // two in flight
        let mut sent = Vec::new();
        t.beacon(&Now::at(T0), &mut |b| {
            sent.push(b.batch.len());
            true
        });
        // The in-flight batch is not resent (its keepalive request goes on); 5 waiting → 2+2+1.
        assert_eq!(sent, [2, 2, 1]);
        assert_eq!(t.queue().len(), 0);
        // A failed pending batch is offered again and kept for its retry; a refused beacon keeps events.
        t.done(0, T0, 0);
        t.capture("f", Props::default(), &page, "", &m(Now::at(T0), 9)).unwrap();
        let mut calls = 0;
        t.beacon(&Now::at(T0), &mut |_| {
            calls += 1;
            calls == 1
        });
        assert_eq!((calls, t.queue().len(), t.queue().has_pending()), (2, 1, true));
    }

    #[test]
    fn page_views_once_per_path_and_one_page_leave() {
        let mut t = Tracker::new(&cfg(10, 100), None, None, &Now::at(T0), [1; 32]);
        let mut p = page();
        t.pageview(&|| p.clone(), "", &m(Now::at(T0), 1));
        t.pageview(&|| p.clone(), "", &m(Now::at(T0), 2));
        p.pathname = String::from("/q");
        t.page_changed();
        t.pageview(&|| p.clone(), "", &m(Now::at(T0), 3));
        t.pageleave(&|| p.clone(), "", &m(Now::at(T0), 4));
        t.pageleave(&|| p.clone(), "", &m(Now::at(T0), 5));
        let v = json(&t.next(Now::at(T0 + 5000)).unwrap());
        let names: Vec<&str> = v["batch"].as_array().unwrap().iter().map(|e| e["event"].as_str().unwrap()).collect();
        assert_eq!(names, ["$pageview", "$pageview", "$pageleave"]);
        assert_eq!(v["batch"][1]["properties"]["$pathname"], "/q");
        t.restored();
        t.pageview(&|| p.clone(), "", &m(Now::at(T0), 6));
        assert_eq!(t.queue().len(), 1, "back from the cache: a new view of the same path");
    }

    #[test]
    fn urls_keep_only_allowed_parameters() {
        let allow = [String::from("utm_*"), String::from("id")];
        for (url, want) in [
            ("https://x.example/a", "https://x.example/a"),
            ("https://x.example/a?utm_source=n&email=a%40b&utm_medium=m#top", "https://x.example/a?utm_source=n&utm_medium=m"),
            ("/a?=x&utm_=1&UTM_source=2&id=3&idx=4&&id", "/a?utm_=1&id=3&id"),
            ("/a?token=secret", "/a"),
            ("/a#frag?x=1", "/a"),
            ("", ""),
        ] {
            assert_eq!(strip_url(url, &allow), want, "{url}");
        }
        assert_eq!(strip_url("/a?utm_source=n", &[]), "/a");
    }

    #[test]
    fn the_cookie_and_its_domains() {
        assert_eq!(cookie_text("abc", 395, None, false), "cs_id=abc; Path=/; Max-Age=34128000; SameSite=Lax");
        assert_eq!(
            cookie_text("abc", 30, Some("shop.example"), true),
            "cs_id=abc; Path=/; Max-Age=2592000; Domain=shop.example; SameSite=Lax; Secure"
        );
        assert_eq!(cookie_domains("www.shop.example", None), ["www.shop.example", "shop.example"]);
        assert_eq!(cookie_domains("a.b.shop.example", Some(".Shop.Example")), ["Shop.Example", "a.b.shop.example", "b.shop.example"]);
        assert_eq!(cookie_domains("127.0.0.1", None), ["127.0.0.1"]);
        assert_eq!(cookie_domains("localhost", None), Vec::<String>::new());
        assert_eq!(cookie_domains("[::1]", None), Vec::<String>::new());
        assert_eq!(cookie_value("a=1; cs_id = x-y ; b=2", COOKIE), Some("x-y"));
        assert_eq!(cookie_value("xcs_id=1", COOKIE), None);
    }

    #[test]
    fn a_clock_outside_what_receipts_hold_counts_as_the_epoch() {
        for bad in [-1.0, f64::NAN, f64::INFINITY, 253_402_300_800_000.0] {
            let n = Now::from_clock(bad, |_| unreachable!("not written"));
            assert_eq!((n.ms, n.iso.as_str()), (0, "1970-01-01T00:00:00.000Z"), "{bad}");
        }
        let n = Now::from_clock(1_800_000_000_000.7, crate::core::time::format_utc_iso_f64);
        assert_eq!((n.ms, n.iso.as_str()), (1_800_000_000_000, "2027-01-15T08:00:00.000Z"));
    }

    #[test]
    fn device_properties_from_the_user_agent() {
        for (ua, want) in [
            (CHROME, ("Chrome", Some(156), "Linux", "Desktop")),
            ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0", ("Microsoft Edge", Some(131), "Windows", "Desktop")),
            ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15", ("Safari", Some(18), "Mac OS X", "Desktop")),
            ("Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1", ("Mobile Safari", Some(18), "iOS", "Mobile")),
            ("Mozilla/5.0 (iPad; CPU OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/131.0.6778.73 Mobile/15E148 Safari/604.1", ("Chrome iOS", Some(131), "iOS", "Tablet")),
            ("Mozilla/5.0 (Android 15; Mobile; rv:133.0) Gecko/133.0 Firefox/133.0", ("Firefox", Some(133), "Android", "Mobile")),
            ("Mozilla/5.0 (Linux; Android 14; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/26.0 Chrome/122.0.0.0 Safari/537.36", ("Samsung Internet", Some(26), "Android", "Tablet")),
            ("Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 OPR/115.0.0.0", ("Opera", Some(115), "Chrome OS", "Desktop")),
            ("curl/8.5.0", ("", None, "", "Desktop")),
        ] {
            assert_eq!(device(ua), want, "{ua}");
        }
    }

    #[test]
    fn every_name_the_tracker_sets_is_reserved_so_a_caller_cannot_repeat_it() {
        let mut c = cfg(10, 100);
        c.raw_user_agent = true;
        let mut t = Tracker::new(&c, None, None, &Now::at(T0), [1; 32]);
        t.capture("a", Props::default(), &page, "subj", &m(Now::at(T0), 2)).unwrap();
        let v = json(&t.next(Now::at(T0 + 5000)).unwrap());
        let p = v["batch"][0]["properties"].as_object().unwrap();
        assert!(p.len() >= 21, "every property is there: {p:?}");
        for k in p.keys() {
            assert!(RESERVED_PROPS.contains(&k.as_str()), "{k} is set by the tracker but not reserved");
        }
    }

    #[test]
    fn the_session_is_stored_again_only_when_new_or_its_last_event_is_5_s_behind() {
        let mut t = Tracker::new(&cfg(10, 100), None, None, &Now::at(T0), [1; 32]);
        assert_eq!(t.session_to_store(None), None, "no session before an event");
        t.capture("a", Props::default(), &page, "", &m(Now::at(T0), 1)).unwrap();
        let first = t.session_to_store(None).expect("a new session is stored");
        assert_eq!(t.session_to_store(Some(&first)), None, "stored already");
        let later = Moment { now: Now::at(T0 + SESSION_WRITE_MS - 1), random: [2; 32], session: Some(&first) };
        t.capture("b", Props::default(), &page, "", &later).unwrap();
        assert_eq!(t.session_to_store(Some(&first)), None, "less than 5 s behind: no write");
        let late = Moment { now: Now::at(T0 + SESSION_WRITE_MS), random: [3; 32], session: Some(&first) };
        t.capture("c", Props::default(), &page, "", &late).unwrap();
        let again = t.session_to_store(Some(&first)).expect("5 s behind: written");
        assert_eq!(Session::parse(&again).unwrap().last, T0 + SESSION_WRITE_MS);
        let other = Session { id: String::from("01a24d09-fed2-7400-b1ba-610df8c42515"), begin: T0, last: T0 + SESSION_WRITE_MS }.text();
        assert!(t.session_to_store(Some(&other)).is_some(), "another session stored: ours replaces it");
        assert!(t.session_to_store(Some("junk")).is_some());
    }

    #[test]
    fn events_say_their_session_window_device_and_no_geoip_unless_allowed() {
        let mut t = Tracker::new(&cfg(10, 100), None, None, &Now::at(T0), [1; 32]);
        let window = String::from(t.window());
        assert!(crate::core::ids::is_uuid(&window) && window.as_bytes()[14] == b'7');
        t.capture("a", Props::default(), &page, "", &m(Now::at(T0), 2)).unwrap();
        let first = t.session().unwrap().clone();
        assert_eq!((first.begin, first.last), (T0, T0));
        // Another tab stored the same session a minute later: this one follows it.
        let stored = Session { last: T0 + 60_000, ..first.clone() }.text();
        let later = Moment { now: Now::at(T0 + 120_000), random: [3; 32], session: Some(&stored) };
        t.capture("b", Props::default(), &page, "", &later).unwrap();
        assert_eq!(t.session().unwrap().id, first.id);
        assert_eq!(t.session().unwrap().last, T0 + 120_000);
        // 30 minutes idle: a new session; 24 hours after its start: a new one too.
        let idle = Moment { now: Now::at(T0 + 120_000 + SESSION_IDLE_MS + 1), random: [4; 32], session: None };
        t.capture("c", Props::default(), &page, "", &idle).unwrap();
        let second = t.session().unwrap().clone();
        assert_ne!(second.id, first.id);
        let mut at = second.begin;
        for _ in 0..49 {
            at += SESSION_IDLE_MS - 1; // never idle, but the day ends
            t.capture("d", Props::default(), &page, "", &m(Now::at(at), 5)).unwrap();
        }
        assert_ne!(t.session().unwrap().id, second.id, "a day-long session ends");
        let v = json(&t.next(Now::at(at + 1)).unwrap());
        let p = &v["batch"][0]["properties"];
        assert_eq!(p["$session_id"], first.id.as_str());
        assert_eq!(p["$window_id"], window.as_str());
        assert_eq!(
            (p["$browser"].as_str(), p["$browser_version"].as_f64(), p["$os"].as_str(), p["$device_type"].as_str()),
            (Some("Chrome"), Some(156.0), Some("Linux"), Some("Desktop"))
        );
        assert_eq!(p["$geoip_disable"], true);
        assert!(p.get("$raw_user_agent").is_none());
        // With geoip allowed and the raw user agent asked for.
        let mut c = cfg(10, 100);
        c.geoip = true;
        c.raw_user_agent = true;
        let mut t = Tracker::new(&c, None, Some(&window), &Now::at(T0), [1; 32]);
        assert_eq!(t.window(), window, "this tab's stored window id is kept");
        t.capture("a", props(serde_json::json!({"$session_id": "x", "$geoip_disable": false})), &page, "", &m(Now::at(T0), 2)).unwrap();
        let v = json(&t.next(Now::at(T0 + 5000)).unwrap());
        let p = &v["batch"][0]["properties"];
        assert!(p.get("$geoip_disable").is_none(), "a caller cannot set it either");
        assert_eq!(p["$raw_user_agent"], CHROME);
        assert_ne!(p["$session_id"], "x");
        assert!(Session::parse("junk").is_none() && Session::parse(&format!("{}.1.x", first.id)).is_none());
    }

    #[test]
    fn person_and_group_events_are_refused() {
        let mut t = Tracker::new(&cfg(10, 100), None, None, &Now::at(T0), [1; 32]);
        for name in ["$identify", "$create_alias", "$merge_dangerously", "$groupidentify", "$set"] {
            assert_eq!(t.capture(name, Props::default(), &page, "", &m(Now::at(T0), 1)), Err(CaptureError::Reserved), "{name}");
        }
        assert!(t.capture("$pageview", Props::default(), &page, "", &m(Now::at(T0), 1)).is_ok());
        assert_eq!(t.queue().len(), 1);
    }

    #[test]
    fn cookie_paths_and_expiry() {
        assert_eq!(cookie_paths("/"), ["/"]);
        assert_eq!(cookie_paths("/shop/cart/item"), ["/", "/shop", "/shop/cart", "/shop/cart/item"]);
        assert_eq!(cookie_paths("/shop/"), ["/", "/shop", "/shop/"]);
        assert_eq!(expire("_ga", "/shop", "example.com", true), "_ga=; Max-Age=0; Path=/shop; Domain=example.com; Secure");
        assert_eq!(expire("_ga", "/", "", false), "_ga=; Max-Age=0; Path=/");
    }

    #[test]
    fn caller_values_of_every_kind() {
        let p = props(serde_json::json!({"s": "t", "n": 1.5, "b": false, "l": [1, "x", null], "o": {"k": []}, "z": null}));
        let v = serde_json::to_value(&p).unwrap();
        assert_eq!(v, serde_json::json!({"s": "t", "n": 1.5, "b": false, "l": [1, "x", null], "o": {"k": []}}));
        assert!(Props::from_doc(&&serde_json::json!("text"), 0).is_empty());
        // Deeper than MAX_DEPTH becomes null, so a cycle in JavaScript cannot loop.
        let mut deep = serde_json::json!(1);
        for _ in 0..20 {
            deep = serde_json::json!({ "d": deep });
        }
        let text = serde_json::to_string(&Props::from_doc(&&deep, 0)).unwrap();
        assert!(text.contains("null") && text.len() < 100, "{text}");
    }
}
