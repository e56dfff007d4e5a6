//! The ready-to-paste `purposes[].services` for Consentry's config, from what appeared after accept.
//!
//! Owns: deciding what counts as a service to declare (stored or contacted after accept and absent
//! before a choice, or named by the tracker table wherever it ran; never strictly necessary), grouping it by known tracker or by who set it, and wording
//! a lifetime. Must never: invent a purpose for an unknown service (it goes to `unclassified`).
use crate::findings::Allowed;
use crate::model::{PageReport, Party, Service, SetBy, Snippet, SnippetPurpose, TrackerRef};
use crate::site::{site_of_host, site_of_url};
use crate::trackers;
use std::collections::BTreeMap;

/// A lifetime as people write it: `session`, `45 minutes`, `12 hours`, `30 days`, `13 months`.
pub fn lifetime_text(days: Option<f64>) -> String {
    let Some(d) = days else {
        return "session".into();
    };
    let plural = |n: i64, unit: &str| {
        if n == 1 {
            format!("1 {unit}")
        } else {
            format!("{n} {unit}s")
        }
    };
    if d < 1.0 / 24.0 {
        plural(((d * 24.0 * 60.0).round() as i64).max(1), "minute")
    } else if d < 1.0 {
        plural((d * 24.0).round() as i64, "hour")
    } else if d < 31.0 {
        plural(d.round() as i64, "day")
    } else {
        // 365.25 / 12 days a month.
        plural((d / 30.4375).round() as i64, "month")
    }
}

#[derive(Default)]
struct Group {
    name: String,
    provider: String,
    purpose_id: Option<String>,
    description: String,
    max_days: Option<f64>,
    session_cookie: bool,
    local: bool,
    session_storage: bool,
    cookies: Vec<String>,
    storage: Vec<String>,
}

fn push_unique(v: &mut Vec<String>, s: String) {
    if !v.contains(&s) {
        v.push(s);
    }
}

/// The group key and a fresh group for an item, by the table's entry or by who set it.
fn group_for(tracker: &Option<TrackerRef>, item: &str, set_by: &SetBy, page_site: &str) -> (String, Group) {
    if let Some(t) = tracker.as_ref().and_then(|t| trackers::by_name(&t.name)) {
        let g = Group {
            name: t.name.into(),
            provider: t.provider.into(),
            purpose_id: Some(t.purpose.into()),
            description: t.description.into(),
            ..Group::default()
        };
        return (format!("t:{}", t.name), g);
    }
    let setter_site = set_by.url.as_deref().and_then(site_of_url);
    match setter_site {
        Some(s) if s != page_site => {
            let g = Group {
                name: s.clone(),
                provider: s.clone(),
                description: format!("unknown: set by a script or response of {s}"),
                ..Group::default()
            };
            (format!("s:{s}"), g)
        }
        _ => {
            let g = Group {
                name: item.into(),
                provider: format!("{page_site} (first party)"),
                description: format!("unknown: set by {}", set_by.describe()),
                ..Group::default()
            };
            (format!("n:{item}"), g)
        }
    }
}

/// A tracker the table names for a purpose that needs consent.
fn gated(t: &Option<TrackerRef>) -> bool {
    t.as_ref().is_some_and(|t| t.purpose != "necessary")
}

/// Builds the snippet from every page's accept phase: what appeared after accept, and every
/// tracker the table names even when it ran before the choice (it needs declaring and gating).
pub fn build(pages: &[PageReport], allowed: &Allowed) -> Snippet {
    let mut groups: BTreeMap<String, Group> = BTreeMap::new();
    let allowed_name = |n: &str| allowed.names.iter().any(|p| trackers::glob(p, n));
    for page in pages.iter().filter(|p| p.error.is_none() && p.accept.ran) {
        let page_site = site_of_url(&page.url).unwrap_or_default();
        let before_cookies: Vec<&str> = page.before.cookies.iter().map(|c| c.name.as_str()).collect();
        let before_keys: Vec<&str> = page.before.storage.iter().map(|s| s.key.as_str()).collect();
        let before_dbs: Vec<&str> = page.before.indexeddb.iter().map(|d| d.name.as_str()).collect();
        let before_sites: Vec<String> = page.before.requests.iter().map(|r| site_of_host(&r.host)).collect();
        let skip = |t: &Option<TrackerRef>, name: &str| t.as_ref().is_some_and(|t| t.purpose == "necessary") || allowed_name(name);

        for c in &page.accept.cookies {
            if before_cookies.contains(&c.name.as_str()) && !gated(&c.tracker) || skip(&c.tracker, &c.name) {
                continue;
            }
            let (key, fresh) = group_for(&c.tracker, &c.name, &c.set_by, &page_site);
            let g = groups.entry(key).or_insert(fresh);
            let form = match c.tracker.as_ref().and_then(|t| trackers::by_name(&t.name)).and_then(|t| trackers::cookie_pattern(t, &c.name))
            {
                Some(p) => trackers::cookie_config_form(p),
                None => c.name.clone(),
            };
            push_unique(&mut g.cookies, form);
            match c.lifetime_days {
                Some(d) => g.max_days = Some(g.max_days.map_or(d, |m: f64| m.max(d))),
                None => g.session_cookie = true,
            }
        }
        for s in &page.accept.storage {
            if before_keys.contains(&s.key.as_str()) && !gated(&s.tracker) || skip(&s.tracker, &s.key) {
                continue;
            }
            let (key, fresh) = group_for(&s.tracker, &s.key, &s.set_by, &page_site);
            let g = groups.entry(key).or_insert(fresh);
            let form = match s.tracker.as_ref().and_then(|t| trackers::by_name(&t.name)).and_then(|t| trackers::storage_pattern(t, &s.key))
            {
                Some(p) => trackers::storage_config_form(p, &s.key),
                None => s.key.clone(),
            };
            push_unique(&mut g.storage, form);
            if s.area == "local" {
                g.local = true;
            } else {
                g.session_storage = true;
            }
        }
        for d in &page.accept.indexeddb {
            if before_dbs.contains(&d.name.as_str()) && !gated(&d.tracker) || skip(&d.tracker, &d.name) {
                continue;
            }
            let (key, fresh) = group_for(&d.tracker, &d.name, &d.set_by, &page_site);
            let g = groups.entry(key).or_insert(fresh);
            push_unique(&mut g.storage, d.name.clone());
            g.local = true;
        }
        // A third party contacted only after accept is a service too, even when it stores nothing here.
        for r in &page.accept.requests {
            let site = site_of_host(&r.host);
            if r.party != Party::Third && r.tracker.is_none() || before_sites.contains(&site) && !gated(&r.tracker) || skip(&r.tracker, "")
            {
                continue;
            }
            let by = SetBy { kind: "request".into(), url: Some(r.url.clone()), line: None };
            let (key, fresh) = group_for(&r.tracker, &site, &by, &page_site);
            groups.entry(key).or_insert(fresh);
        }
    }

    let mut snippet = Snippet::default();
    for g in groups.into_values() {
        let lifetime = match (g.max_days, g.session_cookie, g.local, g.session_storage) {
            (Some(d), ..) => lifetime_text(Some(d)),
            (None, true, ..) | (None, false, false, true) => "session".into(),
            (None, false, true, _) => "until cleared (browser storage)".into(),
            (None, false, false, false) => "stores nothing on this site".into(),
        };
        let svc = Service { name: g.name, provider: g.provider, purpose: g.description, lifetime, cookies: g.cookies, storage: g.storage };
        match g.purpose_id {
            Some(id) => match snippet.purposes.iter_mut().find(|p| p.id == id) {
                Some(p) => p.services.push(svc),
                None => snippet.purposes.push(SnippetPurpose { id, services: vec![svc] }),
            },
            None => snippet.unclassified.push(svc),
        }
    }
    let rank = |id: &str| ["analytics", "marketing", "functional"].iter().position(|p| *p == id).unwrap_or(3);
    snippet.purposes.sort_by(|a, b| (rank(&a.id), &a.id).cmp(&(rank(&b.id), &b.id)));
    let by_name = |a: &Service, b: &Service| a.name.to_lowercase().cmp(&b.name.to_lowercase());
    for p in &mut snippet.purposes {
        p.services.sort_by(by_name);
    }
    snippet.unclassified.sort_by(by_name);
    snippet
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::findings::tests::{cookie, page, ran, request, storage};
    use crate::model::Phase;

    #[test]
    fn lifetimes_in_words() {
        assert_eq!(lifetime_text(None), "session");
        assert_eq!(lifetime_text(Some(0.01)), "14 minutes");
        assert_eq!(lifetime_text(Some(0.5)), "12 hours");
        assert_eq!(lifetime_text(Some(1.0)), "1 day");
        assert_eq!(lifetime_text(Some(30.0)), "30 days");
        assert_eq!(lifetime_text(Some(395.0)), "13 months");
        assert_eq!(lifetime_text(Some(400.0)), "13 months");
        assert_eq!(lifetime_text(Some(182.6)), "6 months");
    }

    #[test]
    fn groups_by_tracker_and_by_setter() {
        let mut before = ran(None);
        before.cookies.push(cookie("lang", None, "http://site.test/app.js"));
        let mut accept = ran(Some("consentry-api"));
        accept.cookies.push(cookie("lang", None, "http://site.test/app.js"));
        accept.cookies.push(cookie("_ga", Some(400.0), "http://tracker.test/t.js"));
        accept.cookies.push(cookie("_ga_ABC", Some(400.0), "http://tracker.test/t.js"));
        accept.cookies.push(cookie("cs_id", Some(395.0), "http://site.test/pkg/consentry.js"));
        accept.cookies.push(cookie("stats", Some(10.0), "http://site.test/stats.js"));
        accept.cookies.push(cookie("xid", Some(2.0), "http://ads.other.test/px.js"));
        accept.storage.push(storage("consentry", true));
        accept.storage.push(storage("ph_phc_1_posthog", true));
        accept.requests.push(request("http://cdn.widget.test/w.js", Party::Third));
        let s = build(&[page(before, accept, ran(Some("consentry-api")))], &Allowed::default());

        let ids: Vec<&str> = s.purposes.iter().map(|p| p.id.as_str()).collect();
        assert_eq!(ids, vec!["analytics"]);
        let a = &s.purposes[0].services;
        let names: Vec<&str> = a.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, vec!["Consentry tracker", "Google Analytics", "PostHog"]);
        assert_eq!(a[0].cookies, vec!["cs_id"]);
        assert_eq!(a[0].lifetime, "13 months");
        assert_eq!(a[1].cookies, vec!["_ga", "/^_ga_/"]);
        assert_eq!(a[1].provider, "Google");
        assert_eq!(a[2].storage, vec!["ph_*"]);
        assert_eq!(a[2].lifetime, "until cleared (browser storage)");

        // Unknown: a first-party cookie is a service of its own; a third party's is grouped by site.
        let u: Vec<(&str, &str)> = s.unclassified.iter().map(|s| (s.name.as_str(), s.lifetime.as_str())).collect();
        assert_eq!(u, vec![("other.test", "2 days"), ("stats", "10 days"), ("widget.test", "stores nothing on this site")]);
        assert_eq!(s.unclassified[1].provider, "site.test (first party)");
        assert!(s.unclassified[1].purpose.contains("http://site.test/stats.js"));
    }

    #[test]
    fn a_tracker_that_ran_before_the_choice_is_still_a_service() {
        let mut before = ran(None);
        before.cookies.push(cookie("_ga", Some(400.0), "http://tracker.test/t.js"));
        before.cookies.push(cookie("sid", None, "http://site.test/app.js"));
        before.requests.push(request("https://www.google-analytics.com/g/collect", Party::Third));
        let accept = Phase { action: Some("x".into()), ..before.clone() };
        let s = build(&[page(before, accept, ran(Some("x")))], &Allowed::default());
        let names: Vec<&str> = s.purposes.iter().flat_map(|p| p.services.iter().map(|s| s.name.as_str())).collect();
        assert_eq!(names, vec!["Google Analytics"]);
        assert_eq!(s.purposes[0].services[0].cookies, vec!["_ga"]);
        assert!(s.unclassified.is_empty(), "sid was there before the choice and is not a tracker");
    }

    #[test]
    fn nothing_after_accept_gives_an_empty_snippet() {
        let s = build(&[page(ran(None), ran(Some("x")), ran(Some("x")))], &Allowed::default());
        assert!(s.purposes.is_empty() && s.unclassified.is_empty());
    }
}
