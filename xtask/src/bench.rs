//! `cargo xtask bench`: the side-by-side benchmark against the peers (bench/run.mjs).
//!
//! Owns: making sure the script-tag build and bench/node_modules exist, then running the node
//! benchmark, which prints the table and writes bench/results.json and bench/RESULTS.md.
//! Must never be part of the test command, and never judge speed: it reports figures only.
use anyhow::{bail, Context, Result};
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
        if !(a.starts_with("--runs=") || a == "--quick" || a == "--variants") {
            bail!("unknown argument {a:?} (bench takes --runs=N, --quick, --variants)");
        }
    }
    // The evidence core natively, optimised: its own small crate (no tool crate in release).
    eprintln!("Evidence core, native (release build of bench/native)…");
    let native = Command::new(env!("CARGO"))
        .args(["run", "--quiet", "--release", "--manifest-path"])
        .arg(bench.join("native/Cargo.toml"))
        .arg("--target-dir")
        .arg(root.join("target/bench-native"))
        .current_dir(&root)
        .output()
        .context("could not start cargo for bench/native")?;
    let native_json = if native.status.success() {
        String::from_utf8_lossy(&native.stdout).trim().to_string()
    } else {
        eprintln!("warning: bench/native failed: {}", String::from_utf8_lossy(&native.stderr));
        String::new()
    };
    crate::build::sh(
        Command::new("node").arg(bench.join("run.mjs")).args(args).env("CONSENTRY_BENCH_NATIVE", native_json).current_dir(&root),
    )
}
