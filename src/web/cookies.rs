//! The tracker cookie `cs_id` in `document.cookie`: read, (re)write, delete on every variant.
//!
//! Owns the only cookie the module sets. Never writes it unless the tracker runs (its purpose is
//! granted); `delete` removes it host-only and on every Domain it may have been set with.
#[allow(unused_imports)]
use crate::prelude::*;
use super::dom;
use crate::core::tracker::{cookie_domains, cookie_text, cookie_value, is_uuid, COOKIE};

fn all() -> String {
    dom::text(&dom::document(), "cookie").unwrap_or_default()
}

fn set(text: &str) {
    dom::set(&dom::document(), "cookie", &dom::s(text));
}

fn location(key: &str) -> String {
    dom::text(&dom::get(&dom::window(), "location"), key).unwrap_or_default()
}

fn secure() -> bool {
    location("protocol") == "https:"
}

/// The stored distinct id, when there is a well-formed one.
pub fn read_id() -> Option<String> {
    let c = all();
    cookie_value(&c, COOKIE).filter(|v| is_uuid(v)).map(String::from)
}

/// Sets (or refreshes) the cookie: `SameSite=Lax`, `Secure` on https, `Path=/`, `Max-Age` days.
pub fn write_id(id: &str, days: i64, domain: Option<&str>) {
    set(&cookie_text(id, days * 86_400, domain, secure()));
}

/// Deletes the cookie on every variant: host-only, the configured domain, the host and each of
/// its parent domains (all with `Path=/`, the only path it is ever set with). Writes nothing
/// when no `cs_id` cookie is visible.
pub fn delete(configured: Option<&str>) {
    if cookie_value(&all(), COOKIE).is_none() {
        return;
    }
    let secure = secure();
    set(&cookie_text("", 0, None, secure));
    for d in cookie_domains(&location("hostname"), configured) {
        set(&cookie_text("", 0, Some(&d), secure));
    }
}
