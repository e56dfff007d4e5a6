// Types for Consentry's npm package and for window.Consentry (script-tag build).

/** A service or cookie a purpose covers, listed in the preferences layer. */
export interface ServiceConfig {
  name: string;
  provider?: string;
  purpose?: string;
  lifetime?: string;
}

/** A processing purpose the visitor decides on. "necessary" is always on and need not be listed. */
export interface PurposeConfig {
  /** Lower-case letters, digits, "_" or "-"; built-in texts exist for necessary, analytics, marketing, functional. */
  id: string;
  title?: string;
  description?: string;
  /** Refused automatically when the browser sends Global Privacy Control. Default: true for analytics and marketing. */
  gpc?: boolean;
  services?: ServiceConfig[];
}

/** The first-party tracker; it does nothing until its purpose is granted. */
export interface TrackerConfig {
  apiKey: string;
  /** Origin of a self-hosted PostHog or collector; default: this site. */
  apiHost?: string;
  /** Batch path; default "/batch/". */
  path?: string;
  /** Purpose that gates the tracker; default "analytics". */
  purpose?: string;
  pageviews?: boolean;
  pageleave?: boolean;
  /** Query parameters kept in URLs, e.g. ["utm_*"]; everything else is stripped. */
  allowParams?: string[];
  batchSize?: number;
  /** Milliseconds between flushes. */
  flushInterval?: number;
  maxQueue?: number;
  cookieDomain?: string;
  /** At most 395 (13 months). */
  cookieDays?: number;
}

export type TextKey =
  | 'title' | 'body' | 'acceptAll' | 'rejectAll' | 'customise' | 'save' | 'close' | 'prefsTitle'
  | 'prefsBody' | 'policyLink' | 'alwaysOn' | 'reopen' | 'saved' | 'gpcHonoured' | 'ccpaLink'
  | 'download' | 'provider' | 'lifetime'
  | `purpose.${string}.title` | `purpose.${string}.description`;

export interface ConsentryConfig {
  $schema?: string;
  /** Change it to ask every visitor again. */
  policyVersion: string;
  privacyPolicyUrl?: string;
  /** Language code; default from <html lang>, then navigator.languages, then English. */
  language?: string;
  layout?: 'box' | 'bar';
  reopenButton?: 'bottom-left' | 'bottom-right' | 'none';
  purposes: PurposeConfig[];
  /** CCPA/CPRA mode: "Do Not Sell or Share" link with the opt-out icon. */
  ccpa?: boolean;
  /** Honour the Global Privacy Control signal (default true). */
  honorGpc?: boolean;
  /** Days a consent lasts (default 365, at most 395). */
  consentDays?: number;
  /** Days a refusal lasts (default 182, at most 395). */
  refusalDays?: number;
  /** Text overrides per language code ("*" for all languages). */
  texts?: Record<string, Partial<Record<TextKey, string>>>;
  /** Where consent receipts are sent (this site's collector). */
  evidenceEndpoint?: string;
  tracker?: TrackerConfig;
  /** Google Consent Mode v2 defaults and updates through gtag/dataLayer. */
  consentMode?: boolean;
}

/** The visitor's current choice per purpose id. */
export type ConsentState = Record<string, boolean>;

export type Method =
  | 'accept_all' | 'reject_all' | 'custom' | 'withdraw' | 'gpc' | 'api' | 'expired' | 'policy_changed' | 'reset';

/** One consent receipt (format version 1); see the README's "Proof of consent". */
export interface Receipt {
  v: 1;
  id: string;
  subject: string;
  seq: number;
  time: string;
  origin: string;
  path: string;
  policy: string;
  lang: string;
  texts: string;
  choices: Record<string, boolean>;
  method: Method;
  gpc: boolean;
  prev: string;
  hash: string;
}

export interface VerifyResult {
  ok: boolean;
  count: number;
  brokenAt?: number;
  reason?: string;
}

export interface ChangeDetail {
  consent: ConsentState;
  method: Method;
}

export interface ConsentryApi {
  showBanner(): void;
  showPreferences(): void;
  acceptAll(): void;
  rejectAll(): void;
  setConsent(choices: ConsentState): void;
  getConsent(): ConsentState;
  on(event: 'change', listener: (detail: ChangeDetail) => void): void;
  evidence(): Receipt[];
  exportEvidence(): string;
  verifyEvidence(): VerifyResult;
  capture(event: string, properties?: Record<string, string | number | boolean | null>): void;
}

export interface InitOptions {
  /** Where consentry_bg.wasm comes from; default: next to this module. */
  wasm?: string | URL | Response | BufferSource;
  /**
   * The folder holding the language files (de.json, fr.json, …); default: lang/ next to this module.
   * English is inside the .wasm; another language's file is fetched only for a visitor who needs it.
   */
  langUrl?: string | URL;
  /**
   * Language tables to use instead of fetching, by language code, e.g.
   * `{ de: (await import('consentry/lang/de.json')).default }`.
   */
  texts?: Partial<Record<'de' | 'fr' | 'es' | 'it' | 'nl' | 'pt' | 'pl', Record<string, string> | string>>;
}

/** Starts Consentry; resolves to the API (also set as window.Consentry). Rejects on an invalid config. */
export function init(config: ConsentryConfig | string, options?: InitOptions): Promise<ConsentryApi>;

declare global {
  interface Window {
    Consentry?: ConsentryApi;
  }
  interface DocumentEventMap {
    'consentry:change': CustomEvent<ChangeDetail>;
    'consentry:ready': Event;
  }
}
