//! The banner's words: built-in languages, language choice, the site's overrides, and the
//! shown-texts document whose hash every receipt records.
//!
//! Owns: which text a visitor sees for each key, and the exact bytes of "what was shown" (the
//! wording document, see `Texts::document`). A later reader proves which wording was agreed to
//! by hashing that document, so its layout is part of the evidence format and must not change
//! silently. English is compiled in (build.rs); every other language is a table the shell loads.
use crate::core::canonical::{push_key, push_str};
use crate::core::config::Config;
use crate::core::doc::Doc;

include!(concat!(env!("OUT_DIR"), "/en.rs"));

/// Every text the banner shows. The names are the keys of `texts` in the config.
#[derive(Clone, Copy, PartialEq)]
#[cfg_attr(not(target_arch = "wasm32"), derive(Debug))]
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

/// Every key with its name, in `Key` order; the first `UI_TEXTS` are the interface texts (the
/// rest are the built-in purposes' titles and descriptions).
pub const ALL: [(Key, &str); 30] = [
    (Key::Title, "title"),
    (Key::Body, "body"),
    (Key::AcceptAll, "acceptAll"),
    (Key::RejectAll, "rejectAll"),
    (Key::Customise, "customise"),
    (Key::Save, "save"),
    (Key::Close, "close"),
    (Key::PrefsTitle, "prefsTitle"),
    (Key::PrefsBody, "prefsBody"),
    (Key::PolicyLink, "policyLink"),
    (Key::AlwaysOn, "alwaysOn"),
    (Key::Reopen, "reopen"),
    (Key::Saved, "saved"),
    (Key::GpcHonoured, "gpcHonoured"),
    (Key::CcpaLink, "ccpaLink"),
    (Key::Download, "download"),
    (Key::Provider, "provider"),
    (Key::Lifetime, "lifetime"),
    (Key::Services, "services"),
    (Key::Name, "name"),
    (Key::PurposeCol, "purpose"),
    (Key::YourChoices, "yourChoices"),
    (Key::NecessaryTitle, "purpose.necessary.title"),
    (Key::NecessaryDesc, "purpose.necessary.description"),
    (Key::AnalyticsTitle, "purpose.analytics.title"),
    (Key::AnalyticsDesc, "purpose.analytics.description"),
    (Key::MarketingTitle, "purpose.marketing.title"),
    (Key::MarketingDesc, "purpose.marketing.description"),
    (Key::FunctionalTitle, "purpose.functional.title"),
    (Key::FunctionalDesc, "purpose.functional.description"),
];

/// The interface texts in the order JCS writes their names (sorted by UTF-16 code units; the
/// names are ASCII). A constant, so the `.wasm` needs no sort; a test checks the order.
const JCS_ORDER: [Key; UI_TEXTS] = [
    Key::AcceptAll,
    Key::AlwaysOn,
    Key::Body,
    Key::CcpaLink,
    Key::Close,
    Key::Customise,
    Key::Download,
    Key::GpcHonoured,
    Key::Lifetime,
    Key::Name,
    Key::PolicyLink,
    Key::PrefsBody,
    Key::PrefsTitle,
    Key::Provider,
    Key::PurposeCol,
    Key::RejectAll,
    Key::Reopen,
    Key::Save,
    Key::Saved,
    Key::Services,
    Key::Title,
    Key::YourChoices,
];

/// How many of `ALL` are interface texts.
pub const UI_TEXTS: usize = 22;

/// Built-in languages. Each has a table `src/core/lang/<code>.json`: its code as `lang` and every
/// text name. The build ships all but English as files next to the `.wasm`.
pub const LANGS: [&str; 8] = ["en", "de", "fr", "es", "it", "nl", "pt", "pl"];

impl Key {
    pub fn name(self) -> &'static str {
        ALL[self as usize].1
    }
    pub fn from_name(name: &str) -> Option<Key> {
        ALL.iter().find(|(_, n)| *n == name).map(|(k, _)| *k)
    }
}

/// Why a language table was not used (English is shown instead).
#[derive(Clone, Copy, PartialEq)]
#[cfg_attr(not(target_arch = "wasm32"), derive(Debug))]
pub enum TableError {
    NotLoaded,
    NotATable,
    MissingText,
    OtherLanguage,
}

impl TableError {
    pub fn as_str(self) -> &'static str {
        match self {
            TableError::NotLoaded => "not loaded",
            TableError::NotATable => "not a language table",
            TableError::MissingText => "missing a text",
            TableError::OtherLanguage => "for another language",
        }
    }
}

/// One language's built-in texts, in `Key` order.
pub struct Lang {
    /// The index into `LANGS`.
    index: usize,
    texts: Vec<String>,
}

impl Lang {
    /// Reads a language table: an object with `lang` (one of `LANGS`) and a non-empty text for
    /// every text name (other fields are ignored).
    pub fn from_doc<D: Doc>(v: &D) -> Result<Lang, TableError> {
        let code = v.get("lang").and_then(|l| l.text()).unwrap_or_default();
        let index = LANGS.iter().position(|l| *l == code).ok_or(TableError::NotATable)?;
        let mut texts = Vec::with_capacity(ALL.len());
        for (_, name) in ALL {
            match v.get(name).and_then(|t| t.text()) {
                Some(t) if !t.is_empty() => texts.push(t),
                _ => return Err(TableError::MissingText),
            }
        }
        Ok(Lang { index, texts })
    }
    /// The compiled-in English table.
    pub fn english() -> Lang {
        let mut texts = Vec::with_capacity(EN.len());
        for t in EN {
            texts.push(String::from(t));
        }
        Lang { index: 0, texts }
    }
    pub fn code(&self) -> &'static str {
        LANGS[self.index]
    }
    pub fn index(&self) -> usize {
        self.index
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
    use crate::core::before;
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
                if crate::core::before(lang, b'-') == want {
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
    /// then the built-in text for a well-known id, then the id itself (title only).
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

    /// The wording document: every text the visitor can be shown, as one JSON object in
    /// RFC 8785 (JCS) form, so any JCS library reproduces its bytes:
    ///
    /// ```text
    /// {"lang":"en","purposes":[{"description":"…","id":"analytics","services":[{"lifetime":"…",
    ///  "name":"…","provider":"…","purpose":"…"}],"title":"…"}],"texts":{"acceptAll":"…",…}}
    /// ```
    ///
    /// `texts` holds the 22 interface texts by name (keys sorted, as JCS sorts them), `purposes`
    /// the configured purposes in display order. Its SHA-256 is the `texts` field of a version-2
    /// receipt; the collector keeps the document under that hash, so a site can show which
    /// wording a visitor saw. (Version 1 hashed the texts joined with newlines, which a text
    /// containing a newline could make ambiguous.)
    pub fn document(&self) -> String {
        let mut s = String::with_capacity(2048);
        s.push('{');
        push_key(&mut s, "lang");
        push_str(&mut s, self.code());
        s.push(',');
        push_key(&mut s, "purposes");
        s.push('[');
        for (i, p) in self.config.purposes.iter().enumerate() {
            if i > 0 {
                s.push(',');
            }
            s.push('{');
            push_key(&mut s, "description");
            push_str(&mut s, self.purpose(&p.id, true));
            s.push(',');
            push_key(&mut s, "id");
            push_str(&mut s, &p.id);
            s.push(',');
            push_key(&mut s, "services");
            s.push('[');
            for (j, svc) in p.services.iter().enumerate() {
                if j > 0 {
                    s.push(',');
                }
                // Sorted keys: lifetime, name, provider, purpose.
                for (n, (k, v)) in
                    [("lifetime", &svc.lifetime), ("name", &svc.name), ("provider", &svc.provider), ("purpose", &svc.purpose)]
                        .iter()
                        .enumerate()
                {
                    s.push(if n == 0 { '{' } else { ',' });
                    push_key(&mut s, k);
                    push_str(&mut s, v);
                }
                s.push('}');
            }
            s.push_str("],");
            push_key(&mut s, "title");
            push_str(&mut s, self.purpose(&p.id, false));
            s.push('}');
        }
        s.push_str("],");
        push_key(&mut s, "texts");
        for (i, k) in JCS_ORDER.iter().enumerate() {
            s.push(if i == 0 { '{' } else { ',' });
            push_key(&mut s, k.name());
            push_str(&mut s, self.get(*k));
        }
        s.push_str("}}");
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::config;

    /// Every table, read as the build reads them (the build ships all but English as files).
    fn tables() -> Vec<(String, String)> {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src/core/lang");
        let mut found: Vec<(String, String)> = std::fs::read_dir(dir)
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

    fn parse(text: &str) -> Result<Lang, TableError> {
        match serde_json::from_str::<serde_json::Value>(text) {
            Ok(v) => Lang::from_doc(&&v),
            Err(_) => Err(TableError::NotATable),
        }
    }

    fn table(code: &str) -> Lang {
        let (_, text) = tables().into_iter().find(|(n, _)| *n == format!("{code}.json")).unwrap();
        parse(&text).unwrap()
    }

    #[test]
    fn every_language_has_every_text() {
        let files = tables();
        let mut names: Vec<String> = files.iter().map(|(n, _)| n.clone()).collect();
        let mut want: Vec<String> = LANGS.iter().map(|l| format!("{l}.json")).collect();
        names.sort();
        want.sort();
        assert_eq!(names, want, "src/core/lang/ must hold exactly one table per entry of LANGS");
        for (name, text) in &files {
            let lang = parse(text).unwrap_or_else(|e| panic!("{name}: {e:?}"));
            assert_eq!(format!("{}.json", lang.code()), *name, "{name}: its lang field names another language");
            for (k, _) in &ALL {
                assert!(!lang.get(*k).trim().is_empty(), "{name}: {} is blank", k.name());
            }
            // Nothing but the known names: a misspelt key would silently be ignored.
            let obj: serde_json::Value = serde_json::from_str(text).unwrap();
            for k in obj.as_object().unwrap().keys() {
                assert!(k == "lang" || Key::from_name(k).is_some(), "{name}: unknown text name {k}");
            }
        }
        for (i, (k, _)) in ALL.iter().enumerate() {
            assert_eq!(*k as usize, i);
            assert_eq!(Key::from_name(k.name()), Some(*k));
        }
        let en = Lang::english();
        assert_eq!(en.code(), "en");
        assert_eq!(en.get(Key::AcceptAll), "Accept all");
        for (k, _) in ALL {
            assert_eq!(en.get(k), table("en").get(k), "the compiled-in English (build.rs) is en.json");
        }
    }

    #[test]
    fn a_table_missing_a_text_or_its_language_is_refused() {
        let (_, de) = tables().into_iter().find(|(n, _)| n == "de.json").unwrap();
        assert_eq!(parse(&de).map(|l| l.code()).ok(), Some("de"));
        let without = de.replace("\"rejectAll\"", "\"rejectAlle\"");
        assert_ne!(without, de);
        assert_eq!(parse(&without).err(), Some(TableError::MissingText));
        let blank = de.replace("\"Alle ablehnen\"", "\"\"");
        assert_eq!(parse(&blank).err(), Some(TableError::MissingText));
        for code in ["\"xx\"", "\"\"", "1"] {
            let other = de.replace("\"de\"", code);
            assert_eq!(parse(&other).err(), Some(TableError::NotATable), "{code}");
        }
        assert_eq!(parse(&de.replace("\"de\"", "\"fr\"")).map(|l| l.code()).ok(), Some("fr"));
    }

    #[test]
    fn the_jcs_order_is_every_interface_text_sorted() {
        let mut want: Vec<&str> = ALL[..UI_TEXTS].iter().map(|(_, n)| *n).collect();
        want.sort();
        let have: Vec<&str> = JCS_ORDER.iter().map(|k| k.name()).collect();
        assert_eq!(have, want);
    }

    #[test]
    fn picks_language_by_primary_subtag() {
        assert_eq!(LANGS[pick_language(["pt-BR"])], "pt");
        assert_eq!(LANGS[pick_language(["ja", "de-AT", "fr"])], "de");
        assert_eq!(LANGS[pick_language(["ar"])], "en");
        assert_eq!(LANGS[pick_language([])], "en");
    }

    #[test]
    fn overrides_win_and_change_the_document() {
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
        assert_ne!(de.document(), en.document());
    }

    #[test]
    fn the_wording_document_is_jcs_and_unambiguous() {
        let c = config::parse(
            r#"{"policyVersion":"1","purposes":[{"id":"analytics","services":[{"name":"cs_id","lifetime":"13\nmonths"}]}],
               "texts":{"*":{"title":"Two\nlines \"quoted\" 🍪"}}}"#,
        )
        .unwrap();
        let en = Lang::english();
        let doc = Texts::new(&c, &en).document();
        // Re-canonicalised by an independent JCS implementation: the same bytes.
        let parsed: serde_json::Value = serde_json::from_str(&doc).expect("valid JSON");
        assert_eq!(serde_jcs::to_string(&parsed).unwrap(), doc);
        assert_eq!(parsed["texts"]["title"], "Two\nlines \"quoted\" 🍪");
        assert_eq!(parsed["purposes"][1]["services"][0]["lifetime"], "13\nmonths");
        assert_eq!(parsed["texts"].as_object().unwrap().len(), UI_TEXTS);
        // Moving a newline from one text to the next (which joined texts could not tell apart)
        // gives another document.
        let moved = config::parse(
            r#"{"policyVersion":"1","purposes":[{"id":"analytics","services":[{"name":"cs_id\n13","lifetime":"months"}]}],
               "texts":{"*":{"title":"Two\nlines \"quoted\" 🍪"}}}"#,
        )
        .unwrap();
        assert_ne!(Texts::new(&moved, &en).document(), doc);
    }
}
