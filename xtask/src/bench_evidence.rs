//! `cargo xtask bench-evidence`: how fast receipts are hashed and chains verified, natively.
//!
//! Owns: one throughput measurement of `consentry::core::evidence` (append = build + SHA-256 of
//! the canonical bytes; `verify_chain` = shape + re-hash + links). Must never: be a timed test
//! or fail on a slow machine; it prints figures for a human.
use anyhow::{ensure, Result};
use consentry::core::evidence::{verify_chain, EvidenceLog, Method, ReceiptDraft};
use std::time::Instant;

const N: usize = 100_000;

pub fn run() -> Result<()> {
    if cfg!(debug_assertions) {
        println!("note: unoptimised build (cargo's dev profile); figures are several times below release");
    }
    let draft = |i: usize| ReceiptDraft {
        time: consentry::core::time::format_utc_iso(1_795_000_000_000 + i as i64 * 1000),
        origin: "https://shop.example".into(),
        path: "/products/42".into(),
        policy: "2026-11".into(),
        lang: "en".into(),
        texts: "3d0d4cb3f0146288497993446d5a26bdd2d2441b73fa1e39620468e14b09de91".into(),
        choices: vec![
            ("necessary".into(), true),
            ("analytics".into(), i.is_multiple_of(2)),
            ("marketing".into(), i.is_multiple_of(3)),
        ],
        method: if i.is_multiple_of(2) {
            Method::AcceptAll
        } else {
            Method::Withdraw
        },
        gpc: false,
    };
    let id = |i: usize| {
        let mut b = [0u8; 16];
        b[..8].copy_from_slice(&(i as u64).to_le_bytes());
        b
    };
    // Nothing is acknowledged, so the log keeps every receipt (undelivered ones are never pruned).
    let mut log = EvidenceLog::new();
    let started = Instant::now();
    for i in 0..N {
        log.append(draft(i), id(i), [0x5a; 16]);
    }
    let built = started.elapsed();
    ensure!(log.receipts.len() == N, "the log dropped receipts");
    let bytes: usize = log.receipts.iter().map(|r| r.canonical().len()).sum();

    let started = Instant::now();
    let checked = verify_chain(&log.receipts, true)
        .map_err(|b| anyhow::anyhow!("broken at {}: {}", b.index, b.reason))?;
    let verified = started.elapsed();
    ensure!(checked == N, "verified {checked} of {N}");

    let per_s = |d: std::time::Duration| (N as f64 / d.as_secs_f64()).round();
    println!(
        "{N} receipts, {} canonical bytes each on average",
        bytes / N
    );
    println!(
        "append (canonical + SHA-256 + link): {:>9.0} receipts/s ({:.2?})",
        per_s(built),
        built
    );
    println!(
        "verify_chain (anchored):             {:>9.0} receipts/s ({:.2?})",
        per_s(verified),
        verified
    );
    Ok(())
}
