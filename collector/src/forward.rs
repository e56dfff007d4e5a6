//! `--forward-events URL`: sends accepted events on to PostHog (or anything that speaks its
//! capture API), from the queue in the database.
//!
//! The request handler only queues (`forward_queue`, bounded by `--forward-queue-max`: when
//! full, new batches are answered 503 and the browser keeps them). This task leases due events
//! (up to 100, oldest first; under PostgreSQL several instances share the queue without taking
//! the same event at once), POSTs them as one batch per token to `URL/batch/`, and then:
//! 2xx → removes them; 408, 429, 5xx or no answer → retries later with exponential backoff
//! (1 s doubling to 5 min, with jitter); any other 4xx (PostHog refuses them for good) → moves
//! them to `forward_dead`, logged, kept for the operator. A restart loses nothing: the queue is
//! in the database and a lease that is not released expires.
//!
//! Owns: the forwarding loop. Must never: delete a queued event before the destination
//! answered 2xx, or stop the collector from shutting down (the loop ends when told).
use crate::store::{Queued, Store};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{watch, Notify};

/// Where and how events are forwarded.
#[derive(Debug, Clone)]
pub struct Forward {
    /// The capture endpoint events are POSTed to (`…/batch/`).
    pub endpoint: String,
    /// The most events the queue holds.
    pub queue_max: u64,
    /// The project token sent instead of each batch's own.
    pub token: Option<String>,
    /// The first retry's delay (it doubles, up to 5 min).
    pub retry_base_ms: i64,
}

impl Forward {
    /// `base` is PostHog's host (`https://eu.i.posthog.com`) or a full capture URL.
    pub fn new(base: &str, queue_max: u64, token: Option<String>) -> Result<Forward, String> {
        let url = reqwest::Url::parse(base).map_err(|e| format!("--forward-events {base}: not a URL: {e}"))?;
        if url.scheme() != "https" && url.scheme() != "http" {
            return Err(format!("--forward-events {base}: expected an http(s) URL"));
        }
        let endpoint = if url.path() == "/" || url.path().is_empty() {
            format!("{}batch/", url.as_str().trim_end_matches('/').to_string() + "/")
        } else {
            url.to_string()
        };
        Ok(Forward { endpoint, queue_max, token, retry_base_ms: 1000 })
    }
}

/// Events leased at a time, and for how long.
const CLAIM: i64 = 100;
const LEASE_MS: i64 = 60_000;

/// The delay before attempt `attempts + 1`: `base_ms` doubling, at most 5 min, ±25 % jitter.
pub fn backoff_ms(base_ms: i64, attempts: i64, jitter: f64) -> i64 {
    let base = base_ms as f64 * 2f64.powi(attempts.clamp(0, 20) as i32);
    let capped = base.min(300_000.0);
    (capped * (0.75 + 0.5 * jitter.clamp(0.0, 1.0))) as i64
}

/// A number in [0, 1) that differs from call to call (for jitter; not for secrets).
fn jitter() -> f64 {
    let n = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
    (n.wrapping_mul(2_654_435_761) % 1_000_000) as f64 / 1_000_000.0
}

/// Installs rustls's ring provider for the process (reqwest's TLS), once; needed before any
/// reqwest client is built. rustls now prefers aws-lc-rs (post-quantum key exchange), whose C
/// build would add minutes to a cold build on two cores; classical key exchange is what
/// PostHog's hosts take today.
pub fn install_tls() {
    #[allow(deprecated)]
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Starts the forwarding loop; it ends when `stop` becomes true.
pub fn spawn(
    store: Store,
    fwd: Forward,
    wake: Arc<Notify>,
    mut stop: watch::Receiver<bool>,
) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    install_tls();
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(15))
        .user_agent(concat!("consentry-collector/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| anyhow::anyhow!("the forwarding HTTP client: {e}"))?;
    Ok(tokio::spawn(async move {
        tracing::info!(endpoint = fwd.endpoint, "forwarding events");
        loop {
            if *stop.borrow() {
                break;
            }
            let batch = match store.claim(CLAIM, LEASE_MS).await {
                Ok(b) => b,
                Err(e) => {
                    tracing::warn!("forwarding: {e}");
                    Vec::new()
                }
            };
            if batch.is_empty() {
                tokio::select! {
                    _ = wake.notified() => {}
                    _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                    _ = stop.changed() => {}
                }
                continue;
            }
            for group in by_token(batch) {
                send(&client, &store, &fwd, group).await;
            }
        }
    }))
}

/// Consecutive runs of one token, in order.
fn by_token(batch: Vec<Queued>) -> Vec<Vec<Queued>> {
    let mut out: Vec<Vec<Queued>> = Vec::new();
    for q in batch {
        match out.last_mut() {
            Some(g) if g[0].token == q.token => g.push(q),
            _ => out.push(vec![q]),
        }
    }
    out
}

/// The body PostHog's `/batch/` takes.
fn body(token: &str, group: &[Queued]) -> String {
    let mut s = String::from("{\"api_key\":");
    s.push_str(&serde_json::Value::String(token.to_string()).to_string());
    s.push_str(",\"batch\":[");
    for (i, q) in group.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        s.push_str(&q.json);
    }
    s.push_str("]}");
    s
}

async fn send(client: &reqwest::Client, store: &Store, fwd: &Forward, group: Vec<Queued>) {
    let ns: Vec<i64> = group.iter().map(|q| q.n).collect();
    let token = fwd.token.as_deref().unwrap_or(&group[0].token);
    let attempts = group.iter().map(|q| q.attempts).max().unwrap_or(0);
    let answer = client.post(&fwd.endpoint).header("content-type", "application/json").body(body(token, &group)).send().await;
    let outcome = match answer {
        Ok(r) if r.status().is_success() => store.forwarded(&ns).await,
        Ok(r) => {
            let status = r.status().as_u16();
            let text: String = r.text().await.unwrap_or_default().chars().take(300).collect();
            let why = format!("HTTP {status}: {text}");
            if status == 408 || status == 429 || status >= 500 {
                tracing::warn!(events = ns.len(), "forwarding refused for now ({why}); retrying later");
                store.retry_later(&ns, backoff_ms(fwd.retry_base_ms, attempts, jitter()), &why).await
            } else {
                tracing::error!(events = ns.len(), "forwarding refused for good ({why}); kept in forward_dead");
                store.bury(&ns, &why).await
            }
        }
        Err(e) => {
            let why = format!("no answer: {e}");
            tracing::warn!(events = ns.len(), "forwarding failed ({why}); retrying later");
            store.retry_later(&ns, backoff_ms(fwd.retry_base_ms, attempts, jitter()), &why).await
        }
    };
    if let Err(e) = outcome {
        // The lease runs out and the events are sent again: at least once, never lost.
        tracing::warn!("forwarding: {e}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints() {
        let f = |u: &str| Forward::new(u, 10, None).map(|f| f.endpoint);
        assert_eq!(f("https://eu.i.posthog.com").unwrap(), "https://eu.i.posthog.com/batch/");
        assert_eq!(f("https://ph.example/").unwrap(), "https://ph.example/batch/");
        assert_eq!(f("http://127.0.0.1:9/capture/").unwrap(), "http://127.0.0.1:9/capture/");
        assert!(f("ftp://x").unwrap_err().contains("http(s)"));
        assert!(f("nope").unwrap_err().contains("not a URL"));
    }

    #[test]
    fn backoff_doubles_to_five_minutes() {
        assert_eq!(backoff_ms(1000, 0, 0.5), 1000);
        assert_eq!(backoff_ms(1000, 3, 0.5), 8000);
        assert_eq!(backoff_ms(1000, 30, 0.5), 300_000);
        assert_eq!(backoff_ms(1000, 0, 0.0), 750);
        assert_eq!(backoff_ms(1000, 0, 1.0), 1250);
        let j = jitter();
        assert!((0.0..1.0).contains(&j));
    }

    #[test]
    fn groups_and_bodies() {
        let q = |n, t: &str| Queued { n, token: t.into(), json: format!("{{\"n\":{n}}}"), attempts: 0 };
        let g = by_token(vec![q(1, "a"), q(2, "a"), q(3, "b"), q(4, "a")]);
        assert_eq!(g.iter().map(Vec::len).collect::<Vec<_>>(), [2, 1, 1]);
        assert_eq!(body("a", &g[0]), "{\"api_key\":\"a\",\"batch\":[{\"n\":1},{\"n\":2}]}");
    }
}
