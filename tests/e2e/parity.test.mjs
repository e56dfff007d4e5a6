// Tracker and gating parity (issue 15), end to end in headless Chromium against `xtask serve`:
// sessions and window ids as PostHog's web analytics reads them, and their removal in every tab
// on withdrawal; device properties and no geolocation by default; a lone UTF-16 surrogate costs
// nothing; every send is text/plain; person-update event names are refused with a warning; what
// a gated service left (cookies on every variant, localStorage and sessionStorage keys) is
// deleted on withdrawal in every tab; Google Consent Mode's default comes before any tag.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, requestsTo, stats, storageState, banner, withBrowser, until, COLLECTOR_PATHS } from './harness.mjs';

const T = { timeout: 120_000 };
const BATCH_PATHS = ['/batch', '/capture', '/e/'];
const UUID7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
let server;

before(async () => { server = await startServer(); });
after(async () => { await server?.stop(); });

const url = (path) => new URL(path, server.url).href;

async function ready(page, b) {
  try {
    await page.waitForFunction(() => typeof window.Consentry === 'object', null, { timeout: 15_000 });
  } catch {
    throw new Error(`window.Consentry never appeared; console: ${JSON.stringify(b.console)}; errors: ${JSON.stringify(b.pageErrors)}`);
  }
}

const subjectOf = (page) => page.evaluate(() => { const e = Consentry.evidence(); return e.length ? e[e.length - 1].subject : null; });

async function eventsOf(subject) {
  const r = await fetch(url(`/consentry/subjects/${encodeURIComponent(subject)}`));
  if (r.status === 404) return [];
  assert.equal(r.status, 200);
  return (await r.json()).events;
}

/// Serves `path` as `from` with `edit` applied to its text (a variant of a test page, not a copy).
async function variant(context, path, from, edit) {
  await context.route(`**${path}`, async (route) => {
    const r = await route.fetch({ url: url(from) });
    route.fulfill({ response: r, body: edit(await r.text()) });
  });
}

/// The tracker's keys in this tab: the shared session (localStorage) and the tab's window id.
const trackerKeys = (page) => page.evaluate(() => ({ session: localStorage.getItem('cs_sess'), window: sessionStorage.getItem('cs_win') }));

test('sessions: $session_id shared by the tabs, $window_id per tab, device properties, no geoip; both ids gone in every tab on withdrawal', T, async () => {
  await withBrowser({}, async (b) => {
    const a = b.page;
    await a.goto(url('/test/tracker.html'));
    await ready(a, b);
    assert.deepEqual(await trackerKeys(a), { session: null, window: null }, 'session or window id stored before consent');
    await banner(a, 'button[data-a=accept]').click();
    const subject = await subjectOf(a);
    await a.evaluate(() => Consentry.capture('first_tab'));
    const tab2 = await b.context.newPage();
    await tab2.goto(url('/test/tracker-2.html'));
    await ready(tab2, b);
    await tab2.evaluate(() => Consentry.capture('second_tab'));
    const events = await until(async () => { const e = await eventsOf(subject); return e.length >= 4 && e; }, 'four events from two tabs');

    const byName = Object.fromEntries(events.map((e) => [e.event === '$pageview' ? `${e.event}:${e.properties.$pathname}` : e.event, e.properties]));
    const one = byName['$pageview:/test/tracker.html'];
    const two = byName['$pageview:/test/tracker-2.html'];
    assert.ok(one && two && byName.first_tab && byName.second_tab, `events: ${Object.keys(byName)}`);
    for (const p of Object.values(byName)) {
      assert.match(p.$session_id, UUID7, '$session_id is a UUID v7');
      assert.match(p.$window_id, UUID7, '$window_id is a UUID v7');
      assert.equal(p.$session_id, one.$session_id, 'one session for both tabs');
      assert.equal(p.$browser, 'Chrome');
      assert.ok(Number.isInteger(p.$browser_version) && p.$browser_version > 100, `$browser_version ${p.$browser_version}`);
      assert.equal(p.$os, 'Linux');
      assert.equal(p.$device_type, 'Desktop');
      assert.equal(p.$geoip_disable, true, 'geolocation is off unless tracker.geoip');
      assert.equal(p.$raw_user_agent, undefined, 'the raw user agent only when the config asks');
    }
    assert.equal(byName.first_tab.$window_id, one.$window_id, 'one window id per tab');
    assert.equal(byName.second_tab.$window_id, two.$window_id);
    assert.notEqual(one.$window_id, two.$window_id, 'each tab its own window id');

    const [ka, kb] = [await trackerKeys(a), await trackerKeys(tab2)];
    assert.ok(ka.session && ka.session === kb.session && ka.session.startsWith(one.$session_id), `cs_sess ${ka.session}`);
    assert.equal(ka.window, one.$window_id);
    assert.equal(kb.window, two.$window_id);

    // Withdraw in the second tab: both tabs drop both ids (the first hears it from storage).
    await tab2.evaluate(() => Consentry.setConsent({ analytics: false }));
    await a.waitForFunction(() => Consentry.getConsent().analytics === false, null, { timeout: 5000 });
    await until(async () => {
      const [x, y] = [await trackerKeys(a), await trackerKeys(tab2)];
      return !x.session && !x.window && !y.session && !y.window;
    }, 'cs_sess and cs_win removed in both tabs');
    for (const p of [a, tab2]) {
      const s = await storageState(p);
      assert.deepEqual(s.local, ['consentry'], 'only the consent record is left in localStorage');
      assert.deepEqual(s.session, [], 'nothing left in sessionStorage');
    }

    // Consent again: a new session, not the old one back.
    await a.evaluate(() => { Consentry.setConsent({ analytics: true }); Consentry.capture('again'); });
    const again = await until(async () => (await eventsOf(subject)).find((e) => e.event === 'again'), 'the event after consenting again');
    assert.match(again.properties.$session_id, UUID7);
    assert.notEqual(again.properties.$session_id, one.$session_id, 'a withdrawn session is never continued');
    assert.notEqual(again.properties.$window_id, one.$window_id, 'a withdrawn window id is never continued');
    await tab2.close();
  });
});

test('a lone UTF-16 surrogate in a property goes as U+FFFD and its batch is accepted (PostHog and the collector refuse the escape)', T, async () => {
  // The collector, like PostHog's capture, refuses a whole batch that holds a lone surrogate.
  const raw = '{"api_key":"phc_test","batch":[{"event":"x","uuid":"0190b1c2-0000-7000-8000-000000000000","properties":{"distinct_id":"d","half":"\\ud83c"}}]}';
  const refused = await fetch(url('/batch/'), { method: 'POST', headers: { 'content-type': 'text/plain' }, body: raw });
  assert.equal(refused.status, 400, 'the collector accepted a lone surrogate escape, so this test could not fail');
  const before = (await stats(server.url)).rejected;

  await withBrowser({}, async (b) => {
    const batches = requestsTo(b.page, BATCH_PATHS);
    await b.page.goto(url('/test/tracker.html'));
    await ready(b.page, b);
    await banner(b.page, 'button[data-a=accept]').click();
    await b.page.evaluate(() => {
      const cookie = '\u{1F36A}';
      Consentry.capture('half_emoji', { half: cookie.slice(0, 1), tail: 'a' + cookie.slice(1), whole: cookie, ['k' + cookie.slice(0, 1)]: 1 });
      Consentry.capture('after_it');
    });
    const subject = await subjectOf(b.page);
    const events = await until(async () => { const e = await eventsOf(subject); return e.some((x) => x.event === 'after_it') && e; }, 'the batch with the half emoji');
    const p = events.find((e) => e.event === 'half_emoji').properties;
    assert.equal(p.half, '\uFFFD');
    assert.equal(p.tail, 'a\uFFFD');
    assert.equal(p.whole, '\u{1F36A}', 'a whole emoji stays whole');
    assert.equal(p['k\uFFFD'], 1, `keys too: ${JSON.stringify(Object.keys(p))}`);
    for (const rq of batches) assert.doesNotMatch(rq.body, /\\ud[89a-f][0-9a-f]{2}/i, 'a surrogate escape on the wire');
  });
  assert.equal((await stats(server.url)).rejected, before, 'the collector refused a batch');
});

test('every send is text/plain: receipts, compressed and uncompressed batches, and the page-hide beacon', T, async () => {
  for (const compression of [true, false]) {
    await withBrowser({}, async (b) => {
      if (!compression) await b.context.addInitScript(() => { delete window.CompressionStream; });
      const sends = [];
      b.context.on('request', (rq) => {
        const path = new URL(rq.url()).pathname;
        if (COLLECTOR_PATHS.some((p) => path.startsWith(p))) sends.push({ method: rq.method(), path, type: rq.headers()['content-type'], kind: rq.resourceType() });
      });
      await b.page.goto(url('/test/tracker.html'));
      await ready(b.page, b);
      await banner(b.page, 'button[data-a=accept]').click();
      await b.page.evaluate(() => Consentry.capture('typed'));
      await until(() => sends.some((s) => s.path.startsWith('/batch')) && sends.some((s) => s.path.startsWith('/consentry/')), 'a receipt and a batch');
      // The tab goes to the background: what is queued goes by sendBeacon. (Playwright does not
      // report a beacon sent while a page unloads, so the page is hidden, not left.)
      await b.page.evaluate(() => {
        Consentry.capture('queued_before_hide');
        Object.defineProperty(document, 'visibilityState', { value: 'hidden', configurable: true });
        document.dispatchEvent(new Event('visibilitychange'));
      });
      await until(() => sends.filter((s) => s.kind === 'ping').length >= 1, `the page-hide beacon in ${JSON.stringify(sends)}`);
      await b.page.waitForTimeout(1000);
      assert.deepEqual(sends.filter((s) => s.method !== 'POST'), [], 'a request other than POST (a CORS preflight is OPTIONS)');
      for (const s of sends) assert.match(s.type || '', /^text\/plain(;|$)/, `${s.kind} to ${s.path} sent as ${s.type} (compression ${compression})`);
      assert.ok(sends.some((s) => s.kind === 'fetch') && sends.some((s) => s.kind === 'ping'), JSON.stringify(sends));
    });
  }
});

test('person-update event names are refused with a console warning naming the reason; nothing is sent for them', T, async () => {
  await withBrowser({}, async (b) => {
    await b.page.goto(url('/test/tracker.html'));
    await ready(b.page, b);
    await banner(b.page, 'button[data-a=accept]').click();
    const reserved = ['$identify', '$create_alias', '$merge_dangerously', '$groupidentify', '$set'];
    await b.page.evaluate((names) => { for (const n of names) Consentry.capture(n, { $set: { email: 'a@b.example' } }); Consentry.capture('allowed'); }, reserved);
    const subject = await subjectOf(b.page);
    const events = await until(async () => { const e = await eventsOf(subject); return e.some((x) => x.event === 'allowed') && e; }, 'the allowed event');
    assert.deepEqual(events.map((e) => e.event).filter((n) => n !== '$pageview'), ['allowed']);
    const warnings = b.console.filter((m) => m.type === 'warning').map((m) => m.text);
    for (const n of reserved) {
      assert.ok(warnings.some((w) => w.includes(`"${n}"`) && /person or group update/.test(w)), `no warning for ${n}: ${JSON.stringify(warnings)}`);
    }
    assert.deepEqual(b.console.filter((m) => m.type === 'error'), []);
  });
});

/// The demo analytics script's leftovers the page can see, and the site's own keys.
const leftovers = (page) => page.evaluate(() => ({
  cookies: document.cookie.split('; ').filter(Boolean).map((c) => c.split('=')[0]).sort(),
  local: Object.keys(localStorage).sort(),
  session: Object.keys(sessionStorage).sort(),
}));

test('withdrawal deletes what a gated service left (cookies on every variant, localStorage and sessionStorage keys) in every tab', T, async () => {
  await withBrowser({}, async (b) => {
    const a = b.page;
    await a.goto(url('/test/services.html'));
    await ready(a, b);
    assert.deepEqual(await leftovers(a), { cookies: ['site_lang'], local: ['site_theme'], session: [] }, 'before consent');
    await banner(a, 'button[data-a=accept]').click();
    await a.waitForFunction(() => window.__demoAnalytics === 1);
    const tab2 = await b.context.newPage();
    await tab2.goto(url('/test/services.html'));
    await ready(tab2, b);
    await tab2.waitForFunction(() => window.__demoAnalytics === 1);
    // The same cookie also on the parent path and on the host as a Domain cookie, as scripts do.
    await tab2.evaluate(() => {
      document.cookie = '_demo_analytics_id=old; Path=/test; Max-Age=3600';
      document.cookie = `_demo_analytics_id=dom; Path=/; Domain=${location.hostname}; Max-Age=3600`;
    });
    const all = await b.context.cookies();
    assert.ok(all.filter((c) => c.name === '_demo_analytics_id').length >= 2, 'the test set up its cookie variants');
    for (const p of [a, tab2]) {
      const l = await leftovers(p);
      assert.ok(l.cookies.includes('_demo_analytics_id') && l.cookies.includes('_demo_ab_7'), JSON.stringify(l));
      assert.ok(l.local.includes('_demo_analytics_last_visit') && l.session.includes('_demo_sess_start'), JSON.stringify(l));
    }

    // Withdraw from the first tab's preferences, as a visitor would.
    await a.click('footer a[data-consentry=preferences]');
    const box = banner(a, 'dialog input[data-p=analytics]');
    await box.waitFor({ state: 'visible' });
    if (await box.isChecked()) await box.click();
    await banner(a, 'dialog button[data-a=save]').click();
    await tab2.waitForFunction(() => Consentry.getConsent().analytics === false, null, { timeout: 5000 });

    const gone = { cookies: ['site_lang'], local: ['consentry', 'site_theme'], session: [] };
    await until(async () => {
      const [x, y] = [await leftovers(a), await leftovers(tab2)];
      return JSON.stringify(x) === JSON.stringify(gone) && JSON.stringify(y) === JSON.stringify(gone);
    }, 'the demo analytics cookies and keys removed in both tabs').catch(async (e) => {
      throw new Error(`${e.message}; tab 1 ${JSON.stringify(await leftovers(a))}, tab 2 ${JSON.stringify(await leftovers(tab2))}`);
    });
    const names = (await b.context.cookies()).map((c) => `${c.name} ${c.domain}${c.path}`);
    assert.deepEqual(names.filter((n) => n.startsWith('_demo') || n.startsWith('cs_')), [], 'a cookie variant survived');
    assert.deepEqual(b.pageErrors, []);

    // A returning visitor who refused: the script never runs, and a stale leftover is cleared at load.
    await tab2.evaluate(() => { localStorage.setItem('_demo_analytics_last_visit', 'stale'); document.cookie = '_demo_ab_3=a; Path=/test'; });
    await tab2.reload();
    await ready(tab2, b);
    await tab2.waitForTimeout(500);
    assert.equal(await tab2.evaluate(() => window.__demoAnalytics), undefined, 'the gated script ran after a refusal');
    assert.deepEqual(await leftovers(tab2), gone, 'a stale leftover survived the next page load');
    await tab2.close();
  });
});

test('Consent Mode: consentry-defaults.js sets the default before any tag reads consent; the update follows the decision', T, async () => {
  const layer = (p) => p.evaluate(() => (window.dataLayer || []).map((a) => (a && a.length !== undefined ? [a[0], typeof a[1] === 'string' ? a[1] : typeof a[1], a[2] && a[2].analytics_storage] : ['?'])));
  const denied = { ad_storage: 'denied', ad_user_data: 'denied', ad_personalization: 'denied', analytics_storage: 'denied', wait_for_update: 500 };
  await withBrowser({}, async (b) => {
    const p = b.page;
    await p.goto(url('/test/consent-mode.html'));
    await ready(p, b);
    await p.waitForFunction(() => window.__gtagLoaded === true);
    await p.waitForTimeout(300);
    const first = await p.evaluate(() => Array.from(window.dataLayer[0]));
    assert.deepEqual(first, ['consent', 'default', denied], 'the default is the first thing in dataLayer');
    assert.deepEqual(await layer(p), [['consent', 'default', 'denied'], ['js', 'object', undefined], ['config', 'G-TEST', undefined]], 'one default, before the tag; no update before a choice');
    assert.deepEqual(await p.evaluate(() => window.__tagSaw), [{ tag: 'G-TEST', consent: 'denied' }], 'the tag found the default');

    await banner(p, 'button[data-a=accept]').click();
    await until(async () => (await layer(p)).length === 4, 'the update');
    assert.deepEqual((await layer(p))[3], ['consent', 'update', 'granted']);
    const upd = await p.evaluate(() => Array.from(window.dataLayer[3])[2]);
    assert.deepEqual(upd, { ad_storage: 'granted', ad_user_data: 'granted', ad_personalization: 'granted', analytics_storage: 'granted' });

    // A returning visitor: the default first again, then the stored choice as an update.
    await p.reload();
    await ready(p, b);
    await until(async () => (await layer(p)).length === 4, 'the returning visitor\'s update');
    assert.deepEqual(await layer(p), [['consent', 'default', 'denied'], ['js', 'object', undefined], ['config', 'G-TEST', undefined], ['consent', 'update', 'granted']]);
    assert.deepEqual(b.pageErrors, []);
  });

  // Without the snippet the tag reads consent before any default exists: why the snippet is needed.
  await withBrowser({}, async (b) => {
    const p = b.page;
    const late = (text) => text.replace('<script src="/pkg/cdn/consentry-defaults.js"></script>', '');
    await variant(b.context, '/test/consent-mode-late.html', '/test/consent-mode.html', late);
    await p.goto(url('/test/consent-mode-late.html'));
    await ready(p, b);
    await p.waitForFunction(() => window.__gtagLoaded === true);
    await until(async () => (await layer(p)).some((x) => x[1] === 'default'), 'Consentry\'s own default');
    const l = await layer(p);
    assert.ok(l.findIndex((x) => x[0] === 'config') < l.findIndex((x) => x[1] === 'default'), JSON.stringify(l));
    assert.deepEqual(await p.evaluate(() => window.__tagSaw), [{ tag: 'G-TEST', consent: null }]);
  });
});

test('reloadOnWithdraw: a withdrawal reloads the page (a script that already ran cannot be unrun); a first refusal does not', T, async () => {
  const reloading = (text) => text.replace('"policyVersion": "v1",', '"policyVersion": "v1", "reloadOnWithdraw": true,');
  await withBrowser({}, async (b) => {
    const p = b.page;
    await variant(b.context, '/test/services-reload.html', '/test/services.html', reloading);
    await p.goto(url('/test/services-reload.html'));
    await ready(p, b);
    await banner(p, 'button[data-a=accept]').click();
    await p.waitForFunction(() => window.__demoAnalytics === 1);
    await p.evaluate(() => { window.__samePage = true; });
    const reloaded = p.waitForEvent('load', { timeout: 10_000 });
    await p.evaluate(() => Consentry.rejectAll());
    await reloaded;
    await ready(p, b);
    assert.equal(await p.evaluate(() => window.__samePage), undefined, 'the page was not reloaded');
    assert.equal(await p.evaluate(() => window.__demoAnalytics), undefined, 'the gated script ran again after the reload');
    assert.deepEqual(await leftovers(p), { cookies: ['site_lang'], local: ['consentry', 'site_theme'], session: [] });
  });
  await withBrowser({}, async (b) => {
    const p = b.page;
    await variant(b.context, '/test/services-reload.html', '/test/services.html', reloading);
    await p.goto(url('/test/services-reload.html'));
    await ready(p, b);
    await p.evaluate(() => { window.__samePage = true; });
    await banner(p, 'button[data-a=reject]').click();
    await p.waitForTimeout(1000);
    assert.equal(await p.evaluate(() => window.__samePage), true, 'a first refusal (nothing ran) reloaded the page');
  });
});
