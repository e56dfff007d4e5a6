//! The browser side (wasm32 only). `exports` is what the `.wasm` offers the JavaScript shell
//! (`shell.js`, which renders, stores, sends and listens); every rule comes from `crate::core`.
pub mod exports;
pub mod global;
#[cfg(feature = "runtime")]
mod runtime;
