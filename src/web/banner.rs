//! The banner's DOM: the first layer, the preferences dialog, the reopen button, announcements.
//!
//! Everything lives in one shadow root, so the host page's styles cannot break the banner and
//! the banner's cannot leak out; the styles are a constructed stylesheet, which a strict
//! `style-src 'self'` CSP allows. Owns focus: the dialog is a native modal `<dialog>` (focus
//! trap, Escape), and focus goes back to where it came from. Never decides anything itself:
//! clicks become `app::decide` calls.
#[allow(unused_imports)]
use crate::prelude::*;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{Element, HtmlDialogElement, HtmlInputElement, ShadowRoot};

use super::app::{self, App};
use super::dom::{self, el};
use crate::core::consent;
use crate::core::evidence::Method;
use crate::core::texts::{Key, Texts};

const CSS: &str = include_str!("banner.css");

#[derive(Default)]
pub struct Ui {
    root: Option<ShadowRoot>,
    banner: Option<Element>,
    dialog: Option<HtmlDialogElement>,
    reopen: Option<Element>,
    status: Option<Element>,
    /// Where focus was before the dialog opened.
    opener: Option<web_sys::HtmlElement>,
}

impl Ui {
    pub fn new() -> Self {
        Ui::default()
    }

    /// The shadow root, created on first use as the first child of `<body>` so keyboard users
    /// reach the banner early.
    fn root(&mut self) -> ShadowRoot {
        if let Some(r) = &self.root {
            return r.clone();
        }
        let doc = dom::document();
        let body = doc.body().unwrap_throw();
        let host = doc.create_element("div").unwrap_throw();
        let _ = host.set_attribute("id", "consentry");
        let _ = host.set_attribute("data-nosnippet", "");
        let _ = body.insert_before(&host, body.first_child().as_ref());
        let root = host.attach_shadow(&web_sys::ShadowRootInit::new(web_sys::ShadowRootMode::Open)).unwrap_throw();
        if let Ok(sheet) = web_sys::CssStyleSheet::new() {
            let _ = sheet.replace_sync(CSS);
            root.set_adopted_style_sheets(&js_sys::Array::of1(&sheet));
        }
        let dir = doc.document_element().and_then(|e| e.get_attribute("dir")).unwrap_or_default();
        if dir == "rtl" {
            let _ = host.set_attribute("dir", "rtl");
        }
        // Polite announcements need a live region that exists before its text changes.
        self.status = Some(el(&root, "div", &[("role", "status"), ("class", "s")], ""));
        let _ = root.add_event_listener_with_callback("click", dom::listener(on_click).unchecked_ref());
        self.root = Some(root.clone());
        root
    }

    /// The first layer. `notice` is the GPC note shown when nothing needs asking.
    pub fn show_banner(&mut self, app: &App, notice: bool) {
        self.hide_banner(app);
        let root = self.root();
        // Screen readers pronounce the banner in its own language, whatever the page's.
        let _ = root.host().set_attribute("lang", Texts::new(&app.config, app.lang).code());
        let t = Texts::new(&app.config, app.lang);
        let cls = if app.config.layout == "bar" { "b bar" } else { "b" };
        let b = el(&root, "section", &[("class", cls), ("aria-labelledby", "ct"), ("aria-describedby", "cb")], "");
        let text = el(&b, "div", &[], "");
        el(&text, "h2", &[("id", "ct")], t.get(Key::Title));
        let p = el(&text, "p", &[("id", "cb")], t.get(Key::Body));
        if let Some(url) = &app.config.privacy_policy_url {
            p.append_with_str_1(" ").ok();
            el(&p, "a", &[("href", url)], t.get(Key::PolicyLink));
        }
        if app.gpc_honoured {
            el(&text, "p", &[("class", "n")], t.get(Key::GpcHonoured));
        }
        let a = el(&b, "div", &[("class", "a")], "");
        if notice {
            el(&a, "button", &[("data-a", "x")], t.get(Key::Close));
        } else {
            el(&a, "button", &[("data-a", "accept")], t.get(Key::AcceptAll));
            el(&a, "button", &[("data-a", "reject")], t.get(Key::RejectAll));
        }
        el(&a, "button", &[("data-a", "prefs"), ("class", "o")], t.get(Key::Customise));
        if app.config.ccpa {
            // CPRA: the opt-out link on the notice itself, with the opt-out icon.
            let l = el(&b, "button", &[("data-a", "prefs"), ("class", "l")], "");
            opt_out_icon(&l);
            el(&l, "span", &[], t.get(Key::CcpaLink));
        }
        self.banner = Some(b);
        self.show_reopen(app, false);
    }

    pub fn hide_banner(&mut self, app: &App) {
        if let Some(b) = self.banner.take() {
            b.remove();
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
            let cls = if pos == "bottom-right" { "o2 rt" } else { "o2" };
            let r = el(&root, "button", &[("data-a", "prefs"), ("class", cls)], "");
            if app.config.ccpa {
                opt_out_icon(&r);
                el(&r, "span", &[], t.get(Key::YourChoices));
            } else {
                r.set_text_content(Some(t.get(Key::Reopen)));
            }
            self.reopen = Some(r);
        }
        if let Some(r) = &self.reopen {
            let _ = r.toggle_attribute_with_force("hidden", !show);
        }
    }

    /// After a decision: the first layer goes, the dialog closes, the choice is announced, and
    /// focus moves somewhere that still exists.
    pub fn decided(&mut self, app: &App) {
        let focus_was_inside = self.root.as_ref().and_then(|r| r.active_element()).is_some();
        self.hide_banner(app);
        if let Some(d) = &self.dialog {
            if d.open() {
                d.close(); // the close handler restores focus
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
            let _ = dom::html(r).focus();
        }
    }

    pub fn announce(&self, text: &str) {
        if let Some(s) = &self.status {
            s.set_text_content(None);
            s.set_text_content(Some(text));
        }
    }

    /// The second layer, built fresh so it shows the current state; a native modal dialog.
    pub fn show_preferences(&mut self, app: &App) {
        let root = self.root();
        let opener = root
            .active_element()
            .or_else(|| dom::document().active_element())
            .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok());
        let d = match &self.dialog {
            Some(d) => {
                d.set_text_content(None);
                d.clone()
            }
            None => {
                let d: HtmlDialogElement =
                    el(&root, "dialog", &[("aria-labelledby", "pt"), ("aria-describedby", "pb"), ("aria-modal", "true")], "")
                    .unchecked_into();
                let _ = d.add_event_listener_with_callback("close", dom::listener(on_close).unchecked_ref());
                self.dialog = Some(d.clone());
                d
            }
        };
        let t = Texts::new(&app.config, app.lang);
        let h = el(&d, "div", &[("class", "h")], "");
        el(&h, "h2", &[("id", "pt")], t.get(Key::PrefsTitle));
        el(&h, "button", &[("data-a", "close"), ("class", "x"), ("aria-label", t.get(Key::Close))], "×");
        el(&d, "p", &[("id", "pb")], t.get(Key::PrefsBody));
        if app.gpc_honoured {
            el(&d, "p", &[("class", "n")], t.get(Key::GpcHonoured));
        }
        let list = el(&d, "ul", &[], "");
        for p in &app.config.purposes {
            let li = el(&list, "li", &[], "");
            let row = el(&li, "label", &[("class", "r")], "");
            let words = el(&row, "span", &[], t.purpose(&p.id, false));
            let desc = t.purpose(&p.id, true);
            let mut desc_id = String::from("d-");
            desc_id.push_str(&p.id);
            if !desc.is_empty() {
                el(&words, "p", &[("id", &desc_id)], desc);
            }
            let input: HtmlInputElement =
                el(&row, "input", &[("type", "checkbox"), ("role", "switch"), ("data-p", &p.id)], "").unchecked_into();
            if !desc.is_empty() {
                let _ = input.set_attribute("aria-describedby", &desc_id);
            }
            if p.id == "necessary" {
                input.set_checked(true);
                input.set_disabled(true);
                let _ = input.set_attribute("aria-label", &{
                    let mut s = String::from(t.purpose(&p.id, false));
                    s.push_str(": ");
                    s.push_str(t.get(Key::AlwaysOn));
                    s
                });
            } else {
                input.set_checked(consent::granted(&app.effective, &p.id));
            }
            if !p.services.is_empty() {
                services(&li, p, &t);
            }
        }
        let a = el(&d, "div", &[("class", "a")], "");
        el(&a, "button", &[("data-a", "accept")], t.get(Key::AcceptAll));
        el(&a, "button", &[("data-a", "reject")], t.get(Key::RejectAll));
        el(&a, "button", &[("data-a", "save"), ("class", "o")], t.get(Key::Save));
        let dl = el(&d, "p", &[("class", "dl")], "");
        el(&dl, "a", &[("href", "#"), ("data-a", "dl"), ("role", "button")], t.get(Key::Download));
        if !d.open() {
            self.opener = opener;
            let _ = d.show_modal();
        }
        // Focus the first switch the visitor can change, not a decision button.
        if let Ok(Some(first)) = d.query_selector("input:not([disabled])") {
            let _ = dom::html(&first).focus();
        }
    }

    fn restore_focus(&mut self) {
        match self.opener.take() {
            Some(o) if o.is_connected() => {
                let _ = o.focus();
            }
            _ => self.focus_fallback(),
        }
    }

    /// The switches' current positions, as requested choices.
    fn switches(&self) -> consent::Choices {
        let mut out = Vec::new();
        if let Some(d) = &self.dialog {
            if let Ok(list) = d.query_selector_all("input[data-p]") {
                for i in 0..list.length() {
                    if let Some(input) = list.get(i).and_then(|n| n.dyn_into::<HtmlInputElement>().ok()) {
                        out.push((input.get_attribute("data-p").unwrap_or_default(), input.checked()));
                    }
                }
            }
        }
        out
    }
}

fn services(li: &Element, p: &crate::core::config::Purpose, t: &Texts) {
    let det = el(li, "details", &[], "");
    el(&det, "summary", &[], t.get(Key::Services));
    let table = el(&det, "table", &[], "");
    let head = el(&table, "tr", &[], "");
    for h in [t.get(Key::Name), t.get(Key::Provider), t.get(Key::PurposeCol), t.get(Key::Lifetime)] {
        el(&head, "th", &[("scope", "col")], h);
    }
    for s in &p.services {
        let tr = el(&table, "tr", &[], "");
        el(&tr, "th", &[("scope", "row")], &s.name);
        for v in [&s.provider, &s.purpose, &s.lifetime] {
            el(&tr, "td", &[], v);
        }
    }
}

/// The CPRA opt-out icon (a toggle: a tick on white, a cross on blue), drawn here, hidden from
/// screen readers because the text beside it says the same.
fn opt_out_icon(parent: &Element) {
    const NS: &str = "http://www.w3.org/2000/svg";
    let doc = dom::document();
    let Ok(svg) = doc.create_element_ns(Some(NS), "svg") else { return };
    for (k, v) in [("viewBox", "0 0 30 14"), ("width", "30"), ("height", "14"), ("aria-hidden", "true"), ("class", "i")] {
        let _ = svg.set_attribute(k, v);
    }
    let shapes: [(&str, &[(&str, &str)]); 4] = [
        ("rect", &[("x", ".5"), ("y", ".5"), ("width", "29"), ("height", "13"), ("rx", "6.5"), ("fill", "#fff"), ("stroke", "#0066ff")]),
        ("path", &[("d", "M15 .5h8a6.5 6.5 0 0 1 0 13h-11z"), ("fill", "#0066ff")]),
        ("path", &[("d", "M5 7.2l2.4 2.4 4.4-5"), ("stroke", "#0066ff"), ("stroke-width", "1.8"), ("fill", "none")]),
        ("path", &[("d", "M19 4.2l5.6 5.6m0-5.6l-5.6 5.6"), ("stroke", "#fff"), ("stroke-width", "1.8")]),
    ];
    for (tag, attrs) in shapes {
        if let Ok(e) = doc.create_element_ns(Some(NS), tag) {
            for (k, v) in attrs {
                let _ = e.set_attribute(k, v);
            }
            let _ = svg.append_child(&e);
        }
    }
    let _ = parent.append_child(&svg);
}

fn on_close(_: JsValue) {
    app::with(|app| app.ui.restore_focus());
}

/// One delegated listener for every button in the shadow root.
fn on_click(ev: JsValue) {
    let ev: web_sys::Event = ev.unchecked_into();
    let Some(target) = ev.target().and_then(|t| t.dyn_into::<Element>().ok()) else { return };
    let Ok(Some(btn)) = target.closest("[data-a]") else { return };
    let action = btn.get_attribute("data-a").unwrap_or_default();
    match action.as_str() {
        "accept" => app::decide_all(true),
        "reject" => app::decide_all(false),
        "save" => {
            let choices = app::with(|app| app.ui.switches()).unwrap_or_default();
            app::decide(choices, Method::Custom);
        }
        "prefs" => show_preferences(),
        "close" => {
            app::with(|app| {
                if let Some(d) = &app.ui.dialog {
                    d.close();
                }
            });
        }
        "x" => {
            app::with(|app| {
                app.ui(|ui, app| {
                    ui.hide_banner(app);
                    ui.focus_fallback();
                })
            });
        }
        "dl" => {
            ev.prevent_default();
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
    let parts = js_sys::Array::of1(&JsValue::from_str(&json));
    let opts = web_sys::BlobPropertyBag::new();
    opts.set_type("application/json");
    let Ok(blob) = web_sys::Blob::new_with_str_sequence_and_options(&parts, &opts) else { return };
    let Ok(url) = web_sys::Url::create_object_url_with_blob(&blob) else { return };
    let a = dom::document().create_element("a").unwrap_throw();
    let _ = a.set_attribute("href", &url);
    let _ = a.set_attribute("download", "consent-record.json");
    dom::html(&a).click();
    let _ = web_sys::Url::revoke_object_url(&url);
}
