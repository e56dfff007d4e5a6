//! The scanner against small fixture sites served on loopback, in Debian's Chromium.
//!
//! These need Chromium, so they are `#[ignore]`d in the native layer and run by the `scan` layer
//! of `cargo xtask test` (`cargo test -p consentry-scan -- --ignored`).
mod common;
use common::{lock, scan, Reply, Server};

/// A first-party site with its own banner: a button named "Accept all" loads `/stats.js` (a
/// cookie written by script) and calls `/hit` (a cookie set by the response).
fn clean_site() -> Server {
    Server::start(|_host, path| match path {
        "/" => Reply::html(
            r#"<!doctype html><html lang="en"><head><title>Clean shop</title></head><body>
<h1>Clean shop</h1><p>Nothing runs before you choose.</p>
<div role="dialog" aria-label="Cookies" id="banner" style="position:fixed;bottom:0;left:0;right:0;padding:16px;background:#eee">
  <p>May we count your visit?</p>
  <button type="button" id="no">Reject all</button> <button type="button" id="yes">Accept all</button>
</div>
<script>
document.getElementById('yes').addEventListener('click', function () {
  var s = document.createElement('script'); s.src = '/stats.js'; document.head.appendChild(s);
  document.getElementById('banner').remove();
});
document.getElementById('no').addEventListener('click', function () { document.getElementById('banner').remove(); });
</script></body></html>"#,
        ),
        "/stats.js" => Reply::js("document.cookie = 'stats_id=abc123; Max-Age=2592000; Path=/; SameSite=Lax';\nfetch('/hit');\n"),
        "/hit" => Reply::ok("text/plain", "ok").header("Set-Cookie", "visit=1; Max-Age=3600; Path=/; SameSite=Lax"),
        _ => Reply::not_found(),
    })
}

/// Deletes what the clean site's statistics set (its "withdraw" for `--withdraw`).
const CLEAN_WITHDRAW: &str = "document.cookie = 'stats_id=; Max-Age=0; Path=/'; document.cookie = 'visit=; Max-Age=0; Path=/'";

#[test]
#[ignore = "needs Chromium: run by `cargo xtask test scan`"]
fn a_clean_site_passes_and_lists_who_set_each_cookie() {
    let _g = lock();
    let site = clean_site();
    let run = scan("clean", &[&site.url("site.test", "/"), "--withdraw", CLEAN_WITHDRAW]);
    assert_eq!(run.code, 0, "a clean site exits 0");
    assert!(run.findings().is_empty(), "no findings expected: {:?}", run.rules());
    assert!(run.phase(0, "before")["cookies"].as_array().unwrap().is_empty(), "nothing before a choice");
    assert_eq!(run.phase(0, "accept")["action"], "accessible-name: \"Accept all\"");

    let stats = run.cookie(0, "accept", "stats_id").expect("stats_id after accept");
    assert_eq!(stats["set_by"]["kind"], "script");
    assert_eq!(stats["set_by"]["url"], site.url("site.test", "/stats.js"));
    assert_eq!(stats["party"], "first");
    assert_eq!(stats["same_site"], "Lax");
    let visit = run.cookie(0, "accept", "visit").expect("visit after accept");
    assert_eq!(visit["set_by"]["kind"], "response");
    assert_eq!(visit["set_by"]["url"], site.url("site.test", "/hit"));

    // Unknown to the tracker table: proposed as services to classify, with their lifetimes.
    let unclassified = run.report["services"]["unclassified"].as_array().unwrap();
    let names: Vec<(&str, &str)> = unclassified.iter().map(|s| (s["name"].as_str().unwrap(), s["lifetime"].as_str().unwrap())).collect();
    assert_eq!(names, vec![("stats_id", "30 days"), ("visit", "1 hour")]);
    assert!(run.cookie(0, "withdraw", "stats_id").is_none(), "--withdraw cleared it");
}

/// A site that loads a "Google Analytics" look-alike from another site before any choice.
fn tracker_site() -> Server {
    Server::start(|host, path| {
        match (host, path) {
        ("site.test", "/") => Reply::html(
            r#"<!doctype html><html lang="en"><head><title>Leaky shop</title>
<script src="http://tracker.test:PORT/t.js"></script></head><body>
<h1>Leaky shop</h1><p>The tag runs before the banner asks.</p>
<iframe src="http://tracker.test:PORT/frame.html" title="widget"></iframe>
<div role="dialog" aria-label="Cookies" style="position:fixed;bottom:0;left:0;right:0;padding:16px;background:#fde">
  <p>We use cookies.</p><button type="button" onclick="this.parentNode.remove()">Accept all</button>
</div></body></html>"#,
        ),
        ("tracker.test", "/frame.html") => Reply::html("<script>localStorage.setItem('frame_key', '1'); fetch('/frame-ping');</script>"),
        ("tracker.test", "/t.js") => {
            Reply::js("document.cookie = '_ga=GA1.1.42.1; Max-Age=63072000; Path=/';\nnew Image().src = 'http://tracker.test:PORT/collect?v=2&tid=G-TEST';\n")
        }
        ("tracker.test", p) if p.starts_with("/collect") => Reply::ok("image/gif", ""),
        _ => Reply::not_found(),
    }
    })
}

#[test]
#[ignore = "needs Chromium: run by `cargo xtask test scan`"]
fn a_tracker_before_consent_is_a_violation_naming_the_cookie_and_the_request() {
    let _g = lock();
    let site = tracker_site();
    let run = scan("tracker", &[&site.url("site.test", "/"), "--wait", "3"]);
    assert_eq!(run.code, 1, "a violation exits 1");
    assert!(site.was_asked("tracker.test", "/collect"), "the fixture's tracker did send its request");

    let cookie = run.finding("tracker-before-choice", "_ga").expect("the _ga cookie is named");
    assert_eq!(cookie["severity"], "violation");
    assert_eq!(cookie["tracker"]["name"], "Google Analytics");
    assert_eq!(cookie["set_by"]["url"], site.url("tracker.test", "/t.js"));

    let req = run.finding("request-before-choice", "tracker.test").expect("the request to tracker.test is named");
    assert_eq!(req["severity"], "violation");
    let msg = req["message"].as_str().unwrap();
    assert!(msg.contains("/collect?v=2") && msg.contains("/t.js"), "{msg}");

    // Two years asked, Chromium keeps 400 days: still more than 13 months.
    assert!(run.finding("cookie-lifetime", "_ga").is_some(), "{:?}", run.rules());
    assert!(run.stdout.contains("VIOLATION"), "the terminal says so too");

    // A tracker that ran before the choice still belongs in the config, to be declared and gated.
    let analytics = &run.report["services"]["purposes"][0];
    assert_eq!(analytics["id"], "analytics");
    assert_eq!(analytics["services"][0]["name"], "Google Analytics");
    assert_eq!(analytics["services"][0]["cookies"], serde_json::json!(["_ga"]));

    // The cross-site iframe, what it stored and what it sent are seen too.
    let before = run.phase(0, "before");
    let frame = &before["iframes"][0];
    assert_eq!(frame["url"], site.url("tracker.test", "/frame.html"));
    assert_eq!(frame["party"], "third");
    let key = before["storage"].as_array().unwrap().iter().find(|s| s["key"] == "frame_key").expect("the iframe's storage key");
    assert_eq!(key["origin"], site.url("tracker.test", ""));
    assert_eq!(key["party"], "third");
    assert!(
        before["requests"].as_array().unwrap().iter().any(|r| r["url"] == site.url("tracker.test", "/frame-ping")),
        "the iframe's request"
    );
    assert!(run.stderr.contains("[1/1]"), "progress is shown: {}", run.stderr);
}

/// A site with a Consentry-like API whose rejectAll() forgets what the gated script stored.
fn leaky_withdrawal_site(clears: bool) -> Server {
    let page = r#"<!doctype html><html lang="en"><head><title>Gated</title><script>
window.Consentry = {
  acceptAll: function () { var s = document.createElement('script'); s.src = '/gated.js'; document.head.appendChild(s); },
  rejectAll: function () { CLEAR }
};
</script></head><body><h1>Gated</h1></body></html>"#
        .replace(
            "CLEAR",
            if clears {
                "document.cookie = 'gated_id=; Max-Age=0; Path=/'; localStorage.removeItem('gated_queue'); indexedDB.deleteDatabase('gated_db');"
            } else { "/* forgets the gated script */" },
        );
    Server::start(move |_h, path| {
        match path {
        "/" => Reply::html(&page),
        "/gated.js" => Reply::js("document.cookie = 'gated_id=7; Max-Age=86400; Path=/';\nlocalStorage.setItem('gated_queue', '[]');\nindexedDB.open('gated_db', 1).onsuccess = function (e) { e.target.result.close(); };\n"),
        _ => Reply::not_found(),
    }
    })
}

#[test]
#[ignore = "needs Chromium: run by `cargo xtask test scan`"]
fn what_a_gated_script_leaves_after_withdrawal_is_a_warning() {
    let _g = lock();
    let site = leaky_withdrawal_site(false);
    let run = scan("withdrawal", &[&site.url("site.test", "/")]);
    assert_eq!(run.code, 0, "warnings alone exit 0");
    assert_eq!(run.phase(0, "withdraw")["action"], "consentry-api: window.Consentry.rejectAll()");
    let c = run.finding("left-after-withdrawal", "gated_id").expect("the cookie left behind is a warning");
    assert_eq!(c["severity"], "warning");
    assert_eq!(c["set_by"]["url"], site.url("site.test", "/gated.js"));
    let s = run.finding("left-after-withdrawal", "gated_queue").expect("the storage key left behind is a warning");
    assert_eq!(s["kind"], "storage");
    let d = run.finding("left-after-withdrawal", "gated_db").expect("the database left behind is a warning");
    assert_eq!(d["kind"], "indexeddb");

    // The same site with a rejectAll() that clears them: no warning.
    let site = leaky_withdrawal_site(true);
    let run = scan("withdrawal-cleared", &[&site.url("site.test", "/")]);
    assert_eq!(run.code, 0);
    assert!(run.findings().is_empty(), "{:?}", run.rules());
    assert!(run.cookie(0, "accept", "gated_id").is_some(), "the gated script did run after accept");
}

#[test]
#[ignore = "needs Chromium: run by `cargo xtask test scan`"]
fn an_unnamed_accept_control_needs_a_selector() {
    let _g = lock();
    let site = Server::start(|_h, path| match path {
        "/" => Reply::html(
            r#"<!doctype html><html><head><title>Odd banner</title></head><body>
<div id="host"></div><script>
const root = document.getElementById('host').attachShadow({ mode: 'open' });
root.innerHTML = '<button class="go">Sounds good</button>';
root.querySelector('.go').addEventListener('click', () => { document.cookie = 'chosen=yes; Max-Age=600; Path=/'; });
</script></body></html>"#,
        ),
        _ => Reply::not_found(),
    });
    let run = scan("no-accept", &[&site.url("site.test", "/"), "--wait", "2"]);
    assert!(run.finding("accept-not-found", &site.url("site.test", "/")).is_some(), "{:?}", run.rules());

    let run = scan("selector", &[&site.url("site.test", "/"), "--accept", "button.go", "--wait", "2"]);
    assert_eq!(run.phase(0, "accept")["action"], "selector button.go");
    assert!(run.cookie(0, "accept", "chosen").is_some(), "the click inside the shadow root happened");
}

#[test]
#[ignore = "needs Chromium: run by `cargo xtask test scan`"]
fn a_page_that_cannot_be_loaded_exits_2() {
    let _g = lock();
    // A port nothing listens on: bind one, then let it go.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let run = scan("unreachable", &[&format!("http://127.0.0.1:{port}/")]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("could not be loaded"), "{}", run.stderr);
    let site = Server::start(|_h, _p| Reply::not_found());
    let run = scan("http-404", &[&site.url("site.test", "/missing")]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("HTTP 404"), "{}", run.stderr);
}

#[test]
#[ignore = "needs Chromium: run by `cargo xtask test scan`"]
fn same_site_links_are_followed_up_to_pages() {
    let _g = lock();
    let site = Server::start(|host, path| match (host, path) {
        (_, "/") => Reply::html(r#"<a href="/a">a</a> <a href="/b#x">b</a> <a href="http://other.test:PORT/">other</a>"#),
        (_, "/a") => Reply::html("<script>document.cookie = 'on_a=1; Path=/'</script>"),
        (_, "/b") => Reply::html("b"),
        _ => Reply::not_found(),
    });
    let run = scan("pages", &[&site.url("site.test", "/"), "--pages", "3", "--wait", "1"]);
    let urls: Vec<&str> = run.report["pages"].as_array().unwrap().iter().map(|p| p["url"].as_str().unwrap()).collect();
    assert_eq!(urls, vec![site.url("site.test", "/"), site.url("site.test", "/a"), site.url("site.test", "/b")]);
    assert!(!site.was_asked("other.test", "/"), "another site is never followed");
    let f = run.finding("stored-before-choice", "on_a").expect("a cookie on the second page");
    assert_eq!(f["pages"][0], site.url("site.test", "/a"));
    assert!(run.stderr.contains("[3/3]"), "{}", run.stderr);
}

#[test]
#[ignore = "needs Chromium: run by `cargo xtask test scan`"]
fn global_privacy_control_is_off_unless_asked_for() {
    let _g = lock();
    let site = Server::start(|_h, path| match path {
        "/" => Reply::html("<script>document.cookie = 'gpc_' + (navigator.globalPrivacyControl === true) + '=1; Path=/';</script>"),
        _ => Reply::not_found(),
    });
    let run = scan("gpc-off", &[&site.url("site.test", "/"), "--wait", "1"]);
    assert!(run.cookie(0, "before", "gpc_false").is_some(), "{:?}", run.phase(0, "before")["cookies"]);
    assert_eq!(site.gpc_sent("/"), Some(false));
    assert_eq!(run.report["options"]["gpc"], false);

    let site = Server::start(|_h, path| match path {
        "/" => Reply::html("<script>document.cookie = 'gpc_' + (navigator.globalPrivacyControl === true) + '=1; Path=/';</script>"),
        _ => Reply::not_found(),
    });
    let run = scan("gpc-on", &[&site.url("site.test", "/"), "--gpc", "--wait", "1"]);
    assert!(run.cookie(0, "before", "gpc_true").is_some(), "{:?}", run.phase(0, "before")["cookies"]);
    assert_eq!(site.gpc_sent("/"), Some(true));
}
