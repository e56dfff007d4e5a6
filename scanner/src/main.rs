//! `consentry-scan URL [URL…]`: the command line. Exit codes: 0 nothing runs before consent
//! (warnings may remain), 1 at least one violation, 2 the scan could not be made.
//!
//! Owns: the options, finding Chromium, printing the summary, and the exit code. Must never:
//! exit 0 or 1 for a scan that did not happen.
use clap::Parser;
use consentry_scan::browser::Launch;
use consentry_scan::findings::Allowed;
use consentry_scan::model::Severity;
use consentry_scan::scan::{self, Plan, Unreachable};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Parser, Debug)]
#[command(
    name = "consentry-scan",
    version,
    about = "Checks what a site stores and sends before a choice, after accept and after withdrawal.",
    after_help = "Exit codes: 0 nothing runs before consent (warnings may remain), 1 at least one violation, 2 the scan could not be made.\nReports: report.json, report.html and services.json in --out."
)]
struct Args {
    /// Pages to scan (http or https).
    #[arg(required = true, value_name = "URL")]
    urls: Vec<String>,
    /// Pages per start URL, following same-site links (the start URL included).
    #[arg(long, default_value_t = 1, value_name = "N")]
    pages: usize,
    /// Click this element (CSS selector; open shadow roots are searched too) to accept, instead
    /// of Consentry's API or a control named like "Accept all".
    #[arg(long, value_name = "SELECTOR")]
    accept: Option<String>,
    /// JavaScript that withdraws consent, instead of window.Consentry.rejectAll().
    #[arg(long, value_name = "JS")]
    withdraw: Option<String>,
    /// A cookie name, storage key or database name (`*` allowed) that is strictly necessary: not
    /// a warning before a choice nor after withdrawal. Repeat for more.
    #[arg(long, value_name = "NAME")]
    allow: Vec<String>,
    /// A host (its subdomains too) whose requests before a choice are strictly necessary, such as
    /// your own CDN. Never applies to a host the tracker table names. Repeat for more.
    #[arg(long, value_name = "HOST")]
    allow_host: Vec<String>,
    /// Send Global Privacy Control (Sec-GPC: 1 and navigator.globalPrivacyControl).
    #[arg(long)]
    gpc: bool,
    /// Where the reports go.
    #[arg(long, default_value = "consentry-scan-report", value_name = "DIR")]
    out: PathBuf,
    /// The Chromium binary [default: $CHROMIUM, /usr/bin/chromium, or chromium on PATH].
    #[arg(long, value_name = "PATH")]
    chromium: Option<PathBuf>,
    /// An extra Chromium flag, e.g. --chromium-arg=--host-resolver-rules='MAP *.test 127.0.0.1'.
    #[arg(long = "chromium-arg", value_name = "FLAG", allow_hyphen_values = true)]
    chromium_args: Vec<String>,
    /// Longest wait, in seconds, for a page to load.
    #[arg(long, default_value_t = 30, value_name = "SECS")]
    timeout: u64,
    /// Longest wait, in seconds, for the network to go quiet after a load or a choice.
    #[arg(long, default_value_t = 10, value_name = "SECS")]
    settle: u64,
    /// Longest wait, in seconds, for the page to offer a way to accept.
    #[arg(long, default_value_t = 10, value_name = "SECS")]
    wait: u64,
}

const INSTALL: &str = "Install it: `sudo apt-get install chromium` (Debian, Ubuntu), `sudo dnf install chromium` (Fedora), \
or `brew install --cask chromium` (macOS); or pass --chromium PATH to a Chromium or Chrome binary.";

/// The Chromium to run, or a message saying how to get one.
fn find_chromium(given: Option<PathBuf>) -> Result<PathBuf, String> {
    if let Some(p) = given.or_else(|| std::env::var_os("CHROMIUM").map(PathBuf::from)) {
        return if p.is_file() { Ok(p) } else { Err(format!("Chromium was not found at {}. {INSTALL}", p.display())) };
    }
    let default = PathBuf::from("/usr/bin/chromium");
    if default.is_file() {
        return Ok(default);
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    for dir in std::env::split_paths(&path) {
        for name in ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"] {
            let p = dir.join(name);
            if p.is_file() {
                return Ok(p);
            }
        }
    }
    Err(format!("Chromium was not found (looked for /usr/bin/chromium and chromium, chromium-browser, google-chrome on PATH). {INSTALL}"))
}

fn main() -> ExitCode {
    let args = Args::parse();
    let chromium = match find_chromium(args.chromium.clone()) {
        Ok(p) => p,
        Err(msg) => {
            eprintln!("consentry-scan: {msg}");
            return ExitCode::from(2);
        }
    };
    let plan = Plan {
        urls: args.urls.clone(),
        pages: args.pages.max(1),
        accept: args.accept.clone(),
        withdraw: args.withdraw.clone(),
        allowed: Allowed { names: args.allow.clone(), hosts: args.allow_host.iter().map(|h| h.to_ascii_lowercase()).collect() },
        wait: Duration::from_secs(args.wait),
        launch: Launch {
            chromium,
            extra_args: args.chromium_args.clone(),
            gpc: args.gpc,
            load_timeout: Duration::from_secs(args.timeout),
            settle_timeout: Duration::from_secs(args.settle),
        },
    };
    let rt = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("consentry-scan: could not start the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    let outcome = match rt.block_on(scan::run(&plan)) {
        Ok(o) => o,
        Err(e) => {
            if e.downcast_ref::<Unreachable>().is_some() {
                eprintln!("consentry-scan: the page could not be loaded: {e:#}");
            } else {
                eprintln!("consentry-scan: the scan failed: {e:#}");
                if format!("{e:#}").contains("starting") {
                    eprintln!("Is {} a working Chromium? {INSTALL}", plan.launch.chromium.display());
                }
            }
            return ExitCode::from(2);
        }
    };
    rt.shutdown_timeout(Duration::from_secs(2));
    if let Err(e) = scan::write(&outcome, &args.out) {
        eprintln!("consentry-scan: could not write the report: {e:#}");
        return ExitCode::from(2);
    }
    let r = &outcome.report;
    for f in &r.findings {
        let sev = if f.severity == Severity::Violation { "VIOLATION" } else { "warning" };
        println!("{sev:<9} {:<22} {}", f.rule, f.message);
    }
    println!(
        "{} page(s): {} violation(s), {} warning(s). Reports: {}/report.html, report.json, services.json",
        r.summary.pages,
        r.summary.violations,
        r.summary.warnings,
        args.out.display()
    );
    ExitCode::from(r.summary.exit_code as u8)
}
