//! The report's data: what one scan found, as written to `report.json`.
//!
//! Owns: the shape of the JSON report (schema `consentry-scan-report`, version [`SCHEMA_VERSION`];
//! README.md, "Report schema", documents every field). Must never: talk to the browser or decide
//! what is a finding (findings.rs does); a field renamed or removed here is a new schema version.
use serde::{Deserialize, Serialize};

/// Name of the report format, in the report's `schema` field.
pub const SCHEMA: &str = "consentry-scan-report";
/// Bumped whenever a field is renamed, removed or changes meaning (adding a field is not a bump).
pub const SCHEMA_VERSION: u32 = 1;

/// The whole report.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Report {
    pub schema: String,
    pub version: u32,
    /// `consentry-scan X.Y.Z`.
    pub tool: String,
    /// The browser that ran the scan, as it reports itself (`Chrome/156.0…`).
    pub browser: String,
    /// When the scan started, RFC 3339 UTC.
    pub started: String,
    pub options: Options,
    pub pages: Vec<PageReport>,
    /// Violations first, then warnings.
    pub findings: Vec<Finding>,
    /// The proposed `purposes[].services` for Consentry's config.
    pub services: Snippet,
    pub summary: Summary,
}

/// The options the scan ran with (what a reader needs to reproduce it).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Options {
    pub urls: Vec<String>,
    pub pages: usize,
    pub gpc: bool,
    pub allow: Vec<String>,
    pub allow_hosts: Vec<String>,
    pub accept: Option<String>,
    pub withdraw: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PageReport {
    pub url: String,
    /// HTTP status of the page's document in the first phase (None: no response, see `error`).
    pub status: Option<u16>,
    /// Set when the page could not be scanned (a followed link that failed to load).
    pub error: Option<String>,
    pub before: Phase,
    pub accept: Phase,
    pub withdraw: Phase,
}

/// The three moments a page is looked at, each in a fresh browser profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum PhaseName {
    /// Loaded, network settled, scrolled; nothing clicked.
    Before,
    /// The visitor accepted everything.
    Accept,
    /// Accepted, then withdrew.
    Withdraw,
}

impl PhaseName {
    pub fn label(self) -> &'static str {
        match self {
            PhaseName::Before => "before any choice",
            PhaseName::Accept => "after accept",
            PhaseName::Withdraw => "after withdrawal",
        }
    }
}

/// What one phase recorded.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Phase {
    /// False when the phase could not run (see `notes`).
    pub ran: bool,
    /// How the choice was made: `consentry-api`, `accessible-name "Accept all"`, `selector …`,
    /// `script` (None before a choice, or when no way was found).
    pub action: Option<String>,
    /// Things a reader should know (no accept control found, a command that failed…).
    pub notes: Vec<String>,
    /// Cookies in the browser's jar at the end of the phase.
    pub cookies: Vec<CookieRecord>,
    /// localStorage / sessionStorage keys written during the phase.
    pub storage: Vec<StorageRecord>,
    /// IndexedDB databases that exist at the end of the phase, or were opened during it.
    pub indexeddb: Vec<IdbRecord>,
    /// Requests to another site, and first-party requests the tracker table names.
    pub requests: Vec<RequestRecord>,
    /// Frames other than the page itself.
    pub iframes: Vec<FrameRecord>,
    /// File name (next to report.json) of a screenshot taken at the end of the settle, before any
    /// choice: the banner as a visitor first sees it.
    pub screenshot: Option<String>,
}

/// First party: the same site (registrable domain) as the page; third party: any other.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Party {
    First,
    Third,
}

/// Who wrote a cookie, a storage key or a database.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct SetBy {
    /// `script` (a script's call, from its stack), `response` (a `Set-Cookie` header), `unknown`.
    pub kind: String,
    /// The script's URL (for an inline script, the page's) or the response's URL.
    pub url: Option<String>,
    /// Line in that script (scripts only).
    pub line: Option<u32>,
}

impl SetBy {
    pub fn unknown() -> SetBy {
        SetBy { kind: "unknown".into(), url: None, line: None }
    }
    /// One line for people: `script http://x/a.js:12`, `response http://x/hit`, `unknown`.
    pub fn describe(&self) -> String {
        match (&self.url, self.line) {
            (Some(u), Some(l)) => format!("{} {u}:{l}", self.kind),
            (Some(u), None) => format!("{} {u}", self.kind),
            _ => self.kind.clone(),
        }
    }
}

/// A known tracker the bundled table names (trackers.rs).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrackerRef {
    pub name: String,
    pub provider: String,
    /// Consentry purpose id: `analytics`, `marketing`, `functional` or `necessary`.
    pub purpose: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CookieRecord {
    pub name: String,
    pub domain: String,
    pub path: String,
    /// Expiry, RFC 3339 UTC; None for a session cookie.
    pub expires: Option<String>,
    /// Days from when the scan saw it to its expiry; None for a session cookie.
    pub lifetime_days: Option<f64>,
    /// `Strict`, `Lax`, `None`, or None when the cookie did not say.
    pub same_site: Option<String>,
    pub secure: bool,
    pub http_only: bool,
    pub party: Party,
    pub set_by: SetBy,
    pub tracker: Option<TrackerRef>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StorageRecord {
    /// `local` or `session`.
    pub area: String,
    /// Origin of the frame whose storage it is.
    pub origin: String,
    pub key: String,
    /// Whether the key still existed at the end of the phase.
    pub present: bool,
    pub party: Party,
    pub set_by: SetBy,
    pub tracker: Option<TrackerRef>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IdbRecord {
    pub origin: String,
    pub name: String,
    pub party: Party,
    pub set_by: SetBy,
    pub tracker: Option<TrackerRef>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RequestRecord {
    pub url: String,
    pub host: String,
    pub party: Party,
    /// CDP resource type: `Script`, `Image`, `XHR`, `Fetch`, `Ping`, `Document`…
    #[serde(rename = "type")]
    pub kind: String,
    pub method: String,
    /// CDP initiator type (`parser`, `script`, `preload`, `other`…) and the URL that caused it.
    pub initiator: SetBy,
    pub tracker: Option<TrackerRef>,
    /// True for a request sent after the phase's action (accept or withdraw); false before it.
    pub after_action: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FrameRecord {
    pub url: String,
    pub party: Party,
    pub tracker: Option<TrackerRef>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Violation,
    Warning,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Finding {
    pub severity: Severity,
    /// Stable rule id (README, "Findings").
    pub rule: String,
    pub phase: PhaseName,
    /// `cookie`, `storage`, `indexeddb`, `request`, `page`.
    pub kind: String,
    /// The cookie's name, the storage key, the database name, or the request's host.
    pub name: String,
    /// One sentence for people.
    pub message: String,
    pub tracker: Option<TrackerRef>,
    pub set_by: Option<SetBy>,
    /// Every page on which it was seen.
    pub pages: Vec<String>,
}

/// The config snippet: paste `purposes` into Consentry's config.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Snippet {
    pub purposes: Vec<SnippetPurpose>,
    /// Services no table entry names: move each into the purpose it serves.
    pub unclassified: Vec<Service>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SnippetPurpose {
    pub id: String,
    pub services: Vec<Service>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Service {
    pub name: String,
    pub provider: String,
    pub purpose: String,
    pub lifetime: String,
    /// Cookie names, or `/regex/`, that withdrawal should clear.
    pub cookies: Vec<String>,
    /// localStorage/sessionStorage keys, or prefixes ending in `*`, that withdrawal should clear.
    pub storage: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Summary {
    pub pages: usize,
    pub violations: usize,
    pub warnings: usize,
    /// 0 clean or warnings only, 1 at least one violation.
    pub exit_code: i32,
}
