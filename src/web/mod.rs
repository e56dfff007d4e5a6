//! The browser side (wasm32 only). `exports` is what the JavaScript shell (`shell.js`, which
//! renders, stores, sends and listens) asks the `.wasm`, and `abi` how the texts cross; every
//! rule comes from `crate::core`.
#[cfg(feature = "runtime")]
mod abi;
pub mod exports;
pub mod global;
#[cfg(feature = "runtime")]
mod runtime;
