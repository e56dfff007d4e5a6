//! Consentry: a consent banner, verifiable consent evidence and a consent-gated first-party tracker.
//!
//! `core` is sans-I/O: plain Rust, no browser bindings, unit-tested natively and reused by the
//! native collector and verifier. `web` exports the core's engine to the browser shell
//! (`src/web/shell.js`), which only renders, stores, sends and listens, and asks the core for
//! every decision.
//!
//! The crate is `no_std` (with `alloc`): in the `.wasm`, std's panic formatting and allocator
//! would cost every visitor more than the banner itself (see `web::runtime`).
#![no_std]

extern crate alloc;
#[cfg(test)]
#[macro_use]
extern crate std;
#[cfg(all(not(test), any(not(target_arch = "wasm32"), not(feature = "runtime"))))]
extern crate std;

pub mod core;
mod prelude;

#[cfg(target_arch = "wasm32")]
pub mod web;
