//! `consentry-collector`: the command line. Every flag also reads an environment variable
//! (`CONSENTRY_…`), for containers and service managers.
use anyhow::Context;
use clap::{Parser, ValueEnum};
use consentry_collector::{forward::Forward, server, Collector, Settings, Store};
use std::path::PathBuf;
use std::time::Duration;

/// Consentry's collector: keeps consent receipts as verified hash chains and the wording they
/// refer to, takes PostHog-format analytics events (stored, or forwarded to PostHog), and
/// answers authorised data-subject requests.
///
/// One instance: `consentry-collector --db sqlite:/var/lib/consentry/collector.sqlite`.
/// Several behind a proxy: the same `--db postgres://…` for each.
#[derive(Parser, Debug)]
#[command(name = "consentry-collector", version, max_term_width = 100)]
struct Args {
    /// Address and port to listen on.
    #[arg(long, env = "CONSENTRY_LISTEN", default_value = "127.0.0.1:8787")]
    listen: String,

    /// The database: `sqlite:PATH` (one instance) or `postgres://USER:PASSWORD@HOST/DB`
    /// (several instances may share it).
    #[arg(long, env = "CONSENTRY_DB", default_value = "sqlite:consentry-collector.sqlite")]
    db: String,

    /// The most PostgreSQL connections this instance opens.
    #[arg(long, env = "CONSENTRY_POOL_SIZE", default_value_t = 16)]
    pool_size: usize,

    /// An origin whose pages may send to the collector from the browser, e.g.
    /// `https://shop.example` (CORS). Repeat for several, or comma-separate in the variable.
    /// None: only pages served from the collector's own origin (or through the same proxy).
    #[arg(long = "allow-origin", env = "CONSENTRY_ALLOW_ORIGINS", value_delimiter = ',')]
    allow_origins: Vec<String>,

    /// A file holding the admin token (its first line): `Authorization: Bearer <token>` then
    /// opens any subject's export and erasure, and the counters. Without it, only a visitor's
    /// own secret opens their data.
    #[arg(long, env = "CONSENTRY_ADMIN_TOKEN_FILE")]
    admin_token_file: Option<PathBuf>,

    /// Forward accepted events to PostHog instead of storing them: its host (e.g.
    /// `https://eu.i.posthog.com`, events go to `/batch/`) or a full capture URL. Queued in the
    /// database, retried with backoff, nothing lost on restart.
    #[arg(long, env = "CONSENTRY_FORWARD_EVENTS")]
    forward_events: Option<String>,

    /// The PostHog project token to forward with (default: each batch's own `api_key`).
    #[arg(long, env = "CONSENTRY_FORWARD_TOKEN", requires = "forward_events")]
    forward_token: Option<String>,

    /// The most events waiting to be forwarded; beyond, new batches are answered 503 and the
    /// browser keeps them for later.
    #[arg(long, env = "CONSENTRY_FORWARD_QUEUE_MAX", default_value_t = 100_000)]
    forward_queue_max: u64,

    /// A project token (`api_key`) the collector takes events for. Repeat for several; none:
    /// any non-blank token.
    #[arg(long = "project-token", env = "CONSENTRY_PROJECT_TOKENS", value_delimiter = ',')]
    project_tokens: Vec<String>,

    /// The largest request body in bytes (gzip bodies may unpack to 1 MiB).
    #[arg(long, env = "CONSENTRY_MAX_BODY", default_value_t = 64 * 1024)]
    max_body: usize,

    /// Seconds a request may take, its body included (408 beyond).
    #[arg(long, env = "CONSENTRY_REQUEST_TIMEOUT", default_value_t = 10)]
    request_timeout: u64,

    /// Connections open at once (more wait in the listen backlog).
    #[arg(long, env = "CONSENTRY_MAX_CONNECTIONS", default_value_t = 1024)]
    max_connections: usize,

    /// Seconds a stop (SIGTERM, Ctrl-C) waits for requests in flight.
    #[arg(long, env = "CONSENTRY_SHUTDOWN_GRACE", default_value_t = 10)]
    shutdown_grace: u64,

    /// Log lines as text or as JSON objects (one per line).
    #[arg(long, env = "CONSENTRY_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,

    /// The least important log level shown: error, warn, info, debug or trace.
    #[arg(long, env = "CONSENTRY_LOG_LEVEL", default_value = "info")]
    log_level: tracing::Level,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let logs = tracing_subscriber::fmt().with_max_level(args.log_level).with_writer(std::io::stderr);
    match args.log_format {
        LogFormat::Text => logs.init(),
        LogFormat::Json => logs.json().flatten_event(true).init(),
    }
    let admin_token_sha256 = match &args.admin_token_file {
        Some(p) => {
            let text = std::fs::read_to_string(p).with_context(|| format!("--admin-token-file {}", p.display()))?;
            let token = text.lines().next().unwrap_or("").trim();
            if token.len() < 16 {
                anyhow::bail!("--admin-token-file {}: the token must be at least 16 characters on the first line", p.display());
            }
            Some(consentry_collector::auth::digest(token))
        }
        None => None,
    };
    let forward = match &args.forward_events {
        Some(url) => Some(Forward::new(url, args.forward_queue_max, args.forward_token.clone()).map_err(anyhow::Error::msg)?),
        None => None,
    };
    for o in &args.allow_origins {
        if !(o.starts_with("https://") || o.starts_with("http://")) || o.ends_with('/') {
            anyhow::bail!("--allow-origin {o}: expected an origin like https://shop.example (scheme and host, no path)");
        }
    }
    let settings = Settings {
        max_body: args.max_body,
        request_timeout: Duration::from_secs(args.request_timeout.max(1)),
        allowed_origins: args.allow_origins.clone(),
        admin_token_sha256,
        project_tokens: args.project_tokens.clone(),
        forward,
        ..Settings::default()
    };
    tokio::runtime::Builder::new_multi_thread().enable_all().build()?.block_on(run(args, settings))
}

async fn run(args: Args, settings: Settings) -> anyhow::Result<()> {
    let store = Store::open(&args.db, args.pool_size).await.with_context(|| format!("opening the database {}", args.db))?;
    let listener = tokio::net::TcpListener::bind(&args.listen).await.with_context(|| format!("cannot listen on {}", args.listen))?;
    let addr = listener.local_addr()?;
    let collector = Collector::start(store, settings)?;
    tracing::info!(%addr, db = collector.app.store.describe(), "listening");
    let router = collector.router(None);
    server::serve(listener, router, args.max_connections, Duration::from_secs(args.shutdown_grace), server::shutdown_signal()).await;
    collector.stop().await;
    tracing::info!("stopped");
    Ok(())
}
