// Test aid: a stand-in for a third-party analytics script, gated by Consentry
// (<script type="text/plain" data-consentry="analytics" src=…>). Like many real ones it leaves a
// visitor id cookie, an A/B cookie on a narrower path, a last-visit key in localStorage and a
// per-tab key in sessionStorage, and nothing it does can be "unrun" afterwards.
(function () {
  var id = Math.random().toString(16).slice(2);
  var year = 60 * 60 * 24 * 365;
  document.cookie = '_demo_analytics_id=' + id + '; Path=/; Max-Age=' + year + '; SameSite=Lax';
  document.cookie = '_demo_ab_7=b; Path=/test; Max-Age=' + year + '; SameSite=Lax';
  localStorage.setItem('_demo_analytics_last_visit', new Date().toISOString());
  sessionStorage.setItem('_demo_sess_start', String(Date.now()));
  window.__demoAnalytics = (window.__demoAnalytics || 0) + 1;
})();
