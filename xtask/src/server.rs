//! `cargo xtask serve` / `demo`: the demo's HTTP server on 127.0.0.1.
//!
//! Owns: argument parsing, static files (`www/` at `/`, `pkg/` at `/pkg/`, `www/dist/` at `/dist/`),
//! MIME types, the CSP header of the CSP test pages, worker threads and clean shutdown. Everything
//! the collector answers is delegated to `collector.rs`. Must never: serve a file outside those three
//! folders (no `..`, also percent-encoded), or die on a request (a panic becomes a 500).
use crate::collector::{self, Collector, Reply};
use anyhow::{anyhow, bail, Context, Result};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tiny_http::{Header, Request, Response, Server};

const WORKERS: usize = 4;
const CSP: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; connect-src 'self'";

/// `cargo xtask demo`: build the packages when they are stale, then serve.
pub fn demo(args: &[String]) -> Result<()> {
    crate::build::ensure_built()?;
    serve(args)
}

/// `cargo xtask serve [--port N] [--db FILE]`.
pub fn serve(args: &[String]) -> Result<()> {
    let root = crate::build::root();
    let mut port: u16 = 8080;
    let mut db = root.join("target/demo/collector.sqlite");
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = || it.next().ok_or_else(|| anyhow!("{a} needs a value"));
        match a.as_str() {
            "--port" => port = value()?.parse().context("--port takes a number 0-65535")?,
            "--db" => db = PathBuf::from(value()?),
            _ => bail!("unknown argument {a:?} (serve takes --port N and --db FILE)"),
        }
    }
    if let Some(dir) = db.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let collector = Collector::open(&db).with_context(|| format!("opening {}", db.display()))?;
    let server = Server::http(("127.0.0.1", port))
        .map_err(|e| anyhow!("cannot listen on port {port}: {e}"))?;
    let port = server
        .server_addr()
        .to_ip()
        .map(|a| a.port())
        .unwrap_or(port);

    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    ctrlc::set_handler(move || flag.store(true, Ordering::SeqCst))
        .context("installing the Ctrl-C handler")?;

    let mut out = std::io::stdout().lock();
    writeln!(out, "http://127.0.0.1:{port}/")?;
    writeln!(
        out,
        "collector db: {}",
        std::fs::canonicalize(&db).unwrap_or(db).display()
    )?;
    out.flush()?;
    drop(out);

    let server = Arc::new(server);
    let collector = Arc::new(Mutex::new(collector));
    let workers: Vec<_> = (0..WORKERS)
        .map(|_| {
            let (server, collector, stop, root) = (
                server.clone(),
                collector.clone(),
                stop.clone(),
                root.clone(),
            );
            std::thread::spawn(move || {
                while !stop.load(Ordering::SeqCst) {
                    match server.recv_timeout(Duration::from_millis(200)) {
                        Ok(Some(rq)) => handle(rq, &root, &collector),
                        Ok(None) => {}
                        Err(e) => eprintln!("serve: {e}"),
                    }
                }
            })
        })
        .collect();
    for w in workers {
        let _ = w.join();
    }
    let collector = Arc::try_unwrap(collector).map_err(|_| anyhow!("collector still in use"))?;
    collector
        .into_inner()
        .unwrap_or_else(|e| e.into_inner())
        .close()?;
    eprintln!("stopped");
    Ok(())
}

/// Answers one request; never lets a panic escape the worker.
fn handle(mut rq: Request, root: &Path, collector: &Mutex<Collector>) {
    let method = rq.method().as_str().to_string();
    let url = rq.url().to_string();
    let path = url.split(['?', '#']).next().unwrap_or("/").to_string();
    let body = match method.as_str() {
        "POST" | "PUT" | "DELETE" | "PATCH" => {
            collector::read_body(rq.body_length(), rq.as_reader())
        }
        _ => Ok(Vec::new()),
    };
    let answer = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let body = match body {
            Ok(b) => b,
            Err(r) => return json(lock(collector).log_refusal(&path, r)),
        };
        let routed = lock(collector).route(&method, &path, &body);
        match routed {
            Some(r) => json(r),
            None if method == "GET" || method == "HEAD" => static_file(root, &path),
            None => json(collector::error(405, "method not allowed", &[])),
        }
    }));
    let answer = answer.unwrap_or_else(|_| json(collector::error(500, "internal error", &[])));
    let _ = rq.respond(answer.with_header(header("Cache-Control", "no-store")));
}

fn lock(c: &Mutex<Collector>) -> std::sync::MutexGuard<'_, Collector> {
    c.lock().unwrap_or_else(|e| e.into_inner())
}

type Answer = Response<std::io::Cursor<Vec<u8>>>;

fn header(k: &str, v: &str) -> Header {
    Header::from_bytes(k.as_bytes(), v.as_bytes()).expect("static header text is valid")
}

fn json(r: Reply) -> Answer {
    Response::from_data(r.body.into_bytes())
        .with_status_code(r.status)
        .with_header(header("Content-Type", "application/json"))
}

fn static_file(root: &Path, path: &str) -> Answer {
    let Some(file) = resolve(root, path) else {
        return json(collector::error(400, "bad path", &[]));
    };
    let file = if file.is_dir() {
        if !path.ends_with('/') {
            let to = format!("{path}/");
            return Response::from_data(Vec::new())
                .with_status_code(301)
                .with_header(header("Location", &to));
        }
        file.join("index.html")
    } else {
        file
    };
    let Ok(data) = std::fs::read(&file) else {
        return Response::from_data(b"not found\n".to_vec())
            .with_status_code(404)
            .with_header(header("Content-Type", "text/plain; charset=utf-8"));
    };
    let mut r = Response::from_data(data).with_header(header("Content-Type", mime(&file)));
    if path == "/csp.html" || path.starts_with("/csp/") {
        r.add_header(header("Content-Security-Policy", CSP));
    }
    r
}

/// Maps a URL path to a file under one of the served folders; `None` for a path that tries to
/// leave it or is not valid percent-encoded UTF-8.
pub fn resolve(root: &Path, path: &str) -> Option<PathBuf> {
    let path = percent_decode(path)?;
    let rest = path.strip_prefix('/')?;
    let (mut dir, rest) = if let Some(r) = rest.strip_prefix("pkg/") {
        (root.join("pkg"), r)
    } else if let Some(r) = rest.strip_prefix("dist/") {
        (root.join("www/dist"), r)
    } else {
        (root.join("www"), rest)
    };
    for seg in rest.split('/') {
        if seg == ".." || seg.contains(['\\', '\0', ':']) {
            return None;
        }
        if !seg.is_empty() && seg != "." {
            dir.push(seg);
        }
    }
    Some(dir)
}

/// Decodes `%XX` escapes; `None` for a broken escape or text that is not UTF-8.
pub fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn mime(file: &Path) -> &'static str {
    match file.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "html" | "htm" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" | "map" => "application/json",
        "wasm" => "application/wasm",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "txt" | "md" => "text/plain; charset=utf-8",
        "ts" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_stay_inside_the_served_folders() {
        let root = Path::new("/r");
        assert_eq!(resolve(root, "/"), Some(PathBuf::from("/r/www")));
        assert_eq!(
            resolve(root, "/a/b.js"),
            Some(PathBuf::from("/r/www/a/b.js"))
        );
        assert_eq!(
            resolve(root, "/pkg/cdn/x.wasm"),
            Some(PathBuf::from("/r/pkg/cdn/x.wasm"))
        );
        assert_eq!(
            resolve(root, "/dist/app.js"),
            Some(PathBuf::from("/r/www/dist/app.js"))
        );
        assert_eq!(
            resolve(root, "/a%20b.html"),
            Some(PathBuf::from("/r/www/a b.html"))
        );
        for bad in [
            "/../etc/passwd",
            "/pkg/../../x",
            "/%2e%2e/x",
            "/a/%2E%2E/%2e%2e/x",
            "/a%5c..%5cx",
            "/%zz",
            "/%ff",
            "x",
        ] {
            assert_eq!(resolve(root, bad), None, "{bad}");
        }
    }

    #[test]
    fn mime_types() {
        assert_eq!(mime(Path::new("a.wasm")), "application/wasm");
        assert_eq!(mime(Path::new("a.mjs")), "text/javascript; charset=utf-8");
        assert_eq!(mime(Path::new("a.svg")), "image/svg+xml");
        assert_eq!(mime(Path::new("a")), "application/octet-stream");
    }
}
