//! `cargo xtask build`: the release `.wasm`, wasm-bindgen, wasm-opt, and the two packages.
//!
//! Owns: turning the module crate into `pkg/npm` (ES module for bundlers) and `pkg/cdn` (one
//! script-tag loader plus the `.wasm`), and `pkg/cdn/manifest.json` (sizes and SRI hashes).
//! The build is reproducible: paths are remapped out of the binary and every tool is pinned
//! (wasm-bindgen by Cargo.lock, binaryen and esbuild by package-lock.json).
use anyhow::{bail, Context, Result};
use base64::Engine;
use sha2::Digest;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask lives in the repo").to_path_buf()
}

pub fn run(args: &[String]) -> Result<()> {
    if let Some(a) = args.first() {
        bail!("unknown argument {a:?} (build takes none)");
    }
    build()
}

/// Builds unless `pkg/` is newer than every input (used by the demo).
pub fn ensure_built() -> Result<()> {
    let root = root();
    let out = root.join("pkg/cdn/manifest.json");
    let built = std::fs::metadata(&out).and_then(|m| m.modified()).ok();
    let newest = ["src", "pkg-templates", "www/npm", "Cargo.toml", "Cargo.lock", "package-lock.json"]
        .iter()
        .filter_map(|p| newest_mtime(&root.join(p)))
        .max();
    match (built, newest) {
        (Some(b), Some(n)) if b >= n => Ok(()),
        _ => build(),
    }
}

fn newest_mtime(p: &Path) -> Option<std::time::SystemTime> {
    let meta = std::fs::metadata(p).ok()?;
    if meta.is_dir() {
        std::fs::read_dir(p).ok()?.filter_map(|e| e.ok()).filter_map(|e| newest_mtime(&e.path())).max()
    } else {
        meta.modified().ok()
    }
}

pub fn sh(cmd: &mut Command) -> Result<()> {
    let status = cmd.status().with_context(|| format!("could not start {cmd:?}"))?;
    if !status.success() {
        bail!("{cmd:?} failed ({status})");
    }
    Ok(())
}

/// Installs the wasm target and the pinned npm tools when they are missing.
pub fn ensure_tools() -> Result<()> {
    let root = root();
    let targets = Command::new("rustup").args(["target", "list", "--installed"]).output();
    let has = targets.map(|o| String::from_utf8_lossy(&o.stdout).contains("wasm32-unknown-unknown")).unwrap_or(false);
    if !has {
        eprintln!("Installing the wasm32-unknown-unknown target…");
        sh(Command::new("rustup").args(["target", "add", "wasm32-unknown-unknown"]))?;
    }
    let stamp = root.join("node_modules/.package-lock.json");
    let fresh = match (std::fs::metadata(&stamp), std::fs::metadata(root.join("package-lock.json"))) {
        (Ok(a), Ok(b)) => a.modified().ok() >= b.modified().ok(),
        _ => false,
    };
    if !fresh {
        eprintln!("Installing the pinned npm tools (npm ci)…");
        sh(Command::new("npm").args(["ci", "--no-audit", "--no-fund"]).current_dir(&root))?;
    }
    Ok(())
}

pub fn build() -> Result<()> {
    ensure_tools()?;
    let root = root();
    let started = std::time::Instant::now();
    let cargo_home = std::env::var("CARGO_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(std::env::var("HOME").unwrap_or_default()).join(".cargo"));
    // Remap machine-specific paths so the same source gives the same bytes everywhere.
    let flags = format!(
        "--remap-path-prefix={}=/cargo --remap-path-prefix={}=/consentry",
        cargo_home.display(),
        root.display()
    );
    sh(Command::new(env!("CARGO"))
        .args(["build", "--quiet", "-p", "consentry", "--lib", "--release", "--target", "wasm32-unknown-unknown"])
        .env("RUSTFLAGS", flags)
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .current_dir(&root))?;
    let wasm_in = root.join("target/wasm32-unknown-unknown/release/consentry.wasm");
    let work = root.join("target/pkg-work");
    let _ = std::fs::remove_dir_all(&work);
    let esbuild = root.join("node_modules/.bin/esbuild");

    // npm: ES module glue (`--target web`) wrapped by pkg-templates/index.js.
    let npm = root.join("pkg/npm");
    bindgen(&wasm_in, &work.join("web"), "web")?;
    reset_dir(&npm)?;
    wasm_opt(&root, &work.join("web/consentry_bg.wasm"), &npm.join("consentry_bg.wasm"))?;
    std::fs::copy(work.join("web/consentry.js"), npm.join("consentry_glue.js"))?;
    for f in ["index.js", "index.d.ts", "README.md"] {
        std::fs::copy(root.join("pkg-templates").join(f), npm.join(f))?;
    }
    std::fs::write(npm.join("package.json"), package_json(&root)?)?;

    // cdn: classic-script glue (`--target no-modules`) and the loader, in one minified file.
    let cdn = root.join("pkg/cdn");
    bindgen(&wasm_in, &work.join("classic"), "no-modules")?;
    reset_dir(&cdn)?;
    wasm_opt(&root, &work.join("classic/consentry_bg.wasm"), &cdn.join("consentry_bg.wasm"))?;
    let glue = std::fs::read_to_string(work.join("classic/consentry.js"))?;
    let loader = std::fs::read_to_string(root.join("pkg-templates/loader.js"))?;
    let joined = work.join("consentry.js");
    std::fs::write(&joined, format!("(function(){{\n{glue}\n{loader}\n}})();\n"))?;
    sh(Command::new(&esbuild)
        .arg(&joined)
        .args(["--minify", "--target=es2020", "--log-level=warning", "--legal-comments=none"])
        .arg(format!("--outfile={}", cdn.join("consentry.js").display())))?;
    write_manifest(&cdn)?;

    // The demo's second page: a site bundle that imports the npm package, as a bundler user would.
    let dist = root.join("www/dist");
    reset_dir(&dist)?;
    sh(Command::new(&esbuild)
        .arg(root.join("www/npm/main.js"))
        .args(["--bundle", "--format=esm", "--minify", "--target=es2020", "--log-level=warning"])
        .arg(format!("--alias:consentry={}", npm.display()))
        .arg(format!("--outfile={}", dist.join("npm-demo.js").display())))?;
    std::fs::copy(npm.join("consentry_bg.wasm"), dist.join("consentry_bg.wasm"))?;
    eprintln!("Built pkg/npm and pkg/cdn in {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}

fn reset_dir(d: &Path) -> Result<()> {
    let _ = std::fs::remove_dir_all(d);
    std::fs::create_dir_all(d)?;
    Ok(())
}

fn bindgen(input: &Path, out: &Path, target: &str) -> Result<()> {
    let args: Vec<std::ffi::OsString> = vec![
        "wasm-bindgen".into(),
        "--target".into(),
        target.into(),
        "--out-name".into(),
        "consentry".into(),
        "--no-typescript".into(),
        "--out-dir".into(),
        out.into(),
        input.into(),
    ];
    wasm_bindgen_cli::wasm_bindgen::run_cli_with_args(args).context("wasm-bindgen")
}

fn wasm_opt(root: &Path, input: &Path, out: &Path) -> Result<()> {
    sh(Command::new("node")
        .arg(root.join("node_modules/binaryen/bin/wasm-opt"))
        .arg(input)
        .args(["-Oz", "--strip-debug", "--strip-producers", "-o"])
        .arg(out))
}

fn cargo_field(toml: &str, key: &str) -> Result<String> {
    let line = toml
        .lines()
        .find(|l| l.trim_start().starts_with(&format!("{key} =")))
        .with_context(|| format!("Cargo.toml has no {key}"))?;
    let v = line.split_once('=').map(|x| x.1).unwrap_or("").trim();
    Ok(v.trim_matches('"').to_string())
}

fn package_json(root: &Path) -> Result<String> {
    let toml = std::fs::read_to_string(root.join("Cargo.toml"))?;
    let mut out = std::fs::read_to_string(root.join("pkg-templates/package.json"))?;
    for key in ["version", "description", "license"] {
        let v = cargo_field(&toml, key)?;
        out = out.replace(&format!("{{{{{key}}}}}"), &v.replace('\\', "\\\\").replace('"', "\\\""));
    }
    Ok(out)
}

/// Sizes a visitor pays for each shipped file: raw, gzip -9 and brotli q11.
pub fn sizes(bytes: &[u8]) -> (usize, usize, usize) {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(bytes).expect("in-memory gzip");
    let gz = gz.finish().expect("in-memory gzip").len();
    let mut br = Vec::new();
    let params = brotli::enc::BrotliEncoderParams { quality: 11, lgwin: 22, ..Default::default() };
    brotli::BrotliCompress(&mut &bytes[..], &mut br, &params).expect("in-memory brotli");
    (bytes.len(), gz, br.len())
}

fn write_manifest(cdn: &Path) -> Result<()> {
    let mut files = serde_json::Map::new();
    let (mut raw, mut gz, mut br) = (0, 0, 0);
    for name in ["consentry.js", "consentry_bg.wasm"] {
        let bytes = std::fs::read(cdn.join(name))?;
        let (r, g, b) = sizes(&bytes);
        (raw, gz, br) = (raw + r, gz + g, br + b);
        let sri = format!("sha384-{}", base64::engine::general_purpose::STANDARD.encode(sha2::Sha384::digest(&bytes)));
        files.insert(name.into(), serde_json::json!({"raw": r, "gzip": g, "brotli": b, "integrity": sri}));
        eprintln!("  pkg/cdn/{name:<18} {r:>7} B raw {g:>6} B gzip {b:>6} B brotli");
    }
    eprintln!("  {:<27} {raw:>7} B raw {gz:>6} B gzip {br:>6} B brotli", "total");
    let manifest = serde_json::json!({
        "files": files,
        "total": {"raw": raw, "gzip": gz, "brotli": br},
    });
    std::fs::write(cdn.join("manifest.json"), serde_json::to_string_pretty(&manifest)? + "\n")?;
    Ok(())
}
