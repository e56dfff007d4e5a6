//! Consentry: a consent banner, verifiable consent evidence and a consent-gated first-party
//! tracker, as one WebAssembly module.
//!
//! `core` is sans-I/O (the shape of rustls or quinn-proto): plain Rust with private state and
//! typed errors, unit-tested natively and reused by the native collector and verifier. It owns
//! every rule: what the config may say, what is granted, when to ask again, what a receipt holds
//! and how it chains, what a tracker event says and when it may be sent, when to retry. `web`
//! (wasm32 only) is the browser shell on wasm-bindgen, web-sys, js-sys, serde-wasm-bindgen and
//! gloo: it renders the banner, stores, sends and listens, and asks the core for every decision.
pub mod core;

#[cfg(target_arch = "wasm32")]
pub mod web;

/// A small maintained allocator instead of std's dlmalloc: a few kilobytes less for every
/// visitor, and the page's live data is a few kilobytes.
#[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
#[global_allocator]
static TALC: talc::cell::TalcSyncCell<talc::wasm::WasmGrowAndClaim, talc::wasm::WasmBinning> =
    talc::cell::TalcSyncCell::new_wasm(talc::wasm::WasmGrowAndClaim);
