//! The running instance: config, the verified evidence log, the current decision, and the
//! steps every decision goes through (record → store → apply → show → tell → deliver).
//!
//! Owns the one `App` per page. Rules come from `core`; this file only wires them to the page.
//! Must never apply a grant that is not first recorded in the evidence log.
#[allow(unused_imports)]
use crate::prelude::*;
use core::cell::RefCell;

use super::global::Global;

use wasm_bindgen::JsValue;

use super::{banner, dom, gating, storage, transport};
use crate::core::config::Config;
use crate::core::consent::{self, Choices};
use crate::core::evidence::{EvidenceLog, Method, Receipt, ReceiptDraft};
use crate::core::{json, sha256, texts, time};

pub struct App {
    pub config: Config,
    /// The built-in texts shown (English, or the visitor's language file); lives as long as the page.
    pub lang: &'static texts::Lang,
    pub texts_hash: String,
    pub log: EvidenceLog,
    pub effective: Choices,
    pub gpc: bool,
    pub gpc_honoured: bool,
    pub ui: banner::Ui,
    pub listeners: Vec<dom::Func>,
    pub delivery: transport::Delivery,
}

static APP: Global<RefCell<Option<App>>> = Global(RefCell::new(None));

/// Runs `f` on the app if it is initialised and not already borrowed (re-entrant calls from a
/// listener are refused rather than allowed to corrupt state).
pub fn with<R>(f: impl FnOnce(&mut App) -> R) -> Option<R> {
    APP.with(|a| a.try_borrow_mut().ok().and_then(|mut a| a.as_mut().map(f)))
}

pub fn started() -> bool {
    APP.with(|a| a.try_borrow().map(|a| a.is_some()).unwrap_or(true))
}

/// What listeners must hear after a decision, told once the app is no longer borrowed.
pub struct Notice {
    pub consent: JsValue,
    pub method: &'static str,
    pub listeners: Vec<dom::Func>,
}

impl Notice {
    pub fn tell(self) {
        let detail = dom::json("{}");
        dom::set(&detail, "consent", &self.consent);
        dom::set(&detail, "method", &dom::s(self.method));
        for f in &self.listeners {
            let _ = dom::call(f, "call", &JsValue::NULL, &detail);
        }
        let init = dom::json("{}");
        dom::set(&init, "detail", &detail);
        if let Ok(ev) = dom::construct("CustomEvent", &dom::s("consentry:change"), &init) {
            dom::run(&dom::document(), "dispatchEvent", &ev, &dom::U);
        }
    }
}

/// Reads the stored log. A log that does not verify is kept aside and not trusted: the visitor
/// is asked again (fails closed) and the bad text stays in `consentry:quarantine`.
pub fn load_log() -> (EvidenceLog, bool) {
    match storage::read(storage::KEY) {
        None => (EvidenceLog::new(), false),
        Some(text) => match EvidenceLog::from_json(&text) {
            Ok(log) => (log, false),
            Err(why) => {
                let mut msg = String::from("Consentry: the stored consent record failed verification (");
                msg.push_str(why);
                msg.push_str("); it was kept aside in localStorage['consentry:quarantine'] and the visitor is asked again.");
                dom::console_error(&msg);
                storage::write(storage::QUARANTINE, &text);
                storage::remove(storage::KEY);
                (EvidenceLog::new(), true)
            }
        },
    }
}

fn language(config: &Config) -> usize {
    let mut wanted: Vec<String> = Vec::new();
    if let Some(l) = &config.language {
        wanted.push(l.clone());
    }
    if let Some(l) = dom::attr(&dom::get(&dom::document(), "documentElement"), "lang") {
        wanted.push(l);
    }
    let list = dom::get(&dom::get(&dom::window(), "navigator"), "languages");
    for i in 0..dom::len(&list) {
        if let Some(s) = dom::at(&list, i).as_string() {
            wanted.push(s);
        }
    }
    texts::pick_language(wanted.iter().map(|s| s.as_str()))
}

/// The built-in texts for the visitor's language: English, or `table` (the text of the
/// `lang/<code>.json` the loader fetched) when it is the table of the language chosen here. A
/// table that is missing, for another language or invalid gives English and a console warning:
/// the banner is never held back by a language file.
fn texts_for(config: &Config, table: &str) -> texts::Lang {
    let want = language(config);
    if want == 0 {
        return texts::Lang::english();
    }
    let why = match texts::Lang::parse(table) {
        Ok(lang) if lang.index == want => return lang,
        Ok(_) => "for another language",
        Err(_) if table.is_empty() => "not loaded",
        Err(why) => why,
    };
    let mut msg = String::from("Consentry: the texts for \"");
    msg.push_str(texts::LANGS[want]);
    msg.push_str("\" (lang/");
    msg.push_str(texts::LANGS[want]);
    msg.push_str(".json next to consentry_bg.wasm) were ");
    msg.push_str(why);
    msg.push_str("; showing English.");
    dom::console("warn", &msg);
    texts::Lang::english()
}

pub fn gpc_signal() -> bool {
    dom::get(&dom::get(&dom::window(), "navigator"), "globalPrivacyControl") == JsValue::TRUE
}

/// Starts the app once per page without a language file (English unless the visitor's language
/// is English anyway: see `start_with`).
pub fn start(config_text: &str) -> Result<(), JsValue> {
    start_with(config_text, "")
}

/// Starts the app once per page. A second call (a second script tag) does nothing. `table` is
/// the language file the loader fetched for the language it expected (empty if none).
pub fn start_with(config_text: &str, table: &str) -> Result<(), JsValue> {
    if started() {
        return Ok(());
    }
    let config = crate::core::config::parse(config_text).map_err(|e| dom::error("Error", &e.to_message()))?;
    let lang: &'static texts::Lang = alloc::boxed::Box::leak(alloc::boxed::Box::new(texts_for(&config, table)));
    // The hash of exactly what is shown: the table in use plus the site's overrides.
    let texts_hash = sha256::hex(&sha256::sha256(texts::Texts::new(&config, lang).shown().as_bytes()));
    let (log, _tampered) = load_log();
    let app = App {
        effective: consent::all(&config, false),
        ui: banner::Ui::new(),
        lang,
        texts_hash,
        log,
        gpc: gpc_signal(),
        gpc_honoured: false,
        listeners: Vec::new(),
        delivery: transport::Delivery::default(),
        config,
    };
    APP.with(|a| {
        if let Ok(mut slot) = a.try_borrow_mut() {
            *slot = Some(app);
        }
    });
    super::signals::listen();
    let notice = with(|app| app.evaluate(true));
    if let Some(Some(n)) = notice {
        n.tell();
    }
    Ok(())
}

impl App {
    /// Applies the rules to the stored decision: at load, and when another tab changed it.
    pub fn evaluate(&mut self, at_load: bool) -> Option<Notice> {
        let last = self.log.last().map(|r| consent::Last {
            policy: &r.policy,
            at_ms: time::parse_utc_iso(&r.time).unwrap_or(i64::MAX),
            choices: &r.choices,
            gpc: r.gpc,
        });
        let e = consent::evaluate(&self.config, last, dom::now_ms(), self.gpc);
        self.gpc_honoured = e.gpc_honoured;
        let recorded = e.record.is_some();
        let mut notice = None;
        if let Some((method, choices)) = e.record {
            self.record(method, &choices);
            notice = Some(self.notice(method));
        }
        let changed = self.effective != e.effective;
        self.effective = e.effective;
        gating::apply(self);
        let gpc_note = recorded && self.gpc_honoured && at_load;
        self.ui(|ui, app| {
            if e.ask {
                ui.show_banner(app, false);
            } else if gpc_note {
                // GPC decided for the visitor: say so, without asking anything.
                ui.show_banner(app, true);
            } else {
                ui.hide_banner(app);
            }
        });
        self.flush_evidence();
        match notice {
            Some(n) => Some(n),
            None if changed && !at_load => Some(self.notice(Method::Api)),
            None => None,
        }
    }

    /// Lends the UI out so it can read the rest of the app while it changes itself.
    pub fn ui(&mut self, f: impl FnOnce(&mut banner::Ui, &App)) {
        let mut ui = core::mem::take(&mut self.ui);
        f(&mut ui, self);
        self.ui = ui;
    }

    /// Another tab may have recorded a decision whose storage event has not reached this tab
    /// yet: adopt the stored log when it verifies and extends ours (same visitor, later receipt),
    /// so the next receipt is appended after it instead of forking the chain beside it.
    fn catch_up(&mut self) {
        let Some(text) = storage::read(storage::KEY) else { return };
        let Ok(stored) = EvidenceLog::from_json(&text) else { return };
        let newer = match (stored.last(), self.log.last()) {
            (Some(s), Some(m)) => s.subject == m.subject && s.seq > m.seq,
            (Some(_), None) => true,
            _ => false,
        };
        if newer {
            self.log = stored;
        }
    }

    /// Appends a receipt and stores the log. The receipt exists before anything is applied.
    pub fn record(&mut self, method: Method, choices: &[(String, bool)]) {
        self.catch_up();
        let loc = dom::get(&dom::window(), "location");
        let draft = ReceiptDraft {
            time_ms: dom::now_ms(),
            origin: dom::text(&loc, "origin").unwrap_or_default(),
            path: dom::text(&loc, "pathname").unwrap_or_default(),
            policy: self.config.policy_version.clone(),
            lang: String::from(self.lang.code()),
            texts: self.texts_hash.clone(),
            choices: choices.to_vec(),
            method,
            gpc: self.gpc,
        };
        self.log.append(draft, dom::random::<16>(), dom::random::<16>());
        if self.config.evidence_endpoint.is_none() {
            // Nothing to deliver to: the log is only bounded, never waits for a collector.
            self.log.mark_all_delivered();
        }
        self.save();
    }

    pub fn save(&self) {
        if !storage::write(storage::KEY, &self.log.to_json()) {
            dom::console_error("Consentry: storage is blocked or full; this choice holds for this page only.");
        }
    }

    pub fn notice(&self, method: Method) -> Notice {
        Notice { consent: self.consent_object(), method: method.as_str(), listeners: self.listeners.clone() }
    }

    pub fn consent_object(&self) -> JsValue {
        let o = dom::json("{}");
        for (k, v) in &self.effective {
            dom::set(&o, k, &JsValue::from_bool(*v));
        }
        o
    }

    /// A decision by the visitor or the API: recorded, stored, applied, shown, then delivered.
    pub fn decide(&mut self, requested: &[(String, bool)], asked: Method) -> Notice {
        let choices = consent::complete(&self.config, requested);
        let method = consent::method_for(&self.effective, &choices, asked);
        self.record(method, &choices);
        self.effective = choices;
        gating::apply(self);
        self.ui(|ui, app| ui.decided(app));
        self.flush_evidence();
        self.notice(method)
    }

    pub fn flush_evidence(&mut self) {
        if let Some(url) = self.config.evidence_endpoint.clone() {
            transport::flush_evidence(self, &url);
        }
    }
}

/// Runs a decision and tells listeners after the app is released.
pub fn decide(requested: Choices, asked: Method) {
    if let Some(n) = with(|app| app.decide(&requested, asked)) {
        n.tell();
    }
}

pub fn decide_all(granted: bool) {
    let choices = with(|app| {
        if granted {
            consent::accept_all(&app.config, app.gpc_honoured)
        } else {
            consent::all(&app.config, false)
        }
    });
    if let Some(choices) = choices {
        decide(choices, if granted { Method::AcceptAll } else { Method::RejectAll });
    }
}

/// Receipts as a JSON array, oldest first.
pub fn receipts_json_of(receipts: &[Receipt]) -> String {
    let mut s = String::from("[");
    for (i, r) in receipts.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        s.push_str(&r.to_json());
    }
    s.push(']');
    s
}

pub fn receipts_json(log: &EvidenceLog) -> String {
    receipts_json_of(&log.receipts)
}

/// Verifies the log as it is in storage now: `Ok(count)` or `Err((index, reason))`. A log that
/// fails is put aside and the visitor is asked again at once (fails closed).
pub fn verify_stored() -> Result<usize, (usize, &'static str)> {
    let Some(text) = storage::read(storage::KEY) else {
        return Ok(with(|app| app.log.receipts.len()).unwrap_or(0));
    };
    let result = check(&text);
    if result.is_err() {
        let (log, _) = load_log();
        if let Some(Some(n)) = with(|app| {
            app.log = log;
            app.evaluate(false)
        }) {
            n.tell();
        }
    }
    result
}

/// Which receipt of a stored log is the first bad one, and why.
fn check(text: &str) -> Result<usize, (usize, &'static str)> {
    let doc = json::parse(text).map_err(|_| (0, "the stored record is not valid JSON"))?;
    let list = doc.get("receipts").and_then(|r| r.as_array()).ok_or((0, "the stored record has no receipts"))?;
    let mut receipts = Vec::with_capacity(list.len());
    for (i, v) in list.iter().enumerate() {
        receipts.push(Receipt::from_value(v).map_err(|why| (i, why))?);
    }
    crate::core::evidence::verify_chain(&receipts, false).map_err(|b| (b.index, b.reason))?;
    EvidenceLog::from_json(text).map(|l| l.receipts.len()).map_err(|why| (receipts.len(), why))
}
