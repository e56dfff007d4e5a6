//! Consentry's native tool: build the packages, run the demo with its local collector, run every
//! test layer, and verify evidence. `cargo xtask help` lists the commands.
mod bench;
mod bench_collector;
mod bench_evidence;
mod budget;
mod build;
mod pg;
mod server;
mod test;
mod verify;

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (cmd, rest) = match args.split_first() {
        Some((c, r)) => (c.as_str(), r),
        None => ("help", &[][..]),
    };
    let result = match cmd {
        "bench" => bench::run(rest),
        "bench-evidence" => bench_evidence::run(),
        "bench-collector" => bench_collector::run(rest),
        "build" => build::run(rest),
        "demo" => server::demo(rest),
        "serve" => server::serve(rest),
        "test" => test::run(rest),
        "verify" => verify::run(rest),
        _ => {
            eprintln!("{HELP}");
            return if cmd == "help" { ExitCode::SUCCESS } else { ExitCode::from(2) };
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask {cmd}: {e:#}");
            ExitCode::FAILURE
        }
    }
}

const HELP: &str = "usage: cargo xtask <command>
  build                 build pkg/npm and pkg/cdn (installs the wasm target and npm tools when missing)
  demo [--port N] [--db FILE]
                        build if needed, then serve www/ and pkg/ with the local collector
  serve [--port N] [--db FILE]
                        serve without building (the packages must exist)
  test                  run every test layer: native, wasm-bindgen-test in Chromium, end-to-end
  verify FILE | --db FILE|sqlite:PATH|postgres://… [--require-texts]
                        verify an exported evidence file or a collector database (and find
                        receipts whose wording the database lacks)
  bench [--runs=N] [--quick] [--variants]
                        build if needed, then benchmark against the peers (writes bench/RESULTS.md)
  bench-evidence        receipts hashed and verified per second, natively
  bench-collector [--seconds N] [--clients N] [--only postgres|sqlite]
                        the collector under load with an instance killed mid-run: two instances on
                        a throw-away PostgreSQL, then one on SQLite; receipts/s, events/s, p50/p99,
                        receipts lost, forks";
