//! `cargo xtask verify FILE | --db FILE`: checks consent evidence offline.
//!
//! Owns: reading an exported evidence document (`{"format":"consentry-evidence","v":1,"subject",
//! "receipts":[...]}` or a bare array of receipts) or every chain in a collector database, and
//! reporting per subject `ok, N receipts` or the first broken receipt. Must never: judge a receipt
//! itself; `consentry::core::evidence::verify_chain` is the one verifier (browser, collector, here).
use crate::collector::Collector;
use anyhow::{bail, Context, Result};
use consentry::core::evidence::{verify_chain, Receipt};
use consentry::core::json::{self, Value};
use std::path::Path;

pub fn run(args: &[String]) -> Result<()> {
    let chains = match args {
        [flag, db] if flag == "--db" => from_db(Path::new(db))?,
        [file] if !file.starts_with("--") => vec![from_file(Path::new(file))?],
        _ => bail!("usage: cargo xtask verify FILE | --db FILE"),
    };
    let mut broken = 0;
    for (subject, receipts) in &chains {
        match check(receipts) {
            Ok(n) => println!("{subject}: ok, {n} receipts"),
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

/// Verifies one subject's receipts (oldest first), anchored at seq 1. The error names the first
/// broken receipt: index, id, seq and reason.
pub fn check(items: &[Value]) -> Result<usize, String> {
    let field = |v: &Value, k| v.get(k).map(Value::to_json).unwrap_or_else(|| "?".into());
    let at = |i: usize, reason: &str| {
        let v = &items[i];
        format!(
            "at index {i} (id {}, seq {}): {reason}",
            field(v, "id"),
            field(v, "seq")
        )
    };
    let mut receipts = Vec::with_capacity(items.len());
    for (i, v) in items.iter().enumerate() {
        receipts
            .push(Receipt::from_value(v).map_err(|e| at(i, &format!("not a valid receipt: {e}")))?);
    }
    verify_chain(&receipts, true).map_err(|b| match b.index < items.len() {
        true => at(b.index, b.reason),
        false => format!("at index {}: {}", b.index, b.reason),
    })
}

fn from_file(path: &Path) -> Result<(String, Vec<Value>)> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let doc = json::parse(&text).map_err(|e| {
        anyhow::anyhow!("{}: not JSON (byte {}: {})", path.display(), e.pos, e.what)
    })?;
    let (subject, receipts) = match &doc {
        Value::Arr(a) => (None, a.clone()),
        Value::Obj(_)
            if doc.get("format").and_then(Value::as_str) == Some("consentry-evidence") =>
        {
            if doc.get("v").and_then(Value::as_i64) != Some(1) {
                bail!("{}: unsupported evidence format version", path.display());
            }
            let Some(list) = doc.get("receipts").and_then(Value::as_array) else {
                bail!("{}: \"receipts\" must be an array", path.display());
            };
            (
                doc.get("subject").and_then(Value::as_str).map(String::from),
                list.to_vec(),
            )
        }
        _ => bail!(
            "{}: expected a consentry-evidence document or an array of receipts",
            path.display()
        ),
    };
    let subject = subject
        .or_else(|| {
            receipts
                .first()
                .and_then(|r| r.get("subject"))
                .and_then(Value::as_str)
                .map(String::from)
        })
        .unwrap_or_else(|| "(no receipts)".into());
    Ok((subject, receipts))
}

fn from_db(path: &Path) -> Result<Vec<(String, Vec<Value>)>> {
    if !path.exists() {
        bail!("{}: no such database", path.display());
    }
    let db = Collector::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut out = Vec::new();
    for (subject, rows) in db.chains()? {
        let values = rows
            .iter()
            .map(|j| {
                json::parse(j).map_err(|e| {
                    anyhow::anyhow!("stored receipt of {subject} is not JSON: {}", e.what)
                })
            })
            .collect::<Result<Vec<_>>>()?;
        out.push((subject, values));
    }
    if out.is_empty() {
        println!("{}: no receipts stored", path.display());
    }
    Ok(out)
}
