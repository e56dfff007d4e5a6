//! Consentry: a consent banner, verifiable consent evidence and a consent-gated first-party tracker.
//!
//! `core` is sans-I/O: plain Rust, no browser bindings, unit-tested natively and reused by the
//! native collector and verifier. `web` is the browser shell; it only renders, stores, sends and
//! listens, and asks `core` for every decision.

pub mod core;

#[cfg(target_arch = "wasm32")]
pub mod web;
