//! Where the collector keeps what it takes: SQLite (one instance, the default) or PostgreSQL
//! (several instances sharing one database). Both have the same tables and the same behaviour.
//!
//! Tables: `receipts` (unique id, unique `(subject, seq)`), `subjects` (first seen, the hash of
//! the subject's secret), `texts` (shown-texts documents by hash), `events`, `forward_queue` and
//! `forward_dead` (events on their way to PostHog, and those it refused), `rejected` (refused
//! bodies), `audit` (every data-subject request).
//!
//! Owns: the schema, transactions, and the lock that keeps a subject's chain whole when several
//! requests (or instances) append to it at once: one body is one transaction that first locks
//! its subjects (PostgreSQL: transaction-scoped advisory locks, taken in sorted order; SQLite:
//! `BEGIN IMMEDIATE`, one writer), then reads the chain ends, decides with `receipts::plan`, and
//! inserts. Must never: acknowledge a write before its transaction committed, store part of a
//! refused body, or delete a receipt.
mod postgres;
mod sqlite;

use crate::events::Event;
use crate::evidence::Receipt;
use crate::receipts::{Item, Plan, Refused};

/// A database problem (not the client's): answered 503, so clients try again later.
#[derive(Debug, Clone)]
pub struct StoreError(pub String);

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "database: {}", self.0)
    }
}

impl std::error::Error for StoreError {}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError(e.to_string())
    }
}

impl From<tokio_postgres::Error> for StoreError {
    fn from(e: tokio_postgres::Error) -> Self {
        // The server's message (with its SQLSTATE) says more than the client's summary.
        match e.as_db_error() {
            Some(d) => StoreError(format!("{} ({})", d.message(), d.code().code())),
            None => StoreError(e.to_string()),
        }
    }
}

impl From<deadpool_postgres::PoolError> for StoreError {
    fn from(e: deadpool_postgres::PoolError) -> Self {
        StoreError(format!("no connection: {e}"))
    }
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// What became of a receipts body.
#[derive(Debug)]
pub enum Ingested {
    Taken {
        plan: Plan,
        /// Texts hashes the new receipts refer to that no stored document has.
        missing_texts: Vec<String>,
    },
    Refused(Refused),
}

/// What became of a batch of events.
#[derive(Debug, PartialEq)]
pub enum Added {
    /// Stored (or queued for forwarding); duplicates (by uuid) are skipped.
    Taken,
    /// The forwarding queue holds `max` events already: try again later.
    QueueFull { max: u64 },
}

/// What became of a shown-texts document.
#[derive(Debug, PartialEq)]
pub enum PutText {
    Stored,
    AlreadyStored,
    /// No stored receipt refers to this hash (and the request may not store it regardless).
    Unreferenced,
}

/// The collector's counters.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Stats {
    pub receipts: i64,
    pub events: i64,
    pub rejected: i64,
    pub texts: i64,
    pub queued: i64,
    pub dead: i64,
}

/// One data-subject request, as the audit table keeps it.
#[derive(Debug, Clone)]
pub struct Audit<'a> {
    pub action: &'a str,
    pub subject: &'a str,
    /// Who asked: `admin`, `subject` (the subject's secret), `open` (a demo collector without
    /// authorisation) or `none` (refused).
    pub principal: &'a str,
    pub status: u16,
    pub detail: &'a str,
}

/// An audit row as read back.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditRow {
    pub at: i64,
    pub action: String,
    pub subject: String,
    pub principal: String,
    pub status: i64,
    pub detail: String,
}

/// An event waiting to be forwarded.
#[derive(Debug, Clone, PartialEq)]
pub struct Queued {
    pub n: i64,
    pub token: String,
    pub json: String,
    pub attempts: i64,
}

/// A receipt row for verification: subject, seq, stored JSON, texts hash.
#[derive(Debug, Clone, PartialEq)]
pub struct ChainRow {
    pub subject: String,
    pub seq: i64,
    pub json: String,
    pub texts: String,
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

/// Where a `--db` value points.
#[derive(Debug, Clone, PartialEq)]
pub enum Location {
    Sqlite(std::path::PathBuf),
    Postgres(String),
}

impl Location {
    /// `sqlite:PATH`, `postgres://…` / `postgresql://…`, or a bare path (SQLite).
    pub fn parse(db: &str) -> std::result::Result<Location, String> {
        if db.starts_with("postgres://") || db.starts_with("postgresql://") {
            return Ok(Location::Postgres(db.to_string()));
        }
        let path = db.strip_prefix("sqlite:").unwrap_or(db);
        let path = path.strip_prefix("//").unwrap_or(path);
        if path.is_empty() {
            return Err("--db: expected sqlite:PATH or postgres://USER@HOST/DB".into());
        }
        if db.contains("://") && !db.starts_with("sqlite:") {
            return Err(format!("--db {db}: unknown database kind (expected sqlite:PATH or postgres://…)"));
        }
        Ok(Location::Sqlite(path.into()))
    }
}

/// The database of one collector instance.
#[derive(Clone)]
pub enum Store {
    Sqlite(sqlite::Sqlite),
    Postgres(postgres::Postgres),
}

macro_rules! each {
    ($self:ident, $s:ident => $e:expr) => {
        match $self {
            Store::Sqlite($s) => $e,
            Store::Postgres($s) => $e,
        }
    };
}

impl Store {
    /// Opens (and creates or upgrades the schema of) the database at `db` (see `Location`).
    /// `pool` is the most PostgreSQL connections this instance opens.
    pub async fn open(db: &str, pool: usize) -> anyhow::Result<Store> {
        match Location::parse(db).map_err(anyhow::Error::msg)? {
            Location::Sqlite(path) => Ok(Store::Sqlite(sqlite::Sqlite::open(&path).await?)),
            Location::Postgres(url) => Ok(Store::Postgres(postgres::Postgres::open(&url, pool).await?)),
        }
    }

    /// For logs and the `collector db:` line: the SQLite file, or the PostgreSQL URL without
    /// its password.
    pub fn describe(&self) -> String {
        each!(self, s => s.describe())
    }

    /// Closes the database (SQLite: folds the write-ahead log back into the file).
    pub async fn close(&self) {
        each!(self, s => s.close().await)
    }

    pub async fn ping(&self) -> Result<()> {
        each!(self, s => s.ping().await)
    }

    /// Takes a receipts body in one transaction (see the module documentation).
    pub async fn ingest(&self, items: Vec<Item>, texts: Vec<String>) -> Result<Ingested> {
        each!(self, s => s.ingest(items, texts).await)
    }

    /// Stores events (or, with `forward_max`, queues them for forwarding, refusing the whole
    /// batch when the queue would grow past that many), skipping uuids already there.
    pub async fn add_events(&self, events: Vec<Event>, token: &str, forward_max: Option<u64>) -> Result<Added> {
        each!(self, s => s.add_events(events, token, forward_max).await)
    }

    /// Stores a shown-texts document under `hash` (the caller checked that it is the
    /// document's hash). Unless `any`, only a hash a stored receipt refers to is taken.
    pub async fn put_text(&self, hash: &str, doc: &str, any: bool) -> Result<PutText> {
        each!(self, s => s.put_text(hash, doc, any).await)
    }

    pub async fn get_text(&self, hash: &str) -> Result<Option<String>> {
        each!(self, s => s.get_text(hash).await)
    }

    /// Which of `hashes` have a stored document.
    pub async fn texts_present(&self, hashes: &[String]) -> Result<Vec<String>> {
        each!(self, s => s.texts_present(hashes).await)
    }

    /// The hash of the subject's secret, from its first receipt; None when it has none.
    pub async fn secret_hash(&self, subject: &str) -> Result<Option<String>> {
        each!(self, s => s.secret_hash(subject).await)
    }

    /// Records the hash of a subject's secret, unless it has one already (the first wins).
    pub async fn set_secret_hash(&self, subject: &str, hash: &str) -> Result<()> {
        each!(self, s => s.set_secret_hash(subject, hash).await)
    }

    /// Up to `limit` of the subject's receipts after `after_seq`, oldest first: (seq, JSON,
    /// texts hash).
    pub async fn receipts_page(&self, subject: &str, after_seq: i64, limit: i64) -> Result<Vec<(i64, String, String)>> {
        each!(self, s => s.receipts_page(subject, after_seq, limit).await)
    }

    /// Up to `limit` of the subject's stored events after row `after`, in arrival order:
    /// (row, JSON).
    pub async fn events_page(&self, subject: &str, after: i64, limit: i64) -> Result<Vec<(i64, String)>> {
        each!(self, s => s.events_page(subject, after, limit).await)
    }

    /// Whether anything is stored about the subject (receipts, events or queued events).
    pub async fn knows(&self, subject: &str) -> Result<bool> {
        each!(self, s => s.knows(subject).await)
    }

    /// Erases the subject's analytics events (stored and queued); keeps its receipts.
    /// Returns (events erased, receipts kept).
    pub async fn forget(&self, subject: &str) -> Result<(i64, i64)> {
        each!(self, s => s.forget(subject).await)
    }

    pub async fn stats(&self) -> Result<Stats> {
        each!(self, s => s.stats().await)
    }

    /// Records a refused body (the `rejected` table keeps the newest `MAX_REJECTED`).
    pub async fn log_refusal(&self, path: &str, status: u16, id: Option<&str>, reason: &str) -> Result<()> {
        each!(self, s => s.log_refusal(path, status, id, reason).await)
    }

    pub async fn audit(&self, a: Audit<'_>) -> Result<()> {
        each!(self, s => s.audit(a).await)
    }

    /// The audit rows about a subject, oldest first.
    pub async fn audit_of(&self, subject: &str) -> Result<Vec<AuditRow>> {
        each!(self, s => s.audit_of(subject).await)
    }

    /// Up to `limit` receipts after `(subject, seq)` in (subject, seq) order: the whole table,
    /// page by page, for verification in bounded memory.
    pub async fn chain_page(&self, after: Option<(String, i64)>, limit: i64) -> Result<Vec<ChainRow>> {
        each!(self, s => s.chain_page(after, limit).await)
    }

    /// Takes up to `limit` queued events that are due, leasing them for `lease_ms` (no other
    /// instance takes them meanwhile), oldest first.
    pub async fn claim(&self, limit: i64, lease_ms: i64) -> Result<Vec<Queued>> {
        each!(self, s => s.claim(limit, lease_ms).await)
    }

    /// Removes forwarded events from the queue.
    pub async fn forwarded(&self, ns: &[i64]) -> Result<()> {
        each!(self, s => s.forwarded(ns).await)
    }

    /// Puts events back in the queue, due again in `delay_ms`.
    pub async fn retry_later(&self, ns: &[i64], delay_ms: i64, error: &str) -> Result<()> {
        each!(self, s => s.retry_later(ns, delay_ms, error).await)
    }

    /// Moves events the destination refused for good to `forward_dead` (kept, never resent).
    pub async fn bury(&self, ns: &[i64], error: &str) -> Result<()> {
        each!(self, s => s.bury(ns, error).await)
    }

    /// Test aid: a direct insert of an already verified chain piece, without the checks.
    #[doc(hidden)]
    pub async fn insert_unchecked(&self, receipts: Vec<Receipt>) -> Result<()> {
        each!(self, s => s.insert_unchecked(receipts).await)
    }
}

/// How many refused bodies `rejected` keeps (the oldest go first).
pub const MAX_REJECTED: i64 = 100_000;

/// The receipts' texts hashes that `present` lacks, each once, in order.
fn missing(receipts: &[Receipt], present: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for r in receipts {
        let h = r.texts();
        if !present.iter().any(|p| p == h) && !out.iter().any(|o| o == h) {
            out.push(h.to_string());
        }
    }
    out
}

/// The distinct texts hashes of some receipts.
fn texts_of(receipts: &[Receipt]) -> Vec<String> {
    missing(receipts, &[])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations() {
        assert_eq!(Location::parse("sqlite:a/b.db"), Ok(Location::Sqlite("a/b.db".into())));
        assert_eq!(Location::parse("sqlite:///tmp/x"), Ok(Location::Sqlite("/tmp/x".into())));
        assert_eq!(Location::parse("x.sqlite"), Ok(Location::Sqlite("x.sqlite".into())));
        assert_eq!(Location::parse("postgres://u@h/db"), Ok(Location::Postgres("postgres://u@h/db".into())));
        assert!(Location::parse("mysql://x").unwrap_err().contains("unknown database kind"));
        assert!(Location::parse("sqlite:").is_err());
    }
}
