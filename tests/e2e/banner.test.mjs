// The banner's must-shows, end to end in headless Chromium against `xtask serve`:
// keyboard only (Tab reaches Accept and Reject, Enter on Reject stores the refusal, reload shows
// no banner, the reopen button opens the preferences with focus inside, Escape returns focus);
// Accept and Reject of equal size and colours; axe-core zero violations on the first layer, the
// preferences and the reopen-button state, light and dark; GPC honoured without asking and
// said so; a policy version bump asks again; usable at 320 px; two script tags give one banner;
// a page under a strict CSP works; host styles do not leak in and config texts stay text; no
// layout shift, reduced motion, 200 % zoom, the bar layout. Then screenshots (desktop, 320 px,
// dark, RTL, German, bar) of the first layer and the preferences: into target/screenshots/, and
// into www/screenshots/ when CONSENTRY_SCREENSHOTS=www is set (a test run never rewrites
// committed files otherwise).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { startServer, requestsTo, axe, formatViolations, banner, focused, storageState, ROOT, withBrowser } from './harness.mjs';

const T = { timeout: 120_000 };
let server;

before(async () => { server = await startServer(); });
after(async () => { await server?.stop(); });

const at = (path) => new URL(path, server.url).href;

/// Loads `path` and waits until the module has initialised.
async function open(b, path = '/') {
  const r = await b.page.goto(at(path));
  assert.equal(r.status(), 200, `${path} answered ${r.status()}`);
  try {
    await b.page.waitForFunction(() => typeof window.Consentry === 'object', null, { timeout: 15_000 });
  } catch {
    throw new Error(`${path}: window.Consentry never appeared; console: ${JSON.stringify(b.console)}; errors: ${JSON.stringify(b.pageErrors)}`);
  }
  await settle(b.page);
  return r;
}

/// Waits until the banner's animations (the entry slide) have finished, so geometry and colours
/// are measured at rest.
const settle = (page) => page.evaluate(async () => {
  const root = document.querySelector('#consentry')?.shadowRoot;
  if (root) await Promise.all(root.getAnimations().map((a) => a.finished.catch(() => {})));
});

const firstLayerCount = (page) => banner(page, 'section').count();
const dialogOpen = (page) => page.evaluate(() => !!document.querySelector('#consentry').shadowRoot.querySelector('dialog[open]'));

/// The stored evidence log's receipts (localStorage 'consentry'), or null.
const storedReceipts = (page) => page.evaluate(() => {
  const t = localStorage.getItem('consentry');
  return t === null ? null : JSON.parse(t).receipts;
});

/// Presses Tab up to `max` times, returning the list of focused elements seen.
async function tabThrough(page, max = 12) {
  const seen = [];
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab');
    seen.push(await focused(page));
  }
  return seen;
}

/// Presses Tab until `pred(focused)` is true; fails listing what was focused on the way.
async function tabTo(page, pred, what, max = 15) {
  const seen = [];
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab');
    const f = await focused(page);
    seen.push(f?.desc ?? null);
    if (f && pred(f)) return f;
  }
  throw new Error(`Tab never reached ${what}; focus went: ${JSON.stringify(seen)}`);
}

async function assertNoAxe(page, state) {
  const v = await axe(page);
  assert.equal(v.length, 0, `axe violations (${state}):\n${formatViolations(v)}`);
}

test('keyboard only: Tab reaches Accept and Reject; Enter on Reject stores the refusal; reload → no banner; reopen → preferences with focus inside; Escape returns focus', T, () =>
  withBrowser({}, async (b) => {
    const { page } = b;
    await open(b, '/');
    assert.equal(await firstLayerCount(page), 1, 'no first layer on the first visit');
    const pre = await focused(page);
    assert.ok(!pre || !pre.inBanner, `something in the banner is pre-focused: ${pre?.desc}`);

    const seen = await tabThrough(page, 8);
    const actions = seen.map((f) => f?.action);
    assert.ok(actions.includes('accept'), `Tab never reached Accept all: ${JSON.stringify(seen.map((f) => f?.desc))}`);
    assert.ok(actions.includes('reject'), `Tab never reached Reject all: ${JSON.stringify(seen.map((f) => f?.desc))}`);

    // Back to the start, then to Reject, and press Enter.
    await page.reload();
    await page.waitForFunction(() => typeof window.Consentry === 'object');
    await tabTo(page, (f) => f.action === 'reject' && f.inBanner, 'Reject all');
    await page.keyboard.press('Enter');
    const receipts = await storedReceipts(page);
    assert.ok(receipts, 'Enter on Reject all stored nothing');
    assert.equal(receipts.length, 1);
    assert.equal(receipts[0].method, 'reject_all');
    assert.ok(Object.entries(receipts[0].choices).every(([k, v]) => v === (k === 'necessary')), `not a refusal: ${JSON.stringify(receipts[0].choices)}`);
    assert.equal(await firstLayerCount(page), 0, 'the first layer stays after Reject all');
    const said = await banner(page, '[role=status]').evaluate((e) => e.textContent.trim());
    assert.ok(said.length > 0, 'the decision was not announced in a polite live region (role=status is empty)');
    const consent = await page.evaluate(() => window.Consentry.getConsent());
    assert.equal(consent.analytics, false);

    // Reload: no banner, a reopen button instead.
    await page.reload();
    await page.waitForFunction(() => typeof window.Consentry === 'object');
    assert.equal(await firstLayerCount(page), 0, 'the banner came back after reload although a refusal is stored');
    const reopen = banner(page, 'button.o2');
    await assert.doesNotReject(reopen.waitFor({ state: 'visible', timeout: 3000 }), 'no visible reopen button after the decision');

    // Keyboard to the reopen button, Enter: the preferences open with focus inside.
    const opener = await tabTo(page, (f) => f.inBanner && f.action === 'prefs', 'the reopen button');
    await page.keyboard.press('Enter');
    assert.ok(await dialogOpen(page), 'Enter on the reopen button did not open the preferences');
    const inside = await focused(page);
    assert.ok(inside?.inDialog, `focus is not inside the preferences dialog: ${inside?.desc}`);
    // The focus trap: Tab many times, focus never reaches the page behind the modal dialog.
    // (A native modal <dialog> lets Tab pass to the browser's own UI after its last control,
    // which the page sees as nothing focused; the next Tab must come back into the dialog.)
    let outside = 0;
    for (let i = 0; i < 20; i++) {
      await page.keyboard.press('Tab');
      const f = await focused(page);
      if (!f) { outside++; continue; }
      assert.ok(f.inDialog, `Tab #${i + 1} reached the page behind the modal dialog: ${f.desc}`);
    }
    assert.ok(outside <= 4, `focus was outside the dialog for ${outside} of 20 Tabs`);
    assert.ok((await focused(page))?.inDialog || (await page.keyboard.press('Tab'), (await focused(page))?.inDialog),
      'focus did not come back into the dialog');
    await page.keyboard.press('Escape');
    assert.ok(!(await dialogOpen(page)), 'Escape did not close the preferences');
    const back = await focused(page);
    assert.equal(back?.desc, opener.desc, 'focus did not return to the reopen button');
    assert.equal((await storedReceipts(page)).length, 1, 'closing with Escape recorded a decision');
  }));

test('the page\'s data-consentry="preferences" link opens the preferences; Escape returns focus to it', T, () =>
  withBrowser({}, async (b) => {
    await open(b, '/');
    const link = b.page.locator('a[data-consentry="preferences"]');
    await link.focus();
    await b.page.keyboard.press('Enter');
    assert.ok(await dialogOpen(b.page), 'the page link did not open the preferences');
    assert.ok((await focused(b.page))?.inDialog, 'focus is not inside the dialog');
    await b.page.keyboard.press('Escape');
    assert.ok(!(await dialogOpen(b.page)));
    assert.equal(await b.page.evaluate(() => document.activeElement?.getAttribute('data-consentry')), 'preferences', 'focus did not return to the page link');
  }));

/// Geometry and computed style of a button in the shadow root.
const look = (loc) => loc.evaluate((e) => {
  const s = getComputedStyle(e);
  const r = e.getBoundingClientRect();
  return {
    box: { w: Math.round(r.width * 10) / 10, h: Math.round(r.height * 10) / 10 },
    top: Math.round(r.top),
    style: ['color', 'backgroundColor', 'borderTopColor', 'borderTopWidth', 'fontSize', 'fontWeight', 'fontFamily', 'textDecorationLine', 'borderRadius', 'boxShadow', 'outlineStyle']
      .map((k) => `${k}: ${s[k]}`),
  };
});

for (const colorScheme of ['light', 'dark']) {
  test(`Accept and Reject: equal size, same colours, side by side (${colorScheme}; first layer and preferences)`, T, () =>
    withBrowser({ colorScheme }, async (b) => {
      await open(b, '/');
      for (const layer of ['section', 'dialog']) {
        if (layer === 'dialog') {
          await b.page.evaluate(() => window.Consentry.showPreferences());
          await settle(b.page);
        }
        const a = await look(banner(b.page, `${layer} button[data-a=accept]`));
        const r = await look(banner(b.page, `${layer} button[data-a=reject]`));
        assert.deepEqual(a.box, r.box, `${layer}: Accept ${JSON.stringify(a.box)} and Reject ${JSON.stringify(r.box)} differ in size`);
        assert.deepEqual(a.style, r.style, `${layer}: Accept and Reject are styled differently`);
        assert.equal(a.top, r.top, `${layer}: Accept and Reject are not side by side`);
      }
    }));

  test(`axe-core: zero violations on the first layer, the preferences and the reopen button (${colorScheme})`, T, () =>
    withBrowser({ colorScheme }, async (b) => {
      await open(b, '/');
      await banner(b.page, 'button[data-a=accept]').waitFor({ state: 'visible' });
      await assertNoAxe(b.page, `${colorScheme}, first layer`);
      await banner(b.page, 'section button[data-a=prefs]').first().click();
      assert.ok(await dialogOpen(b.page), 'Customise did not open the preferences');
      await assertNoAxe(b.page, `${colorScheme}, preferences`);
      await banner(b.page, 'dialog button[data-a=reject]').click();
      await banner(b.page, 'button.o2').waitFor({ state: 'visible', timeout: 3000 });
      await assertNoAxe(b.page, `${colorScheme}, reopen button`);
    }));
}

test('GPC on and every purpose covered: no question, the "signal honoured" note, refusal recorded as gpc', T, () =>
  withBrowser({ gpc: true }, async (b) => {
    await open(b, '/test/banner-gpc.html');
    const first = banner(b.page);
    await assert.doesNotReject(first.waitFor({ state: 'visible', timeout: 3000 }), 'no notice shown: the visitor is not told the signal was honoured');
    assert.equal(await banner(b.page, 'section button[data-a=accept]').count(), 0, 'GPC on: the banner still asks (Accept all)');
    assert.equal(await banner(b.page, 'section button[data-a=reject]').count(), 0, 'GPC on: the banner still asks (Reject all)');
    const note = banner(b.page, 'section .n');
    assert.ok(await note.isVisible(), 'no visible "signal honoured" note');
    const text = (await note.innerText()).trim();
    assert.match(text, /signal|GPC|Global Privacy Control/i, `the note does not mention the signal: ${text}`);
    const c = await b.page.evaluate(() => window.Consentry.getConsent());
    assert.equal(c.analytics, false);
    assert.equal(c.marketing, false);
    const receipts = await storedReceipts(b.page);
    assert.equal(receipts?.length, 1, 'the GPC refusal was not recorded');
    assert.equal(receipts[0].method, 'gpc');
    assert.equal(receipts[0].gpc, true);
    await assertNoAxe(b.page, 'GPC notice');
    // The notice closes, and the next page does not show it again.
    await banner(b.page, 'section button').first().click();
    assert.equal(await firstLayerCount(b.page), 0, 'the notice did not close');
    await b.page.reload();
    await b.page.waitForFunction(() => typeof window.Consentry === 'object');
    assert.equal(await firstLayerCount(b.page), 0, 'the notice came back on the next page');
  }));

test('GPC on with a purpose GPC does not cover: the note is shown, covered purposes stay refused, Accept all does not grant them', T, () =>
  withBrowser({ gpc: true }, async (b) => {
    await open(b, '/');
    assert.ok(await banner(b.page, 'section .n').isVisible(), 'no visible "signal honoured" note on the first layer');
    let c = await b.page.evaluate(() => window.Consentry.getConsent());
    assert.deepEqual([c.analytics, c.marketing], [false, false], 'GPC-covered purposes not refused at load');
    await b.page.evaluate(() => window.Consentry.showPreferences());
    for (const p of ['analytics', 'marketing']) {
      assert.equal(await banner(b.page, `dialog input[data-p=${p}]`).isChecked(), false, `${p} switch is on under GPC`);
    }
    await b.page.keyboard.press('Escape');
    await banner(b.page, 'section button[data-a=accept]').click();
    c = await b.page.evaluate(() => window.Consentry.getConsent());
    assert.equal(c.functional, true, 'Accept all did not grant the purpose it asked about');
    assert.deepEqual({ analytics: c.analytics, marketing: c.marketing }, { analytics: false, marketing: false },
      'the first layer said the GPC signal was honoured, then its "Accept all" granted GPC-covered purposes');
  }));

test('policy version bump: a decision under v1 is asked again under v2', T, () =>
  withBrowser({}, async (b) => {
    await open(b, '/test/banner-v1.html');
    assert.equal(await firstLayerCount(b.page), 1);
    await banner(b.page, 'section button[data-a=accept]').click();
    await b.page.reload();
    await b.page.waitForFunction(() => typeof window.Consentry === 'object');
    assert.equal(await firstLayerCount(b.page), 0, 'v1 asked again without a change');
    assert.equal((await b.page.evaluate(() => window.Consentry.getConsent())).analytics, true);
    await open(b, '/test/banner-v2.html');
    assert.equal(await firstLayerCount(b.page), 1, 'the banner did not come back after the policy version changed');
    const c = await b.page.evaluate(() => window.Consentry.getConsent());
    assert.equal(c.analytics, false, 'a consent given under v1 still applies under v2');
    const receipts = await storedReceipts(b.page);
    assert.deepEqual(receipts.map((r) => [r.policy, r.method]), [['v1', 'accept_all'], ['v2', 'policy_changed']]);
  }));

test('320 px wide: the banner and the preferences fit, every control is reachable and at least 24×24 px', T, () =>
  withBrowser({ viewport: { width: 320, height: 640 } }, async (b) => {
    await open(b, '/');
    const check = async (layer) => {
      const out = await banner(b.page, layer).evaluate((el) => {
        const vw = document.documentElement.clientWidth;
        const r = el.getBoundingClientRect();
        const controls = [...el.querySelectorAll('button, a[href], input, summary')].map((c) => {
          const b = c.getBoundingClientRect();
          return { what: `${c.tagName.toLowerCase()}[${c.getAttribute('data-a') || c.getAttribute('data-p') || ''}] ${(c.textContent || '').trim().slice(0, 30)}`,
            w: b.width, h: b.height, left: b.left, right: b.right, clipped: c.scrollWidth > c.clientWidth + 1 };
        });
        return { vw, left: r.left, right: r.right, controls };
      });
      assert.ok(out.left >= 0 && out.right <= out.vw + 0.5, `${layer} overflows the 320 px viewport: ${out.left}..${out.right} of ${out.vw}`);
      for (const c of out.controls) {
        if (c.w === 0 && c.h === 0) continue; // inside a closed <details>
        assert.ok(c.w >= 24 && c.h >= 24 || c.what.startsWith('a['), `${layer}: ${c.what} is ${c.w}×${c.h} px (< 24)`);
        assert.ok(c.left >= 0 && c.right <= out.vw + 0.5, `${layer}: ${c.what} sticks out of the viewport (${c.left}..${c.right})`);
        assert.ok(!c.clipped, `${layer}: the text of ${c.what} is clipped`);
      }
    };
    await check('section');
    await banner(b.page, 'section button[data-a=prefs]').first().click();
    await check('dialog');
    const save = banner(b.page, 'dialog button[data-a=save]');
    await save.scrollIntoViewIfNeeded();
    await banner(b.page, 'dialog input[data-p=analytics]').click();
    await save.click();
    const receipts = await storedReceipts(b.page);
    assert.equal(receipts?.at(-1)?.choices?.analytics, true, 'saving at 320 px did not store the switch');
  }));

test('two script tags: one banner, one API', T, () =>
  withBrowser({}, async (b) => {
    await open(b, '/test/banner-twice.html');
    await b.page.waitForLoadState('networkidle');
    await b.page.waitForTimeout(500);
    const n = await b.page.evaluate(() => ({
      hosts: document.querySelectorAll('#consentry').length,
      sections: document.querySelector('#consentry')?.shadowRoot.querySelectorAll('section').length,
    }));
    assert.deepEqual(n, { hosts: 1, sections: 1 });
    await banner(b.page, 'section button[data-a=reject]').click();
    assert.equal((await storedReceipts(b.page)).length, 1, 'one click recorded more than one receipt');
  }));

test('host page styles do not reach the banner; config texts are inserted as text, never HTML', T, async () => {
  const styleOf = async (path) => withBrowser({}, async (b) => {
    await open(b, path);
    const out = {};
    for (const sel of ['section', 'section h2', 'section p', 'section button[data-a=accept]', 'section button[data-a=prefs]']) {
      out[sel] = await banner(b.page, sel).first().evaluate((e) => {
        const s = getComputedStyle(e);
        const r = e.getBoundingClientRect();
        return { font: s.fontFamily, color: s.color, bg: s.backgroundColor, border: s.borderTopStyle, spacing: s.letterSpacing,
          display: s.display, margin: s.marginTop, w: Math.round(r.width), h: Math.round(r.height) };
      });
    }
    return out;
  });
  const plain = await styleOf('/test/banner-plain.html');
  let overflow = 0;
  await withBrowser({}, async (b) => {
    await open(b, '/test/banner-hostile.html');
    await b.page.waitForTimeout(300);
    const shadow = await b.page.evaluate(() => {
      const r = document.querySelector('#consentry').shadowRoot;
      return {
        pwned: window.__pwned ?? null,
        injected: r.querySelectorAll('img, script, b, i, a[href^="javascript"]').length,
        title: r.querySelector('section h2').textContent,
        body: r.querySelector('section p').textContent,
      };
    });
    assert.equal(shadow.pwned, null, 'a config text ran as script');
    assert.equal(shadow.injected, 0, 'a config text became elements in the banner');
    assert.equal(shadow.title, '<img src=x onerror="window.__pwned=1">Cookies?'.replace('1', '2'), 'the title is not the literal config text');
    assert.ok(shadow.body.includes('<script>window.__pwned=3</script>'), `the body is not the literal config text: ${shadow.body}`);
    await b.page.evaluate(() => window.Consentry.showPreferences());
    const prefs = await banner(b.page, 'dialog').evaluate((d) => ({ html: d.querySelectorAll('img, b, i').length, text: d.textContent }));
    assert.equal(prefs.html, 0, 'a purpose title or description became elements');
    overflow = await banner(b.page, 'section').evaluate((e) => e.scrollWidth - e.clientWidth);
    assert.ok(prefs.text.includes('<b>bold</b> & <i>it</i>'), 'the purpose description is not shown literally');
    await b.page.keyboard.press('Escape');
  });
  const hostile = await styleOf('/test/banner-hostile.html');
  // The title text differs between the two pages; compare only what the site's styles could change.
  for (const sel of Object.keys(plain)) {
    const { w: _w1, h: _h1, ...p } = plain[sel];
    const { w: _w2, h: _h2, ...h } = hostile[sel];
    assert.deepEqual(h, p, `the host page's styles changed ${sel} inside the shadow root`);
  }
  for (const sel of ['section button[data-a=accept]', 'section button[data-a=prefs]']) {
    assert.deepEqual({ w: hostile[sel].w, h: hostile[sel].h }, { w: plain[sel].w, h: plain[sel].h }, `${sel} has another size on the hostile page`);
  }
  assert.ok(overflow <= 1, `long unbroken config text overflows the first layer sideways by ${overflow} px (needs overflow-wrap)`);
});

test('no layout shift of the host page; prefers-reduced-motion turns the entry animation off', T, async () => {
  await withBrowser({ reducedMotion: 'reduce' }, async (b) => {
    await open(b, '/');
    const r = await b.page.evaluate(() => {
      const host = document.querySelector('#consentry');
      const main = document.querySelector('main');
      const withHost = main.getBoundingClientRect().top;
      const hostBox = host.getBoundingClientRect();
      host.style.display = 'none';
      const withoutHost = main.getBoundingClientRect().top;
      host.style.display = '';
      const section = host.shadowRoot.querySelector('section');
      const s = getComputedStyle(section);
      return { withHost, withoutHost, hostHeight: hostBox.height, animation: s.animationName, position: s.position };
    });
    assert.equal(r.withHost, r.withoutHost, 'the banner host moves the page content');
    assert.equal(r.hostHeight, 0, 'the #consentry host takes space in the page flow');
    assert.equal(r.position, 'fixed', 'the first layer is not an overlay');
    assert.equal(r.animation, 'none', 'the entry animation runs although the visitor asked for reduced motion');
  });
});

test('200 % zoom (640×400 CSS px) and 200 % root text size: every control of both layers can be reached and used', T, () =>
  withBrowser({ viewport: { width: 640, height: 400 } }, async (b) => {
    await open(b, '/');
    await b.page.addStyleTag({ content: 'html{font-size:200% !important}' });
    for (const action of ['accept', 'reject', 'prefs']) {
      const btn = banner(b.page, `section button[data-a=${action}]`).first();
      await btn.scrollIntoViewIfNeeded();
      const box = await btn.boundingBox();
      assert.ok(box && box.y >= 0 && box.y + box.height <= 400.5 && box.x >= 0 && box.x + box.width <= 640.5,
        `section button[data-a=${action}] cannot be brought into the 640×400 viewport: ${JSON.stringify(box)}`);
    }
    await banner(b.page, 'section button[data-a=prefs]').first().click();
    for (const sel of ['input[data-p=analytics]', 'button[data-a=save]', 'button[data-a=close]']) {
      const el = banner(b.page, `dialog ${sel}`);
      await el.scrollIntoViewIfNeeded();
      const box = await el.boundingBox();
      assert.ok(box && box.y >= 0 && box.y + box.height <= 400.5, `dialog ${sel} cannot be brought into view: ${JSON.stringify(box)}`);
    }
    await banner(b.page, 'dialog input[data-p=analytics]').click();
    await banner(b.page, 'dialog button[data-a=save]').click();
    assert.equal((await storedReceipts(b.page))?.at(-1)?.choices?.analytics, true, 'saving at 200 % did not store the switch');
  }));

test('bar layout: a full-width bottom bar, equal Accept/Reject, reopen button bottom right, axe clean', T, () =>
  withBrowser({}, async (b) => {
    await open(b, '/test/banner-bar.html');
    const bar = await banner(b.page).boundingBox();
    assert.ok(bar.width >= 1279 && Math.abs(bar.y + bar.height - 800) <= 1, `not a bottom bar: ${JSON.stringify(bar)}`);
    const a = await look(banner(b.page, 'section button[data-a=accept]'));
    const r = await look(banner(b.page, 'section button[data-a=reject]'));
    assert.deepEqual(a.box, r.box, 'Accept and Reject differ in size in the bar');
    assert.deepEqual(a.style, r.style, 'Accept and Reject differ in style in the bar');
    await assertNoAxe(b.page, 'bar layout');
    await banner(b.page, 'section button[data-a=reject]').click();
    const reopen = await banner(b.page, 'button.o2').boundingBox();
    assert.ok(reopen && reopen.x + reopen.width > 1280 - 40, `the reopen button is not bottom right: ${JSON.stringify(reopen)}`);
    await assertNoAxe(b.page, 'bar layout, reopen button');
  }));

test('strict CSP page /csp.html: served with the header, the banner works, no CSP violation', T, () =>
  withBrowser({}, async (b) => {
    await b.context.addInitScript(() => {
      window.__cspViolations = [];
      document.addEventListener('securitypolicyviolation', (e) => window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`));
    });
    const r = await b.page.goto(at('/csp.html'));
    assert.equal(r.status(), 200, '/csp.html is missing (www/csp.html)');
    const csp = r.headers()['content-security-policy'] || '';
    assert.match(csp, /script-src 'self' 'wasm-unsafe-eval'/, `no strict CSP header on /csp.html: ${csp}`);
    assert.match(csp, /style-src 'self'/);
    await b.page.waitForFunction(() => typeof window.Consentry === 'object', null, { timeout: 15_000 }).catch(() => {});
    const v = await b.page.evaluate(() => window.__cspViolations);
    assert.deepEqual(v, [], 'CSP violations');
    const accept = banner(b.page, 'section button[data-a=accept]');
    await assert.doesNotReject(accept.waitFor({ state: 'visible', timeout: 5000 }), `no banner under the CSP; console: ${JSON.stringify(b.console)}`);
    // The constructed stylesheet applied (a button without styles would be transparent).
    const bg = await accept.evaluate((e) => getComputedStyle(e).backgroundColor);
    assert.notEqual(bg, 'rgba(0, 0, 0, 0)', 'the banner is unstyled under the CSP');
    await accept.click();
    assert.equal((await storedReceipts(b.page))?.length, 1, 'Accept all stored nothing under the CSP');
  }));

test('screenshots: desktop, 320 px, dark, RTL, German; first layer and preferences', T, async () => {
  const dirs = [join(ROOT, 'target/screenshots')];
  if (process.env.CONSENTRY_SCREENSHOTS === 'www') dirs.push(join(ROOT, 'www/screenshots'));
  for (const d of dirs) mkdirSync(d, { recursive: true });
  const shots = [
    ['desktop', '/', { viewport: { width: 1280, height: 800 } }],
    ['mobile-320', '/', { viewport: { width: 320, height: 640 } }],
    ['dark', '/', { viewport: { width: 1280, height: 800 }, colorScheme: 'dark' }],
    ['rtl', '/test/banner-rtl.html', { viewport: { width: 1280, height: 800 } }],
    ['de', '/test/banner-de.html', { viewport: { width: 1280, height: 800 }, locale: 'de-DE' }],
    ['bar', '/test/banner-bar.html', { viewport: { width: 1280, height: 800 } }],
  ];
  for (const [name, path, opts] of shots) {
    await withBrowser({ ...opts, reducedMotion: 'reduce' }, async (b) => {
      await open(b, path);
      await banner(b.page, 'section button[data-a=reject]').waitFor({ state: 'visible' });
      for (const d of dirs) await b.page.screenshot({ path: join(d, `${name}-first-layer.png`) });
      await b.page.evaluate(() => window.Consentry.showPreferences());
      assert.ok(await dialogOpen(b.page));
      for (const d of dirs) await b.page.screenshot({ path: join(d, `${name}-preferences.png`) });
      if (name === 'de') {
        const t = await banner(b.page, 'dialog button[data-a=save]').innerText();
        assert.notEqual(t.trim(), 'Save choices', 'the German page shows English texts');
      }
      if (name === 'rtl') {
        const dir = await banner(b.page, 'dialog').evaluate((e) => getComputedStyle(e).direction);
        assert.equal(dir, 'rtl', 'the banner is not laid out right to left on a dir="rtl" page');
      }
    });
  }
});
