//! The site owner's configuration: its model and its validation.
//!
//! Owns: turning the config document into a checked `Config`, with an error that names the field
//! (`purposes[1].id`) and says what to put there. Never guesses: an unknown field, a wrong type or
//! an unsafe link is an error, and the shell then fails closed (no banner decisions, no cookie,
//! no request, no tracking). Reads any `Doc`: in the browser the caller's object (or the parsed
//! config file) through `Reflect`, natively a `serde_json::Value`; unknown keys are refused either
//! way (serde's `deny_unknown_fields` would not see them through serde-wasm-bindgen).
use crate::core::doc::Doc;
use serde::Serialize;

/// Longest lifetime of any decision and of the tracker cookie: 13 months (CNIL), in days.
pub const MAX_DAYS: i64 = 395;

/// A processing purpose the visitor decides on. `necessary` is always present and always on.
#[derive(Clone, PartialEq, Serialize)]
#[cfg_attr(not(target_arch = "wasm32"), derive(Debug))]
#[serde(rename_all = "camelCase")]
pub struct Purpose {
    pub id: String,
    /// Overrides the built-in title (built-in titles exist for the well-known ids).
    pub title: Option<String>,
    pub description: Option<String>,
    /// Refused automatically when the browser sends Global Privacy Control.
    pub gpc: bool,
    pub services: Vec<Service>,
}

/// A service or cookie a purpose covers, listed in the preferences layer.
#[derive(Clone, PartialEq, Serialize)]
#[cfg_attr(not(target_arch = "wasm32"), derive(Debug))]
pub struct Service {
    pub name: String,
    pub provider: String,
    pub purpose: String,
    pub lifetime: String,
    /// The cookies it sets, by name or as `/regex/`: deleted on refusal and withdrawal.
    pub cookies: Vec<String>,
    /// The localStorage and sessionStorage keys it writes, by name or as `prefix*`: removed on
    /// refusal and withdrawal.
    pub storage: Vec<String>,
}

/// The module's own first-party tracker.
#[derive(Clone, PartialEq, Serialize)]
#[cfg_attr(not(target_arch = "wasm32"), derive(Debug))]
#[serde(rename_all = "camelCase")]
pub struct TrackerConfig {
    pub api_key: String,
    /// Full URL or path of the batch endpoint.
    pub endpoint: String,
    pub purpose: String,
    pub pageviews: bool,
    pub pageleave: bool,
    pub allow_params: Vec<String>,
    pub batch_size: usize,
    pub flush_ms: u32,
    pub max_queue: usize,
    pub cookie_domain: Option<String>,
    pub cookie_days: i64,
    /// Let PostHog geolocate the request's IP address (off: every event says `$geoip_disable`).
    pub geoip: bool,
    /// Send the whole user agent as `$raw_user_agent` (off: only browser, OS and device type).
    pub raw_user_agent: bool,
}

#[derive(Clone, PartialEq, Serialize)]
#[cfg_attr(not(target_arch = "wasm32"), derive(Debug))]
#[serde(rename_all = "camelCase")]
pub struct Config {
    pub policy_version: String,
    pub privacy_policy_url: Option<String>,
    pub language: Option<String>,
    /// "box" (corner) or "bar" (bottom).
    pub layout: String,
    /// "bottom-left", "bottom-right" or "none".
    pub reopen_button: String,
    /// Purposes in display order, `necessary` first.
    pub purposes: Vec<Purpose>,
    pub ccpa: bool,
    pub honor_gpc: bool,
    pub consent_days: i64,
    pub refusal_days: i64,
    /// Text overrides per language code: (lang, [(key, text)]). Lang "*" applies to all.
    pub texts: Vec<(String, Vec<(String, String)>)>,
    pub evidence_endpoint: Option<String>,
    pub tracker: Option<TrackerConfig>,
    pub consent_mode: bool,
    /// Reload the page after a withdrawal (a gated script that already ran cannot be unrun).
    pub reload_on_withdraw: bool,
}

/// What is wrong with a field. In the browser the `.wasm` reports it by number (the words cost
/// every visitor bytes, and only a site owner with a wrong config needs them).
#[derive(Clone, Copy, PartialEq)]
#[cfg_attr(not(target_arch = "wasm32"), derive(Debug))]
pub enum Problem {
    Days,
    PolicyVersion,
    Layout,
    ReopenButton,
    ServiceName,
    ApiKey,
    BatchSize,
    FlushInterval,
    MaxQueue,
    Object,
    UnknownField,
    IdRequired,
    Bool,
    List,
    ListItem,
    Text,
    TextLength,
    Id,
    Url,
    Path,
    Domain,
    Lang,
    Services,
    Texts,
    TextTable,
    TextKey,
    TextOverride,
    PurposesRequired,
    Purposes,
    NecessaryGpc,
    DuplicateId,
    NoPurpose,
    TrackerPurpose,
    NotJson,
}

/// Every problem, in the order of its number (`Problem as u8`): the build writes their words, in
/// this order, to `errors.json` (the `.wasm` names a problem by its number; the words are
/// fetched only for a wrong config).
pub const ALL_PROBLEMS: [Problem; 34] = [
    Problem::Days,
    Problem::PolicyVersion,
    Problem::Layout,
    Problem::ReopenButton,
    Problem::ServiceName,
    Problem::ApiKey,
    Problem::BatchSize,
    Problem::FlushInterval,
    Problem::MaxQueue,
    Problem::Object,
    Problem::UnknownField,
    Problem::IdRequired,
    Problem::Bool,
    Problem::List,
    Problem::ListItem,
    Problem::Text,
    Problem::TextLength,
    Problem::Id,
    Problem::Url,
    Problem::Path,
    Problem::Domain,
    Problem::Lang,
    Problem::Services,
    Problem::Texts,
    Problem::TextTable,
    Problem::TextKey,
    Problem::TextOverride,
    Problem::PurposesRequired,
    Problem::Purposes,
    Problem::NecessaryGpc,
    Problem::DuplicateId,
    Problem::NoPurpose,
    Problem::TrackerPurpose,
    Problem::NotJson,
];

impl Problem {
    /// What to put there, in words.
    pub fn as_str(self) -> &'static str {
        match self {
            Problem::Days => "expected days from 1 to 395 (13 months at most)",
            Problem::PolicyVersion => "required: the version of your privacy policy, e.g. \"2026-11\"; change it to ask everyone again",
            Problem::Layout => "expected \"box\" or \"bar\"",
            Problem::ReopenButton => "expected \"bottom-left\", \"bottom-right\" or \"none\"",
            Problem::ServiceName => "required: the service or cookie name",
            Problem::ApiKey => "required: the project API key your collector or PostHog expects",
            Problem::BatchSize => "expected a whole number from 1 to 100",
            Problem::FlushInterval => "expected milliseconds from 100 to 600000",
            Problem::MaxQueue => "expected a whole number from 1 to 1000",
            Problem::Object => "expected an object { … }",
            Problem::UnknownField => "unknown field: check its spelling against the README's config reference",
            Problem::IdRequired => "required: a short id such as \"analytics\"",
            Problem::Bool => "expected true or false",
            Problem::List => "expected a list [\"…\", …]",
            Problem::ListItem => "expected a non-empty text in quotes",
            Problem::Text => "expected a text in quotes",
            Problem::TextLength => "expected a non-empty text of at most 2000 characters",
            Problem::Id => "expected lower-case letters, digits, '_' or '-' (at most 32)",
            Problem::Url => "expected an https:, http: or relative URL",
            Problem::Path => "expected a path starting with '/'",
            Problem::Domain => "expected a domain such as \"example.com\"",
            Problem::Lang => "expected a language code such as \"de\" or \"pt-BR\"",
            Problem::Services => "expected a list of services [{ \"name\": … }]",
            Problem::Texts => "expected { \"en\": { \"title\": \"…\" }, \"de\": { … } }",
            Problem::TextTable => "expected an object of texts { \"title\": \"…\" }",
            Problem::TextKey => "unknown text key: see the README's list of text keys",
            Problem::TextOverride => "expected a text in quotes (at most 2000 characters)",
            Problem::PurposesRequired => "required: a list such as [{ \"id\": \"analytics\" }]",
            Problem::Purposes => "expected a list such as [{ \"id\": \"analytics\" }]",
            Problem::NecessaryGpc => "\"necessary\" cannot be covered by GPC",
            Problem::DuplicateId => "duplicate purpose id",
            Problem::NoPurpose => "name at least one purpose that needs consent, such as \"analytics\"",
            Problem::TrackerPurpose => "must name one of your purposes (not \"necessary\"): analytics is never strictly necessary",
            Problem::NotJson => "not valid JSON",
        }
    }
}

/// What is wrong, and where: `field` is a path like `purposes[1].id` ("" for the document).
#[derive(Clone, PartialEq)]
#[cfg_attr(not(target_arch = "wasm32"), derive(Debug))]
pub struct ConfigError {
    pub field: String,
    pub problem: Problem,
}

impl ConfigError {
    /// One line for the console: `Consentry config: purposes[1].id: expected …`.
    pub fn to_message(&self) -> String {
        let mut s = String::from("Consentry config: ");
        s.push_str(if self.field.is_empty() { "(document)" } else { &self.field });
        s.push_str(": ");
        s.push_str(self.problem.as_str());
        s
    }
}

type Check<T> = Result<T, ConfigError>;

fn fail<T>(field: &str, problem: Problem) -> Check<T> {
    Err(ConfigError { field: String::from(field), problem })
}

fn join(base: &str, key: &str) -> String {
    let mut s = String::from(base);
    if !s.is_empty() {
        s.push('.');
    }
    s.push_str(key);
    s
}

fn index(base: &str, i: usize) -> String {
    let mut s = String::from(base);
    s.push('[');
    crate::core::canonical::push_int(&mut s, i as u64);
    s.push(']');
    s
}

/// What a field must be. Every rule and its words live once, in `Fields::check`; a checked field
/// is then read without further tests, so building the `Config` cannot fail half way.
#[derive(Clone, Copy)]
enum Kind {
    /// Checked by the code that reads it (nested objects), or not at all (`$schema`).
    Other,
    /// A non-blank text of at most 2000 bytes.
    Text,
    /// A `Text` that must be present; the problem says what to put there.
    Required(Problem),
    /// A required `Text` that is a purpose id (see `is_id`).
    Id,
    /// A `Text` that is a safe link (see `is_safe_url`).
    Url,
    /// A `Text` starting with '/'.
    Path,
    /// A `Text` of ASCII letters, digits, '.' and '-'.
    Domain,
    /// A `Text` of at most 35 ASCII letters, digits and '-'.
    Lang,
    Bool,
    /// A whole number from the first to the second bound.
    Int(i32, i32, Problem),
    /// One of a few fixed texts.
    Choice(&'static [&'static str], Problem),
    /// A list of non-empty texts.
    List,
}

/// An object's fields in the order they are checked (the order errors are found in).
type Schema = [(&'static str, Kind)];

const TOP: &Schema = &[
    ("policyVersion", Kind::Required(Problem::PolicyVersion)),
    ("purposes", Kind::Other),
    ("language", Kind::Lang),
    ("tracker", Kind::Other),
    ("privacyPolicyUrl", Kind::Url),
    ("layout", Kind::Choice(&["box", "bar"], Problem::Layout)),
    ("reopenButton", Kind::Choice(&["bottom-left", "bottom-right", "none"], Problem::ReopenButton)),
    ("ccpa", Kind::Bool),
    ("honorGpc", Kind::Bool),
    ("consentDays", Kind::Int(1, MAX_DAYS as i32, Problem::Days)),
    ("refusalDays", Kind::Int(1, MAX_DAYS as i32, Problem::Days)),
    ("texts", Kind::Other),
    ("evidenceEndpoint", Kind::Url),
    ("consentMode", Kind::Bool),
    ("reloadOnWithdraw", Kind::Bool),
    ("$schema", Kind::Other),
];

const PURPOSE: &Schema =
    &[("id", Kind::Id), ("services", Kind::Other), ("gpc", Kind::Bool), ("title", Kind::Text), ("description", Kind::Text)];

const SERVICE: &Schema = &[
    ("name", Kind::Required(Problem::ServiceName)),
    ("provider", Kind::Text),
    ("purpose", Kind::Text),
    ("lifetime", Kind::Text),
    ("cookies", Kind::List),
    ("storage", Kind::List),
];

const TRACKER: &Schema = &[
    ("apiKey", Kind::Required(Problem::ApiKey)),
    ("apiHost", Kind::Url),
    ("path", Kind::Path),
    ("cookieDomain", Kind::Domain),
    ("purpose", Kind::Text),
    ("pageviews", Kind::Bool),
    ("pageleave", Kind::Bool),
    ("allowParams", Kind::List),
    ("batchSize", Kind::Int(1, 100, Problem::BatchSize)),
    ("flushInterval", Kind::Int(100, 600_000, Problem::FlushInterval)),
    ("maxQueue", Kind::Int(1, 1000, Problem::MaxQueue)),
    ("cookieDays", Kind::Int(1, MAX_DAYS as i32, Problem::Days)),
    ("geoip", Kind::Bool),
    ("rawUserAgent", Kind::Bool),
];

fn ascii_all(s: &str, extra: u8) -> bool {
    s.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == extra)
}

/// An object's fields, with unknown ones refused. `null` counts as absent.
struct Fields<D> {
    path: String,
    doc: D,
}

impl<D: Doc> Fields<D> {
    fn new(doc: D, path: &str, schema: &Schema) -> Check<Self> {
        let Some(keys) = doc.keys() else {
            return fail(path, Problem::Object);
        };
        for k in keys {
            if !schema.iter().any(|(name, _)| k == *name) {
                return fail(&join(path, &k), Problem::UnknownField);
            }
        }
        Ok(Fields { path: String::from(path), doc })
    }
    fn get(&self, key: &str) -> Option<D> {
        self.doc.get(key)
    }
    fn path(&self, key: &str) -> String {
        join(&self.path, key)
    }
    /// Checks the fields of `schema` in its order; the first problem is the error.
    #[inline(never)]
    fn check(&self, schema: &Schema) -> Check<()> {
        for &(key, kind) in schema {
            let Some(v) = self.get(key) else {
                match kind {
                    Kind::Required(why) => return fail(&self.path(key), why),
                    Kind::Id => return fail(&self.path(key), Problem::IdRequired),
                    _ => continue,
                }
            };
            let text = v.text();
            let why = match kind {
                Kind::Other => continue,
                Kind::Bool if v.flag().is_some() => continue,
                Kind::Bool => Problem::Bool,
                Kind::Int(min, max, why) => match v.int(min as i64, max as i64) {
                    Some(_) => continue,
                    None => why,
                },
                Kind::Choice(allowed, why) => match text {
                    Some(s) if allowed.contains(&s.as_str()) => continue,
                    _ => why,
                },
                Kind::List => match v.items() {
                    None => Problem::List,
                    Some(items) => match items.iter().position(|i| i.text().is_none_or(|t| t.is_empty())) {
                        None => continue,
                        Some(i) => return fail(&index(&self.path(key), i), Problem::ListItem),
                    },
                },
                _ => match text {
                    None => Problem::Text,
                    Some(s) if s.bytes().all(|b| b.is_ascii_whitespace()) || s.len() > 2000 => Problem::TextLength,
                    Some(s) => match kind {
                        Kind::Id if !is_id(&s) => Problem::Id,
                        Kind::Url if !is_safe_url(&s) => Problem::Url,
                        Kind::Path if !s.starts_with('/') => Problem::Path,
                        Kind::Domain if !ascii_all(&s, b'.') => Problem::Domain,
                        Kind::Lang if s.len() > 35 || !ascii_all(&s, b'-') => Problem::Lang,
                        _ => continue,
                    },
                },
            };
            return fail(&self.path(key), why);
        }
        Ok(())
    }
    /// A checked text field.
    fn text(&self, key: &str) -> Option<String> {
        self.get(key).and_then(|v| v.text())
    }
    fn text_or(&self, key: &str, default: &str) -> String {
        self.text(key).unwrap_or_else(|| String::from(default))
    }
    fn flag(&self, key: &str, default: bool) -> bool {
        self.get(key).and_then(|v| v.flag()).unwrap_or(default)
    }
    /// A checked list of texts (empty when absent).
    fn list(&self, key: &str) -> Vec<String> {
        let mut out = Vec::new();
        for item in self.get(key).and_then(|v| v.items()).unwrap_or_default() {
            out.extend(item.text());
        }
        out
    }
    fn num(&self, key: &str, default: i64) -> i64 {
        self.get(key).and_then(|v| v.int(i64::MIN / 2, i64::MAX / 2)).unwrap_or(default)
    }
}

/// Links may only be `https:`, `http:` or relative: never `javascript:`, `data:` and the like.
pub fn is_safe_url(u: &str) -> bool {
    // A scheme is what precedes the first ':' that comes before any '/', '?' or '#', after the
    // leading C0 controls and spaces, which the URL parser drops too.
    let b = u.as_bytes();
    let start = b.iter().position(|&c| c > b' ').unwrap_or(b.len());
    for (i, c) in b.iter().enumerate().skip(start) {
        match c {
            b'/' | b'?' | b'#' => break,
            b':' => {
                let scheme = &b[start..i];
                return scheme.eq_ignore_ascii_case(b"https") || scheme.eq_ignore_ascii_case(b"http");
            }
            _ => {}
        }
    }
    true
}

fn is_id(s: &str) -> bool {
    crate::core::is_id(s, 32)
}

/// Purposes that GPC covers unless the config says otherwise: sale/sharing and measurement.
fn gpc_default(id: &str) -> bool {
    matches!(id, "analytics" | "marketing")
}

fn purpose<D: Doc>(v: D, path: &str) -> Check<Purpose> {
    let f = Fields::new(v, path, PURPOSE)?;
    f.check(&PURPOSE[..1])?;
    let mut services = Vec::new();
    if let Some(list) = f.get("services") {
        let spath = f.path("services");
        let Some(items) = list.items() else {
            return fail(&spath, Problem::Services);
        };
        for (i, s) in items.into_iter().enumerate() {
            let sf = Fields::new(s, &index(&spath, i), SERVICE)?;
            sf.check(SERVICE)?;
            services.push(Service {
                name: sf.text_or("name", ""),
                provider: sf.text_or("provider", ""),
                purpose: sf.text_or("purpose", ""),
                lifetime: sf.text_or("lifetime", ""),
                cookies: sf.list("cookies"),
                storage: sf.list("storage"),
            });
        }
    }
    f.check(&PURPOSE[2..])?;
    let id = f.text_or("id", "");
    Ok(Purpose { gpc: f.flag("gpc", gpc_default(&id)), title: f.text("title"), description: f.text("description"), services, id })
}

fn tracker<D: Doc>(v: D) -> Check<TrackerConfig> {
    let f = Fields::new(v, "tracker", TRACKER)?;
    f.check(TRACKER)?;
    let mut endpoint = f.text_or("apiHost", "");
    while endpoint.ends_with('/') {
        endpoint.pop();
    }
    endpoint.push_str(&f.text_or("path", "/batch/"));
    let allow_params = f.list("allowParams");
    Ok(TrackerConfig {
        api_key: f.text_or("apiKey", ""),
        endpoint,
        purpose: f.text_or("purpose", "analytics"),
        pageviews: f.flag("pageviews", true),
        pageleave: f.flag("pageleave", true),
        allow_params,
        batch_size: f.num("batchSize", 10) as usize,
        flush_ms: f.num("flushInterval", 5000) as u32,
        max_queue: f.num("maxQueue", 100) as usize,
        cookie_domain: f.text("cookieDomain"),
        cookie_days: f.num("cookieDays", MAX_DAYS),
        geoip: f.flag("geoip", false),
        raw_user_agent: f.flag("rawUserAgent", false),
    })
}

type TextTables = Vec<(String, Vec<(String, String)>)>;

fn texts<D: Doc>(v: D, path: &str) -> Check<TextTables> {
    let Some(langs) = v.keys() else {
        return fail(path, Problem::Texts);
    };
    let mut out = Vec::new();
    for lang in langs {
        let lp = join(path, &lang);
        let table = v.get(&lang);
        let Some(keys) = table.as_ref().and_then(|t| t.keys()) else {
            return fail(&lp, Problem::TextTable);
        };
        let mut list = Vec::new();
        for key in keys {
            let kp = join(&lp, &key);
            if crate::core::texts::Key::from_name(&key).is_none() && !key.starts_with("purpose.") {
                return fail(&kp, Problem::TextKey);
            }
            match table.as_ref().and_then(|t| t.get(&key)).and_then(|t| t.text()) {
                Some(t) if t.len() <= 2000 => list.push((key, t)),
                _ => return fail(&kp, Problem::TextOverride),
            }
        }
        out.push((lang, list));
    }
    Ok(out)
}

/// Validates a config document.
pub fn from_doc<D: Doc>(doc: D) -> Result<Config, ConfigError> {
    let f = Fields::new(doc, "", TOP)?;
    f.check(&TOP[..1])?;
    let mut purposes = vec![Purpose { id: String::from("necessary"), title: None, description: None, gpc: false, services: Vec::new() }];
    let Some(list) = f.get("purposes") else {
        return fail("purposes", Problem::PurposesRequired);
    };
    let Some(items) = list.items() else {
        return fail("purposes", Problem::Purposes);
    };
    for (i, item) in items.into_iter().enumerate() {
        let at = index("purposes", i);
        let p = purpose(item, &at)?;
        if p.id == "necessary" {
            if p.gpc {
                return fail(&at, Problem::NecessaryGpc);
            }
            purposes[0] = p;
        } else if purposes.iter().any(|q| q.id == p.id) {
            return fail(&join(&at, "id"), Problem::DuplicateId);
        } else {
            purposes.push(p);
        }
    }
    if purposes.len() < 2 {
        return fail("purposes", Problem::NoPurpose);
    }
    f.check(&TOP[2..3])?;
    let tracker = match f.get("tracker") {
        None => None,
        Some(v) => {
            let t = tracker(v)?;
            if !purposes.iter().any(|p| p.id == t.purpose) || t.purpose == "necessary" {
                return fail("tracker.purpose", Problem::TrackerPurpose);
            }
            Some(t)
        }
    };
    f.check(&TOP[4..11])?;
    let texts = match f.get("texts") {
        Some(v) => texts(v, "texts")?,
        None => Vec::new(),
    };
    f.check(&TOP[12..])?;
    Ok(Config {
        policy_version: f.text_or("policyVersion", ""),
        privacy_policy_url: f.text("privacyPolicyUrl"),
        language: f.text("language"),
        layout: f.text_or("layout", "box"),
        reopen_button: f.text_or("reopenButton", "bottom-left"),
        ccpa: f.flag("ccpa", false),
        honor_gpc: f.flag("honorGpc", true),
        consent_days: f.num("consentDays", 365),
        refusal_days: f.num("refusalDays", 182),
        texts,
        evidence_endpoint: f.text("evidenceEndpoint"),
        consent_mode: f.flag("consentMode", false),
        reload_on_withdraw: f.flag("reloadOnWithdraw", false),
        tracker,
        purposes,
    })
}

/// Parses and validates config text natively (the tools and tests).
#[cfg(not(target_arch = "wasm32"))]
pub fn parse(text: &str) -> Result<Config, ConfigError> {
    match crate::core::doc::parse(text) {
        Ok(v) => from_doc(&v),
        Err(_) => fail("", Problem::NotJson),
    }
}

impl Config {
    pub fn purpose(&self, id: &str) -> Option<&Purpose> {
        self.purposes.iter().find(|p| p.id == id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"{
        "policyVersion": "2026-11",
        "privacyPolicyUrl": "/privacy",
        "purposes": [
            {"id": "analytics", "services": [{"name": "ph_id", "provider": "this site", "lifetime": "13 months"}]},
            {"id": "marketing"},
            {"id": "functional", "title": "Comfort"}
        ],
        "texts": {"de": {"title": "Datenschutz"}},
        "evidenceEndpoint": "/consentry/receipts",
        "tracker": {"apiKey": "phc_demo", "allowParams": ["utm_*"]}
    }"#;

    #[test]
    fn reads_a_full_config_with_defaults() {
        let c = parse(GOOD).unwrap();
        assert_eq!(c.policy_version, "2026-11");
        let ids: Vec<&str> = c.purposes.iter().map(|p| p.id.as_str()).collect();
        assert_eq!(ids, ["necessary", "analytics", "marketing", "functional"]);
        assert!(c.purposes[1].gpc && c.purposes[2].gpc && !c.purposes[3].gpc);
        assert_eq!(c.purposes[1].services[0].lifetime, "13 months");
        assert_eq!(c.layout, "box");
        assert_eq!((c.consent_days, c.refusal_days), (365, 182));
        let t = c.tracker.unwrap();
        assert_eq!(t.endpoint, "/batch/");
        assert_eq!(t.cookie_days, 395);
        assert_eq!(t.allow_params, ["utm_*"]);
        assert_eq!(c.texts[0].1[0], (String::from("title"), String::from("Datenschutz")));
        assert!(!t.geoip && !t.raw_user_agent && !c.reload_on_withdraw);
    }

    #[test]
    fn services_name_what_withdrawal_clears() {
        let c = parse(
            r#"{"policyVersion":"1","reloadOnWithdraw":true,"purposes":[{"id":"analytics","services":[
               {"name":"Demo","cookies":["_demo_id","/^_demo_s_/"],"storage":["_demo_last","_demo_*"]}]}],
               "tracker":{"apiKey":"k","geoip":true,"rawUserAgent":true}}"#,
        )
        .unwrap();
        let s = &c.purposes[1].services[0];
        assert_eq!((s.cookies.join(" "), s.storage.join(" ")), (String::from("_demo_id /^_demo_s_/"), String::from("_demo_last _demo_*")));
        let t = c.tracker.unwrap();
        assert!(t.geoip && t.raw_user_agent && c.reload_on_withdraw);
        assert_eq!(
            error_of(r#"{"policyVersion":"1","purposes":[{"id":"a","services":[{"name":"x","cookies":"x"}]}]}"#).0,
            "purposes[0].services[0].cookies"
        );
        assert_eq!(
            error_of(r#"{"policyVersion":"1","purposes":[{"id":"a","services":[{"name":"x","storage":[""]}]}]}"#).0,
            "purposes[0].services[0].storage[0]"
        );
    }

    fn error_of(text: &str) -> (String, &'static str) {
        let e = parse(text).unwrap_err();
        (e.field, e.problem.as_str())
    }

    #[test]
    fn errors_name_the_field() {
        assert_eq!(error_of("{"), (String::new(), "not valid JSON"));
        assert_eq!(error_of("[]").0, "");
        assert_eq!(error_of(r#"{"purposes":[{"id":"analytics"}]}"#).0, "policyVersion");
        assert_eq!(error_of(r#"{"policyVersion":"1","purposes":[{"id":"analytics"}],"colour":"red"}"#).0, "colour");
        assert_eq!(error_of(r#"{"policyVersion":"1","purposes":[{"id":"analytics"},{"id":7}]}"#).0, "purposes[1].id");
        assert_eq!(error_of(r#"{"policyVersion":"1","purposes":[{"id":"Analytics!"}]}"#).0, "purposes[0].id");
        assert_eq!(error_of(r#"{"policyVersion":"1","purposes":[{"id":"a"},{"id":"a"}]}"#).0, "purposes[1].id");
        assert_eq!(error_of(r#"{"policyVersion":"1","purposes":[]}"#).0, "purposes");
        assert_eq!(error_of(r#"{"policyVersion":"1","purposes":[{"id":"a","services":[{"nam":"x"}]}]}"#).0, "purposes[0].services[0].nam");
        assert_eq!(error_of(r#"{"policyVersion":"1","purposes":[{"id":"a"}],"layout":"modal"}"#).0, "layout");
        assert_eq!(error_of(r#"{"policyVersion":"1","purposes":[{"id":"a"}],"consentDays":500}"#).0, "consentDays");
        assert_eq!(error_of(r#"{"policyVersion":"1","purposes":[{"id":"a"}],"consentDays":1.5}"#).0, "consentDays");
        assert_eq!(error_of(r#"{"policyVersion":"1","purposes":[{"id":"a"}],"ccpa":"yes"}"#).0, "ccpa");
        assert_eq!(error_of(r#"{"policyVersion":"1","purposes":[{"id":"a"}],"texts":{"en":{"titel":"x"}}}"#).0, "texts.en.titel");
        assert_eq!(
            error_of(r#"{"policyVersion":"1","purposes":[{"id":"a"}],"tracker":{"apiKey":"k","cookieDays":400}}"#).0,
            "tracker.cookieDays"
        );
        assert_eq!(error_of(r#"{"policyVersion":"1","purposes":[{"id":"a"}],"tracker":{"apiKey":"k"}}"#).0, "tracker.purpose");
        assert_eq!(error_of(r#"{"policyVersion":"1","purposes":[{"id":"a"}],"tracker":{}}"#).0, "tracker.apiKey");
        assert_eq!(
            error_of(r#"{"policyVersion":"1","purposes":[{"id":"a"}],"tracker":[]}"#),
            (String::from("tracker"), "expected an object { … }")
        );
    }

    #[test]
    fn every_rule_has_its_words_and_the_first_problem_wins() {
        let base = r#"{"policyVersion":"1","purposes":[{"id":"a"}],"#;
        let e = |rest: &str| {
            let e = parse(&(String::from(base) + rest)).unwrap_err();
            (e.field, e.problem.as_str())
        };
        let t = r#""tracker":{"apiKey":"k","purpose":"a","#;
        assert_eq!(e(&(String::from(t) + r#""path":"batch"}}"#)), (String::from("tracker.path"), "expected a path starting with '/'"));
        assert_eq!(e(&(String::from(t) + r#""cookieDomain":"a b"}}"#)).1, "expected a domain such as \"example.com\"");
        assert_eq!(e(&(String::from(t) + r#""allowParams":"x"}}"#)).1, "expected a list [\"…\", …]");
        assert_eq!(e(&(String::from(t) + r#""allowParams":["x",""]}}"#)).0, "tracker.allowParams[1]");
        assert_eq!(e(&(String::from(t) + r#""batchSize":0}}"#)).1, "expected a whole number from 1 to 100");
        assert_eq!(e(r#""language":"de_DE"}"#).1, "expected a language code such as \"de\" or \"pt-BR\"");
        assert_eq!(e(r#""evidenceEndpoint":"  "}"#).1, "expected a non-empty text of at most 2000 characters");
        assert_eq!(e(r#""evidenceEndpoint":1}"#).1, "expected a text in quotes");
        // Several problems: the one met first in the documented order of checks is reported.
        assert_eq!(e(r#""layout":"x","texts":1,"language":"?"}"#).0, "language");
        assert_eq!(e(r#""consentMode":1,"texts":1}"#).0, "texts");
        assert_eq!(e(r#""layout":"x","tracker":{}}"#).0, "tracker.apiKey");
        let p = r#"{"policyVersion":"1","purposes":[{"gpc":1,"services":[{"provider":1}],"id":"a"}]}"#;
        assert_eq!(parse(p).unwrap_err().field, "purposes[0].services[0].name");
        let c = parse(&(String::from(base) + r#""tracker":{"apiKey":"k","purpose":"a","apiHost":"https://x.example//","path":"/e"}}"#))
            .unwrap();
        assert_eq!(c.tracker.unwrap().endpoint, "https://x.example/e");
    }

    #[test]
    fn null_counts_as_absent() {
        let c = parse(r#"{"policyVersion":"1","purposes":[{"id":"a","title":null}],"layout":null}"#).unwrap();
        assert_eq!((c.layout.as_str(), c.purposes[1].title.as_deref()), ("box", None));
    }

    #[test]
    fn links_must_be_http_or_relative() {
        for ok in ["/privacy", "privacy.html", "https://example.com/p", "HTTP://x", "//cdn.example/p", "?a=b:c", "#x"] {
            assert!(is_safe_url(ok), "{ok}");
        }
        for bad in
            ["javascript:alert(1)", " JavaScript:x", "\t\x01javascript:x", "java\nscript:x", "data:text/html,x", "vbscript:x", "mailto:a@b"]
        {
            assert!(!is_safe_url(bad), "{bad}");
        }
        assert_eq!(
            error_of(r#"{"policyVersion":"1","purposes":[{"id":"a"}],"privacyPolicyUrl":"javascript:alert(1)"}"#).0,
            "privacyPolicyUrl"
        );
    }

    #[test]
    fn every_problem_is_listed_in_the_order_of_its_number() {
        for (i, p) in ALL_PROBLEMS.iter().enumerate() {
            assert_eq!(*p as usize, i);
            assert!(!p.as_str().is_empty());
        }
    }

    #[test]
    fn message_is_one_readable_line() {
        let e = parse(r#"{"policyVersion":"1","purposes":[{"id":"a"}],"layout":"modal"}"#).unwrap_err();
        assert_eq!(e.to_message(), "Consentry config: layout: expected \"box\" or \"bar\"");
    }
}
