//! `cargo xtask serve` / `demo`: the demo site and the collector on 127.0.0.1.
//!
//! The collector is `consentry-collector`'s router (SQLite, data-subject requests open: the
//! end-to-end tests read exports without credentials); every other path is a static file:
//! `www/` at `/`, `pkg/` at `/pkg/`, `www/dist/` at `/dist/` (tower-http's `ServeDir`, which
//! refuses paths that leave its folder), with the MIME types below and the CSP header on
//! `/csp.html` and `/csp/…`. Prints `http://127.0.0.1:PORT/` on its own line, then
//! `collector db: PATH`; stops cleanly on Ctrl-C / SIGTERM (requests in flight finish, the
//! database is closed). Must never: serve a file outside those three folders.
use anyhow::{anyhow, bail, Context, Result};
use axum::extract::Request;
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;
use consentry_collector::{server, Collector, Settings, Store};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tower_http::services::ServeDir;

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
    let mut db = root.join("target/demo/consentry.sqlite");
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = || it.next().ok_or_else(|| anyhow!("{a} needs a value"));
        match a.as_str() {
            "--port" => port = value()?.parse().context("--port takes a number 0-65535")?,
            "--db" => db = PathBuf::from(value()?),
            _ => bail!("unknown argument {a:?} (serve takes --port N and --db FILE)"),
        }
    }
    tracing_subscriber::fmt().with_max_level(tracing::Level::WARN).with_writer(std::io::stderr).try_init().ok();
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    rt.block_on(async move {
        let store = Store::open(&format!("sqlite:{}", db.display()), 1).await.with_context(|| format!("opening {}", db.display()))?;
        let settings = Settings { open_subject_requests: true, ..Settings::default() };
        let collector = Collector::start(store, settings)?;
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.with_context(|| format!("cannot listen on port {port}"))?;
        let port = listener.local_addr()?.port();
        let mut out = std::io::stdout().lock();
        writeln!(out, "http://127.0.0.1:{port}/")?;
        writeln!(out, "collector db: {}", collector.app.store.describe())?;
        out.flush()?;
        drop(out);
        let router = collector.router(Some(static_files(&root)));
        server::serve(listener, router, 256, Duration::from_secs(2), server::shutdown_signal()).await;
        collector.stop().await;
        eprintln!("stopped");
        Ok(())
    })
}

/// The demo's files: `www/`, `pkg/` at `/pkg/`, `www/dist/` at `/dist/`.
pub fn static_files(root: &Path) -> Router {
    Router::new()
        .nest_service("/pkg", ServeDir::new(root.join("pkg")))
        .nest_service("/dist", ServeDir::new(root.join("www/dist")))
        .fallback_service(ServeDir::new(root.join("www")))
        .layer(middleware::from_fn(file_headers))
}

/// Files are read, never written: other methods are 405. Successful answers get the MIME
/// type of their extension (the table below) and the CSP pages their header.
async fn file_headers(req: Request, next: Next) -> Response {
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return (StatusCode::METHOD_NOT_ALLOWED, axum::Json(serde_json::json!({ "error": "method not allowed" }))).into_response();
    }
    let path = req.uri().path().to_string();
    let mut res = next.run(req).await;
    if res.status() == StatusCode::OK {
        let file = if path.ends_with('/') { "index.html" } else { path.rsplit('/').next().unwrap_or("") };
        res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(mime(file)));
        if path == "/csp.html" || path.starts_with("/csp/") {
            res.headers_mut().insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
        }
    }
    res
}

fn mime(file: &str) -> &'static str {
    match file.rsplit_once('.').map(|(_, e)| e).unwrap_or("") {
        "html" | "htm" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" | "map" => "application/json",
        "wasm" => "application/wasm",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "txt" | "md" | "ts" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tower::ServiceExt;

    #[test]
    fn mime_types() {
        assert_eq!(mime("a.wasm"), "application/wasm");
        assert_eq!(mime("a.mjs"), "text/javascript; charset=utf-8");
        assert_eq!(mime("index.d.ts"), "text/plain; charset=utf-8");
        assert_eq!(mime("a"), "application/octet-stream");
    }

    async fn get(r: &Router, method: &str, path: &str) -> (u16, axum::http::HeaderMap, String) {
        let rq = Request::builder().method(method).uri(path).body(axum::body::Body::empty()).unwrap();
        let res = r.clone().oneshot(rq).await.unwrap();
        let (status, headers) = (res.status().as_u16(), res.headers().clone());
        let body = axum::body::to_bytes(res.into_body(), usize::MAX).await.unwrap();
        (status, headers, String::from_utf8_lossy(&body).into_owned())
    }

    #[tokio::test]
    async fn files_inside_the_served_folders_only() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("site");
        for (p, text) in [
            ("www/index.html", "<p>home"),
            ("www/csp.html", "<p>csp"),
            ("www/csp/inner.html", "<p>inner"),
            ("www/npm/index.html", "<p>npm"),
            ("www/dist/app.js", "app()"),
            ("pkg/cdn/x.wasm", "\0asm"),
            ("pkg/npm/index.d.ts", "export {}"),
        ] {
            let f = root.join(p);
            std::fs::create_dir_all(f.parent().unwrap()).unwrap();
            std::fs::write(f, text).unwrap();
        }
        std::fs::write(dir.path().join("secret.txt"), "secret").unwrap();
        let store = Store::open(&format!("sqlite:{}", dir.path().join("c.sqlite").display()), 1).await.unwrap();
        let c = Collector::start(store, Settings { open_subject_requests: true, ..Settings::default() }).unwrap();
        let r = c.router(Some(static_files(&root)));

        let (s, h, b) = get(&r, "GET", "/").await;
        assert_eq!((s, b.as_str()), (200, "<p>home"));
        assert_eq!(h["content-type"], "text/html; charset=utf-8");
        assert_eq!(h["cache-control"], "no-store");
        assert!(h.get("content-security-policy").is_none());
        let (s, h, _) = get(&r, "GET", "/pkg/cdn/x.wasm").await;
        assert_eq!((s, h["content-type"].to_str().unwrap()), (200, "application/wasm"));
        let (s, h, _) = get(&r, "GET", "/pkg/npm/index.d.ts").await;
        assert_eq!((s, h["content-type"].to_str().unwrap()), (200, "text/plain; charset=utf-8"));
        assert_eq!(get(&r, "GET", "/dist/app.js").await.2, "app()");
        assert_eq!(get(&r, "GET", "/npm/").await.2, "<p>npm");
        let (s, _, _) = get(&r, "GET", "/npm").await;
        assert!((300..400).contains(&s), "a folder without its slash is redirected: {s}");
        for p in ["/csp.html", "/csp/inner.html"] {
            let (s, h, _) = get(&r, "GET", p).await;
            assert_eq!((s, h["content-security-policy"].to_str().unwrap()), (200, CSP), "{p}");
        }
        let (s, h, b) = get(&r, "HEAD", "/").await;
        assert_eq!((s, b.as_str(), h["content-type"].to_str().unwrap()), (200, "", "text/html; charset=utf-8"));
        for bad in ["/../secret.txt", "/%2e%2e/secret.txt", "/pkg/../../secret.txt", "/a/%2E%2E/%2e%2e/secret.txt", "/nothing.html"] {
            let (s, _, b) = get(&r, "GET", bad).await;
            assert!(s == 404 || s == 400, "{bad}: {s}");
            assert!(!b.contains("secret"), "{bad}");
        }
        let (s, _, b) = get(&r, "POST", "/index.html").await;
        assert_eq!(s, 405);
        assert!(b.contains("\"error\""), "{b}");
        // The collector's routes come first.
        let (s, _, b) = get(&r, "GET", "/collector/stats").await;
        assert_eq!(s, 200, "{b}");
        assert!(b.contains("\"receipts\":0"), "{b}");
        c.stop().await;
    }
}
