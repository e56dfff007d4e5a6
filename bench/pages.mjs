// The contenders of the benchmark: one small article page each, set up the way each project's
// quick start says, with a "necessary" and an "analytics" category where the project has them.
//
// Owns: the page HTML, each contender's set-up file, which files it ships and how its banner is
// found. Must never hold measuring code (that is run.mjs) nor change a peer's own files.

const ARTICLE = `
<header><h1>The Quiet Harbour</h1><p class="by">A short story, 4 min read</p></header>
<main>
<p>The ferry left at seven, as it had every morning for forty years. Mara counted the gulls on the
rail and the crates on the deck, and then, because there was nothing else to count, the minutes
until the lighthouse would slide past the starboard window.</p>
<p>Her grandmother had kept the lighthouse until the lamp was automated. She used to say that the
light did not care who tended it, only that someone did. Mara had never understood that until the
winter the keeper's cottage was sold and the new owners painted the door a colour nobody liked.</p>
<h2>The harbour</h2>
<p>The harbour itself was small: two piers, a fish market that opened before dawn, a café with
four tables and a bookshop that sold mostly maps. In summer the boats came in from the islands
loaded with tourists; in winter they came in loaded with nothing but weather.</p>
<p>She walked from the pier to the café, ordered the same coffee she always ordered, and opened
the notebook where she wrote down the names of the boats. It was a habit with no purpose, which
her grandmother would have said was the best kind.</p>
<p><a href="/privacy">Privacy policy</a></p>
</main>
<footer><p>&copy; 2026 The Quiet Harbour</p></footer>`;

const STYLE = `<style>body{font:17px/1.6 Georgia,serif;max-width:40rem;margin:2rem auto;padding:0 1rem;color:#222}
h1{font-size:2rem;margin:0}.by{color:#666;margin-top:.2rem}footer{color:#666;margin-top:3rem}</style>`;

export function page(title, head, body) {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<link rel="icon" href="data:,">
<title>${title}</title>
${STYLE}
${head}
</head><body>
${ARTICLE}
${body}
</body></html>
`;
}

const TEXT = {
  title: 'We use cookies',
  description: 'We use necessary cookies to make this site work and, with your consent, analytics to understand how it is read.',
  accept: 'Accept all',
  reject: 'Reject all',
  prefs: 'Manage preferences',
  save: 'Save preferences',
  necessary: 'Strictly necessary',
  necessaryDesc: 'Needed for the site to work. Always on.',
  analytics: 'Analytics',
  analyticsDesc: 'Counts visits and reads, to improve the articles.',
};

// vanilla-cookieconsent 3: CSS link in <head>, a module script that imports the UMD build and calls run().
// hideFromBots is turned off: by default it hides the banner when navigator.webdriver is true, which
// it is in any automated browser, and a real visitor's browser is not.
const vanillaSetup = `import '/nm/vanilla-cookieconsent/dist/cookieconsent.umd.js';
CookieConsent.run({
  hideFromBots: false,
  categories: {
    necessary: { enabled: true, readOnly: true },
    analytics: {}
  },
  language: {
    default: 'en',
    translations: {
      en: {
        consentModal: {
          title: ${JSON.stringify(TEXT.title)},
          description: ${JSON.stringify(TEXT.description)},
          acceptAllBtn: ${JSON.stringify(TEXT.accept)},
          acceptNecessaryBtn: ${JSON.stringify(TEXT.reject)},
          showPreferencesBtn: ${JSON.stringify(TEXT.prefs)}
        },
        preferencesModal: {
          title: ${JSON.stringify(TEXT.prefs)},
          acceptAllBtn: ${JSON.stringify(TEXT.accept)},
          acceptNecessaryBtn: ${JSON.stringify(TEXT.reject)},
          savePreferencesBtn: ${JSON.stringify(TEXT.save)},
          closeIconLabel: 'Close',
          sections: [
            { title: ${JSON.stringify(TEXT.necessary)}, description: ${JSON.stringify(TEXT.necessaryDesc)}, linkedCategory: 'necessary' },
            { title: ${JSON.stringify(TEXT.analytics)}, description: ${JSON.stringify(TEXT.analyticsDesc)}, linkedCategory: 'analytics' }
          ]
        }
      }
    }
  }
});
`;

// Klaro: a config script defining klaroConfig, then klaro.js, both deferred in <head>.
const klaroSetup = `var klaroConfig = {
  version: 1,
  elementID: 'klaro',
  storageMethod: 'cookie',
  cookieName: 'klaro',
  default: false,
  mustConsent: false,
  acceptAll: true,
  hideDeclineAll: false,
  lang: 'en',
  translations: {
    en: {
      privacyPolicyUrl: '/privacy',
      consentNotice: { description: ${JSON.stringify(TEXT.description)} },
      purposes: { necessary: ${JSON.stringify(TEXT.necessary)}, analytics: ${JSON.stringify(TEXT.analytics)} }
    }
  },
  services: [
    { name: 'session', title: 'Session', purposes: ['necessary'], required: true },
    { name: 'analytics', title: 'Web analytics', purposes: ['analytics'], cookies: [/^_pk_/] }
  ]
};
`;

// Osano cookieconsent 3: CSS and script in <head>, initialise() on window load, opt-in type.
const osanoSetup = `window.addEventListener('load', function () {
  window.cookieconsent.initialise({
    type: 'opt-in',
    palette: { popup: { background: '#1d1d1f' }, button: { background: '#3b82f6' } },
    content: {
      header: ${JSON.stringify(TEXT.title)},
      message: ${JSON.stringify(TEXT.description)},
      allow: ${JSON.stringify(TEXT.accept)},
      deny: ${JSON.stringify(TEXT.reject)},
      link: 'Privacy policy',
      href: '/privacy'
    }
  });
});
`;

// posthog-js: the queue-then-load pattern of its web snippet (array.js loaded async from the
// api host's /static/), capturing opted out until the visitor consents.
const posthogSetup = `(function () {
  var ph = window.posthog = window.posthog || [];
  ph._i = ph._i || [];
  ph._i.push(['phc_bench', {
    api_host: location.origin + '/ph',
    person_profiles: 'identified_only',
    opt_out_capturing_by_default: true
  }, undefined]);
  ph.__SV = 1;
  var s = document.createElement('script');
  s.async = true;
  s.crossOrigin = 'anonymous';
  s.src = location.origin + '/ph/static/array.js';
  document.head.appendChild(s);
})();
`;

export const consentryConfig = (tracker) => JSON.stringify({
  policyVersion: '2026-11',
  privacyPolicyUrl: '/privacy',
  purposes: [{ id: 'analytics' }],
  tracker: Object.assign({ apiKey: 'phc_bench', path: '/batch/' }, tracker || {}),
}, null, 2) + '\n';

// name, label, page head/body, generated files (path -> text), library files (path -> node_modules
// path), the files the site itself ships (for the byte count and to tell them from other requests),
// and the banner's selector (null: no banner).
export const CONTENDERS = [
  {
    name: 'consentry',
    label: 'Consentry',
    head: '<script src="/pkg/cdn/consentry.js" data-config="/c/consentry/consent.json" defer></script>',
    body: '',
    files: { '/c/consentry/consent.json': consentryConfig() },
    own: ['/pkg/cdn/consentry.js', '/pkg/cdn/consentry_bg.wasm', '/c/consentry/consent.json'],
    // The banner lives in an open shadow root on #consentry.
    banner: "(document.getElementById('consentry')?.shadowRoot?.querySelector('section'))",
  },
  {
    name: 'vanilla',
    label: 'vanilla-cookieconsent 3.1.0',
    head: '<link rel="stylesheet" href="/nm/vanilla-cookieconsent/dist/cookieconsent.css">',
    body: '<script type="module" src="/c/vanilla/setup.js"></script>',
    files: { '/c/vanilla/setup.js': vanillaSetup },
    own: ['/nm/vanilla-cookieconsent/dist/cookieconsent.css', '/c/vanilla/setup.js', '/nm/vanilla-cookieconsent/dist/cookieconsent.umd.js'],
    banner: "document.querySelector('#cc-main .cm')",
  },
  {
    name: 'klaro',
    label: 'Klaro 0.7.22',
    head: '<script defer src="/c/klaro/config.js"></script>\n<script defer data-config="klaroConfig" src="/nm/klaro/dist/klaro.js"></script>',
    body: '',
    files: { '/c/klaro/config.js': klaroSetup },
    own: ['/c/klaro/config.js', '/nm/klaro/dist/klaro.js'],
    banner: "document.querySelector('#klaro .cookie-notice, #klaro .cookie-modal')",
  },
  {
    name: 'osano',
    label: 'Osano cookieconsent 3.1.1',
    head: '<link rel="stylesheet" href="/nm/cookieconsent/build/cookieconsent.min.css">\n<script src="/nm/cookieconsent/build/cookieconsent.min.js" data-cfasync="false"></script>\n<script src="/c/osano/setup.js"></script>',
    body: '',
    files: { '/c/osano/setup.js': osanoSetup },
    own: ['/nm/cookieconsent/build/cookieconsent.min.css', '/nm/cookieconsent/build/cookieconsent.min.js', '/c/osano/setup.js'],
    banner: "document.querySelector('.cc-window')",
  },
  {
    name: 'posthog',
    label: 'posthog-js 1.449.2',
    head: '<script src="/c/posthog/setup.js"></script>',
    body: '',
    files: { '/c/posthog/setup.js': posthogSetup },
    own: ['/c/posthog/setup.js', '/ph/static/array.js'],
    banner: null,
  },
];

// Other ways to put Consentry on a page, measured only with `--variants` (not in the main table):
// the .wasm fetch started by a preload hint while the script loads, and the config inline (no fetch).
const CONSENTRY_BANNER = "(document.getElementById('consentry')?.shadowRoot?.querySelector('section'))";
const inlineConfig = '<script type="application/json" id="consentry-config">' + consentryConfig() + '</script>';
export const VARIANTS = [
  {
    name: 'consentry-preload',
    label: 'Consentry, preload + inline config',
    head: '<link rel="preload" href="/pkg/cdn/consentry_bg.wasm" as="fetch" crossorigin>\n' + inlineConfig + '\n<script src="/pkg/cdn/consentry.js" defer></script>',
    body: '',
    files: {},
    own: ['/pkg/cdn/consentry.js', '/pkg/cdn/consentry_bg.wasm'],
    banner: CONSENTRY_BANNER,
  },
  {
    name: 'consentry-async',
    label: 'Consentry, async + inline config',
    head: inlineConfig + '\n<script src="/pkg/cdn/consentry.js" async></script>',
    body: '',
    files: {},
    own: ['/pkg/cdn/consentry.js', '/pkg/cdn/consentry_bg.wasm'],
    banner: CONSENTRY_BANNER,
  },
];

// The same page with nothing on it: the harness's own cost and the page's DOMContentLoaded.
export const BASELINE = { name: 'none', label: 'page alone', head: '', body: '', files: {}, own: [], banner: null };
