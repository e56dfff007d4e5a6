//! A throw-away PostgreSQL cluster on 127.0.0.1 for the collector's tests and benchmark.
//!
//! Owns: finding PostgreSQL's server binaries (installing Debian's `postgresql` with apt when
//! they are missing), `initdb` in a new temp directory, `pg_ctl start` on a free port with the
//! socket in that directory, and `pg_ctl stop` plus removing the directory when dropped. The
//! server refuses to run as root, so as root every command runs as `nobody` (`runuser`).
//! Must never: touch a cluster it did not create, or leave its server running.
use anyhow::{anyhow, bail, Context, Result};
use std::path::{Path, PathBuf};
use std::process::Command;

pub struct Cluster {
    dir: PathBuf,
    bin: PathBuf,
    pub port: u16,
    as_nobody: bool,
    stopped: bool,
}

/// The superuser `initdb` creates (no password: `trust` on loopback only).
const USER: &str = "consentry";

/// The directory of the newest installed server's binaries (`initdb`, `pg_ctl`).
fn find_bin() -> Option<PathBuf> {
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let v: u32 = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").exists().then_some((v, bin))
        })
        .collect();
    found.sort();
    found.pop().map(|(_, b)| b)
}

/// PostgreSQL's server binaries, installed from Debian's packages when missing.
pub fn ensure_installed() -> Result<PathBuf> {
    if let Some(b) = find_bin() {
        return Ok(b);
    }
    eprintln!("PostgreSQL is missing: installing Debian's postgresql with apt…");
    crate::build::apt_install(&["postgresql"])?;
    find_bin().ok_or_else(|| anyhow!("apt installed postgresql but /usr/lib/postgresql/*/bin/initdb is missing"))
}

/// A port nothing listens on now.
fn free_port() -> Result<u16> {
    let l = std::net::TcpListener::bind(("127.0.0.1", 0)).context("finding a free port")?;
    Ok(l.local_addr()?.port())
}

impl Cluster {
    /// Creates and starts a cluster. `durable`: keep fsync on (the benchmark); off for tests.
    pub fn start(durable: bool) -> Result<Cluster> {
        let bin = ensure_installed()?;
        let as_nobody = crate::build::is_root();
        let dir = std::env::temp_dir().join(format!(
            "consentry-pg-{}-{}",
            std::process::id(),
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0)
        ));
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        let mut c = Cluster { dir, bin, port: 0, as_nobody, stopped: true };
        if as_nobody {
            let ok = Command::new("chown").args(["nobody:nogroup"]).arg(&c.dir).status().map(|s| s.success()).unwrap_or(false);
            if !ok {
                bail!("could not give {} to the user nobody", c.dir.display());
            }
        }
        let data = c.dir.join("data");
        c.run("initdb", &["-D", path(&data)?, "-U", USER, "--auth=trust", "-E", "UTF8", "--no-sync"]).context("initdb")?;
        // A free port can be taken between the check and the start: try a few.
        let mut last = anyhow!("no attempt");
        for _ in 0..5 {
            let port = free_port()?;
            let opts = format!(
                "-p {port} -k {} -c listen_addresses=127.0.0.1 -c max_connections=300 -c fsync={} -c synchronous_commit={}",
                path(&c.dir)?,
                if durable { "on" } else { "off" },
                if durable { "on" } else { "off" },
            );
            let log = c.dir.join("server.log");
            match c.run("pg_ctl", &["-D", path(&data)?, "-l", path(&log)?, "-o", &opts, "-w", "-t", "60", "start"]) {
                Ok(()) => {
                    c.port = port;
                    c.stopped = false;
                    return Ok(c);
                }
                Err(e) => {
                    let tail = std::fs::read_to_string(&log).unwrap_or_default();
                    last = anyhow!("{e:#}\n{tail}");
                }
            }
        }
        Err(last.context("pg_ctl start"))
    }

    /// The URL of database `db` on this cluster.
    pub fn url(&self, db: &str) -> String {
        format!("postgres://{USER}@127.0.0.1:{}/{db}", self.port)
    }

    /// Creates database `db`.
    pub fn create_db(&self, db: &str) -> Result<()> {
        let sock = path(&self.dir)?.to_string();
        let port = self.port.to_string();
        self.run("createdb", &["-h", &sock, "-p", &port, "-U", USER, db]).with_context(|| format!("createdb {db}"))
    }

    /// Runs one of the server's programs (as `nobody` when we are root).
    fn run(&self, prog: &str, args: &[&str]) -> Result<()> {
        let exe = self.bin.join(prog);
        let mut cmd = if self.as_nobody {
            let mut c = Command::new("runuser");
            c.args(["-u", "nobody", "--"]).arg(&exe);
            c
        } else {
            Command::new(&exe)
        };
        cmd.args(args).current_dir(&self.dir);
        let out = cmd.output().with_context(|| format!("could not start {}", exe.display()))?;
        if !out.status.success() {
            bail!("{prog} failed ({}): {}{}", out.status, String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        }
        Ok(())
    }

    /// Stops the server and removes the cluster.
    pub fn stop(&mut self) -> Result<()> {
        if !self.stopped {
            self.stopped = true;
            let data = self.dir.join("data");
            self.run("pg_ctl", &["-D", path(&data)?, "-m", "fast", "-w", "stop"])?;
        }
        let _ = std::fs::remove_dir_all(&self.dir);
        Ok(())
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if let Err(e) = self.stop() {
            eprintln!("stopping the test PostgreSQL: {e:#}");
        }
    }
}

fn path(p: &Path) -> Result<&str> {
    p.to_str().ok_or_else(|| anyhow!("{} is not UTF-8", p.display()))
}
