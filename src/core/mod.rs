//! The sans-I/O core: every rule lives here, nothing here touches the browser.
//!
//! Code here ships in the `.wasm` to every visitor: no `format!`, no `Debug` derives outside
//! tests, no panicking `unwrap`/`expect` with messages (they pull in `core::fmt`).
pub mod backoff;
pub mod config;
pub mod consent;
pub mod evidence;
pub mod json;
pub mod sha256;
pub mod texts;
pub mod time;
pub mod tracker;
