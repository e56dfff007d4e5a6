//! Applies the current consent to the page. STUB: being written (scripts, iframes, Consent Mode, posthog-js, tracker).
use super::app::App;

/// Called after every change of `app.effective` (and once at load).
pub fn apply(_app: &App) {}
