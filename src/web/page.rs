//! The page controller: one `Engine` per page, and what its answers mean for the browser.
//!
//! Owns the order of effects after every load or decision: a record that failed verification is
//! put aside; the log is stored; the tracker cookie is set or deleted on every variant (as the
//! engine words it); the banner is shown, hidden or updated; then, outside the controller's own
//! state (page code may call back into the API), the gates are applied and listeners told. It
//! sends what the engine says to send and wakes when it says (`poll_timeout`, one gloo timer).
//! Must never: apply a grant the engine has not first recorded, write the tracker cookie while the
//! engine has no tracker, or keep state the engine already holds.
use crate::core::consent::choice_map;
use crate::core::engine::{Beacon, Delivered, Engine, Facts, Present, Step};
use crate::core::evidence::Method;
use crate::core::tracker::{self, text, Batch, Moment, Now, Outcome, PageFacts, Prop, Props};
use crate::web::banner::{self, Banner};
use crate::web::global::Global;
use crate::web::{gating, net, store};
use gloo_events::EventListener;
use gloo_timers::callback::Timeout;
use js_sys::Function;
use serde::Serialize;
use wasm_bindgen::JsValue;

pub struct App {
    engine: Engine,
    banner: Banner,
    /// `on('change', f)` listeners with their ids (for unsubscribing).
    listeners: Vec<(u32, Function)>,
    next_listener: u32,
    /// Counts the tracker's starts and stops: an answer for an earlier run is ignored.
    run: u32,
    /// A batch being compressed (its run and text): the page-hide beacon takes it if the page
    /// goes first.
    zipping: Option<(u32, String)>,
    /// The one timer, set to the engine's `poll_timeout`.
    wake: Option<Timeout>,
    /// The page's event listeners (history is wrapped once, when the tracker first starts).
    signals: Vec<EventListener>,
    history_hooked: bool,
    /// A refused receipt was reported on this page.
    refusal_said: bool,
}

static APP: Global<Option<App>> = Global::new(None);

/// Runs `f` on the page's controller once started, never re-entrantly (a call that arrives
/// while another is under way, from page code it ran, gets None).
pub fn with<R>(f: impl FnOnce(&mut App) -> R) -> Option<R> {
    APP.0.try_borrow_mut().ok().and_then(|mut a| a.as_mut().map(f))
}

pub fn started() -> bool {
    APP.0.try_borrow().map(|a| a.is_some()).unwrap_or(true)
}

/// Why a step is being settled.
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    /// The page's first load.
    First,
    /// The stored record read again (another tab changed it, a failed verification, a return
    /// from the back/forward cache).
    Reread,
    /// A decision by the visitor or the API.
    Decision,
}

/// What must happen after the controller's state is released.
#[derive(Default)]
pub struct After {
    gate: bool,
    tell: Option<&'static str>,
}

/// Now, as the browser's clock says it (its own `toISOString` writes the text, so the `.wasm`
/// needs no calendar writer).
/// A burst of events in one millisecond asks `Date` for its text once.
pub fn now() -> Now {
    Now::from_clock(js_sys::Date::now(), |ms| {
        let Ok(mut last) = CLOCK.0.try_borrow_mut() else { return iso(ms) };
        if last.0 != ms {
            *last = (ms, iso(ms));
        }
        last.1.clone()
    })
}

fn iso(ms: f64) -> String {
    String::from(js_sys::Date::new(&ms.into()).to_iso_string())
}

/// The last millisecond `now` wrote, and its text.
static CLOCK: Global<(f64, String)> = Global::new((-1.0, String::new()));

/// Random bytes from the browser's `crypto`, fetched `POOL_BYTES` at a time (one call costs
/// about the same for 32 bytes as for a kilobyte); each byte is handed out once.
static POOL: Global<(Vec<u8>, usize)> = Global::new((Vec::new(), 0));
const POOL_BYTES: usize = 1024;

pub fn random<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    fill_random(&mut b);
    b
}

/// One copy of the code for every size `random` is used with.
#[inline(never)]
fn fill_random(b: &mut [u8]) {
    let Ok(mut pool) = POOL.0.try_borrow_mut() else { return browser_random(b) };
    let (bytes, used) = &mut *pool;
    if bytes.len() < *used + b.len() {
        bytes.resize(POOL_BYTES.max(b.len()), 0);
        browser_random(bytes);
        *used = 0;
    }
    for (i, out) in b.iter_mut().enumerate() {
        *out = bytes.get(*used + i).copied().unwrap_or(0);
    }
    *used += b.len();
}

fn browser_random(b: &mut [u8]) {
    if let Some(c) = crate::web::dom::window().and_then(|w| crate::web::dom::obj::<web_sys::Crypto>(&w, "crypto")) {
        let _ = c.get_random_values_with_u8_array(b);
    }
}

fn facts<'a>(origin: &'a str, path: &'a str, window: Option<&'a str>) -> Facts<'a> {
    Facts { now: now(), origin, path, random: random(), window }
}

/// Runs `f` with the moment of an event: now, random bytes, and the visit's session as any of
/// the site's tabs last stored it; then stores the session as it stands (only while the tracker
/// runs: the engine has a session only then).
fn at_moment(app: &mut App, f: impl FnOnce(&mut Engine, &Moment)) {
    let stored = store::read(tracker::SESSION_KEY);
    let m = Moment { now: now(), random: random(), session: stored.as_deref() };
    f(&mut app.engine, &m);
    if let Some(text) = app.engine.tracker().and_then(|t| t.session_to_store(stored.as_deref())) {
        store::write(tracker::SESSION_KEY, &text);
    }
}

/// What the page looks like now, for the tracker.
pub fn page_facts() -> PageFacts {
    use crate::web::dom::{prop, prop_text};
    let Some(w) = crate::web::dom::window() else { return PageFacts::default() };
    let loc = prop(&w, "location");
    let screen = prop(&w, "screen");
    let num = |o: &JsValue, k: &str| prop(o, k).as_f64().unwrap_or(0.0) as u32;
    PageFacts {
        href: prop_text(&loc, "href"),
        host: prop_text(&loc, "host"),
        pathname: prop_text(&loc, "pathname"),
        referrer: prop_text(&crate::web::dom::document(), "referrer"),
        screen: (num(&screen, "width"), num(&screen, "height")),
        viewport: (num(&w, "innerWidth"), num(&w, "innerHeight")),
        user_agent: prop_text(&prop(&w, "navigator"), "userAgent"),
    }
}

/// The page's origin, path, hostname, and whether it is https.
fn location() -> (String, String, String, bool) {
    use crate::web::dom::{prop, prop_text};
    let loc = crate::web::dom::window().map_or(JsValue::UNDEFINED, |w| prop(&w, "location"));
    (prop_text(&loc, "origin"), prop_text(&loc, "pathname"), prop_text(&loc, "hostname"), prop_text(&loc, "protocol") == "https:")
}

/// The stored record as a document (None: nothing stored). A text that is not JSON becomes a
/// document that fails to read, so the engine treats it as a broken record.
fn stored() -> (Option<String>, Option<JsValue>) {
    let text = store::read(store::KEY);
    let doc = text.as_ref().map(|t| js_sys::JSON::parse(t).unwrap_or(JsValue::UNDEFINED));
    (text, doc)
}

fn tracker_cookie() -> Option<String> {
    tracker::cookie_value(&store::cookies(), tracker::COOKIE).map(String::from)
}

pub fn error(msg: &str) {
    web_sys::console::error_1(&msg.into());
}

/// Starts the controller with a new engine and applies the stored record.
pub fn start(engine: Engine) {
    let app = App {
        engine,
        banner: Banner::default(),
        listeners: Vec::new(),
        next_listener: 0,
        run: 0,
        zipping: None,
        wake: None,
        signals: crate::web::signals::listen(),
        history_hooked: false,
        refusal_said: false,
    };
    if let Ok(mut a) = APP.0.try_borrow_mut() {
        *a = Some(app);
    }
    let after = with(|app| app.load(Kind::First));
    finish(after);
}

impl App {
    /// Reads the stored record and applies the rules to it.
    fn load(&mut self, kind: Kind) -> After {
        let (text, doc) = stored();
        let (origin, path, _, _) = location();
        let cookie = tracker_cookie();
        let gpc = crate::web::dom::window()
            .is_some_and(|w| crate::web::dom::is_true(&crate::web::dom::prop(&w, "navigator"), "globalPrivacyControl"));
        let was = self.engine.tracker().is_some();
        let window = store::tab_read(tracker::WINDOW_KEY);
        let step = self.engine.load(doc, gpc, &facts(&origin, &path, window.as_deref()), cookie.as_deref());
        self.settle(step, kind, text, was)
    }

    fn decide(&mut self, requested: &[(String, bool)], method: Method) -> After {
        let (_, doc) = stored();
        let (origin, path, _, _) = location();
        let cookie = tracker_cookie();
        let was = self.engine.tracker().is_some();
        let window = store::tab_read(tracker::WINDOW_KEY);
        let step = self.engine.decide(requested, method, doc, &facts(&origin, &path, window.as_deref()), cookie.as_deref());
        self.settle(step, Kind::Decision, None, was)
    }

    fn settle(&mut self, step: Step, kind: Kind, stored_text: Option<String>, was_tracking: bool) -> After {
        if let Some(bad) = step.bad {
            let mut msg = String::from("Consentry: the stored consent record failed verification (");
            msg.push_str(bad.reason.as_str());
            msg.push_str("); it was kept aside in localStorage['consentry:quarantine'] and the visitor is asked again.");
            error(&msg);
            if let Some(t) = &stored_text {
                store::write(store::QUARANTINE, t);
            }
            store::remove(store::KEY);
        }
        if step.method.is_some() && !store::write(store::KEY, &self.engine.log_json()) {
            error("Consentry: storage is blocked or full; this choice holds for this page only.");
        }
        let tracking = self.engine.tracker().is_some();
        if step.tracker_started || (was_tracking && !tracking) {
            self.run += 1;
            self.zipping = None;
        }
        if step.tracker_started {
            if let Some(c) = self.engine.cookie_write(location().3) {
                store::set_cookie(&c); // refreshed once per page
            }
            if !self.history_hooked {
                self.history_hooked = true;
                self.signals.extend(crate::web::signals::hook_history());
            }
            if let Some(w) = self.engine.tracker().map(|t| String::from(t.window())) {
                store::tab_write(tracker::WINDOW_KEY, &w);
            }
            at_moment(self, |e, m| e.pageview(&page_facts, m));
        }
        self.clear_leftovers();
        if step.withdrawn && self.engine.config().reload_on_withdraw {
            // A script that already ran cannot be unrun: the page starts again without it.
            if let (Some(w), Some(f)) = (
                crate::web::dom::window(),
                crate::web::dom::window().and_then(|w| crate::web::dom::method(&crate::web::dom::prop(&w, "location"), "reload")),
            ) {
                let _ = f.call0(&crate::web::dom::prop(&w, "location"));
            }
        }
        match kind {
            Kind::Decision => self.banner.decided(&self.engine),
            _ if step.ask => self.banner.show(&self.engine, false),
            Kind::First if step.note => self.banner.show(&self.engine, true), // GPC decided: say so
            _ => self.banner.hide(&self.engine),
        }
        if kind == Kind::First {
            // A receipt left from an earlier page can wait until the page is idle.
            idle(|| {
                with(App::pump);
            });
        } else {
            self.pump();
        }
        let tell = match step.method {
            Some(m) => Some(m.as_str()),
            None if step.changed && kind == Kind::Reread => Some("api"),
            None => None,
        };
        After { gate: true, tell }
    }

    /// Sends what the engine says is due, then sets the timer for the next time it will be.
    fn pump(&mut self) {
        let now = now();
        let evidence_url = self.engine.config().evidence_endpoint.clone().unwrap_or_default();
        loop {
            match self.engine.poll_transmit(&now) {
                None => break,
                Some(crate::core::engine::Transmit::Receipts { body, upto }) => {
                    net::post(&evidence_url, &body.into(), move |status, response| {
                        if status == 409 {
                            // Another tab's receipts hold this place in the chain: the answer has them.
                            net::json(&response, |answer| {
                                with(|app| app.receipts_forked(&answer));
                            });
                        } else {
                            with(|app| app.receipts_answered(upto, status));
                        }
                    });
                }
                Some(crate::core::engine::Transmit::Events(batch)) => {
                    let text = batch_text(&batch);
                    let run = self.run;
                    if net::can_gzip() {
                        self.zipping = Some((run, text.clone()));
                        net::gzip(&text, move |bytes| zipped(run, bytes));
                    } else {
                        self.send_events(run, text.into(), false);
                    }
                }
            }
        }
        self.wake = self.engine.poll_timeout().map(|at| {
            let delay = (at.max(now.ms) - now.ms).min(i32::MAX as i64) as u32;
            Timeout::new(delay, || {
                with(App::pump);
            })
        });
    }

    fn receipts_answered(&mut self, upto: u64, status: u16) {
        let delivered = self.engine.receipts_sent(upto, status, js_sys::Date::now() as i64, u32::from_le_bytes(random()));
        self.receipts_delivered(delivered);
    }

    fn receipts_forked(&mut self, answer: &JsValue) {
        let delivered = self.engine.receipts_forked(answer);
        self.receipts_delivered(delivered);
    }

    fn receipts_delivered(&mut self, delivered: Delivered) {
        match delivered {
            Delivered::Saved => {
                store::write(store::KEY, &self.engine.log_json());
            }
            Delivered::Refused if !self.refusal_said => {
                self.refusal_said = true;
                error("Consentry: the evidence collector refused a receipt; it is kept in this browser.");
            }
            _ => {}
        }
        self.pump();
    }

    /// Deletes what the services of refused purposes left (cookies on every Domain and path,
    /// localStorage and sessionStorage keys) and the tracker's own keys while it is stopped.
    fn clear_leftovers(&self) {
        let present = Present { cookies: store::cookie_names(), local: store::keys(false), session: store::keys(true) };
        let (_, path, hostname, secure) = location();
        let regex = |pattern: &str, name: &str| js_sys::RegExp::new(pattern, "").test(name);
        let gone = self.engine.clearing(&present, &hostname, &path, secure, &regex);
        for c in &gone.cookies {
            store::set_cookie(c);
        }
        for (tab, keys) in [(false, &gone.local), (true, &gone.session)] {
            for k in keys {
                store::remove_in(tab, k);
            }
        }
    }

    fn tracker_url(&self) -> String {
        self.engine.config().tracker.as_ref().map(|t| t.endpoint.clone()).unwrap_or_default()
    }

    fn send_events(&mut self, run: u32, body: JsValue, zipped: bool) {
        let mut url = self.tracker_url();
        if zipped {
            // As posthog-js has said it; PostHog and the collector also know gzip by its bytes.
            url.push_str(if crate::core::has(&url, b'?') { "&" } else { "?" });
            url.push_str("compression=gzip-js");
        }
        net::post(&url, &body, move |status, _| {
            with(|app| {
                if app.run != run {
                    return; // an answer for a tracker that has stopped since
                }
                let jitter = u32::from_le_bytes(random());
                if app.engine.events_sent(status, js_sys::Date::now() as i64, jitter) == Some(Outcome::Refused) {
                    let mut msg = String::from("Consentry tracker: the collector refused a batch (HTTP ");
                    crate::core::canonical::push_int(&mut msg, status as u64);
                    msg.push_str("); its events were dropped.");
                    error(&msg);
                }
                app.pump();
            });
        });
    }

    /// The page is being hidden (`leaving`: for good): a batch still being compressed goes now,
    /// uncompressed; then `$pageleave` and every beacon the engine gives.
    fn hide(&mut self, leaving: bool) {
        let tracker_url = self.tracker_url();
        if let Some((run, body)) = self.zipping.take() {
            if run == self.run && net::beacon(&tracker_url, &body) {
                // Counts as sent, as beacons do.
                self.engine.events_sent(200, js_sys::Date::now() as i64, 0);
            }
        }
        let evidence_url = self.engine.config().evidence_endpoint.clone().unwrap_or_default();
        let page: &dyn Fn() -> PageFacts = &page_facts;
        at_moment(self, |e, m| {
            e.hide(leaving.then_some(page), m, &mut |b| match b {
                Beacon::Receipts(body) => net::beacon(&evidence_url, &body),
                Beacon::Events(batch) => net::beacon(&tracker_url, &batch_text(batch)),
            })
        });
    }
}

/// A batch as JSON text: serde-wasm-bindgen makes the JavaScript value, the browser writes it.
fn batch_text(b: &Batch) -> String {
    js_sys::JSON::stringify(&out(&b.to_prop())).ok().and_then(|s| s.as_string()).unwrap_or_default()
}

/// A batch finished compressing (None: the browser could not; it goes as text).
fn zipped(run: u32, bytes: Option<js_sys::Uint8Array>) {
    with(|app| {
        let Some((r, text)) = app.zipping.take() else { return }; // gone by beacon meanwhile
        if r != run || app.run != run {
            return;
        }
        match bytes {
            Some(b) => app.send_events(run, b.into(), true),
            None => app.send_events(run, text.into(), false),
        }
    });
}

/// Calls `f` when the page is idle (or soon, where `requestIdleCallback` is missing).
fn idle(f: impl FnOnce() + 'static) {
    let f = wasm_bindgen::closure::Closure::<dyn FnMut()>::once_into_js(f);
    let Some(w) = crate::web::dom::window() else { return };
    let ric = crate::web::dom::method(&w, "requestIdleCallback");
    match ric {
        Some(r) => drop(r.call1(&w, &f)),
        None => {
            gloo_timers::callback::Timeout::new(0, move || drop(f.unchecked_ref::<Function>().call0(&JsValue::NULL))).forget();
        }
    }
}

use wasm_bindgen::JsCast;

/// Runs what a step asks of the page once the controller is released: the gates, then the
/// listeners and the `consentry:change` event.
pub fn finish(after: Option<After>) {
    let Some(after) = after else { return };
    let snapshot = with(|app| {
        let c = app.engine.config();
        let purpose = c.tracker.as_ref().map_or_else(|| String::from("analytics"), |t| t.purpose.clone());
        (app.engine.consent().clone(), c.consent_mode, purpose, app.listeners.iter().map(|(_, f)| f.clone()).collect::<Vec<_>>())
    });
    let Some((consent, consent_mode, purpose, listeners)) = snapshot else { return };
    if after.gate {
        gating::apply(&consent, consent_mode, &purpose);
    }
    if let Some(method) = after.tell {
        // `{ consent, method }`.
        let mut detail = Props::default();
        detail.push("consent", choice_map(&consent));
        detail.push("method", text(method));
        let detail = out(&Prop::Map(detail));
        for f in listeners {
            let _ = f.call1(&JsValue::NULL, &detail);
        }
        let init = web_sys::CustomEventInit::new();
        crate::web::dom::set_prop(&init, "detail", &detail);
        if let Ok(ev) = web_sys::CustomEvent::new_with_event_init_dict("consentry:change", &init) {
            let _ = crate::web::dom::document().dispatch_event(&ev);
        }
    }
}

// ---- what the API, the banner and the page's signals ask ----

pub fn decide(requested: &[(String, bool)], method: Method) {
    finish(with(|app| app.decide(requested, method)));
}

pub fn reread() {
    finish(with(|app| app.load(Kind::Reread)));
}

pub fn show_banner() {
    with(|app| app.banner.show(&app.engine, false));
}

pub fn show_preferences() {
    with(|app| app.banner.show_preferences(&app.engine));
}

/// What is granted now.
pub fn consent_now() -> gating::Consent {
    with(|app| app.engine.consent().clone()).unwrap_or_default()
}

/// A control in the banner was used.
pub fn action(name: &str, e: &web_sys::Event) {
    match name {
        "accept" => decide(&[], Method::AcceptAll),
        "reject" => decide(&[], Method::RejectAll),
        "save" => {
            let choices = with(|app| app.banner.switches()).unwrap_or_default();
            decide(&choices, Method::Custom);
        }
        "prefs" => show_preferences(),
        "close" => {
            with(|app| app.banner.close_dialog());
        }
        "x" => {
            with(|app| app.banner.dismiss(&app.engine));
        }
        "dl" => {
            e.prevent_default();
            if let Some(text) = with(|app| app.engine.export_json()) {
                download(&text);
            }
        }
        _ => {}
    }
}

pub fn dialog_closed() {
    with(|app| banner::on_closed(&mut app.banner));
}

/// Offers the visitor's own consent record as a JSON file (a `data:` link: no Blob, no object URL).
fn download(text: &str) {
    let mut url = String::from("data:application/json;charset=utf-8,");
    url.push_str(&String::from(js_sys::encode_uri_component(text)));
    if let Ok(a) = crate::web::dom::document().create_element("a") {
        let _ = a.set_attribute("href", &url);
        let _ = a.set_attribute("download", "consent-record.json");
        a.unchecked_ref::<web_sys::HtmlElement>().click();
    }
}

pub fn capture(name: &str, custom: Props) {
    with(|app| {
        let mut result = Ok(());
        at_moment(app, |e, m| result = e.capture(name, custom, &page_facts, m));
        match result {
            Ok(()) => app.pump(),
            Err(tracker::CaptureError::NotConsented) => {} // dropped, never kept for later
            Err(e) => {
                let mut msg = String::from("Consentry.capture: ");
                if e == tracker::CaptureError::Reserved {
                    msg.push('"');
                    msg.push_str(name);
                    msg.push_str("\": ");
                }
                msg.push_str(e.as_str());
                if e == tracker::CaptureError::Reserved {
                    web_sys::console::warn_1(&msg.into());
                } else {
                    error(&msg);
                }
            }
        }
    });
}

pub fn add_listener(f: Function) -> u32 {
    with(|app| {
        app.next_listener += 1;
        app.listeners.push((app.next_listener, f));
        app.next_listener
    })
    .unwrap_or(0)
}

pub fn remove_listener(id: u32) {
    with(|app| app.listeners.retain(|(i, _)| *i != id));
}

/// `getConsent()`: `{ necessary: true, analytics: false, … }`.
pub fn consent_value() -> JsValue {
    with(|app| out(&choice_map(app.engine.consent()))).unwrap_or(JsValue::NULL)
}

/// Whether `id` is a configured purpose.
pub fn is_purpose(id: &str) -> bool {
    with(|app| app.engine.config().purpose(id).is_some()).unwrap_or(false)
}

pub fn evidence() -> JsValue {
    with(|app| {
        let mut list = Vec::new();
        for r in app.engine.receipts() {
            list.push(r.to_prop());
        }
        out(&Prop::List(list))
    })
    .unwrap_or(JsValue::NULL)
}

pub fn export() -> String {
    with(|app| app.engine.export_json()).unwrap_or_default()
}

/// `verifyEvidence()`: the log as stored now (an edit since the page loaded is caught); a bad
/// one is put aside and the visitor asked again at once.
pub fn verify() -> JsValue {
    let mut m = Props::default();
    match with(|app| app.engine.verify(stored().1)).unwrap_or(Ok(0)) {
        Ok(n) => {
            m.push("ok", Prop::Bool(true));
            m.push("count", Prop::Num(n as f64));
        }
        Err(b) => {
            reread();
            let at = Prop::Num(b.index as f64);
            m.push("ok", Prop::Bool(false));
            m.push("count", at.clone());
            m.push("brokenAt", at);
            m.push("reason", text(b.reason.as_str()));
        }
    }
    out(&Prop::Map(m))
}

/// What the module gives JavaScript, through serde-wasm-bindgen (`json_compatible`: maps become
/// objects). Everything crosses as a `Prop` (one copy of the serialiser in the `.wasm`).
fn out(p: &Prop) -> JsValue {
    p.serialize(&serde_wasm_bindgen::Serializer::json_compatible()).unwrap_or(JsValue::NULL)
}

/// The page is being hidden (`leaving`: unloaded or frozen, not just a background tab).
pub fn hidden(leaving: bool) {
    with(|app| app.hide(leaving));
}

/// Back from the back/forward cache: another tab may have decided meanwhile (a frozen page
/// hears no storage event), and for the tracker it is a new page view.
pub fn restored() {
    let run = with(|app| app.run);
    reread();
    with(|app| {
        if Some(app.run) == run && app.engine.tracker().is_some() {
            app.engine.restored();
            at_moment(app, |e, m| e.pageview(&page_facts, m));
            app.pump();
        }
    });
}

/// A navigation inside the page (history API): read again; a new path is a new `$pageview`.
pub fn navigated() {
    with(|app| {
        app.engine.page_changed();
        at_moment(app, |e, m| e.pageview(&page_facts, m));
        app.pump();
    });
}

pub fn resized() {
    with(|app| app.engine.page_changed());
}
