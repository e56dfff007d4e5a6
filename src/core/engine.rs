//! One page's consent state behind plain values: the only thing the browser shell talks to.
//!
//! Owns: the order of every decision (the receipt is appended to the evidence log, and the log
//! is handed back to store, before anything is granted, so nothing is ever applied that was not
//! first recorded), the tracker's life (it exists only while its purpose is granted: `capture`
//! refuses otherwise, and a refusal drops its queue at once), the evidence outbox's delivery and
//! retry state, and when the shell next needs waking (`poll_timeout`, as quinn-proto's
//! connection says it). Sans-I/O: the shell passes in what it read (the stored log, the clock, the
//! GPC signal, the location, random bytes) and stores, sends and renders what comes back.
use crate::core::config::{self, Config, ConfigError};
use crate::core::consent::{self, Choices};
use crate::core::doc::Doc;
use crate::core::evidence::{receipts_json, Broken, EvidenceLog, Method, Receipt, ReceiptDraft};
use crate::core::ids::sha256_hex;
use crate::core::texts::{self, Lang, TableError, Texts};
use crate::core::tracker::{self, Batch, CaptureError, Moment, Now, Outcome, PageFacts, Props, Tracker};
use crate::core::{backoff, time};

/// The most bytes of receipts one body to the collector holds (it refuses bodies over 64 KiB;
/// the wording document and the envelope stay well under the rest).
pub const MAX_RECEIPTS_BODY: usize = 48_000;

/// What the page tells the engine with a decision or a load.
pub struct Facts<'a> {
    pub now: Now,
    pub origin: &'a str,
    pub path: &'a str,
    /// From the browser's CSPRNG: a receipt id, for a new visitor the subject and the secret,
    /// and for a starting tracker a distinct id and a window id (each its own bytes).
    pub random: [u8; 96],
    /// This tab's stored window id (`tracker::WINDOW_KEY`), if any.
    pub window: Option<&'a str>,
}

/// What one load or decision asks the shell to do.
#[derive(Default)]
#[cfg_attr(not(target_arch = "wasm32"), derive(Debug))]
pub struct Step {
    /// Show the first layer.
    pub ask: bool,
    /// GPC decided for the visitor at load: show the first layer as a notice, without asking.
    pub note: bool,
    /// A receipt was appended (the method, told to listeners): store the log now (`log_json`).
    pub method: Option<Method>,
    /// The stored log did not verify (the shell keeps it aside and the visitor is asked again).
    pub bad: Option<Broken>,
    /// The effective choices changed.
    pub changed: bool,
    /// The tracker started with this step (set its cookie, count the page view).
    pub tracker_started: bool,
    /// A purpose granted before is refused now (a withdrawal here or in another tab).
    pub withdrawn: bool,
}

/// The language table was not used: English is shown, and the shell warns.
pub struct LangWarning {
    /// The language wanted.
    pub code: &'static str,
    pub why: TableError,
}

impl LangWarning {
    pub fn to_message(&self) -> String {
        let mut s = String::from("Consentry: the texts for \"");
        s.push_str(self.code);
        s.push_str("\" (lang/");
        s.push_str(self.code);
        s.push_str(".json next to consentry_bg.wasm) were ");
        s.push_str(self.why.as_str());
        s.push_str("; showing English.");
        s
    }
}

/// What to send now (see `poll_transmit`).
pub enum Transmit<'a> {
    /// Undelivered receipts to the evidence endpoint, `{"receipts":[…],"texts":[…]}` (the
    /// wording document when a receipt in it refers to the wording shown on this page, so the
    /// collector can keep it); `upto` is the last seq in it. At most `MAX_RECEIPTS_BODY` bytes
    /// of receipts go in one body (the collector takes 64 KiB); the rest follow.
    Receipts { body: String, upto: u64 },
    /// A tracker batch to its endpoint.
    Events(Batch<'a>),
}

/// What the evidence collector's reply means for the page.
#[derive(Clone, Copy, PartialEq)]
#[cfg_attr(not(target_arch = "wasm32"), derive(Debug))]
pub enum Delivered {
    /// Stored: the log (with its acknowledgement) is to be saved.
    Saved,
    /// Will be tried again (`poll_timeout` says when).
    Later,
    /// Refused for good (a 4xx): kept in the browser, tried again on the next page; say so once.
    Refused,
}

/// The evidence outbox's delivery state.
#[derive(Default)]
struct Delivery {
    sending: bool,
    attempt: u32,
    retry_at: Option<i64>,
    refused: bool,
    /// The collector said the receipts sent fork the chain: the next body carries the
    /// visitor's secret, which the collector asks before it shows the chain's receipts.
    prove: bool,
}

pub struct Engine {
    config: Config,
    lang: Lang,
    /// The wording document shown and its hash (recorded in every receipt).
    texts_doc: String,
    texts_hash: String,
    log: EvidenceLog,
    /// What the gates obey now.
    effective: Choices,
    gpc: bool,
    gpc_honoured: bool,
    /// Only while the tracker's purpose is granted.
    tracker: Option<Tracker>,
    delivery: Delivery,
}

impl Engine {
    /// Validates the config document and picks the texts: English, or `table` (a language table
    /// document) when it is the table of the first language of `config.language`, then `wanted`
    /// (the page's and the browser's languages) that has one. The warning says why a wanted
    /// table was not used (English is shown).
    pub fn new<D: Doc>(config: D, table: Option<D>, wanted: &[String]) -> Result<(Engine, Option<LangWarning>), ConfigError> {
        let config = config::from_doc(config)?;
        let candidates = config.language.iter().chain(wanted.iter()).map(String::as_str);
        let want = texts::pick_language(candidates);
        let mut warning = None;
        let lang = match table.as_ref().map(Lang::from_doc) {
            _ if want == 0 => Lang::english(),
            Some(Ok(lang)) if lang.index() == want => lang,
            other => {
                let why = match other {
                    Some(Ok(_)) => TableError::OtherLanguage,
                    Some(Err(why)) => why,
                    None => TableError::NotLoaded,
                };
                warning = Some(LangWarning { code: texts::LANGS[want], why });
                Lang::english()
            }
        };
        let texts_doc = Texts::new(&config, &lang).document();
        let texts_hash = sha256_hex(texts_doc.as_bytes());
        let effective = consent::all(&config, false);
        let engine = Engine {
            config,
            lang,
            texts_doc,
            texts_hash,
            log: EvidenceLog::new(),
            effective,
            gpc: false,
            gpc_honoured: false,
            tracker: None,
            delivery: Delivery::default(),
        };
        Ok((engine, warning))
    }

    pub fn config(&self) -> &Config {
        &self.config
    }
    /// The texts this visitor sees.
    pub fn texts(&self) -> Texts<'_> {
        Texts::new(&self.config, &self.lang)
    }
    /// The wording document (see `Texts::document`) and its hash.
    pub fn wording(&self) -> (&str, &str) {
        (&self.texts_doc, &self.texts_hash)
    }
    /// What is granted now, `necessary` first.
    pub fn consent(&self) -> &Choices {
        &self.effective
    }
    pub fn granted(&self, purpose: &str) -> bool {
        consent::granted(&self.effective, purpose)
    }
    /// Whether a Global Privacy Control opt-out is honoured (and the banner says so).
    pub fn gpc_honoured(&self) -> bool {
        self.gpc_honoured
    }
    pub fn receipts(&self) -> &[Receipt] {
        self.log.receipts()
    }
    pub fn subject(&self) -> &str {
        self.log.subject()
    }
    /// The log's storage form (what the shell saves after a step with a `method`).
    pub fn log_json(&self) -> String {
        self.log.to_json()
    }
    /// The visitor's consent record as a document ("Download my consent record").
    pub fn export_json(&self) -> String {
        self.log.export_json()
    }
    /// The tracker, while it runs.
    pub fn tracker(&self) -> Option<&Tracker> {
        self.tracker.as_ref()
    }

    /// Applies the rules to the stored log (None: nothing stored): at load, and when another tab
    /// changed it. A log that does not verify is not trusted (`bad`): the visitor is asked again.
    /// `cookie` is the tracker cookie's value, if any (the tracker keeps its id).
    pub fn load<D: Doc>(&mut self, stored: Option<D>, gpc: bool, f: &Facts, cookie: Option<&str>) -> Step {
        let mut step = Step::default();
        self.gpc = gpc;
        let before = core::mem::take(&mut self.log);
        self.log = match stored.as_ref().map(EvidenceLog::from_doc) {
            None => EvidenceLog::new(),
            Some(Ok(log)) => log,
            Some(Err(why)) => {
                step.bad = Some(why);
                EvidenceLog::new()
            }
        };
        // Another tab's write may have missed a receipt this tab has not delivered yet.
        self.log.keep_unsent(&before);
        if self.config.evidence_endpoint.is_none() {
            self.log.mark_all_delivered();
        }
        let last = self.log.last().map(|r| consent::Last {
            policy: &r.policy,
            at_ms: time::parse_utc_iso(&r.time).unwrap_or(i64::MAX),
            choices: &r.choices,
            gpc: r.gpc,
        });
        let e = consent::evaluate(&self.config, last, f.now.ms, gpc);
        self.gpc_honoured = e.gpc_honoured;
        if let Some((method, choices)) = &e.record {
            self.record(*method, choices, f);
            step.method = Some(*method);
            step.note = e.gpc_honoured;
        }
        step.ask = e.ask;
        self.apply(e.effective, &mut step, f, cookie);
        step
    }

    /// A decision by the visitor or the API: `AcceptAll` / `RejectAll` (all purposes), or the
    /// requested choices (purposes not named keep their state, unknown ones are ignored).
    /// `stored` is the log in storage now: another tab may have appended to it meanwhile.
    pub fn decide<D: Doc>(
        &mut self,
        requested: &[(String, bool)],
        asked: Method,
        stored: Option<D>,
        f: &Facts,
        cookie: Option<&str>,
    ) -> Step {
        self.catch_up(stored);
        let requested = match asked {
            Method::AcceptAll => consent::accept_all(&self.config, self.gpc_honoured),
            Method::RejectAll => consent::all(&self.config, false),
            _ => {
                let mut merged = self.effective.clone();
                for (k, v) in requested {
                    if let Some(slot) = merged.iter_mut().find(|(id, _)| id == k) {
                        slot.1 = *v;
                    }
                }
                merged
            }
        };
        let choices = consent::complete(&self.config, &requested);
        let method = consent::method_for(&self.effective, &choices, asked);
        self.record(method, &choices, f);
        let mut step = Step { method: Some(method), ..Step::default() };
        self.apply(choices, &mut step, f, cookie);
        step
    }

    /// Makes `choices` effective: the tracker starts when its purpose is now granted and stops
    /// (its queue dropped) when not.
    fn apply(&mut self, choices: Choices, step: &mut Step, f: &Facts, cookie: Option<&str>) {
        step.changed = self.effective != choices;
        step.withdrawn = self.effective.iter().any(|(k, v)| *v && !consent::granted(&choices, k));
        self.effective = choices;
        let wanted = self.config.tracker.as_ref().filter(|t| consent::granted(&self.effective, &t.purpose));
        match (wanted, self.tracker.is_some()) {
            (Some(cfg), false) => {
                let mut ids = [0u8; 32];
                ids.copy_from_slice(&f.random[64..]);
                self.tracker = Some(Tracker::new(cfg, cookie, f.window, &f.now, ids));
                step.tracker_started = true;
            }
            (None, true) => self.tracker = None,
            _ => {}
        }
    }

    /// Another tab may have recorded a decision whose storage event has not arrived yet: adopt
    /// the stored log when it verifies and extends ours (same visitor, later receipt), so the
    /// next receipt follows it instead of forking the chain.
    fn catch_up<D: Doc>(&mut self, stored: Option<D>) {
        let Some(Ok(stored)) = stored.as_ref().map(EvidenceLog::from_doc) else { return };
        let newer = match (stored.last(), self.log.last()) {
            (Some(s), Some(m)) => s.subject == m.subject && s.seq > m.seq,
            (Some(_), None) => true,
            _ => false,
        };
        if newer {
            self.log = stored;
            if self.config.evidence_endpoint.is_none() {
                self.log.mark_all_delivered();
            }
        }
    }

    fn record(&mut self, method: Method, choices: &[(String, bool)], f: &Facts) {
        let draft = ReceiptDraft {
            time: f.now.iso.clone(),
            origin: String::from(f.origin),
            path: String::from(f.path),
            policy: self.config.policy_version.clone(),
            lang: String::from(self.lang.code()),
            texts: self.texts_hash.clone(),
            choices: choices.to_vec(),
            method,
            gpc: self.gpc,
        };
        let mut random = [0u8; 64];
        random.copy_from_slice(&f.random[..64]);
        self.log.append(draft, &random);
        if self.config.evidence_endpoint.is_none() {
            // Nothing to deliver to: the log is only bounded, never waits for a collector.
            self.log.mark_all_delivered();
        }
    }

    /// Verifies the log as stored now (None: nothing stored; the log in memory is checked).
    pub fn verify<D: Doc>(&self, stored: Option<D>) -> Result<usize, Broken> {
        match stored {
            None => self.log.verify(),
            Some(doc) => EvidenceLog::from_doc(&doc).map(|l| l.receipts().len()),
        }
    }

    /// A custom event (or one of the tracker's own). Refused unless the tracker's purpose is
    /// granted: nothing is kept for later.
    pub fn capture(&mut self, name: &str, custom: Props, page: &dyn Fn() -> PageFacts, m: &Moment) -> Result<(), CaptureError> {
        let subject = String::from(self.log.subject());
        let t = self.tracker.as_mut().ok_or(CaptureError::NotConsented)?;
        t.capture(name, custom, page, &subject, m)
    }

    /// A page view (at the tracker's start, a new path, back from the cache), when page views
    /// are on; nothing without consent.
    pub fn pageview(&mut self, page: &dyn Fn() -> PageFacts, m: &Moment) {
        let subject = String::from(self.log.subject());
        if let Some(t) = self.tracker.as_mut() {
            t.pageview(page, &subject, m);
        }
    }

    /// The page changed in place (a history navigation, a resize): the tracker reads it again.
    pub fn page_changed(&mut self) {
        if let Some(t) = self.tracker.as_mut() {
            t.page_changed();
        }
    }

    /// Back from the back/forward cache: the next page view counts again.
    pub fn restored(&mut self) {
        if let Some(t) = self.tracker.as_mut() {
            t.restored();
        }
    }

    /// The `document.cookie` text that sets the tracker cookie with its id, when the tracker has
    /// just started (its deletion is part of `clearing`).
    pub fn cookie_write(&self, secure: bool) -> Option<String> {
        let (t, cfg) = (self.tracker.as_ref()?, self.config.tracker.as_ref()?);
        Some(tracker::cookie_text(t.id(), cfg.cookie_days, cfg.cookie_domain.as_deref(), secure))
    }

    /// What refusal and withdrawal delete, given what is there now: the cookies, localStorage
    /// and sessionStorage keys the services of every purpose not granted said they write (a
    /// cookie by name or `/regex/`, tested by `matches(pattern, name)`; a key by name or
    /// `prefix*`), and, while the tracker is not running, its own cookie and keys. A cookie goes
    /// from every Domain (host-only first) and every path from `/` to the page's.
    pub fn clearing(
        &self,
        present: &Present,
        hostname: &str,
        pathname: &str,
        secure: bool,
        matches: &dyn Fn(&str, &str) -> bool,
    ) -> Present {
        let mut out = Present::default();
        let paths = tracker::cookie_paths(pathname);
        let domains = tracker::cookie_domains(hostname, self.config.tracker.as_ref().and_then(|t| t.cookie_domain.as_deref()));
        for name in &present.cookies {
            if self.clears(name, true, matches) {
                for path in &paths {
                    out.cookies.push(tracker::expire(name, path, "", secure));
                    for d in &domains {
                        out.cookies.push(tracker::expire(name, path, d, secure));
                    }
                }
            }
        }
        for (from, to) in [(&present.local, &mut out.local), (&present.session, &mut out.session)] {
            for k in from {
                if self.clears(k, false, matches) {
                    to.push(k.clone());
                }
            }
        }
        out
    }

    /// Whether a cookie (`cookie`) or a storage key found on the page is to go (see `clearing`).
    /// Plain loops: this ships in the `.wasm`.
    fn clears(&self, name: &str, cookie: bool, matches: &dyn Fn(&str, &str) -> bool) -> bool {
        if self.tracker.is_none()
            && (if cookie { name == tracker::COOKIE } else { name == tracker::SESSION_KEY || name == tracker::WINDOW_KEY })
        {
            return true;
        }
        for p in &self.config.purposes {
            if self.granted(&p.id) {
                continue;
            }
            for s in &p.services {
                for pattern in if cookie { &s.cookies } else { &s.storage } {
                    let hit = if cookie {
                        match crate::core::unwrap_ends(pattern, b'/', b'/') {
                            Some(re) => matches(re, name),
                            None => pattern == name,
                        }
                    } else {
                        match crate::core::unwrap_ends(pattern, 0, b'*') {
                            Some(prefix) => name.starts_with(prefix),
                            None => pattern == name,
                        }
                    };
                    if hit {
                        return true;
                    }
                }
            }
        }
        false
    }

    /// What to send now, if anything: the evidence outbox first (its own retry timing), then a
    /// due tracker batch. Each is marked under way until its `*_sent` call.
    pub fn poll_transmit(&mut self, now: &Now) -> Option<Transmit<'_>> {
        let d = &mut self.delivery;
        if self.config.evidence_endpoint.is_some() && !d.sending && !d.refused && d.retry_at.is_none_or(|t| t <= now.ms) {
            if let Some((body, upto)) = self.receipts_body() {
                self.delivery.sending = true;
                return Some(Transmit::Receipts { upto, body });
            }
        }
        self.tracker.as_mut()?.next(now.clone()).map(Transmit::Events)
    }

    /// The next body of undelivered receipts (see `Transmit::Receipts`) and its last seq.
    fn receipts_body(&self) -> Option<(String, u64)> {
        let out = self.log.outbox();
        let mut size = 0;
        let n = out.iter().take_while(|r| {
            size += r.to_json().len() + 1;
            size <= MAX_RECEIPTS_BODY
        });
        let n = n.count().max(1).min(out.len());
        let part = out.get(..n)?;
        let upto = part.last()?.seq;
        let mut body = String::from("{\"receipts\":");
        body.push_str(&receipts_json(part));
        body.push_str(",\"texts\":[");
        if part.iter().any(|r| r.texts == self.texts_hash) {
            crate::core::canonical::push_str(&mut body, &self.texts_doc);
        }
        body.push(']');
        if self.delivery.prove {
            body.push_str(",\"secret\":");
            crate::core::canonical::push_str(&mut body, self.log.secret());
        }
        body.push('}');
        Some((body, upto))
    }

    /// The evidence collector answered `status` (0: no answer) for receipts up to `upto`.
    pub fn receipts_sent(&mut self, upto: u64, status: u16, now: i64, jitter: u32) -> Delivered {
        let d = &mut self.delivery;
        d.sending = false;
        match tracker::outcome(status, d.attempt) {
            Outcome::Sent => {
                d.attempt = 0;
                d.retry_at = None;
                d.prove = false;
                self.log.acknowledge(upto);
                Delivered::Saved
            }
            Outcome::Retry(n) => {
                d.attempt = n;
                d.retry_at = Some(now + backoff::delay_ms(n, jitter) as i64);
                Delivered::Later
            }
            Outcome::Refused => {
                d.refused = true;
                Delivered::Refused
            }
        }
    }

    /// The evidence collector answered 409 for the receipts sent: it holds other receipts of this
    /// subject from the refused one's seq on (`answer` is its JSON, with them as `receipts`).
    /// When they check out (`EvidenceLog::rebase`), the log takes them and its own receipts go
    /// again after them at once (`Saved`: store the log); else it is a refusal like any other.
    pub fn receipts_forked<D: Doc>(&mut self, answer: &D) -> Delivered {
        let d = &mut self.delivery;
        d.sending = false;
        d.retry_at = None;
        if answer.get("receipts").is_none() && !d.prove {
            // The collector shows them only to the holder of the secret: send again with it.
            d.prove = true;
            return Delivered::Later;
        }
        d.prove = false;
        if self.log.rebase_on(answer).is_ok() {
            self.delivery.attempt = 0;
            Delivered::Saved
        } else {
            self.delivery.refused = true;
            Delivered::Refused
        }
    }

    /// The tracker's endpoint answered `status` (0: no answer) for the batch it was given. An
    /// answer for a tracker that has stopped since is ignored.
    pub fn events_sent(&mut self, status: u16, now: i64, jitter: u32) -> Option<Outcome> {
        Some(self.tracker.as_mut()?.done(status, now, jitter))
    }

    /// When the shell must next call `poll_transmit` (Unix ms), or None while nothing waits.
    pub fn poll_timeout(&self) -> Option<i64> {
        let d = &self.delivery;
        let receipts = (self.config.evidence_endpoint.is_some() && !d.sending && !d.refused && !self.log.outbox().is_empty())
            .then(|| d.retry_at.unwrap_or(i64::MIN));
        let events = self.tracker.as_ref().and_then(Tracker::due_at);
        match (receipts, events) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// The page is being hidden: a `$pageleave` (once, when hidden for good), then every body
    /// that can go by beacon: the undelivered receipts (unless a request for them is under way;
    /// a beacon cannot tell whether they arrived, so they stay in the outbox and the collector
    /// counts duplicates once) and the tracker's batches.
    pub fn hide(&mut self, leaving: Option<&dyn Fn() -> PageFacts>, m: &Moment, send: &mut dyn FnMut(Beacon) -> bool) {
        let subject = String::from(self.log.subject());
        if !self.delivery.sending && self.config.evidence_endpoint.is_some() {
            if let Some((body, _)) = self.receipts_body() {
                send(Beacon::Receipts(body));
            }
        }
        if let Some(t) = self.tracker.as_mut() {
            if let Some(page) = leaving {
                t.pageleave(page, &subject, m);
            }
            t.beacon(&m.now, &mut |b| send(Beacon::Events(b)));
        }
    }
}

/// Cookie names and storage keys: what is there (for `Engine::clearing`), or what to delete
/// (`cookies` then holds `document.cookie` texts that expire them).
#[derive(Default)]
#[cfg_attr(not(target_arch = "wasm32"), derive(Debug, PartialEq))]
pub struct Present {
    pub cookies: Vec<String>,
    pub local: Vec<String>,
    pub session: Vec<String>,
}

/// A body for `navigator.sendBeacon`.
pub enum Beacon<'a, 'b> {
    Receipts(String),
    Events(&'b Batch<'a>),
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONFIG: &str = r#"{"policyVersion":"1","purposes":[{"id":"necessary"},{"id":"analytics","gpc":true}],
        "evidenceEndpoint":"/consentry/receipts","tracker":{"apiKey":"k","path":"/t","purpose":"analytics","batchSize":2}}"#;

    type V = serde_json::Value;

    fn facts(ms: i64) -> Facts<'static> {
        Facts { now: Now::at(ms), origin: "https://shop.example", path: "/a?q=1", random: [7; 96], window: None }
    }

    fn doc(text: &str) -> V {
        serde_json::from_str(text).expect("JSON")
    }

    fn new(config: &str, wanted: &[&str]) -> Result<(Engine, Option<LangWarning>), ConfigError> {
        let wanted: Vec<String> = wanted.iter().map(|s| s.to_string()).collect();
        Engine::new(&doc(config), None, &wanted)
    }

    fn engine() -> Engine {
        new(CONFIG, &["en-GB"]).expect("valid config").0
    }

    const NONE: Option<&V> = None;

    fn m(now: Now, n: u8) -> Moment<'static> {
        Moment { now, random: [n; 32], session: None }
    }
    const T0: i64 = 1_800_000_000_000;

    fn page() -> PageFacts {
        PageFacts { href: String::from("https://shop.example/a"), pathname: String::from("/a"), ..PageFacts::default() }
    }

    fn granted(e: &Engine) -> bool {
        e.granted("analytics")
    }

    #[test]
    fn a_bad_config_names_the_field_and_makes_no_engine() {
        let err = new(r#"{"policyVersion":1}"#, &[]).err().expect("refused");
        assert_eq!(err.field, "policyVersion");
    }

    #[test]
    fn first_visit_asks_grants_nothing_records_nothing_and_cannot_track() {
        let mut e = engine();
        let step = e.load(NONE, false, &facts(T0), None);
        assert!(step.ask && step.method.is_none() && step.bad.is_none() && !step.tracker_started);
        assert!(!granted(&e) && e.receipts().is_empty());
        // The core itself refuses to track: nothing is queued, nothing is due, no cookie.
        assert_eq!(e.capture("x", Props::default(), &page, &m(Now::at(T0), 1)), Err(CaptureError::NotConsented));
        e.pageview(&page, &m(Now::at(T0), 1));
        assert!(e.tracker().is_none());
        assert!(e.poll_transmit(&Now::at(T0 + 60_000)).is_none());
        assert_eq!(e.poll_timeout(), None);
        assert!(e.cookie_write(true).is_none());
        // A stale cookie found at load is deleted on every variant (host-only and shop.example).
        let stale = Present { cookies: vec![String::from("cs_id")], ..Present::default() };
        assert_eq!(e.clearing(&stale, "shop.example", "/", false, &|_, _| false).cookies.len(), 2);
    }

    #[test]
    fn a_decision_is_recorded_before_anything_is_granted_and_survives_a_reload() {
        let mut e = engine();
        e.load(NONE, false, &facts(T0), None);
        let step = e.decide(&[], Method::AcceptAll, NONE, &facts(T0 + 1000), None);
        assert_eq!(step.method, Some(Method::AcceptAll));
        assert!(step.changed && step.tracker_started && granted(&e));
        let saved = e.log_json();
        let mut again = engine();
        let step = again.load(Some(&doc(&saved)), false, &facts(T0 + 2000), e.tracker().map(Tracker::id));
        assert!(!step.ask && step.method.is_none() && step.tracker_started);
        assert!(granted(&again));
        assert_eq!(again.tracker().unwrap().id(), e.tracker().unwrap().id(), "the cookie's id is kept");
        assert_eq!(again.verify(Some(&doc(&saved))), Ok(1));
        assert_eq!(again.receipts()[0].path, "/a", "the query is not recorded");
        assert_eq!(again.receipts()[0].texts, sha256_hex(again.wording().0.as_bytes()));
    }

    #[test]
    fn a_tampered_log_is_refused_and_the_visitor_asked_again() {
        let mut e = engine();
        e.load(NONE, false, &facts(T0), None);
        e.decide(&[], Method::AcceptAll, NONE, &facts(T0 + 1000), None);
        let forged = e.log_json().replace("\"analytics\":true", "\"analytics\":false");
        let mut again = engine();
        let step = again.load(Some(&doc(&forged)), false, &facts(T0 + 2000), None);
        assert!(step.bad.is_some() && step.ask && !granted(&again));
        assert!(again.verify(Some(&doc(&forged))).is_err());
    }

    #[test]
    fn withdrawal_stops_the_tracker_and_drops_its_queue() {
        let mut e = engine();
        e.load(NONE, false, &facts(T0), None);
        e.decide(&[], Method::AcceptAll, NONE, &facts(T0), None);
        e.capture("a", Props::default(), &page, &m(Now::at(T0), 1)).unwrap();
        assert_eq!(e.tracker().unwrap().queue().len(), 1);
        let step = e.decide(&[(String::from("analytics"), false)], Method::Custom, NONE, &facts(T0 + 10), None);
        assert_eq!(step.method, Some(Method::Withdraw));
        assert!(e.tracker().is_none());
        assert_eq!(e.capture("b", Props::default(), &page, &m(Now::at(T0), 1)), Err(CaptureError::NotConsented));
        // Only receipts are left to send; the cookie goes from every variant.
        while let Some(t) = e.poll_transmit(&Now::at(T0 + 60_000)) {
            assert!(matches!(t, Transmit::Receipts { .. }), "an event after withdrawal");
            e.receipts_sent(2, 200, T0, 0);
        }
        assert!(e.cookie_write(true).is_none());
        let left = Present { cookies: vec![String::from("cs_id")], ..Present::default() };
        let gone = e.clearing(&left, "www.shop.example", "/", true, &|_, _| false).cookies;
        assert_eq!(gone.len(), 3);
        assert!(gone.iter().all(|c| c.starts_with("cs_id=; Max-Age=0; Path=/")));
    }

    #[test]
    fn the_outbox_delivers_retries_with_backoff_and_says_when_to_wake() {
        let mut e = engine();
        e.load(NONE, false, &facts(T0), None);
        e.decide(&[], Method::RejectAll, NONE, &facts(T0), None);
        assert_eq!(e.poll_timeout(), Some(i64::MIN), "a receipt to deliver now");
        let Some(Transmit::Receipts { body, upto }) = e.poll_transmit(&Now::at(T0)) else { panic!("receipts due") };
        assert_eq!(upto, 1);
        let sent = doc(&body);
        assert_eq!(sent["receipts"].as_array().unwrap().len(), 1);
        // The wording shown travels with the first receipt that refers to it, hashing to it.
        let wording = sent["texts"][0].as_str().unwrap();
        assert_eq!(sha256_hex(wording.as_bytes()), sent["receipts"][0]["texts"].as_str().unwrap());
        assert!(e.poll_transmit(&Now::at(T0)).is_none(), "one request at a time");
        assert_eq!(e.poll_timeout(), None);
        assert_eq!(e.receipts_sent(upto, 0, T0, 0), Delivered::Later);
        assert_eq!(e.poll_timeout(), Some(T0 + 1000));
        assert!(e.poll_transmit(&Now::at(T0 + 999)).is_none());
        assert!(e.poll_transmit(&Now::at(T0 + 1000)).is_some());
        assert_eq!(e.receipts_sent(upto, 503, T0 + 1000, 0), Delivered::Later);
        assert_eq!(e.poll_timeout(), Some(T0 + 3000));
        e.poll_transmit(&Now::at(T0 + 3000)).unwrap();
        assert_eq!(e.receipts_sent(upto, 200, T0 + 3000, 0), Delivered::Saved);
        assert_eq!(e.poll_timeout(), None);
        assert!(e.log_json().contains("\"delivered\":1"));
        // A 4xx stops delivery on this page; the receipt stays.
        e.decide(&[], Method::AcceptAll, NONE, &facts(T0 + 4000), None);
        let Some(Transmit::Receipts { upto, .. }) = e.poll_transmit(&Now::at(T0 + 4000)) else { panic!() };
        assert_eq!(e.receipts_sent(upto, 422, T0 + 4000, 0), Delivered::Refused);
        assert!(matches!(e.poll_transmit(&Now::at(T0 + 99_000)), None | Some(Transmit::Events(_))));
        assert_eq!(e.receipts().len(), 2);
    }

    #[test]
    fn refusal_clears_what_the_services_of_refused_purposes_left() {
        let config = r#"{"policyVersion":"1","purposes":[{"id":"analytics","services":[{"name":"Demo","cookies":["_demo_id","/^_demo_s_/"],"storage":["_demo_last","_demo_x_*"]}]},
            {"id":"functional","services":[{"name":"Chat","cookies":["chat"],"storage":["chat"]}]}],"tracker":{"apiKey":"k"}}"#;
        let mut e = Engine::new(&doc(config), None, &[]).ok().unwrap().0;
        e.load(NONE, false, &facts(T0), None);
        e.decide(&[(String::from("functional"), true)], Method::Custom, NONE, &facts(T0), None);
        let names = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let present = Present {
            cookies: names(&["_demo_id", "_demo_s_1", "_demo_sx", "chat", "other"]),
            local: names(&["consentry", "_demo_last", "_demo_x_1", "_demo_y", "chat", "cs_sess"]),
            session: names(&["_demo_x_2", "cs_win", "chat"]),
        };
        // `matches` stands in for the browser's RegExp: this pattern means "starts with".
        let re = |pattern: &str, name: &str| pattern == "^_demo_s_" && name.starts_with("_demo_s_");
        let c = e.clearing(&present, "www.shop.example", "/a/b", true, &re);
        assert_eq!(c.local, names(&["_demo_last", "_demo_x_1", "cs_sess"]), "analytics is refused; functional is not");
        assert_eq!(c.session, names(&["_demo_x_2", "cs_win"]));
        // Each cookie: 3 paths (/, /a, /a/b) x 3 domains (host-only, www.shop.example, shop.example).
        assert_eq!(c.cookies.len(), 2 * 9);
        assert!(c.cookies.contains(&String::from("_demo_s_1=; Max-Age=0; Path=/a; Domain=shop.example; Secure")));
        assert!(c.cookies.iter().all(|t| t.starts_with("_demo_id=") || t.starts_with("_demo_s_1=")));
        // Granted, nothing of it goes (the tracker's keys neither, while it runs).
        e.decide(&[], Method::AcceptAll, NONE, &facts(T0), None);
        assert_eq!(e.clearing(&present, "www.shop.example", "/a/b", true, &re), Present::default());
    }

    #[test]
    fn a_long_outbox_goes_in_bodies_the_collector_takes() {
        let mut e = engine();
        e.load(NONE, false, &facts(T0), None);
        for i in 0..150 {
            let m = if i % 2 == 0 { Method::AcceptAll } else { Method::RejectAll };
            e.decide(&[], m, NONE, &facts(T0 + i), None);
        }
        let mut sent = 0;
        let mut bodies = 0;
        while let Some(Transmit::Receipts { body, upto }) = e.poll_transmit(&Now::at(T0)) {
            assert!(body.len() < 60_000, "{}", body.len());
            let n = doc(&body)["receipts"].as_array().unwrap().len();
            assert_eq!(upto, (sent + n) as u64, "each body continues the last");
            sent += n;
            bodies += 1;
            assert_eq!(e.receipts_sent(upto, 200, T0, 0), Delivered::Saved);
        }
        assert_eq!((sent, bodies > 1), (150, true));
    }

    #[test]
    fn tracker_batches_follow_its_timer() {
        let mut e = engine();
        e.load(NONE, false, &facts(T0), None);
        e.decide(&[], Method::AcceptAll, NONE, &facts(T0), None);
        while let Some(Transmit::Receipts { upto, .. }) = e.poll_transmit(&Now::at(T0)) {
            e.receipts_sent(upto, 200, T0, 0);
        }
        e.pageview(&page, &m(Now::at(T0), 1));
        assert_eq!(e.poll_timeout(), Some(T0 + 5000), "the flush interval");
        assert!(e.poll_transmit(&Now::at(T0 + 4999)).is_none());
        e.capture("x", Props::default(), &page, &m(Now::at(T0 + 10), 2)).unwrap();
        assert_eq!(e.poll_timeout(), Some(i64::MIN), "a full batch (2) is due at once");
        let Some(Transmit::Events(b)) = e.poll_transmit(&Now::at(T0 + 10)) else { panic!("a batch") };
        assert_eq!(b.batch.len(), 2);
        let subject = b.batch[0].properties.get("$consentry_subject").cloned();
        assert_eq!(subject, Some(tracker::Prop::Text(String::from(e.subject()))));
        assert_eq!(e.events_sent(200, T0 + 20, 0), Some(Outcome::Sent));
    }

    #[test]
    fn hiding_the_page_beacons_receipts_and_events_and_leaves_once() {
        let mut e = engine();
        e.load(NONE, false, &facts(T0), None);
        e.decide(&[], Method::AcceptAll, NONE, &facts(T0), None);
        e.pageview(&page, &m(Now::at(T0), 1));
        let mut sent = Vec::new();
        e.hide(Some(&page), &m(Now::at(T0), 2), &mut |b| {
            sent.push(match b {
                Beacon::Receipts(r) => format!("receipts {}", doc(&r)["receipts"].as_array().unwrap().len()),
                Beacon::Events(b) => format!("events {}", b.batch.len()),
            });
            true
        });
        assert_eq!(sent, ["receipts 1", "events 2"]);
    }

    #[test]
    fn a_missing_language_table_warns_and_shows_english() {
        let (e, warning) = new(CONFIG, &["de-DE"]).ok().unwrap();
        assert_eq!(e.texts().code(), "en");
        let w = warning.expect("a warning").to_message();
        assert!(w.contains("\"de\"") && w.contains("not loaded"), "{w}");
        let de = doc(include_str!("lang/de.json"));
        let fr = doc(include_str!("lang/fr.json"));
        let wanted = [String::from("de-DE")];
        let (_, warning) = Engine::new(&doc(CONFIG), Some(&fr), &wanted).ok().unwrap();
        assert!(warning.expect("a warning").to_message().contains("for another language"));
        let (e, warning) = Engine::new(&doc(CONFIG), Some(&de), &wanted).ok().unwrap();
        assert_eq!(e.texts().code(), "de");
        assert!(warning.is_none());
    }

    /// Two tabs of one visitor: a accepts (delivered); b starts from that stored log, then a
    /// withdraws and b, missing it, refuses analytics: both recorded a seq 2 (b's random bytes
    /// differ: another id).
    fn forked_tabs() -> (Engine, Engine) {
        let mut a = engine();
        a.load(NONE, false, &facts(T0), None);
        a.decide(&[], Method::AcceptAll, NONE, &facts(T0), None);
        let Some(Transmit::Receipts { upto, .. }) = a.poll_transmit(&Now::at(T0)) else { panic!("receipts due") };
        a.receipts_sent(upto, 200, T0, 0);
        let mut b = engine();
        b.load(Some(&doc(&a.log_json())), false, &facts(T0 + 1), None);
        a.decide(&[], Method::RejectAll, NONE, &facts(T0 + 2), None);
        let mut other = facts(T0 + 3);
        other.random = [9; 96];
        b.decide(&[("analytics".into(), false)], Method::Custom, NONE, &other, None);
        (a, b)
    }

    #[test]
    fn a_fork_the_collector_refuses_is_rechained_after_its_receipts() {
        let (mut a, mut b) = forked_tabs();
        let at_collector = a.receipts()[1].clone();
        let mut other = facts(T0 + 3);
        other.random = [8; 96];
        assert_eq!(b.receipts()[1].seq, 2, "a fork: both tabs made a seq 2");
        let Some(Transmit::Receipts { .. }) = b.poll_transmit(&Now::at(T0 + 3)) else { panic!("receipts due") };
        // A 409 whose receipts do not check out is a refusal like a 422.
        let mut c = engine();
        c.load(NONE, false, &facts(T0), None);
        c.decide(&[], Method::AcceptAll, NONE, &other, None);
        let stranger = format!("{{\"receipts\":[{}]}}", c.receipts()[0].to_json());
        let before = b.log_json();
        let mut refused = engine();
        refused.load(Some(&doc(&before)), false, &facts(T0 + 3), None);
        refused.poll_transmit(&Now::at(T0 + 3)).unwrap();
        assert_eq!(refused.receipts_forked(&&doc(&stranger)), Delivered::Refused);
        assert_eq!(refused.log_json(), before);
        // The collector shows its receipts only to the holder of the secret: b sends again with it.
        assert_eq!(b.receipts_forked(&&doc("{\"error\":\"fork\"}")), Delivered::Later);
        assert_eq!(b.poll_timeout(), Some(i64::MIN));
        let Some(Transmit::Receipts { body, .. }) = b.poll_transmit(&Now::at(T0 + 3)) else { panic!("receipts due") };
        assert_eq!(doc(&body)["secret"], b.log.secret());
        // The collector's answer: the receipt it holds at seq 2.
        let answer = format!("{{\"error\":\"fork\",\"receipts\":[{}]}}", at_collector.to_json());
        assert_eq!(b.receipts_forked(&&doc(&answer)), Delivered::Saved);
        assert_eq!(b.poll_timeout(), Some(i64::MIN), "its own receipt goes again at once");
        let Some(Transmit::Receipts { body, upto }) = b.poll_transmit(&Now::at(T0 + 4)) else { panic!("receipts due") };
        let sent = doc(&body);
        assert!(sent.get("secret").is_none(), "the secret goes only to see the chain");
        assert_eq!(upto, 3);
        assert_eq!(sent["receipts"][0]["seq"], 3);
        assert_eq!(sent["receipts"][0]["prev"], at_collector.hash.as_str());
        assert_eq!(sent["receipts"][0]["method"], "withdraw", "b's own decision");
        assert_eq!(b.verify(NONE), Ok(3));
        // Tab a reads the stored log and follows it.
        a.decide(&[], Method::AcceptAll, Some(&doc(&b.log_json())), &facts(T0 + 5), None);
        assert_eq!(a.receipts().last().map(|r| r.seq), Some(4));
    }

    #[test]
    fn another_tabs_write_that_missed_an_undelivered_receipt_does_not_lose_it() {
        let (a, mut b) = forked_tabs();
        let mine = b.receipts()[1].clone();
        // b hears of a's write, which never saw b's receipt: b keeps it, after a's.
        b.load(Some(&doc(&a.log_json())), false, &facts(T0 + 4), None);
        assert_eq!(b.verify(NONE), Ok(3));
        assert_eq!(b.receipts()[1], a.receipts()[1]);
        assert_eq!((&b.receipts()[2].id, b.receipts()[2].seq), (&mine.id, 3));
        // A log another tab cleared stays cleared.
        b.load(NONE, false, &facts(T0 + 5), None);
        assert!(b.receipts().is_empty());
    }

    #[test]
    fn a_decision_in_another_tab_is_followed_not_forked() {
        let mut a = engine();
        let mut b = engine();
        a.load(NONE, false, &facts(T0), None);
        b.load(NONE, false, &facts(T0), None);
        a.decide(&[], Method::AcceptAll, NONE, &facts(T0 + 1), None);
        let stored = a.log_json();
        // Tab b decides without having heard of a's decision: it reads storage first.
        b.decide(&[], Method::RejectAll, Some(&doc(&stored)), &facts(T0 + 2), None);
        assert_eq!(b.receipts().len(), 2);
        assert_eq!(b.receipts()[1].prev, a.receipts()[0].hash);
        assert_eq!(b.verify(NONE), Ok(2));
    }
}
