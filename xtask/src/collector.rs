//! The local collector: the HTTP endpoints that receive consent receipts and analytics events, and
//! the SQLite database (WAL) that keeps them.
//!
//! Owns: the collector's routes (CONTRACTS.md), the receipts/events/rejected tables, the 64 KiB
//! body limit. Receipts are checked with the same `consentry::core::evidence` the browser uses:
//! hash, then the chain link to the subject's last stored receipt. One body is one transaction,
//! so a refused body leaves nothing behind. Must never: store a receipt that does not verify and
//! link, delete a receipt (they are the legal evidence), or panic on what a client sends.
use crate::json::{self, push_int, push_str, Value};
use consentry::core::evidence::{verify_chain, Receipt};
use rusqlite::{params, Connection, OptionalExtension};
use std::io::Read;
use std::path::Path;

/// Request bodies larger than this are refused with 413.
pub const MAX_BODY: usize = 64 * 1024;
/// The most a gzip body may unpack to.
const MAX_UNPACKED: usize = 1024 * 1024;

/// An HTTP answer: status and a JSON body.
#[derive(Debug, PartialEq)]
pub struct Reply {
    pub status: u16,
    pub body: String,
}

fn reply(status: u16, body: String) -> Reply {
    Reply { status, body }
}

/// `{"error":what}` plus extra string fields.
pub fn error(status: u16, what: &str, extra: &[(&str, &str)]) -> Reply {
    let mut b = String::from("{\"error\":");
    push_str(&mut b, what);
    for (k, v) in extra {
        b.push(',');
        push_str(&mut b, k);
        b.push(':');
        push_str(&mut b, v);
    }
    b.push('}');
    reply(status, b)
}

/// Reads a body of at most `MAX_BODY` bytes; never reads more than one byte past the limit.
pub fn read_body(declared_len: Option<usize>, r: impl Read) -> Result<Vec<u8>, Reply> {
    let too_large = || error(413, "body larger than 64 KiB", &[]);
    if declared_len.is_some_and(|n| n > MAX_BODY) {
        return Err(too_large());
    }
    let mut buf = Vec::new();
    r.take(MAX_BODY as u64 + 1).read_to_end(&mut buf).map_err(|e| error(400, &format!("could not read the body: {e}"), &[]))?;
    if buf.len() > MAX_BODY {
        return Err(too_large());
    }
    Ok(buf)
}

pub struct Collector {
    db: Connection,
}

/// A refusal that rolls back the body's transaction and is logged in `rejected`.
struct Refused(Reply);

impl From<rusqlite::Error> for Refused {
    fn from(e: rusqlite::Error) -> Self {
        Refused(error(500, &format!("database: {e}"), &[]))
    }
}

impl Collector {
    pub fn open(path: &Path) -> anyhow::Result<Collector> {
        Self::init(Connection::open(path)?)
    }

    #[cfg(test)]
    pub fn open_in_memory() -> anyhow::Result<Collector> {
        Self::init(Connection::open_in_memory()?)
    }

    fn init(db: Connection) -> anyhow::Result<Collector> {
        db.pragma_update(None, "journal_mode", "wal")?;
        db.pragma_update(None, "synchronous", "normal")?;
        db.busy_timeout(std::time::Duration::from_secs(5))?;
        db.execute_batch(
            "CREATE TABLE IF NOT EXISTS receipts(
                id TEXT PRIMARY KEY, subject TEXT NOT NULL, seq INTEGER NOT NULL, time TEXT NOT NULL,
                hash TEXT NOT NULL, json TEXT NOT NULL, received_at TEXT NOT NULL,
                UNIQUE(subject, seq));
             CREATE TABLE IF NOT EXISTS events(
                uuid TEXT PRIMARY KEY, subject TEXT, distinct_id TEXT, event TEXT NOT NULL,
                timestamp TEXT, json TEXT NOT NULL, received_at TEXT NOT NULL);
             CREATE INDEX IF NOT EXISTS events_subject ON events(subject);
             CREATE TABLE IF NOT EXISTS rejected(
                n INTEGER PRIMARY KEY, at TEXT NOT NULL, path TEXT NOT NULL, status INTEGER NOT NULL,
                id TEXT, reason TEXT NOT NULL);",
        )?;
        Ok(Collector { db })
    }

    /// Closes the database, folding the WAL back into the main file.
    pub fn close(self) -> anyhow::Result<()> {
        self.db.pragma_update(None, "wal_checkpoint", "TRUNCATE")?;
        self.db.close().map_err(|(_, e)| e)?;
        Ok(())
    }

    /// Answers the collector's routes; `None` when `path` is not one of them (the server then
    /// serves files). `path` has no query string. `body` is the already size-limited body.
    pub fn route(&mut self, method: &str, path: &str, body: &[u8]) -> Option<Reply> {
        let post = |f: fn(&mut Self, &Value) -> Result<Reply, Refused>, this: &mut Self| {
            if method != "POST" {
                return error(405, "use POST", &[]);
            }
            let r = match parse_body(body) {
                Ok(v) => f(this, &v),
                Err(r) => Err(Refused(r)),
            };
            r.unwrap_or_else(|Refused(r)| this.log_refusal(path, r))
        };
        Some(match path {
            "/batch" | "/batch/" | "/capture" | "/capture/" | "/e" | "/e/" => post(Self::events, self),
            "/consentry/receipts" => post(Self::receipts, self),
            "/collector/stats" if method == "GET" => self.stats(),
            "/collector/stats" => error(405, "use GET", &[]),
            _ => {
                let subject = path.strip_prefix("/consentry/subjects/")?;
                let subject = crate::server::percent_decode(subject).unwrap_or_default();
                if subject.is_empty() || subject.contains('/') {
                    return Some(error(404, "no such subject", &[]));
                }
                match method {
                    "GET" => self.export(&subject),
                    "DELETE" => self.forget(&subject),
                    _ => error(405, "use GET or DELETE", &[]),
                }
            }
        })
    }

    /// Records a refused body in `rejected` and returns the reply unchanged.
    pub fn log_refusal(&mut self, path: &str, r: Reply) -> Reply {
        let v = json::parse(&r.body).ok();
        let field = |k| v.as_ref().and_then(|v| v.get(k)).and_then(Value::as_str).map(String::from);
        let reason = field("reason").or_else(|| field("error")).unwrap_or_default();
        let _ = self.db.execute(
            "INSERT INTO rejected(at, path, status, id, reason) VALUES(?1, ?2, ?3, ?4, ?5)",
            params![now(), path, r.status, field("id"), reason],
        );
        r
    }

    /// `POST /consentry/receipts`: an array of receipts, oldest first, or one receipt.
    fn receipts(&mut self, body: &Value) -> Result<Reply, Refused> {
        let items = match body {
            Value::Arr(a) => a.as_slice(),
            Value::Obj(_) => std::slice::from_ref(body),
            _ => return Err(Refused(error(400, "expected a receipt or an array of receipts", &[]))),
        };
        let tx = self.db.transaction()?;
        let (mut accepted, mut duplicates) = (Vec::new(), Vec::new());
        for item in items {
            let id = item.get("id").and_then(Value::as_str).unwrap_or("");
            let bad = |reason: &str| Refused(error(422, "receipt refused", &[("id", id), ("reason", reason)]));
            let r = json::receipt(item).map_err(bad)?;
            // Shape and hash first, so that a changed receipt cannot pass as a duplicate.
            verify_chain(std::slice::from_ref(&r), false).map_err(|b| bad(b.reason.as_str()))?;
            let stored: Option<String> = tx.query_row("SELECT hash FROM receipts WHERE id = ?1", [&r.id], |row| row.get(0)).optional()?;
            match stored {
                Some(h) if h == r.hash => {
                    duplicates.push(r.id);
                    continue;
                }
                Some(_) => return Err(bad("id: another receipt with this id is already stored")),
                None => {}
            }
            // The link: the subject's last stored receipt and this one form a valid chain.
            let last: Option<String> = tx
                .query_row("SELECT json FROM receipts WHERE subject = ?1 ORDER BY seq DESC LIMIT 1", [&r.subject], |row| row.get(0))
                .optional()?;
            let mut pair = match last {
                Some(j) => vec![stored_receipt(&j)?, r],
                None => vec![r],
            };
            verify_chain(&pair, pair.len() == 1).map_err(|b| bad(b.reason.as_str()))?;
            let Some(r) = pair.pop() else { continue };
            tx.execute(
                "INSERT INTO receipts(id, subject, seq, time, hash, json, received_at)
                 VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![r.id, r.subject, r.seq, r.time, r.hash, r.to_json(), now()],
            )?;
            accepted.push(r.id);
        }
        tx.commit()?;
        let mut b = String::from("{\"accepted\":");
        push_strs(&mut b, &accepted);
        b.push_str(",\"duplicates\":");
        push_strs(&mut b, &duplicates);
        b.push('}');
        Ok(reply(200, b))
    }

    /// `POST /batch/` (and `/capture/`, `/e/`): a PostHog batch, or one event with its api_key.
    fn events(&mut self, body: &Value) -> Result<Reply, Refused> {
        let bad = |what: &str| Refused(error(400, what, &[]));
        if body.get("api_key").and_then(Value::as_str).is_none() {
            return Err(bad("api_key must be a string"));
        }
        let events = match body.get("batch") {
            Some(b) => b.as_array().ok_or_else(|| bad("batch must be an array"))?,
            None if body.get("event").is_some() => std::slice::from_ref(body),
            None => return Err(bad("expected batch or event")),
        };
        let tx = self.db.transaction()?;
        for (n, e) in events.iter().enumerate() {
            let at = |what: &str| bad(&format!("batch[{n}]: {what}"));
            let name = e.get("event").and_then(Value::as_str).ok_or_else(|| at("event must be a string"))?;
            let props = e.get("properties").filter(|p| p.as_object().is_some());
            let props = props.ok_or_else(|| at("properties must be an object"))?;
            let uuid = e.get("uuid").and_then(Value::as_str).ok_or_else(|| at("uuid must be a string"))?;
            let timestamp = match e.get("timestamp") {
                None | Some(Value::Null) => None,
                Some(t) => Some(t.as_str().ok_or_else(|| at("timestamp must be a string"))?),
            };
            let text = |v: Option<&Value>| v.and_then(Value::as_str).map(String::from);
            let distinct = text(props.get("distinct_id")).or_else(|| text(e.get("distinct_id")));
            let subject = text(props.get("$consentry_subject"));
            tx.execute(
                "INSERT OR IGNORE INTO events(uuid, subject, distinct_id, event, timestamp, json, received_at)
                 VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![uuid, subject, distinct, name, timestamp, e.to_json(), now()],
            )?;
        }
        tx.commit()?;
        Ok(reply(200, String::from("{\"status\":1}")))
    }

    /// `GET /consentry/subjects/{subject}`: everything stored about one subject.
    fn export(&mut self, subject: &str) -> Reply {
        let rows = |sql: &str| -> rusqlite::Result<Vec<String>> {
            let mut st = self.db.prepare(sql)?;
            let rows = st.query_map([subject], |r| r.get(0))?;
            rows.collect()
        };
        let (receipts, events) = match (
            rows("SELECT json FROM receipts WHERE subject = ?1 ORDER BY seq"),
            rows("SELECT json FROM events WHERE subject = ?1 ORDER BY timestamp, received_at"),
        ) {
            (Ok(r), Ok(e)) => (r, e),
            (Err(e), _) | (_, Err(e)) => return error(500, &format!("database: {e}"), &[]),
        };
        if receipts.is_empty() && events.is_empty() {
            return error(404, "nothing stored for this subject", &[("subject", subject)]);
        }
        let mut b = String::from("{\"subject\":");
        push_str(&mut b, subject);
        for (name, list) in [("receipts", &receipts), ("events", &events)] {
            b.push_str(",\"");
            b.push_str(name);
            b.push_str("\":[");
            b.push_str(&list.join(","));
            b.push(']');
        }
        b.push('}');
        reply(200, b)
    }

    /// `DELETE /consentry/subjects/{subject}`: erases the analytics events, keeps the receipts.
    fn forget(&mut self, subject: &str) -> Reply {
        let done = self.db.execute("DELETE FROM events WHERE subject = ?1", [subject]).and_then(|deleted| {
            let kept: i64 = self.db.query_row("SELECT COUNT(*) FROM receipts WHERE subject = ?1", [subject], |r| r.get(0))?;
            Ok((deleted, kept))
        });
        match done {
            Ok((deleted, kept)) => {
                let mut b = String::from("{\"subject\":");
                push_str(&mut b, subject);
                b.push_str(",\"deleted_events\":");
                push_int(&mut b, deleted as i64);
                b.push_str(",\"receipts_kept\":");
                push_int(&mut b, kept);
                b.push('}');
                reply(200, b)
            }
            Err(e) => error(500, &format!("database: {e}"), &[]),
        }
    }

    /// `GET /collector/stats`.
    fn stats(&mut self) -> Reply {
        let count = |t: &str| self.db.query_row(&format!("SELECT COUNT(*) FROM {t}"), [], |r| r.get::<_, i64>(0));
        match (count("receipts"), count("events"), count("rejected")) {
            (Ok(r), Ok(e), Ok(x)) => reply(200, format!("{{\"receipts\":{r},\"events\":{e},\"rejected\":{x}}}")),
            (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => error(500, &format!("database: {e}"), &[]),
        }
    }

    /// Every subject's receipts, in chain order (for `cargo xtask verify --db`).
    pub fn chains(&self) -> anyhow::Result<Vec<(String, Vec<String>)>> {
        let mut st = self.db.prepare("SELECT subject, json FROM receipts ORDER BY subject, seq")?;
        let mut out: Vec<(String, Vec<String>)> = Vec::new();
        let rows = st.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
        for row in rows {
            let (subject, json) = row?;
            match out.last_mut() {
                Some((s, list)) if *s == subject => list.push(json),
                _ => out.push((subject, vec![json])),
            }
        }
        Ok(out)
    }
}

/// A JSON body, or a gzip-compressed one (the tracker's batches: posthog-js's `compression=gzip-js`),
/// recognised by gzip's magic bytes. Unpacked to at most `MAX_UNPACKED` bytes (no zip bombs).
fn parse_body(body: &[u8]) -> Result<Value, Reply> {
    let unpacked;
    let body = if body.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(body)
            .take(MAX_UNPACKED as u64 + 1)
            .read_to_end(&mut out)
            .map_err(|e| error(400, &format!("the gzip body does not unpack: {e}"), &[]))?;
        if out.len() > MAX_UNPACKED {
            return Err(error(413, "the gzip body unpacks to more than 1 MiB", &[]));
        }
        unpacked = out;
        &unpacked[..]
    } else {
        body
    };
    let text = std::str::from_utf8(body).map_err(|_| error(400, "body is not UTF-8", &[]))?;
    json::parse(text).map_err(|e| error(400, &format!("malformed JSON at byte {}: {}", e.pos, e.what), &[]))
}

fn stored_receipt(json: &str) -> Result<Receipt, Refused> {
    let v = json::parse(json).map_err(|e| e.what);
    v.and_then(|v| json::receipt(&v)).map_err(|e| Refused(error(500, &format!("a stored receipt is unreadable: {e}"), &[])))
}

fn push_strs(out: &mut String, items: &[String]) {
    out.push('[');
    for (n, s) in items.iter().enumerate() {
        if n > 0 {
            out.push(',');
        }
        push_str(out, s);
    }
    out.push(']');
}

fn now() -> String {
    let ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0);
    consentry::core::time::format_utc_iso(ms)
}

#[cfg(test)]
mod tests {
    use super::*;
    use consentry::core::evidence::{EvidenceLog, Method, ReceiptDraft};

    fn log(subject: u8, n: usize) -> EvidenceLog {
        let mut log = EvidenceLog::new();
        for i in 0..n {
            let draft = ReceiptDraft {
                time: consentry::core::time::format_utc_iso(1_795_000_000_000 + i as i64 * 1000),
                origin: "https://shop.example".into(),
                path: "/".into(),
                policy: "2026-11".into(),
                lang: "en".into(),
                texts: "a".repeat(64),
                choices: vec![("analytics".into(), i % 2 == 0), ("necessary".into(), true)],
                method: if i % 2 == 0 { Method::AcceptAll } else { Method::Withdraw },
                gpc: false,
            };
            let mut random = [subject; 64];
            random[..16].copy_from_slice(&[subject * 16 + i as u8 + 1; 16]);
            log.append(draft, &random);
        }
        assert_eq!(log.receipts().len(), n);
        log
    }

    fn parse(s: &str) -> Value {
        json::parse(s).expect("JSON")
    }

    fn body(rs: &[Receipt]) -> String {
        let parts: Vec<String> = rs.iter().map(Receipt::to_json).collect();
        format!("[{}]", parts.join(","))
    }

    fn post(c: &mut Collector, path: &str, body: &str) -> Reply {
        c.route("POST", path, body.as_bytes()).expect("a collector route")
    }

    fn get(c: &mut Collector, path: &str) -> Value {
        let r = c.route("GET", path, b"").expect("a collector route");
        parse(&r.body)
    }

    fn count(c: &mut Collector, what: &str) -> i64 {
        get(c, "/collector/stats").get(what).and_then(Value::as_i64).expect("a count")
    }

    fn ids(v: &Value, k: &str) -> Vec<String> {
        let list = v.get(k).and_then(Value::as_array).expect("a list");
        list.iter().map(|s| s.as_str().expect("an id").to_string()).collect()
    }

    #[test]
    fn accepts_a_chain_in_pieces_and_acknowledges_duplicates() {
        let mut c = Collector::open_in_memory().unwrap();
        let l = log(1, 3);
        let r = post(&mut c, "/consentry/receipts", &body(&l.receipts()[..1]));
        assert_eq!(r.status, 200, "{}", r.body);
        // One receipt object (not an array), then the rest with an overlap.
        let r = post(&mut c, "/consentry/receipts", &l.receipts()[1].to_json());
        assert_eq!(r.status, 200, "{}", r.body);
        let r = post(&mut c, "/consentry/receipts", &body(l.receipts()));
        assert_eq!(r.status, 200, "{}", r.body);
        let v = parse(&r.body);
        assert_eq!(ids(&v, "accepted"), vec![l.receipts()[2].id.clone()]);
        assert_eq!(ids(&v, "duplicates"), vec![l.receipts()[0].id.clone(), l.receipts()[1].id.clone()]);
        assert_eq!(count(&mut c, "receipts"), 3);
        assert_eq!(count(&mut c, "rejected"), 0);
        // What is stored verifies as a whole chain with the one verifier.
        let chains = c.chains().unwrap();
        assert_eq!(chains.len(), 1);
        let values: Vec<Value> = chains[0].1.iter().map(|j| parse(j)).collect();
        assert_eq!(crate::verify::check(&values, true), Ok(3));
        // A second subject starts its own chain.
        let r = post(&mut c, "/consentry/receipts", &body(log(2, 2).receipts()));
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(count(&mut c, "receipts"), 5);
    }

    fn refused(c: &mut Collector, body: &str, id: &str, reason_has: &str) {
        let before = count(c, "receipts");
        let r = post(c, "/consentry/receipts", body);
        assert_eq!(r.status, 422, "{}", r.body);
        let v = parse(&r.body);
        assert_eq!(v.get("id").and_then(Value::as_str), Some(id));
        let reason = v.get("reason").and_then(Value::as_str).unwrap();
        assert!(reason.contains(reason_has), "{reason}");
        assert_eq!(count(c, "receipts"), before, "nothing of a refused body is stored");
    }

    #[test]
    fn refuses_a_forged_hash_and_stores_nothing_of_that_body() {
        let mut c = Collector::open_in_memory().unwrap();
        let mut l = log(1, 3).receipts().to_vec();
        l[1].choices[0].1 = true; // edited after hashing
        refused(&mut c, &body(&l), &l[1].id, "hash");
        assert_eq!(count(&mut c, "rejected"), 1);
        // A forged receipt whose hash was recomputed still has to link.
        l[1].hash = l[1].compute_hash();
        refused(&mut c, &body(&l), &l[2].id, "prev");
        // An edited copy of a stored receipt, keeping its id and hash, is not a duplicate.
        let good = log(1, 1);
        assert_eq!(post(&mut c, "/consentry/receipts", &body(good.receipts())).status, 200);
        let mut edited = good.receipts()[0].clone();
        edited.choices[0].1 = false;
        refused(&mut c, &body(&[edited]), &good.receipts()[0].id, "hash");
    }

    #[test]
    fn refuses_broken_links_and_wrong_seq() {
        let mut c = Collector::open_in_memory().unwrap();
        let l = log(1, 3);
        // A new subject must start at seq 1.
        refused(&mut c, &body(&l.receipts()[1..]), &l.receipts()[1].id, "seq");
        assert_eq!(post(&mut c, "/consentry/receipts", &body(&l.receipts()[..1])).status, 200);
        // Skipping a receipt.
        refused(&mut c, &body(&l.receipts()[2..]), &l.receipts()[2].id, "seq");
        // Right seq, wrong prev (hash recomputed so only the link is wrong).
        let mut r = l.receipts()[1].clone();
        r.prev = "f".repeat(64);
        r.hash = r.compute_hash();
        refused(&mut c, &body(&[r]), &l.receipts()[1].id, "prev");
        // A fork: a different receipt claiming seq 1 again.
        let mut f = log(1, 1).receipts()[0].clone();
        f.id = "f".repeat(32);
        f.hash = f.compute_hash();
        refused(&mut c, &body(&[f]), &"f".repeat(32), "seq");
        // The same id with other content.
        let mut d = l.receipts()[0].clone();
        d.gpc = true;
        d.hash = d.compute_hash();
        refused(&mut c, &body(&[d]), &l.receipts()[0].id, "id");
        assert_eq!(count(&mut c, "rejected"), 5);
        assert_eq!(post(&mut c, "/consentry/receipts", &body(l.receipts())).status, 200);
        assert_eq!(count(&mut c, "receipts"), 3);
    }

    #[test]
    fn refuses_oversize_and_malformed_bodies() {
        let big = vec![b' '; MAX_BODY + 1];
        assert_eq!(read_body(None, &big[..]).unwrap_err().status, 413);
        assert_eq!(read_body(Some(MAX_BODY + 1), &b""[..]).unwrap_err().status, 413);
        assert_eq!(read_body(None, &big[..MAX_BODY]).unwrap().len(), MAX_BODY);
        // Never reads more than one byte past the limit.
        let mut src = std::io::Cursor::new(vec![b'x'; 3 * MAX_BODY]);
        assert!(read_body(None, &mut src).is_err());
        assert_eq!(src.position() as usize, MAX_BODY + 1);

        let mut c = Collector::open_in_memory().unwrap();
        for (path, b) in [
            ("/consentry/receipts", "[{"),
            ("/consentry/receipts", "\"x\""),
            ("/consentry/receipts", "\u{0}"),
            ("/batch/", "{}"),
            ("/batch/", "{\"api_key\":1,\"batch\":[]}"),
            ("/batch/", "{\"api_key\":\"k\",\"batch\":{}}"),
            ("/batch/", "{\"api_key\":\"k\",\"batch\":[{\"event\":\"e\",\"uuid\":\"u\"}]}"),
            ("/batch/", "{\"api_key\":\"k\",\"batch\":[{\"event\":\"e\",\"properties\":{}}]}"),
            ("/e/", "{\"api_key\":\"k\",\"batch\":[{\"event\":1,\"properties\":{},\"uuid\":\"u\"}]}"),
        ] {
            let r = post(&mut c, path, b);
            assert_eq!(r.status, 400, "{path} {b}: {}", r.body);
            assert!(parse(&r.body).get("error").is_some());
        }
        let r = post(&mut c, "/consentry/receipts", "[{\"id\":\"x\"}]");
        assert_eq!(r.status, 422, "{}", r.body);
        assert_eq!(c.route("GET", "/consentry/receipts", b"").unwrap().status, 405);
        assert_eq!(c.route("GET", "/index.html", b""), None);
        assert_eq!(count(&mut c, "events"), 0);
    }

    fn batch(subject: &str, uuids: &[&str]) -> String {
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

    #[test]
    fn events_are_idempotent_by_uuid() {
        let mut c = Collector::open_in_memory().unwrap();
        let r = post(&mut c, "/batch/", &batch("s1", &["u1", "u2"]));
        assert_eq!((r.status, r.body.as_str()), (200, "{\"status\":1}"));
        assert_eq!(post(&mut c, "/capture/", &batch("s1", &["u2", "u3"])).status, 200);
        let one = "{\"api_key\":\"demo\",\"event\":\"x\",\"properties\":{},\"uuid\":\"u4\"}";
        assert_eq!(post(&mut c, "/e/", one).status, 200);
        assert_eq!(count(&mut c, "events"), 4);
    }

    #[test]
    fn gzip_batches_are_unpacked_and_bombs_refused() {
        use std::io::Write;
        let gz = |data: &[u8]| {
            let mut z = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            z.write_all(data).unwrap();
            z.finish().unwrap()
        };
        let mut c = Collector::open_in_memory().unwrap();
        let r = c.route("POST", "/batch/", &gz(batch("s1", &["u1", "u2"]).as_bytes())).unwrap();
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(count(&mut c, "events"), 2);
        let bomb = gz(&vec![b' '; 2 * 1024 * 1024]);
        assert!(bomb.len() < MAX_BODY);
        assert_eq!(c.route("POST", "/batch/", &bomb).unwrap().status, 413);
        let mut cut = gz(batch("s1", &["u3"]).as_bytes());
        cut.truncate(cut.len() / 2);
        assert_eq!(c.route("POST", "/batch/", &cut).unwrap().status, 400);
        assert_eq!(count(&mut c, "events"), 2);
    }

    #[test]
    fn export_and_delete_keep_the_receipts() {
        let mut c = Collector::open_in_memory().unwrap();
        let l = log(7, 2);
        let s = l.receipts()[0].subject.clone();
        assert_eq!(post(&mut c, "/consentry/receipts", &body(l.receipts())).status, 200);
        assert_eq!(post(&mut c, "/batch/", &batch(&s, &["u1", "u2"])).status, 200);
        assert_eq!(post(&mut c, "/batch/", &batch("other", &["u3"])).status, 200);

        let path = format!("/consentry/subjects/{s}");
        let v = get(&mut c, &path);
        assert_eq!(v.get("subject").and_then(Value::as_str), Some(s.as_str()));
        let receipts = v.get("receipts").and_then(Value::as_array).unwrap();
        let back: Vec<Receipt> = receipts.iter().map(|r| json::receipt(r).unwrap()).collect();
        assert!(back == l.receipts(), "export returns the receipts as sent");
        assert_eq!(v.get("events").and_then(Value::as_array).unwrap().len(), 2);

        let r = c.route("DELETE", &path, b"").unwrap();
        assert_eq!(r.status, 200, "{}", r.body);
        let d = parse(&r.body);
        assert_eq!(d.get("deleted_events").and_then(Value::as_i64), Some(2));
        assert_eq!(d.get("receipts_kept").and_then(Value::as_i64), Some(2));
        let v = get(&mut c, &path);
        assert_eq!(v.get("receipts").and_then(Value::as_array).unwrap().len(), 2);
        assert_eq!(v.get("events").and_then(Value::as_array).unwrap().len(), 0);
        assert_eq!(count(&mut c, "events"), 1, "other subjects' events stay");
        assert_eq!(c.route("GET", "/consentry/subjects/nobody", b"").unwrap().status, 404);
    }
}
