//! consentry-scan: what a site stores and sends before a visitor's choice, after accept and after
//! withdrawal, checked against the rules of consent (README.md), with a config snippet for
//! Consentry. The binary is `src/main.rs`; this library is its parts, tested on their own.
pub mod browser;
pub mod findings;
pub mod html;
pub mod model;
pub mod scan;
pub mod site;
pub mod snippet;
pub mod trackers;
