//! `cargo xtask verify FILE | --db FILE`: checks consent evidence offline.
//!
//! Owns: reading an exported evidence document (`{"format":"consentry-evidence","v":1,"subject",
//! "receipts":[...]}`), the browser's stored log (`localStorage['consentry']`) or a bare array of
//! receipts, or every chain in a collector database, and reporting per subject `ok, N receipts`
//! or the first broken receipt. The collector keeps whole chains, so they must start at seq 1; a
//! browser keeps only its newest receipts, so a file's chain may start later (it is said so). Must never: judge a receipt
//! itself; `consentry::core::evidence::verify_chain` is the one verifier (browser, collector, here).
use crate::collector::Collector;
use crate::json::{self, Value};
use anyhow::{anyhow, bail, Context, Result};
use consentry::core::evidence::{verify_chain, EXPORT_FORMAT};
use std::path::Path;

pub fn run(args: &[String]) -> Result<()> {
    let chains = match args {
        [flag, db] if flag == "--db" => from_db(Path::new(db))?,
        [file] if !file.starts_with("--") => vec![from_file(Path::new(file))?],
        _ => bail!("usage: cargo xtask verify FILE | --db FILE"),
    };
    let mut broken = 0;
    for (subject, receipts, anchored) in &chains {
        match check(receipts, *anchored) {
            Ok(n) => {
                let first = receipts.first().and_then(|r| r.get("seq")).and_then(Value::as_i64);
                let note = match first {
                    Some(s) if s > 1 => " (older ones are not in this file)",
                    _ => "",
                };
                println!("{subject}: ok, {n} receipts{note}");
            }
            Err(why) => {
                broken += 1;
                println!("{subject}: BROKEN {why}");
            }
        }
    }
    match broken {
        0 => Ok(()),
        n => bail!("{n} of {} chains broken", chains.len()),
    }
}

/// Verifies one subject's receipts (oldest first); `anchored`: the chain must start at seq 1.
/// The error names the first broken receipt: index, id, seq and reason.
pub fn check(items: &[Value], anchored: bool) -> Result<usize, String> {
    let field = |v: &Value, k| match v.get(k) {
        Some(Value::Str(s)) => s.clone(),
        Some(other) => other.to_json(),
        None => "?".into(),
    };
    let at = |i: usize, reason: &str| {
        let v = &items[i];
        format!("at index {i} (id {}, seq {}): {reason}", field(v, "id"), field(v, "seq"))
    };
    let mut receipts = Vec::with_capacity(items.len());
    for (i, v) in items.iter().enumerate() {
        receipts.push(json::receipt(v).map_err(|e| at(i, &format!("not a valid receipt: {e}")))?);
    }
    verify_chain(&receipts, anchored).map_err(|b| match b.index < items.len() {
        true => at(b.index, b.reason.as_str()),
        false => format!("at index {}: {}", b.index, b.reason.as_str()),
    })
}

type Chain = (String, Vec<Value>, bool);

fn from_file(path: &Path) -> Result<Chain> {
    let name = path.display();
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {name}"))?;
    let doc = json::parse(&text).map_err(|e| anyhow!("{name}: not JSON (byte {}: {})", e.pos, e.what))?;
    let is_export = doc.get("format").and_then(Value::as_str) == Some(EXPORT_FORMAT);
    let (subject, receipts) = match &doc {
        Value::Arr(a) => (None, a.clone()),
        // The export (`v` 1), or the browser's stored log (`{"v":1|2,"subject","delivered",…}`).
        Value::Obj(_) if is_export || doc.get("delivered").is_some() => {
            let v = doc.get("v").and_then(Value::as_i64);
            if !(v == Some(1) || (v == Some(2) && !is_export)) {
                bail!("{name}: unsupported evidence format version");
            }
            let Some(list) = doc.get("receipts").and_then(Value::as_array) else {
                bail!("{name}: \"receipts\" must be an array");
            };
            let subject = doc.get("subject").and_then(Value::as_str).map(String::from);
            (subject, list.to_vec())
        }
        _ => bail!("{name}: expected a consentry-evidence document, a stored log or an array of receipts"),
    };
    let first = receipts.first().and_then(|r| r.get("subject")).and_then(Value::as_str);
    if let (Some(s), Some(f)) = (&subject, first) {
        if s != f {
            bail!("{name}: the document's subject {s} is not its receipts' subject {f}");
        }
    }
    let subject = subject.or(first.map(String::from)).unwrap_or_else(|| "(no receipts)".into());
    Ok((subject, receipts, false))
}

fn from_db(path: &Path) -> Result<Vec<Chain>> {
    if !path.exists() {
        bail!("{}: no such database", path.display());
    }
    let db = Collector::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut out = Vec::new();
    for (subject, rows) in db.chains()? {
        let values = rows
            .iter()
            .map(|j| json::parse(j).map_err(|e| anyhow!("stored receipt of {subject} is not JSON: {}", e.what)))
            .collect::<Result<Vec<_>>>()?;
        out.push((subject, values, true));
    }
    if out.is_empty() {
        println!("{}: no receipts stored", path.display());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use consentry::core::evidence::{EvidenceLog, Method, ReceiptDraft};

    fn log(n: usize) -> EvidenceLog {
        let mut log = EvidenceLog::new();
        for i in 0..n {
            let d = ReceiptDraft {
                time: consentry::core::time::format_utc_iso(1_795_000_000_000),
                origin: "https://a.example".into(),
                path: "/".into(),
                policy: "1".into(),
                lang: "en".into(),
                texts: "0".repeat(64),
                choices: vec![("analytics".into(), i == 0)],
                method: Method::Custom,
                gpc: false,
            };
            let mut random = [9u8; 64];
            random[..16].copy_from_slice(&[i as u8 + 1; 16]);
            log.append(d, &random);
        }
        log
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
        let l = log(3);
        let (subject, items, anchored) = from_file(&file("ok.json", &l.export_json())).unwrap();
        assert_eq!(subject, l.subject());
        assert_eq!(check(&items, anchored), Ok(3));
        let stored = from_file(&file("stored.json", &l.to_json())).unwrap();
        assert_eq!(check(&stored.1, stored.2), Ok(3));

        let edited = l.export_json().replacen("\"analytics\":true", "\"analytics\":false", 1);
        assert_ne!(edited, l.export_json());
        let (_, items, anchored) = from_file(&file("bad.json", &edited)).unwrap();
        let why = check(&items, anchored).unwrap_err();
        assert!(why.starts_with("at index 0 ("), "{why}");
        assert!(why.contains(&l.receipts()[0].id) && why.contains("seq 1") && why.contains("hash"), "{why}");
        // A receipt left out breaks the link of the next one.
        let mut gap = l.receipts().to_vec();
        gap.remove(1);
        let arr: Vec<String> = gap.iter().map(|r| r.to_json()).collect();
        let (_, items, a) = from_file(&file("gap.json", &format!("[{}]", arr.join(",")))).unwrap();
        assert!(check(&items, a).unwrap_err().starts_with("at index 1 "));
        assert!(run(&[file("bad2.json", &edited).display().to_string()]).is_err());
        assert!(from_file(&file("no.json", "{\"x\":1}")).is_err());
    }
}
