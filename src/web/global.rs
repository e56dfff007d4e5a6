//! A `static` the shell's single thread owns (the controller, the gates' state).
//!
//! Why not `thread_local!`: on wasm32 without threads a `LocalKey` is a plain static behind
//! access checks that panic with formatted messages, and the module paid about a kilobyte for
//! them. This wrapper gives the same `RefCell` discipline (no re-entrant borrow) with none of it.
use std::cell::RefCell;

pub struct Global<T>(pub RefCell<T>);

// SAFETY: wasm32-unknown-unknown without the `atomics` feature has one thread; nothing here is
// ever shared across threads (the build refuses a threaded target below).
unsafe impl<T> Sync for Global<T> {}

#[cfg(target_feature = "atomics")]
compile_error!("the browser shell assumes one thread (see web::global)");

impl<T> Global<T> {
    pub const fn new(v: T) -> Self {
        Global(RefCell::new(v))
    }
}
