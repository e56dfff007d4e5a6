//! One page's consent state behind plain values: the only thing the browser shell talks to.
//!
//! Owns the order of every decision: the receipt is appended to the evidence log, and the log
//! text to store is handed back, before the shell is told what is now granted, so nothing is
//! ever applied that was not first recorded. Sans-I/O: the shell passes in what it read (the
//! stored log, the clock, the GPC signal, the location, random bytes) and stores, sends and
//! renders what comes back; every answer is one JSON text the shell reads with `JSON.parse`.
#[allow(unused_imports)]
use crate::prelude::*;
use crate::core::config::{self, Config};
use crate::core::consent::{self, Choices};
use crate::core::evidence::{receipts_json, EvidenceLog, Method, ReceiptDraft};
use crate::core::json::{push_int, push_str, Value};
use crate::core::texts::{self, Lang, Texts};
use crate::core::tracker::{Event, Queue};
use crate::core::{sha256, time};

/// The stored log as the shell read it: `None` when nothing is stored, `Some(None)` when the
/// stored text is not JSON, else the parsed document.
pub type Stored<'a> = Option<Option<&'a Value>>;

/// What the page tells the engine with a decision or a load.
pub struct Facts<'a> {
    /// Now, as the receipt records it: UTC text like `2026-11-23T10:00:00.000Z` (the shell's
    /// `Date.prototype.toISOString`, so the `.wasm` carries no calendar code to write it).
    pub now: &'a str,
    /// The same moment in Unix milliseconds, for the consent rules.
    pub now_ms: i64,
    pub origin: &'a str,
    pub path: &'a str,
    /// 32 bytes from the browser's CSPRNG: a receipt id and, for a first receipt, the subject.
    pub random: &'a [u8],
}

pub struct Engine {
    pub config: Config,
    pub lang: Lang,
    /// The hash of exactly the texts shown (recorded in every receipt).
    texts_hash: String,
    pub log: EvidenceLog,
    /// What the gates obey now.
    pub effective: Choices,
    pub gpc: bool,
    pub gpc_honoured: bool,
    /// The tracker's queue, only while its purpose is granted.
    pub queue: Option<Queue>,
}

/// What one load or decision asks the shell to do (see `Step::to_json`).
#[derive(Default)]
#[cfg_attr(test, derive(Debug))]
pub struct Step {
    /// Show the first layer.
    pub ask: bool,
    /// GPC decided for the visitor at load: show the first layer as a notice, without asking.
    pub note: bool,
    /// A receipt was appended: the method, told to listeners.
    pub method: Option<Method>,
    /// The stored log did not verify: why (the shell keeps it aside and asks again).
    pub bad: Option<&'static str>,
    /// The effective choices changed.
    pub changed: bool,
}

impl Engine {
    /// Validates the config document (None: its text was not JSON; the error names the field)
    /// and picks the texts: English, or `table` (a `lang/<code>.json` document; see `Stored`)
    /// when it is the table of the first language of `config.language`, then `wanted` (the
    /// page's and the browser's languages) that has one. The second value is a warning when
    /// that table was missing or wrong (English is shown).
    pub fn new(config: Option<&Value>, table: Stored, wanted: &[&str]) -> Result<(Engine, Option<String>), config::ConfigError> {
        let config = match config {
            Some(doc) => config::from_value(doc),
            None => Err(config::ConfigError { field: String::new(), message: config::Msg::NotJson }),
        }?;
        let mut langs: Vec<&str> = Vec::new();
        if let Some(l) = &config.language {
            langs.push(l);
        }
        langs.extend_from_slice(wanted);
        let want = texts::pick_language(langs.iter().copied());
        let mut warning = None;
        let lang = match table.map(Lang::from_value) {
            _ if want == 0 => Lang::english(),
            Some(Ok(lang)) if lang.index == want => lang,
            other => {
                let why = match other {
                    Some(Ok(_)) => "for another language",
                    Some(Err(why)) => why,
                    None => "not loaded",
                };
                let mut msg = String::from("Consentry: the texts for \"");
                msg.push_str(texts::LANGS[want]);
                msg.push_str("\" (lang/");
                msg.push_str(texts::LANGS[want]);
                msg.push_str(".json next to consentry_bg.wasm) were ");
                msg.push_str(why);
                msg.push_str("; showing English.");
                warning = Some(msg);
                Lang::english()
            }
        };
        let texts_hash = sha256::hex(&sha256::sha256(Texts::new(&config, &lang).shown().as_bytes()));
        let effective = consent::all(&config, false);
        let engine =
            Engine {
            config,
            lang,
            texts_hash,
            log: EvidenceLog::new(),
            effective,
            gpc: false,
            gpc_honoured: false,
            queue: None,
        };
        Ok((engine, warning))
    }

    /// Applies the rules to the stored log: at load, and when another tab changed it. A log that
    /// does not verify is not trusted (`bad`): the visitor is asked again.
    pub fn load(&mut self, stored: Stored, gpc: bool, f: &Facts) -> Step {
        let mut step = Step::default();
        self.gpc = gpc;
        self.log = match stored.map(EvidenceLog::from_value) {
            None => EvidenceLog::new(),
            Some(Ok(log)) => log,
            Some(Err(why)) => {
                step.bad = Some(why);
                EvidenceLog::new()
            }
        };
        let last = self.log.last().map(|r| consent::Last {
            policy: &r.policy,
            at_ms: time::parse_utc_iso(&r.time).unwrap_or(i64::MAX),
            choices: &r.choices,
            gpc: r.gpc,
        });
        let e = consent::evaluate(&self.config, last, f.now_ms, gpc);
        self.gpc_honoured = e.gpc_honoured;
        if let Some((method, choices)) = &e.record {
            self.record(*method, choices, f);
            step.method = Some(*method);
            step.note = e.gpc_honoured;
        }
        step.changed = self.effective != e.effective;
        step.ask = e.ask;
        self.effective = e.effective;
        step
    }

    /// A decision by the visitor or the API: "accept" / "reject" (all purposes), or the
    /// requested choices (purposes not named keep their state, unknown ones are ignored).
    /// `stored` is the log in storage now: another tab may have appended to it meanwhile.
    pub fn decide(&mut self, requested: &Choices, asked: Method, stored: Stored, f: &Facts) -> Step {
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
        let changed = self.effective != choices;
        self.effective = choices;
        Step { method: Some(method), changed, ..Step::default() }
    }

    /// Another tab may have recorded a decision whose storage event has not arrived yet: adopt
    /// the stored log when it verifies and extends ours (same visitor, later receipt), so the
    /// next receipt follows it instead of forking the chain.
    fn catch_up(&mut self, stored: Stored) {
        let Some(Ok(stored)) = stored.map(EvidenceLog::from_value) else { return };
        let newer = match (stored.last(), self.log.last()) {
            (Some(s), Some(m)) => s.subject == m.subject && s.seq > m.seq,
            (Some(_), None) => true,
            _ => false,
        };
        if newer {
            self.log = stored;
        }
    }

    fn record(&mut self, method: Method, choices: &[(String, bool)], f: &Facts) {
        let draft = ReceiptDraft {
            time: String::from(f.now),
            origin: String::from(f.origin),
            path: String::from(f.path),
            policy: self.config.policy_version.clone(),
            lang: String::from(self.lang.code()),
            texts: self.texts_hash.clone(),
            choices: choices.to_vec(),
            method,
            gpc: self.gpc,
        };
        let mut id = [0u8; 16];
        let mut subject = [0u8; 16];
        for i in 0..16 {
            id[i] = f.random.get(i).copied().unwrap_or(0);
            subject[i] = f.random.get(16 + i).copied().unwrap_or(0);
        }
        self.log.append(draft, id, subject);
        if self.config.evidence_endpoint.is_none() {
            // Nothing to deliver to: the log is only bounded, never waits for a collector.
            self.log.mark_all_delivered();
        }
    }

    /// `{"necessary":true,"analytics":false,…}`.
    pub fn consent_json(&self) -> String {
        let mut s = String::from("{");
        for (k, v) in &self.effective {
            if s.len() > 1 {
                s.push(',');
            }
            push_str(&mut s, k);
            s.push_str(if *v { ":true" } else { ":false" });
        }
        s.push('}');
        s
    }

    /// What the shell does after a load or a decision, with the log text to store when a
    /// receipt was appended: `{"ask","note","bad","method","changed","consent","gpc","subject","save"}`.
    pub fn step_json(&self, step: &Step) -> String {
        let mut s = String::from("{\"ask\":");
        s.push_str(bool_text(step.ask));
        s.push_str(",\"note\":");
        s.push_str(bool_text(step.note));
        s.push_str(",\"changed\":");
        s.push_str(bool_text(step.changed));
        s.push_str(",\"gpc\":");
        s.push_str(bool_text(self.gpc_honoured));
        s.push_str(",\"subject\":");
        push_str(&mut s, &self.log.subject);
        if let Some(why) = step.bad {
            s.push_str(",\"bad\":");
            push_str(&mut s, why);
        }
        if let Some(m) = step.method {
            s.push_str(",\"method\":");
            push_str(&mut s, m.as_str());
            s.push_str(",\"save\":");
            push_str(&mut s, &self.log.to_json());
        }
        s.push_str(",\"consent\":");
        s.push_str(&self.consent_json());
        s.push('}');
        s
    }

    /// Everything the shell renders and obeys, resolved once: the texts in the visitor's
    /// language with the site's overrides, the purposes with their services, and the settings.
    pub fn view_json(&self) -> String {
        let c = &self.config;
        let t = Texts::new(c, &self.lang);
        let mut s = String::from("{\"lang\":");
        push_str(&mut s, t.code());
        s.push_str(",\"t\":{");
        for i in 0..texts::UI_TEXTS {
            if i > 0 {
                s.push(',');
            }
            let k = texts::ALL[i];
            push_str(&mut s, k.name());
            s.push(':');
            push_str(&mut s, t.get(k));
        }
        s.push_str("},\"purposes\":[");
        for (i, p) in c.purposes.iter().enumerate() {
            if i > 0 {
                s.push(',');
            }
            s.push_str("{\"id\":");
            push_str(&mut s, &p.id);
            s.push_str(",\"title\":");
            push_str(&mut s, t.purpose(&p.id, false));
            s.push_str(",\"desc\":");
            push_str(&mut s, t.purpose(&p.id, true));
            s.push_str(",\"services\":[");
            for (j, svc) in p.services.iter().enumerate() {
                if j > 0 {
                    s.push(',');
                }
                s.push('[');
                for (n, v) in [&svc.name, &svc.provider, &svc.purpose, &svc.lifetime].iter().enumerate() {
                    if n > 0 {
                        s.push(',');
                    }
                    push_str(&mut s, v);
                }
                s.push(']');
            }
            s.push_str("]}");
        }
        s.push_str("],\"layout\":");
        push_str(&mut s, &c.layout);
        s.push_str(",\"reopen\":");
        push_str(&mut s, &c.reopen_button);
        s.push_str(",\"ccpa\":");
        s.push_str(bool_text(c.ccpa));
        s.push_str(",\"consentMode\":");
        s.push_str(bool_text(c.consent_mode));
        push_opt(&mut s, "policy", c.privacy_policy_url.as_deref());
        push_opt(&mut s, "evidence", c.evidence_endpoint.as_deref());
        if let Some(tr) = &c.tracker {
            s.push_str(",\"tracker\":{\"endpoint\":");
            push_str(&mut s, &tr.endpoint);
            s.push_str(",\"purpose\":");
            push_str(&mut s, &tr.purpose);
            s.push_str(",\"pageviews\":");
            s.push_str(bool_text(tr.pageviews));
            s.push_str(",\"pageleave\":");
            s.push_str(bool_text(tr.pageleave));
            s.push_str(",\"flushMs\":");
            push_int(&mut s, tr.flush_ms as i64);
            s.push_str(",\"cookieDays\":");
            push_int(&mut s, tr.cookie_days);
            push_opt(&mut s, "cookieDomain", tr.cookie_domain.as_deref());
            s.push_str(",\"allow\":[");
            for (i, a) in tr.allow_params.iter().enumerate() {
                if i > 0 {
                    s.push(',');
                }
                push_str(&mut s, a);
            }
            s.push_str("]}");
        }
        s.push('}');
        s
    }

    /// `(count)` when the log text (as stored now) verifies, else the first bad receipt's index
    /// and why. `None` (nothing stored) checks the log in memory.
    pub fn verify(&self, stored: Stored) -> Result<usize, (usize, &'static str)> {
        match stored {
            None => Ok(self.log.receipts.len()),
            Some(doc) => EvidenceLog::read(doc).map(|l| l.receipts.len()),
        }
    }

    /// The undelivered receipts as one body (a JSON array), with the seq that acknowledges them.
    pub fn outbox(&self) -> Option<(String, i64)> {
        let out = self.log.outbox();
        let last = out.last()?.seq;
        Some((receipts_json(out), last))
    }

    /// The tracker's purpose is granted: its queue exists (kept while it runs).
    pub fn track_start(&mut self) {
        if self.queue.is_none() {
            let max = self.config.tracker.as_ref().map_or(1, |t| t.max_queue);
            self.queue = Some(Queue::new(max));
        }
    }

    /// Queues an event the shell composed (see `Event::new`). 0: not running (dropped); 1:
    /// queued; 2: queued and a batch is due now; 3: a name that is not 1 to 200 bytes; 4: too
    /// large (dropped).
    pub fn track(&mut self, name: &str, rest: &str) -> u32 {
        let (Some(q), Some(cfg)) = (self.queue.as_mut(), self.config.tracker.as_ref()) else { return 0 };
        let Some(e) = Event::new(name, rest) else { return 3 };
        if !q.push(e) {
            return 4;
        }
        if q.due(cfg.batch_size) {
            2
        } else {
            1
        }
    }

    /// The next body to send (a retry, or a new batch), marking it under way.
    /// `sent_at` is now as UTC text (see `Facts::now`).
    pub fn track_next(&mut self, sent_at: &str) -> Option<String> {
        let (q, cfg) = (self.queue.as_mut()?, self.config.tracker.as_ref()?);
        q.next(cfg.batch_size, &cfg.api_key, sent_at)
    }
}

fn bool_text(b: bool) -> &'static str {
    if b {
        "true"
    } else {
        "false"
    }
}

/// `,"key":"value"` when there is a value.
fn push_opt(s: &mut String, key: &str, v: Option<&str>) {
    if let Some(v) = v {
        s.push(',');
        push_str(s, key);
        s.push(':');
        push_str(s, v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::json;

    const CONFIG: &str = r#"{"policyVersion":"1","purposes":[{"id":"necessary"},{"id":"analytics","gpc":true}],
        "tracker":{"apiKey":"k","path":"/t","purpose":"analytics"}}"#;

    fn facts(now_ms: i64) -> Facts<'static> {
        let now = String::leak(time::format_utc_iso(now_ms));
        Facts { now, now_ms, origin: "https://shop.example", path: "/a?q=1", random: &[7; 32] }
    }

    fn doc(text: &str) -> Value {
        json::parse(text).expect("JSON")
    }

    fn new(config: &str, wanted: &[&str]) -> Result<(Engine, Option<String>), String> {
        Engine::new(Some(&doc(config)), None, wanted).map_err(|e| e.to_message())
    }

    fn engine() -> Engine {
        new(CONFIG, &["en-GB"]).expect("valid config").0
    }

    #[test]
    fn a_bad_config_names_the_field_and_makes_no_engine() {
        let err = new(r#"{"policyVersion":1}"#, &[]).err().expect("refused");
        assert!(err.contains("policyVersion"), "{err}");
    }

    #[test]
    fn first_visit_asks_and_grants_nothing_and_records_nothing() {
        let mut e = engine();
        let step = e.load(None, false, &facts(1_000));
        assert!(step.ask && step.method.is_none() && step.bad.is_none());
        assert_eq!(e.consent_json(), r#"{"necessary":true,"analytics":false}"#);
        assert!(!e.step_json(&step).contains("\"save\""), "nothing to store before a choice");
    }

    #[test]
    fn a_decision_is_recorded_before_it_is_reported_and_survives_a_reload() {
        let mut e = engine();
        e.load(None, false, &facts(1_000));
        let step = e.decide(&Vec::new(), Method::AcceptAll, None, &facts(2_000));
        assert_eq!(step.method, Some(Method::AcceptAll));
        let out = json::parse(&e.step_json(&step)).unwrap();
        let saved = out.get("save").and_then(Value::as_str).map(String::from).expect("the log to store");
        assert_eq!(out.get("consent").unwrap().get("analytics").unwrap().as_bool(), Some(true));
        let mut again = engine();
        let step = again.load(Some(Some(&doc(&saved))), false, &facts(3_000));
        assert!(!step.ask && step.method.is_none());
        assert_eq!(again.consent_json(), r#"{"necessary":true,"analytics":true}"#);
        assert_eq!(again.verify(Some(Some(&doc(&saved)))), Ok(1));
        assert_eq!(again.log.receipts[0].path, "/a", "the query is not recorded");
    }

    #[test]
    fn a_tampered_log_is_refused_and_the_visitor_asked_again() {
        let mut e = engine();
        e.load(None, false, &facts(1_000));
        e.decide(&Vec::new(), Method::AcceptAll, None, &facts(2_000));
        let forged = e.log.to_json().replace("\"analytics\":true", "\"analytics\":false");
        let mut again = engine();
        let step = again.load(Some(Some(&doc(&forged))), false, &facts(3_000));
        assert!(step.ask && step.bad.is_some());
        assert!(again.verify(Some(Some(&doc(&forged)))).is_err());
    }

    #[test]
    fn gpc_refuses_covered_purposes_at_load_and_says_so() {
        let mut e = engine();
        let step = e.load(None, true, &facts(1_000));
        assert_eq!(step.method, Some(Method::Gpc));
        assert!(step.note && !step.ask, "only analytics needs consent and GPC covers it");
        let accept = e.decide(&Vec::new(), Method::AcceptAll, None, &facts(2_000));
        assert_eq!(accept.method, Some(Method::AcceptAll));
        assert_eq!(e.consent_json(), r#"{"necessary":true,"analytics":false}"#, "accept all keeps the GPC opt-out");
    }

    #[test]
    fn a_custom_choice_keeps_unnamed_purposes_and_ignores_unknown_ones() {
        let mut e = engine();
        e.load(None, false, &facts(1_000));
        let req = vec![(String::from("analytics"), true), (String::from("ads"), true)];
        e.decide(&req, Method::Custom, None, &facts(2_000));
        assert_eq!(e.consent_json(), r#"{"necessary":true,"analytics":true}"#);
    }

    #[test]
    fn a_decision_continues_a_newer_chain_from_another_tab() {
        let mut a = engine();
        a.load(None, false, &facts(1_000));
        a.decide(&Vec::new(), Method::AcceptAll, None, &facts(2_000));
        let first = a.log.to_json();
        let mut b = engine();
        b.load(Some(Some(&doc(&first))), false, &facts(2_500));
        b.decide(&Vec::new(), Method::RejectAll, None, &facts(3_000));
        let second = b.log.to_json();
        // Tab a never saw tab b's write: it must append after it, not beside it.
        a.decide(&Vec::new(), Method::AcceptAll, Some(Some(&doc(&second))), &facts(4_000));
        assert_eq!(a.log.receipts.len(), 3);
        assert_eq!(a.verify(Some(Some(&doc(&a.log.to_json())))), Ok(3));
        // An edit to the third receipt is found there; a log that is not JSON at the start.
        let log = a.log.to_json();
        let at = log.rfind("\"accept_all\"").expect("the third receipt's method");
        let edited = format!("{}\"api\"{}", &log[..at], &log[at + 12..]);
        assert_eq!(a.verify(Some(Some(&doc(&edited)))).map_err(|e| e.0), Err(2));
        assert_eq!(a.verify(Some(None)), Err((0, "log: not valid JSON")));
    }

    #[test]
    fn the_view_holds_resolved_texts_and_settings() {
        let e = engine();
        let v = json::parse(&e.view_json()).expect("valid JSON");
        assert_eq!(v.get("lang").and_then(Value::as_str), Some("en"));
        assert!(v.get("t").and_then(|t| t.get("acceptAll")).and_then(Value::as_str).is_some());
        assert_eq!(v.get("purposes").and_then(Value::as_array).map(|p| p.len()), Some(2));
        assert_eq!(v.get("tracker").and_then(|t| t.get("purpose")).and_then(Value::as_str), Some("analytics"));
    }

    #[test]
    fn a_missing_language_table_warns_and_shows_english() {
        let (e, warning) = new(CONFIG, &["de-DE"]).unwrap();
        assert_eq!(e.lang.code(), "en");
        assert!(warning.expect("a warning").contains("\"de\" (lang/de.json next to consentry_bg.wasm) were not loaded"));
        // A table that was not JSON, or is another language's, is named as such.
        let (e, warning) = Engine::new(Some(&doc(CONFIG)), Some(None), &["de-DE"]).unwrap();
        assert_eq!(e.lang.code(), "en");
        assert!(warning.expect("a warning").contains("were not valid JSON"));
        let fr = doc(include_str!("lang/fr.json"));
        let (_, warning) = Engine::new(Some(&doc(CONFIG)), Some(Some(&fr)), &["de-DE"]).unwrap();
        assert!(warning.expect("a warning").contains("for another language"));
        let de = doc(include_str!("lang/de.json"));
        let (e, warning) = Engine::new(Some(&doc(CONFIG)), Some(Some(&de)), &["de-DE"]).unwrap();
        assert_eq!((e.lang.code(), warning), ("de", None));
    }

    #[test]
    fn a_config_that_is_not_json_is_named_so() {
        let err = Engine::new(None, None, &[]).err().expect("refused");
        assert_eq!(err.to_message(), "Consentry config: (document): not valid JSON");
    }

    #[test]
    fn the_tracker_queues_only_while_started() {
        let mut e = engine();
        let rest = r#""distinct_id":"d"},"timestamp":"2026-01-01T00:00:00.000Z","uuid":"u"}"#;
        assert_eq!(e.track("$pageview", rest), 0, "not started: dropped");
        e.track_start();
        assert_eq!(e.track("", rest), 3, "no name");
        assert_eq!(e.track("$pageview", rest), 1);
        assert_eq!(e.track("big", &"x".repeat(crate::core::tracker::MAX_EVENT)), 4, "too large");
        let body = e.track_next("2026-01-01T00:00:00.002Z").expect("a batch");
        assert!(body.contains("\"$pageview\"") && body.contains("\"api_key\":\"k\"") && !body.contains("big"), "{body}");
        assert!(crate::core::json::parse(&body).is_ok(), "{body}");
    }
}
