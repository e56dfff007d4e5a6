//! The browser shell (wasm32 only): renders, stores, sends and listens, and asks the core for
//! every decision. It owns no rule: what is granted, what a receipt holds, what an event says,
//! when to send and when to retry all come from `crate::core::engine::Engine`.
//!
//! - `api`: the `#[wasm_bindgen]` boundary (`start` and the `Consentry` API object), the `.d.ts`.
//! - `page`: the controller: one engine per page, applying each step (store, gate, render, tell).
//! - `banner`: the first layer, the preferences dialog, the reopen button and the live region,
//!   built with web-sys in an open shadow root (`dom` is the small element helper).
//! - `gating`: gated scripts and iframes, Google Consent Mode, the posthog-js bridge.
//! - `net`: fetch with keepalive, gzip through `CompressionStream`, `sendBeacon`.
//! - `store`: localStorage and cookies (a blocked storage is survived, never fatal).
//! - `signals`: the page's events (other tabs, page hide/show, history navigations).
//! - `doc`: JavaScript values read as the core's `Doc`.
pub mod api;
mod banner;
mod doc;
mod dom;
mod gating;
mod global;
mod net;
mod page;
pub(crate) mod signals;
mod store;
