//! The rules: what in the recorded phases is a violation, what a warning.
//!
//! Owns: every rule id and its severity (README.md, "Findings", documents them), merging the same
//! finding across pages, and the exit code they imply. Must never: look at the browser or the
//! network; it reads only the recorded phases, so every rule can be tested on data made by hand.
use crate::model::{Finding, PageReport, Party, Phase, PhaseName, RequestRecord, SetBy, Severity, TrackerRef};
use crate::trackers::glob;

/// CNIL's ceiling for an audience-measurement cookie is 13 months; the longest 13 calendar months
/// (a leap February and two 31-day months at the ends) last 397 days.
pub const MAX_LIFETIME_DAYS: f64 = 397.0;

/// What the rules may be told by the person running the scan.
#[derive(Debug, Clone, Default)]
pub struct Allowed {
    /// Cookie names, storage keys or database names (`*` allowed) that are strictly necessary.
    pub names: Vec<String>,
    /// Hosts (a subdomain matches too) whose requests before a choice are strictly necessary.
    pub hosts: Vec<String>,
}

impl Allowed {
    fn name(&self, n: &str) -> bool {
        self.names.iter().any(|p| glob(p, n))
    }
    fn host(&self, h: &str) -> bool {
        self.hosts.iter().any(|d| crate::trackers::host_matches(h, d))
    }
}

fn gated(t: &Option<TrackerRef>) -> bool {
    t.as_ref().is_some_and(|t| t.purpose != "necessary")
}

fn necessary(t: &Option<TrackerRef>) -> bool {
    t.as_ref().is_some_and(|t| t.purpose == "necessary")
}

fn named(t: &Option<TrackerRef>) -> String {
    match t {
        Some(t) => format!(" ({}, {})", t.name, t.purpose),
        None => String::new(),
    }
}

/// One thing stored in a phase: a cookie, a storage key or a database, seen through one lens.
struct Stored<'a> {
    kind: &'static str,
    name: &'a str,
    present: bool,
    tracker: &'a Option<TrackerRef>,
    set_by: &'a SetBy,
}

fn stored(p: &Phase) -> Vec<Stored<'_>> {
    let mut v = Vec::new();
    for c in &p.cookies {
        v.push(Stored { kind: "cookie", name: &c.name, present: true, tracker: &c.tracker, set_by: &c.set_by });
    }
    for s in &p.storage {
        v.push(Stored { kind: "storage", name: &s.key, present: s.present, tracker: &s.tracker, set_by: &s.set_by });
    }
    for d in &p.indexeddb {
        v.push(Stored { kind: "indexeddb", name: &d.name, present: true, tracker: &d.tracker, set_by: &d.set_by });
    }
    v
}

fn what(kind: &str) -> &'static str {
    match kind {
        "cookie" => "cookie",
        "storage" => "storage key",
        _ => "IndexedDB database",
    }
}

/// Requests grouped by host, in the order first seen.
fn by_host<'a>(reqs: impl Iterator<Item = &'a RequestRecord>) -> Vec<(String, Vec<&'a RequestRecord>)> {
    let mut out: Vec<(String, Vec<&RequestRecord>)> = Vec::new();
    for r in reqs {
        match out.iter_mut().find(|(h, _)| *h == r.host) {
            Some((_, v)) => v.push(r),
            None => out.push((r.host.clone(), vec![r])),
        }
    }
    out
}

fn requests_to(host: &str, t: &Option<TrackerRef>, n: usize) -> String {
    format!("{n} request{} to {host}{}", if n == 1 { "" } else { "s" }, named(t))
}

/// `URL (Type, by initiator)`, the first five, then how many more.
fn list(reqs: &[&RequestRecord]) -> String {
    let mut parts: Vec<String> = reqs.iter().take(5).map(|r| format!("{} ({}, by {})", r.url, r.kind, r.initiator.describe())).collect();
    if reqs.len() > 5 {
        parts.push(format!("and {} more", reqs.len() - 5));
    }
    parts.join("; ")
}

/// Every finding of every page, merged, violations first.
pub fn evaluate(pages: &[PageReport], allowed: &Allowed) -> Vec<Finding> {
    let mut out: Vec<Finding> = Vec::new();
    for page in pages {
        for f in page_findings(page, allowed) {
            match out.iter_mut().find(|o| o.rule == f.rule && o.kind == f.kind && o.name == f.name) {
                Some(o) => {
                    if !o.pages.contains(&page.url) {
                        o.pages.push(page.url.clone());
                    }
                }
                None => out.push(f),
            }
        }
    }
    out.sort_by(|a, b| (a.severity, a.phase, &a.rule, &a.name).cmp(&(b.severity, b.phase, &b.rule, &b.name)));
    out
}

/// 1 when any finding is a violation, else 0.
pub fn exit_code(findings: &[Finding]) -> i32 {
    i32::from(findings.iter().any(|f| f.severity == Severity::Violation))
}

fn page_findings(page: &PageReport, allowed: &Allowed) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut add =
        |severity, rule: &str, phase, kind: &str, name: &str, message: String, tracker: &Option<TrackerRef>, set_by: Option<&SetBy>| {
            out.push(Finding {
                severity,
                rule: rule.into(),
                phase,
                kind: kind.into(),
                name: name.into(),
                message,
                tracker: tracker.clone(),
                set_by: set_by.cloned(),
                pages: vec![page.url.clone()],
            })
        };
    if let Some(e) = &page.error {
        add(
            Severity::Warning,
            "page-not-scanned",
            PhaseName::Before,
            "page",
            &page.url,
            format!("{} could not be scanned: {e}", page.url),
            &None,
            None,
        );
        return out;
    }

    // Before any choice: nothing but what is strictly necessary.
    let before = &page.before;
    if before.ran {
        let bad = before
            .requests
            .iter()
            .filter(|r| gated(&r.tracker) || (r.party == Party::Third && !necessary(&r.tracker) && !allowed.host(&r.host)));
        for (host, reqs) in by_host(bad) {
            let first = reqs[0];
            add(
                Severity::Violation,
                "request-before-choice",
                PhaseName::Before,
                "request",
                &host,
                format!("{} before any choice: {}", requests_to(&host, &first.tracker, reqs.len()), list(&reqs)),
                &first.tracker,
                Some(&first.initiator),
            );
        }
        for s in stored(before) {
            if gated(s.tracker) {
                add(
                    Severity::Violation,
                    "tracker-before-choice",
                    PhaseName::Before,
                    s.kind,
                    s.name,
                    format!("{} {}{} written before any choice, by {}", what(s.kind), s.name, named(s.tracker), s.set_by.describe()),
                    s.tracker,
                    Some(s.set_by),
                );
            } else if !necessary(s.tracker) && !allowed.name(s.name) {
                add(
                    Severity::Warning,
                    "stored-before-choice",
                    PhaseName::Before,
                    s.kind,
                    s.name,
                    format!(
                        "{} {} written before any choice, by {}; if it is strictly necessary, pass --allow {}",
                        what(s.kind),
                        s.name,
                        s.set_by.describe(),
                        s.name
                    ),
                    s.tracker,
                    Some(s.set_by),
                );
            }
        }
    }

    for (phase, p) in [(PhaseName::Accept, &page.accept), (PhaseName::Withdraw, &page.withdraw)] {
        if p.ran && p.action.is_none() {
            let (rule, msg) = match phase {
                PhaseName::Accept => (
                    "accept-not-found",
                    "no way to accept was found (no window.Consentry, no control named like \"Accept all\"): pass --accept 'CSS selector'",
                ),
                _ => ("withdraw-not-tested", "withdrawal was not tested (no window.Consentry.rejectAll): pass --withdraw 'JS'"),
            };
            add(Severity::Warning, rule, phase, "page", &page.url, format!("{}: {msg}", page.url), &None, None);
        }
    }

    // After withdrawal: what a gated service stored (it was not there before a choice) must be gone.
    let w = &page.withdraw;
    if w.ran && w.action.is_some() {
        let before_names: Vec<(&str, &str)> = stored(before).iter().map(|s| (s.kind, s.name)).collect();
        for s in stored(w) {
            if s.present && !necessary(s.tracker) && !allowed.name(s.name) && !before_names.contains(&(s.kind, s.name)) {
                add(
                    Severity::Warning,
                    "left-after-withdrawal",
                    PhaseName::Withdraw,
                    s.kind,
                    s.name,
                    format!(
                        "{} {}{} is still there after withdrawal (set by {})",
                        what(s.kind),
                        s.name,
                        named(s.tracker),
                        s.set_by.describe()
                    ),
                    s.tracker,
                    Some(s.set_by),
                );
            }
        }
        let bad =
            w.requests.iter().filter(|r| r.after_action && (gated(&r.tracker) || (r.party == Party::Third && !allowed.host(&r.host))));
        for (host, reqs) in by_host(bad) {
            let first = reqs[0];
            add(
                Severity::Warning,
                "request-after-withdrawal",
                PhaseName::Withdraw,
                "request",
                &host,
                format!("{} after withdrawal: {}", requests_to(&host, &first.tracker, reqs.len()), list(&reqs)),
                &first.tracker,
                Some(&first.initiator),
            );
        }
    }

    // CNIL: an audience-measurement cookie lives at most 13 months.
    for (phase, p) in [(PhaseName::Before, before), (PhaseName::Accept, &page.accept), (PhaseName::Withdraw, w)] {
        for c in &p.cookies {
            if let Some(days) = c.lifetime_days.filter(|d| *d > MAX_LIFETIME_DAYS) {
                add(
                    Severity::Warning,
                    "cookie-lifetime",
                    phase,
                    "cookie",
                    &c.name,
                    format!("cookie {}{} lives {:.0} days, more than 13 months (CNIL)", c.name, named(&c.tracker), days),
                    &c.tracker,
                    Some(&c.set_by),
                );
            }
        }
    }
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::model::*;

    pub fn cookie(name: &str, days: Option<f64>, by: &str) -> CookieRecord {
        CookieRecord {
            name: name.into(),
            domain: "site.test".into(),
            path: "/".into(),
            expires: days.map(|_| "2027-01-01T00:00:00Z".into()),
            lifetime_days: days,
            same_site: None,
            secure: false,
            http_only: false,
            party: Party::First,
            set_by: SetBy { kind: "script".into(), url: Some(by.into()), line: Some(1) },
            tracker: crate::trackers::by_cookie(name).map(|t| t.to_ref()),
        }
    }

    pub fn request(url: &str, party: Party) -> RequestRecord {
        RequestRecord {
            url: url.into(),
            host: crate::site::host_of_url(url),
            party,
            kind: "Image".into(),
            method: "GET".into(),
            initiator: SetBy { kind: "script".into(), url: Some("http://site.test/t.js".into()), line: None },
            tracker: crate::trackers::by_url(url).map(|t| t.to_ref()),
            after_action: false,
        }
    }

    pub fn storage(key: &str, present: bool) -> StorageRecord {
        StorageRecord {
            area: "local".into(),
            origin: "http://site.test".into(),
            key: key.into(),
            present,
            party: Party::First,
            set_by: SetBy::unknown(),
            tracker: crate::trackers::by_storage(key).map(|t| t.to_ref()),
        }
    }

    pub fn ran(action: Option<&str>) -> Phase {
        Phase { ran: true, action: action.map(String::from), ..Phase::default() }
    }

    pub fn page(before: Phase, accept: Phase, withdraw: Phase) -> PageReport {
        PageReport { url: "http://site.test/".into(), status: Some(200), error: None, before, accept, withdraw }
    }

    fn rules(f: &[Finding]) -> Vec<(Severity, &str, &str)> {
        f.iter().map(|f| (f.severity, f.rule.as_str(), f.name.as_str())).collect()
    }

    #[test]
    fn a_clean_page_has_no_findings() {
        let mut accept = ran(Some("consentry-api"));
        accept.cookies.push(cookie("cs_id", Some(395.0), "http://site.test/pkg/consentry.js"));
        accept.storage.push(storage("consentry", true));
        let mut withdraw = ran(Some("consentry-api"));
        withdraw.storage.push(storage("consentry", true));
        let f = evaluate(&[page(ran(None), accept, withdraw)], &Allowed::default());
        assert!(f.is_empty(), "{f:?}");
        assert_eq!(exit_code(&f), 0);
    }

    #[test]
    fn trackers_and_third_parties_before_a_choice_are_violations() {
        let mut before = ran(None);
        before.cookies.push(cookie("_ga", Some(400.0), "http://tracker.test/t.js"));
        before.cookies.push(cookie("lang", None, "http://site.test/app.js"));
        before.requests.push(request("http://tracker.test/collect?v=1", Party::Third));
        // A self-hosted Matomo is first party, and still a tracker.
        before.requests.push(request("http://site.test/matomo.php?idsite=1", Party::First));
        before.storage.push(storage("consentry", true));
        let f = evaluate(&[page(before, ran(Some("x")), ran(Some("x")))], &Allowed::default());
        assert_eq!(
            rules(&f),
            vec![
                (Severity::Violation, "request-before-choice", "site.test"),
                (Severity::Violation, "request-before-choice", "tracker.test"),
                (Severity::Violation, "tracker-before-choice", "_ga"),
                (Severity::Warning, "cookie-lifetime", "_ga"),
                (Severity::Warning, "stored-before-choice", "lang"),
            ]
        );
        assert!(f[2].message.contains("Google Analytics") && f[2].message.contains("http://tracker.test/t.js"), "{}", f[2].message);
        assert_eq!(exit_code(&f), 1);
    }

    #[test]
    fn allow_lists_drop_only_what_they_name() {
        let mut before = ran(None);
        before.cookies.push(cookie("lang", None, "http://site.test/app.js"));
        before.cookies.push(cookie("_fbp", None, "http://site.test/app.js"));
        before.requests.push(request("http://cdn.fonts.test/a.woff2", Party::Third));
        before.requests.push(request("https://connect.facebook.net/en_US/fbevents.js", Party::Third));
        let allowed = Allowed { names: vec!["lang".into(), "_fbp".into()], hosts: vec!["fonts.test".into(), "facebook.net".into()] };
        let f = evaluate(&[page(before, ran(Some("x")), ran(Some("x")))], &allowed);
        // A tracker the table names is never made necessary by an allow list.
        assert_eq!(
            rules(&f),
            vec![
                (Severity::Violation, "request-before-choice", "connect.facebook.net"),
                (Severity::Violation, "tracker-before-choice", "_fbp")
            ]
        );
    }

    #[test]
    fn what_a_gated_service_leaves_after_withdrawal_is_a_warning() {
        let mut before = ran(None);
        before.storage.push(storage("theme", true));
        let mut withdraw = ran(Some("consentry-api"));
        withdraw.cookies.push(cookie("stats_id", Some(30.0), "http://site.test/stats.js"));
        withdraw.storage.push(storage("theme", true));
        withdraw.storage.push(storage("stats_queue", false));
        withdraw.storage.push(storage("consentry", true));
        let mut beacon = request("http://tracker.test/collect", Party::Third);
        beacon.after_action = true;
        withdraw.requests.push(beacon);
        let f = evaluate(&[page(before, ran(Some("consentry-api")), withdraw)], &Allowed { names: vec!["theme".into()], hosts: vec![] });
        assert_eq!(
            rules(&f),
            vec![(Severity::Warning, "left-after-withdrawal", "stats_id"), (Severity::Warning, "request-after-withdrawal", "tracker.test")]
        );
        assert_eq!(f[0].set_by.as_ref().unwrap().url.as_deref(), Some("http://site.test/stats.js"));
        assert_eq!(exit_code(&f), 0);
    }

    #[test]
    fn missing_controls_and_failed_pages_are_reported() {
        let p = page(ran(None), ran(None), ran(None));
        let mut bad = page(Phase::default(), Phase::default(), Phase::default());
        bad.url = "http://site.test/gone".into();
        bad.error = Some("HTTP 404".into());
        let f = evaluate(&[p, bad], &Allowed::default());
        let r = rules(&f);
        assert!(r.contains(&(Severity::Warning, "accept-not-found", "http://site.test/")), "{r:?}");
        assert!(r.contains(&(Severity::Warning, "withdraw-not-tested", "http://site.test/")), "{r:?}");
        assert!(r.contains(&(Severity::Warning, "page-not-scanned", "http://site.test/gone")), "{r:?}");
    }

    #[test]
    fn the_same_finding_on_two_pages_is_one_finding() {
        let mut b1 = ran(None);
        b1.cookies.push(cookie("_ga", None, "http://tracker.test/t.js"));
        let mut p2 = page(b1.clone(), ran(Some("x")), ran(Some("x")));
        p2.url = "http://site.test/two".into();
        let f = evaluate(&[page(b1, ran(Some("x")), ran(Some("x"))), p2], &Allowed::default());
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].pages, vec!["http://site.test/".to_string(), "http://site.test/two".to_string()]);
    }

    #[test]
    fn lifetime_limit_is_thirteen_months() {
        let mut accept = ran(Some("x"));
        accept.cookies.push(cookie("a", Some(MAX_LIFETIME_DAYS - 1.0), "x"));
        accept.cookies.push(cookie("b", Some(MAX_LIFETIME_DAYS + 1.0), "x"));
        let f = evaluate(&[page(ran(None), accept, ran(Some("x")))], &Allowed::default());
        assert_eq!(rules(&f), vec![(Severity::Warning, "cookie-lifetime", "b")]);
    }
}
