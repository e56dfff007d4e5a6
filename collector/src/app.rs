//! The collector's HTTP routes as an axum `Router`, and the layers around them.
//!
//! | route | what |
//! |---|---|
//! | `POST /consentry/receipts` | receipts (array, one, or `{"receipts","texts"}`): 200 `{"accepted","duplicates"}`, 422 for the first that does not verify or link (nothing of the body stored), 409 for a fork that otherwise follows the chain, with the stored `receipts` from its seq on when the body carries the subject's `secret` |
//! | `POST /batch/` (`/batch`, `/capture/`, `/capture`, `/e/`, `/e`) | PostHog capture: 200 `{"status":"Ok"}` |
//! | `GET`/`DELETE /consentry/subjects/{subject}` | a data-subject request: export, or erase the events (receipts are kept); authorised, audited |
//! | `POST /consentry/texts`, `PUT`/`GET /consentry/texts/{hash}` | the shown-texts documents |
//! | `GET /collector/stats` | counters |
//! | `GET /healthz` | 200 when the database answers |
//!
//! Every body may be plain or gzip (magic bytes), under any `Content-Type` (`text/plain` needs
//! no CORS preflight). Every error is JSON `{"error": …}` naming what is wrong; a database
//! problem is a 503 with `Retry-After`, so browsers keep what they sent and try again.
//!
//! Owns: routing, reading bodies within the limit, the answers, the layers (request log, CORS
//! for the configured origins, response compression, timeout, concurrency and body limits).
//! Must never: acknowledge (2xx) what the store did not commit, or answer a data-subject request
//! it has not authorised and written to the audit table.
use crate::auth::{self, Principal};
use crate::body::{self, Refusal};
use crate::store::{Added, Audit, Ingested, PutText, Store};
use crate::{events, receipts, texts, Settings};
use axum::body::{Body, Bytes};
use axum::extract::{MatchedPath, Path, Request, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::Router;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tower::ServiceBuilder;
use tower_http::compression::CompressionLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;

/// The header that lists, after a receipts body, the texts hashes the collector has no
/// document for (comma-separated): the browser then sends those documents.
pub const MISSING_TEXTS: &str = "consentry-missing-texts";

/// What every handler shares.
#[derive(Clone)]
pub struct App {
    pub store: Store,
    pub settings: Arc<Settings>,
    /// Wakes the forwarder when events are queued.
    pub wake: Arc<tokio::sync::Notify>,
    /// Bodies unpacked and parsed at once (`Settings::max_concurrent_requests`).
    pub slots: Arc<tokio::sync::Semaphore>,
}

/// The collector's router with its layers. `fallback` answers every other path (the demo's
/// static files); without it, those are 404.
pub fn router(app: App, fallback: Option<Router>) -> Router {
    let s = app.settings.clone();
    let batch = post(post_events);
    let mut r = Router::new()
        .route("/consentry/receipts", post(post_receipts))
        .route("/batch", batch.clone())
        .route("/batch/", batch.clone())
        .route("/capture", batch.clone())
        .route("/capture/", batch.clone())
        .route("/e", batch.clone())
        .route("/e/", batch)
        .route("/consentry/subjects/{subject}", get(export_subject).delete(forget_subject))
        .route("/consentry/texts", post(post_text))
        .route("/consentry/texts/{hash}", put(put_text).get(get_text))
        .route("/collector/stats", get(stats))
        .route("/healthz", get(healthz))
        .with_state(app);
    r = match fallback {
        Some(f) => r.fallback_service(f),
        None => r.fallback(|| async { error(StatusCode::NOT_FOUND, "no such path") }),
    };
    let cors = (!s.allowed_origins.is_empty()).then(|| {
        let origins: Vec<HeaderValue> = s.allowed_origins.iter().filter_map(|o| HeaderValue::from_str(o).ok()).collect();
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(origins))
            .allow_methods([Method::GET, Method::POST, Method::PUT, Method::DELETE])
            .allow_headers([header::CONTENT_TYPE, header::AUTHORIZATION])
            .expose_headers([HeaderName::from_static(MISSING_TEXTS)])
            .max_age(Duration::from_secs(86_400))
    });
    r.layer(
        ServiceBuilder::new()
            .layer(middleware::from_fn(log_request))
            .option_layer(cors)
            .layer(CompressionLayer::new())
            .layer(middleware::from_fn_with_state(s.max_body, json_errors))
            .layer(SetResponseHeaderLayer::if_not_present(header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
            .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, s.request_timeout))
            // The timeout's answer needs a body type with a default, which the limit's is not.
            .layer(middleware::from_fn(pass))
            .layer(RequestBodyLimitLayer::new(s.max_body)),
    )
}

/// `{"error": what}` with `status`.
pub fn error(status: StatusCode, what: &str) -> Response {
    (status, axum::Json(json!({ "error": what }))).into_response()
}

fn json_answer(status: StatusCode, v: Value) -> Response {
    (status, axum::Json(v)).into_response()
}

/// A database problem: 503, try again in a few seconds.
fn unavailable(e: &crate::store::StoreError) -> Response {
    tracing::error!("{e}");
    let mut r = error(StatusCode::SERVICE_UNAVAILABLE, &e.to_string());
    r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
    r
}

/// Logs one line per request: method, route (the template, never a subject id), status, time.
async fn log_request(req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let route = req.extensions().get::<MatchedPath>().map(|p| p.as_str().to_string()).unwrap_or_else(|| "(other)".into());
    let t = Instant::now();
    let res = next.run(req).await;
    let ms = t.elapsed().as_secs_f64() * 1000.0;
    let status = res.status().as_u16();
    if status >= 500 {
        tracing::warn!(%method, route, status, ms, "request");
    } else {
        tracing::info!(%method, route, status, ms, "request");
    }
    res
}

async fn pass(req: Request, next: Next) -> Response {
    next.run(req).await
}

/// Gives every error a JSON body: the layers' own answers (405, 408, 413) have none, or text.
/// A 413 or 408 says `Connection: close`: the body was not read to its end, so the server
/// closes the connection after the answer, and a client that took it for reusable would send
/// its next request into a closing socket ("other side closed").
async fn json_errors(State(max_body): State<usize>, req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    let status = res.status();
    if status == StatusCode::PAYLOAD_TOO_LARGE || status == StatusCode::REQUEST_TIMEOUT {
        res.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    let is_json = res.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|t| t.starts_with("application/json"));
    if status.as_u16() < 400 || is_json {
        return res;
    }
    let what = match status {
        StatusCode::METHOD_NOT_ALLOWED => "method not allowed".to_string(),
        StatusCode::REQUEST_TIMEOUT => "the request took too long".to_string(),
        StatusCode::PAYLOAD_TOO_LARGE => format!("the body is larger than {max_body} bytes"),
        s => s.canonical_reason().unwrap_or("error").to_lowercase(),
    };
    let (mut parts, _) = res.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    Response::from_parts(parts, Body::from(json!({ "error": what }).to_string()))
}

/// Reads a body of at most `limit` bytes (413 beyond).
async fn read(body: Body, limit: usize) -> Result<Bytes, Refusal> {
    axum::body::to_bytes(body, limit).await.map_err(|e| {
        let mut src: Option<&(dyn std::error::Error + 'static)> = Some(&e);
        while let Some(s) = src {
            if s.is::<http_body_util::LengthLimitError>() {
                return Refusal::new(413, format!("the body is larger than {limit} bytes"));
            }
            src = s.source();
        }
        Refusal::new(400, format!("could not read the body: {e}"))
    })
}

/// Records a refused body in `rejected` (with the receipt's id and the reason, when there are)
/// and answers `{"error", …extra}`.
async fn refuse(app: &App, path: &str, r: Refusal, id: Option<&str>, extra: Value) -> Response {
    let reason = extra.get("reason").and_then(Value::as_str).unwrap_or(&r.error).to_string();
    if let Err(e) = app.store.log_refusal(path, r.status, id, &reason).await {
        tracing::warn!("could not record a refusal: {e}");
    }
    let status = StatusCode::from_u16(r.status).unwrap_or(StatusCode::BAD_REQUEST);
    let mut v = json!({ "error": r.error });
    if let (Value::Object(m), Value::Object(x)) = (&mut v, extra) {
        m.extend(x);
    }
    json_answer(status, v)
}

/// A body's text, once read (within the limit), given a slot (so that at most
/// `max_concurrent_requests` bodies are unpacked and parsed at once: bounded memory), and
/// unpacked. The slot is held until the answer.
async fn body_text(app: &App, body: Body) -> Result<(Slot, String), Refusal> {
    let bytes = read(body, app.settings.max_body).await?;
    let slot = app.slots.clone().acquire_owned().await.map_err(|_| Refusal::new(503, "the collector is stopping"))?;
    Ok((slot, body::text(&bytes)?))
}

type Slot = tokio::sync::OwnedSemaphorePermit;

/// `POST /consentry/receipts`.
async fn post_receipts(State(app): State<App>, body: Body) -> Response {
    const PATH: &str = "/consentry/receipts";
    let parsed = body_text(&app, body).await.and_then(|(slot, t)| Ok((slot, receipts::parse_body(&t)?)));
    let (_slot, parsed) = match parsed {
        Ok(p) => p,
        Err(r) => return refuse(&app, PATH, r, None, json!({})).await,
    };
    let secret = parsed.secret;
    match app.store.ingest(parsed.items, parsed.texts).await {
        Ok(Ingested::Taken { plan, missing_texts }) => {
            let mut res = json_answer(StatusCode::OK, json!({ "accepted": plan.accepted, "duplicates": plan.duplicates }));
            if !missing_texts.is_empty() {
                if let Ok(v) = HeaderValue::from_str(&missing_texts.join(",")) {
                    res.headers_mut().insert(MISSING_TEXTS, v);
                }
            }
            res
        }
        Ok(Ingested::Refused(r)) => {
            let mut refusal = Refusal::new(422, "receipt refused");
            let mut extra = json!({ "id": r.id, "reason": r.reason });
            if let Some(fork) = &r.fork {
                // Another tab of the same browser took this place first: its sender gets what is
                // stored from here on, to re-chain its own receipts after it.
                let from = (fork.seq() - 2).max(0);
                let rows = match app.store.receipts_page(fork.subject(), from, receipts::FORK_ANSWER_MAX + 1).await {
                    Ok(rows) => rows,
                    Err(e) => return unavailable(&e),
                };
                let stored: Vec<_> = rows.iter().filter_map(|(_, json, _)| crate::evidence::Receipt::parse(json).ok()).collect();
                if let Some(theirs) = receipts::fork_answer(fork, &stored) {
                    refusal = Refusal::new(409, "fork: the chain holds other receipts from this seq on");
                    let holds = match &secret {
                        Some(s) => match auth::holds_secret(&app.store, fork.subject(), s).await {
                            Ok(h) => h,
                            Err(e) => return unavailable(&e),
                        },
                        None => false,
                    };
                    if holds {
                        let list: Vec<Value> = theirs.iter().filter_map(|t| serde_json::from_str(&t.to_json()).ok()).collect();
                        extra["receipts"] = Value::Array(list);
                    } else {
                        // Send them again with the subject's secret to see the chain's receipts.
                        extra["secret"] = Value::from("required");
                    }
                }
            }
            refuse(&app, PATH, refusal, Some(&r.id), extra).await
        }
        Err(e) => unavailable(&e),
    }
}

/// `POST /batch/` and its aliases.
async fn post_events(State(app): State<App>, uri: axum::http::Uri, body: Body) -> Response {
    let path = uri.path().to_string();
    let batch = body_text(&app, body).await.and_then(|(slot, t)| Ok((slot, events::parse(&t)?)));
    let (_slot, batch) = match batch {
        Ok(b) => b,
        Err(r) => return refuse(&app, &path, r, None, json!({})).await,
    };
    let s = &app.settings;
    if !s.project_tokens.is_empty() && !s.project_tokens.contains(&batch.token) {
        let r = Refusal::new(401, "the project token (api_key) is not one this collector takes");
        return refuse(&app, &path, r, None, json!({})).await;
    }
    let forward = s.forward.as_ref().map(|f| f.queue_max);
    match app.store.add_events(batch.events, &batch.token, forward).await {
        Ok(Added::Taken) => {
            if forward.is_some() {
                app.wake.notify_one();
            }
            json_answer(StatusCode::OK, json!({ "status": "Ok" }))
        }
        Ok(Added::QueueFull { max }) => {
            let mut r =
                error(StatusCode::SERVICE_UNAVAILABLE, &format!("the forwarding queue holds {max} events already; try again later"));
            r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("30"));
            r
        }
        Err(e) => unavailable(&e),
    }
}

/// Whether `s` can be a subject id in a path: 1 to 128 visible ASCII characters.
fn subject_ok(s: &str) -> bool {
    (1..=128).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_graphic())
}

/// Authorises a data-subject request and writes it to the audit table. Err: the answer.
async fn authorise(app: &App, headers: &HeaderMap, action: &str, subject: &str) -> Result<Principal, Response> {
    let who = auth::authorise(&app.store, &app.settings, headers, subject).await;
    let (principal, status, detail) = match &who {
        Ok(p) => (p.as_str(), 200, String::new()),
        Err(auth::Denied::Missing) => ("none", 401, "no credentials".to_string()),
        Err(auth::Denied::Wrong) => ("none", 403, "wrong credentials".to_string()),
        Err(auth::Denied::Store(e)) => ("none", 503, e.to_string()),
    };
    if status != 200 {
        let audit = Audit { action, subject, principal, status, detail: &detail };
        if let Err(e) = app.store.audit(audit).await {
            tracing::error!("could not write the audit row: {e}");
        }
    }
    match who {
        Ok(p) => Ok(p),
        Err(auth::Denied::Missing) => {
            let mut r = error(
                StatusCode::UNAUTHORIZED,
                "a data-subject request needs Authorization: Bearer <the admin token or the subject's secret>",
            );
            r.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"consentry\""));
            Err(r)
        }
        Err(auth::Denied::Wrong) => {
            Err(error(StatusCode::FORBIDDEN, "the bearer token is neither the admin token nor this subject's secret"))
        }
        Err(auth::Denied::Store(e)) => Err(unavailable(&e)),
    }
}

/// Writes the audit row of an authorised request; Err when it cannot be written (the request
/// is then not answered: every answered request is in the audit table).
async fn audited(app: &App, a: Audit<'_>) -> Result<(), Response> {
    app.store.audit(a).await.map_err(|e| unavailable(&e))
}

/// `GET /consentry/subjects/{subject}`: `{"subject","receipts":[…],"events":[…],"texts":{hash:
/// document}}`, streamed page by page (a chain of any length in bounded memory).
async fn export_subject(State(app): State<App>, Path(subject): Path<String>, headers: HeaderMap) -> Response {
    if !subject_ok(&subject) {
        return error(StatusCode::NOT_FOUND, "no such subject");
    }
    let who = match authorise(&app, &headers, "export", &subject).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let known = match app.store.knows(&subject).await {
        Ok(k) => k,
        Err(e) => return unavailable(&e),
    };
    let status = if known { 200 } else { 404 };
    let audit = Audit { action: "export", subject: &subject, principal: who.as_str(), status, detail: "" };
    if let Err(r) = audited(&app, audit).await {
        return r;
    }
    if !known {
        return json_answer(StatusCode::NOT_FOUND, json!({ "error": "nothing stored for this subject", "subject": subject }));
    }
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(4);
    tokio::spawn(write_export(app.store.clone(), subject, tx));
    // Fused: the compression layer may poll again after the end.
    let stream =
        futures_util::StreamExt::fuse(futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|item| (item, rx)) }));
    let mut res = Response::new(Body::from_stream(stream));
    res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    res
}

/// How many rows an export reads at a time.
const PAGE: i64 = 500;

async fn write_export(store: Store, subject: String, tx: tokio::sync::mpsc::Sender<Result<Bytes, std::io::Error>>) {
    let fail = |e: crate::store::StoreError| {
        tracing::error!("export cut short: {e}");
        Err(std::io::Error::other(e.to_string()))
    };
    let send = |s: String| tx.send(Ok(Bytes::from(s)));
    let mut head = String::from("{\"subject\":");
    head.push_str(&Value::String(subject.clone()).to_string());
    head.push_str(",\"receipts\":[");
    if send(head).await.is_err() {
        return;
    }
    let mut hashes: Vec<String> = Vec::new();
    let (mut after, mut first) = (0i64, true);
    loop {
        let page = match store.receipts_page(&subject, after, PAGE).await {
            Ok(p) => p,
            Err(e) => return drop(tx.send(fail(e)).await),
        };
        let mut chunk = String::new();
        for (seq, json, texts) in &page {
            if !first {
                chunk.push(',');
            }
            first = false;
            chunk.push_str(json);
            after = *seq;
            if !hashes.contains(texts) {
                hashes.push(texts.clone());
            }
        }
        if !chunk.is_empty() && send(chunk).await.is_err() {
            return;
        }
        if (page.len() as i64) < PAGE {
            break;
        }
    }
    if send("],\"events\":[".into()).await.is_err() {
        return;
    }
    let (mut after, mut first) = (0i64, true);
    loop {
        let page = match store.events_page(&subject, after, PAGE).await {
            Ok(p) => p,
            Err(e) => return drop(tx.send(fail(e)).await),
        };
        let mut chunk = String::new();
        for (n, json) in &page {
            if !first {
                chunk.push(',');
            }
            first = false;
            chunk.push_str(json);
            after = *n;
        }
        if !chunk.is_empty() && send(chunk).await.is_err() {
            return;
        }
        if (page.len() as i64) < PAGE {
            break;
        }
    }
    if send("],\"texts\":{".into()).await.is_err() {
        return;
    }
    for (i, h) in hashes.iter().enumerate() {
        let doc = match store.get_text(h).await {
            Ok(d) => d,
            Err(e) => return drop(tx.send(fail(e)).await),
        };
        let mut chunk = String::new();
        if i > 0 {
            chunk.push(',');
        }
        chunk.push_str(&Value::String(h.clone()).to_string());
        chunk.push(':');
        match doc {
            Some(d) => chunk.push_str(&Value::String(d).to_string()),
            None => chunk.push_str("null"),
        }
        if send(chunk).await.is_err() {
            return;
        }
    }
    let _ = send("}}".into()).await;
}

/// `DELETE /consentry/subjects/{subject}`: erases the subject's analytics events; the receipts
/// stay (they are the evidence of consent, kept as the law requires).
async fn forget_subject(State(app): State<App>, Path(subject): Path<String>, headers: HeaderMap) -> Response {
    if !subject_ok(&subject) {
        return error(StatusCode::NOT_FOUND, "no such subject");
    }
    let who = match authorise(&app, &headers, "delete", &subject).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    match app.store.forget(&subject).await {
        Ok((deleted, kept)) => {
            let detail = format!("deleted_events={deleted} receipts_kept={kept}");
            let audit = Audit { action: "delete", subject: &subject, principal: who.as_str(), status: 200, detail: &detail };
            if let Err(r) = audited(&app, audit).await {
                return r;
            }
            json_answer(StatusCode::OK, json!({ "subject": subject, "deleted_events": deleted, "receipts_kept": kept }))
        }
        Err(e) => unavailable(&e),
    }
}

/// Stores a texts document whose hash is `hash` (already checked).
async fn store_text(app: &App, headers: &HeaderMap, hash: String, doc: &str) -> Response {
    let admin = auth::is_admin(&app.settings, headers);
    match app.store.put_text(&hash, doc, admin).await {
        Ok(PutText::Stored) => json_answer(StatusCode::OK, json!({ "hash": hash, "stored": true })),
        Ok(PutText::AlreadyStored) => json_answer(StatusCode::OK, json!({ "hash": hash, "stored": false })),
        Ok(PutText::Unreferenced) => json_answer(
            StatusCode::CONFLICT,
            json!({
                "error": "no stored receipt refers to this texts hash: send the document with its first receipt ({\"receipts\":[…],\"texts\":[…]}) or after it",
                "hash": hash,
            }),
        ),
        Err(e) => unavailable(&e),
    }
}

/// `POST /consentry/texts`: the body is a shown-texts document; stored under its SHA-256.
async fn post_text(State(app): State<App>, headers: HeaderMap, body: Body) -> Response {
    let (_slot, doc) = match body_text(&app, body).await {
        Ok(d) => d,
        Err(r) => return refuse(&app, "/consentry/texts", r, None, json!({})).await,
    };
    let hash = texts::hash_of(&doc);
    store_text(&app, &headers, hash, &doc).await
}

/// `PUT /consentry/texts/{hash}`: the same, refused when the document's hash is not `hash`.
async fn put_text(State(app): State<App>, Path(hash): Path<String>, headers: HeaderMap, body: Body) -> Response {
    const PATH: &str = "/consentry/texts/{hash}";
    if !texts::is_hash(&hash) {
        let r = Refusal::new(400, "the texts hash must be 64 lower-case hex digits");
        return refuse(&app, PATH, r, None, json!({})).await;
    }
    let (_slot, doc) = match body_text(&app, body).await {
        Ok(d) => d,
        Err(r) => return refuse(&app, PATH, r, None, json!({})).await,
    };
    let actual = texts::hash_of(&doc);
    if actual != hash {
        let r = Refusal::new(422, "texts refused");
        let reason = format!("hash mismatch: the document's SHA-256 is {actual}");
        return refuse(&app, PATH, r, Some(&hash), json!({ "reason": reason })).await;
    }
    store_text(&app, &headers, hash, &doc).await
}

/// `GET /consentry/texts/{hash}`: the document exactly as stored.
async fn get_text(State(app): State<App>, Path(hash): Path<String>) -> Response {
    if !texts::is_hash(&hash) {
        return error(StatusCode::BAD_REQUEST, "the texts hash must be 64 lower-case hex digits");
    }
    match app.store.get_text(&hash).await {
        Ok(Some(doc)) => {
            let kind =
                if serde_json::from_str::<serde::de::IgnoredAny>(&doc).is_ok() { "application/json" } else { "text/plain; charset=utf-8" };
            let mut res = Response::new(Body::from(doc));
            let h = res.headers_mut();
            h.insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=31536000, immutable"));
            if let Ok(tag) = HeaderValue::from_str(&format!("\"{hash}\"")) {
                h.insert(header::ETAG, tag);
            }
            res
        }
        Ok(None) => json_answer(StatusCode::NOT_FOUND, json!({ "error": "no document stored under this hash", "hash": hash })),
        Err(e) => unavailable(&e),
    }
}

/// `GET /collector/stats`: open, unless an admin token is configured (then admin only).
async fn stats(State(app): State<App>, headers: HeaderMap) -> Response {
    if app.settings.admin_token_sha256.is_some() && !auth::is_admin(&app.settings, &headers) {
        return error(StatusCode::UNAUTHORIZED, "the counters need Authorization: Bearer <the admin token>");
    }
    match app.store.stats().await {
        Ok(s) => json_answer(
            StatusCode::OK,
            json!({
                "receipts": s.receipts, "events": s.events, "rejected": s.rejected,
                "texts": s.texts, "queued": s.queued, "dead": s.dead,
            }),
        ),
        Err(e) => unavailable(&e),
    }
}

/// `GET /healthz`.
async fn healthz(State(app): State<App>) -> Response {
    match app.store.ping().await {
        Ok(()) => json_answer(StatusCode::OK, json!({ "status": "ok" })),
        Err(e) => unavailable(&e),
    }
}
