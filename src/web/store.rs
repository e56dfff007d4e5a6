//! localStorage and cookies. Storage may be blocked (privacy settings, sandboxed frames) or full:
//! every call here survives that and says whether it worked; nothing here decides what to store.
use wasm_bindgen::JsCast;
use web_sys::{HtmlDocument, Storage};

/// The key of the visitor's consent record (strictly necessary: ePrivacy 5(3)).
pub const KEY: &str = "consentry";
/// Where a record that failed verification is kept aside.
pub const QUARANTINE: &str = "consentry:quarantine";

fn local() -> Option<Storage> {
    web_sys::window()?.local_storage().ok()?
}

pub fn read(key: &str) -> Option<String> {
    local()?.get_item(key).ok()?
}

/// Whether the value was stored.
pub fn write(key: &str, value: &str) -> bool {
    local().is_some_and(|s| s.set_item(key, value).is_ok())
}

pub fn remove(key: &str) {
    if let Some(s) = local() {
        let _ = s.remove_item(key);
    }
}

fn html() -> Option<HtmlDocument> {
    // A page's document is an HTMLDocument (where `cookie` lives).
    Some(web_sys::window()?.document()?.unchecked_into::<HtmlDocument>())
}

/// `document.cookie` ("" when cookies are blocked).
pub fn cookies() -> String {
    html().and_then(|d| d.cookie().ok()).unwrap_or_default()
}

/// Writes one `document.cookie` text (as the core composed it).
pub fn set_cookie(text: &str) {
    if let Some(d) = html() {
        let _ = d.set_cookie(text);
    }
}
