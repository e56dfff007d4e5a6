//! The site owner's configuration: its model and its validation.
//!
//! Owns: turning the config JSON into a checked `Config`, with an error that names the field and
//! the fix. Never guesses: an unknown field, a wrong type or an unsafe link is an error, and the
//! shell then fails closed (no banner decisions, no cookie, no request, no tracking).
#[allow(unused_imports)]
use crate::prelude::*;
use crate::core::json::{self, Value};

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

/// What is wrong, and where: `field` is a path like `purposes[1].id`.
#[derive(Clone, PartialEq)]
#[cfg_attr(test, derive(Debug))]
pub struct ConfigError {
    pub field: String,
    pub message: &'static str,
}

impl ConfigError {
    /// One line for the console: `Consentry config: purposes[1].id: expected …`.
    pub fn to_message(&self) -> String {
        let mut s = String::from("Consentry config: ");
        s.push_str(if self.field.is_empty() { "(document)" } else { &self.field });
        s.push_str(": ");
        s.push_str(self.message);
        s
    }
}

fn err<T>(field: &str, message: &'static str) -> Result<T, ConfigError> {
    Err(ConfigError { field: String::from(field), message })
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

/// Reads an object's fields, refusing unknown ones and tracking which were used.
struct Fields<'a> {
    path: String,
    fields: &'a [(String, Value)],
}

impl<'a> Fields<'a> {
    fn new(v: &'a Value, path: &str, allowed: &[&str]) -> Result<Self, ConfigError> {
        let Some(fields) = v.as_object() else {
            return err(path, "expected an object { … }");
        };
        for (k, _) in fields {
            if !allowed.contains(&k.as_str()) {
                return err(&join(path, k), "unknown field: check its spelling against the README's config reference");
            }
        }
        Ok(Fields { path: String::from(path), fields })
    }
    fn get(&self, key: &str) -> Option<&'a Value> {
        self.fields.iter().find(|(k, _)| k == key).map(|(_, v)| v).filter(|v| **v != Value::Null)
    }
    fn path(&self, key: &str) -> String {
        join(&self.path, key)
    }
    fn string(&self, key: &str) -> Result<Option<String>, ConfigError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Str(s)) if !s.trim().is_empty() && s.len() <= 2000 => Ok(Some(s.clone())),
            Some(Value::Str(_)) => err(&self.path(key), "expected a non-empty text of at most 2000 characters"),
            Some(_) => err(&self.path(key), "expected a text in quotes"),
        }
    }
    fn choice(&self, key: &str, allowed: &[&'static str], default: &str) -> Result<String, ConfigError> {
        match self.get(key) {
            None => Ok(String::from(default)),
            Some(Value::Str(s)) if allowed.contains(&s.as_str()) => Ok(s.clone()),
            Some(_) => err(&self.path(key), choices_message(allowed)),
        }
    }
    fn boolean(&self, key: &str, default: bool) -> Result<bool, ConfigError> {
        match self.get(key) {
            None => Ok(default),
            Some(Value::Bool(b)) => Ok(*b),
            Some(_) => err(&self.path(key), "expected true or false"),
        }
    }
    fn int(&self, key: &str, min: i64, max: i64, default: i64, message: &'static str) -> Result<i64, ConfigError> {
        match self.get(key) {
            None => Ok(default),
            Some(v) => match v.as_i64() {
                Some(n) if n >= min && n <= max => Ok(n),
                _ => err(&self.path(key), message),
            },
        }
    }
    fn url(&self, key: &str) -> Result<Option<String>, ConfigError> {
        let s = self.string(key)?;
        match &s {
            Some(u) if !is_safe_url(u) => err(&self.path(key), "expected an https:, http: or relative URL"),
            _ => Ok(s),
        }
    }
}

fn choices_message(allowed: &[&'static str]) -> &'static str {
    match allowed.first() {
        Some(&"box") => "expected \"box\" or \"bar\"",
        Some(&"bottom-left") => "expected \"bottom-left\", \"bottom-right\" or \"none\"",
        _ => "expected one of the documented values",
    }
}

/// Links may only be `https:`, `http:` or relative: never `javascript:`, `data:` and the like.
pub fn is_safe_url(u: &str) -> bool {
    // A scheme is what precedes the first ':' that comes before any '/', '?' or '#' (leading
    // white space aside). Byte-wise: these are ASCII, so the cut is on a char boundary.
    for (i, b) in u.bytes().enumerate() {
        match b {
            b'/' | b'?' | b'#' => break,
            b':' => {
                let scheme = u.get(..i).unwrap_or("").trim_start();
                return scheme.eq_ignore_ascii_case("https") || scheme.eq_ignore_ascii_case("http");
            }
            _ => {}
        }
    }
    true
}

fn is_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 32
        && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

fn strings(v: &Value, path: &str) -> Result<Vec<String>, ConfigError> {
    let Some(items) = v.as_array() else {
        return err(path, "expected a list [\"…\", …]");
    };
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        match item.as_str() {
            Some(s) if !s.is_empty() => out.push(String::from(s)),
            _ => return err(&index(path, i), "expected a non-empty text in quotes"),
        }
    }
    Ok(out)
}

/// Purposes that GPC covers unless the config says otherwise: sale/sharing and measurement.
fn gpc_default(id: &str) -> bool {
    matches!(id, "analytics" | "marketing")
}

fn purpose(v: &Value, path: &str) -> Result<Purpose, ConfigError> {
    let f = Fields::new(v, path, &["id", "title", "description", "gpc", "services"])?;
    let Some(id) = f.string("id")? else {
        return err(&f.path("id"), "required: a short id such as \"analytics\"");
    };
    if !is_id(&id) {
        return err(&f.path("id"), "expected lower-case letters, digits, '_' or '-' (at most 32)");
    }
    let mut services = Vec::new();
    if let Some(list) = f.get("services") {
        let spath = f.path("services");
        let Some(items) = list.as_array() else {
            return err(&spath, "expected a list of services [{ \"name\": … }]");
        };
        for (i, s) in items.iter().enumerate() {
            let sp = index(&spath, i);
            let sf = Fields::new(s, &sp, &["name", "provider", "purpose", "lifetime"])?;
            let Some(name) = sf.string("name")? else {
                return err(&sf.path("name"), "required: the service or cookie name");
            };
            services.push(Service {
                name,
                provider: sf.string("provider")?.unwrap_or_default(),
                purpose: sf.string("purpose")?.unwrap_or_default(),
                lifetime: sf.string("lifetime")?.unwrap_or_default(),
            });
        }
    }
    Ok(Purpose {
        gpc: f.boolean("gpc", gpc_default(&id))?,
        title: f.string("title")?,
        description: f.string("description")?,
        services,
        id,
    })
}

fn tracker(v: &Value, path: &str) -> Result<TrackerConfig, ConfigError> {
    let f = Fields::new(
        v,
        path,
        &[
            "apiKey", "apiHost", "path", "purpose", "pageviews", "pageleave", "allowParams", "batchSize",
            "flushInterval", "maxQueue", "cookieDomain", "cookieDays",
        ],
    )?;
    let Some(api_key) = f.string("apiKey")? else {
        return err(&f.path("apiKey"), "required: the project API key your collector or PostHog expects");
    };
    let host = f.url("apiHost")?.unwrap_or_default();
    let p = f.string("path")?.unwrap_or_else(|| String::from("/batch/"));
    if !p.starts_with('/') {
        return err(&f.path("path"), "expected a path starting with '/'");
    }
    let mut endpoint = String::from(host.trim_end_matches('/'));
    endpoint.push_str(&p);
    let cookie_domain = f.string("cookieDomain")?;
    if let Some(d) = &cookie_domain {
        if d.bytes().any(|b| !(b.is_ascii_alphanumeric() || b == b'.' || b == b'-')) {
            return err(&f.path("cookieDomain"), "expected a domain such as \"example.com\"");
        }
    }
    Ok(TrackerConfig {
        api_key,
        endpoint,
        purpose: f.string("purpose")?.unwrap_or_else(|| String::from("analytics")),
        pageviews: f.boolean("pageviews", true)?,
        pageleave: f.boolean("pageleave", true)?,
        allow_params: match f.get("allowParams") {
            Some(v) => strings(v, &f.path("allowParams"))?,
            None => Vec::new(),
        },
        batch_size: f.int("batchSize", 1, 100, 10, "expected a whole number from 1 to 100")? as usize,
        flush_ms: f.int("flushInterval", 100, 600_000, 5000, "expected milliseconds from 100 to 600000")? as u32,
        max_queue: f.int("maxQueue", 1, 1000, 100, "expected a whole number from 1 to 1000")? as usize,
        cookie_domain,
        cookie_days: f.int("cookieDays", 1, MAX_DAYS, MAX_DAYS, "expected days from 1 to 395 (13 months at most)")?,
    })
}

fn texts(v: &Value, path: &str) -> Result<Vec<(String, Vec<(String, String)>)>, ConfigError> {
    let Some(langs) = v.as_object() else {
        return err(path, "expected { \"en\": { \"title\": \"…\" }, \"de\": { … } }");
    };
    let mut out = Vec::new();
    for (lang, table) in langs {
        let lp = join(path, lang);
        let Some(entries) = table.as_object() else {
            return err(&lp, "expected an object of texts { \"title\": \"…\" }");
        };
        let mut list = Vec::new();
        for (key, text) in entries {
            let kp = join(&lp, key);
            if crate::core::texts::Key::from_name(key).is_none() && !key.starts_with("purpose.") {
                return err(&kp, "unknown text key: see the README's list of text keys");
            }
            match text.as_str() {
                Some(t) if t.len() <= 2000 => list.push((key.clone(), String::from(t))),
                _ => return err(&kp, "expected a text in quotes (at most 2000 characters)"),
            }
        }
        out.push((lang.clone(), list));
    }
    Ok(out)
}

/// Parses and validates the config document.
pub fn parse(text: &str) -> Result<Config, ConfigError> {
    let doc = match json::parse(text) {
        Ok(v) => v,
        Err(e) => {
            let mut field = String::from("(JSON at byte ");
            json::push_int(&mut field, e.pos as i64);
            field.push(')');
            return Err(ConfigError { field, message: e.what });
        }
    };
    from_value(&doc)
}

/// Validates an already parsed config document.
pub fn from_value(doc: &Value) -> Result<Config, ConfigError> {
    let f = Fields::new(
        doc,
        "",
        &[
            "$schema", "policyVersion", "privacyPolicyUrl", "language", "layout", "reopenButton", "purposes", "ccpa",
            "honorGpc", "consentDays", "refusalDays", "texts", "evidenceEndpoint", "tracker", "consentMode",
        ],
    )?;
    let Some(policy_version) = f.string("policyVersion")? else {
        return err("policyVersion", "required: the version of your privacy policy, e.g. \"2026-11\"; change it to ask everyone again");
    };
    let mut purposes = vec![Purpose {
        id: String::from("necessary"),
        title: None,
        description: None,
        gpc: false,
        services: Vec::new(),
    }];
    match f.get("purposes") {
        None => return err("purposes", "required: a list such as [{ \"id\": \"analytics\" }]"),
        Some(list) => {
            let Some(items) = list.as_array() else {
                return err("purposes", "expected a list such as [{ \"id\": \"analytics\" }]");
            };
            for (i, item) in items.iter().enumerate() {
                let p = purpose(item, &index("purposes", i))?;
                if p.id == "necessary" {
                    if p.gpc {
                        return err(&index("purposes", i), "\"necessary\" cannot be covered by GPC");
                    }
                    purposes[0] = p;
                } else if purposes.iter().any(|q| q.id == p.id) {
                    return err(&join(&index("purposes", i), "id"), "duplicate purpose id");
                } else {
                    purposes.push(p);
                }
            }
        }
    }
    if purposes.len() < 2 {
        return err("purposes", "name at least one purpose that needs consent, such as \"analytics\"");
    }
    let language = f.string("language")?;
    if let Some(l) = &language {
        if l.len() > 35 || !l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            return err("language", "expected a language code such as \"de\" or \"pt-BR\"");
        }
    }
    let tracker = match f.get("tracker") {
        None => None,
        Some(v) => {
            let t = tracker(v, "tracker")?;
            if !purposes.iter().any(|p| p.id == t.purpose) || t.purpose == "necessary" {
                return err("tracker.purpose", "must name one of your purposes (not \"necessary\"): analytics is never strictly necessary");
            }
            Some(t)
        }
    };
    Ok(Config {
        privacy_policy_url: f.url("privacyPolicyUrl")?,
        language,
        layout: f.choice("layout", &["box", "bar"], "box")?,
        reopen_button: f.choice("reopenButton", &["bottom-left", "bottom-right", "none"], "bottom-left")?,
        ccpa: f.boolean("ccpa", false)?,
        honor_gpc: f.boolean("honorGpc", true)?,
        consent_days: f.int("consentDays", 1, MAX_DAYS, 365, "expected days from 1 to 395 (13 months at most)")?,
        refusal_days: f.int("refusalDays", 1, MAX_DAYS, 182, "expected days from 1 to 395 (13 months at most)")?,
        texts: match f.get("texts") {
            Some(v) => texts(v, "texts")?,
            None => Vec::new(),
        },
        evidence_endpoint: f.url("evidenceEndpoint")?,
        consent_mode: f.boolean("consentMode", false)?,
        tracker,
        purposes,
        policy_version,
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
        (e.field, e.message)
    }

    #[test]
    fn errors_name_the_field() {
        assert_eq!(error_of("{").0, "(JSON at byte 1)");
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
    fn links_must_be_http_or_relative() {
        for ok in ["/privacy", "privacy.html", "https://example.com/p", "HTTP://x", "//cdn.example/p", "?a=b:c", "#x"] {
            assert!(is_safe_url(ok), "{ok}");
        }
        for bad in ["javascript:alert(1)", " JavaScript:x", "data:text/html,x", "vbscript:x", "mailto:a@b"] {
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
