//! `cargo xtask build`: the release `.wasm`, wasm-bindgen, wasm-opt, and the two packages.
//!
//! Owns: turning the module crate into `pkg/npm` (wasm-bindgen's ES-module glue and `.d.ts`, the
//! npm entry, the languages as ES modules for bundlers to split) and `pkg/cdn` (one script: the
//! script-tag loader bundled with the glue, plus the `.wasm` and `lang/<code>.json`), both made
//! from `src/core/lang/` (English stays inside the `.wasm`), `pkg/cdn/manifest.json` (sizes and
//! SRI hashes), and the demo's esbuild bundle in `www/dist/`.
//! The build is reproducible: paths are remapped out of the binary and every tool is pinned
//! (binaryen and esbuild by package-lock.json).
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

/// Where cargo puts its output (CARGO_TARGET_DIR is honoured, relative to the repo root).
pub fn target_dir(root: &Path) -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(d) => root.join(d),
        None => root.join("target"),
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
/// Whether this process runs as root.
pub fn is_root() -> bool {
    Command::new("id").arg("-u").output().map(|o| o.stdout.starts_with(b"0\n")).unwrap_or(false)
}

/// Installs Debian packages with apt (through sudo unless this is root), non-interactively.
pub fn apt_install(packages: &[&str]) -> Result<()> {
    let root = is_root();
    let apt = |args: &[&str]| -> Result<()> {
        let mut c = if root { Command::new("apt-get") } else { Command::new("sudo") };
        if !root {
            c.arg("apt-get");
        }
        c.args(args).env("DEBIAN_FRONTEND", "noninteractive");
        sh(&mut c)
    };
    apt(&["update"])?;
    let mut install = vec!["install", "-y", "--no-install-recommends"];
    install.extend_from_slice(packages);
    apt(&install)
}

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
    let mut flags = format!("--remap-path-prefix={}=/cargo --remap-path-prefix={}=/consentry", cargo_home.display(), root.display());
    // Size experiments (bench/README.md): extra rustc flags for the module, e.g. `-C opt-level=s`.
    if let Ok(extra) = std::env::var("CONSENTRY_RUSTFLAGS") {
        flags.push(' ');
        flags.push_str(&extra);
    }
    sh(Command::new(env!("CARGO"))
        .args(["build", "--quiet", "-p", "consentry", "--lib", "--release", "--target", "wasm32-unknown-unknown"])
        .env("RUSTFLAGS", flags)
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .current_dir(&root))?;
    let target = target_dir(&root);
    let wasm_in = target.join("wasm32-unknown-unknown/release/consentry.wasm");
    let work = target.join("pkg-work");
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work)?;
    let esbuild = root.join("node_modules/.bin/esbuild");

    // wasm-bindgen (the library, pinned with the module's version): the ES-module glue
    // `consentry.js`, its `.d.ts`, the gtag snippet, and the .wasm; then wasm-opt on the .wasm.
    let glue = work.join("glue");
    wasm_bindgen_cli_support::Bindgen::new()
        .input_path(&wasm_in)
        .out_name("consentry")
        .web(true)
        .map_err(|e| anyhow::anyhow!("wasm-bindgen: {e}"))?
        .typescript(true)
        .omit_default_module_path(true)
        .remove_name_section(true)
        .remove_producers_section(true)
        .generate(&glue)
        .map_err(|e| anyhow::anyhow!("wasm-bindgen: {e}"))?;
    let wasm = work.join("consentry_bg.wasm");
    // wasm-bindgen's output is kept (as `bindgen_bg.wasm`) for size experiments with wasm-opt.
    std::fs::rename(glue.join("consentry_bg.wasm"), work.join("bindgen_bg.wasm"))?;
    wasm_opt(&root, &work.join("bindgen_bg.wasm"), &wasm, false)?;
    if std::env::var_os("CONSENTRY_NAMED").is_some() {
        // For `twiggy` (bench/README.md): the same module with its function names kept.
        let named = work.join("named");
        wasm_bindgen_cli_support::Bindgen::new()
            .input_path(&wasm_in)
            .out_name("consentry")
            .web(true)
            .map_err(|e| anyhow::anyhow!("wasm-bindgen: {e}"))?
            .omit_default_module_path(true)
            .generate(&named)
            .map_err(|e| anyhow::anyhow!("wasm-bindgen: {e}"))?;
        wasm_opt(&root, &named.join("consentry_bg.wasm"), &work.join("consentry_bg.named.wasm"), true)?;
    }
    std::fs::copy(&wasm, glue.join("consentry_bg.wasm"))?;
    let langs = lang_tables(&root)?;

    // npm: wasm-bindgen's output, the entry (pkg-templates/index.js), its types, and the
    // languages as ES modules (and as JSON, for `langUrl`).
    let npm = root.join("pkg/npm");
    reset_dir(&npm)?;
    copy_dir(&glue, &npm)?;
    for f in ["index.d.ts", "README.md", "consentry-defaults.js"] {
        std::fs::copy(root.join("pkg-templates").join(f), npm.join(f))?;
    }
    let imports: String = langs.iter().skip(1).map(|(code, _)| format!("{code}: () => import('./lang/{code}.js'), ")).collect();
    let index = std::fs::read_to_string(root.join("pkg-templates/index.js"))?;
    std::fs::write(npm.join("index.js"), fill(&index, "/*{{langImports}}*/", imports.trim_end())?)?;
    std::fs::create_dir_all(npm.join("lang"))?;
    for (code, text) in langs.iter().skip(1) {
        std::fs::write(npm.join(format!("lang/{code}.js")), format!("export default {text};\n"))?;
        std::fs::write(npm.join(format!("lang/{code}.json")), text)?;
        std::fs::write(npm.join(format!("lang/{code}.d.ts")), LANG_TYPES)?;
    }
    let words = serde_json::to_string(&consentry::core::config::ALL_PROBLEMS.iter().map(|p| p.as_str()).collect::<Vec<_>>())?;
    std::fs::write(npm.join("errors.js"), format!("export default {words};\n"))?;
    std::fs::write(npm.join("package.json"), package_json(&root)?)?;

    // cdn: the loader and wasm-bindgen's glue in one minified classic script, the .wasm, and
    // the languages as JSON.
    let cdn = root.join("pkg/cdn");
    reset_dir(&cdn)?;
    std::fs::copy(&wasm, cdn.join("consentry_bg.wasm"))?;
    let loader = std::fs::read_to_string(root.join("pkg-templates/loader.js"))?;
    let codes: Vec<&str> = langs.iter().map(|(c, _)| c.as_str()).collect();
    let loader = fill(&loader, "{{langs}}", &codes.join(" "))?;
    // The loader pins the .wasm by its hash, so the script tag's `integrity` attribute covers
    // the code it brings in too. (Language files are only ever shown as text, and the receipts
    // record the hash of the wording shown.)
    let pin = format!("'{}'", sri(&std::fs::read(&wasm)?));
    let loader = fill(&loader, "'{{wasmIntegrity}}'", &pin)?;
    std::fs::write(glue.join("loader.js"), loader)?;
    let bundled = work.join("consentry.js");
    sh(Command::new(&esbuild)
        .arg(glue.join("loader.js"))
        .args(["--bundle", "--format=iife", "--target=es2020", "--log-level=warning"])
        .arg(format!("--outfile={}", bundled.display())))?;
    // terser for the file every visitor loads: about 3% smaller than esbuild's minifier.
    sh(Command::new("node")
        .arg(root.join("node_modules/terser/bin/terser"))
        .arg(&bundled)
        .args(["--ecma", "2020", "--compress", "passes=3,arrows=true,unsafe_arrows=true", "--mangle", "toplevel=true"])
        .arg("--output")
        .arg(cdn.join("consentry.js")))?;
    std::fs::create_dir_all(cdn.join("lang"))?;
    for (code, text) in langs.iter().skip(1) {
        std::fs::write(cdn.join(format!("lang/{code}.json")), text)?;
    }
    std::fs::write(cdn.join("errors.json"), &words)?;
    // The synchronous Consent Mode defaults a site loads before gtag.js or GTM (only sites that
    // use Consent Mode load it, so it is listed apart from the totals).
    std::fs::copy(root.join("pkg-templates/consentry-defaults.js"), cdn.join("consentry-defaults.js"))?;
    write_manifest(&cdn, &langs)?;

    // The demo's second page: a site bundle that imports the npm package, as a bundler user
    // would (code splitting on, so each language is its own chunk).
    let dist = root.join("www/dist");
    reset_dir(&dist)?;
    sh(Command::new(&esbuild)
        .arg(root.join("www/npm/main.js"))
        .args(["--bundle", "--format=esm", "--splitting", "--minify", "--target=es2020", "--log-level=warning"])
        .arg("--entry-names=npm-demo")
        .arg("--chunk-names=lang/[name]-[hash]")
        .arg(format!("--alias:consentry={}", npm.display()))
        .arg(format!("--outdir={}", dist.display())))?;
    std::fs::copy(npm.join("consentry_bg.wasm"), dist.join("consentry_bg.wasm"))?;
    eprintln!("Built pkg/npm and pkg/cdn in {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}

/// The types of `lang/<code>.js`, for `init(config, { texts: { de } })` in TypeScript.
const LANG_TYPES: &str = "declare const table: import('../consentry.js').LanguageTable;\nexport default table;\n";

fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let dest = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &dest)?;
        } else {
            std::fs::copy(entry.path(), dest)?;
        }
    }
    Ok(())
}

/// The built-in language tables from `src/core/lang/<code>.json` (the one source the module's
/// English and its native tests read too), English first, each checked (a JSON object of non-empty
/// strings with exactly English's text names) and minified.
fn lang_tables(root: &Path) -> Result<Vec<(String, String)>> {
    let dir = root.join("src/core/lang");
    let mut out = Vec::new();
    for entry in std::fs::read_dir(&dir).with_context(|| format!("cannot read {}", dir.display()))? {
        let path = entry?.path();
        let Some(code) = path.file_name().and_then(|n| n.to_str()).and_then(|n| n.strip_suffix(".json")) else {
            bail!("{}: only <code>.json files belong there", path.display());
        };
        let text = std::fs::read_to_string(&path)?;
        let value: serde_json::Value = serde_json::from_str(&text).with_context(|| format!("{} is not valid JSON", path.display()))?;
        let Some(obj) = value.as_object() else { bail!("{}: expected an object of texts", path.display()) };
        if let Some((k, _)) = obj.iter().find(|(_, v)| v.as_str().is_none_or(str::is_empty)) {
            bail!("{}: {k} must be a non-empty string", path.display());
        }
        out.push((code.to_string(), value));
    }
    out.sort_by_key(|(code, _)| (code != "en", code.clone()));
    let Some((_, en)) = out.first().filter(|(c, _)| c == "en") else { bail!("{}: en.json is missing", dir.display()) };
    let names: Vec<String> = en.as_object().map(|o| o.keys().cloned().collect()).unwrap_or_default();
    for (code, v) in &out {
        let mine: Vec<String> = v.as_object().map(|o| o.keys().cloned().collect()).unwrap_or_default();
        if mine != names {
            bail!("src/core/lang/{code}.json must have exactly the text names of en.json");
        }
    }
    out.into_iter().map(|(c, v)| Ok((c, serde_json::to_string(&v)?))).collect()
}

/// The Subresource Integrity value of `bytes`.
fn sri(bytes: &[u8]) -> String {
    format!("sha384-{}", base64::engine::general_purpose::STANDARD.encode(sha2::Sha384::digest(bytes)))
}

/// `template` with its one `marker` replaced.
fn fill(template: &str, marker: &str, with: &str) -> Result<String> {
    if template.matches(marker).count() != 1 {
        bail!("a package template must hold {marker} exactly once");
    }
    Ok(template.replace(marker, with))
}

fn reset_dir(d: &Path) -> Result<()> {
    let _ = std::fs::remove_dir_all(d);
    std::fs::create_dir_all(d)?;
    Ok(())
}

fn wasm_opt(root: &Path, input: &Path, out: &Path, keep_names: bool) -> Result<()> {
    sh(Command::new("node")
        .arg(root.join("node_modules/binaryen/bin/wasm-opt"))
        .arg(input)
        // -Oz, then restructured control flow, similar functions merged, and -Oz again until
        // nothing changes: 1% smaller than -Oz alone. A function with one caller is inlined only
        // when small (`-ocimfs`; binaryen's default inlines any size, making a few huge
        // functions that flatten and compress worse: 2.5% smaller brotli), and the low 1 KiB of
        // memory is known unused (Rust's stack ends at 1 MiB and grows down; data lies above),
        // so constant offsets fold into loads and stores.
        .args(["--low-memory-unused", "-ocimfs=25"])
        .args(["-Oz", "--flatten", "--rereloop", "-Oz", "--merge-similar-functions", "-Oz", "--converge", "--strip-producers"])
        .args(if keep_names { &["-g"][..] } else { &["--strip-debug"][..] })
        .arg("-o")
        .arg(out))
}

fn cargo_field(toml: &str, key: &str) -> Result<String> {
    let line =
        toml.lines().find(|l| l.trim_start().starts_with(&format!("{key} ="))).with_context(|| format!("Cargo.toml has no {key}"))?;
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

/// `pkg/cdn/manifest.json`: every shipped file with its sizes and SRI value; `total` is what every
/// visitor loads (loader and .wasm), `totalWithLanguage` the most any visitor loads (plus the
/// largest language file; an English visitor loads none).
fn write_manifest(cdn: &Path, langs: &[(String, String)]) -> Result<()> {
    let mut files = serde_json::Map::new();
    let (mut raw, mut gz, mut br) = (0, 0, 0);
    let mut largest = (String::new(), 0, 0, 0);
    let names = ["consentry.js", "consentry_bg.wasm"]
        .iter()
        .map(|n| n.to_string())
        .chain(langs.iter().skip(1).map(|(code, _)| format!("lang/{code}.json")));
    for name in names {
        let bytes = std::fs::read(cdn.join(&name))?;
        let (r, g, b) = sizes(&bytes);
        if name.starts_with("lang/") {
            if b > largest.3 {
                largest = (name.clone(), r, g, b);
            }
        } else {
            (raw, gz, br) = (raw + r, gz + g, br + b);
        }
        let sri = sri(&bytes);
        files.insert(name.clone(), serde_json::json!({"raw": r, "gzip": g, "brotli": b, "integrity": sri}));
        eprintln!("  pkg/cdn/{name:<18} {r:>7} B raw {g:>6} B gzip {b:>6} B brotli");
    }
    // Listed with its SRI value for the script tag, in no total (only Consent Mode sites load it).
    let defaults = std::fs::read(cdn.join("consentry-defaults.js"))?;
    let (r, g, b) = sizes(&defaults);
    files.insert("consentry-defaults.js".into(), serde_json::json!({"raw": r, "gzip": g, "brotli": b, "integrity": sri(&defaults)}));
    eprintln!("  {:<27} {raw:>7} B raw {gz:>6} B gzip {br:>6} B brotli", "total (English visitor)");
    let (name, r, g, b) = largest;
    let (wr, wg, wb) = (raw + r, gz + g, br + b);
    eprintln!("  {:<27} {wr:>7} B raw {wg:>6} B gzip {wb:>6} B brotli", format!("total + {name}"));
    let manifest = serde_json::json!({
        "files": files,
        "total": {"raw": raw, "gzip": gz, "brotli": br},
        "totalWithLanguage": {"raw": wr, "gzip": wg, "brotli": wb, "largest": name},
    });
    std::fs::write(cdn.join("manifest.json"), serde_json::to_string_pretty(&manifest)? + "\n")?;
    Ok(())
}
