// A strict TypeScript consumer of the npm package: init, every API method, the global and the
// document events, with the types a site developer relies on. tests/e2e/types.test.mjs compiles
// it with `tsc --noEmit --strict` against the installed package (its index.d.ts, wasm-bindgen's
// consentry.d.ts and lang/<code>.d.ts). Each line after a ts-expect-error comment is a mistake the
// types must catch: if it compiles, tsc reports the unused directive and the test fails.
import { init } from 'consentry';
import type { ChangeDetail, ConsentState, ConsentryConfig, InitOptions, LanguageTable, Method, Receipt, VerifyResult } from 'consentry';
import de from 'consentry/lang/de.js';

/** Compiles only when A and B are the same type. */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function same<A, B>(_proof: Equal<A, B>): void {}

const config: ConsentryConfig = {
  policyVersion: '2026-11',
  privacyPolicyUrl: '/privacy.html',
  language: 'de',
  layout: 'bar',
  reopenButton: 'bottom-right',
  purposes: [
    { id: 'analytics', services: [{ name: 'cs_id', provider: 'this site', purpose: 'visit statistics', lifetime: '13 months', cookies: ['_ga', '/^_ga_/'], storage: ['_demo_last_visit', 'ph_*'] }] },
    { id: 'marketing', gpc: true },
    { id: 'functional', title: 'Extras', description: 'Embedded videos' },
  ],
  ccpa: true,
  honorGpc: true,
  consentDays: 365,
  refusalDays: 182,
  texts: { de: { acceptAll: 'Alle annehmen' }, '*': { 'purpose.analytics.title': 'Statistics' } },
  evidenceEndpoint: '/consentry/receipts',
  tracker: { apiKey: 'phc_demo', apiHost: 'https://example.org', path: '/batch/', purpose: 'analytics', pageviews: true, pageleave: true, allowParams: ['utm_*'], batchSize: 10, flushInterval: 5000, maxQueue: 100, cookieDomain: 'example.org', cookieDays: 395, geoip: false, rawUserAgent: false },
  consentMode: true,
  reloadOnWithdraw: true,
};

// @ts-expect-error policyVersion is required
const noVersion: ConsentryConfig = { purposes: [] };
// @ts-expect-error layout is "box" or "bar"
const badLayout: ConsentryConfig = { policyVersion: '1', purposes: [], layout: 'modal' };
// @ts-expect-error not a text name
const badText: ConsentryConfig = { policyVersion: '1', purposes: [], texts: { de: { acceptEverything: 'x' } } };
// @ts-expect-error cookies are a list of names
const badCookies: ConsentryConfig = { policyVersion: '1', purposes: [{ id: 'a', services: [{ name: 'x', cookies: '_ga' }] }] };
void noVersion; void badLayout; void badText; void badCookies;

const table: LanguageTable = de;
const options: InitOptions = { wasm: '/assets/consentry_bg.wasm', langUrl: new URL('https://example.org/lang/'), texts: { de: table, fr: '{"lang":"fr"}' } };
// @ts-expect-error only the built-in languages have tables to hand over
const badOptions: InitOptions = { texts: { xx: table } };
void badOptions;

async function main(): Promise<void> {
  const consentry = await init(config, options);
  const again = await init(JSON.stringify(config));
  // @ts-expect-error init needs a config
  await init();

  consentry.showBanner();
  consentry.showPreferences();
  consentry.acceptAll();
  consentry.rejectAll();
  consentry.setConsent({ analytics: true, marketing: false });
  // @ts-expect-error choices are booleans
  consentry.setConsent({ analytics: 'yes' });

  const consent = consentry.getConsent();
  same<typeof consent, ConsentState>(true);
  const analytics: boolean | undefined = consent['analytics'];

  const off = consentry.on('change', (detail) => {
    same<typeof detail, ChangeDetail>(true);
    const method: Method = detail.method;
    const granted: boolean | undefined = detail.consent['analytics'];
    console.log(method, granted);
  });
  same<typeof off, () => void>(true);
  off();
  // @ts-expect-error the only event is "change"
  consentry.on('chnage', () => {});

  const receipts = consentry.evidence();
  same<typeof receipts, Receipt[]>(true);
  for (const r of receipts) {
    const fields: [string, number, string, Record<string, boolean>, Method, boolean, string] = [r.id, r.seq, r.time, r.choices, r.method, r.gpc, r.hash];
    console.log(fields, r.v === 2 ? r.key : undefined);
  }
  const exported: string = consentry.exportEvidence();
  const verified = consentry.verifyEvidence();
  same<typeof verified, VerifyResult>(true);
  if (!verified.ok) console.log(verified.brokenAt, verified.reason);

  consentry.capture('signup', { plan: 'pro', seats: 3 });
  consentry.capture('pageview');
  // @ts-expect-error an event has a name
  consentry.capture(42);

  // The script-tag build's global and its events.
  const global = window.Consentry;
  same<typeof global, typeof consentry | undefined>(true);
  document.addEventListener('consentry:change', (e) => {
    same<typeof e.detail, ChangeDetail>(true);
  });
  document.addEventListener('consentry:ready', () => window.Consentry?.showBanner());
  console.log(again === consentry, analytics, exported.length);
}

void main();
