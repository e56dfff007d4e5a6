//! The SQLite store: one file, write-ahead log, `synchronous=FULL` (a commit is on disk before
//! it is acknowledged, also across a power cut), one connection used by one blocking task at a
//! time. One instance per file: SQLite serialises writers, so this is the single-server setup.
//!
//! Owns: the SQLite schema (`PRAGMA user_version` 1) and the SQL of every store operation. Must
//! never: block the async runtime (every call runs on a blocking thread), or run two
//! transactions at once on the connection.
use super::{
    missing, now_ms, texts_of, Added, Audit, AuditRow, ChainRow, Ingested, PutText, Queued, Result, Stats, StoreError, MAX_REJECTED,
};
use crate::events::Event;
use crate::evidence::Receipt;
use crate::receipts::{lookups, plan, Item, Stored};
use rusqlite::{params, params_from_iter, Connection, OptionalExtension, TransactionBehavior};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS receipts(
    id TEXT PRIMARY KEY, subject TEXT NOT NULL, seq INTEGER NOT NULL, hash TEXT NOT NULL,
    texts TEXT NOT NULL, json TEXT NOT NULL, received_at INTEGER NOT NULL,
    UNIQUE(subject, seq));
CREATE INDEX IF NOT EXISTS receipts_texts ON receipts(texts);
CREATE TABLE IF NOT EXISTS subjects(
    subject TEXT PRIMARY KEY, secret_hash TEXT, first_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS texts(
    hash TEXT PRIMARY KEY, doc TEXT NOT NULL, received_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS events(
    n INTEGER PRIMARY KEY, uuid TEXT NOT NULL UNIQUE, subject TEXT, distinct_id TEXT NOT NULL,
    event TEXT NOT NULL, timestamp TEXT, json TEXT NOT NULL, received_at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS events_subject ON events(subject, n);
CREATE TABLE IF NOT EXISTS forward_queue(
    n INTEGER PRIMARY KEY, uuid TEXT NOT NULL UNIQUE, subject TEXT, token TEXT NOT NULL,
    json TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, next_try INTEGER NOT NULL,
    lease_until INTEGER NOT NULL DEFAULT 0, last_error TEXT);
CREATE INDEX IF NOT EXISTS forward_queue_subject ON forward_queue(subject);
CREATE TABLE IF NOT EXISTS forward_dead(
    n INTEGER PRIMARY KEY, uuid TEXT NOT NULL, subject TEXT, token TEXT NOT NULL,
    json TEXT NOT NULL, error TEXT NOT NULL, at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS rejected(
    n INTEGER PRIMARY KEY, at INTEGER NOT NULL, path TEXT NOT NULL, status INTEGER NOT NULL,
    id TEXT, reason TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS audit(
    n INTEGER PRIMARY KEY, at INTEGER NOT NULL, action TEXT NOT NULL, subject TEXT NOT NULL,
    principal TEXT NOT NULL, status INTEGER NOT NULL, detail TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS audit_subject ON audit(subject, n);
PRAGMA user_version = 1;
";

#[derive(Clone)]
pub struct Sqlite {
    conn: Arc<Mutex<Option<Connection>>>,
    path: PathBuf,
}

impl Sqlite {
    pub async fn open(path: &Path) -> anyhow::Result<Sqlite> {
        let p = path.to_path_buf();
        let conn = tokio::task::spawn_blocking(move || -> anyhow::Result<Connection> {
            if let Some(dir) = p.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)
                    .map_err(|e| anyhow::anyhow!("creating {}: {e}", dir.display()))?;
            }
            let c = Connection::open(&p)?;
            c.busy_timeout(std::time::Duration::from_secs(10))?;
            c.pragma_update(None, "journal_mode", "wal")?;
            c.pragma_update(None, "synchronous", "full")?;
            let version: i64 = c.pragma_query_value(None, "user_version", |r| r.get(0))?;
            let old_tables: i64 = c.query_row(
                "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'receipts'",
                [],
                |r| r.get(0),
            )?;
            if version == 0 && old_tables > 0 {
                anyhow::bail!(
                    "{} was written by the earlier demo collector (schema 0), which this one does not read: move it away, or give another --db",
                    p.display()
                );
            }
            if version > 1 {
                anyhow::bail!(
                    "{} has schema {version}, newer than this collector's (1)",
                    p.display()
                );
            }
            c.execute_batch(SCHEMA)?;
            Ok(c)
        })
        .await??;
        Ok(Sqlite { conn: Arc::new(Mutex::new(Some(conn))), path: path.to_path_buf() })
    }

    pub fn describe(&self) -> String {
        let p = std::fs::canonicalize(&self.path).unwrap_or_else(|_| self.path.clone());
        p.display().to_string()
    }

    /// Runs `f` on the connection on a blocking thread.
    async fn with<T: Send + 'static>(&self, f: impl FnOnce(&mut Connection) -> Result<T> + Send + 'static) -> Result<T> {
        let conn = self.conn.clone();
        tokio::task::spawn_blocking(move || {
            let mut g = conn.lock().unwrap_or_else(|e| e.into_inner());
            let c = g.as_mut().ok_or_else(|| StoreError("the database is closed".into()))?;
            f(c)
        })
        .await
        .map_err(|e| StoreError(format!("the database task failed: {e}")))?
    }

    pub async fn close(&self) {
        let conn = self.conn.clone();
        let _ = tokio::task::spawn_blocking(move || {
            let mut g = conn.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(c) = g.take() {
                let _ = c.pragma_update(None, "wal_checkpoint", "TRUNCATE");
                if let Err((_, e)) = c.close() {
                    tracing::warn!("closing the database: {e}");
                }
            }
        })
        .await;
    }

    pub async fn ping(&self) -> Result<()> {
        self.with(|c| Ok(c.query_row("SELECT 1", [], |r| r.get::<_, i64>(0)).map(|_| ())?)).await
    }

    pub async fn ingest(&self, items: Vec<Item>, texts: Vec<String>) -> Result<Ingested> {
        self.with(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let (ids, subjects) = lookups(&items);
            let mut stored = Stored::default();
            {
                let mut by_id = tx.prepare_cached("SELECT hash FROM receipts WHERE id = ?1")?;
                for id in ids {
                    if let Some(h) = by_id.query_row([&id], |r| r.get(0)).optional()? {
                        stored.hash_by_id.insert(id, h);
                    }
                }
                let mut last = tx.prepare_cached("SELECT json FROM receipts WHERE subject = ?1 ORDER BY seq DESC LIMIT 1")?;
                for s in subjects {
                    let json: Option<String> = last.query_row([&s], |r| r.get(0)).optional()?;
                    if let Some(j) = json {
                        stored.last.insert(s, stored_receipt(&j)?);
                    }
                }
            }
            let referenced: Vec<String> = {
                let ok: Vec<Receipt> = items.iter().flatten().cloned().collect();
                texts_of(&ok)
            };
            let plan = match plan(items, stored) {
                Ok(p) => p,
                Err(refused) => return Ok(Ingested::Refused(refused)), // rolled back on drop
            };
            let now = now_ms();
            {
                let mut ins = tx.prepare_cached(
                    "INSERT INTO receipts(id, subject, seq, hash, texts, json, received_at)
                     VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                )?;
                let mut subj = tx.prepare_cached("INSERT OR IGNORE INTO subjects(subject, secret_hash, first_at) VALUES(?1, ?2, ?3)")?;
                for r in &plan.new {
                    ins.execute(params![r.id(), r.subject(), r.seq(), r.hash(), r.texts(), r.to_json(), now])?;
                    if r.seq() == 1 {
                        subj.execute(params![r.subject(), r.secret_hash(), now])?;
                    }
                }
                let mut put = tx.prepare_cached("INSERT OR IGNORE INTO texts(hash, doc, received_at) VALUES(?1, ?2, ?3)")?;
                for doc in &texts {
                    let h = crate::texts::hash_of(doc);
                    if referenced.contains(&h) {
                        put.execute(params![h, doc, now])?;
                    }
                }
            }
            let wanted = texts_of(&plan.new);
            let present = present_in(&tx, &wanted)?;
            tx.commit()?;
            Ok(Ingested::Taken { missing_texts: missing(&plan.new, &present), plan })
        })
        .await
    }

    pub async fn add_events(&self, events: Vec<Event>, token: &str, forward_max: Option<u64>) -> Result<Added> {
        let token = token.to_string();
        self.with(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let now = now_ms();
            if let Some(max) = forward_max {
                let queued: i64 = tx.query_row("SELECT COUNT(*) FROM forward_queue", [], |r| r.get(0))?;
                if queued as u64 + events.len() as u64 > max {
                    return Ok(Added::QueueFull { max });
                }
                let mut q = tx.prepare_cached(
                    "INSERT OR IGNORE INTO forward_queue(uuid, subject, token, json, next_try)
                     VALUES(?1, ?2, ?3, ?4, ?5)",
                )?;
                for e in &events {
                    q.execute(params![e.uuid, e.subject, token, e.json, now])?;
                }
            } else {
                let mut ins = tx.prepare_cached(
                    "INSERT OR IGNORE INTO events(uuid, subject, distinct_id, event, timestamp, json, received_at)
                     VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                )?;
                for e in &events {
                    ins.execute(params![e.uuid, e.subject, e.distinct_id, e.name, e.timestamp, e.json, now])?;
                }
            }
            tx.commit()?;
            Ok(Added::Taken)
        })
        .await
    }

    pub async fn put_text(&self, hash: &str, doc: &str, any: bool) -> Result<PutText> {
        let (hash, doc) = (hash.to_string(), doc.to_string());
        self.with(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let had: Option<i64> = tx.query_row("SELECT 1 FROM texts WHERE hash = ?1", [&hash], |r| r.get(0)).optional()?;
            if had.is_some() {
                return Ok(PutText::AlreadyStored);
            }
            if !any {
                let used: Option<i64> =
                    tx.query_row("SELECT 1 FROM receipts WHERE texts = ?1 LIMIT 1", [&hash], |r| r.get(0)).optional()?;
                if used.is_none() {
                    return Ok(PutText::Unreferenced);
                }
            }
            tx.execute("INSERT INTO texts(hash, doc, received_at) VALUES(?1, ?2, ?3)", params![hash, doc, now_ms()])?;
            tx.commit()?;
            Ok(PutText::Stored)
        })
        .await
    }

    pub async fn get_text(&self, hash: &str) -> Result<Option<String>> {
        let hash = hash.to_string();
        self.with(move |c| Ok(c.query_row("SELECT doc FROM texts WHERE hash = ?1", [&hash], |r| r.get(0)).optional()?)).await
    }

    pub async fn texts_present(&self, hashes: &[String]) -> Result<Vec<String>> {
        let hashes = hashes.to_vec();
        self.with(move |c| present_in(c, &hashes)).await
    }

    pub async fn secret_hash(&self, subject: &str) -> Result<Option<String>> {
        let subject = subject.to_string();
        self.with(move |c| {
            let v: Option<Option<String>> =
                c.query_row("SELECT secret_hash FROM subjects WHERE subject = ?1", [&subject], |r| r.get(0)).optional()?;
            Ok(v.flatten())
        })
        .await
    }

    pub async fn set_secret_hash(&self, subject: &str, hash: &str) -> Result<()> {
        let (subject, hash) = (subject.to_string(), hash.to_string());
        self.with(move |c| {
            c.execute(
                "INSERT INTO subjects(subject, secret_hash, first_at) VALUES(?1, ?2, ?3)
                 ON CONFLICT(subject) DO UPDATE SET secret_hash = excluded.secret_hash
                 WHERE subjects.secret_hash IS NULL",
                params![subject, hash, now_ms()],
            )?;
            Ok(())
        })
        .await
    }

    pub async fn receipts_page(&self, subject: &str, after_seq: i64, limit: i64) -> Result<Vec<(i64, String, String)>> {
        let subject = subject.to_string();
        self.with(move |c| {
            let mut st = c.prepare_cached("SELECT seq, json, texts FROM receipts WHERE subject = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3")?;
            let rows = st.query_map(params![subject, after_seq, limit], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
        .await
    }

    pub async fn events_page(&self, subject: &str, after: i64, limit: i64) -> Result<Vec<(i64, String)>> {
        let subject = subject.to_string();
        self.with(move |c| {
            let mut st = c.prepare_cached("SELECT n, json FROM events WHERE subject = ?1 AND n > ?2 ORDER BY n LIMIT ?3")?;
            let rows = st.query_map(params![subject, after, limit], |r| Ok((r.get(0)?, r.get(1)?)))?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
        .await
    }

    pub async fn knows(&self, subject: &str) -> Result<bool> {
        let subject = subject.to_string();
        self.with(move |c| {
            let n: i64 = c.query_row(
                "SELECT EXISTS(SELECT 1 FROM receipts WHERE subject = ?1)
                      + EXISTS(SELECT 1 FROM events WHERE subject = ?1)
                      + EXISTS(SELECT 1 FROM forward_queue WHERE subject = ?1)",
                [&subject],
                |r| r.get(0),
            )?;
            Ok(n > 0)
        })
        .await
    }

    pub async fn forget(&self, subject: &str) -> Result<(i64, i64)> {
        let subject = subject.to_string();
        self.with(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let a = tx.execute("DELETE FROM events WHERE subject = ?1", [&subject])?;
            let b = tx.execute("DELETE FROM forward_queue WHERE subject = ?1", [&subject])?;
            let d = tx.execute("DELETE FROM forward_dead WHERE subject = ?1", [&subject])?;
            let kept: i64 = tx.query_row("SELECT COUNT(*) FROM receipts WHERE subject = ?1", [&subject], |r| r.get(0))?;
            tx.commit()?;
            Ok(((a + b + d) as i64, kept))
        })
        .await
    }

    pub async fn stats(&self) -> Result<Stats> {
        self.with(|c| {
            let count = |t: &str| -> rusqlite::Result<i64> { c.query_row(&format!("SELECT COUNT(*) FROM {t}"), [], |r| r.get(0)) };
            Ok(Stats {
                receipts: count("receipts")?,
                events: count("events")?,
                rejected: count("rejected")?,
                texts: count("texts")?,
                queued: count("forward_queue")?,
                dead: count("forward_dead")?,
            })
        })
        .await
    }

    pub async fn log_refusal(&self, path: &str, status: u16, id: Option<&str>, reason: &str) -> Result<()> {
        let (path, id, reason) = (path.to_string(), id.map(String::from), reason.to_string());
        self.with(move |c| {
            c.execute(
                "INSERT INTO rejected(at, path, status, id, reason) VALUES(?1, ?2, ?3, ?4, ?5)",
                params![now_ms(), path, status, id, reason],
            )?;
            let n = c.last_insert_rowid();
            if n % 1000 == 0 {
                c.execute("DELETE FROM rejected WHERE n <= ?1", [n - MAX_REJECTED])?;
            }
            Ok(())
        })
        .await
    }

    pub async fn audit(&self, a: Audit<'_>) -> Result<()> {
        let row = (a.action.to_string(), a.subject.to_string(), a.principal.to_string(), a.status, a.detail.to_string());
        self.with(move |c| {
            c.execute(
                "INSERT INTO audit(at, action, subject, principal, status, detail) VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
                params![now_ms(), row.0, row.1, row.2, row.3, row.4],
            )?;
            Ok(())
        })
        .await
    }

    pub async fn audit_of(&self, subject: &str) -> Result<Vec<AuditRow>> {
        let subject = subject.to_string();
        self.with(move |c| {
            let mut st =
                c.prepare_cached("SELECT at, action, subject, principal, status, detail FROM audit WHERE subject = ?1 ORDER BY n")?;
            let rows = st.query_map([&subject], |r| {
                Ok(AuditRow {
                    at: r.get(0)?,
                    action: r.get(1)?,
                    subject: r.get(2)?,
                    principal: r.get(3)?,
                    status: r.get(4)?,
                    detail: r.get(5)?,
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
        .await
    }

    pub async fn chain_page(&self, after: Option<(String, i64)>, limit: i64) -> Result<Vec<ChainRow>> {
        self.with(move |c| {
            let (s, q) = after.unwrap_or_default();
            let mut st = c.prepare_cached(
                "SELECT subject, seq, json, texts FROM receipts
                 WHERE (subject, seq) > (?1, ?2) ORDER BY subject, seq LIMIT ?3",
            )?;
            let rows = st.query_map(params![s, q, limit], |r| {
                Ok(ChainRow { subject: r.get(0)?, seq: r.get(1)?, json: r.get(2)?, texts: r.get(3)? })
            })?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
        .await
    }

    pub async fn claim(&self, limit: i64, lease_ms: i64) -> Result<Vec<Queued>> {
        self.with(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let now = now_ms();
            let rows = {
                let mut st = tx.prepare_cached(
                    "SELECT n, token, json, attempts FROM forward_queue
                     WHERE next_try <= ?1 AND lease_until <= ?1 ORDER BY n LIMIT ?2",
                )?;
                let rows = st.query_map(params![now, limit], |r| {
                    Ok(Queued { n: r.get(0)?, token: r.get(1)?, json: r.get(2)?, attempts: r.get(3)? })
                })?;
                rows.collect::<rusqlite::Result<Vec<_>>>()?
            };
            {
                let mut lease = tx.prepare_cached("UPDATE forward_queue SET lease_until = ?1 WHERE n = ?2")?;
                for q in &rows {
                    lease.execute(params![now + lease_ms, q.n])?;
                }
            }
            tx.commit()?;
            Ok(rows)
        })
        .await
    }

    pub async fn forwarded(&self, ns: &[i64]) -> Result<()> {
        let ns = ns.to_vec();
        self.with(move |c| {
            let tx = c.transaction()?;
            {
                let mut del = tx.prepare_cached("DELETE FROM forward_queue WHERE n = ?1")?;
                for n in ns {
                    del.execute([n])?;
                }
            }
            tx.commit()?;
            Ok(())
        })
        .await
    }

    pub async fn retry_later(&self, ns: &[i64], delay_ms: i64, error: &str) -> Result<()> {
        let (ns, error) = (ns.to_vec(), error.to_string());
        self.with(move |c| {
            let tx = c.transaction()?;
            {
                let mut up = tx.prepare_cached(
                    "UPDATE forward_queue SET attempts = attempts + 1, next_try = ?1, lease_until = 0,
                     last_error = ?2 WHERE n = ?3",
                )?;
                let due = now_ms() + delay_ms;
                for n in ns {
                    up.execute(params![due, error, n])?;
                }
            }
            tx.commit()?;
            Ok(())
        })
        .await
    }

    pub async fn bury(&self, ns: &[i64], error: &str) -> Result<()> {
        let (ns, error) = (ns.to_vec(), error.to_string());
        self.with(move |c| {
            let tx = c.transaction()?;
            {
                let mut mv = tx.prepare_cached(
                    "INSERT INTO forward_dead(uuid, subject, token, json, error, at)
                     SELECT uuid, subject, token, json, ?1, ?2 FROM forward_queue WHERE n = ?3",
                )?;
                let mut del = tx.prepare_cached("DELETE FROM forward_queue WHERE n = ?1")?;
                let now = now_ms();
                for n in ns {
                    mv.execute(params![error, now, n])?;
                    del.execute([n])?;
                }
            }
            tx.commit()?;
            Ok(())
        })
        .await
    }

    pub async fn insert_unchecked(&self, receipts: Vec<Receipt>) -> Result<()> {
        self.with(move |c| {
            let tx = c.transaction()?;
            {
                let mut ins = tx.prepare_cached(
                    "INSERT INTO receipts(id, subject, seq, hash, texts, json, received_at)
                     VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                )?;
                let now = now_ms();
                for r in &receipts {
                    ins.execute(params![r.id(), r.subject(), r.seq(), r.hash(), r.texts(), r.to_json(), now])?;
                }
            }
            tx.commit()?;
            Ok(())
        })
        .await
    }
}

/// Which of `hashes` have a stored document.
fn present_in(c: &Connection, hashes: &[String]) -> Result<Vec<String>> {
    if hashes.is_empty() {
        return Ok(Vec::new());
    }
    let marks = vec!["?"; hashes.len()].join(",");
    let mut st = c.prepare(&format!("SELECT hash FROM texts WHERE hash IN ({marks})"))?;
    let rows = st.query_map(params_from_iter(hashes.iter()), |r| r.get(0))?;
    Ok(rows.collect::<rusqlite::Result<Vec<String>>>()?)
}

fn stored_receipt(json: &str) -> Result<Receipt> {
    Receipt::parse(json).map_err(|e| StoreError(format!("a stored receipt does not read: {e}")))
}
