//! `--forward-events`: against a fake PostHog that fails, refuses and restarts; with the
//! collector itself restarted in the middle. Nothing is lost, nothing is kept locally.
use crate::common::*;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Router;
use consentry_collector::forward::Forward;
use consentry_collector::{Collector, Settings};
use serde_json::Value;
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What the fake PostHog has seen, and how it answers.
#[derive(Default)]
struct Fake {
    /// UUIDs received in answered-2xx batches, and their tokens.
    got: BTreeSet<String>,
    tokens: BTreeSet<String>,
    /// Answer 503 to everything while set.
    down: bool,
    /// Answer 400 to a batch holding an event with this name.
    poison: String,
    calls: usize,
}

type Shared = Arc<Mutex<Fake>>;

async fn capture(State(f): State<Shared>, body: String) -> (StatusCode, String) {
    let mut f = f.lock().unwrap();
    f.calls += 1;
    if f.down {
        return (StatusCode::SERVICE_UNAVAILABLE, "{\"error\":\"down\"}".into());
    }
    let v: Value = serde_json::from_str(&body).expect("the collector sends JSON");
    let batch = v["batch"].as_array().expect("a batch");
    if batch.iter().any(|e| e["event"] == f.poison.as_str()) {
        return (StatusCode::BAD_REQUEST, "{\"error\":\"poison\"}".into());
    }
    f.tokens.insert(v["api_key"].as_str().expect("api_key").to_string());
    for e in batch {
        f.got.insert(e["uuid"].as_str().expect("uuid").to_string());
    }
    (StatusCode::OK, "{\"status\":\"Ok\"}".into())
}

async fn fake() -> (String, Shared) {
    let shared: Shared = Arc::new(Mutex::new(Fake { poison: "poison".into(), ..Fake::default() }));
    let app = Router::new().route("/batch/", axum::routing::post(capture)).with_state(shared.clone());
    let l = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
    let url = format!("http://{}", l.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(l, app).await });
    (url, shared)
}

fn settings(url: &str, max: u64, token: Option<&str>) -> Settings {
    let mut f = Forward::new(url, max, token.map(String::from)).unwrap();
    f.retry_base_ms = 50;
    Settings { forward: Some(f), ..demo_settings() }
}

async fn until(what: &str, mut ok: impl FnMut() -> bool) {
    for _ in 0..300 {
        if ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting for {what}");
}

fn uuids(range: std::ops::Range<u32>) -> Vec<String> {
    range.map(uuid).collect()
}

async fn send(c: &Collector, subject: &str, us: &[String]) -> Answer {
    let refs: Vec<&str> = us.iter().map(String::as_str).collect();
    post(c, "/batch/", batch(subject, &refs)).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_reach_posthog_through_failures_and_a_restart() {
    for (kind, db) in backends().await {
        let (url, f) = fake().await;
        f.lock().unwrap().down = true;
        let c = start(&db, settings(&url, 1000, None)).await;
        for part in [0..10, 10..20, 20..30] {
            let r = send(&c, "s1", &uuids(part)).await;
            assert_eq!(r.status, 200, "{kind}: {}", r.text());
        }
        // Down: retried with backoff; nothing stored locally, all queued.
        until("a few failed attempts", || f.lock().unwrap().calls >= 2).await;
        let s = stats(&c).await;
        assert_eq!((count(&s, "events"), count(&s, "queued")), (0, 30), "{kind}");
        // Back up: everything arrives, the queue empties.
        f.lock().unwrap().down = false;
        until("30 events at PostHog", || f.lock().unwrap().got.len() == 30).await;
        let mut queued = 1;
        for _ in 0..50 {
            queued = count(&stats(&c).await, "queued");
            if queued == 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(queued, 0, "{kind}");
        // Down again; ten more events; the collector restarts before they are sent.
        f.lock().unwrap().down = true;
        assert_eq!(send(&c, "s2", &uuids(30..40)).await.status, 200);
        c.stop().await;
        let c = start(&db, settings(&url, 1000, Some("phc_server_side"))).await;
        assert_eq!(count(&stats(&c).await, "queued"), 10, "{kind}: the queue survived the restart");
        f.lock().unwrap().down = false;
        until("40 events at PostHog", || f.lock().unwrap().got.len() == 40).await;
        let want: BTreeSet<String> = uuids(0..40).into_iter().collect();
        assert_eq!(f.lock().unwrap().got, want, "{kind}");
        assert!(f.lock().unwrap().tokens.contains("phc_server_side"), "{kind}: --forward-token is sent");
        // A batch PostHog refuses for good is kept aside, not retried forever.
        let poison = batch("s3", &[&uuid(50)]).replace("$pageview", "poison");
        assert_eq!(post(&c, "/batch/", poison).await.status, 200);
        let mut dead = 0;
        for _ in 0..100 {
            dead = count(&stats(&c).await, "dead");
            if dead == 1 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(dead, 1, "{kind}");
        assert_eq!(count(&stats(&c).await, "queued"), 0, "{kind}");
        c.stop().await;
    }
}

#[tokio::test]
async fn a_full_queue_is_a_503_and_erasure_reaches_queued_events() {
    for (kind, db) in backends().await {
        let (url, f) = fake().await;
        f.lock().unwrap().down = true;
        let c = start(&db, settings(&url, 15, None)).await;
        assert_eq!(send(&c, "s1", &uuids(0..10)).await.status, 200, "{kind}");
        let r = send(&c, "s2", &uuids(10..20)).await;
        assert_eq!(r.status, 503, "{kind}: {}", r.text());
        assert_eq!(r.headers.get("retry-after").unwrap(), "30");
        assert!(r.json()["error"].as_str().unwrap().contains("15 events"), "{kind}");
        assert_eq!(send(&c, "s2", &uuids(10..15)).await.status, 200, "{kind}");
        // The subject's queued events are erased with the subject's data.
        let r = call(&c, "DELETE", "/consentry/subjects/s1", &[], axum::body::Body::empty()).await;
        assert_eq!(r.status, 200, "{kind}: {}", r.text());
        assert_eq!(r.json()["deleted_events"], 10, "{kind}");
        assert_eq!(count(&stats(&c).await, "queued"), 5, "{kind}");
        c.stop().await;
    }
}
