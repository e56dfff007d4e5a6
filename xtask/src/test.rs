//! `cargo xtask test`: every test layer, in order, with one summary line at the end.
//!
//! Owns: installing what the layers need when it is missing (wasm target and npm tools through
//! `build::ensure_tools`, Debian's `chromium` + `chromium-driver` through apt), then running
//! (0) formatting and clippy, (1) native `cargo test --workspace` (with a throw-away PostgreSQL cluster
//! for the collector's tests, `pg.rs`; Debian's `postgresql` is installed when missing), (2) the release
//! build and the size budget,
//! (3) `wasm-bindgen-test` browser tests in headless Chromium through chromedriver, and
//! (4) the end-to-end tests (`node --test` + playwright-core against the demo server).
//! Each layer's own output is shown as it runs; the counts are parsed from it.
//! Must never: hide a layer's failure, report counts it did not read, or change source files.
//!
//! (2b) `scan`: the scanner's Chromium tests (fixture sites and the demo), after the build.
//!
//! `cargo xtask test lint native build scan wasm e2e` runs only the named layers (all by default).
use anyhow::{bail, Context, Result};
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

const LAYERS: [&str; 6] = ["lint", "native", "build", "scan", "wasm", "e2e"];

/// What one layer did.
struct Outcome {
    name: &'static str,
    ok: bool,
    passed: u64,
    failed: u64,
    /// Whether the counts were read from the layer's output (false: only the exit status is known).
    counted: bool,
    secs: f64,
    note: String,
}

pub fn run(args: &[String]) -> Result<()> {
    let mut wanted: Vec<&str> = Vec::new();
    for a in args {
        match LAYERS.iter().find(|l| **l == a.as_str()) {
            Some(l) => wanted.push(l),
            None => bail!("unknown argument {a:?} (test takes layer names: {})", LAYERS.join(" ")),
        }
    }
    if wanted.is_empty() {
        wanted = LAYERS.to_vec();
    }
    let started = Instant::now();
    let root = crate::build::root();
    crate::build::ensure_tools()?;
    if wanted.iter().any(|l| *l == "wasm" || *l == "e2e" || *l == "scan") {
        ensure_chromium()?;
    }

    let mut results: Vec<Outcome> = Vec::new();
    let mut built = true;
    for layer in &wanted {
        banner(layer);
        let t = Instant::now();
        let mut o = match *layer {
            "lint" => lint(),
            "native" => native(&root),
            "build" => {
                let (o, ok) = build_and_budget();
                built = ok;
                o
            }
            "scan" if !built => skipped("scan", "skipped: the build failed, so there is no demo to scan"),
            "scan" if !wanted.contains(&"build") && crate::build::ensure_built().is_err() => {
                skipped("scan", "skipped: the build failed, so there is no demo to scan")
            }
            "scan" => scan(),
            "wasm" => wasm(&root),
            "e2e" if !built => skipped("e2e", "skipped: the build failed, so there is nothing to serve"),
            // Run alone, the end-to-end layer still needs current packages to serve.
            "e2e" if !wanted.contains(&"build") && crate::build::ensure_built().is_err() => {
                skipped("e2e", "skipped: the build failed, so there is nothing to serve")
            }
            "e2e" => e2e(&root),
            _ => unreachable!(),
        };
        o.secs = t.elapsed().as_secs_f64();
        results.push(o);
    }

    println!();
    println!("== summary ==");
    let (mut passed, mut failed) = (0, 0);
    for o in &results {
        passed += o.passed;
        failed += o.failed;
        let counts = if o.counted { format!("{} passed, {} failed", o.passed, o.failed) } else { String::from("no counts") };
        println!("  {:<7} {:<4} {counts:<22} {:>6.1} s  {}", o.name, if o.ok { "ok" } else { "FAIL" }, o.secs, o.note);
    }
    println!("  total time {:.1} s", started.elapsed().as_secs_f64());
    println!("{passed} passed, {failed} failed");
    let bad: Vec<&str> = results.iter().filter(|o| !o.ok).map(|o| o.name).collect();
    if !bad.is_empty() {
        bail!("failed layers: {}", bad.join(", "));
    }
    Ok(())
}

fn banner(layer: &str) {
    let what = match layer {
        "lint" => "cargo fmt --check, cargo clippy -D warnings (native, wasm32 and bench/native)",
        "native" => "native unit and integration tests (cargo test --workspace)",
        "build" => "release build of pkg/npm and pkg/cdn, then the size budget",
        "scan" => "consentry-scan in headless Chromium: fixture sites on loopback and the demo",
        "wasm" => "the .wasm's exports: wasm-bindgen-test in headless Chromium",
        _ => "end-to-end: playwright-core + Chromium against the demo server",
    };
    println!();
    println!("== {layer}: {what} ==");
}

fn skipped(name: &'static str, why: &str) -> Outcome {
    println!("{why}");
    Outcome { name, ok: false, passed: 0, failed: 1, counted: false, secs: 0.0, note: why.into() }
}

use crate::build::target_dir;

fn cargo() -> Command {
    let mut c = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    c.current_dir(crate::build::root());
    c
}

/// Runs `cmd`, showing its output line by line as it comes and keeping it for parsing.
/// Returns (exit success, everything it printed on stdout and stderr).
fn tee(cmd: &mut Command) -> Result<(bool, String)> {
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().with_context(|| format!("could not start {cmd:?}"))?;
    let out = child.stdout.take().context("no stdout pipe")?;
    let err = child.stderr.take().context("no stderr pipe")?;
    fn pump<R: Read + Send + 'static>(r: R, to_err: bool) -> std::thread::JoinHandle<String> {
        std::thread::spawn(move || {
            let mut kept = String::new();
            for line in BufReader::new(r).split(b'\n') {
                let Ok(line) = line else { break };
                let line = String::from_utf8_lossy(&line);
                if to_err {
                    eprintln!("{line}");
                } else {
                    println!("{line}");
                }
                kept.push_str(&line);
                kept.push('\n');
            }
            kept
        })
    }
    let a = pump(out, false);
    let b = pump(err, true);
    let status = child.wait()?;
    let mut text = a.join().unwrap_or_default();
    text.push_str(&b.join().unwrap_or_default());
    Ok((status.success(), text))
}

/// Sums libtest's `test result: ok. 12 passed; 0 failed; …` lines (also what wasm-bindgen-test
/// prints). Returns None when there is no such line.
fn libtest_counts(text: &str) -> Option<(u64, u64)> {
    let mut found = false;
    let (mut p, mut f) = (0, 0);
    for line in text.lines() {
        let Some(rest) = line.trim().strip_prefix("test result: ") else { continue };
        found = true;
        for part in rest.split(';') {
            let words: Vec<&str> = part.split_whitespace().collect();
            // "ok. 12 passed" / "FAILED. 3 passed" / " 1 failed"
            if let [.., n, kind] = words[..] {
                match (kind, n.parse::<u64>()) {
                    ("passed", Ok(n)) => p += n,
                    ("failed", Ok(n)) => f += n,
                    _ => {}
                }
            }
        }
    }
    found.then_some((p, f))
}

/// node:test's summary (`ℹ pass 5` with the spec reporter, `# pass 5` with TAP).
fn node_counts(text: &str) -> Option<(u64, u64)> {
    let (mut p, mut f) = (None, None);
    for line in text.lines() {
        let l = line.trim_start_matches(|c: char| c == '#' || c == 'ℹ' || c.is_whitespace());
        if let Some(n) = l.strip_prefix("pass ").and_then(|n| n.trim().parse::<u64>().ok()) {
            p = Some(n);
        }
        if let Some(n) = l.strip_prefix("fail ").and_then(|n| n.trim().parse::<u64>().ok()) {
            f = Some(n);
        }
    }
    Some((p?, f?))
}

/// Turns an exit status and parsed counts into an outcome. A failed command with no parsed
/// failure (a compile error, a crash) still counts as one failure, so the total never hides it.
fn outcome(name: &'static str, ok: bool, counts: Option<(u64, u64)>, note: &str) -> Outcome {
    let (passed, mut failed) = counts.unwrap_or((0, 0));
    let counted = counts.is_some();
    let mut note = note.to_string();
    if !ok && failed == 0 {
        failed = 1;
        if note.is_empty() {
            note = String::from("the command failed before reporting test failures (see its output above)");
        }
    }
    Outcome { name, ok, passed, failed, counted, secs: 0.0, note }
}

/// Formatting and clippy, natively for the workspace and for wasm32 on the module (the browser
/// shell only compiles there). Each check counts as one test.
fn lint() -> Outcome {
    let has = |tool: &str| cargo().args([tool, "--version"]).output().is_ok_and(|o| o.status.success());
    if !has("clippy") || !has("fmt") {
        eprintln!("Installing rustfmt and clippy…");
        let _ = crate::build::sh(Command::new("rustup").args(["component", "add", "rustfmt", "clippy"]));
    }
    // bench/native is its own workspace (so that it builds in release without the tool crate):
    // checked here too, or it rots unseen until someone runs the benchmark.
    let checks: [(&str, &[&str]); 5] = [
        ("cargo fmt --all --check", &["fmt", "--all", "--check"]),
        ("cargo clippy --workspace --all-targets -- -D warnings", &["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"]),
        (
            "cargo clippy -p consentry --lib --test browser --target wasm32-unknown-unknown -- -D warnings",
            &["clippy", "-p", "consentry", "--lib", "--test", "browser", "--target", "wasm32-unknown-unknown", "--", "-D", "warnings"],
        ),
        ("cargo fmt --manifest-path bench/native/Cargo.toml --check", &["fmt", "--manifest-path", "bench/native/Cargo.toml", "--check"]),
        (
            "cargo clippy --manifest-path bench/native/Cargo.toml -- -D warnings",
            &["clippy", "--manifest-path", "bench/native/Cargo.toml", "--target-dir", "target", "--", "-D", "warnings"],
        ),
    ];
    let (mut passed, mut failed) = (0, 0);
    for (name, args) in checks {
        println!("$ {name}");
        match tee(cargo().args(args)) {
            Ok((true, _)) => passed += 1,
            _ => {
                eprintln!("FAILED: {name}");
                failed += 1;
            }
        }
    }
    outcome("lint", failed == 0, Some((passed, failed)), "")
}

fn native(_root: &Path) -> Outcome {
    // The collector's PostgreSQL tests run against a throw-away cluster (`pg.rs`), named to
    // them by CONSENTRY_TEST_PG; it is stopped and removed when this returns.
    let cluster = match crate::pg::Cluster::start(false) {
        Ok(c) => c,
        Err(e) => {
            let why = format!("could not start PostgreSQL for the collector's tests: {e:#}");
            eprintln!("{why}");
            return outcome("native", false, None, &why);
        }
    };
    let url = cluster.url("postgres");
    println!("PostgreSQL for the collector's tests: {url}");
    match tee(cargo().args(["test", "--workspace"]).env("CONSENTRY_TEST_PG", &url)) {
        Ok((ok, text)) => outcome("native", ok, libtest_counts(&text), ""),
        Err(e) => outcome("native", false, None, &format!("{e:#}")),
    }
}

/// The outcome, and whether `pkg/` was built (so the end-to-end layer has something to serve).
fn build_and_budget() -> (Outcome, bool) {
    if let Err(e) = bindgen_versions_match(&crate::build::root()) {
        eprintln!("{e:#}");
        return (outcome("build", false, Some((0, 1)), "wasm-bindgen versions differ (see above)"), false);
    }
    if let Err(e) = crate::build::ensure_built() {
        eprintln!("build failed: {e:#}");
        return (outcome("build", false, None, "the build failed (see its output above)"), false);
    }
    println!("pkg/ is up to date; checking the size budget (bench/budget.json)");
    let o = match crate::budget::check() {
        Ok(()) => outcome("build", true, Some((1, 0)), "build + size budget"),
        Err(e) => {
            eprintln!("{e:#}");
            outcome("build", false, Some((0, 1)), "over the size budget (see above)")
        }
    };
    (o, true)
}

/// The scanner's Chromium tests (`#[ignore]`d in the native layer); the demo test builds `pkg/`
/// itself when this layer runs alone. One test at a time: each scan starts three browsers.
fn scan() -> Outcome {
    match tee(cargo().args(["test", "-p", "consentry-scan", "--", "--ignored", "--test-threads=1"])) {
        Ok((ok, text)) => outcome("scan", ok, libtest_counts(&text), ""),
        Err(e) => outcome("scan", false, None, &format!("{e:#}")),
    }
}

fn wasm(root: &Path) -> Outcome {
    let runner = target_dir(root).join("debug/wbg-test-runner");
    if let Err(e) = crate::build::sh(cargo().args(["build", "--quiet", "-p", "xtask", "--bin", "wbg-test-runner"])) {
        return outcome("wasm", false, None, &format!("building the test runner: {e:#}"));
    }
    let r = tee(cargo()
        .args(["test", "-p", "consentry", "--target", "wasm32-unknown-unknown", "--test", "browser"])
        .env("CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER", &runner)
        .env("CHROMEDRIVER", "/usr/bin/chromedriver")
        .env("WASM_BINDGEN_TEST_TIMEOUT", "60")
        .env_remove("GECKODRIVER")
        .env_remove("SAFARIDRIVER")
        .env_remove("WASM_BINDGEN_USE_NO_MODULE"));
    match r {
        Ok((ok, text)) => outcome("wasm", ok, libtest_counts(&text), ""),
        Err(e) => outcome("wasm", false, None, &format!("{e:#}")),
    }
}

fn e2e(root: &Path) -> Outcome {
    // The tests start `target/debug/xtask serve`; make sure that binary is this source's.
    if let Err(e) = crate::build::sh(cargo().args(["build", "--quiet", "-p", "xtask", "--bin", "xtask"])) {
        return outcome("e2e", false, None, &format!("building xtask: {e:#}"));
    }
    let dir = root.join("tests/e2e");
    let mut files: Vec<PathBuf> = match std::fs::read_dir(&dir) {
        Ok(rd) => rd
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.ends_with(".test.mjs")))
            .collect(),
        Err(e) => return outcome("e2e", false, None, &format!("reading {}: {e}", dir.display())),
    };
    files.sort();
    if files.is_empty() {
        return outcome("e2e", false, None, "no tests/e2e/*.test.mjs files");
    }
    let mut cmd = Command::new("node");
    cmd.args(["--test", "--test-concurrency=1", "--test-reporter=spec"]).args(&files).current_dir(root);
    match tee(&mut cmd) {
        Ok((ok, text)) => outcome("e2e", ok, node_counts(&text), ""),
        Err(e) => outcome("e2e", false, None, &format!("{e:#}")),
    }
}

/// The module's wasm-bindgen, the CLI library that generates the glue, and the test runner's
/// shared crate must be the same version, or the glue and the test runner misread the module.
fn bindgen_versions_match(root: &Path) -> Result<()> {
    let lock = std::fs::read_to_string(root.join("Cargo.lock")).context("reading Cargo.lock")?;
    let versions = lock_versions(&lock);
    let get = |name: &str| versions.iter().filter(|(n, _)| n == name).map(|(_, v)| v.as_str()).collect::<Vec<_>>();
    let lib = get("wasm-bindgen");
    if lib.len() != 1 {
        bail!("Cargo.lock should hold exactly one wasm-bindgen version, holds {lib:?}");
    }
    for other in ["wasm-bindgen-cli", "wasm-bindgen-cli-support", "wasm-bindgen-test-shared"] {
        for v in get(other) {
            if v != lib[0] {
                bail!("Cargo.lock: {other} {v} differs from wasm-bindgen {}: pin both to the same version", lib[0]);
            }
        }
    }
    println!("wasm-bindgen {} everywhere (module, CLI, test runner)", lib[0]);
    Ok(())
}

/// (name, version) of every package in a Cargo.lock.
fn lock_versions(lock: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut name: Option<String> = None;
    for line in lock.lines() {
        let field = |key: &str| line.strip_prefix(key).map(|v| v.trim().trim_matches('"').to_string());
        if line == "[[package]]" {
            name = None;
        } else if let Some(n) = field("name = ") {
            name = Some(n);
        } else if let (Some(v), Some(n)) = (field("version = "), name.take()) {
            out.push((n, v));
        }
    }
    out
}

/// Debian's `chromium` and `chromium-driver` (their versions always match) when either is missing.
fn ensure_chromium() -> Result<()> {
    if Path::new("/usr/bin/chromium").exists() && Path::new("/usr/bin/chromedriver").exists() {
        return Ok(());
    }
    eprintln!("Installing chromium and chromium-driver with apt…");
    crate::build::apt_install(&["chromium", "chromium-driver"])?;
    if !Path::new("/usr/bin/chromedriver").exists() {
        bail!("apt installed chromium-driver but /usr/bin/chromedriver is still missing");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_libtest_lines() {
        let text = "running 3 tests\ntest result: ok. 3 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s\n\
                    test result: FAILED. 10 passed; 2 failed; 1 ignored; 0 measured; 0 filtered out\n";
        assert_eq!(libtest_counts(text), Some((13, 2)));
        assert_eq!(libtest_counts("error[E0425]: cannot find value"), None);
    }

    #[test]
    fn reads_node_summaries() {
        let spec = "✔ shows the banner (812ms)\nℹ tests 4\nℹ suites 0\nℹ pass 3\nℹ fail 1\nℹ cancelled 0\n";
        assert_eq!(node_counts(spec), Some((3, 1)));
        let tap = "# tests 2\n# pass 2\n# fail 0\n";
        assert_eq!(node_counts(tap), Some((2, 0)));
        assert_eq!(node_counts("Error: Cannot find module"), None);
    }

    #[test]
    fn reads_lockfile_versions() {
        let lock = "[[package]]\nname = \"wasm-bindgen\"\nversion = \"0.2.130\"\nsource = \"x\"\n\n[[package]]\nname = \"wasm-bindgen-cli\"\nversion = \"0.2.129\"\n";
        assert_eq!(lock_versions(lock), vec![("wasm-bindgen".into(), "0.2.130".into()), ("wasm-bindgen-cli".into(), "0.2.129".into())]);
    }

    #[test]
    fn a_failed_command_without_counts_is_a_failure() {
        let o = outcome("x", false, None, "");
        assert_eq!((o.passed, o.failed, o.counted), (0, 1, false));
        let o = outcome("x", false, Some((5, 0)), "");
        assert_eq!(o.failed, 1, "a non-zero exit with zero parsed failures still fails");
        let o = outcome("x", true, Some((5, 0)), "");
        assert_eq!((o.passed, o.failed, o.ok), (5, 0, true));
    }
}
