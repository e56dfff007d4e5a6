//! One browser session: Debian's Chromium in a fresh profile, driven over the DevTools protocol
//! (chromiumoxide), with everything the page stores and sends recorded as it happens.
//!
//! Owns: launching and closing Chromium, the flags it runs with, the probe script and binding
//! (which script wrote a cookie or a key), the network and storage event log, waiting for the
//! network to settle, making the choice (Consentry's API, a control by accessible name, a
//! selector, a script), and turning the log into a [`Phase`]. Must never: decide what is a finding,
//! reuse a profile between sessions, or leave a Chromium process behind.
use crate::model::{CookieRecord, FrameRecord, IdbRecord, Phase, RequestRecord, SetBy, StorageRecord};
use crate::site::{host_of_url, party, site_of_host, site_of_url};
use crate::trackers;
use anyhow::{anyhow, bail, Context, Result};
use chromiumoxide::cdp::browser_protocol::accessibility::GetFullAxTreeParams;
use chromiumoxide::cdp::browser_protocol::dom::{BackendNodeId, GetContentQuadsParams, ResolveNodeParams, ScrollIntoViewIfNeededParams};
use chromiumoxide::cdp::browser_protocol::dom_storage::{
    self, EventDomStorageItemAdded, EventDomStorageItemRemoved, EventDomStorageItemUpdated, EventDomStorageItemsCleared, StorageId,
};
use chromiumoxide::cdp::browser_protocol::network::{
    EventLoadingFailed, EventLoadingFinished, EventRequestWillBeSent, EventResponseReceived, EventResponseReceivedExtraInfo, Headers,
    SetExtraHttpHeadersParams,
};
use chromiumoxide::cdp::browser_protocol::page::{
    AddScriptToEvaluateOnNewDocumentParams, CaptureScreenshotFormat, EventFrameNavigated, NavigateParams,
};
use chromiumoxide::cdp::js_protocol::runtime::{AddBindingParams, CallFunctionOnParams, EvaluateParams, EventBindingCalled};
use chromiumoxide::handler::viewport::Viewport;
use chromiumoxide::page::ScreenshotParams;
use chromiumoxide::{Browser, BrowserConfig, Page};
use futures::StreamExt;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};
use tokio::task::JoinHandle;

/// Now, in seconds since the Unix epoch (the clock cookie expiries are given in).
fn wall_secs() -> f64 {
    SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0)
}

/// A request unanswered for this long no longer keeps the network from settling.
const LONG_REQUEST: Duration = Duration::from_secs(3);

/// The CDP binding the probe reports through.
const BINDING: &str = "__consentryScanProbe";

/// How a session's Chromium is started.
#[derive(Debug, Clone)]
pub struct Launch {
    pub chromium: PathBuf,
    /// Extra Chromium flags (`--host-resolver-rules=…`), as given.
    pub extra_args: Vec<String>,
    /// Send Global Privacy Control (`Sec-GPC: 1`, `navigator.globalPrivacyControl`).
    pub gpc: bool,
    /// Longest wait for a page to load.
    pub load_timeout: Duration,
    /// Longest wait for the network to go quiet after a load or a choice.
    pub settle_timeout: Duration,
}

/// The flags every session runs with: headless, no first-run or background traffic, and every
/// frame in one renderer (site isolation off) so that the page's session sees the network and
/// storage events of cross-site iframes too.
fn flags(extra: &[String]) -> Vec<String> {
    let mut v: Vec<String> = [
        "disable-gpu",
        "disable-quic",
        "no-first-run",
        "no-default-browser-check",
        "disable-background-networking",
        "disable-component-update",
        "disable-sync",
        "disable-breakpad",
        "disable-default-apps",
        "disable-dev-shm-usage",
        "disable-site-isolation-trials",
        "disable-features=IsolateOrigins,site-per-process,Translate,OptimizationHints,MediaRouter",
        "password-store=basic",
        "use-mock-keychain",
        "mute-audio",
        "hide-scrollbars",
        "log-level=3",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    v.extend(extra.iter().map(|a| a.trim_start_matches('-').to_string()));
    v
}

/// What one request looked like when it was sent.
#[derive(Debug, Clone)]
struct Req {
    url: String,
    method: String,
    kind: String,
    initiator: SetBy,
    after_action: bool,
}

/// Everything the session saw, filled by the event tasks.
#[derive(Default)]
struct Log {
    requests: Vec<Req>,
    /// Requests sent and not yet answered, with when they were sent.
    inflight: HashMap<String, Instant>,
    /// Requests that finished or failed; the event tasks run apart, so a request's end can be
    /// handled before its start.
    ended: std::collections::HashSet<String>,
    last_activity: Option<Instant>,
    /// (request id) → URLs in order (redirects keep the id).
    urls_by_id: HashMap<String, String>,
    /// Who set each cookie name, in the order seen (last wins), and for a response its request id
    /// (its URL is looked up at the end: the request's own event may come later).
    cookie_setters: Vec<(String, SetBy, Option<String>, f64)>,
    /// (kind, origin, name) → who, from the probe; kind is `local`, `session` or `idb`.
    probe_writes: Vec<(String, String, String, SetBy)>,
    /// (origin, is_local, key) → still there.
    storage: Vec<(String, bool, String, bool)>,
    frames: Vec<(String, bool)>,
    /// Status of each document response by URL (the page's own is read after navigation).
    doc_status: HashMap<String, u16>,
    acted: bool,
}

impl Log {
    fn touch(&mut self) {
        self.last_activity = Some(Instant::now());
    }

    fn storage_set(&mut self, origin: &str, local: bool, key: &str, present: bool) {
        match self.storage.iter_mut().find(|(o, l, k, _)| o == origin && *l == local && k == key) {
            Some(e) => e.3 = present,
            None => self.storage.push((origin.to_string(), local, key.to_string(), present)),
        }
    }
}

fn storage_origin(id: &StorageId) -> String {
    if let Some(o) = &id.security_origin {
        return o.clone();
    }
    // A storage key is the origin, sometimes followed by `^…` partition data.
    id.storage_key.as_ref().map(|k| k.inner().split('^').next().unwrap_or("").trim_end_matches('/').to_string()).unwrap_or_default()
}

/// Names of the cookies a response's raw headers set (`set-cookie`, one per line).
pub fn set_cookie_names(headers: &serde_json::Value) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(map) = headers.as_object() {
        for (k, v) in map {
            if !k.eq_ignore_ascii_case("set-cookie") {
                continue;
            }
            for line in v.as_str().unwrap_or("").lines() {
                if let Some((name, _)) = line.split_once('=') {
                    let name = name.trim();
                    if !name.is_empty() && !name.contains(';') {
                        out.push(name.to_string());
                    }
                }
            }
        }
    }
    out
}

/// The cookie name of a `Set-Cookie` line.
fn cookie_line_name(line: &str) -> &str {
    line.split(';').next().unwrap_or("").split('=').next().unwrap_or("").trim()
}

fn initiator_of(ev: &EventRequestWillBeSent) -> SetBy {
    let i = &ev.initiator;
    let kind = i.r#type.as_ref().to_string();
    // The innermost frame of the stack with a URL names the script; else the initiator's URL.
    let mut url = None;
    let mut line = None;
    let mut stack = i.stack.as_ref();
    while let Some(st) = stack {
        if let Some(f) = st.call_frames.iter().find(|f| !f.url.is_empty()) {
            url = Some(f.url.clone());
            line = Some(f.line_number as u32 + 1);
            break;
        }
        stack = st.parent.as_deref();
    }
    if url.is_none() {
        url = i.url.clone().filter(|u| !u.is_empty());
        line = i.line_number.map(|l| l as u32 + 1);
    }
    SetBy { kind, url, line }
}

/// A running browser with one page, recording.
pub struct Session {
    browser: Browser,
    page: Page,
    log: Arc<Mutex<Log>>,
    tasks: Vec<JoinHandle<()>>,
    handler: JoinHandle<()>,
    profile: Option<tempfile::TempDir>,
    launch: Launch,
    pub version: String,
}

macro_rules! listen {
    ($page:expr, $tasks:expr, $log:expr, $ty:ty, |$l:ident, $ev:ident| $body:block) => {{
        let mut stream = $page.event_listener::<$ty>().await.context(concat!("listening to ", stringify!($ty)))?;
        let log = Arc::clone(&$log);
        $tasks.push(tokio::spawn(async move {
            while let Some($ev) = stream.next().await {
                let mut guard = log.lock().unwrap_or_else(|p| p.into_inner());
                let $l: &mut Log = &mut guard;
                $body
            }
        }));
    }};
}

impl Session {
    /// Starts Chromium in a fresh profile with one blank page that records everything.
    pub async fn start(launch: &Launch) -> Result<Session> {
        let profile =
            tempfile::Builder::new().prefix("consentry-scan-profile-").tempdir().context("creating a temporary browser profile")?;
        let config = BrowserConfig::builder()
            .chrome_executable(&launch.chromium)
            .new_headless_mode()
            .no_sandbox()
            .disable_default_args()
            .user_data_dir(profile.path())
            .window_size(1280, 800)
            .viewport(Viewport {
                width: 1280,
                height: 800,
                device_scale_factor: Some(1.0),
                emulating_mobile: false,
                is_landscape: true,
                has_touch: false,
            })
            .launch_timeout(Duration::from_secs(30))
            .request_timeout(Duration::from_secs(30))
            .args(flags(&launch.extra_args))
            .build()
            .map_err(|e| anyhow!("configuring Chromium: {e}"))?;
        let (browser, mut handler) = Browser::launch(config).await.with_context(|| format!("starting {}", launch.chromium.display()))?;
        let handler = tokio::spawn(async move { while handler.next().await.is_some() {} });
        let version = browser.version().await.map(|v| v.product).unwrap_or_else(|_| "Chromium (version unknown)".into());
        let page = browser.new_page("about:blank").await.context("opening a page")?;

        let log = Arc::new(Mutex::new(Log::default()));
        let mut tasks = Vec::new();
        listen!(page, tasks, log, EventRequestWillBeSent, |l, ev| {
            let url = ev.request.url.clone();
            let id = ev.request_id.inner().clone();
            if url.starts_with("http") && !l.ended.contains(&id) {
                l.inflight.entry(id.clone()).or_insert_with(Instant::now);
            }
            l.urls_by_id.insert(id, url.clone());
            let kind = ev.r#type.as_ref().map(|t| t.as_ref().to_string()).unwrap_or_else(|| "Other".into());
            let req = Req { url, method: ev.request.method.clone(), kind, initiator: initiator_of(&ev), after_action: l.acted };
            l.requests.push(req);
            l.touch();
        });
        listen!(page, tasks, log, EventLoadingFinished, |l, ev| {
            l.inflight.remove(ev.request_id.inner());
            l.ended.insert(ev.request_id.inner().clone());
            l.touch();
        });
        listen!(page, tasks, log, EventLoadingFailed, |l, ev| {
            l.inflight.remove(ev.request_id.inner());
            l.ended.insert(ev.request_id.inner().clone());
            l.touch();
        });
        listen!(page, tasks, log, EventResponseReceived, |l, ev| {
            // Headers are in: the request no longer holds the settle (streams and keep-alive
            // POSTs may never report their end).
            l.inflight.remove(ev.request_id.inner());
            l.ended.insert(ev.request_id.inner().clone());
            if ev.r#type.as_ref() == "Document" {
                l.doc_status.insert(ev.response.url.clone(), ev.response.status as u16);
            }
            l.touch();
        });
        listen!(page, tasks, log, EventResponseReceivedExtraInfo, |l, ev| {
            let id = ev.request_id.inner().clone();
            let blocked: Vec<&str> = ev.blocked_cookies.iter().map(|b| cookie_line_name(&b.cookie_line)).collect();
            let headers: &Headers = &ev.headers;
            for name in set_cookie_names(headers.inner()) {
                if !blocked.contains(&name.as_str()) {
                    l.cookie_setters.push((name, SetBy { kind: "response".into(), url: None, line: None }, Some(id.clone()), wall_secs()));
                }
            }
        });
        listen!(page, tasks, log, EventFrameNavigated, |l, ev| {
            let f = &ev.frame;
            if f.parent_id.is_some() {
                l.frames.push((f.url.clone(), true));
            }
        });
        listen!(page, tasks, log, EventBindingCalled, |l, ev| {
            if ev.name == BINDING {
                if let Ok(v) = serde_json::from_str::<serde_json::Value>(&ev.payload) {
                    let s = |k: &str| v.get(k).and_then(|x| x.as_str()).unwrap_or("").to_string();
                    let by = SetBy {
                        kind: "script".into(),
                        url: v.get("u").and_then(|x| x.as_str()).map(String::from),
                        line: v.get("l").and_then(|x| x.as_u64()).map(|n| n as u32),
                    };
                    let (kind, name) = (s("k"), s("n"));
                    if kind == "cookie" {
                        l.cookie_setters.push((name, by, None, wall_secs()));
                    } else {
                        l.probe_writes.push((kind, s("o"), name, by));
                    }
                }
            }
        });
        listen!(page, tasks, log, EventDomStorageItemAdded, |l, ev| {
            l.storage_set(&storage_origin(&ev.storage_id), ev.storage_id.is_local_storage, &ev.key, true);
        });
        listen!(page, tasks, log, EventDomStorageItemUpdated, |l, ev| {
            l.storage_set(&storage_origin(&ev.storage_id), ev.storage_id.is_local_storage, &ev.key, true);
        });
        listen!(page, tasks, log, EventDomStorageItemRemoved, |l, ev| {
            l.storage_set(&storage_origin(&ev.storage_id), ev.storage_id.is_local_storage, &ev.key, false);
        });
        listen!(page, tasks, log, EventDomStorageItemsCleared, |l, ev| {
            let (o, local) = (storage_origin(&ev.storage_id), ev.storage_id.is_local_storage);
            for e in l.storage.iter_mut().filter(|e| e.0 == o && e.1 == local) {
                e.3 = false;
            }
        });

        page.execute(dom_storage::EnableParams::default()).await.context("DOMStorage.enable")?;
        page.execute(AddBindingParams::new(BINDING)).await.context("Runtime.addBinding")?;
        let mut probe = include_str!("probe.js").replace("__BINDING__", BINDING);
        if launch.gpc {
            probe.push_str("\ntry{Object.defineProperty(Navigator.prototype,'globalPrivacyControl',{configurable:true,enumerable:true,get:function(){return true;}});}catch(e){}\n");
            let headers = Headers::new(serde_json::json!({ "Sec-GPC": "1" }));
            page.execute(SetExtraHttpHeadersParams::new(headers)).await.context("Network.setExtraHTTPHeaders")?;
        }
        page.execute(AddScriptToEvaluateOnNewDocumentParams::new(probe)).await.context("adding the probe script")?;

        Ok(Session { browser, page, log, tasks, handler, profile: Some(profile), launch: launch.clone(), version })
    }

    /// Navigates to `url` and waits for the load event; the document's HTTP status, or an error
    /// when the page could not be loaded at all.
    pub async fn open(&self, url: &str) -> Result<u16> {
        let nav = self.page.execute(NavigateParams::new(url)).await.with_context(|| format!("navigating to {url}"))?;
        if let Some(e) = nav.result.error_text.as_ref().filter(|e| !e.is_empty()) {
            bail!("{url} could not be loaded: {e}");
        }
        let started = Instant::now();
        loop {
            let state = self.eval("document.readyState").await.unwrap_or_default();
            if state.as_str() == Some("complete") {
                break;
            }
            if started.elapsed() > self.launch.load_timeout {
                bail!("{url} did not finish loading within {} s", self.launch.load_timeout.as_secs());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let final_url = self.eval("location.href").await?.as_str().unwrap_or(url).to_string();
        let log = self.log.lock().unwrap_or_else(|p| p.into_inner());
        let status = log.doc_status.get(&final_url).or_else(|| log.doc_status.get(url)).copied();
        // A document served from the cache or by a service worker may have no response event.
        Ok(status.unwrap_or(200))
    }

    /// Evaluates an expression in the page (promises awaited); its value as JSON.
    pub async fn eval(&self, expr: &str) -> Result<serde_json::Value> {
        let mut p = EvaluateParams::new(expr);
        p.await_promise = Some(true);
        p.return_by_value = Some(true);
        p.user_gesture = Some(true);
        let r = self.page.execute(p).await.context("Runtime.evaluate")?;
        if let Some(ex) = &r.result.exception_details {
            let text = ex.exception.as_ref().and_then(|e| e.description.clone()).unwrap_or_else(|| ex.text.clone());
            bail!("{text}");
        }
        Ok(r.result.result.value.clone().unwrap_or(serde_json::Value::Null))
    }

    /// Waits until no request has been in flight for `quiet`, at most the settle timeout.
    /// Returns false when it gave up.
    pub async fn settle(&self) -> bool {
        let quiet = Duration::from_millis(600);
        let started = Instant::now();
        let mut calm_since = Instant::now();
        loop {
            tokio::time::sleep(Duration::from_millis(100)).await;
            let (busy, last) = {
                let l = self.log.lock().unwrap_or_else(|p| p.into_inner());
                // A request unanswered for longer than LONG_REQUEST is a long poll, a stream or a
                // beacon whose end the protocol never reports: it does not hold the settle.
                (l.inflight.values().any(|t| t.elapsed() < LONG_REQUEST), l.last_activity)
            };
            if busy {
                calm_since = Instant::now();
            }
            let since_activity = last.map(|t| t.elapsed()).unwrap_or(quiet);
            if !busy && calm_since.elapsed() >= quiet && since_activity >= quiet {
                return true;
            }
            if started.elapsed() > self.launch.settle_timeout {
                if std::env::var_os("CONSENTRY_SCAN_DEBUG").is_some() {
                    let l = self.log.lock().unwrap_or_else(|p| p.into_inner());
                    let waiting: Vec<&String> = l.inflight.keys().filter_map(|id| l.urls_by_id.get(id)).collect();
                    eprintln!("settle gave up; in flight: {waiting:?}; last activity {:?} ago", l.last_activity.map(|t| t.elapsed()));
                }
                return false;
            }
        }
    }

    /// Scrolls to the bottom in steps (lazy content loads), then back to the top, and settles.
    pub async fn scroll(&self) -> bool {
        for step in 1..=4 {
            let js = format!("window.scrollTo(0, Math.max(document.body ? document.body.scrollHeight : 0, document.documentElement.scrollHeight) * {step} / 4)");
            let _ = self.eval(&js).await;
            tokio::time::sleep(Duration::from_millis(150)).await;
        }
        let _ = self.eval("window.scrollTo(0, 0)").await;
        self.settle().await
    }

    pub async fn screenshot(&self) -> Result<Vec<u8>> {
        self.page.screenshot(ScreenshotParams::builder().format(CaptureScreenshotFormat::Png).build()).await.context("taking a screenshot")
    }

    /// Saves a screenshot of the current page to `path`.
    pub async fn screenshot_to(&self, path: &Path) -> Result<()> {
        let png = self.screenshot().await?;
        std::fs::write(path, png).with_context(|| format!("writing {}", path.display()))
    }

    /// Marks the moment of the phase's action: requests from now on are "after".
    pub fn mark_action(&self) {
        self.log.lock().unwrap_or_else(|p| p.into_inner()).acted = true;
    }

    /// Whether `window.Consentry.<method>` is a function in the page.
    pub async fn has_api(&self, method: &str) -> bool {
        let js = format!("!!(window.Consentry && typeof window.Consentry.{method} === 'function')");
        self.eval(&js).await.ok().and_then(|v| v.as_bool()).unwrap_or(false)
    }

    /// Finds a button or link whose accessible name says "accept" (in the languages Consentry
    /// ships), in the document and its shadow roots, through Chromium's accessibility tree.
    /// Returns its name and its DOM node.
    pub async fn find_accept_control(&self) -> Result<Option<(String, BackendNodeId)>> {
        let tree = self.page.execute(GetFullAxTreeParams::default()).await.context("Accessibility.getFullAXTree")?;
        let mut best: Option<(usize, String, BackendNodeId)> = None;
        for n in &tree.result.nodes {
            if n.ignored {
                continue;
            }
            let role = n.role.as_ref().and_then(|r| r.value.as_ref()).and_then(|v| v.as_str()).unwrap_or("");
            if role != "button" && role != "link" {
                continue;
            }
            let name = n.name.as_ref().and_then(|r| r.value.as_ref()).and_then(|v| v.as_str()).unwrap_or("");
            let (Some(rank), Some(id)) = (accept_rank(name), n.backend_dom_node_id) else {
                continue;
            };
            if best.as_ref().is_none_or(|b| rank < b.0) {
                best = Some((rank, name.trim().to_string(), id));
            }
        }
        Ok(best.map(|(_, name, id)| (name, id)))
    }

    /// Clicks a DOM node the way a visitor would: scrolled into view, a real mouse click at its
    /// centre; falls back to `element.click()` when it has no box.
    pub async fn click_node(&self, id: BackendNodeId) -> Result<()> {
        let _ = self.page.execute(ScrollIntoViewIfNeededParams::builder().backend_node_id(id).build()).await;
        let quads = self.page.execute(GetContentQuadsParams::builder().backend_node_id(id).build()).await;
        if let Some(q) = quads.ok().and_then(|q| q.result.quads.first().cloned()) {
            let p = q.inner();
            if p.len() >= 8 {
                let x = (p[0] + p[2] + p[4] + p[6]) / 4.0;
                let y = (p[1] + p[3] + p[5] + p[7]) / 4.0;
                self.page.click(chromiumoxide::layout::Point { x, y }).await.context("clicking")?;
                return Ok(());
            }
        }
        let obj = self.page.execute(ResolveNodeParams::builder().backend_node_id(id).build()).await.context("DOM.resolveNode")?;
        let oid = obj.result.object.object_id.clone().context("the control has no JavaScript object")?;
        let call = CallFunctionOnParams::builder()
            .function_declaration("function () { this.click(); }")
            .object_id(oid)
            .build()
            .map_err(|e| anyhow!("{e}"))?;
        self.page.execute(call).await.context("clicking the control")?;
        Ok(())
    }

    /// Clicks the first element matching a CSS selector, in the document or an open shadow root.
    pub async fn click_selector(&self, selector: &str) -> Result<()> {
        let sel = serde_json::to_string(selector)?;
        let js = format!(
            "(() => {{ const sel = {sel}; const find = (root) => {{ const hit = root.querySelector(sel); if (hit) return hit; \
             for (const el of root.querySelectorAll('*')) {{ if (el.shadowRoot) {{ const h = find(el.shadowRoot); if (h) return h; }} }} return null; }}; \
             const el = find(document); if (!el) return false; el.scrollIntoView({{block: 'center'}}); el.click(); return true; }})()"
        );
        match self.eval(&js).await?.as_bool() {
            Some(true) => Ok(()),
            _ => bail!("no element matches --accept {selector:?}"),
        }
    }

    /// Everything recorded, as a phase of a page at `page_url`.
    pub async fn snapshot(&self, page_url: &str) -> Result<Phase> {
        let page_site = site_of_url(page_url).unwrap_or_default();
        let cookies = self.browser.get_cookies().await.context("reading the cookie jar")?;
        let origin = self.eval("location.origin").await.ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default();
        // The page's own storage as it is now (ground truth for the main frame).
        let local_now =
            self.eval("(() => { try { return Object.keys(localStorage); } catch (e) { return []; } })()").await.unwrap_or_default();
        let session_now =
            self.eval("(() => { try { return Object.keys(sessionStorage); } catch (e) { return []; } })()").await.unwrap_or_default();
        let dbs = self
            .eval("(async () => { try { return (await indexedDB.databases()).map(d => d.name); } catch (e) { return []; } })()")
            .await
            .unwrap_or_default();
        let now = wall_secs();

        let mut log = self.log.lock().unwrap_or_else(|p| p.into_inner());
        let names = |v: &serde_json::Value| -> Vec<String> {
            v.as_array().map(|a| a.iter().filter_map(|x| x.as_str().map(String::from)).collect()).unwrap_or_default()
        };
        for k in names(&local_now) {
            log.storage_set(&origin, true, &k, true);
        }
        for k in names(&session_now) {
            log.storage_set(&origin, false, &k, true);
        }
        // Keys of the page's origin that events said exist but the page no longer has.
        let (ln, sn) = (names(&local_now), names(&session_now));
        for e in log.storage.iter_mut().filter(|e| e.0 == origin) {
            if e.3 && !(if e.1 { &ln } else { &sn }).contains(&e.2) {
                e.3 = false;
            }
        }

        // Who set a cookie, and when (its lifetime counts from then).
        let setter = |name: &str| -> (SetBy, f64) {
            match log.cookie_setters.iter().rev().find(|(n, ..)| n == name) {
                Some((_, b, Some(id), t)) => (SetBy { url: log.urls_by_id.get(id).cloned(), ..b.clone() }, *t),
                Some((_, b, None, t)) => (b.clone(), *t),
                None => (SetBy::unknown(), now),
            }
        };
        let mut phase = Phase { ran: true, ..Phase::default() };
        for c in &cookies {
            let expires = (!c.session && c.expires > 0.0).then_some(c.expires);
            let (set_by, set_at) = setter(&c.name);
            phase.cookies.push(CookieRecord {
                name: c.name.clone(),
                domain: c.domain.clone(),
                path: c.path.clone(),
                expires: expires
                    .map(|e| humantime::format_rfc3339_seconds(SystemTime::UNIX_EPOCH + Duration::from_secs_f64(e)).to_string()),
                lifetime_days: expires.map(|e| ((e - set_at) / 86400.0 * 10000.0).round() / 10000.0),
                same_site: c.same_site.as_ref().map(|s| s.as_ref().to_string()),
                secure: c.secure,
                http_only: c.http_only,
                party: party(&site_of_host(&c.domain), &page_site),
                set_by,
                tracker: trackers::by_cookie(&c.name).map(|t| t.to_ref()),
            });
        }
        phase.cookies.sort_by(|a, b| (&a.domain, &a.name).cmp(&(&b.domain, &b.name)));

        let probe_by = |kind: &str, origin: &str, key: &str| -> SetBy {
            log.probe_writes
                .iter()
                .rev()
                .find(|(k, o, n, _)| k == kind && o == origin && n == key)
                .map(|w| w.3.clone())
                .unwrap_or_else(SetBy::unknown)
        };
        for (o, local, key, present) in &log.storage {
            let area = if *local { "local" } else { "session" };
            phase.storage.push(StorageRecord {
                area: area.into(),
                origin: o.clone(),
                key: key.clone(),
                present: *present,
                party: party(&site_of_url(o).unwrap_or_default(), &page_site),
                set_by: probe_by(area, o, key),
                tracker: trackers::by_storage(key).map(|t| t.to_ref()),
            });
        }

        let mut db_seen: Vec<(String, String)> = names(&dbs).into_iter().map(|n| (origin.clone(), n)).collect();
        // Opened by a script: kept when it still exists (the page's origin, whose list is read
        // above) or when it belongs to another frame's origin (which cannot be listed from here).
        for (k, o, n, _) in &log.probe_writes {
            if k == "idb" && *o != origin && !db_seen.contains(&(o.clone(), n.clone())) {
                db_seen.push((o.clone(), n.clone()));
            }
        }
        for (o, n) in db_seen {
            phase.indexeddb.push(IdbRecord {
                party: party(&site_of_url(&o).unwrap_or_default(), &page_site),
                set_by: probe_by("idb", &o, &n),
                tracker: trackers::by_storage(&n).map(|t| t.to_ref()),
                origin: o,
                name: n,
            });
        }

        for r in &log.requests {
            let Some(site) = site_of_url(&r.url) else {
                continue;
            };
            let p = party(&site, &page_site);
            let tracker = trackers::by_url(&r.url);
            if p == crate::model::Party::First && tracker.is_none() {
                continue;
            }
            phase.requests.push(RequestRecord {
                url: r.url.clone(),
                host: host_of_url(&r.url),
                party: p,
                kind: r.kind.clone(),
                method: r.method.clone(),
                initiator: r.initiator.clone(),
                tracker: tracker.map(|t| t.to_ref()),
                after_action: r.after_action,
            });
        }
        let mut seen = Vec::new();
        for (url, _) in &log.frames {
            let Some(site) = site_of_url(url) else {
                continue;
            };
            if seen.contains(url) {
                continue;
            }
            seen.push(url.clone());
            phase.iframes.push(FrameRecord {
                url: url.clone(),
                party: party(&site, &page_site),
                tracker: trackers::by_url(url).map(|t| t.to_ref()),
            });
        }
        log.touch();
        Ok(phase)
    }

    /// Closes Chromium, waits for it to exit, and removes the profile.
    pub async fn close(mut self) {
        let _ = tokio::time::timeout(Duration::from_secs(5), self.browser.close()).await;
        if tokio::time::timeout(Duration::from_secs(5), self.browser.wait()).await.is_err() {
            let _ = self.browser.kill().await;
        }
        for t in &self.tasks {
            t.abort();
        }
        self.handler.abort();
        if let Some(p) = self.profile.take() {
            let _ = p.close();
        }
    }
}

/// The words that mean "accept", best first (English, then the other languages Consentry ships).
const ACCEPT_NAMES: &[&str] = &[
    "accept all",
    "accept all cookies",
    "allow all",
    "allow all cookies",
    "accept",
    "accept cookies",
    "i accept",
    "agree",
    "i agree",
    "agree and close",
    "agree & close",
    "allow",
    "allow cookies",
    "ok",
    "got it",
    "alle akzeptieren",
    "akzeptieren",
    "alle zulassen",
    "zustimmen",
    "tout accepter",
    "accepter",
    "j'accepte",
    "aceptar todo",
    "aceptar todas",
    "aceptar",
    "accetta tutto",
    "accetta tutti",
    "accetta",
    "alles accepteren",
    "accepteren",
    "aceitar tudo",
    "aceitar todos",
    "aceitar",
    "zaakceptuj wszystkie",
    "akceptuj wszystkie",
    "akceptuj",
];

/// Where an accessible name stands in [`ACCEPT_NAMES`] (lower is better), None when it is not one.
pub fn accept_rank(name: &str) -> Option<usize> {
    let n: String = name.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase();
    let n = n.trim_end_matches(['.', '!']);
    ACCEPT_NAMES.iter().position(|a| *a == n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_names() {
        assert_eq!(accept_rank("Accept all"), Some(0));
        assert_eq!(accept_rank("  ACCEPT\n all "), Some(0));
        assert!(accept_rank("Accept").unwrap() > accept_rank("Allow all").unwrap());
        assert!(accept_rank("Alle akzeptieren").is_some());
        assert_eq!(accept_rank("Reject all"), None);
        assert_eq!(accept_rank("Accept all and subscribe to our newsletter"), None);
    }

    #[test]
    fn set_cookie_headers() {
        let h = serde_json::json!({"Content-Type": "text/html", "set-cookie": "a=1; Path=/\nb_2=x; Max-Age=3; HttpOnly\nbroken"});
        assert_eq!(set_cookie_names(&h), vec!["a", "b_2"]);
        assert_eq!(cookie_line_name("sid=abc; Secure"), "sid");
    }

    #[test]
    fn flags_keep_the_required_ones_and_add_the_callers() {
        let f = flags(&["--host-resolver-rules=MAP *.test 127.0.0.1".into()]);
        for need in
            ["disable-gpu", "disable-quic", "no-first-run", "disable-background-networking", "disable-component-update", "disable-sync"]
        {
            assert!(f.iter().any(|a| a == need), "{need}");
        }
        assert_eq!(f.last().map(String::as_str), Some("host-resolver-rules=MAP *.test 127.0.0.1"));
    }
}
