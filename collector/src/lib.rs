//! Consentry's collector: receives consent receipts and keeps them as verified hash chains,
//! keeps the wording they refer to, takes PostHog-format analytics events (stored, or forwarded
//! to PostHog), and answers authorised data-subject requests. SQLite for one instance,
//! PostgreSQL for several. The binary is `consentry-collector` (`src/main.rs`); `cargo xtask
//! serve` runs the same router with the demo's static files.
//!
//! Modules, in the order a request meets them: `server` (HTTP/1.1 accept loop), `app` (routes
//! and layers), `body` (plain or gzip bodies), `receipts` / `events` / `texts` (what a body
//! holds, checked), `auth` (data-subject requests), `store` (SQLite / PostgreSQL), `forward`
//! (to PostHog), `verify` (whole-database verification), and `evidence`, the one module that
//! uses `consentry::core` (the same receipt and verifier as the browser).
pub mod app;
pub mod auth;
pub mod body;
pub mod events;
pub mod evidence;
pub mod forward;
pub mod receipts;
pub mod server;
pub mod store;
pub mod texts;
pub mod verify;

use std::sync::Arc;
use std::time::Duration;

pub use app::router;
pub use store::Store;

/// How a collector behaves (the command line's flags, or the demo's choices).
#[derive(Debug, Clone)]
pub struct Settings {
    /// The largest request body, in bytes (a gzip body may unpack to `body::MAX_UNPACKED`).
    pub max_body: usize,
    /// The longest a request may take, body included (408 beyond).
    pub request_timeout: Duration,
    /// Requests worked on at once (more wait, within the request timeout): bounds the memory
    /// that unpacking and parsing bodies take.
    pub max_concurrent_requests: usize,
    /// Origins whose pages may call the collector (CORS); empty: same origin only.
    pub allowed_origins: Vec<String>,
    /// SHA-256 of the admin token, if there is one.
    pub admin_token_sha256: Option<[u8; 32]>,
    /// Answer data-subject requests without authorisation. Only the local demo does this (its
    /// end-to-end tests read exports); the binary has no flag for it.
    pub open_subject_requests: bool,
    /// Project tokens (`api_key`) taken; empty: any non-blank one.
    pub project_tokens: Vec<String>,
    /// Forward events instead of storing them.
    pub forward: Option<forward::Forward>,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            max_body: 64 * 1024,
            request_timeout: Duration::from_secs(10),
            max_concurrent_requests: 64,
            allowed_origins: Vec::new(),
            admin_token_sha256: None,
            open_subject_requests: false,
            project_tokens: Vec::new(),
            forward: None,
        }
    }
}

/// A collector ready to serve: its state and its forwarder (if any).
pub struct Collector {
    pub app: app::App,
    stop: tokio::sync::watch::Sender<bool>,
    forwarder: Option<tokio::task::JoinHandle<()>>,
}

impl Collector {
    /// Starts a collector on an open store (and its forwarder, with `settings.forward`).
    pub fn start(store: Store, settings: Settings) -> anyhow::Result<Collector> {
        let wake = Arc::new(tokio::sync::Notify::new());
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let forwarder = match &settings.forward {
            Some(f) => Some(forward::spawn(store.clone(), f.clone(), wake.clone(), stopped)?),
            None => None,
        };
        Ok(Collector {
            app: app::App {
                store,
                slots: Arc::new(tokio::sync::Semaphore::new(settings.max_concurrent_requests.max(1))),
                settings: Arc::new(settings),
                wake,
            },
            stop,
            forwarder,
        })
    }

    /// The router (with `fallback` for other paths, see `app::router`).
    pub fn router(&self, fallback: Option<axum::Router>) -> axum::Router {
        app::router(self.app.clone(), fallback)
    }

    /// Stops the forwarder and closes the database.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        if let Some(f) = self.forwarder {
            if tokio::time::timeout(Duration::from_secs(20), f).await.is_err() {
                tracing::warn!("the forwarder did not stop within 20 s");
            }
        }
        self.app.store.close().await;
    }
}
