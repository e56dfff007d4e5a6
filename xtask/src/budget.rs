//! The size budget: what the script-tag build ships must stay under `bench/budget.json`.
//!
//! Owns: reading `pkg/cdn/manifest.json` (written by the build) and the committed budget file,
//! printing the figures against the budget, and failing when the total brotli size is over it.
//! Must never build anything or change either file: it only reads and judges.
use anyhow::{bail, Context, Result};
use serde_json::Value;
use std::path::Path;

/// Checks the built `pkg/cdn/manifest.json` against `bench/budget.json` (called by the test command
/// after the build).
pub fn check() -> Result<()> {
    let root = crate::build::root();
    check_files(
        &root.join("pkg/cdn/manifest.json"),
        &root.join("bench/budget.json"),
    )
}

fn read_json(p: &Path) -> Result<Value> {
    let text =
        std::fs::read_to_string(p).with_context(|| format!("cannot read {}", p.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{} is not valid JSON", p.display()))
}

fn field(v: &Value, path: &[&str], file: &Path) -> Result<u64> {
    let mut cur = v;
    for k in path {
        cur = cur
            .get(*k)
            .with_context(|| format!("{} has no {}", file.display(), path.join(".")))?;
    }
    cur.as_u64().with_context(|| {
        format!(
            "{}: {} is not a whole number",
            file.display(),
            path.join(".")
        )
    })
}

/// The budget check itself, on explicit paths so that it can be tested.
fn check_files(manifest: &Path, budget: &Path) -> Result<()> {
    let m = read_json(manifest)?;
    let b = read_json(budget)?;
    let max = field(&b, &["total_brotli_max"], budget)?;
    if let Some(files) = m.get("files").and_then(Value::as_object) {
        for (name, f) in files {
            println!(
                "  {:<20} {:>7} B raw {:>6} B gzip {:>6} B brotli",
                name,
                field(f, &["raw"], manifest)?,
                field(f, &["gzip"], manifest)?,
                field(f, &["brotli"], manifest)?
            );
        }
    }
    let raw = field(&m, &["total", "raw"], manifest)?;
    let gz = field(&m, &["total", "gzip"], manifest)?;
    let br = field(&m, &["total", "brotli"], manifest)?;
    println!(
        "  {:<20} {raw:>7} B raw {gz:>6} B gzip {br:>6} B brotli",
        "total"
    );
    if br > max {
        bail!(
            "size budget exceeded: pkg/cdn ships {br} B brotli, over the budget of {max} B by {} B \
             (bench/budget.json; cut the size, or raise the budget only with a note saying why)",
            br - max
        );
    }
    println!(
        "size budget: {br} B brotli <= {max} B ({} B to spare)",
        max - br
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::check_files;
    use std::path::PathBuf;

    fn dir(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("consentry-budget-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    fn write(d: &std::path::Path, total_brotli: u64, max: u64) -> (PathBuf, PathBuf) {
        let m = d.join("manifest.json");
        let b = d.join("budget.json");
        let manifest = serde_json::json!({
            "files": {
                "consentry.js": {"raw": 9000, "gzip": 4000, "brotli": 3500, "integrity": "sha384-x"},
                "consentry_bg.wasm": {"raw": 30000, "gzip": 12000, "brotli": total_brotli - 3500, "integrity": "sha384-y"}
            },
            "total": {"raw": 39000, "gzip": 16000, "brotli": total_brotli}
        });
        std::fs::write(&m, manifest.to_string()).unwrap();
        std::fs::write(
            &b,
            serde_json::json!({"total_brotli_max": max, "note": "test"}).to_string(),
        )
        .unwrap();
        (m, b)
    }

    #[test]
    fn over_budget_fails() {
        let d = dir("over");
        let (m, b) = write(&d, 12_001, 12_000);
        let err = check_files(&m, &b).unwrap_err().to_string();
        assert!(err.contains("exceeded") && err.contains("by 1 B"), "{err}");
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn at_or_under_budget_passes() {
        let d = dir("under");
        let (m, b) = write(&d, 12_000, 12_000);
        check_files(&m, &b).unwrap();
        let (m, b) = write(&d, 9_000, 12_000);
        check_files(&m, &b).unwrap();
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn missing_or_malformed_budget_fails() {
        let d = dir("bad");
        let (m, b) = write(&d, 9_000, 12_000);
        std::fs::write(&b, r#"{"note":"no max"}"#).unwrap();
        assert!(check_files(&m, &b).is_err());
        assert!(check_files(&m, &d.join("absent.json")).is_err());
        let _ = std::fs::remove_dir_all(&d);
    }
}
