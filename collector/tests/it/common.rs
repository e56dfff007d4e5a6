//! Shared rig: fresh databases, a collector as a router or on a real socket, requests.
use axum::body::Body;
use axum::http::{Request, StatusCode};
use consentry_collector::evidence::{ChainMaker, Receipt};
use consentry_collector::{Collector, Settings, Store};
use serde_json::Value;
use std::sync::atomic::{AtomicU32, Ordering};
use tower::ServiceExt;

/// A fresh database: SQLite in a temp dir, or a new PostgreSQL database.
pub struct Db {
    pub url: String,
    _dir: Option<tempfile::TempDir>,
}

pub fn sqlite() -> Db {
    let dir = tempfile::tempdir().expect("a temp dir");
    let url = format!("sqlite:{}", dir.path().join("c.sqlite").display());
    Db { url, _dir: Some(dir) }
}

/// The server named by `CONSENTRY_TEST_PG`, if any.
pub fn pg_server() -> Option<String> {
    match std::env::var("CONSENTRY_TEST_PG") {
        Ok(u) if !u.is_empty() => Some(u),
        _ => {
            eprintln!("CONSENTRY_TEST_PG is not set: this PostgreSQL test checks nothing here (cargo xtask test sets it)");
            None
        }
    }
}

static DBS: AtomicU32 = AtomicU32::new(0);

/// A new, empty PostgreSQL database on the test server.
pub async fn postgres() -> Option<Db> {
    let server = pg_server()?;
    let name = format!("consentry_t{}_{}", std::process::id(), DBS.fetch_add(1, Ordering::SeqCst));
    let (client, conn) = tokio_postgres::connect(&server, tokio_postgres::NoTls).await.expect("CONSENTRY_TEST_PG answers");
    tokio::spawn(conn);
    client.batch_execute(&format!("CREATE DATABASE {name}")).await.expect("CREATE DATABASE");
    let base = server.rsplit_once('/').map(|(b, _)| b).expect("a URL ending in /DB");
    Some(Db { url: format!("{base}/{name}"), _dir: None })
}

/// Both backends: SQLite, and PostgreSQL when the environment has one.
pub async fn backends() -> Vec<(&'static str, Db)> {
    let mut v = vec![("sqlite", sqlite())];
    if let Some(p) = postgres().await {
        v.push(("postgres", p));
    }
    v
}

/// The demo's settings: data-subject requests open.
pub fn demo_settings() -> Settings {
    Settings { open_subject_requests: true, ..Settings::default() }
}

pub async fn start(db: &Db, settings: Settings) -> Collector {
    let store = Store::open(&db.url, 8).await.expect("the database opens");
    Collector::start(store, settings).expect("the collector starts")
}

/// An answer: status, headers, body.
pub struct Answer {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", String::from_utf8_lossy(&self.body)))
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// One request through the router (no socket).
pub async fn call(c: &Collector, method: &str, path: &str, headers: &[(&str, &str)], body: impl Into<Body>) -> Answer {
    let mut rq = Request::builder().method(method).uri(path);
    for (k, v) in headers {
        rq = rq.header(*k, *v);
    }
    let res = c.router(None).oneshot(rq.body(body.into()).expect("a request")).await.expect("the router answers");
    let status = res.status();
    let headers = res.headers().clone();
    let body = axum::body::to_bytes(res.into_body(), usize::MAX).await.expect("the body reads").to_vec();
    Answer { status, headers, body }
}

pub async fn post(c: &Collector, path: &str, body: impl Into<Body>) -> Answer {
    call(c, "POST", path, &[("content-type", "application/json")], body).await
}

pub async fn get(c: &Collector, path: &str) -> Answer {
    call(c, "GET", path, &[], Body::empty()).await
}

pub async fn stats(c: &Collector) -> Value {
    let a = get(c, "/collector/stats").await;
    assert_eq!(a.status, 200, "{}", a.text());
    a.json()
}

pub fn count(v: &Value, k: &str) -> i64 {
    v[k].as_i64().unwrap_or_else(|| panic!("{k} in {v}"))
}

/// A chain of `n` receipts of subject `[s; 16]`, whose texts hash is `texts`.
pub fn chain(s: u8, n: usize, texts: &str) -> Vec<Receipt> {
    let mut m = ChainMaker::new([s; 16], texts);
    (0..n).map(|_| m.next_receipt()).collect()
}

pub fn array(rs: &[Receipt]) -> String {
    let parts: Vec<String> = rs.iter().map(Receipt::to_json).collect();
    format!("[{}]", parts.join(","))
}

pub fn ids(v: &Value, k: &str) -> Vec<String> {
    v[k].as_array().unwrap_or_else(|| panic!("{k} in {v}")).iter().map(|s| s.as_str().expect("an id").to_string()).collect()
}

pub fn gzip(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut z = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    z.write_all(data).expect("memory");
    z.finish().expect("memory")
}

/// A PostHog batch of `$pageview`s of `subject` with these UUIDs.
pub fn batch(subject: &str, uuids: &[&str]) -> String {
    let events: Vec<String> = uuids
        .iter()
        .map(|u| {
            format!(
                "{{\"event\":\"$pageview\",\"properties\":{{\"distinct_id\":\"d1\",\"$consentry_subject\":\"{subject}\"}},\
                 \"timestamp\":\"2026-11-23T10:00:00.000Z\",\"uuid\":\"{u}\"}}"
            )
        })
        .collect();
    format!("{{\"api_key\":\"demo\",\"batch\":[{}],\"sent_at\":\"2026-11-23T10:00:01.000Z\"}}", events.join(","))
}

/// The n-th test UUID.
pub fn uuid(n: u32) -> String {
    format!("0190b6d2-6a7e-7cc1-8a4e-{n:012x}")
}

/// A collector served on a real socket (127.0.0.1, any free port); `stop` ends it gracefully.
pub struct Served {
    pub url: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    done: Option<tokio::task::JoinHandle<()>>,
}

impl Served {
    pub async fn start(c: &Collector) -> Served {
        let l = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await.expect("a port");
        let url = format!("http://{}", l.local_addr().expect("an address"));
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let router = c.router(None);
        let done = tokio::spawn(consentry_collector::server::serve(l, router, 64, std::time::Duration::from_secs(5), async {
            let _ = rx.await;
        }));
        Served { url, stop: Some(tx), done: Some(done) }
    }

    pub async fn stop(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(d) = self.done.take() {
            d.await.expect("the server task ends");
        }
    }
}

/// An HTTP client (plain HTTP to 127.0.0.1).
pub fn client() -> reqwest::Client {
    consentry_collector::forward::install_tls();
    reqwest::Client::new()
}
