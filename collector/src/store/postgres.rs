//! The PostgreSQL store: several collector instances share one database. A pool of connections
//! (`deadpool-postgres`, `tokio-postgres`), one transaction per body.
//!
//! Owns: the PostgreSQL schema (table `consentry_schema` says its version), created under a
//! session advisory lock so that instances starting together do not race, and the SQL of every
//! store operation. A receipts body takes a transaction-scoped advisory lock per subject, in
//! sorted order (no deadlock), before it reads the chain ends: two instances appending to one
//! chain take turns, and the unique `(subject, seq)` key is the last guard. Forwarded events are
//! leased with `FOR UPDATE SKIP LOCKED`, so instances share the queue without sending an event
//! twice at once. Must never: hold a lock across a network call to anything but the database.
use super::{
    missing, now_ms, texts_of, Added, Audit, AuditRow, ChainRow, Ingested, PutText, Queued, Result, Stats, StoreError, MAX_REJECTED,
};
use crate::events::Event;
use crate::evidence::Receipt;
use crate::receipts::{lookups, plan, Item, Stored};
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use std::str::FromStr;
use tokio_postgres::NoTls;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS consentry_schema(version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS receipts(
    id TEXT PRIMARY KEY, subject TEXT NOT NULL, seq BIGINT NOT NULL, hash TEXT NOT NULL,
    texts TEXT NOT NULL, json TEXT NOT NULL, received_at BIGINT NOT NULL,
    UNIQUE(subject, seq));
CREATE INDEX IF NOT EXISTS receipts_texts ON receipts(texts);
CREATE TABLE IF NOT EXISTS subjects(
    subject TEXT PRIMARY KEY, secret_hash TEXT, first_at BIGINT NOT NULL);
CREATE TABLE IF NOT EXISTS texts(
    hash TEXT PRIMARY KEY, doc TEXT NOT NULL, received_at BIGINT NOT NULL);
CREATE TABLE IF NOT EXISTS events(
    n BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, uuid TEXT NOT NULL UNIQUE, subject TEXT,
    distinct_id TEXT NOT NULL, event TEXT NOT NULL, timestamp TEXT, json TEXT NOT NULL,
    received_at BIGINT NOT NULL);
CREATE INDEX IF NOT EXISTS events_subject ON events(subject, n);
CREATE TABLE IF NOT EXISTS forward_queue(
    n BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, uuid TEXT NOT NULL UNIQUE, subject TEXT,
    token TEXT NOT NULL, json TEXT NOT NULL, attempts BIGINT NOT NULL DEFAULT 0,
    next_try BIGINT NOT NULL, lease_until BIGINT NOT NULL DEFAULT 0, last_error TEXT);
CREATE INDEX IF NOT EXISTS forward_queue_subject ON forward_queue(subject);
CREATE TABLE IF NOT EXISTS forward_dead(
    n BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, uuid TEXT NOT NULL, subject TEXT,
    token TEXT NOT NULL, json TEXT NOT NULL, error TEXT NOT NULL, at BIGINT NOT NULL);
CREATE TABLE IF NOT EXISTS rejected(
    n BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, at BIGINT NOT NULL, path TEXT NOT NULL,
    status INTEGER NOT NULL, id TEXT, reason TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS audit(
    n BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, at BIGINT NOT NULL, action TEXT NOT NULL,
    subject TEXT NOT NULL, principal TEXT NOT NULL, status INTEGER NOT NULL, detail TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS audit_subject ON audit(subject, n);
";

/// The advisory lock key for schema changes (any constant, the same in every instance).
const SCHEMA_LOCK: i64 = 0x636f_6e73_656e_7472; // "consentr"
/// The advisory lock key that serialises additions to the forwarding queue.
const QUEUE_LOCK: i64 = 0x636f_6e73_7175_6575; // "consqueu"

#[derive(Clone)]
pub struct Postgres {
    pool: Pool,
    shown: String,
}

/// The URL without its password, for logs.
fn shown(cfg: &tokio_postgres::Config) -> String {
    let host = match cfg.get_hosts().first() {
        Some(tokio_postgres::config::Host::Tcp(h)) => h.clone(),
        #[cfg(unix)]
        Some(tokio_postgres::config::Host::Unix(p)) => p.display().to_string(),
        None => "localhost".into(),
    };
    let port = cfg.get_ports().first().copied().unwrap_or(5432);
    format!("postgres://{}@{host}:{port}/{}", cfg.get_user().unwrap_or(""), cfg.get_dbname().unwrap_or(""))
}

impl Postgres {
    pub async fn open(url: &str, pool_size: usize) -> anyhow::Result<Postgres> {
        let cfg = tokio_postgres::Config::from_str(url).map_err(|e| anyhow::anyhow!("--db: not a PostgreSQL URL: {e}"))?;
        let shown = shown(&cfg);
        let mgr = Manager::from_config(cfg, NoTls, ManagerConfig { recycling_method: RecyclingMethod::Fast });
        let pool = Pool::builder(mgr)
            .max_size(pool_size.max(1))
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .wait_timeout(Some(std::time::Duration::from_secs(10)))
            .create_timeout(Some(std::time::Duration::from_secs(10)))
            .build()
            .map_err(|e| anyhow::anyhow!("PostgreSQL pool: {e}"))?;
        let c = pool.get().await.map_err(|e| anyhow::anyhow!("connecting to {shown}: {e}"))?;
        c.query("SELECT pg_advisory_lock($1)", &[&SCHEMA_LOCK]).await?;
        let made = async {
            c.batch_execute(SCHEMA).await?;
            let v: Option<i32> = c.query_opt("SELECT max(version) FROM consentry_schema", &[]).await?.and_then(|r| r.get(0));
            match v {
                None => {
                    c.execute("INSERT INTO consentry_schema(version) VALUES(1)", &[]).await?;
                }
                Some(1) => {}
                Some(n) => return Err(anyhow::anyhow!("{shown} has schema {n}, newer than this collector's (1)")),
            }
            Ok::<(), anyhow::Error>(())
        }
        .await;
        c.query("SELECT pg_advisory_unlock($1)", &[&SCHEMA_LOCK]).await?;
        made?;
        Ok(Postgres { pool, shown })
    }

    pub fn describe(&self) -> String {
        self.shown.clone()
    }

    pub async fn close(&self) {
        self.pool.close();
    }

    pub async fn ping(&self) -> Result<()> {
        let c = self.pool.get().await?;
        c.query_one("SELECT 1", &[]).await?;
        Ok(())
    }

    pub async fn ingest(&self, items: Vec<Item>, texts: Vec<String>) -> Result<Ingested> {
        let mut c = self.pool.get().await?;
        let tx = c.transaction().await?;
        let (ids, subjects) = lookups(&items);
        for s in &subjects {
            tx.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", &[s]).await?;
        }
        let mut stored = Stored::default();
        if !ids.is_empty() {
            for row in tx.query("SELECT id, hash FROM receipts WHERE id = ANY($1)", &[&ids]).await? {
                stored.hash_by_id.insert(row.get(0), row.get(1));
            }
        }
        let last = tx.prepare_cached("SELECT json FROM receipts WHERE subject = $1 ORDER BY seq DESC LIMIT 1").await?;
        for s in subjects {
            if let Some(row) = tx.query_opt(&last, &[&s]).await? {
                let json: String = row.get(0);
                stored.last.insert(s, stored_receipt(&json)?);
            }
        }
        let referenced: Vec<String> = {
            let ok: Vec<Receipt> = items.iter().flatten().cloned().collect();
            texts_of(&ok)
        };
        let plan = match plan(items, stored) {
            Ok(p) => p,
            Err(refused) => {
                tx.rollback().await?;
                return Ok(Ingested::Refused(refused));
            }
        };
        let now = now_ms();
        let ins = tx
            .prepare_cached(
                "INSERT INTO receipts(id, subject, seq, hash, texts, json, received_at)
                 VALUES($1, $2, $3, $4, $5, $6, $7)",
            )
            .await?;
        let subj = tx
            .prepare_cached(
                "INSERT INTO subjects(subject, secret_hash, first_at) VALUES($1, $2, $3)
                 ON CONFLICT (subject) DO NOTHING",
            )
            .await?;
        for r in &plan.new {
            tx.execute(&ins, &[&r.id(), &r.subject(), &r.seq(), &r.hash(), &r.texts(), &r.to_json(), &now]).await?;
            if r.seq() == 1 {
                tx.execute(&subj, &[&r.subject(), &r.secret_hash(), &now]).await?;
            }
        }
        for doc in &texts {
            let h = crate::texts::hash_of(doc);
            if referenced.contains(&h) {
                tx.execute("INSERT INTO texts(hash, doc, received_at) VALUES($1, $2, $3) ON CONFLICT (hash) DO NOTHING", &[&h, doc, &now])
                    .await?;
            }
        }
        let wanted = texts_of(&plan.new);
        let present = present_in(&tx, &wanted).await?;
        tx.commit().await?;
        Ok(Ingested::Taken { missing_texts: missing(&plan.new, &present), plan })
    }

    pub async fn add_events(&self, events: Vec<Event>, token: &str, forward_max: Option<u64>) -> Result<Added> {
        let mut c = self.pool.get().await?;
        let tx = c.transaction().await?;
        let now = now_ms();
        if let Some(max) = forward_max {
            tx.execute("SELECT pg_advisory_xact_lock($1)", &[&QUEUE_LOCK]).await?;
            let queued: i64 = tx.query_one("SELECT COUNT(*) FROM forward_queue", &[]).await?.get(0);
            if queued as u64 + events.len() as u64 > max {
                return Ok(Added::QueueFull { max });
            }
            let q = tx
                .prepare_cached(
                    "INSERT INTO forward_queue(uuid, subject, token, json, next_try)
                     VALUES($1, $2, $3, $4, $5) ON CONFLICT (uuid) DO NOTHING",
                )
                .await?;
            for e in &events {
                tx.execute(&q, &[&e.uuid, &e.subject, &token, &e.json, &now]).await?;
            }
        } else {
            let ins = tx
                .prepare_cached(
                    "INSERT INTO events(uuid, subject, distinct_id, event, timestamp, json, received_at)
                     VALUES($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (uuid) DO NOTHING",
                )
                .await?;
            for e in &events {
                tx.execute(&ins, &[&e.uuid, &e.subject, &e.distinct_id, &e.name, &e.timestamp, &e.json, &now]).await?;
            }
        }
        tx.commit().await?;
        Ok(Added::Taken)
    }

    pub async fn put_text(&self, hash: &str, doc: &str, any: bool) -> Result<PutText> {
        let c = self.pool.get().await?;
        if !any {
            let used = c.query_opt("SELECT 1 FROM receipts WHERE texts = $1 LIMIT 1", &[&hash]).await?;
            if used.is_none() {
                let had = c.query_opt("SELECT 1 FROM texts WHERE hash = $1", &[&hash]).await?;
                return Ok(match had {
                    Some(_) => PutText::AlreadyStored,
                    None => PutText::Unreferenced,
                });
            }
        }
        let n = c
            .execute(
                "INSERT INTO texts(hash, doc, received_at) VALUES($1, $2, $3) ON CONFLICT (hash) DO NOTHING",
                &[&hash, &doc, &now_ms()],
            )
            .await?;
        Ok(if n == 1 { PutText::Stored } else { PutText::AlreadyStored })
    }

    pub async fn get_text(&self, hash: &str) -> Result<Option<String>> {
        let c = self.pool.get().await?;
        let row = c.query_opt("SELECT doc FROM texts WHERE hash = $1", &[&hash]).await?;
        Ok(row.map(|r| r.get(0)))
    }

    pub async fn texts_present(&self, hashes: &[String]) -> Result<Vec<String>> {
        let c = self.pool.get().await?;
        present_in(&c, hashes).await
    }

    pub async fn secret_hash(&self, subject: &str) -> Result<Option<String>> {
        let c = self.pool.get().await?;
        let row = c.query_opt("SELECT secret_hash FROM subjects WHERE subject = $1", &[&subject]).await?;
        Ok(row.and_then(|r| r.get(0)))
    }

    pub async fn set_secret_hash(&self, subject: &str, hash: &str) -> Result<()> {
        let c = self.pool.get().await?;
        c.execute(
            "INSERT INTO subjects(subject, secret_hash, first_at) VALUES($1, $2, $3)
             ON CONFLICT (subject) DO UPDATE SET secret_hash = excluded.secret_hash
             WHERE subjects.secret_hash IS NULL",
            &[&subject, &hash, &now_ms()],
        )
        .await?;
        Ok(())
    }

    pub async fn receipts_page(&self, subject: &str, after_seq: i64, limit: i64) -> Result<Vec<(i64, String, String)>> {
        let c = self.pool.get().await?;
        let st = c.prepare_cached("SELECT seq, json, texts FROM receipts WHERE subject = $1 AND seq > $2 ORDER BY seq LIMIT $3").await?;
        let rows = c.query(&st, &[&subject, &after_seq, &limit]).await?;
        Ok(rows.iter().map(|r| (r.get(0), r.get(1), r.get(2))).collect())
    }

    pub async fn events_page(&self, subject: &str, after: i64, limit: i64) -> Result<Vec<(i64, String)>> {
        let c = self.pool.get().await?;
        let st = c.prepare_cached("SELECT n, json FROM events WHERE subject = $1 AND n > $2 ORDER BY n LIMIT $3").await?;
        let rows = c.query(&st, &[&subject, &after, &limit]).await?;
        Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
    }

    pub async fn knows(&self, subject: &str) -> Result<bool> {
        let c = self.pool.get().await?;
        let row = c
            .query_one(
                "SELECT EXISTS(SELECT 1 FROM receipts WHERE subject = $1)
                     OR EXISTS(SELECT 1 FROM events WHERE subject = $1)
                     OR EXISTS(SELECT 1 FROM forward_queue WHERE subject = $1)",
                &[&subject],
            )
            .await?;
        Ok(row.get(0))
    }

    pub async fn forget(&self, subject: &str) -> Result<(i64, i64)> {
        let mut c = self.pool.get().await?;
        let tx = c.transaction().await?;
        let a = tx.execute("DELETE FROM events WHERE subject = $1", &[&subject]).await?;
        let b = tx.execute("DELETE FROM forward_queue WHERE subject = $1", &[&subject]).await?;
        let d = tx.execute("DELETE FROM forward_dead WHERE subject = $1", &[&subject]).await?;
        let kept: i64 = tx.query_one("SELECT COUNT(*) FROM receipts WHERE subject = $1", &[&subject]).await?.get(0);
        tx.commit().await?;
        Ok(((a + b + d) as i64, kept))
    }

    pub async fn stats(&self) -> Result<Stats> {
        let c = self.pool.get().await?;
        let r = c
            .query_one(
                "SELECT (SELECT COUNT(*) FROM receipts), (SELECT COUNT(*) FROM events),
                        (SELECT COUNT(*) FROM rejected), (SELECT COUNT(*) FROM texts),
                        (SELECT COUNT(*) FROM forward_queue), (SELECT COUNT(*) FROM forward_dead)",
                &[],
            )
            .await?;
        Ok(Stats { receipts: r.get(0), events: r.get(1), rejected: r.get(2), texts: r.get(3), queued: r.get(4), dead: r.get(5) })
    }

    pub async fn log_refusal(&self, path: &str, status: u16, id: Option<&str>, reason: &str) -> Result<()> {
        let c = self.pool.get().await?;
        let row = c
            .query_one(
                "INSERT INTO rejected(at, path, status, id, reason) VALUES($1, $2, $3, $4, $5) RETURNING n",
                &[&now_ms(), &path, &(status as i32), &id, &reason],
            )
            .await?;
        let n: i64 = row.get(0);
        if n % 1000 == 0 {
            c.execute("DELETE FROM rejected WHERE n <= $1", &[&(n - MAX_REJECTED)]).await?;
        }
        Ok(())
    }

    pub async fn audit(&self, a: Audit<'_>) -> Result<()> {
        let c = self.pool.get().await?;
        c.execute(
            "INSERT INTO audit(at, action, subject, principal, status, detail) VALUES($1, $2, $3, $4, $5, $6)",
            &[&now_ms(), &a.action, &a.subject, &a.principal, &(a.status as i32), &a.detail],
        )
        .await?;
        Ok(())
    }

    pub async fn audit_of(&self, subject: &str) -> Result<Vec<AuditRow>> {
        let c = self.pool.get().await?;
        let rows =
            c.query("SELECT at, action, subject, principal, status, detail FROM audit WHERE subject = $1 ORDER BY n", &[&subject]).await?;
        Ok(rows
            .iter()
            .map(|r| AuditRow {
                at: r.get(0),
                action: r.get(1),
                subject: r.get(2),
                principal: r.get(3),
                status: r.get::<_, i32>(4) as i64,
                detail: r.get(5),
            })
            .collect())
    }

    pub async fn chain_page(&self, after: Option<(String, i64)>, limit: i64) -> Result<Vec<ChainRow>> {
        let c = self.pool.get().await?;
        let (s, q) = after.unwrap_or_default();
        let rows = c
            .query(
                "SELECT subject, seq, json, texts FROM receipts
                 WHERE (subject, seq) > ($1, $2) ORDER BY subject, seq LIMIT $3",
                &[&s, &q, &limit],
            )
            .await?;
        Ok(rows.iter().map(|r| ChainRow { subject: r.get(0), seq: r.get(1), json: r.get(2), texts: r.get(3) }).collect())
    }

    pub async fn claim(&self, limit: i64, lease_ms: i64) -> Result<Vec<Queued>> {
        let c = self.pool.get().await?;
        let now = now_ms();
        let rows = c
            .query(
                "UPDATE forward_queue SET lease_until = $1 + $3 WHERE n IN (
                     SELECT n FROM forward_queue WHERE next_try <= $1 AND lease_until <= $1
                     ORDER BY n LIMIT $2 FOR UPDATE SKIP LOCKED)
                 RETURNING n, token, json, attempts",
                &[&now, &limit, &lease_ms],
            )
            .await?;
        let mut out: Vec<Queued> =
            rows.iter().map(|r| Queued { n: r.get(0), token: r.get(1), json: r.get(2), attempts: r.get(3) }).collect();
        out.sort_by_key(|q| q.n);
        Ok(out)
    }

    pub async fn forwarded(&self, ns: &[i64]) -> Result<()> {
        let c = self.pool.get().await?;
        c.execute("DELETE FROM forward_queue WHERE n = ANY($1)", &[&ns]).await?;
        Ok(())
    }

    pub async fn retry_later(&self, ns: &[i64], delay_ms: i64, error: &str) -> Result<()> {
        let c = self.pool.get().await?;
        c.execute(
            "UPDATE forward_queue SET attempts = attempts + 1, next_try = $1, lease_until = 0,
             last_error = $2 WHERE n = ANY($3)",
            &[&(now_ms() + delay_ms), &error, &ns],
        )
        .await?;
        Ok(())
    }

    pub async fn bury(&self, ns: &[i64], error: &str) -> Result<()> {
        let mut c = self.pool.get().await?;
        let tx = c.transaction().await?;
        tx.execute(
            "INSERT INTO forward_dead(uuid, subject, token, json, error, at)
             SELECT uuid, subject, token, json, $1, $2 FROM forward_queue WHERE n = ANY($3)",
            &[&error, &now_ms(), &ns],
        )
        .await?;
        tx.execute("DELETE FROM forward_queue WHERE n = ANY($1)", &[&ns]).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn insert_unchecked(&self, receipts: Vec<Receipt>) -> Result<()> {
        let mut c = self.pool.get().await?;
        let tx = c.transaction().await?;
        let ins = tx
            .prepare_cached(
                "INSERT INTO receipts(id, subject, seq, hash, texts, json, received_at)
                 VALUES($1, $2, $3, $4, $5, $6, $7)",
            )
            .await?;
        let now = now_ms();
        for r in &receipts {
            tx.execute(&ins, &[&r.id(), &r.subject(), &r.seq(), &r.hash(), &r.texts(), &r.to_json(), &now]).await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

/// Which of `hashes` have a stored document.
async fn present_in<C: deadpool_postgres::GenericClient>(c: &C, hashes: &[String]) -> Result<Vec<String>> {
    if hashes.is_empty() {
        return Ok(Vec::new());
    }
    let rows = c.query("SELECT hash FROM texts WHERE hash = ANY($1)", &[&hashes]).await?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}

fn stored_receipt(json: &str) -> Result<Receipt> {
    Receipt::parse(json).map_err(|e| StoreError(format!("a stored receipt does not read: {e}")))
}
