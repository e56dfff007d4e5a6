//! The banner's words: built-in languages, language choice, overrides, and the hash of what was shown.
//!
//! Owns: which text a visitor sees for each key. The hash of those exact texts goes into every
//! consent receipt, so a later reader can prove which wording was agreed to; therefore the
//! order and joining of texts here is part of the evidence format and must not change silently.
#[allow(unused_imports)]
use crate::prelude::*;
use crate::core::config::Config;
use crate::core::json::{self, Value};
use crate::core::before;

/// Every text the banner shows. The names are the keys of `texts` in the config.
#[derive(Clone, Copy, PartialEq)]
#[cfg_attr(test, derive(Debug))]
pub enum Key {
    Title,
    Body,
    AcceptAll,
    RejectAll,
    Customise,
    Save,
    Close,
    PrefsTitle,
    PrefsBody,
    PolicyLink,
    AlwaysOn,
    Reopen,
    Saved,
    GpcHonoured,
    CcpaLink,
    Download,
    Provider,
    Lifetime,
    Services,
    Name,
    PurposeCol,
    YourChoices,
    NecessaryTitle,
    NecessaryDesc,
    AnalyticsTitle,
    AnalyticsDesc,
    MarketingTitle,
    MarketingDesc,
    FunctionalTitle,
    FunctionalDesc,
}

const NAMES: [&str; 30] = [
    "title", "body", "acceptAll", "rejectAll", "customise", "save", "close", "prefsTitle", "prefsBody",
    "policyLink", "alwaysOn", "reopen", "saved", "gpcHonoured", "ccpaLink", "download", "provider",
    "lifetime", "services", "name", "purpose", "yourChoices", "purpose.necessary.title", "purpose.necessary.description", "purpose.analytics.title",
    "purpose.analytics.description", "purpose.marketing.title", "purpose.marketing.description",
    "purpose.functional.title", "purpose.functional.description",
];

/// Every key, in `NAMES` order; the first `UI_TEXTS` are the interface texts (the rest are the
/// built-in purposes' titles and descriptions).
pub const ALL: [Key; 30] = [
    Key::Title, Key::Body, Key::AcceptAll, Key::RejectAll, Key::Customise, Key::Save, Key::Close,
    Key::PrefsTitle, Key::PrefsBody, Key::PolicyLink, Key::AlwaysOn, Key::Reopen, Key::Saved,
    Key::GpcHonoured, Key::CcpaLink, Key::Download, Key::Provider, Key::Lifetime, Key::Services, Key::Name,
    Key::PurposeCol, Key::YourChoices, Key::NecessaryTitle,
    Key::NecessaryDesc, Key::AnalyticsTitle, Key::AnalyticsDesc, Key::MarketingTitle, Key::MarketingDesc,
    Key::FunctionalTitle, Key::FunctionalDesc,
];

impl Key {
    pub fn name(self) -> &'static str {
        NAMES[self as usize]
    }
    pub fn from_name(name: &str) -> Option<Key> {
        NAMES.iter().position(|n| *n == name).map(|i| ALL[i])
    }
}

/// Built-in languages. Each has a table `src/core/lang/<code>.json`: a JSON object with its code
/// as `lang` and every text name (the same names as a language in the config's `texts`). English
/// is compiled in (the fallback); the build ships the others as `lang/<code>.json` next to the
/// `.wasm`, and the loader fetches the one a visitor needs.
/// How many of `ALL` are interface texts.
pub const UI_TEXTS: usize = 22;

pub const LANGS: [&str; 8] = ["en", "de", "fr", "es", "it", "nl", "pt", "pl"];

/// `lang/en.json` as a tape (written by build.rs): read like any other table, without JSON.
const EN: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/en.tape"));

/// One language's built-in texts, in `Key` order.
pub struct Lang {
    /// The index into `LANGS`.
    pub index: usize,
    texts: Vec<String>,
}

impl Lang {
    /// Reads a language table's JSON text (see `from_value`).
    pub fn parse(text: &str) -> Result<Lang, &'static str> {
        Lang::from_value(json::parse(text).ok().as_ref())
    }
    /// Reads a language table: a JSON object with `lang` (one of `LANGS`) and a non-empty string
    /// for every text name (other fields are ignored). None: the text was not JSON.
    pub fn from_value(v: Option<&Value>) -> Result<Lang, &'static str> {
        let v = v.ok_or("not valid JSON")?;
        let code = v.get("lang").and_then(|l| l.as_str()).unwrap_or("");
        let index = LANGS.iter().position(|l| *l == code).ok_or("not a language table")?;
        let mut texts = Vec::with_capacity(NAMES.len());
        for name in NAMES {
            match v.get(name).and_then(|t| t.as_str()) {
                Some(t) if !t.is_empty() => texts.push(String::from(t)),
                _ => return Err("missing a text"),
            }
        }
        Ok(Lang { index, texts })
    }
/// The compiled-in English table.
    pub fn english() -> Lang {
        Lang::from_value(crate::core::tape::decode(EN).as_ref()).unwrap_or(Lang { index: 0, texts: Vec::new() })
    }
    pub fn code(&self) -> &'static str {
        LANGS.get(self.index).map_or("en", |c| c)
    }
    /// The built-in text for `key`.
    pub fn get(&self, key: Key) -> &str {
        self.texts.get(key as usize).map_or("", |t| t)
    }
}

/// Picks the first candidate (config, `<html lang>`, `navigator.languages`, in that order) that
/// has a table, matching on the primary subtag ("pt-BR" → "pt"); English otherwise.
/// Returns the index into `LANGS`.
pub fn pick_language<'a>(candidates: impl IntoIterator<Item = &'a str>) -> usize {
    for c in candidates {
        let primary = before(before(c, b'-'), b'_');
        if let Some(i) = LANGS.iter().position(|l| l.eq_ignore_ascii_case(primary)) {
            return i;
        }
    }
    0
}

/// The texts one visitor sees: the built-in table of their language plus the site's overrides.
pub struct Texts<'c> {
    config: &'c Config,
    lang: &'c Lang,
}

impl<'c> Texts<'c> {
    pub fn new(config: &'c Config, lang: &'c Lang) -> Self {
        Texts { config, lang }
    }
    pub fn code(&self) -> &'static str {
        self.lang.code()
    }
    /// An override for `name` in this language, then one for every language ("*").
    fn lookup(&self, name: &str) -> Option<&'c str> {
        let code = self.code();
        for want in [code, "*"] {
            for (lang, table) in &self.config.texts {
                if before(lang, b'-') == want || (want == "*" && lang == "*") {
                    if let Some((_, t)) = table.iter().find(|(k, _)| k == name) {
                        return Some(t);
                    }
                }
            }
        }
        None
    }
    pub fn get(&self, key: Key) -> &'c str {
        self.lookup(key.name()).unwrap_or_else(|| self.lang.get(key))
    }
    /// Title and description of a purpose: language override, then the config's own text,
    /// then the built-in text for a well-known id, then the id itself.
    pub fn purpose(&self, id: &str, description: bool) -> &'c str {
        let mut name = String::from("purpose.");
        name.push_str(id);
        name.push_str(if description { ".description" } else { ".title" });
        if let Some(t) = self.lookup(&name) {
            return t;
        }
        if let Some(p) = self.config.purpose(id) {
            let own = if description { &p.description } else { &p.title };
            if let Some(t) = own {
                return t;
            }
            if let Some(k) = Key::from_name(&name) {
                return self.lang.get(k);
            }
            if !description {
                return &p.id;
            }
        }
        ""
    }
    /// Every text the visitor can be shown, in a fixed order: the 22 banner texts, then for
    /// each purpose its title and description, then each service's fields. Joined with '\n'
    /// (texts cannot make this ambiguous because each item ends with one). Its SHA-256 is the
    /// receipt's `texts` field.
    pub fn shown(&self) -> String {
        let mut s = String::new();
        let mut add = |t: &str| {
            s.push_str(t);
            s.push('\n');
        };
        for k in &ALL[..UI_TEXTS] {
            add(self.get(*k));
        }
        for p in &self.config.purposes {
            add(self.purpose(&p.id, false));
            add(self.purpose(&p.id, true));
            for svc in &p.services {
                add(&svc.name);
                add(&svc.provider);
                add(&svc.purpose);
                add(&svc.lifetime);
            }
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::config;

    /// Every table, read as the build reads them (the build ships all but English as files).
    fn tables() -> std::vec::Vec<(String, String)> {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src/core/lang");
        let mut found: std::vec::Vec<(String, String)> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| {
                let path = e.unwrap().path();
                let name = String::from(path.file_name().unwrap().to_str().unwrap());
                (name, std::fs::read_to_string(&path).unwrap())
            })
            .collect();
        found.sort();
        found
    }

    fn table(code: &str) -> Lang {
        let (_, text) = tables().into_iter().find(|(n, _)| *n == format!("{code}.json")).unwrap();
        Lang::parse(&text).unwrap()
    }

    #[test]
    fn every_language_has_every_text() {
        let files = tables();
        let mut names: std::vec::Vec<String> = files.iter().map(|(n, _)| n.clone()).collect();
        let mut want: std::vec::Vec<String> = LANGS.iter().map(|l| format!("{l}.json")).collect();
        names.sort();
        want.sort();
        assert_eq!(names, want, "src/core/lang/ must hold exactly one table per entry of LANGS");
        for (name, text) in &files {
            let lang = Lang::parse(text).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(format!("{}.json", lang.code()), *name, "{name}: its lang field names another language");
            for k in &ALL {
                assert!(!lang.get(*k).trim().is_empty(), "{name}: {} is blank", k.name());
            }
            // Nothing but the known names: a misspelt key would silently be ignored.
            let obj = json::parse(text).unwrap();
            for (k, _) in obj.as_object().unwrap() {
                assert!(k == "lang" || Key::from_name(k).is_some(), "{name}: unknown text name {k}");
            }
        }
        for (i, k) in ALL.iter().enumerate() {
            assert_eq!(*k as usize, i);
            assert_eq!(Key::from_name(k.name()), Some(*k));
        }
        let en = Lang::english();
        assert_eq!(en.code(), "en");
        assert_eq!(en.get(Key::AcceptAll), "Accept all");
        for k in ALL {
            assert_eq!(en.get(k), table("en").get(k), "the compiled-in English (build.rs) is en.json");
        }
    }

    #[test]
    fn a_table_missing_a_text_or_its_language_or_not_json_is_refused() {
        let (_, de) = tables().into_iter().find(|(n, _)| n == "de.json").unwrap();
        assert_eq!(Lang::parse(&de).map(|l| l.code()).ok(), Some("de"));
        let without = de.replace("\"rejectAll\"", "\"rejectAlle\"");
        assert_ne!(without, de);
        assert_eq!(Lang::parse(&without).err(), Some("missing a text"));
        let blank = de.replace("\"Alle ablehnen\"", "\"\"");
        assert_eq!(Lang::parse(&blank).err(), Some("missing a text"));
        for code in ["\"xx\"", "\"\"", "1"] {
            let other = de.replace("\"de\"", code);
            assert_eq!(Lang::parse(&other).err(), Some("not a language table"), "{code}");
        }
        assert_eq!(Lang::parse(&de.replace("\"de\"", "\"fr\"")).map(|l| l.code()).ok(), Some("fr"));
        assert_eq!(Lang::parse(&de[..de.len() / 2]).err(), Some("not valid JSON"));
        assert_eq!(Lang::parse("").err(), Some("not valid JSON"));
    }

    #[test]
    fn picks_language_by_primary_subtag() {
        assert_eq!(LANGS[pick_language(["pt-BR"])], "pt");
        assert_eq!(LANGS[pick_language(["ja", "de-AT", "fr"])], "de");
        assert_eq!(LANGS[pick_language(["ar"])], "en");
        assert_eq!(LANGS[pick_language([])], "en");
    }

    #[test]
    fn overrides_win_and_change_the_hash_input() {
        let c = config::parse(
            r#"{"policyVersion":"1","purposes":[{"id":"analytics"},{"id":"video","title":"Videos"}],
               "texts":{"de":{"acceptAll":"Alles klar"},"*":{"purpose.analytics.title":"Reichweite"}}}"#,
        )
        .unwrap();
        let (de_table, en_table) = (table("de"), Lang::english());
        let de = Texts::new(&c, &de_table);
        assert_eq!(de.get(Key::AcceptAll), "Alles klar");
        assert_eq!(de.get(Key::RejectAll), "Alle ablehnen");
        assert_eq!(de.purpose("analytics", false), "Reichweite");
        assert_eq!(de.purpose("video", false), "Videos");
        assert_eq!(de.purpose("video", true), "");
        assert_eq!(de.purpose("necessary", false), "Unbedingt erforderlich");
        let en = Texts::new(&c, &en_table);
        assert_eq!(en.get(Key::AcceptAll), "Accept all");
        assert_ne!(de.shown(), en.shown());
        assert!(en.shown().starts_with("We value your privacy\n"));
    }
}
