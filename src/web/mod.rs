//! The browser shell (wasm32 only): renders, stores, sends and listens; every rule comes from
//! `crate::core`. Modules are public so the `wasm-bindgen-test` browser tests can drive them.
pub mod api;
pub mod app;
pub mod banner;
pub mod cookies;
pub mod dom;
pub mod gating;
pub mod global;
pub mod signals;
pub mod storage;
pub mod tracker;
pub mod transport;
#[cfg(feature = "runtime")]
mod runtime;
