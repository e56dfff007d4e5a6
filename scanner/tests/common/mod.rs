//! Test rig: a tiny HTTP server for fixture sites on loopback, and running the scanner binary.
//!
//! Owns: serving fixture pages by (host, path) on 127.0.0.1 (the scanner maps `*.test` there with
//! `--host-resolver-rules`, so `site.test` and `tracker.test` are two sites on one port),
//! remembering what was asked of it, and running `consentry-scan` with its report read back.
//! Must never: listen on anything but 127.0.0.1, or decide a test's outcome.
#![allow(dead_code)]
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};

/// One answer of the fixture server.
pub struct Reply {
    pub status: u16,
    pub content_type: &'static str,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Reply {
    pub fn ok(content_type: &'static str, body: &str) -> Reply {
        Reply { status: 200, content_type, headers: Vec::new(), body: body.to_string() }
    }
    pub fn html(body: &str) -> Reply {
        Reply::ok("text/html; charset=utf-8", body)
    }
    pub fn js(body: &str) -> Reply {
        Reply::ok("text/javascript", body)
    }
    pub fn not_found() -> Reply {
        Reply { status: 404, content_type: "text/plain", headers: Vec::new(), body: "not found".into() }
    }
    pub fn header(mut self, k: &str, v: &str) -> Reply {
        self.headers.push((k.into(), v.into()));
        self
    }
}

type Routes = dyn Fn(&str, &str) -> Reply + Send + Sync;

/// A fixture server; `PORT` in a reply's body is replaced by its port.
pub struct Server {
    pub port: u16,
    /// Every request seen: (host without port, path with query, sent `Sec-GPC: 1`).
    pub seen: Arc<Mutex<Vec<(String, String, bool)>>>,
}

impl Server {
    pub fn start(routes: impl Fn(&str, &str) -> Reply + Send + Sync + 'static) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("binding 127.0.0.1:0");
        let port = listener.local_addr().unwrap().port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let routes: Arc<Routes> = Arc::new(routes);
        let seen2 = Arc::clone(&seen);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let routes = Arc::clone(&routes);
                let seen = Arc::clone(&seen2);
                std::thread::spawn(move || {
                    let mut reader = BufReader::new(stream.try_clone().unwrap());
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    let path = line.split_whitespace().nth(1).unwrap_or("/").to_string();
                    let (mut host, mut len, mut gpc) = (String::new(), 0usize, false);
                    loop {
                        let mut h = String::new();
                        if reader.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
                            break;
                        }
                        if let Some((k, v)) = h.split_once(':') {
                            let v = v.trim();
                            if k.eq_ignore_ascii_case("host") {
                                host = v.rsplit_once(':').map(|(h, _)| h).unwrap_or(v).to_string();
                            } else if k.eq_ignore_ascii_case("sec-gpc") {
                                gpc = v == "1";
                            } else if k.eq_ignore_ascii_case("content-length") {
                                len = v.parse().unwrap_or(0);
                            }
                        }
                    }
                    let mut body = vec![0u8; len];
                    let _ = reader.read_exact(&mut body);
                    seen.lock().unwrap().push((host.clone(), path.clone(), gpc));
                    let r = routes(&host, &path);
                    let body = r.body.replace("PORT", &port.to_string());
                    let mut head = format!(
                        "HTTP/1.1 {} X\r\nContent-Type: {}\r\nContent-Length: {}\r\nCache-Control: no-store\r\nConnection: close\r\n",
                        r.status,
                        r.content_type,
                        body.len()
                    );
                    for (k, v) in &r.headers {
                        head.push_str(&format!("{k}: {v}\r\n"));
                    }
                    head.push_str("\r\n");
                    let _ = stream.write_all(head.as_bytes());
                    let _ = stream.write_all(body.as_bytes());
                    let _ = stream.flush();
                });
            }
        });
        Server { port, seen }
    }

    /// `http://HOST:PORT/PATH`
    pub fn url(&self, host: &str, path: &str) -> String {
        format!("http://{host}:{}{path}", self.port)
    }

    pub fn was_asked(&self, host: &str, path_prefix: &str) -> bool {
        self.seen.lock().unwrap().iter().any(|(h, p, _)| h == host && p.starts_with(path_prefix))
    }

    /// Whether every request for `path` carried `Sec-GPC: 1` (None: never asked).
    pub fn gpc_sent(&self, path: &str) -> Option<bool> {
        let seen = self.seen.lock().unwrap();
        let hits: Vec<bool> = seen.iter().filter(|(_, p, _)| p == path).map(|(.., g)| *g).collect();
        (!hits.is_empty()).then(|| hits.iter().all(|g| *g))
    }
}

/// Chromium tests take turns: two cores, and each scan starts three browsers.
pub static ONE_BROWSER_TEST_AT_A_TIME: Mutex<()> = Mutex::new(());

pub fn lock() -> std::sync::MutexGuard<'static, ()> {
    ONE_BROWSER_TEST_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner())
}

/// What one run of the scanner gave.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub report: serde_json::Value,
    pub dir: PathBuf,
}

impl Run {
    pub fn findings(&self) -> Vec<&serde_json::Value> {
        self.report["findings"].as_array().map(|a| a.iter().collect()).unwrap_or_default()
    }
    /// (severity, rule, name) of every finding.
    pub fn rules(&self) -> Vec<(String, String, String)> {
        self.findings()
            .iter()
            .map(|f| {
                (
                    f["severity"].as_str().unwrap_or("").into(),
                    f["rule"].as_str().unwrap_or("").into(),
                    f["name"].as_str().unwrap_or("").into(),
                )
            })
            .collect()
    }
    pub fn finding(&self, rule: &str, name: &str) -> Option<&serde_json::Value> {
        self.findings().into_iter().find(|f| f["rule"] == rule && f["name"] == name)
    }
    pub fn phase(&self, page: usize, phase: &str) -> &serde_json::Value {
        &self.report["pages"][page][phase]
    }
    pub fn cookie(&self, page: usize, phase: &str, name: &str) -> Option<&serde_json::Value> {
        self.phase(page, phase)["cookies"].as_array()?.iter().find(|c| c["name"] == name)
    }
}

pub fn scanner() -> &'static str {
    env!("CARGO_BIN_EXE_consentry-scan")
}

/// A fresh output folder under the target's temporary directory.
pub fn out_dir(name: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join("scan-tests").join(name);
    let _ = std::fs::remove_dir_all(&d);
    d
}

/// Runs the scanner with `args` (and `.test` hosts mapped to loopback), reading back its report.
pub fn scan(name: &str, args: &[&str]) -> Run {
    let dir = out_dir(name);
    let out = Command::new(scanner())
        .args(args)
        .arg("--out")
        .arg(&dir)
        .arg("--chromium-arg=--host-resolver-rules=MAP *.test 127.0.0.1")
        .output()
        .expect("running consentry-scan");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let report = std::fs::read_to_string(dir.join("report.json"))
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or(serde_json::Value::Null);
    eprintln!("--- consentry-scan {args:?}\n{stdout}{stderr}");
    Run { code: out.status.code().unwrap_or(-1), stdout, stderr, report, dir }
}
