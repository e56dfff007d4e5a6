//! `cargo xtask serve` / `demo`: the demo site and the collector on 127.0.0.1.
//!
//! Owns: argument parsing, routing (collector first, then files), static files (`www/` at `/`,
//! `pkg/` at `/pkg/`, `www/dist/` at `/dist/`), MIME types, the CSP header of the CSP test pages,
//! and a clean stop on Ctrl-C / SIGTERM (the database is closed). HTTP itself is `http.rs`; the
//! collector's answers are `collector.rs`. Must never: serve a file outside those three folders
//! (no `..`, also percent-encoded), or die on a request (a panic becomes a 500).
use crate::collector::{self, Collector, Reply};
use crate::http::{Request, Response, Server};
use anyhow::{anyhow, bail, Context, Result};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

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
    let listener = std::net::TcpListener::bind(("127.0.0.1", port)).with_context(|| format!("cannot listen on port {port}"))?;
    let port = listener.local_addr()?.port();

    let (signal, stopping) = std::sync::mpsc::channel();
    ctrlc::set_handler(move || {
        let _ = signal.send(());
    })
    .context("installing the Ctrl-C handler")?;

    let collector: Arc<Shared> = Arc::new(Mutex::new(Some(collector)));
    let shared = collector.clone();
    let server = Server::start(listener, Arc::new(move |rq: &mut Request| handle(rq, &root, &shared)))?;

    let mut out = std::io::stdout().lock();
    writeln!(out, "http://127.0.0.1:{port}/")?;
    let shown = std::fs::canonicalize(&db).unwrap_or(db);
    writeln!(out, "collector db: {}", shown.display())?;
    out.flush()?;
    drop(out);

    let _ = stopping.recv();
    // Requests in flight get a moment; a client stalled mid-request is abandoned.
    if !server.stop(Duration::from_secs(2)) {
        eprintln!("serve: a request was still being received; abandoning it");
    }
    if let Some(c) = lock(&collector).take() {
        c.close()?;
    }
    eprintln!("stopped");
    Ok(())
}

/// The collector, or `None` once the server is stopping (the database is closed).
type Shared = Mutex<Option<Collector>>;

fn lock(c: &Shared) -> std::sync::MutexGuard<'_, Option<Collector>> {
    c.lock().unwrap_or_else(|e| e.into_inner())
}

/// Answers one request: the collector's routes, else a file.
fn handle(rq: &mut Request, root: &Path, collector: &Shared) -> Response {
    let path = rq.target.split(['?', '#']).next().unwrap_or("/").to_string();
    let method = rq.method.clone();
    let method = method.as_str();
    let body = match method {
        "POST" | "PUT" | "DELETE" | "PATCH" => collector::read_body(rq.body_length, rq.body()),
        _ => Ok(Vec::new()),
    };
    let mut db = lock(collector);
    let Some(c) = db.as_mut() else {
        return json(collector::error(503, "the server is stopping", &[]));
    };
    let routed = match body {
        Ok(b) => c.route(method, &path, &b),
        Err(r) => Some(c.log_refusal(&path, r)),
    };
    drop(db);
    let answer = match routed {
        Some(r) => json(r),
        None if method == "GET" || method == "HEAD" => static_file(root, &path),
        None => json(collector::error(405, "method not allowed", &[])),
    };
    answer.header("Cache-Control", "no-store")
}

fn json(r: Reply) -> Response {
    Response::new(r.status, "application/json", r.body.into_bytes())
}

fn static_file(root: &Path, path: &str) -> Response {
    let Some(file) = resolve(root, path) else {
        return json(collector::error(400, "bad path", &[]));
    };
    let file = if file.is_dir() {
        if !path.ends_with('/') {
            return Response::new(301, "text/plain", Vec::new()).header("Location", &format!("{path}/"));
        }
        file.join("index.html")
    } else {
        file
    };
    let Ok(data) = std::fs::read(&file) else {
        return Response::new(404, "text/plain; charset=utf-8", b"not found\n".to_vec());
    };
    let r = Response::new(200, mime(&file), data);
    if path == "/csp.html" || path.starts_with("/csp/") {
        return r.header("Content-Security-Policy", CSP);
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
        assert_eq!(resolve(root, "/a/b.js"), Some(PathBuf::from("/r/www/a/b.js")));
        assert_eq!(resolve(root, "/pkg/cdn/x.wasm"), Some(PathBuf::from("/r/pkg/cdn/x.wasm")));
        assert_eq!(resolve(root, "/dist/app.js"), Some(PathBuf::from("/r/www/dist/app.js")));
        assert_eq!(resolve(root, "/a%20b.html"), Some(PathBuf::from("/r/www/a b.html")));
        for bad in ["/../etc/passwd", "/pkg/../../x", "/%2e%2e/x", "/a/%2E%2E/%2e%2e/x", "/a%5c..%5cx", "/%zz", "/%ff", "x"] {
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
