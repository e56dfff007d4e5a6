// Consentry's browser shell: renders, stores, sends and listens; the consent, evidence and config
// rules are in the .wasm (src/core, through src/web/exports.rs), which this file asks and obeys.
// What a tracker event says and the tracker cookie's text are written here (src/core/tracker.rs
// says why); the tracker's queue is in the .wasm.
//
// Why JavaScript: a DOM call made from Rust costs a JS glue function plus its marshalling code
// in the .wasm; this file does the same work in a fraction of the bytes every visitor loads.
// It must never apply a grant the core has not first recorded (the log text to store comes back
// with every decision), never set the tracker cookie or send an event while the tracker's
// purpose is refused, and never put config text into HTML (text only, `textContent`).
//
// `instantiate(source)` compiles the .wasm (streaming when served as application/wasm) from a URL,
// a fetch Response or its bytes, and resolves to its exports. `shell(x, config, table)` then
// starts Consentry on this page and returns the public API: `x` are those exports, `config` the
// config text, `table` the language file's text ('' for none). It throws an Error naming the
// field when the config is invalid (nothing happens then); `explain` adds the words.

// The .wasm's one import, `env.send`: a tracker beacon (set by the shell once started).
var sink = function () { return 0; };

function instantiate(source) {
  var imports = { env: { send: function (p, n) { return sink(p, n); } } };
  return Promise.resolve(typeof source == 'string' || source instanceof URL ? fetch(source) : source)
    .then(function (s) {
      if (!(s instanceof Response)) return WebAssembly.instantiate(s, imports);
      if (!s.ok) throw new Error('Consentry: could not load the .wasm (HTTP ' + s.status + ')');
      return /wasm/.test(s.headers.get('Content-Type')) ? WebAssembly.instantiateStreaming(s, imports)
        : s.arrayBuffer().then(function (b) { return WebAssembly.instantiate(b, imports); });
    })
    .then(function (r) { return (r.instance || r).exports; });
}

// The Error to report for a failed start: a config error from the module names the field and
// the problem's number (`Msg` in src/core/config.rs); its words are errors.json (`url`, next to
// the .wasm), fetched only now, so no visitor of a well-configured site loads them.
function explain(e, url) {
  var c = e && e.config;
  return !c ? Promise.resolve(e) : fetch(url).then(function (r) { return r.json(); }).then(function (m) { return m[c.code]; }, function () {})
    .then(function (m) {
      return new Error('Consentry config: ' + (c.field || '(document)') + ': ' +
        (m || 'problem ' + c.code + " (the words are in errors.json next to consentry_bg.wasm, which did not load; see the README's config reference)"));
    });
}

function shell(x, config, table) {
  var w = window, d = document, loc = location, nav = navigator;
  var KEY = 'consentry', QUARANTINE = KEY + ':quarantine';
  var CSS = '{{css}}';
  var enc = new TextEncoder(), dec = new TextDecoder();
  function mem() { return new Uint8Array(x.memory.buffer); }
  function text(at, n) { return dec.decode(mem().subarray(at, at + n)); }
  // Calls the export `f` (see src/web/abi.rs): its texts (strings, bytes or undefined for none)
  // go into the module's buffer, their lengths and then `nums` are the arguments. The text
  // answer, or undefined for none; `raw`: the number returned.
  function call(f, texts, nums, raw) {
    var n = 0, i, t, at, m, args = [];
    for (i = 0; i < texts.length; i++) if ((t = texts[i]) != null) n += t.length * (typeof t == 'string' ? 3 : 1);
    at = x.buf(n);
    m = mem();
    for (i = 0; i < texts.length; i++) {
      t = texts[i];
      if (t == null) n = -1;
      else if (typeof t == 'string') n = put(t, m, at);
      else m.set(t, at), n = t.length;
      args.push(n);
      if (n > 0) at += n;
    }
    for (i = 0; nums && i < nums.length; i++) args.push(nums[i]);
    var r = x[f].apply(null, args);
    return raw ? r : r < 0 ? undefined : text(x.out(), r);
  }
  // UTF-8 of `t` at m[at…], its byte length: encodeInto for a long text; for a short one a plain
  // loop while it is ASCII (most texts, and about 3 times cheaper than encodeInto's call below 40
  // characters), encodeInto from the first other character.
  function put(t, m, at) {
    if (t.length > 40) return enc.encodeInto(t, m.subarray(at)).written;
    for (var i = 0, c; i < t.length; i++) {
      if ((c = t.charCodeAt(i)) > 127) return i + enc.encodeInto(t.slice(i), m.subarray(at + i)).written;
      m[at + i] = c;
    }
    return i;
  }
  // A JSON value as the module reads documents (src/core/tape.rs): the browser parses JSON, so
  // the .wasm carries no JSON reader.
  function tape(v) {
    var buf = new Uint8Array(1024), at = 0;
    function room(n) {
      if (at + n > buf.length) { var b = new Uint8Array(2 * (at + n)); b.set(buf); buf = b; }
    }
    function len(n, i) { buf[i] = n; buf[i + 1] = n >> 8; buf[i + 2] = n >> 16; buf[i + 3] = n >> 24; }
    function str(tag, s) { // the bytes written straight into the tape, as `put` writes the module's
      room(5 + 3 * s.length);
      if (tag) buf[at++] = tag;
      var n = put(s, buf, at + 4);
      len(n, at);
      at += 4 + n;
    }
    function one(tag) { room(5); buf[at++] = tag; }
    function value(v) {
      var t = typeof v, k;
      if (t == 'string') str(115, v); // s
      else if (t == 'number' && isFinite(v)) str(100, String(v)); // d
      else if (t == 'boolean') one(v ? 116 : 102); // t, f
      else if (!v || t != 'object') one(110); // n
      else if (Array.isArray(v)) { one(97); len(v.length, at); at += 4; v.forEach(value); } // a
      else { // o
        k = Object.keys(v);
        one(111); len(k.length, at); at += 4;
        k.forEach(function (n) { str(0, n); value(v[n]); });
      }
    }
    value(v);
    return buf.subarray(0, at);
  }
  // A stored text as a document: none, a tape, or an empty tape when it is not JSON.
  function doc(text) {
    try { return text == null ? text : tape(JSON.parse(text)); } catch (e) { return new Uint8Array(0); }
  }
  try { config = tape(JSON.parse(config)); } catch (e) { throw new Error('Consentry config: not valid JSON: ' + e.message); }
  var langs = [d.documentElement.getAttribute('lang')].concat(nav.languages || []).join('\n');
  var started = JSON.parse(call('start', [config, doc(table || null), langs]));
  if (started.error) { // `explain` gives the words
    var e = new Error('Consentry config: ' + started.error.field);
    e.config = started.error;
    throw e;
  }
  if (started.warning) console.warn(started.warning);
  var view = started.view, t = view.t, tr = view.tracker;
  var gpc = nav.globalPrivacyControl === true;
  // The newest step from the core: what is granted (`consent`), whether GPC is honoured.
  var step = { consent: {} };
  var listeners = [];

  // ---- storage: the visitor's own record (strictly necessary), nothing else ----
  function store() { try { return w.localStorage; } catch (e) {} }
  function read(k) { try { var v = store().getItem(k); return v == null ? undefined : v; } catch (e) {} }
  function write(k, v) { try { store().setItem(k, v); return 1; } catch (e) {} }
  function remove(k) { try { store().removeItem(k); } catch (e) {} }
  function save(log) {
    if (!write(KEY, log)) console.error('Consentry: storage is blocked or full; this choice holds for this page only.');
  }
  function rnd(n) { return crypto.getRandomValues(new Uint8Array(n)); }
  // Now (or `ms`) as the receipts and events write time: UTC, like 2026-11-23T10:00:00.000Z. The
  // last one is kept: events captured in a burst share their millisecond.
  var isoAt, isoText;
  function iso(ms) {
    ms = ms || Date.now();
    if (ms != isoAt) isoText = new Date(isoAt = ms).toISOString();
    return isoText;
  }
  function jitter() { return new Uint32Array(rnd(4).buffer)[0]; }

  // ---- decisions: the core records, this applies ----
  function load(stored) {
    return call('load', [doc(stored), loc.origin, loc.pathname, rnd(32), iso()], [gpc]);
  }
  // kind: 0 the page's first load, 1 a reload of the stored log (another tab, a failed
  // verification), 2 a decision.
  function settle(answer, kind, stored) {
    var s = step = JSON.parse(answer);
    if (s.bad) {
      console.error('Consentry: the stored consent record failed verification (' + s.bad +
        "); it was kept aside in localStorage['consentry:quarantine'] and the visitor is asked again.");
      write(QUARANTINE, stored);
      remove(KEY);
    }
    if (s.save != null) save(s.save);
    gates();
    if (kind == 2) decided();
    else if (s.ask) showBanner(0);
    else if (s.note && !kind) showBanner(1); // GPC decided: say so, ask nothing
    else hideBanner();
    // A receipt left from an earlier page can wait until the page is idle; a new one goes now.
    if (kind) deliver();
    else (w.requestIdleCallback || setTimeout)(deliver);
    if (s.method) tell(s.method);
    else if (s.changed && kind == 1) tell('api');
  }
  function decide(choices, method) {
    settle(call('decide', [tape(choices || {}), method, doc(read(KEY)), loc.origin, loc.pathname, rnd(32), iso()]), 2);
  }
  function consent() { return Object.assign({}, step.consent); }
  function tell(method) {
    var detail = { consent: consent(), method: method };
    listeners.forEach(function (f) { try { f.call(null, detail); } catch (e) {} });
    d.dispatchEvent(new CustomEvent('consentry:change', { detail: detail }));
  }

  // ---- network: only to the config's own URLs ----
  function post(url, body, done, zipped) {
    fetch(url, {
      method: 'POST', credentials: 'same-origin', headers: { 'Content-Type': zipped ? 'text/plain' : 'application/json' },
      // keepalive lets the request outlive the page, within the browser's 64 KiB in-flight limit
      // (in bytes: a text of more than 20000 characters is measured)
      keepalive: (zipped || body.length <= 20000 ? body.length : enc.encode(body).length) <= 60000, body: body
    }).then(function (r) { done(r.status); }, function () { done(0); });
  }
  // A tracker batch, gzip-compressed where the browser can (about a tenth of the bytes):
  // `done(body, zipped)`. Compressing is asynchronous, so a hidden page (which may be unloading)
  // sends at once, uncompressed, like the page-hide beacons.
  function gzip(body, done) {
    if (!w.CompressionStream || d.visibilityState == 'hidden') return done(body);
    new Response(new Blob([body]).stream().pipeThrough(new CompressionStream('gzip'))).arrayBuffer()
      .then(function (b) { done(new Uint8Array(b), 1); }, function () { done(body); });
  }
  // The evidence outbox: every undelivered receipt in one body, acknowledged only by a 2xx.
  var sending, attempt = 0, waiting, refused;
  function outbox() {
    var o = call('outbox', []), i = o.indexOf('\n');
    return o && [+o.slice(0, i), o.slice(i + 1)];
  }
  function deliver() {
    var o = view.evidence && !sending && !waiting && !refused && outbox();
    if (!o) return;
    sending = 1;
    post(view.evidence, o[1], function (status) {
      sending = 0;
      if (status > 199 && status < 300) {
        attempt = 0;
        save(call('ack', [], [o[0]]));
        deliver(); // anything recorded meanwhile
      } else if (status > 399 && status < 500 && status != 408 && status != 429) {
        refused = 1; // kept, reported once, tried again on the next page
        console.error('Consentry: the evidence collector refused a receipt; it is kept in this browser.');
      } else {
        waiting = 1;
        setTimeout(function () { waiting = 0; deliver(); }, x.backoff(++attempt, jitter()));
      }
    });
  }
  function onHide() {
    if (d.visibilityState != 'hidden') return;
    // Not acknowledged (a beacon cannot tell): sent again next page; the collector dedupes.
    var o = view.evidence && !sending && outbox();
    if (o) nav.sendBeacon(view.evidence, o[1]);
    trackerHide();
  }

  // ---- gates: what runs on the page because of consent ----
  var busy, mode, told;
  function on(p) { return step.consent[p] === true; }
  function allowed(e) {
    var ids = (e.getAttribute('data-consentry') || '').split(' ').filter(Boolean);
    return ids.length > 0 && ids.every(on);
  }
  function gates() {
    var purpose = tr ? tr.purpose : 'analytics';
    // The tracker first, so a withdrawal stops it before anything else happens.
    if (tr) on(purpose) ? trackStart() : trackStop();
    if (view.consentMode) consentMode(on('analytics'), on('marketing'));
    posthog(on(purpose));
    d.querySelectorAll('iframe[data-consentry][data-consentry-src]').forEach(function (f) {
      var want = f.getAttribute('data-consentry-src'), has = f.getAttribute('src') == want;
      if (allowed(f) != has) f.setAttribute('src', has ? 'about:blank' : want);
    });
    if (!busy) { busy = 1; runScripts(); }
  }
  // The allowed `<script type="text/plain" data-consentry>` in document order, each once: a
  // clone as JavaScript replaces it; an external one without async is waited for (order kept).
  function runScripts() {
    for (;;) {
      var old = [].find.call(d.querySelectorAll('script[type="text/plain"][data-consentry]'), allowed);
      if (!old) break;
      var s = old.cloneNode(true), wait = old.hasAttribute('src') && !old.hasAttribute('async');
      s.setAttribute('type', 'text/javascript');
      if (wait) s.onload = s.onerror = runScripts;
      try {
        old.parentNode.replaceChild(s, old);
        if (wait) return;
      } catch (e) {
        old.setAttribute('type', 'text/consentry-skipped'); // detached meanwhile
      }
    }
    busy = 0;
  }
  // Google Consent Mode v2: the default (all denied) once, then an update on every change.
  function consentMode(analytics, ads) {
    var last = mode;
    mode = [analytics, ads];
    if (typeof w.gtag != 'function') {
      if (!Array.isArray(w.dataLayer)) w.dataLayer = [];
      w.gtag = function () { w.dataLayer.push(arguments); }; // as Google's snippet
    }
    if (!last) gtag('default', last = [false, false]);
    if (last[0] != analytics || last[1] != ads) gtag('update', mode);
  }
  function gtag(cmd, m) {
    function g(on) { return on ? 'granted' : 'denied'; }
    var p = { ad_storage: g(m[1]), ad_user_data: g(m[1]), ad_personalization: g(m[1]), analytics_storage: g(m[0]) };
    if (cmd == 'default') p.wait_for_update = 500;
    w.gtag('consent', cmd, p);
  }
  // posthog-js on the same page follows the tracker's purpose (told once per change).
  function posthog(v) {
    var p = w.posthog;
    if (!p || typeof p != 'object' || told === v) return;
    told = v;
    try {
      if (p[v ? 'has_opted_in_capturing' : 'has_opted_out_capturing']() !== true) p[v ? 'opt_in_capturing' : 'opt_out_capturing']();
    } catch (e) {}
  }

  // ---- the tracker: cookie, page views, batches; only while its purpose is granted ----
  // The core keeps the queue (bounds, batches, retries); what an event says is written here,
  // with the browser's own JSON, Date and URL handling (src/core/tracker.rs says why).
  var T, runs = 0, hooked;
  // Properties the tracker sets itself, and person-profile updates (events are anonymous): a
  // caller's properties with these names are left out.
  var RESERVED = /^(distinct_id|\$(lib|lib_version|current_url|host|pathname|referrer|(screen|viewport)_(width|height)|process_person_profile|consentry_subject|dropped|set|set_once))$/;
  function secure() { return loc.protocol == 'https:'; }
  // The tracker cookie's value, or null when there is none.
  function cookie() { var m = /(?:^|;)\s*cs_id\s*=([^;]*)/.exec(d.cookie); return m && m[1].trim(); }
  // The `document.cookie` text that sets the tracker cookie to `v` for its lifetime, or deletes
  // it (no `v`); host-only, or on `domain`.
  function crumb(v, domain) {
    return 'cs_id=' + v + '; Path=/; Max-Age=' + (v ? tr.cookieDays * 86400 : 0) + (domain ? '; Domain=' + domain : '') +
      '; SameSite=Lax' + (secure() ? '; Secure' : '');
  }
  // Every Domain the cookie may have been set with: the configured one, the host and each parent
  // with at least two labels. An IPv4 address (a numeric last label) has only itself, IPv6 none.
  function domains() {
    var h = loc.hostname, out = [], i, p;
    function add(x) {
      x = x.replace(/^\./, '');
      if (x && !out.some(function (o) { return o.toLowerCase() == x.toLowerCase(); })) out.push(x);
    }
    if (tr.cookieDomain) add(tr.cookieDomain);
    if (!/:/.test(h)) {
      if (/(^|\.)\d*$/.test(h)) add(h);
      else for (p = h.split('.'), i = 0; i < p.length - 1; i++) add(p.slice(i).join('.'));
    }
    return out;
  }
  // A UUID of `version` from 16 random bytes `b` (RFC 9562): 4 random, 7 with the Unix
  // milliseconds `ms` in its first 48 bits (time-ordered, as posthog-js makes event ids).
  function uuid(version, b, ms) {
    for (var i = 0; ms && i < 6; i++) b[i] = ms / Math.pow(2, 40 - 8 * i) & 255; // big-endian
    b[6] = b[6] & 15 | version << 4;
    b[8] = b[8] & 63 | 128;
    for (var s = '', h = '0123456789abcdef', i = 0; i < 16; i++) s += (i == 4 || i == 6 || i == 8 || i == 10 ? '-' : '') + h[b[i] >> 4] + h[b[i] & 15];
    return s;
  }
  // The URL without its fragment and without every query parameter `allow` does not name
  // (`utm_*` names every one starting `utm_`); the kept ones keep their order and text.
  function strip(u, allow) {
    var q = (u = u.split('#')[0]).indexOf('?');
    if (q < 0) return u;
    var kept = u.slice(q + 1).split('&').filter(function (pair) {
      var n = pair.split('=')[0];
      return n && allow.some(function (a) { return a.slice(-1) == '*' ? !n.indexOf(a.slice(0, -1)) : n == a; });
    });
    return u.slice(0, q) + (kept.length ? '?' + kept.join('&') : '');
  }
  function trackStart() {
    if (T) return;
    var id = cookie();
    if (!/^[0-9a-f]{8}-([0-9a-f]{4}-){3}[0-9a-f]{12}$/.test(id)) id = uuid(4, rnd(16));
    d.cookie = crumb(id, tr.cookieDomain); // refreshed once per page
    x.track_run(1);
    T = { id: id, path: '', pool: rnd(4096), used: 0 };
    hook();
    if (tr.pageviews) pageview();
  }
  // Refusal or withdrawal: stop at once, forget the queue, cancel timers, delete the cookie on
  // every Domain it may have (also a stale one found at load).
  function trackStop() {
    if (T) {
      runs++;
      clearTimeout(T.timer);
      clearTimeout(T.retry);
      T = null;
    }
    x.track_run(0);
    if (cookie() != null) [''].concat(domains()).forEach(function (dm) { d.cookie = crumb('', dm); });
  }
  function capture(name, props) {
    if (!T) return; // dropped, never kept for later
    var custom = '';
    if (props && typeof props == 'object') try { custom = JSON.stringify(props); } catch (e) {}
    record(String(name), custom);
  }
  // `custom` is the JSON text of the caller's properties (anything but an object adds none).
  function record(name, custom) {
    if (!T.page || T.subject != step.subject) { // once per page view: where events happen
      var sc = screen;
      T.subject = step.subject;
      T.page = JSON.stringify({
        distinct_id: T.id, $lib: 'consentry', $lib_version: '{{version}}',
        $current_url: strip(loc.href, tr.allow), $host: loc.host, $pathname: loc.pathname,
        $referrer: strip(d.referrer, []) || '$direct',
        $screen_width: sc.width, $screen_height: sc.height, $viewport_width: w.innerWidth, $viewport_height: w.innerHeight,
        $process_person_profile: false, $consentry_subject: T.subject || undefined
      }).slice(1, -1);
    }
    if (custom[0] != '{') custom = '';
    else if (/\$|distinct_id/.test(custom)) { // may name a reserved property: parsed only then
      var o = JSON.parse(custom), k;
      for (k in o) if (RESERVED.test(k)) delete o[k];
      custom = JSON.stringify(o);
    }
    if (T.used > 4080) { T.pool = rnd(4096); T.used = 0; } // random bytes in bulk: one call per 256 events
    var now = Date.now(), r = call('track', [name, T.page + (custom.length > 2 ? ',' + custom.slice(1, -1) : '') +
      '},"timestamp":"' + iso(now) + '","uuid":"' + uuid(7, T.pool.slice(T.used, T.used += 16), now) + '"}'], 0, 1);
    if (r == 3) console.error('Consentry.capture: the event name must be a text of 1 to 200 characters; dropped.');
    if (r == 4) console.error("Consentry.capture: the event's properties are too large (16 KB at most); dropped.");
    if (r == 2 && !T.retry) send();
    else later();
  }
  function later() {
    if (T && !T.timer && !T.retry && x.track_waiting() & 1) T.timer = setTimeout(function () { T.timer = 0; send(); }, tr.flushMs);
  }
  function send() {
    if (!T || T.retry) return;
    clearTimeout(T.timer);
    T.timer = 0;
    var body = call('track_next', [iso()]), run = runs, mine;
    if (body == null) return;
    T.zip = mine = [body]; // being compressed: the page-hide beacon takes it if the page goes first
    gzip(body, function (body, zipped) {
      if (run != runs || T.zip != mine) return; // stopped, or gone by beacon meanwhile
      T.zip = null;
      // As posthog-js says it: PostHog and the collector unpack it.
      var url = zipped ? tr.endpoint + (/\?/.test(tr.endpoint) ? '&' : '?') + 'compression=gzip-js' : tr.endpoint;
      post(url, body, function (status) {
        if (run != runs) return; // an answer to an earlier run
        var r = x.track_done(status, jitter());
        if (r > 0) T.retry = setTimeout(function () { T.retry = 0; send(); }, r);
        else {
          if (r < 0) console.error('Consentry tracker: the collector refused a batch (HTTP ' + status + '); its events were dropped.');
          if (x.track_waiting() & 2) send();
          else later();
        }
      }, zipped);
    });
  }
  function pageview() {
    T.path = loc.pathname;
    record('$pageview', '');
  }
  function trackerHide() {
    if (!T) return;
    // A batch still being compressed goes now, uncompressed (and counts as sent, as beacons do).
    if (T.zip && nav.sendBeacon(tr.endpoint, T.zip[0])) {
      T.zip = null;
      x.track_done(200, 0);
    }
    call('track_beacon', [iso()], 0, 1);
  }
  // A single-page-app navigation: the page is read again; a new path is a new $pageview.
  function navigated() {
    if (!T) return;
    T.page = null;
    if (tr.pageviews && T.path != loc.pathname) pageview();
  }
  function hook() {
    if (hooked) return;
    hooked = 1;
    ['pushState', 'replaceState'].forEach(function (n) {
      var orig = history[n];
      if (typeof orig == 'function') history[n] = function () {
        var r = orig.apply(history, arguments);
        navigated();
        return r;
      };
    });
    w.addEventListener('popstate', navigated);
    w.addEventListener('pagehide', function () {
      if (T && tr.pageleave && !T.left) { T.left = 1; record('$pageleave', ''); }
      trackerHide();
    });
    w.addEventListener('resize', function () { if (T) T.page = null; });
  }

  // ---- the banner: one shadow root, a first layer, a modal preferences dialog ----
  var root, banner, dialog, reopen, status, opener;
  // A new element with attributes, appended to `parent`; its text is text, never HTML, and
  // takes its own direction (an English fallback reads right inside an RTL page).
  function el(parent, tag, attrs, text) {
    var e = d.createElement(tag);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (text) { e.dir = 'auto'; e.textContent = text; }
    parent.appendChild(e);
    return e;
  }
  function shadow() {
    if (root) return root;
    var host = d.createElement('div');
    host.id = KEY;
    host.setAttribute('data-nosnippet', '');
    d.body.insertBefore(host, d.body.firstChild); // first, so keyboard users reach it early
    root = host.attachShadow({ mode: 'open' });
    var sheet = new CSSStyleSheet(); // a constructed sheet: allowed by a strict style-src CSP
    sheet.replaceSync(CSS);
    root.adoptedStyleSheets = [sheet];
    if (d.documentElement.getAttribute('dir') == 'rtl') host.setAttribute('dir', 'rtl');
    status = el(root, 'div', { role: 'status', 'class': 's' }); // exists before it speaks
    root.addEventListener('click', onClick);
    return root;
  }
  function showBanner(notice) {
    hideBanner();
    var r = shadow();
    r.host.setAttribute('lang', view.lang); // read aloud in its own language
    var b = el(r, 'section', { 'class': view.layout == 'bar' ? 'b bar' : 'b', 'aria-labelledby': 'ct', 'aria-describedby': 'cb' });
    var text = el(b, 'div');
    el(text, 'h2', { id: 'ct' }, t.title);
    var p = el(text, 'p', { id: 'cb' }, t.body);
    if (view.policy) {
      p.insertAdjacentText('beforeend', ' ');
      el(p, 'a', { href: view.policy }, t.policyLink);
    }
    if (step.gpc) el(text, 'p', { 'class': 'n' }, t.gpcHonoured);
    var a = el(b, 'div', { 'class': 'a' });
    if (notice) el(a, 'button', { 'data-a': 'x' }, t.close);
    else {
      el(a, 'button', { 'data-a': 'accept' }, t.acceptAll);
      el(a, 'button', { 'data-a': 'reject' }, t.rejectAll);
    }
    el(a, 'button', { 'data-a': 'prefs', 'class': 'o' }, t.customise);
    if (view.ccpa) { // CPRA: the opt-out link on the notice itself, with the opt-out icon
      var l = el(b, 'button', { 'data-a': 'prefs', 'class': 'l' });
      icon(l);
      el(l, 'span', 0, t.ccpaLink);
    }
    banner = b;
    showReopen(0);
  }
  function hideBanner() {
    if (banner) banner.remove();
    banner = null;
    showReopen(1);
  }
  function showReopen(show) {
    if (view.reopen == 'none') return;
    if (!reopen && show) {
      reopen = el(shadow(), 'button', { 'data-a': 'prefs', 'class': view.reopen == 'bottom-right' ? 'o2 rt' : 'o2' });
      if (view.ccpa) {
        icon(reopen);
        el(reopen, 'span', 0, t.yourChoices);
      } else reopen.textContent = t.reopen;
    }
    if (reopen) reopen.toggleAttribute('hidden', !show);
  }
  // After a decision: the first layer goes, the dialog closes, the choice is announced, and
  // focus moves somewhere that still exists.
  function decided() {
    var inside = root && root.activeElement;
    hideBanner();
    if (dialog && dialog.open) dialog.close(); // its close handler restores focus
    else if (inside) focusFallback();
    if (status) {
      status.textContent = '';
      status.textContent = t.saved;
    }
  }
  function focusFallback() { if (reopen) reopen.focus(); }
  function showPreferences() {
    var r = shadow(), o = r.activeElement || d.activeElement;
    if (dialog) dialog.textContent = '';
    else {
      dialog = el(r, 'dialog', { 'aria-labelledby': 'pt', 'aria-describedby': 'pb', 'aria-modal': 'true' });
      dialog.addEventListener('close', function () {
        var was = opener;
        opener = null;
        if (was && was.isConnected) was.focus();
        else focusFallback();
      });
    }
    var h = el(dialog, 'div', { 'class': 'h' });
    el(h, 'h2', { id: 'pt' }, t.prefsTitle);
    el(h, 'button', { 'data-a': 'close', 'class': 'x', 'aria-label': t.close }, '×');
    el(dialog, 'p', { id: 'pb' }, t.prefsBody);
    if (step.gpc) el(dialog, 'p', { 'class': 'n' }, t.gpcHonoured);
    var list = el(dialog, 'ul');
    view.purposes.forEach(function (p) {
      var li = el(list, 'li'), row = el(li, 'label', { 'class': 'r' }), words = el(row, 'span', 0, p.title);
      var id = 'd-' + p.id, input, always = p.id == 'necessary';
      if (p.desc) el(words, 'p', { id: id }, p.desc);
      input = el(row, 'input', { type: 'checkbox', role: 'switch', 'data-p': p.id });
      if (p.desc) input.setAttribute('aria-describedby', id);
      if (always) {
        input.disabled = true;
        input.setAttribute('aria-label', p.title + ': ' + t.alwaysOn);
      }
      input.checked = always || on(p.id);
      if (p.services.length) {
        var det = el(li, 'details'), table;
        el(det, 'summary', 0, t.services);
        table = el(det, 'table');
        var head = el(table, 'tr');
        [t.name, t.provider, t.purpose, t.lifetime].forEach(function (c) { el(head, 'th', { scope: 'col' }, c); });
        p.services.forEach(function (s) {
          var row = el(table, 'tr');
          el(row, 'th', { scope: 'row' }, s[0]);
          for (var i = 1; i < 4; i++) el(row, 'td', 0, s[i]);
        });
      }
    });
    var a = el(dialog, 'div', { 'class': 'a' });
    el(a, 'button', { 'data-a': 'accept' }, t.acceptAll);
    el(a, 'button', { 'data-a': 'reject' }, t.rejectAll);
    el(a, 'button', { 'data-a': 'save', 'class': 'o' }, t.save);
    el(el(dialog, 'p', { 'class': 'dl' }), 'a', { href: '#', 'data-a': 'dl', role: 'button' }, t.download);
    if (!dialog.open) {
      opener = o;
      dialog.showModal();
    }
    // Focus the first switch the visitor can change, not a decision button.
    var first = dialog.querySelector('input:not([disabled])');
    if (first) first.focus();
  }
  // The CPRA opt-out icon (a toggle: a tick on white, a cross on blue), hidden from screen
  // readers because the text beside it says the same.
  function icon(parent) {
    ['svg|viewBox=0 0 30 14|width=30|height=14|aria-hidden=true|class=i',
      'rect|x=.5|y=.5|width=29|height=13|rx=6.5|fill=#fff|stroke=#0066ff',
      'path|d=M15 .5h8a6.5 6.5 0 0 1 0 13h-11z|fill=#0066ff',
      'path|d=M5 7.2l2.4 2.4 4.4-5|stroke=#0066ff|stroke-width=1.8|fill=none',
      'path|d=M19 4.2l5.6 5.6m0-5.6l-5.6 5.6|stroke=#fff|stroke-width=1.8'
    ].forEach(function (spec, i) {
      var parts = spec.split('|'), e = d.createElementNS('http://www.w3.org/2000/svg', parts.shift());
      parts.forEach(function (kv) { var j = kv.indexOf('='); e.setAttribute(kv.slice(0, j), kv.slice(j + 1)); });
      parent.appendChild(e);
      if (!i) parent = e; // the shapes go into the <svg>
    });
  }
  // One delegated listener for every button in the shadow root.
  function onClick(ev) {
    var b = ev.target.closest('[data-a]'), a = b && b.getAttribute('data-a');
    if (a == 'accept') decide(0, 'accept_all');
    else if (a == 'reject') decide(0, 'reject_all');
    else if (a == 'save') {
      var c = {};
      dialog.querySelectorAll('input[data-p]').forEach(function (i) { c[i.getAttribute('data-p')] = i.checked; });
      decide(c, 'custom');
    } else if (a == 'prefs') showPreferences();
    else if (a == 'close') dialog.close();
    else if (a == 'x') { hideBanner(); focusFallback(); }
    else if (a == 'dl') { ev.preventDefault(); download(); }
  }
  // Offers the visitor's own consent record as a JSON file.
  function download() {
    var url = URL.createObjectURL(new Blob([call('export_log', [])], { type: 'application/json' }));
    var a = d.createElement('a');
    a.href = url;
    a.download = 'consent-record.json';
    a.click();
    URL.revokeObjectURL(url);
  }

  // ---- the page's signals ----
  // Another tab wrote the record: adopt it, or, if it does not verify, fail closed.
  function reread() {
    var stored = read(KEY);
    settle(load(stored), 1, stored);
  }
  w.addEventListener('storage', function (e) {
    if (!e.key || e.key == KEY) reread(); // a clear() has no key: like a removal of ours
  });
  // Back from the back/forward cache: another tab may have decided meanwhile (a frozen page
  // hears no storage event), and for the tracker it is a new page view.
  w.addEventListener('pageshow', function (e) {
    var was = T;
    if (!e.persisted) return;
    reread();
    if (was && T == was) {
      T.left = 0;
      T.page = null;
      if (tr.pageviews) pageview();
    }
  });
  w.addEventListener('pagehide', onHide);
  d.addEventListener('visibilitychange', onHide);
  // `<a href="#" data-consentry="preferences">Privacy choices</a>` anywhere on the page.
  d.addEventListener('click', function (e) {
    if (e.target.closest && e.target.closest('[data-consentry=preferences]')) {
      e.preventDefault();
      showPreferences();
    }
  });

  sink = function (at, n) { return tr && nav.sendBeacon(tr.endpoint, text(at, n)) ? 1 : 0; };
  var initial = read(KEY);
  settle(load(initial), 0, initial);

  function typeError(key, what) {
    return new TypeError('Consentry.setConsent: ' + (key ? key + ': ' : '') + what);
  }
  return Object.freeze({
    showBanner: function () { showBanner(0); },
    showPreferences: function () { showPreferences(); },
    acceptAll: function () { decide(0, 'accept_all'); },
    rejectAll: function () { decide(0, 'reject_all'); },
    // The named purposes change, the others keep their state.
    setConsent: function (choices) {
      if (!choices || typeof choices != 'object') throw typeError('', 'expected an object such as { analytics: true }');
      Object.keys(choices).forEach(function (k) {
        if (typeof choices[k] != 'boolean') throw typeError(k, 'expected true or false');
        if (!Object.prototype.hasOwnProperty.call(step.consent, k)) throw typeError(k, 'not a purpose in the config');
      });
      decide(choices, 'api');
    },
    getConsent: consent,
    on: function (event, f) {
      if (event != 'change' || typeof f != 'function') throw new TypeError('Consentry.on: the only event is "change", with a function');
      listeners.push(f);
    },
    evidence: function () { return JSON.parse(call('export_log', [])).receipts; },
    exportEvidence: function () { return call('export_log', []); },
    // The log as stored now (an edit since the page loaded is caught); a bad one is put aside
    // and the visitor asked again at once.
    verifyEvidence: function () {
      var stored = read(KEY), r = JSON.parse(call('verify', [doc(stored)]));
      if (!r.ok) settle(load(stored), 1, stored);
      return r;
    },
    capture: capture
  });
}
