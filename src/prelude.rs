//! What std's prelude would give every module, taken from `alloc` (the crate is `no_std`).
pub use alloc::string::String;
pub use alloc::vec;
pub use alloc::vec::Vec;
