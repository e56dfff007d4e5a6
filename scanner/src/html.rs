//! The HTML report: one self-contained file (inline CSS, screenshots as data: URLs, no script),
//! findings first, then the proposed config snippet, then a table per phase of every page.
//!
//! Owns: the report's markup and escaping. Must never: load anything from the network, run
//! script, or show a value without escaping it (cookie names and URLs come from the scanned site).
use crate::model::{Party, Phase, PhaseName, Report, SetBy, Severity, TrackerRef};
use base64::Engine;
use std::collections::HashMap;
use std::fmt::Write;

/// Escapes text for HTML content and double-quoted attributes.
pub fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

const CSS: &str = "
body{font:15px/1.45 system-ui,sans-serif;margin:0;color:#1b1f24;background:#f6f7f9}
main{max-width:1200px;margin:0 auto;padding:24px}
h1{font-size:1.6em;margin:.2em 0}h2{margin-top:1.6em;border-bottom:2px solid #d0d7de;padding-bottom:.2em}
h3{margin:1.2em 0 .4em}
.meta{color:#57606a}
.counts{display:flex;gap:12px;margin:16px 0}
.count{padding:10px 16px;border-radius:8px;background:#fff;border:1px solid #d0d7de;font-weight:600}
.count.v{border-color:#cf222e;color:#a40e26}.count.w{border-color:#bf8700;color:#7d4e00}.count.ok{border-color:#1a7f37;color:#116329}
table{border-collapse:collapse;width:100%;background:#fff;margin:.4em 0 1em;font-size:.92em}
th,td{border:1px solid #d0d7de;padding:5px 8px;text-align:left;vertical-align:top;overflow-wrap:anywhere}
td.sev,#findings td:nth-child(2),#findings td:nth-child(3){white-space:nowrap;overflow-wrap:normal}
th{background:#eaeef2}
tr.violation td.sev{background:#ffebe9;color:#a40e26;font-weight:700}
tr.warning td.sev{background:#fff8c5;color:#7d4e00;font-weight:700}
.tag{display:inline-block;padding:0 6px;border-radius:10px;background:#ddf4ff;color:#0a3069;font-size:.85em}
.third{color:#a40e26;font-weight:600}
pre{background:#fff;border:1px solid #d0d7de;padding:12px;overflow:auto;font-size:.88em}
figure{margin:0}figure img{max-width:100%;border:1px solid #d0d7de;border-radius:6px}
.empty{color:#57606a;font-style:italic}
";

fn tracker_cell(t: &Option<TrackerRef>) -> String {
    match t {
        Some(t) => format!("<span class=\"tag\">{}</span> {}", esc(&t.name), esc(&t.purpose)),
        None => "unknown".into(),
    }
}

fn party_cell(p: Party) -> &'static str {
    match p {
        Party::First => "first",
        Party::Third => "<span class=\"third\">third</span>",
    }
}

fn by_cell(b: &SetBy) -> String {
    esc(&b.describe())
}

fn table(out: &mut String, caption: &str, head: &[&str], rows: Vec<Vec<String>>) {
    let _ = write!(out, "<h4>{}</h4>", esc(caption));
    if rows.is_empty() {
        out.push_str("<p class=\"empty\">none</p>");
        return;
    }
    out.push_str("<table><thead><tr>");
    for h in head {
        let _ = write!(out, "<th>{}</th>", esc(h));
    }
    out.push_str("</tr></thead><tbody>");
    for r in rows {
        out.push_str("<tr>");
        for c in r {
            let _ = write!(out, "<td>{c}</td>");
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table>");
}

fn phase(out: &mut String, name: PhaseName, p: &Phase, shots: &HashMap<String, Vec<u8>>) {
    let _ = write!(out, "<h3>{}</h3>", esc(name.label()));
    if !p.ran {
        let _ = write!(out, "<p class=\"empty\">not run. {}</p>", esc(&p.notes.join(" ")));
        return;
    }
    if let Some(a) = &p.action {
        let _ = write!(out, "<p>Choice made by: <code>{}</code></p>", esc(a));
    }
    for n in &p.notes {
        let _ = write!(out, "<p class=\"meta\">{}</p>", esc(n));
    }
    if let Some(data) = p.screenshot.as_ref().and_then(|f| shots.get(f)) {
        let b64 = base64::engine::general_purpose::STANDARD.encode(data);
        let _ = write!(
            out,
            "<figure><img alt=\"The page as a visitor first sees it, with its banner\" src=\"data:image/png;base64,{b64}\"><figcaption class=\"meta\">The page {}, as a visitor first sees it.</figcaption></figure>",
            esc(name.label())
        );
    }
    let rows = p
        .cookies
        .iter()
        .map(|c| {
            vec![
                format!("<code>{}</code>", esc(&c.name)),
                esc(&c.domain),
                esc(&c.path),
                esc(&crate::snippet::lifetime_text(c.lifetime_days)),
                esc(c.same_site.as_deref().unwrap_or("(not set)")),
                if c.secure { "yes".into() } else { "no".into() },
                party_cell(c.party).into(),
                by_cell(&c.set_by),
                tracker_cell(&c.tracker),
            ]
        })
        .collect();
    table(out, "Cookies", &["name", "domain", "path", "lifetime", "SameSite", "Secure", "party", "set by", "tracker"], rows);
    let rows = p
        .storage
        .iter()
        .map(|s| {
            vec![
                format!("<code>{}</code>", esc(&s.key)),
                esc(&s.area),
                esc(&s.origin),
                if s.present { "yes".into() } else { "removed".into() },
                by_cell(&s.set_by),
                tracker_cell(&s.tracker),
            ]
        })
        .collect();
    table(out, "localStorage and sessionStorage", &["key", "area", "origin", "still there", "set by", "tracker"], rows);
    let rows = p
        .indexeddb
        .iter()
        .map(|d| vec![format!("<code>{}</code>", esc(&d.name)), esc(&d.origin), by_cell(&d.set_by), tracker_cell(&d.tracker)])
        .collect();
    table(out, "IndexedDB", &["database", "origin", "opened by", "tracker"], rows);
    let rows = p
        .requests
        .iter()
        .map(|r| {
            vec![
                esc(&r.host),
                esc(&r.kind),
                party_cell(r.party).into(),
                format!("<small>{}</small>", esc(&r.url)),
                by_cell(&r.initiator),
                tracker_cell(&r.tracker),
                if r.after_action { "after".into() } else { "before".into() },
            ]
        })
        .collect();
    table(out, "Requests to other sites (and trackers)", &["host", "type", "party", "URL", "initiator", "tracker", "vs. the choice"], rows);
    let rows = p.iframes.iter().map(|f| vec![esc(&f.url), party_cell(f.party).into(), tracker_cell(&f.tracker)]).collect();
    table(out, "Iframes", &["URL", "party", "tracker"], rows);
}

/// The whole report as one HTML document; `shots` maps a phase's screenshot file name to its PNG.
pub fn render(r: &Report, shots: &HashMap<String, Vec<u8>>) -> String {
    let mut o = String::new();
    let _ = write!(
        o,
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>Consent scan: {}</title><style>{CSS}</style></head><body><main>",
        esc(r.options.urls.first().map(String::as_str).unwrap_or(""))
    );
    let _ = write!(
        o,
        "<h1>Consent scan</h1><p class=\"meta\">{} · {} · {} · {} page(s) · Global Privacy Control {}</p>",
        esc(&r.options.urls.join(", ")),
        esc(&r.started),
        esc(&r.browser),
        r.summary.pages,
        if r.options.gpc { "on" } else { "off" }
    );
    let verdict = if r.summary.violations > 0 {
        ("v", "Something runs before consent")
    } else if r.summary.warnings > 0 {
        ("w", "Nothing runs before consent; see the warnings")
    } else {
        ("ok", "Nothing runs before consent")
    };
    let _ = write!(
        o,
        "<div class=\"counts\"><div class=\"count {}\" id=\"verdict\">{}</div><div class=\"count{}\">{} violation(s)</div><div class=\"count{}\">{} warning(s)</div></div>",
        verdict.0,
        verdict.1,
        if r.summary.violations > 0 { " v" } else { "" },
        r.summary.violations,
        if r.summary.warnings > 0 { " w" } else { "" },
        r.summary.warnings
    );

    o.push_str("<h2>Findings</h2>");
    if r.findings.is_empty() {
        o.push_str("<p class=\"empty\" id=\"no-findings\">No findings.</p>");
    } else {
        o.push_str("<table id=\"findings\"><thead><tr><th>severity</th><th>rule</th><th>phase</th><th>what</th><th>details</th><th>pages</th></tr></thead><tbody>");
        for f in &r.findings {
            let sev = match f.severity {
                Severity::Violation => "violation",
                Severity::Warning => "warning",
            };
            let _ = write!(
                o,
                "<tr class=\"{sev}\"><td class=\"sev\">{sev}</td><td><code>{}</code></td><td>{}</td><td>{} <code>{}</code></td><td>{}</td><td>{}</td></tr>",
                esc(&f.rule),
                esc(f.phase.label()),
                esc(&f.kind),
                esc(&f.name),
                esc(&f.message),
                f.pages.iter().map(|p| esc(p)).collect::<Vec<_>>().join("<br>")
            );
        }
        o.push_str("</tbody></table>");
    }

    o.push_str("<h2>Services for your Consentry config</h2><p>Paste <code>purposes</code> into <code>consent.json</code> (merge with your own purposes); move each <code>unclassified</code> service into the purpose it serves. The <code>cookies</code> and <code>storage</code> lists are what withdrawal should clear.</p>");
    let _ = write!(o, "<pre id=\"snippet\">{}</pre>", esc(&serde_json::to_string_pretty(&r.services).unwrap_or_default()));

    for page in &r.pages {
        let _ = write!(o, "<h2>Page {}</h2>", esc(&page.url));
        if let Some(e) = &page.error {
            let _ = write!(o, "<p class=\"empty\">not scanned: {}</p>", esc(e));
            continue;
        }
        for (n, p) in [(PhaseName::Before, &page.before), (PhaseName::Accept, &page.accept), (PhaseName::Withdraw, &page.withdraw)] {
            phase(&mut o, n, p, shots);
        }
    }
    let _ = writeln!(o, "<p class=\"meta\">{} · report schema {} v{}</p></main></body></html>", esc(&r.tool), esc(&r.schema), r.version);
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_what_the_site_controls() {
        assert_eq!(esc("<img src=x onerror=\"a&b\">'"), "&lt;img src=x onerror=&quot;a&amp;b&quot;&gt;&#39;");
    }
}
