//! The banner's DOM: the first layer, the preferences dialog, the reopen button, announcements.
//!
//! Everything lives in one shadow root, so the host page's styles cannot break the banner and
//! the banner's cannot leak out; the styles are a constructed stylesheet, which a strict
//! `style-src 'self'` CSP allows. Owns focus: the dialog is a native modal `<dialog>` (focus
//! trap, Escape), and focus goes back to where it came from. Never decides anything itself:
//! clicks become `app::decide` calls.
#[allow(unused_imports)]
use crate::prelude::*;
use wasm_bindgen::JsValue;

use super::app::{self, App};
use super::dom::{self, el, s, set_attr, U};
use crate::core::consent;
use crate::core::evidence::Method;
use crate::core::texts::{Key, Texts};

const CSS: &str = include_str!("banner.css");

#[derive(Default)]
pub struct Ui {
    root: Option<JsValue>,
    banner: Option<JsValue>,
    dialog: Option<JsValue>,
    reopen: Option<JsValue>,
    status: Option<JsValue>,
    /// Where focus was before the dialog opened.
    opener: Option<JsValue>,
}

/// `target.name()`: a method without arguments.
fn m(target: &JsValue, name: &str) {
    let _ = dom::call(target, name, &U, &U);
}

fn is(target: &JsValue, key: &str) -> bool {
    dom::get(target, key) == JsValue::TRUE
}

impl Ui {
    pub fn new() -> Self {
        Ui::default()
    }

    /// The shadow root, created on first use as the first child of `<body>` so keyboard users
    /// reach the banner early.
    fn root(&mut self) -> JsValue {
        if let Some(r) = &self.root {
            return r.clone();
        }
        let doc: JsValue = dom::document().into();
        let body = dom::get(&doc, "body");
        let host = dom::create("div", None);
        set_attr(&host, "id", "consentry");
        set_attr(&host, "data-nosnippet", "");
        let _ = dom::call(&body, "insertBefore", &host, &dom::get(&body, "firstChild"));
        let root = dom::run(&host, "attachShadow", &dom::json(r#"{"mode":"open"}"#), &U);
        if let Ok(sheet) = dom::construct("CSSStyleSheet", &U, &U) {
            let _ = dom::call(&sheet, "replaceSync", &s(CSS), &U);
            dom::set(&root, "adoptedStyleSheets", &dom::array1(&sheet));
        }
        if dom::attr(&dom::get(&doc, "documentElement"), "dir").as_deref() == Some("rtl") {
            set_attr(&host, "dir", "rtl");
        }
        // Polite announcements need a live region that exists before its text changes.
        self.status = Some(el(&root, "div|role=status|class=s", "").into());
        dom::listen(&root, "click", on_click);
        self.root = Some(root.clone());
        root
    }

    /// The first layer. `notice` is the GPC note shown when nothing needs asking.
    pub fn show_banner(&mut self, app: &App, notice: bool) {
        self.hide_banner(app);
        let root = self.root();
        // Screen readers pronounce the banner in its own language, whatever the page's.
        set_attr(&dom::get(&root, "host"), "lang", Texts::new(&app.config, app.lang).code());
        let t = Texts::new(&app.config, app.lang);
        let spec = if app.config.layout == "bar" {
            "section|class=b bar|aria-labelledby=ct|aria-describedby=cb"
        } else {
            "section|class=b|aria-labelledby=ct|aria-describedby=cb"
        };
        let b = el(&root, spec, "");
        let text = el(&b, "div", "");
        el(&text, "h2|id=ct", t.get(Key::Title));
        let p = el(&text, "p|id=cb", t.get(Key::Body));
        if let Some(url) = &app.config.privacy_policy_url {
            let _ = dom::call(&p, "insertAdjacentText", &s("beforeend"), &s(" "));
            set_attr(&el(&p, "a", t.get(Key::PolicyLink)), "href", url);
        }
        if app.gpc_honoured {
            el(&text, "p|class=n", t.get(Key::GpcHonoured));
        }
        let a = el(&b, "div|class=a", "");
        if notice {
            el(&a, "button|data-a=x", t.get(Key::Close));
        } else {
            el(&a, "button|data-a=accept", t.get(Key::AcceptAll));
            el(&a, "button|data-a=reject", t.get(Key::RejectAll));
        }
        el(&a, "button|data-a=prefs|class=o", t.get(Key::Customise));
        if app.config.ccpa {
            // CPRA: the opt-out link on the notice itself, with the opt-out icon.
            let l = el(&b, "button|data-a=prefs|class=l", "");
            opt_out_icon(&l);
            el(&l, "span", t.get(Key::CcpaLink));
        }
        self.banner = Some(b.into());
        self.show_reopen(app, false);
    }

    pub fn hide_banner(&mut self, app: &App) {
        if let Some(b) = self.banner.take() {
            m(&b, "remove");
        }
        self.show_reopen(app, true);
    }

    fn show_reopen(&mut self, app: &App, show: bool) {
        let pos = app.config.reopen_button.as_str();
        if pos == "none" {
            return;
        }
        if self.reopen.is_none() && show {
            let root = self.root();
            let t = Texts::new(&app.config, app.lang);
            let spec = if pos == "bottom-right" { "button|data-a=prefs|class=o2 rt" } else { "button|data-a=prefs|class=o2" };
            let r = el(&root, spec, "");
            if app.config.ccpa {
                opt_out_icon(&r);
                el(&r, "span", t.get(Key::YourChoices));
            } else {
                dom::set_text(&r, t.get(Key::Reopen));
            }
            self.reopen = Some(r.into());
        }
        if let Some(r) = &self.reopen {
            let _ = dom::call(r, "toggleAttribute", &s("hidden"), &JsValue::from_bool(!show));
        }
    }

    /// After a decision: the first layer goes, the dialog closes, the choice is announced, and
    /// focus moves somewhere that still exists.
    pub fn decided(&mut self, app: &App) {
        let focus_was_inside = self.root.as_ref().is_some_and(|r| dom::get(r, "activeElement").is_object());
        self.hide_banner(app);
        if let Some(d) = &self.dialog {
            if is(d, "open") {
                m(d, "close"); // the close handler restores focus
            } else if focus_was_inside {
                self.focus_fallback();
            }
        }
        if self.dialog.is_none() && focus_was_inside {
            self.focus_fallback();
        }
        self.announce(Texts::new(&app.config, app.lang).get(Key::Saved));
    }

    fn focus_fallback(&self) {
        if let Some(r) = &self.reopen {
            m(r, "focus");
        }
    }

    pub fn announce(&self, text: &str) {
        if let Some(s) = &self.status {
            dom::set_text(s, "");
            dom::set_text(s, text);
        }
    }

    /// The second layer, built fresh so it shows the current state; a native modal dialog.
    pub fn show_preferences(&mut self, app: &App) {
        let root = self.root();
        let mut opener = dom::get(&root, "activeElement");
        if !opener.is_object() {
            opener = dom::get(&dom::document(), "activeElement");
        }
        let d = match &self.dialog {
            Some(d) => {
                dom::set_text(d, "");
                d.clone()
            }
            None => {
                let d: JsValue =
                    el(&root, "dialog|aria-labelledby=pt|aria-describedby=pb|aria-modal=true", "")
                        .into();
                dom::listen(&d, "close", on_close);
                self.dialog = Some(d.clone());
                d
            }
        };
        let t = Texts::new(&app.config, app.lang);
        let h = el(&d, "div|class=h", "");
        el(&h, "h2|id=pt", t.get(Key::PrefsTitle));
        set_attr(&el(&h, "button|data-a=close|class=x", "×"), "aria-label", t.get(Key::Close));
        el(&d, "p|id=pb", t.get(Key::PrefsBody));
        if app.gpc_honoured {
            el(&d, "p|class=n", t.get(Key::GpcHonoured));
        }
        let list = el(&d, "ul", "");
        for p in &app.config.purposes {
            let li = el(&list, "li", "");
            let row = el(&li, "label|class=r", "");
            let words = el(&row, "span", t.purpose(&p.id, false));
            let desc = t.purpose(&p.id, true);
            let mut desc_id = String::from("d-");
            desc_id.push_str(&p.id);
            if !desc.is_empty() {
                set_attr(&el(&words, "p", desc), "id", &desc_id);
            }
            let input = el(&row, "input|type=checkbox|role=switch", "");
            set_attr(&input, "data-p", &p.id);
            if !desc.is_empty() {
                set_attr(&input, "aria-describedby", &desc_id);
            }
            let on = p.id == "necessary";
            if on {
                dom::set(&input, "disabled", &JsValue::TRUE);
                set_attr(&input, "aria-label", &{
                    let mut s = String::from(t.purpose(&p.id, false));
                    s.push_str(": ");
                    s.push_str(t.get(Key::AlwaysOn));
                    s
                });
            }
            dom::set(&input, "checked", &JsValue::from_bool(on || consent::granted(&app.effective, &p.id)));
            if !p.services.is_empty() {
                services(&li, p, &t);
            }
        }
        let a = el(&d, "div|class=a", "");
        el(&a, "button|data-a=accept", t.get(Key::AcceptAll));
        el(&a, "button|data-a=reject", t.get(Key::RejectAll));
        el(&a, "button|data-a=save|class=o", t.get(Key::Save));
        let dl = el(&d, "p|class=dl", "");
        el(&dl, "a|href=#|data-a=dl|role=button", t.get(Key::Download));
        if !is(&d, "open") {
            self.opener = Some(opener).filter(JsValue::is_object);
            m(&d, "showModal");
        }
        // Focus the first switch the visitor can change, not a decision button.
        m(&dom::run(&d, "querySelector", &s("input:not([disabled])"), &U), "focus");
    }

    fn restore_focus(&mut self) {
        match self.opener.take() {
            Some(o) if is(&o, "isConnected") => m(&o, "focus"),
            _ => self.focus_fallback(),
        }
    }

    /// The switches' current positions, as requested choices.
    fn switches(&self) -> consent::Choices {
        let mut out = Vec::new();
        if let Some(d) = &self.dialog {
            let list = dom::run(d, "querySelectorAll", &s("input[data-p]"), &U);
            for i in 0..dom::len(&list) {
                let input = dom::at(&list, i);
                out.push((dom::attr(&input, "data-p").unwrap_or_default(), is(&input, "checked")));
            }
        }
        out
    }
}

fn services(li: &JsValue, p: &crate::core::config::Purpose, t: &Texts) {
    let det = el(li, "details", "");
    el(&det, "summary", t.get(Key::Services));
    let table = el(&det, "table", "");
    let head = el(&table, "tr", "");
    for h in [t.get(Key::Name), t.get(Key::Provider), t.get(Key::PurposeCol), t.get(Key::Lifetime)] {
        el(&head, "th|scope=col", h);
    }
    for s in &p.services {
        let tr = el(&table, "tr", "");
        el(&tr, "th|scope=row", &s.name);
        for v in [&s.provider, &s.purpose, &s.lifetime] {
            el(&tr, "td", v);
        }
    }
}

/// The CPRA opt-out icon (a toggle: a tick on white, a cross on blue), drawn here, hidden from
/// screen readers because the text beside it says the same.
fn opt_out_icon(parent: &JsValue) {
    const SHAPES: [&str; 5] = [
        "svg|viewBox=0 0 30 14|width=30|height=14|aria-hidden=true|class=i",
        "rect|x=.5|y=.5|width=29|height=13|rx=6.5|fill=#fff|stroke=#0066ff",
        "path|d=M15 .5h8a6.5 6.5 0 0 1 0 13h-11z|fill=#0066ff",
        "path|d=M5 7.2l2.4 2.4 4.4-5|stroke=#0066ff|stroke-width=1.8|fill=none",
        "path|d=M19 4.2l5.6 5.6m0-5.6l-5.6 5.6|stroke=#fff|stroke-width=1.8",
    ];
    // The shapes go into the first element, the <svg>.
    let mut svg = parent.clone();
    for (i, spec) in SHAPES.iter().enumerate() {
        let e: JsValue = dom::make(spec, Some("http://www.w3.org/2000/svg")).into();
        dom::append(&svg, &e);
        if i == 0 {
            svg = e;
        }
    }
}

fn on_close(_: JsValue) {
    app::with(|app| app.ui.restore_focus());
}

/// One delegated listener for every button in the shadow root.
fn on_click(ev: JsValue) {
    let btn = dom::run(&dom::get(&ev, "target"), "closest", &s("[data-a]"), &U);
    if !btn.is_object() {
        return;
    }
    // The actions' first letters differ (accept, reject, save, prefs, close, x, dl), and only
    // this file writes `data-a`: one byte tells them apart without comparing strings.
    let action = dom::attr(&btn, "data-a").unwrap_or_default();
    match action.bytes().next().unwrap_or(0) {
        b'a' => app::decide_all(true),
        b'r' => app::decide_all(false),
        b's' => {
            let choices = app::with(|app| app.ui.switches()).unwrap_or_default();
            app::decide(choices, Method::Custom);
        }
        b'p' => show_preferences(),
        b'c' => {
            app::with(|app| {
                if let Some(d) = &app.ui.dialog {
                    m(d, "close");
                }
            });
        }
        b'x' => {
            app::with(|app| {
                app.ui(|ui, app| {
                    ui.hide_banner(app);
                    ui.focus_fallback();
                })
            });
        }
        b'd' => {
            m(&ev, "preventDefault");
            download();
        }
        _ => {}
    }
}

pub fn show_preferences() {
    app::with(|app| app.ui(|ui, app| ui.show_preferences(app)));
}

/// Offers the visitor's own consent record as a JSON file.
fn download() {
    let Some(json) = app::with(|app| app.log.export_json()) else { return };
    let opts = dom::json(r#"{"type":"application/json"}"#);
    let Ok(blob) = dom::construct("Blob", &dom::array1(&s(&json)), &opts) else {
        return;
    };
    let urls = dom::get(&dom::window(), "URL");
    let url = dom::run(&urls, "createObjectURL", &blob, &U);
    let Some(href) = url.as_string() else { return };
    let a = dom::create("a", None);
    set_attr(&a, "href", &href);
    set_attr(&a, "download", "consent-record.json");
    m(&a, "click");
    let _ = dom::call(&urls, "revokeObjectURL", &url, &U);
}
