//! The scanner against the project's own demo (built `pkg/`, served by `xtask serve` as the
//! end-to-end tests do), and its HTML report opened in Chromium.
//!
//! Needs Chromium and the built packages, so `#[ignore]`d; the `scan` layer of `cargo xtask test`
//! runs it after the build layer.
mod common;
use common::{lock, scan};
use consentry_scan::browser::{Launch, Session};
use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

fn cargo() -> Command {
    let mut c = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    c.current_dir(root());
    c
}

/// `xtask serve` on a free port with a fresh database; stopped when dropped.
struct Demo {
    child: Child,
    url: String,
    _db: tempfile::TempDir,
}

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_demo() -> Demo {
    // The packages the demo serves: built by the build layer; built here when run alone.
    if !root().join("pkg/cdn/consentry.js").exists() {
        let ok = cargo().args(["xtask", "build"]).status().expect("running cargo xtask build").success();
        assert!(ok, "cargo xtask build failed");
    }
    // The server binary of this source, as the end-to-end layer does.
    let ok = cargo().args(["build", "--quiet", "-p", "xtask", "--bin", "xtask"]).status().expect("building xtask").success();
    assert!(ok, "building xtask failed");
    let xtask = Path::new(common::scanner()).with_file_name("xtask");
    let db = tempfile::tempdir().unwrap();
    let mut child = Command::new(&xtask)
        .args(["serve", "--port", "0", "--db"])
        .arg(db.path().join("collector.sqlite"))
        .current_dir(root())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| panic!("starting {}: {e}", xtask.display()));
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let url = loop {
        match lines.next() {
            Some(Ok(l)) if l.starts_with("http://127.0.0.1:") && l.trim_end().ends_with('/') => break l.trim().to_string(),
            Some(Ok(_)) => continue,
            _ => {
                let _ = child.kill();
                panic!("xtask serve ended before printing its URL");
            }
        }
    };
    // Keep reading its output so it never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    Demo { child, url, _db: db }
}

/// (purpose id, name) → lifetime, for every cookie and storage key a config declares: a service's
/// `cookies` and `storage` lists, or its `name` when it has neither (then the name is the cookie).
fn declared(config: &serde_json::Value) -> BTreeSet<(String, String, String)> {
    let mut out = BTreeSet::new();
    for p in config["purposes"].as_array().unwrap() {
        for s in p["services"].as_array().into_iter().flatten() {
            let lifetime = s["lifetime"].as_str().unwrap_or("").to_string();
            let listed: Vec<&serde_json::Value> =
                s["cookies"].as_array().into_iter().flatten().chain(s["storage"].as_array().into_iter().flatten()).collect();
            if listed.is_empty() {
                out.insert((p["id"].as_str().unwrap().into(), s["name"].as_str().unwrap().into(), lifetime));
            } else {
                for n in listed {
                    out.insert((p["id"].as_str().unwrap().into(), n.as_str().unwrap().into(), lifetime.clone()));
                }
            }
        }
    }
    out
}

fn proposed(snippet: &serde_json::Value) -> BTreeSet<(String, String, String)> {
    let mut out = BTreeSet::new();
    for p in snippet["purposes"].as_array().unwrap() {
        for s in p["services"].as_array().unwrap() {
            for name in s["cookies"].as_array().unwrap().iter().chain(s["storage"].as_array().unwrap()) {
                out.insert((p["id"].as_str().unwrap().into(), name.as_str().unwrap().into(), s["lifetime"].as_str().unwrap().into()));
            }
        }
    }
    out
}

#[test]
#[ignore = "needs Chromium and the built demo: run by `cargo xtask test scan`"]
fn the_demo_passes_and_its_snippet_matches_its_config() {
    let _g = lock();
    let demo = start_demo();
    let run = scan("demo", &[&demo.url]);
    assert_eq!(run.code, 0, "the demo exits 0: {:?}", run.rules());
    assert!(run.findings().iter().all(|f| f["severity"] != "violation"), "{:?}", run.rules());
    assert!(run.phase(0, "before")["cookies"].as_array().unwrap().is_empty(), "no cookie before a choice");
    assert!(run.phase(0, "before")["requests"].as_array().unwrap().is_empty(), "no request to another site before a choice");
    assert!(run.phase(0, "accept")["action"].as_str().unwrap().starts_with("consentry-api"));
    assert!(run.phase(0, "withdraw")["action"].as_str().unwrap().starts_with("consentry-api"));

    let config: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(root().join("www/consent.json")).unwrap()).unwrap();
    let snippet = &run.report["services"];
    assert_eq!(proposed(snippet), declared(&config), "snippet {snippet:#}");
    assert!(snippet["unclassified"].as_array().unwrap().is_empty(), "{snippet:#}");
    // services.json is the same snippet, ready to paste.
    let file: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(run.dir.join("services.json")).unwrap()).unwrap();
    assert_eq!(&file, snippet);
}

/// Rows of the report's findings table, read from the page Chromium rendered.
const FINDINGS_ROWS: &str =
    "Array.from(document.querySelectorAll('#findings tbody tr'), tr => [tr.className, tr.cells[1].textContent, tr.cells[3].textContent])";

#[test]
#[ignore = "needs Chromium: run by `cargo xtask test scan`"]
fn the_html_report_shows_the_findings_in_chromium() {
    let _g = lock();
    // The tracker fixture: violations, warnings and a banner to show.
    let site = common::Server::start(|host, path| {
        match (host, path) {
        ("site.test", "/") => common::Reply::html(
            r#"<!doctype html><html lang="en"><head><title>Leaky shop</title><script src="http://tracker.test:PORT/t.js"></script></head>
<body style="font-family:sans-serif"><h1>Leaky shop</h1><p>The tag runs before the banner asks.</p>
<div role="dialog" aria-label="Cookies" style="position:fixed;bottom:0;left:0;right:0;padding:16px;background:#fde">
We use cookies. <button onclick="this.parentNode.remove()">Accept all</button> <button onclick="this.parentNode.remove()">Reject all</button></div></body></html>"#,
        ),
        ("tracker.test", "/t.js") => common::Reply::js(
            "document.cookie = '_ga=GA1.1.42.1; Max-Age=63072000; Path=/';\nlocalStorage.setItem('trk_queue', '[]');\nnew Image().src = 'http://tracker.test:PORT/collect?v=2';\n",
        ),
        _ => common::Reply::ok("image/gif", ""),
    }
    });
    let run = scan("report", &[&site.url("site.test", "/"), "--wait", "3"]);
    assert_eq!(run.code, 1);
    let html = run.dir.join("report.html");
    assert!(std::fs::read_to_string(&html).unwrap().contains("data:image/png;base64,"), "the banner screenshot is embedded");

    let rt = tokio::runtime::Runtime::new().unwrap();
    let (rows, png) = rt.block_on(async {
        let launch = Launch {
            chromium: PathBuf::from(std::env::var_os("CHROMIUM").unwrap_or_else(|| "/usr/bin/chromium".into())),
            extra_args: vec![],
            gpc: false,
            load_timeout: Duration::from_secs(30),
            settle_timeout: Duration::from_secs(5),
        };
        let s = Session::start(&launch).await.expect("starting Chromium");
        s.open(&format!("file://{}", html.display())).await.expect("opening the report");
        let rows = s.eval(FINDINGS_ROWS).await.expect("reading the findings table");
        let png = s.screenshot().await.expect("screenshot");
        s.close().await;
        (rows, png)
    });
    let rows: Vec<(String, String, String)> = serde_json::from_value(rows).unwrap();
    let expected: Vec<(String, String, String)> = run
        .findings()
        .iter()
        .map(|f| {
            (
                f["severity"].as_str().unwrap().into(),
                f["rule"].as_str().unwrap().into(),
                format!("{} {}", f["kind"].as_str().unwrap(), f["name"].as_str().unwrap()),
            )
        })
        .collect();
    assert_eq!(rows, expected, "the table shows every finding of report.json, in order");
    assert_eq!(rows[0].0, "violation", "violations first");
    assert!(rows.iter().any(|r| r.1 == "tracker-before-choice" && r.2 == "cookie _ga"), "{rows:?}");
    assert!(rows.iter().any(|r| r.1 == "request-before-choice" && r.2 == "request tracker.test"), "{rows:?}");
    assert!(rows.iter().any(|r| r.1 == "stored-before-choice" && r.2 == "storage trk_queue"), "{rows:?}");
    let shot = Path::new(env!("CARGO_TARGET_TMPDIR")).join("scan-report.png");
    std::fs::write(&shot, png).unwrap();
    eprintln!("screenshot of the report: {}", shot.display());
}
