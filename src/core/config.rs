//! The site owner's configuration: its model and its validation.
//!
//! Owns: turning the config JSON into a checked `Config`, with an error that names the field and
//! the fix. Never guesses: an unknown field, a wrong type or an unsafe link is an error, and the
//! shell then fails closed (no banner decisions, no cookie, no request, no tracking).
#[allow(unused_imports)]
use crate::prelude::*;
use crate::core::json::{self, Value};
use core::cell::Cell;

/// Longest lifetime of any decision and of the tracker cookie: 13 months (CNIL), in days.
pub const MAX_DAYS: i64 = 395;

/// A processing purpose the visitor decides on. `necessary` is always present and always on.
#[derive(Clone, PartialEq)]
#[cfg_attr(test, derive(Debug))]
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
#[derive(Clone, PartialEq)]
#[cfg_attr(test, derive(Debug))]
pub struct Service {
    pub name: String,
    pub provider: String,
    pub purpose: String,
    pub lifetime: String,
}

/// The module's own first-party tracker.
#[derive(Clone, PartialEq)]
#[cfg_attr(test, derive(Debug))]
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
}

#[derive(Clone, PartialEq)]
#[cfg_attr(test, derive(Debug))]
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
}

/// What is wrong with a field. The words are in `MESSAGES`: the `.wasm` reports the number and
/// the shell fetches the words (`errors.json`, written by the build from `MESSAGES`) only when a
/// config is wrong, so no visitor of a well-configured site downloads them.
#[derive(Clone, Copy, PartialEq)]
#[cfg_attr(test, derive(Debug))]
pub enum Msg {
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
    Invalid,
    PurposesRequired,
    Purposes,
    NecessaryGpc,
    DuplicateId,
    NoPurpose,
    TrackerPurpose,
    NotJson,
}

/// The words of each `Msg`, in its order.
pub const MESSAGES: [&str; 35] = [
    "expected days from 1 to 395 (13 months at most)",
    "required: the version of your privacy policy, e.g. \"2026-11\"; change it to ask everyone again",
    "expected \"box\" or \"bar\"",
    "expected \"bottom-left\", \"bottom-right\" or \"none\"",
    "required: the service or cookie name",
    "required: the project API key your collector or PostHog expects",
    "expected a whole number from 1 to 100",
    "expected milliseconds from 100 to 600000",
    "expected a whole number from 1 to 1000",
    "expected an object { … }",
    "unknown field: check its spelling against the README's config reference",
    "required: a short id such as \"analytics\"",
    "expected true or false",
    "expected a list [\"…\", …]",
    "expected a non-empty text in quotes",
    "expected a text in quotes",
    "expected a non-empty text of at most 2000 characters",
    "expected lower-case letters, digits, '_' or '-' (at most 32)",
    "expected an https:, http: or relative URL",
    "expected a path starting with '/'",
    "expected a domain such as \"example.com\"",
    "expected a language code such as \"de\" or \"pt-BR\"",
    "expected a list of services [{ \"name\": … }]",
    "expected { \"en\": { \"title\": \"…\" }, \"de\": { … } }",
    "expected an object of texts { \"title\": \"…\" }",
    "unknown text key: see the README's list of text keys",
    "expected a text in quotes (at most 2000 characters)",
    "invalid",
    "required: a list such as [{ \"id\": \"analytics\" }]",
    "expected a list such as [{ \"id\": \"analytics\" }]",
    "\"necessary\" cannot be covered by GPC",
    "duplicate purpose id",
    "name at least one purpose that needs consent, such as \"analytics\"",
    "must name one of your purposes (not \"necessary\"): analytics is never strictly necessary",
    "not valid JSON",
];

impl Msg {
    pub fn text(self) -> &'static str {
        MESSAGES[self as usize]
    }
}

/// What is wrong, and where: `field` is a path like `purposes[1].id`.
#[derive(Clone, PartialEq)]
#[cfg_attr(test, derive(Debug))]
pub struct ConfigError {
    pub field: String,
    pub message: Msg,
}

impl ConfigError {
    /// One line for the console: `Consentry config: purposes[1].id: expected …`.
    pub fn to_message(&self) -> String {
        let mut s = String::from("Consentry config: ");
        s.push_str(if self.field.is_empty() { "(document)" } else { &self.field });
        s.push_str(": ");
        s.push_str(self.message.text());
        s
    }
}

/// Where the first error is kept. The checking functions return `Option` and leave the error
/// here, so a failure travels up as a plain `None` instead of a copied `Result`.
type Slot = Cell<Option<ConfigError>>;

/// Records the error for `field` (never inlined: one copy for all sites).
#[inline(never)]
fn set(e: &Slot, field: &str, message: Msg) {
    e.set(Some(ConfigError { field: String::from(field), message }));
}

fn fail<T>(e: &Slot, field: &str, message: Msg) -> Option<T> {
    set(e, field, message);
    None
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
    json::push_int(&mut s, i as i64);
    s.push(']');
    s
}


/// What a field must be. Every rule and its message live once, in `Fields::check`; a checked
/// field is then read without further tests, so building the `Config` cannot fail half way.
#[derive(Clone, Copy)]
enum Kind {
    /// Checked by the code that reads it (nested objects), or not at all (`$schema`).
    Other,
    /// A non-blank text of at most 2000 bytes.
    Text,
    /// A `Text` that must be present; the message says what to put there.
    Required(Msg),
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
    Int(i32, i32, Msg),
    /// One of a few fixed texts.
    Choice(&'static [&'static str], Msg),
    /// A list of non-empty texts.
    List,
}

/// An object's fields in the order they are checked (the order errors are found in).
type Schema = [(&'static str, Kind)];

const TOP: &Schema = &[
    ("policyVersion", Kind::Required(Msg::PolicyVersion)),
    ("purposes", Kind::Other),
    ("language", Kind::Lang),
    ("tracker", Kind::Other),
    ("privacyPolicyUrl", Kind::Url),
    ("layout", Kind::Choice(&["box", "bar"], Msg::Layout)),
    ("reopenButton", Kind::Choice(&["bottom-left", "bottom-right", "none"], Msg::ReopenButton)),
    ("ccpa", Kind::Bool),
    ("honorGpc", Kind::Bool),
    ("consentDays", Kind::Int(1, MAX_DAYS as i32, Msg::Days)),
    ("refusalDays", Kind::Int(1, MAX_DAYS as i32, Msg::Days)),
    ("texts", Kind::Other),
    ("evidenceEndpoint", Kind::Url),
    ("consentMode", Kind::Bool),
    ("$schema", Kind::Other),
];

const PURPOSE: &Schema = &[
    ("id", Kind::Id),
    ("services", Kind::Other),
    ("gpc", Kind::Bool),
    ("title", Kind::Text),
    ("description", Kind::Text),
];

const SERVICE: &Schema = &[
    ("name", Kind::Required(Msg::ServiceName)),
    ("provider", Kind::Text),
    ("purpose", Kind::Text),
    ("lifetime", Kind::Text),
];

const TRACKER: &Schema = &[
    ("apiKey", Kind::Required(Msg::ApiKey)),
    ("apiHost", Kind::Url),
    ("path", Kind::Path),
    ("cookieDomain", Kind::Domain),
    ("purpose", Kind::Text),
    ("pageviews", Kind::Bool),
    ("pageleave", Kind::Bool),
    ("allowParams", Kind::List),
    ("batchSize", Kind::Int(1, 100, Msg::BatchSize)),
    ("flushInterval", Kind::Int(100, 600_000, Msg::FlushInterval)),
    ("maxQueue", Kind::Int(1, 1000, Msg::MaxQueue)),
    ("cookieDays", Kind::Int(1, MAX_DAYS as i32, Msg::Days)),
];

fn ascii_all(s: &str, extra: u8) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        if !(c.is_ascii_alphanumeric() || c == b'-' || c == extra) {
            return false;
        }
        i += 1;
    }
    true
}

/// An object's fields, with unknown ones refused. `null` counts as absent.
struct Fields<'a> {
    path: String,
    fields: &'a [(String, Value)],
    e: &'a Slot,
}

impl<'a> Fields<'a> {
    fn new(e: &'a Slot, v: &'a Value, path: &str, schema: &Schema) -> Option<Self> {
        let Some(fields) = v.as_object() else {
            return fail(e, path, Msg::Object);
        };
        for (k, _) in fields {
            if !schema.iter().any(|(name, _)| k == name) {
                return fail(e, &join(path, k), Msg::UnknownField);
            }
        }
        Some(Fields { path: String::from(path), fields, e })
    }
    #[inline(never)]
    fn get(&self, key: &str) -> Option<&'a Value> {
        self.fields.iter().find(|(k, _)| k == key).map(|(_, v)| v).filter(|v| !matches!(v, Value::Null))
    }
    fn path(&self, key: &str) -> String {
        join(&self.path, key)
    }
    /// Checks the fields of `schema` in its order; the first problem is the error.
    #[inline(never)]
    fn check(&self, schema: &Schema) -> Option<()> {
        for &(key, kind) in schema {
            let Some(v) = self.get(key) else {
                match kind {
                    Kind::Required(why) => return fail(self.e, &self.path(key), why),
                    Kind::Id => return fail(self.e, &self.path(key), Msg::IdRequired),
                    _ => continue,
                }
            };
            let text = v.as_str();
            let why = match kind {
                Kind::Other => continue,
                Kind::Bool if v.as_bool().is_some() => continue,
                Kind::Bool => Msg::Bool,
                Kind::Int(min, max, why) => match v.as_i64() {
                    Some(n) if n >= min as i64 && n <= max as i64 => continue,
                    _ => why,
                },
                Kind::Choice(allowed, why) => match text {
                    Some(s) if allowed.contains(&s) => continue,
                    _ => why,
                },
                Kind::List => match v.as_array() {
                    None => Msg::List,
                    Some(items) => match items.iter().position(|i| i.as_str().map_or(true, str::is_empty)) {
                        None => continue,
                        Some(i) => return fail(self.e, &index(&self.path(key), i), Msg::ListItem),
                    },
                },
                _ => match text {
                    None => Msg::Text,
                    Some(s) if s.chars().all(char::is_whitespace) || s.len() > 2000 => Msg::TextLength,
                    Some(s) => match kind {
                        Kind::Id if !is_id(s) => Msg::Id,
                        Kind::Url if !is_safe_url(s) => Msg::Url,
                        Kind::Path if !s.starts_with('/') => Msg::Path,
                        Kind::Domain if !ascii_all(s, b'.') => Msg::Domain,
                        Kind::Lang if s.len() > 35 || !ascii_all(s, b'-') => Msg::Lang,
                        _ => continue,
                    },
                },
            };
            return fail(self.e, &self.path(key), why);
        }
        Some(())
    }
    /// A checked text field.
    #[inline(never)]
    fn text(&self, key: &str) -> Option<String> {
        self.get(key).and_then(Value::as_str).map(String::from)
    }
    #[inline(never)]
    fn text_or(&self, key: &str, default: &str) -> String {
        String::from(self.get(key).and_then(Value::as_str).unwrap_or(default))
    }
    #[inline(never)]
    fn flag(&self, key: &str, default: bool) -> bool {
        self.get(key).and_then(Value::as_bool).unwrap_or(default)
    }
    #[inline(never)]
    fn num(&self, key: &str, default: i64) -> i64 {
        self.get(key).and_then(Value::as_i64).unwrap_or(default)
    }
}

/// Links may only be `https:`, `http:` or relative: never `javascript:`, `data:` and the like.
pub fn is_safe_url(u: &str) -> bool {
    // A scheme is what precedes the first ':' that comes before any '/', '?' or '#', after the
    // leading C0 controls and spaces, which the URL parser drops too. Byte-wise.
    let b = u.as_bytes();
    let mut start = 0;
    while b.get(start).is_some_and(|&c| c <= b' ') {
        start += 1;
    }
    let mut i = start;
    while let Some(c) = b.get(i) {
        match c {
            b'/' | b'?' | b'#' => break,
            b':' => {
                let scheme = b.get(start..i).unwrap_or(&[]);
                return scheme.eq_ignore_ascii_case(b"https") || scheme.eq_ignore_ascii_case(b"http");
            }
            _ => i += 1,
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

fn purpose(e: &Slot, v: &Value, path: &str) -> Option<Purpose> {
    let f = Fields::new(e, v, path, PURPOSE)?;
    f.check(&PURPOSE[..1])?;
    let mut services = Vec::new();
    if let Some(list) = f.get("services") {
        let spath = f.path("services");
        let Some(items) = list.as_array() else {
            return fail(e, &spath, Msg::Services);
        };
        for (i, s) in items.iter().enumerate() {
            let sf = Fields::new(e, s, &index(&spath, i), SERVICE)?;
            sf.check(SERVICE)?;
            services.push(Service {
                name: sf.text_or("name", ""),
                provider: sf.text_or("provider", ""),
                purpose: sf.text_or("purpose", ""),
                lifetime: sf.text_or("lifetime", ""),
            });
        }
    }
    f.check(&PURPOSE[2..])?;
    let id = f.text_or("id", "");
    Some(Purpose {
        gpc: f.flag("gpc", gpc_default(&id)),
        title: f.text("title"),
        description: f.text("description"),
        services,
        id,
    })
}

fn tracker(e: &Slot, v: &Value) -> Option<TrackerConfig> {
    let f = Fields::new(e, v, "tracker", TRACKER)?;
    f.check(TRACKER)?;
    let mut endpoint = f.text_or("apiHost", "");
    while endpoint.ends_with('/') {
        endpoint.pop();
    }
    endpoint.push_str(f.get("path").and_then(Value::as_str).unwrap_or("/batch/"));
    Some(TrackerConfig {
        api_key: f.text_or("apiKey", ""),
        endpoint,
        purpose: f.text_or("purpose", "analytics"),
        pageviews: f.flag("pageviews", true),
        pageleave: f.flag("pageleave", true),
        allow_params: f
            .get("allowParams")
            .and_then(Value::as_array)
            .unwrap_or(&[])
            .iter()
            .filter_map(Value::as_str)
            .map(String::from)
            .collect(),
        batch_size: f.num("batchSize", 10) as usize,
        flush_ms: f.num("flushInterval", 5000) as u32,
        max_queue: f.num("maxQueue", 100) as usize,
        cookie_domain: f.text("cookieDomain"),
        cookie_days: f.num("cookieDays", MAX_DAYS),
    })
}

fn texts(e: &Slot, v: &Value, path: &str) -> Option<Vec<(String, Vec<(String, String)>)>> {
    let Some(langs) = v.as_object() else {
        return fail(e, path, Msg::Texts);
    };
    let mut out = Vec::new();
    for (lang, table) in langs {
        let lp = join(path, lang);
        let Some(entries) = table.as_object() else {
            return fail(e, &lp, Msg::TextTable);
        };
        let mut list = Vec::new();
        for (key, text) in entries {
            let kp = join(&lp, key);
            if crate::core::texts::Key::from_name(key).is_none() && !key.starts_with("purpose.") {
                return fail(e, &kp, Msg::TextKey);
            }
            match text.as_str() {
                Some(t) if t.len() <= 2000 => list.push((key.clone(), String::from(t))),
                _ => return fail(e, &kp, Msg::TextOverride),
            }
        }
        out.push((lang.clone(), list));
    }
    Some(out)
}

/// Parses and validates the config document.
pub fn parse(text: &str) -> Result<Config, ConfigError> {
    let doc = match json::parse(text) {
        Ok(v) => v,
        Err(e) => {
            let mut field = String::from("(JSON at byte ");
            json::push_int(&mut field, e.pos as i64);
            field.push_str(": ");
            field.push_str(e.what);
            field.push(')');
            return Err(ConfigError { field, message: Msg::NotJson });
        }
    };
    from_value(&doc)
}

/// Validates an already parsed config document.
pub fn from_value(doc: &Value) -> Result<Config, ConfigError> {
    let e = Slot::new(None);
    match build(&e, doc) {
        Some(c) => Ok(c),
        None => Err(e.take().unwrap_or(ConfigError { field: String::new(), message: Msg::Invalid })),
    }
}

fn build(e: &Slot, doc: &Value) -> Option<Config> {
    let f = Fields::new(e, doc, "", TOP)?;
    f.check(&TOP[..1])?;
    let mut purposes = vec![Purpose {
        id: String::from("necessary"),
        title: None,
        description: None,
        gpc: false,
        services: Vec::new(),
    }];
    let Some(list) = f.get("purposes") else {
        return fail(e, "purposes", Msg::PurposesRequired);
    };
    let Some(items) = list.as_array() else {
        return fail(e, "purposes", Msg::Purposes);
    };
    for (i, item) in items.iter().enumerate() {
        let at = index("purposes", i);
        let p = purpose(e, item, &at)?;
        if p.id == "necessary" {
            if p.gpc {
                return fail(e, &at, Msg::NecessaryGpc);
            }
            if let Some(first) = purposes.first_mut() {
                *first = p;
            }
        } else if purposes.iter().any(|q| q.id == p.id) {
            return fail(e, &join(&at, "id"), Msg::DuplicateId);
        } else {
            purposes.push(p);
        }
    }
    if purposes.len() < 2 {
        return fail(e, "purposes", Msg::NoPurpose);
    }
    f.check(&TOP[2..3])?;
    let tracker = match f.get("tracker") {
        None => None,
        Some(v) => {
            let t = tracker(e, v)?;
            if !purposes.iter().any(|p| p.id == t.purpose) || t.purpose == "necessary" {
                return fail(e, "tracker.purpose", Msg::TrackerPurpose);
            }
            Some(t)
        }
    };
    f.check(&TOP[4..11])?;
    let texts = match f.get("texts") {
        Some(v) => texts(e, v, "texts")?,
        None => Vec::new(),
    };
    f.check(&TOP[12..])?;
    Some(Config {
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
        tracker,
        purposes,
    })
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
    }

    fn error_of(text: &str) -> (String, &'static str) {
        let e = parse(text).unwrap_err();
        (e.field, e.message.text())
    }

    #[test]
    fn every_problem_has_its_words() {
        assert_eq!(MESSAGES.len(), Msg::NotJson as usize + 1, "one text per Msg, in its order");
        assert!(MESSAGES.iter().all(|m| !m.is_empty()));
        assert_eq!(Msg::Days.text(), "expected days from 1 to 395 (13 months at most)");
        assert_eq!(Msg::TrackerPurpose.text(), "must name one of your purposes (not \"necessary\"): analytics is never strictly necessary");
    }

    #[test]
    fn errors_name_the_field() {
        assert_eq!(error_of("{"), (String::from("(JSON at byte 1: expected a quoted key)"), "not valid JSON"));
        assert_eq!(error_of(r#"{"purposes":[{"id":"analytics"}]}"#).0, "policyVersion");
        assert_eq!(error_of(r#"{"policyVersion":"1","purposes":[{"id":"analytics"}],"colour":"red"}"#).0, "colour");
        assert_eq!(error_of(r#"{"policyVersion":"1","purposes":[{"id":"analytics"},{"id":7}]}"#).0, "purposes[1].id");
        assert_eq!(error_of(r#"{"policyVersion":"1","purposes":[{"id":"Analytics!"}]}"#).0, "purposes[0].id");
        assert_eq!(error_of(r#"{"policyVersion":"1","purposes":[{"id":"a"},{"id":"a"}]}"#).0, "purposes[1].id");
        assert_eq!(error_of(r#"{"policyVersion":"1","purposes":[]}"#).0, "purposes");
        assert_eq!(error_of(r#"{"policyVersion":"1","purposes":[{"id":"a","services":[{"nam":"x"}]}]}"#).0, "purposes[0].services[0].nam");
        assert_eq!(error_of(r#"{"policyVersion":"1","purposes":[{"id":"a"}],"layout":"modal"}"#).0, "layout");
        assert_eq!(error_of(r#"{"policyVersion":"1","purposes":[{"id":"a"}],"consentDays":500}"#).0, "consentDays");
        assert_eq!(error_of(r#"{"policyVersion":"1","purposes":[{"id":"a"}],"ccpa":"yes"}"#).0, "ccpa");
        assert_eq!(error_of(r#"{"policyVersion":"1","purposes":[{"id":"a"}],"texts":{"en":{"titel":"x"}}}"#).0, "texts.en.titel");
        assert_eq!(error_of(r#"{"policyVersion":"1","purposes":[{"id":"a"}],"tracker":{"apiKey":"k","cookieDays":400}}"#).0, "tracker.cookieDays");
        assert_eq!(error_of(r#"{"policyVersion":"1","purposes":[{"id":"a"}],"tracker":{"apiKey":"k"}}"#).0, "tracker.purpose");
        assert_eq!(error_of(r#"{"policyVersion":"1","purposes":[{"id":"a"}],"tracker":{}}"#).0, "tracker.apiKey");
    }

    #[test]
    fn every_rule_has_its_message_and_the_first_problem_wins() {
        let base = r#"{"policyVersion":"1","purposes":[{"id":"a"}],"#;
        let e = |rest: &str| {
            let e = parse(&(String::from(base) + rest)).unwrap_err();
            (e.field, e.message.text())
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
        let c = parse(&(String::from(base) + r#""tracker":{"apiKey":"k","purpose":"a","apiHost":"https://x.example//","path":"/e"}}"#)).unwrap();
        assert_eq!(c.tracker.unwrap().endpoint, "https://x.example/e");
    }

    #[test]
    fn links_must_be_http_or_relative() {
        for ok in ["/privacy", "privacy.html", "https://example.com/p", "HTTP://x", "//cdn.example/p", "?a=b:c", "#x"] {
            assert!(is_safe_url(ok), "{ok}");
        }
        for bad in ["javascript:alert(1)", " JavaScript:x", "\t\x01javascript:x", "java\nscript:x", "data:text/html,x", "vbscript:x", "mailto:a@b"] {
            assert!(!is_safe_url(bad), "{bad}");
        }
        assert_eq!(
            error_of(r#"{"policyVersion":"1","purposes":[{"id":"a"}],"privacyPolicyUrl":"javascript:alert(1)"}"#).0,
            "privacyPolicyUrl"
        );
    }

    #[test]
    fn message_is_one_readable_line() {
        let e = parse(r#"{"policyVersion":"1","purposes":[{"id":"a"}],"layout":"modal"}"#).unwrap_err();
        assert_eq!(e.to_message(), "Consentry config: layout: expected \"box\" or \"bar\"");
    }
}
