//! localStorage and cookies. Storage may be blocked (privacy settings, sandboxed frames) or full:
//! every call here survives that and says whether it worked; nothing here decides what to store.
use wasm_bindgen::JsCast;
use web_sys::{HtmlDocument, Storage};

/// The key of the visitor's consent record (strictly necessary: ePrivacy 5(3)).
pub const KEY: &str = "consentry";
/// Where a record that failed verification is kept aside.
pub const QUARANTINE: &str = "consentry:quarantine";

/// localStorage (`tab`: false) or this tab's sessionStorage (`tab`: true), when the browser lets
/// the page use it.
fn area(tab: bool) -> Option<Storage> {
    // Reading the property throws where storage is blocked: then there is none.
    let w = crate::web::dom::window()?;
    crate::web::dom::obj(&w, if tab { "sessionStorage" } else { "localStorage" })
}

fn local() -> Option<Storage> {
    area(false)
}

pub fn read(key: &str) -> Option<String> {
    local()?.get_item(key).ok()?
}

/// Whether the value was stored.
pub fn write(key: &str, value: &str) -> bool {
    local().is_some_and(|s| s.set_item(key, value).is_ok())
}

pub fn remove(key: &str) {
    remove_in(false, key);
}

/// sessionStorage, this tab's own.
pub fn tab_read(key: &str) -> Option<String> {
    area(true)?.get_item(key).ok()?
}

pub fn tab_write(key: &str, value: &str) {
    if let Some(s) = area(true) {
        let _ = s.set_item(key, value);
    }
}

pub fn remove_in(tab: bool, key: &str) {
    if let Some(s) = area(tab) {
        let _ = s.remove_item(key);
    }
}

/// The keys in localStorage or sessionStorage.
pub fn keys(tab: bool) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(s) = area(tab) {
        let keys = js_sys::Object::keys::<wasm_bindgen::JsValue>(s.unchecked_ref());
        for i in 0..keys.length() {
            out.extend(keys.get(i).as_string());
        }
    }
    out
}

/// The names of the cookies the page can see.
pub fn cookie_names() -> Vec<String> {
    let all = cookies();
    let mut out = Vec::new();
    let mut rest = all.as_str();
    while !rest.is_empty() {
        let (c, more) = crate::core::cut(rest, b';').unwrap_or((rest, ""));
        let name = crate::core::trim_spaces(crate::core::before(c, b'='));
        if !name.is_empty() {
            out.push(String::from(name));
        }
        rest = more;
    }
    out
}

fn html() -> Option<HtmlDocument> {
    // A page's document is an HTMLDocument (where `cookie` lives).
    let w = crate::web::dom::window()?;
    crate::web::dom::obj(&w, "document")
}

/// `document.cookie` ("" when cookies are blocked).
pub fn cookies() -> String {
    html().map(|d| crate::web::dom::prop_text(&d, "cookie")).unwrap_or_default()
}

/// Writes one `document.cookie` text (as the core composed it).
pub fn set_cookie(text: &str) {
    if let Some(d) = html() {
        crate::web::dom::set_prop(&d, "cookie", &text.into());
    }
}
