//! `cargo xtask bench-collector [--seconds N] [--clients N] [--only postgres|sqlite]`: the
//! collector under load and faults, as a benchmark (it reports figures; nothing here asserts a
//! duration).
//!
//! For PostgreSQL: a throw-away cluster (fsync on), two `consentry-collector` processes (release
//! build) on loopback sharing it. N simulated browsers, each its own subject: record a decision
//! (the next receipt of its chain, made by the core as the browser makes it), send the outbox
//! (every receipt not yet acknowledged) to one instance or the other (every tenth time to both at
//! once: the beacon racing the fetch), and send a batch of five events; keep what is not
//! acknowledged and send it again. A third of the way in, the second instance is killed (SIGKILL)
//! and restarted two seconds later. At the end the browsers deliver what they still hold, and the
//! database is verified (`verify --db`, the collector's page-by-page verifier). For SQLite: the
//! same with one instance, killed and restarted likewise.
//!
//! Prints: receipts/s and events/s acknowledged, p50/p99 latency of receipt and event requests,
//! requests that failed during the fault (retried), receipts and events lost (acknowledged but
//! not stored: must be 0), forks (chains that do not verify: must be 0).
//! Owns: the load, the fault and the figures. Must never: count a receipt as delivered before
//! a 2xx, or leave a server running.
use anyhow::{anyhow, bail, Context, Result};
use consentry_collector::evidence::{ChainMaker, Receipt};
use consentry_collector::verify::verify_store;
use consentry_collector::Store;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::process::{Child, Command};

struct Opts {
    seconds: u64,
    clients: usize,
    only: Option<String>,
}

pub fn run(args: &[String]) -> Result<()> {
    let mut o = Opts { seconds: 20, clients: 32, only: None };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = || it.next().ok_or_else(|| anyhow!("{a} needs a value"));
        match a.as_str() {
            "--seconds" => o.seconds = value()?.parse().context("--seconds takes a number")?,
            "--clients" => o.clients = value()?.parse().context("--clients takes a number")?,
            "--only" => o.only = Some(value()?.clone()),
            _ => bail!("unknown argument {a:?} (bench-collector takes --seconds N, --clients N, --only postgres|sqlite)"),
        }
    }
    if o.seconds < 6 {
        bail!("--seconds: at least 6 (the fault comes a third of the way in and lasts 2 s)");
    }
    let root = crate::build::root();
    println!("building consentry-collector (release)…");
    crate::build::sh(std::process::Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into())).current_dir(&root).args([
        "build",
        "--release",
        "--quiet",
        "-p",
        "consentry-collector",
    ]))?;
    let exe = crate::build::target_dir(&root).join("release/consentry-collector");
    consentry_collector::forward::install_tls();
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let mut results = Vec::new();
    if o.only.as_deref() != Some("sqlite") {
        let mut cluster = crate::pg::Cluster::start(true)?;
        cluster.create_db("bench")?;
        let url = cluster.url("bench");
        println!("\n== PostgreSQL ({url}), two instances, {} browsers, {} s ==", o.clients, o.seconds);
        let r = rt.block_on(scenario(&exe, &url, 2, &o));
        cluster.stop()?;
        results.push(("PostgreSQL, 2 instances", r?));
    }
    if o.only.as_deref() != Some("postgres") {
        let dir = tempfile_dir()?;
        let url = format!("sqlite:{}", dir.join("bench.sqlite").display());
        println!("\n== SQLite ({url}), one instance, {} browsers, {} s ==", o.clients, o.seconds);
        let r = rt.block_on(scenario(&exe, &url, 1, &o));
        let _ = std::fs::remove_dir_all(&dir);
        results.push(("SQLite, 1 instance", r?));
    }
    println!(
        "\n== bench-collector: {} browsers, {} s, one instance killed (SIGKILL) and restarted a third of the way in ==",
        o.clients, o.seconds
    );
    println!("| setup | receipts/s | events/s | receipt p50 / p99 ms | events p50 / p99 ms | failed requests (retried) | receipts lost | events lost | forks |");
    println!("|---|---|---|---|---|---|---|---|---|");
    for (name, f) in &results {
        println!(
            "| {name} | {:.0} | {:.0} | {:.1} / {:.1} | {:.1} / {:.1} | {} | {} | {} | {} |",
            f.receipts_per_s, f.events_per_s, f.r_p50, f.r_p99, f.e_p50, f.e_p99, f.failed, f.receipts_lost, f.events_lost, f.forks
        );
    }
    let bad: Vec<&str> = results.iter().filter(|(_, f)| f.receipts_lost > 0 || f.forks > 0 || f.events_lost > 0).map(|(n, _)| *n).collect();
    if !bad.is_empty() {
        bail!("receipts or events lost, or chains forked, in: {}", bad.join(", "));
    }
    Ok(())
}

fn tempfile_dir() -> Result<PathBuf> {
    let d = std::env::temp_dir().join(format!("consentry-bench-{}", std::process::id()));
    std::fs::create_dir_all(&d)?;
    Ok(d)
}

struct Figures {
    receipts_per_s: f64,
    events_per_s: f64,
    r_p50: f64,
    r_p99: f64,
    e_p50: f64,
    e_p99: f64,
    failed: u64,
    receipts_lost: u64,
    events_lost: u64,
    forks: u64,
}

/// One collector process.
struct Instance {
    port: u16,
    args: Vec<String>,
    exe: PathBuf,
    log: PathBuf,
    child: Option<Child>,
}

impl Instance {
    async fn start(&mut self) -> Result<()> {
        let log = std::fs::OpenOptions::new().create(true).append(true).open(&self.log)?;
        let child = Command::new(&self.exe)
            .args(&self.args)
            .stdout(std::process::Stdio::null())
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {}", self.exe.display()))?;
        self.child = Some(child);
        let url = format!("http://127.0.0.1:{}/healthz", self.port);
        let client = reqwest::Client::new();
        for _ in 0..200 {
            if let Ok(r) = client.get(&url).send().await {
                if r.status().is_success() {
                    return Ok(());
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        bail!("the collector on port {} did not become healthy; its log: {}", self.port, self.log.display())
    }

    async fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.start_kill();
            let _ = c.wait().await;
        }
    }

    async fn stop(&mut self) {
        if let Some(c) = self.child.take() {
            if let Some(pid) = c.id() {
                let _ = std::process::Command::new("kill").args(["-TERM", &pid.to_string()]).status();
            }
            let mut c = c;
            if tokio::time::timeout(Duration::from_secs(15), c.wait()).await.is_err() {
                let _ = c.start_kill();
                let _ = c.wait().await;
            }
        }
    }
}

fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind(("127.0.0.1", 0))?.local_addr()?.port())
}

/// What all browsers share while the load runs.
#[derive(Default)]
struct Tally {
    receipt_ms: Mutex<Vec<f64>>,
    event_ms: Mutex<Vec<f64>>,
    receipts: AtomicU64,
    events: AtomicU64,
    failed: AtomicU64,
}

/// What one browser ends with: its subject, the highest seq acknowledged, the event UUIDs
/// acknowledged.
struct Browser {
    subject: String,
    acked_seq: i64,
    acked_events: u64,
}

fn body(rs: &[Receipt]) -> String {
    let parts: Vec<String> = rs.iter().map(Receipt::to_json).collect();
    format!("[{}]", parts.join(","))
}

fn events(subject: &str, client: usize, n: &mut u64) -> String {
    let mut list = Vec::new();
    for _ in 0..5 {
        *n += 1;
        list.push(format!(
            "{{\"event\":\"$pageview\",\"uuid\":\"{:08x}-0000-7000-8000-{:012x}\",\"properties\":{{\"distinct_id\":\"{subject}\",\"$consentry_subject\":\"{subject}\",\"$current_url\":\"https://shop.example/p/{n}\"}},\"timestamp\":\"2026-12-06T10:00:00.000Z\"}}",
            client, *n
        ));
    }
    format!("{{\"api_key\":\"phc_bench\",\"batch\":[{}]}}", list.join(","))
}

/// POSTs `body` and tells whether the answer was 2xx (with its JSON), timing it.
async fn post(http: &reqwest::Client, url: &str, body: String, times: &Mutex<Vec<f64>>, tally: &Tally) -> Option<serde_json::Value> {
    let t = Instant::now();
    let r = http.post(url).header("content-type", "text/plain").body(body).send().await;
    let ok = match r {
        Ok(r) if r.status().is_success() => r.text().await.ok(),
        _ => None,
    };
    match ok {
        Some(text) => {
            times.lock().unwrap_or_else(|e| e.into_inner()).push(t.elapsed().as_secs_f64() * 1000.0);
            serde_json::from_str(&text).ok()
        }
        None => {
            tally.failed.fetch_add(1, Ordering::Relaxed);
            None
        }
    }
}

async fn browser(id: usize, http: reqwest::Client, bases: Arc<Vec<String>>, deadline: Instant, tally: Arc<Tally>) -> Browser {
    let mut s = [0u8; 16];
    s[..8].copy_from_slice(&(id as u64 + 1).to_be_bytes());
    s[8..].copy_from_slice(&std::process::id().to_be_bytes().repeat(2));
    let mut maker = ChainMaker::new(s, &"0".repeat(64));
    let subject = ChainMaker::subject_id(s);
    let mut outbox: Vec<Receipt> = Vec::new();
    let (mut acked_seq, mut acked_events, mut n_event, mut turn) = (0i64, 0u64, 0u64, id);
    let mut pending_events: Option<String> = None;
    let mut delivering = false;
    loop {
        let now = Instant::now();
        if now >= deadline {
            delivering = true;
        }
        if delivering && outbox.is_empty() && pending_events.is_none() {
            break;
        }
        if delivering && now >= deadline + Duration::from_secs(60) {
            break; // what is still held counts as not delivered (never as lost)
        }
        if !delivering {
            outbox.push(maker.next_receipt());
        }
        turn = turn.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let pick = |k: usize| format!("{}/consentry/receipts", bases[k % bases.len()]);
        if !outbox.is_empty() {
            let race = bases.len() > 1 && outbox.last().is_some_and(|r| r.seq() % 10 == 0);
            let answers = if race {
                let (u0, u1) = (pick(0), pick(1));
                let (a, b) = tokio::join!(
                    post(&http, &u0, body(&outbox), &tally.receipt_ms, &tally),
                    post(&http, &u1, body(&outbox), &tally.receipt_ms, &tally),
                );
                vec![a, b]
            } else {
                vec![post(&http, &pick(turn >> 33), body(&outbox), &tally.receipt_ms, &tally).await]
            };
            if answers.iter().any(Option::is_some) {
                if let Some(last) = outbox.last() {
                    acked_seq = last.seq();
                }
                tally.receipts.fetch_add(outbox.len() as u64, Ordering::Relaxed);
                outbox.clear();
            } else {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
        let batch = match pending_events.take() {
            Some(b) => Some(b),
            None if !delivering => Some(events(&subject, id, &mut n_event)),
            None => None,
        };
        if let Some(b) = batch {
            let url = format!("{}/batch/", bases[(turn >> 40) % bases.len()]);
            if post(&http, &url, b.clone(), &tally.event_ms, &tally).await.is_some() {
                acked_events += 5;
                tally.events.fetch_add(5, Ordering::Relaxed);
            } else {
                pending_events = Some(b);
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
    Browser { subject, acked_seq, acked_events }
}

fn pct(v: &mut [f64], p: f64) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    v[((v.len() - 1) as f64 * p).round() as usize]
}

async fn scenario(exe: &Path, db: &str, n: usize, o: &Opts) -> Result<Figures> {
    let dir = tempfile_dir()?;
    let mut instances = Vec::new();
    for k in 0..n {
        let port = free_port()?;
        let mut inst = Instance {
            port,
            args: vec![
                "--listen".into(),
                format!("127.0.0.1:{port}"),
                "--db".into(),
                db.into(),
                "--pool-size".into(),
                "12".into(),
                "--log-level".into(),
                "warn".into(),
            ],
            exe: exe.to_path_buf(),
            log: dir.join(format!("collector-{k}.log")),
            child: None,
        };
        inst.start().await?;
        instances.push(inst);
    }
    let bases: Arc<Vec<String>> = Arc::new(instances.iter().map(|i| format!("http://127.0.0.1:{}", i.port)).collect());
    let tally = Arc::new(Tally::default());
    let http = reqwest::Client::builder().pool_max_idle_per_host(o.clients).timeout(Duration::from_secs(20)).build()?;
    let started = Instant::now();
    let deadline = started + Duration::from_secs(o.seconds);
    let mut tasks = Vec::new();
    for id in 0..o.clients {
        tasks.push(tokio::spawn(browser(id, http.clone(), bases.clone(), deadline, tally.clone())));
    }
    // The fault: the last instance dies a third of the way in, and is back 2 s later.
    tokio::time::sleep(Duration::from_secs(o.seconds / 3)).await;
    let victim = instances.len() - 1;
    instances[victim].kill().await;
    println!("  killed instance {} (SIGKILL) at {:.1} s", victim + 1, started.elapsed().as_secs_f64());
    tokio::time::sleep(Duration::from_secs(2)).await;
    instances[victim].start().await?;
    println!("  restarted it at {:.1} s", started.elapsed().as_secs_f64());
    let mut browsers = Vec::new();
    for t in tasks {
        browsers.push(t.await?);
    }
    let secs = o.seconds as f64;
    let (receipts, events) = (tally.receipts.load(Ordering::Relaxed), tally.events.load(Ordering::Relaxed));
    for i in &mut instances {
        i.stop().await;
    }
    // Verification, as `cargo xtask verify --db` does it.
    let store = Store::open(db, 2).await?;
    let mut stored: HashMap<String, u64> = HashMap::new();
    let mut missing_wording = 0;
    let forks = verify_store(&store, |r| {
        stored.insert(r.subject.clone(), r.receipts);
        missing_wording += r.missing_wording;
        if let Some(why) = &r.broken {
            println!("  {}: BROKEN {why}", r.subject);
        }
    })
    .await?;
    let stats = store.stats().await?;
    store.close().await;
    let receipts_lost: u64 = browsers.iter().map(|b| (b.acked_seq as u64).saturating_sub(*stored.get(&b.subject).unwrap_or(&0))).sum();
    let acked_events: u64 = browsers.iter().map(|b| b.acked_events).sum();
    let events_lost = acked_events.saturating_sub(stats.events as u64);
    println!(
        "  verify --db: {} chains, {} receipts, {forks} broken ({} refer to wording not sent by this load)",
        stored.len(),
        stored.values().sum::<u64>(),
        missing_wording
    );
    let mut r_ms = tally.receipt_ms.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let mut e_ms = tally.event_ms.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let f = Figures {
        receipts_per_s: receipts as f64 / secs,
        events_per_s: events as f64 / secs,
        r_p50: pct(&mut r_ms, 0.50),
        r_p99: pct(&mut r_ms, 0.99),
        e_p50: pct(&mut e_ms, 0.50),
        e_p99: pct(&mut e_ms, 0.99),
        failed: tally.failed.load(Ordering::Relaxed),
        receipts_lost,
        events_lost,
        forks,
    };
    println!(
        "  receipts acknowledged {receipts} ({:.0}/s), events {events} ({:.0}/s), failed requests {}, receipts lost {receipts_lost}, events lost {events_lost}, forks {forks}",
        f.receipts_per_s, f.events_per_s, f.failed
    );
    let _ = std::fs::remove_dir_all(&dir);
    Ok(f)
}
