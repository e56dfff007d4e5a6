// Test aid for gating.html (an ordinary script, so it also works under a strict CSP): records what
// the gated scripts did and what posthog-js was told.
window.__ran = [];
window.__posthog = [];
window.posthog = {
  _in: false,
  _out: false,
  opt_in_capturing: function () { this._in = true; this._out = false; window.__posthog.push('in'); },
  opt_out_capturing: function () { this._out = true; this._in = false; window.__posthog.push('out'); },
  has_opted_in_capturing: function () { return this._in; },
  has_opted_out_capturing: function () { return this._out; },
};
