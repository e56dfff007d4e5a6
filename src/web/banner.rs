//! The banner, built with web-sys in one open shadow root: the first layer (a labelled
//! `<section>` with Accept all, Reject all and Customise, equal in size and colour), the
//! preferences (a modal `<dialog>` with one switch per purpose and the services table), the
//! persistent reopen button ("Privacy choices", or "Your Privacy Choices" with the CPRA opt-out
//! icon), and a polite live region that announces a saved choice.
//!
//! Owns: markup, roles, names and focus (into the dialog on open, back to its opener on close,
//! to the reopen button when the focused control goes away). Must never: decide anything (the
//! page controller asks the engine), put config text into HTML (text only), or pre-tick a switch
//! the visitor has not granted.
use crate::core::engine::Engine;
use crate::core::texts::Key;
use crate::web::dom::{document, el, focus, is_true, obj, prop, set_prop, svg, with_attrs};
use gloo_events::EventListener;
use wasm_bindgen::JsCast;
use web_sys::{Element, HtmlDialogElement, HtmlInputElement, Node, ShadowRoot};

/// The stylesheet, scoped to the shadow root and themable through `--consentry-*` properties.
const CSS: &str = include_str!("banner.css");

#[derive(Default)]
pub struct Banner {
    root: Option<ShadowRoot>,
    /// The first layer while it is shown.
    first: Option<Element>,
    dialog: Option<HtmlDialogElement>,
    reopen: Option<Element>,
    status: Option<Element>,
    /// What had focus when the preferences opened (focus goes back there on close).
    opener: Option<Element>,
    listeners: Vec<EventListener>,
}

impl Banner {
    /// The shadow root, made on first use: a host `<div id="consentry">` first in `<body>` (so
    /// keyboard users reach it early), the stylesheet (a constructed sheet, allowed by a strict
    /// `style-src` policy), the live region (present before it speaks) and one delegated click
    /// listener for every control.
    fn root(&mut self) -> ShadowRoot {
        if let Some(r) = &self.root {
            return r.clone();
        }
        let d = document();
        let host = d.create_element("div").unwrap_or_else(|_| wasm_bindgen::throw_str("Consentry: createElement"));
        let _ = host.set_attribute("id", "consentry");
        let _ = host.set_attribute("data-nosnippet", "");
        let html = obj::<Element>(&d, "documentElement");
        let parent: Node = match obj::<Node>(&d, "body") {
            Some(b) => b,
            None => html.clone().map(Node::from).unwrap_or_else(|| d.clone().into()),
        };
        let _ = parent.insert_before(&host, Some(prop(&parent, "firstChild").unchecked_ref()));
        let init = js_sys::Object::new();
        set_prop(&init, "mode", &"open".into());
        let root = host.attach_shadow(init.unchecked_ref()).unwrap_or_else(|_| wasm_bindgen::throw_str("Consentry: attachShadow"));
        if let Ok(sheet) = web_sys::CssStyleSheet::new() {
            let _ = sheet.replace_sync(CSS);
            let sheets = js_sys::Array::new();
            sheets.set(0, sheet.into());
            set_prop(&root, "adoptedStyleSheets", &sheets);
        }
        if html.and_then(|h| h.get_attribute("dir")).as_deref() == Some("rtl") {
            let _ = host.set_attribute("dir", "rtl");
        }
        self.status = Some(el(&root, "div|role=status|class=s", ""));
        self.listeners.push(crate::web::signals::on(&root, "click"));
        self.root = Some(root.clone());
        root
    }

    /// Shows the first layer: asking (Accept all / Reject all / Customise), or, as a `notice`
    /// after GPC decided for the visitor, saying so with Close / Customise.
    pub fn show(&mut self, e: &Engine, notice: bool) {
        self.hide_first();
        let r = self.root();
        let t = e.texts();
        let c = e.config();
        let _ = prop(&r, "host").unchecked_into::<Element>().set_attribute("lang", t.code()); // read aloud in its own language
        let class = if c.layout == "bar" { "b bar" } else { "b" };
        let b = with_attrs(el(&r, "section|aria-labelledby=ct|aria-describedby=cb", ""), &[("class", class)]);
        let words = el(&b, "div", "");
        el(&words, "h2|id=ct", t.get(Key::Title));
        match &c.privacy_policy_url {
            Some(url) => {
                let mut body = String::from(t.get(Key::Body));
                body.push(' ');
                let p = el(&words, "p|id=cb", &body);
                with_attrs(el(&p, "a", t.get(Key::PolicyLink)), &[("href", url)]);
            }
            None => {
                el(&words, "p|id=cb", t.get(Key::Body));
            }
        }
        if e.gpc_honoured() {
            el(&words, "p|class=n", t.get(Key::GpcHonoured));
        }
        let a = el(&b, "div|class=a", "");
        if notice {
            el(&a, "button|data-a=x", t.get(Key::Close));
        } else {
            el(&a, "button|data-a=accept", t.get(Key::AcceptAll));
            el(&a, "button|data-a=reject", t.get(Key::RejectAll));
        }
        el(&a, "button|data-a=prefs|class=o", t.get(Key::Customise));
        if c.ccpa {
            // CPRA: the opt-out link on the notice itself, with the opt-out icon.
            let l = el(&b, "button|data-a=prefs|class=l", "");
            icon(&l);
            el(&l, "span", t.get(Key::CcpaLink));
        }
        self.first = Some(b);
        self.show_reopen(e, false);
    }

    fn hide_first(&mut self) {
        if let Some(b) = self.first.take() {
            b.remove();
        }
    }

    /// The first layer goes; the reopen button stays available.
    pub fn hide(&mut self, e: &Engine) {
        self.hide_first();
        self.show_reopen(e, true);
    }

    fn show_reopen(&mut self, e: &Engine, show: bool) {
        let c = e.config();
        if c.reopen_button == "none" {
            return;
        }
        if self.reopen.is_none() && show {
            let class = if c.reopen_button == "bottom-right" { "o2 rt" } else { "o2" };
            let r = self.root();
            let b = with_attrs(el(&r, "button|data-a=prefs", ""), &[("class", class)]);
            let t = e.texts();
            if c.ccpa {
                icon(&b);
                el(&b, "span", t.get(Key::YourChoices));
            } else {
                b.set_text_content(Some(t.get(Key::Reopen)));
            }
            self.reopen = Some(b);
        }
        if let Some(b) = &self.reopen {
            set_prop(b, "hidden", &(!show).into());
        }
    }

    /// After a decision: the first layer goes, the dialog closes, the choice is announced, and
    /// focus moves somewhere that still exists.
    pub fn decided(&mut self, e: &Engine) {
        let inside = self.root.as_ref().is_some_and(|r| !crate::web::dom::prop(r, "activeElement").is_null());
        self.hide(e);
        match &self.dialog {
            Some(d) if is_true(d, "open") => d.close(), // its close event restores focus
            _ if inside => self.focus_fallback(),
            _ => {}
        }
        if let Some(s) = &self.status {
            s.set_text_content(None);
            s.set_text_content(Some(e.texts().get(Key::Saved)));
        }
    }

    /// The notice's Close: the first layer goes, focus to the reopen button.
    pub fn dismiss(&mut self, e: &Engine) {
        self.hide(e);
        self.focus_fallback();
    }

    fn focus_fallback(&self) {
        if let Some(b) = &self.reopen {
            focus(b);
        }
    }

    /// The dialog was closed (Escape, its × or a decision): focus back to what opened it.
    fn closed(&mut self) {
        match self.opener.take() {
            Some(o) if is_true(&o, "isConnected") => focus(&o),
            _ => self.focus_fallback(),
        }
    }

    pub fn close_dialog(&self) {
        if let Some(d) = &self.dialog {
            d.close();
        }
    }

    /// Opens the preferences (or draws them again while open) with focus on the first switch
    /// the visitor can change.
    pub fn show_preferences(&mut self, e: &Engine) {
        let r = self.root();
        let active = |o: &wasm_bindgen::JsValue| {
            Some(crate::web::dom::prop(o, "activeElement")).filter(|a| a.is_object()).map(JsCast::unchecked_into::<Element>)
        };
        let opener = active(&r).or_else(|| active(&document()));
        let dialog = match &self.dialog {
            Some(d) => {
                d.set_text_content(None);
                d.clone()
            }
            None => {
                let d: HtmlDialogElement = el(&r, "dialog|aria-labelledby=pt|aria-describedby=pb|aria-modal=true", "").unchecked_into();
                self.listeners.push(crate::web::signals::on(&d, "close"));
                self.dialog = Some(d.clone());
                d
            }
        };
        let t = e.texts();
        let h = el(&dialog, "div|class=h", "");
        el(&h, "h2|id=pt", t.get(Key::PrefsTitle));
        with_attrs(el(&h, "button|data-a=close|class=x", "×"), &[("aria-label", t.get(Key::Close))]);
        el(&dialog, "p|id=pb", t.get(Key::PrefsBody));
        if e.gpc_honoured() {
            el(&dialog, "p|class=n", t.get(Key::GpcHonoured));
        }
        let list = el(&dialog, "ul", "");
        for p in &e.config().purposes {
            let li = el(&list, "li", "");
            let row = el(&li, "label|class=r", "");
            let title = t.purpose(&p.id, false);
            let words = el(&row, "span", title);
            let desc = t.purpose(&p.id, true);
            let mut desc_id = String::from("d-");
            desc_id.push_str(&p.id);
            if !desc.is_empty() {
                with_attrs(el(&words, "p", desc), &[("id", &desc_id)]);
            }
            let input: HtmlInputElement =
                with_attrs(el(&row, "input|type=checkbox|role=switch", ""), &[("data-p", &p.id)]).unchecked_into();
            if !desc.is_empty() {
                let _ = input.set_attribute("aria-describedby", &desc_id);
            }
            let always = p.id == "necessary";
            if always {
                let _ = input.set_attribute("disabled", "");
                let mut label = String::from(title);
                label.push_str(": ");
                label.push_str(t.get(Key::AlwaysOn));
                let _ = input.set_attribute("aria-label", &label);
            }
            if always || e.granted(&p.id) {
                let _ = input.set_attribute("checked", ""); // a new switch: its default state
            }
            if !p.services.is_empty() {
                let det = el(&li, "details", "");
                el(&det, "summary", t.get(Key::Services));
                let table = el(&det, "table", "");
                let head = el(&table, "tr", "");
                for k in [Key::Name, Key::Provider, Key::PurposeCol, Key::Lifetime] {
                    el(&head, "th|scope=col", t.get(k));
                }
                for s in &p.services {
                    let row = el(&table, "tr", "");
                    el(&row, "th|scope=row", &s.name);
                    for v in [&s.provider, &s.purpose, &s.lifetime] {
                        el(&row, "td", v);
                    }
                }
            }
        }
        let a = el(&dialog, "div|class=a", "");
        el(&a, "button|data-a=accept", t.get(Key::AcceptAll));
        el(&a, "button|data-a=reject", t.get(Key::RejectAll));
        el(&a, "button|data-a=save|class=o", t.get(Key::Save));
        let dl = el(&dialog, "p|class=dl", "");
        el(&dl, "a|href=#|data-a=dl|role=button", t.get(Key::Download));
        if !is_true(&dialog, "open") {
            self.opener = opener;
            let _ = dialog.show_modal();
        }
        if let Ok(Some(first)) = dialog.query_selector("input:not([disabled])") {
            focus(&first);
        }
    }

    /// The switches' states in the preferences: (purpose id, on).
    pub fn switches(&self) -> Vec<(String, bool)> {
        let mut out = Vec::new();
        let Some(d) = &self.dialog else { return out };
        for input in crate::web::dom::all(d, "input[data-p]") {
            out.push((input.get_attribute("data-p").unwrap_or_default(), is_true(&input, "checked")));
        }
        out
    }
}

/// The dialog's close event (routed through the page controller, which owns the banner).
pub fn on_closed(b: &mut Banner) {
    b.closed();
}

/// The CPRA opt-out icon (a toggle: a tick on white, a cross on blue), hidden from screen
/// readers because the text beside it says the same.
fn icon(parent: &Element) {
    let s = svg(parent, "svg|viewBox=0 0 30 14|width=30|height=14|aria-hidden=true|class=i");
    for shape in [
        "rect|x=.5|y=.5|width=29|height=13|rx=6.5|fill=#fff|stroke=#0066ff",
        "path|d=M15 .5h8a6.5 6.5 0 0 1 0 13h-11z|fill=#0066ff",
        "path|d=M5 7.2l2.4 2.4 4.4-5|stroke=#0066ff|stroke-width=1.8|fill=none",
        "path|d=M19 4.2l5.6 5.6m0-5.6l-5.6 5.6|stroke=#fff|stroke-width=1.8",
    ] {
        svg(&s, shape);
    }
}
