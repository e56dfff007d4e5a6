//! `cargo xtask verify FILE | --db DB [--require-texts]`: checks consent evidence offline.
//!
//! Owns: reading an exported evidence document (`{"format":"consentry-evidence","v":1,"subject",
//! "receipts":[...]}`), the browser's stored log (`localStorage['consentry']`) or a bare array of
//! receipts, or every chain in a collector database (SQLite file, `sqlite:PATH` or
//! `postgres://…`), and reporting per subject `ok, N receipts` or the first broken receipt; for a
//! database also the receipts whose wording (shown-texts document) it does not hold. The
//! collector keeps whole chains, so they must start at seq 1; a browser keeps only its newest
//! receipts, so a file's chain may start later (it is said so). Must never: judge a receipt
//! itself; the collector's `evidence` module (the core's `verify_chain`) is the one verifier.
use anyhow::{bail, Context, Result};
use consentry_collector::evidence::{follows, Receipt, EXPORT_FORMAT};
use consentry_collector::verify::verify_store;
use consentry_collector::Store;
use serde_json::value::RawValue;
use serde_json::Value;
use std::path::Path;

pub fn run(args: &[String]) -> Result<()> {
    match args {
        [flag, db] if flag == "--db" => run_db(db, false),
        [flag, db, t] | [t, flag, db] if flag == "--db" && t == "--require-texts" => run_db(db, true),
        [file] if !file.starts_with("--") => run_file(Path::new(file)),
        _ => bail!("usage: cargo xtask verify FILE | --db FILE|sqlite:PATH|postgres://… [--require-texts]"),
    }
}

fn run_file(path: &Path) -> Result<()> {
    let (subject, receipts) = from_file(path)?;
    match check(&receipts) {
        Ok(n) => {
            let first =
                receipts.first().and_then(|r| serde_json::from_str::<Value>(r).ok()).and_then(|v| v.get("seq").and_then(Value::as_i64));
            let note = match first {
                Some(s) if s > 1 => " (older ones are not in this file)",
                _ => "",
            };
            println!("{subject}: ok, {n} receipts{note}");
            Ok(())
        }
        Err(why) => {
            println!("{subject}: BROKEN {why}");
            bail!("1 of 1 chains broken")
        }
    }
}

fn run_db(db: &str, require_texts: bool) -> Result<()> {
    let is_url = db.starts_with("postgres://") || db.starts_with("postgresql://");
    let file = db.strip_prefix("sqlite:").unwrap_or(db);
    if !is_url && !Path::new(file).exists() {
        bail!("{file}: no such database");
    }
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let (subjects, broken, receipts, missing) = rt.block_on(async {
        let store = Store::open(db, 2).await.with_context(|| format!("opening {db}"))?;
        let (mut subjects, mut receipts, mut missing) = (0u64, 0u64, 0u64);
        let broken = verify_store(&store, |r| {
            subjects += 1;
            receipts += r.receipts;
            missing += r.missing_wording;
            match &r.broken {
                Some(why) => println!("{}: BROKEN {why}", r.subject),
                None => {
                    let mut line = format!("{}: ok, {} receipts", r.subject, r.receipts);
                    if r.missing_wording > 0 {
                        let shown: Vec<String> = r.missing_hashes.iter().map(|h| format!("{}…", &h[..12])).collect();
                        line.push_str(&format!("; wording missing for {} of them (texts {})", r.missing_wording, shown.join(", ")));
                    }
                    println!("{line}");
                }
            }
        })
        .await?;
        store.close().await;
        Ok::<_, anyhow::Error>((subjects, broken, receipts, missing))
    })?;
    if subjects == 0 {
        println!("{db}: no receipts stored");
    }
    if missing == 0 {
        if receipts > 0 {
            println!("wording: the texts document of every receipt is stored");
        }
    } else {
        println!("wording: {missing} of {receipts} receipts refer to texts documents this database does not hold");
    }
    if broken > 0 {
        bail!("{broken} of {subjects} chains broken");
    }
    if require_texts && missing > 0 {
        bail!("{missing} receipts without their wording (--require-texts)");
    }
    Ok(())
}

/// Verifies one subject's receipts (their JSON texts, oldest first); the first may be any seq
/// (a browser's bounded log). The error names the first broken receipt: index, id, seq, reason.
pub fn check(items: &[String]) -> Result<usize, String> {
    let mut prev: Option<Receipt> = None;
    for (i, text) in items.iter().enumerate() {
        let at = |reason: &str| {
            let v: Value = serde_json::from_str(text).unwrap_or(Value::Null);
            let field = |k: &str| match v.get(k) {
                Some(Value::String(s)) => s.clone(),
                Some(other) => other.to_string(),
                None => "?".into(),
            };
            format!("at index {i} (id {}, seq {}): {reason}", field("id"), field("seq"))
        };
        let r = Receipt::parse(text).map_err(|e| at(&e))?;
        if let Some(p) = &prev {
            follows(Some(p), &r).map_err(|e| at(&e))?;
        }
        prev = Some(r);
    }
    Ok(items.len())
}

/// The subject and the receipts' JSON texts of an evidence file.
fn from_file(path: &Path) -> Result<(String, Vec<String>)> {
    let name = path.display();
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {name}"))?;
    let doc: Value = serde_json::from_str(&text).map_err(|e| anyhow::anyhow!("{name}: not JSON ({e})"))?;
    #[derive(serde::Deserialize)]
    struct Doc<'a> {
        #[serde(borrow)]
        receipts: Vec<&'a RawValue>,
    }
    let is_export = doc.get("format").and_then(Value::as_str) == Some(EXPORT_FORMAT);
    let (subject, raw): (Option<String>, Vec<&RawValue>) = match &doc {
        Value::Array(_) => (None, serde_json::from_str(&text)?),
        // The export, or the browser's stored log `{"v":1,"subject","delivered","receipts"}`.
        Value::Object(_) if is_export || doc.get("delivered").is_some() => {
            if doc.get("v").and_then(Value::as_i64) != Some(1) {
                bail!("{name}: unsupported evidence format version");
            }
            let d: Doc = serde_json::from_str(&text).map_err(|e| anyhow::anyhow!("{name}: \"receipts\" must be an array ({e})"))?;
            let subject = doc.get("subject").and_then(Value::as_str).map(String::from);
            (subject, d.receipts)
        }
        _ => bail!("{name}: expected a consentry-evidence document, a stored log or an array of receipts"),
    };
    let receipts: Vec<String> = raw.iter().map(|r| r.get().to_string()).collect();
    let first = receipts
        .first()
        .and_then(|r| serde_json::from_str::<Value>(r).ok())
        .and_then(|v| v.get("subject").and_then(Value::as_str).map(String::from));
    if let (Some(s), Some(f)) = (&subject, &first) {
        if s != f {
            bail!("{name}: the document's subject {s} is not its receipts' subject {f}");
        }
    }
    let subject = subject.or(first).unwrap_or_else(|| "(no receipts)".into());
    Ok((subject, receipts))
}

#[cfg(test)]
mod tests {
    use super::*;
    use consentry_collector::evidence::ChainMaker;

    fn receipts(n: usize) -> (String, Vec<String>) {
        let mut m = ChainMaker::new([9; 16], &"0".repeat(64));
        let rs: Vec<String> = (0..n).map(|_| m.next_receipt().to_json()).collect();
        (ChainMaker::subject_id([9; 16]), rs)
    }

    fn export(subject: &str, rs: &[String]) -> String {
        format!("{{\"format\":\"consentry-evidence\",\"v\":1,\"subject\":\"{subject}\",\"receipts\":[{}]}}", rs.join(","))
    }

    fn file(name: &str, text: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("consentry-verify-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn an_export_verifies_and_an_edit_is_named() {
        let (subject, rs) = receipts(3);
        let (s, items) = from_file(&file("ok.json", &export(&subject, &rs))).unwrap();
        assert_eq!(s, subject);
        assert_eq!(check(&items), Ok(3));
        let log = format!("{{\"v\":1,\"subject\":\"{subject}\",\"delivered\":3,\"receipts\":[{}]}}", rs.join(","));
        assert_eq!(check(&from_file(&file("stored.json", &log)).unwrap().1), Ok(3));
        // A tail of a chain verifies too (a browser keeps its newest receipts).
        assert_eq!(check(&rs[1..]), Ok(2));

        let edited = export(&subject, &rs).replacen("\"analytics\":true", "\"analytics\":false", 1);
        assert_ne!(edited, export(&subject, &rs));
        let (_, items) = from_file(&file("bad.json", &edited)).unwrap();
        let why = check(&items).unwrap_err();
        assert!(why.starts_with("at index 0 ("), "{why}");
        let id0: Value = serde_json::from_str(&rs[0]).unwrap();
        assert!(why.contains(id0["id"].as_str().unwrap()) && why.contains("seq 1") && why.contains("hash"), "{why}");
        // A receipt left out breaks the link of the next one.
        let gap = [rs[0].clone(), rs[2].clone()];
        let (_, items) = from_file(&file("gap.json", &format!("[{}]", gap.join(",")))).unwrap();
        assert!(check(&items).unwrap_err().starts_with("at index 1 "));
        assert!(run(&[file("bad2.json", &edited).display().to_string()]).is_err());
        assert!(from_file(&file("no.json", "{\"x\":1}")).is_err());
        let other = export(&"ab".repeat(16), &rs);
        assert!(from_file(&file("other.json", &other)).unwrap_err().to_string().contains("is not its receipts' subject"));
    }

    #[test]
    fn a_database_verifies_and_names_missing_wording() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("c.sqlite");
        assert!(run(&["--db".into(), db.display().to_string()]).unwrap_err().to_string().contains("no such database"));
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let url = format!("sqlite:{}", db.display());
        rt.block_on(async {
            let store = Store::open(&url, 1).await.unwrap();
            let mut m = ChainMaker::new([1; 16], &"0".repeat(64));
            store.insert_unchecked(vec![m.next_receipt(), m.next_receipt()]).await.unwrap();
            store.close().await;
        });
        assert!(run(&["--db".into(), db.display().to_string()]).is_ok());
        let e = run(&["--db".into(), url.clone(), "--require-texts".into()]).unwrap_err();
        assert!(e.to_string().contains("2 receipts without their wording"), "{e}");
    }
}
