// A gated external script of gating.html: must run after the first inline one, before the third.
window.__ext = (window.__ext || 0) + 1;
window.__ran.push('a2:' + document.currentScript.getAttribute('data-n'));
