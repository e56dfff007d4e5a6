//! `cargo xtask bench`: the side-by-side benchmark against the peers (bench/run.mjs).
//!
//! Owns: making sure the script-tag build and bench/node_modules exist, then running the node
//! benchmark, which prints the table and writes bench/results.json and bench/RESULTS.md.
//! Must never be part of the test command, and never judge speed: it reports figures only.
use anyhow::{bail, Result};
use std::process::Command;

pub fn run(args: &[String]) -> Result<()> {
    let root = crate::build::root();
    crate::build::ensure_built()?;
    // Installs the root tools too (playwright-core lives in the root node_modules).
    crate::build::ensure_tools()?;
    let bench = root.join("bench");
    let stamp = bench.join("node_modules/.package-lock.json");
    let fresh = match (std::fs::metadata(&stamp), std::fs::metadata(bench.join("package-lock.json"))) {
        (Ok(a), Ok(b)) => a.modified().ok() >= b.modified().ok(),
        _ => false,
    };
    if !fresh {
        eprintln!("Installing the pinned peers in bench/ (npm ci)…");
        crate::build::sh(Command::new("npm").args(["ci", "--no-audit", "--no-fund"]).current_dir(&bench))?;
    }
    println!("Size budget:");
    if let Err(e) = crate::budget::check() {
        eprintln!("warning: {e:#}");
    }
    for a in args {
        if !(a.starts_with("--runs=") || a == "--quick") {
            bail!("unknown argument {a:?} (bench takes --runs=N or --quick)");
        }
    }
    crate::build::sh(Command::new("node").arg(bench.join("run.mjs")).args(args).current_dir(&root))
}
