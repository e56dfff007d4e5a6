//! A scan: the pages to visit (start URLs, then same-site links), the three phases of each, the
//! progress line, and the report that comes of it.
//!
//! Owns: the order of the steps inside each phase and which way of accepting or withdrawing is
//! used. Must never: reuse a browser profile between phases (each phase is a fresh [`Session`]),
//! or turn a page that cannot be loaded into anything but an error (start URL) or a noted,
//! skipped page (followed link).
use crate::browser::{Launch, Session};
use crate::findings::{self, Allowed};
use crate::model::{Options, PageReport, Phase, Report, Summary, SCHEMA, SCHEMA_VERSION};
use crate::site::{same_site_http, site_of_url};
use anyhow::{bail, Result};
use std::collections::{HashMap, VecDeque};
use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};
use url::Url;

/// What the person asked for.
#[derive(Debug, Clone)]
pub struct Plan {
    pub urls: Vec<String>,
    /// Pages per start URL, the start URL included.
    pub pages: usize,
    pub accept: Option<String>,
    pub withdraw: Option<String>,
    pub allowed: Allowed,
    /// Longest wait for the page to offer a way to accept.
    pub wait: Duration,
    pub launch: Launch,
}

/// A start URL that cannot be scanned: the scan stops with exit code 2.
#[derive(Debug)]
pub struct Unreachable(pub String);

impl std::fmt::Display for Unreachable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
impl std::error::Error for Unreachable {}

/// The report and the screenshots it names (file name → PNG).
pub struct Outcome {
    pub report: Report,
    pub shots: HashMap<String, Vec<u8>>,
}

fn progress(line: &str) {
    let mut e = std::io::stderr();
    let _ = writeln!(e, "{line}");
    let _ = e.flush();
}

/// Loads `url` in a fresh session and waits for the network to settle.
async fn load(launch: &Launch, url: &str) -> Result<(Session, u16)> {
    let s = Session::start(launch).await?;
    match s.open(url).await {
        Ok(status) => {
            s.settle().await;
            Ok((s, status))
        }
        Err(e) => {
            s.close().await;
            Err(e)
        }
    }
}

/// Makes the "accept" choice; the way it was made, or None when the page offers none.
async fn accept(s: &Session, plan: &Plan) -> Result<Option<String>> {
    let started = Instant::now();
    loop {
        if let Some(sel) = &plan.accept {
            if s.click_selector(sel).await.is_ok() {
                return Ok(Some(format!("selector {sel}")));
            }
        } else if s.has_api("acceptAll").await {
            s.eval("window.Consentry.acceptAll()").await?;
            return Ok(Some("consentry-api: window.Consentry.acceptAll()".into()));
        } else if let Some((name, node)) = s.find_accept_control().await? {
            s.click_node(node).await?;
            return Ok(Some(format!("accessible-name: {name:?}")));
        }
        if started.elapsed() >= plan.wait {
            return Ok(None);
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Makes the "withdraw" choice; the way it was made, or None when there is none.
async fn withdraw(s: &Session, plan: &Plan) -> Result<Option<String>> {
    if let Some(js) = &plan.withdraw {
        s.eval(js).await.map_err(|e| anyhow::anyhow!("--withdraw script failed: {e}"))?;
        return Ok(Some("script (--withdraw)".into()));
    }
    if s.has_api("rejectAll").await {
        s.eval("window.Consentry.rejectAll()").await?;
        return Ok(Some("consentry-api: window.Consentry.rejectAll()".into()));
    }
    Ok(None)
}

fn failed_phase(note: String) -> Phase {
    Phase { ran: false, notes: vec![note], ..Phase::default() }
}

/// The three phases of one page. Err only when the page itself cannot be loaded.
async fn scan_page(
    plan: &Plan,
    url: &str,
    index: usize,
    links: &mut Vec<String>,
    shots: &mut HashMap<String, Vec<u8>>,
    version: &mut String,
) -> Result<PageReport> {
    let l = &plan.launch;
    // 1. Before any choice.
    let (s, status) = load(l, url).await?;
    if version.is_empty() {
        *version = s.version.clone();
    }
    if status >= 400 {
        s.close().await;
        bail!("{url} answered HTTP {status}");
    }
    let mut before_notes = Vec::new();
    let shot_name = format!("page{}-before.png", index + 1);
    let shot = match s.screenshot().await {
        Ok(png) => {
            shots.insert(shot_name.clone(), png);
            Some(shot_name)
        }
        Err(e) => {
            before_notes.push(format!("no screenshot: {e:#}"));
            None
        }
    };
    if !s.scroll().await {
        before_notes.push(format!("the network did not go quiet within {} s", l.settle_timeout.as_secs()));
    }
    let found = s
        .eval("Array.from(document.querySelectorAll('a[href]'), a => a.href)")
        .await
        .ok()
        .and_then(|v| v.as_array().cloned())
        .unwrap_or_default();
    links.extend(found.iter().filter_map(|v| v.as_str().map(String::from)));
    let mut before = s.snapshot(url).await?;
    before.screenshot = shot;
    before.notes = before_notes;
    s.close().await;

    // 2. After accept (then one more load of the page, for what only the next view loads).
    let accept_phase = async {
        let (s, _) = load(l, url).await?;
        let action = accept(&s, plan).await;
        let mut notes = Vec::new();
        let action = match action {
            Ok(a) => a,
            Err(e) => {
                notes.push(format!("accepting failed: {e:#}"));
                None
            }
        };
        if action.is_some() {
            s.mark_action();
            s.settle().await;
            if let Err(e) = s.open(url).await {
                notes.push(format!("reloading after accept failed: {e:#}"));
            }
            s.settle().await;
            s.scroll().await;
        } else {
            notes.push("no way to accept was found".into());
        }
        let mut p = s.snapshot(url).await;
        s.close().await;
        if let Ok(p) = &mut p {
            p.action = action;
            p.notes = notes;
        }
        p
    }
    .await;
    let accepted = accept_phase.as_ref().map(|p| p.action.is_some()).unwrap_or(false);
    let accept_phase = accept_phase.unwrap_or_else(|e| failed_phase(format!("{e:#}")));

    // 3. After withdrawal: accept again in a fresh profile, then withdraw.
    let withdraw_phase = if !accepted {
        failed_phase("not run: the page could not be accepted first".into())
    } else {
        async {
            let (s, _) = load(l, url).await?;
            let mut notes = Vec::new();
            let mut action = None;
            match accept(&s, plan).await {
                Ok(Some(_)) => {
                    s.settle().await;
                    s.mark_action();
                    match withdraw(&s, plan).await {
                        Ok(a) => action = a,
                        Err(e) => notes.push(format!("{e:#}")),
                    }
                    s.settle().await;
                    if action.is_none() {
                        notes.push("no way to withdraw: no window.Consentry.rejectAll and no --withdraw".into());
                    }
                }
                Ok(None) => notes.push("accepting failed this time".into()),
                Err(e) => notes.push(format!("accepting failed: {e:#}")),
            }
            let mut p = s.snapshot(url).await;
            s.close().await;
            if let Ok(p) = &mut p {
                p.action = action;
                p.notes = notes;
            }
            p
        }
        .await
        .unwrap_or_else(|e| failed_phase(format!("{e:#}")))
    };
    Ok(PageReport { url: url.to_string(), status: Some(status), error: None, before, accept: accept_phase, withdraw: withdraw_phase })
}

/// Runs the whole scan. Err(`Unreachable`) when a start URL cannot be loaded.
pub async fn run(plan: &Plan) -> Result<Outcome> {
    let started = humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string();
    let mut pages: Vec<PageReport> = Vec::new();
    let mut shots = HashMap::new();
    let mut version = String::new();
    let total_wanted = plan.urls.len() * plan.pages.max(1);
    let mut done = 0usize;
    for start in &plan.urls {
        let start_url = Url::parse(start).map_err(|e| Unreachable(format!("{start} is not a URL: {e}")))?;
        let site = site_of_url(start_url.as_str()).ok_or_else(|| Unreachable(format!("{start} is not an http(s) URL")))?;
        let mut queue: VecDeque<String> = VecDeque::from([start_url.to_string()]);
        let mut visited: Vec<String> = Vec::new();
        let mut count = 0;
        while let Some(url) = queue.pop_front() {
            if count >= plan.pages.max(1) {
                break;
            }
            visited.push(url.clone());
            count += 1;
            let known_total = (done + 1 + queue.len()).min(total_wanted).max(done + 1);
            progress(&format!("[{}/{}] scanning {url} (before any choice, after accept, after withdrawal)", done + 1, known_total));
            let t = Instant::now();
            let mut links = Vec::new();
            match scan_page(plan, &url, pages.len(), &mut links, &mut shots, &mut version).await {
                Ok(p) => pages.push(p),
                Err(e) if count == 1 => return Err(Unreachable(format!("{e:#}")).into()),
                Err(e) => pages.push(PageReport {
                    url: url.clone(),
                    status: None,
                    error: Some(format!("{e:#}")),
                    before: Phase::default(),
                    accept: Phase::default(),
                    withdraw: Phase::default(),
                }),
            }
            done += 1;
            progress(&format!(
                "[{}/{}] done {url} in {:.1} s",
                done,
                (done + queue.len()).min(total_wanted).max(done),
                t.elapsed().as_secs_f64()
            ));
            for l in links {
                let Ok(mut u) = Url::parse(&l) else { continue };
                u.set_fragment(None);
                let s = u.to_string();
                if same_site_http(&u, &site) && !visited.contains(&s) && !queue.contains(&s) {
                    queue.push_back(s);
                }
            }
        }
    }
    let findings = findings::evaluate(&pages, &plan.allowed);
    let services = crate::snippet::build(&pages, &plan.allowed);
    let violations = findings.iter().filter(|f| f.severity == crate::model::Severity::Violation).count();
    let summary =
        Summary { pages: pages.len(), violations, warnings: findings.len() - violations, exit_code: findings::exit_code(&findings) };
    let report = Report {
        schema: SCHEMA.into(),
        version: SCHEMA_VERSION,
        tool: format!("consentry-scan {}", env!("CARGO_PKG_VERSION")),
        browser: version,
        started,
        options: Options {
            urls: plan.urls.clone(),
            pages: plan.pages,
            gpc: plan.launch.gpc,
            allow: plan.allowed.names.clone(),
            allow_hosts: plan.allowed.hosts.clone(),
            accept: plan.accept.clone(),
            withdraw: plan.withdraw.clone(),
        },
        pages,
        findings,
        services,
        summary,
    };
    Ok(Outcome { report, shots })
}

/// Writes report.json, report.html, services.json and the screenshots into `dir`.
pub fn write(out: &Outcome, dir: &Path) -> Result<()> {
    use anyhow::Context;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let json = serde_json::to_string_pretty(&out.report)?;
    std::fs::write(dir.join("report.json"), json + "\n").context("writing report.json")?;
    std::fs::write(dir.join("report.html"), crate::html::render(&out.report, &out.shots)).context("writing report.html")?;
    let services = serde_json::to_string_pretty(&out.report.services)?;
    std::fs::write(dir.join("services.json"), services + "\n").context("writing services.json")?;
    for (name, png) in &out.shots {
        std::fs::write(dir.join(name), png).with_context(|| format!("writing {name}"))?;
    }
    Ok(())
}
