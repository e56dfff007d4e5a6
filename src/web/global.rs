//! Page-wide state without std's `thread_local!` (whose machinery the `no_std` module avoids).
//!
//! The wasm32-unknown-unknown module runs on the page's one thread, so a plain `static` holding
//! a `RefCell` is enough; `with` keeps the shape of `LocalKey::with`.
pub struct Global<T>(pub T);

// Only ever touched from the page's single thread (no wasm threads are enabled).
unsafe impl<T> Sync for Global<T> {}

impl<T> Global<T> {
    pub fn with<R>(&'static self, f: impl FnOnce(&'static T) -> R) -> R {
        f(&self.0)
    }
}

/// So `RUN.get()` reads like `LocalKey<Cell<_>>::get`.
impl<T> core::ops::Deref for Global<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}
