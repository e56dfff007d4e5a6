//! The bundled table of known trackers, and matching cookies, storage keys and requests against it.
//!
//! Owns: which names and hosts belong to which well-known service, its provider and the Consentry
//! purpose it usually serves. Must never: decide findings (findings.rs does) or claim to be
//! complete: anything it does not name is reported as unknown, never as harmless.
use crate::model::TrackerRef;

/// One known service.
pub struct Tracker {
    pub name: &'static str,
    pub provider: &'static str,
    /// Consentry purpose id: `analytics`, `marketing`, `functional`, or `necessary` (consent records).
    pub purpose: &'static str,
    /// What it does, in the words a banner's services table would use.
    pub description: &'static str,
    /// Cookie names; `*` stands for any run of characters.
    pub cookies: &'static [&'static str],
    /// localStorage / sessionStorage keys and IndexedDB names; `*` as above.
    pub storage: &'static [&'static str],
    /// Hosts it is served from or sends to; a subdomain of one matches too.
    pub hosts: &'static [&'static str],
    /// URL paths that name it even on the site's own host (self-hosted or proxied copies).
    pub paths: &'static [&'static str],
}

impl Tracker {
    pub fn to_ref(&self) -> TrackerRef {
        TrackerRef { name: self.name.into(), provider: self.provider.into(), purpose: self.purpose.into() }
    }
}

/// One row of the table, positionally (the table reads like a table).
#[allow(clippy::too_many_arguments)]
const fn t(
    name: &'static str,
    provider: &'static str,
    purpose: &'static str,
    description: &'static str,
    cookies: &'static [&'static str],
    storage: &'static [&'static str],
    hosts: &'static [&'static str],
    paths: &'static [&'static str],
) -> Tracker {
    Tracker { name, provider, purpose, description, cookies, storage, hosts, paths }
}

/// The table. Cookie names are the ones each vendor documents for its standard tag.
pub static TABLE: &[Tracker] = &[
    t(
        "Google Analytics",
        "Google",
        "analytics",
        "Visit statistics (Google Analytics)",
        &["_ga", "_ga_*", "_gid", "_gat", "_gat_*", "_dc_gtm_*", "__utma", "__utmb", "__utmc", "__utmt", "__utmz"],
        &[],
        &["google-analytics.com", "analytics.google.com"],
        &["/g/collect"],
    ),
    t("Google Tag Manager", "Google", "analytics", "Tag manager that loads other tags", &[], &[], &["googletagmanager.com"], &[]),
    t(
        "Google Ads / DoubleClick",
        "Google",
        "marketing",
        "Ad conversion measurement and targeting",
        &["_gcl_*", "IDE", "DSID", "test_cookie", "__gads", "__gpi", "__gsas", "NID"],
        &[],
        &["doubleclick.net", "googleadservices.com", "googlesyndication.com", "adservice.google.com"],
        &[],
    ),
    t(
        "YouTube",
        "Google",
        "marketing",
        "Embedded videos with viewer tracking",
        &["VISITOR_INFO1_LIVE", "VISITOR_PRIVACY_METADATA", "YSC", "yt-remote-*"],
        &["yt-remote-*", "ytidb::*"],
        &["youtube.com"],
        &[],
    ),
    t(
        "Meta Pixel",
        "Meta",
        "marketing",
        "Ad conversion measurement and retargeting (Facebook, Instagram)",
        &["_fbp", "_fbc", "fr"],
        &[],
        &["connect.facebook.net", "facebook.com"],
        &[],
    ),
    t(
        "Hotjar",
        "Hotjar",
        "analytics",
        "Session recordings and heatmaps",
        &[
            "_hjSessionUser_*",
            "_hjSession_*",
            "_hjid",
            "_hjIncludedInSessionSample*",
            "_hjAbsoluteSessionInProgress",
            "_hjFirstSeen",
            "_hjTLDTest",
            "_hjLocalStorageTest",
            "_hjSessionStorageTest",
            "_hjCookieTest",
        ],
        &["_hj*", "hjViewportId", "hjActiveViewportIds"],
        &["hotjar.com", "hotjar.io"],
        &[],
    ),
    t(
        "PostHog",
        "PostHog",
        "analytics",
        "Product analytics",
        &["ph_*_posthog", "__ph_opt_in_out_*"],
        &["ph_*", "__ph_opt_in_out_*"],
        &["posthog.com"],
        &[],
    ),
    t("Plausible", "Plausible Analytics", "analytics", "Visit statistics (Plausible)", &[], &["plausible_ignore"], &["plausible.io"], &[]),
    t(
        "Matomo",
        "Matomo",
        "analytics",
        "Visit statistics (Matomo)",
        &["_pk_id.*", "_pk_ses.*", "_pk_ref.*", "_pk_cvar.*", "_pk_hsr.*", "MATOMO_SESSID"],
        &[],
        &["matomo.cloud", "innocraft.cloud"],
        &["/matomo.php", "/piwik.php", "/matomo.js", "/piwik.js"],
    ),
    t(
        "Microsoft Clarity",
        "Microsoft",
        "analytics",
        "Session recordings and heatmaps",
        &["_clck", "_clsk", "CLID"],
        &[],
        &["clarity.ms"],
        &[],
    ),
    t(
        "Microsoft Advertising",
        "Microsoft",
        "marketing",
        "Ad conversion measurement (Bing UET)",
        &["_uetsid", "_uetvid", "MUID"],
        &["_uetsid*", "_uetvid*"],
        &["bat.bing.com"],
        &[],
    ),
    t(
        "LinkedIn Insight Tag",
        "LinkedIn",
        "marketing",
        "Ad conversion measurement and retargeting",
        &["li_sugr", "bcookie", "bscookie", "lidc", "UserMatchHistory", "AnalyticsSyncHistory", "li_fat_id", "li_gc"],
        &[],
        &["licdn.com", "ads.linkedin.com"],
        &[],
    ),
    t(
        "TikTok Pixel",
        "TikTok",
        "marketing",
        "Ad conversion measurement",
        &["_ttp", "_tt_enable_cookie", "ttcsid*"],
        &[],
        &["analytics.tiktok.com"],
        &[],
    ),
    t(
        "X (Twitter) Pixel",
        "X Corp.",
        "marketing",
        "Ad conversion measurement",
        &["personalization_id", "muc_ads", "guest_id*"],
        &[],
        &["ads-twitter.com", "analytics.twitter.com", "t.co"],
        &[],
    ),
    t(
        "Pinterest Tag",
        "Pinterest",
        "marketing",
        "Ad conversion measurement",
        &["_pin_unauth", "_pinterest_ct_ua", "_epik"],
        &[],
        &["ct.pinterest.com"],
        &[],
    ),
    t("Criteo", "Criteo", "marketing", "Retargeting ads", &["cto_bundle", "cto_bidid"], &[], &["criteo.com", "criteo.net"], &[]),
    t(
        "Segment",
        "Twilio Segment",
        "analytics",
        "Analytics event routing",
        &["ajs_anonymous_id", "ajs_user_id", "ajs_group_id"],
        &["ajs_*"],
        &["segment.com", "segment.io"],
        &[],
    ),
    t(
        "Mixpanel",
        "Mixpanel",
        "analytics",
        "Product analytics",
        &["mp_*_mixpanel"],
        &["mp_*_mixpanel"],
        &["mixpanel.com", "mxpnl.com"],
        &[],
    ),
    t("Amplitude", "Amplitude", "analytics", "Product analytics", &["AMP_*", "amp_*"], &["AMP_*", "amp_*"], &["amplitude.com"], &[]),
    t(
        "HubSpot",
        "HubSpot",
        "marketing",
        "Marketing automation and visitor tracking",
        &["__hstc", "hubspotutk", "__hssc", "__hssrc", "messagesUtk"],
        &[],
        &["hs-scripts.com", "hs-analytics.net", "hs-banner.com", "hubspot.com", "hsforms.net", "hscollectedforms.net", "usemessages.com"],
        &[],
    ),
    t(
        "Yandex Metrica",
        "Yandex",
        "analytics",
        "Visit statistics and session recordings",
        &["_ym_*", "yandexuid", "yabs-sid"],
        &["_ym*"],
        &["mc.yandex.ru", "mc.yandex.com"],
        &[],
    ),
    // The project's own tracker: first party, gated by the banner.
    t(
        "Consentry tracker",
        "this site (first party)",
        "analytics",
        "Anonymous visitor id for visit statistics",
        &["cs_id"],
        &["cs_sess", "cs_win"],
        &[],
        &[],
    ),
    // Consent records: storing the visitor's choice itself is strictly necessary (ePrivacy 5(3)).
    t(
        "Consentry consent record",
        "this site (first party)",
        "necessary",
        "The visitor's consent choices and their receipts",
        &[],
        &["consentry", "consentry:*"],
        &[],
        &[],
    ),
    t(
        "Consent manager record",
        "this site (first party)",
        "necessary",
        "The visitor's consent choice, stored by a consent manager",
        &[
            "CookieConsent",
            "OptanonConsent",
            "OptanonAlertBoxClosed",
            "cc_cookie",
            "klaro",
            "cookieconsent_status",
            "cmplz_*",
            "borlabs-cookie",
            "euconsent-v2",
        ],
        &["klaro", "cc_cookie"],
        &[],
        &[],
    ),
];

/// `*` matches any run of characters (also none); everything else literally, case-sensitive.
pub fn glob(pattern: &str, text: &str) -> bool {
    let mut parts = pattern.split('*');
    let first = parts.next().unwrap_or("");
    let Some(mut rest) = text.strip_prefix(first) else {
        return false;
    };
    let parts: Vec<&str> = parts.collect();
    let Some((last, middle)) = parts.split_last() else {
        return rest.is_empty();
    };
    for p in middle {
        match rest.find(p) {
            Some(i) => rest = &rest[i + p.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
}

/// Whether `host` is `domain` or one of its subdomains.
pub fn host_matches(host: &str, domain: &str) -> bool {
    host == domain || (host.len() > domain.len() && host.ends_with(domain) && host.as_bytes()[host.len() - domain.len() - 1] == b'.')
}

pub fn by_cookie(name: &str) -> Option<&'static Tracker> {
    TABLE.iter().find(|t| t.cookies.iter().any(|p| glob(p, name)))
}

pub fn by_storage(key: &str) -> Option<&'static Tracker> {
    TABLE.iter().find(|t| t.storage.iter().any(|p| glob(p, key)))
}

pub fn by_host(host: &str) -> Option<&'static Tracker> {
    TABLE.iter().find(|t| t.hosts.iter().any(|d| host_matches(host, d)))
}

/// A request: by its host, else by a path the table names.
pub fn by_url(url: &str) -> Option<&'static Tracker> {
    let u = url::Url::parse(url).ok()?;
    let host = u.host_str()?.to_ascii_lowercase();
    by_host(&host).or_else(|| TABLE.iter().find(|t| t.paths.iter().any(|p| u.path().starts_with(p))))
}

/// The table's entry by name (the snippet looks up the description).
pub fn by_name(name: &str) -> Option<&'static Tracker> {
    TABLE.iter().find(|t| t.name == name)
}

/// The pattern of `t` that names cookie `name`, if any.
pub fn cookie_pattern(t: &Tracker, name: &str) -> Option<&'static str> {
    t.cookies.iter().copied().find(|p| glob(p, name))
}

/// The pattern of `t` that names storage key `key`, if any.
pub fn storage_pattern(t: &Tracker, key: &str) -> Option<&'static str> {
    t.storage.iter().copied().find(|p| glob(p, key))
}

/// A table pattern as Consentry's config writes a cookie: the name itself when it has no `*`,
/// else an anchored `/regex/`.
pub fn cookie_config_form(pattern: &str) -> String {
    if !pattern.contains('*') {
        return pattern.to_string();
    }
    let mut re = String::from("/^");
    for c in pattern.chars() {
        match c {
            '*' => re.push_str(".*"),
            '.' | '+' | '?' | '(' | ')' | '[' | ']' | '{' | '}' | '|' | '^' | '$' | '\\' | '/' => {
                re.push('\\');
                re.push(c);
            }
            c => re.push(c),
        }
    }
    // A trailing `.*` adds nothing to an anchored-at-start match.
    if let Some(s) = re.strip_suffix(".*") {
        re = s.to_string();
    } else {
        re.push('$');
    }
    re.push('/');
    re
}

/// A table pattern as Consentry's config writes a storage key: the key itself, or a prefix
/// ending in `*` when the pattern is `prefix*`; a pattern with a `*` inside gives `observed`.
pub fn storage_config_form(pattern: &str, observed: &str) -> String {
    match pattern.find('*') {
        None => pattern.to_string(),
        Some(i) if i == pattern.len() - 1 => pattern.to_string(),
        Some(_) => observed.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob("_ga", "_ga"));
        assert!(!glob("_ga", "_gat"));
        assert!(glob("_ga_*", "_ga_ABC123"));
        assert!(!glob("_ga_*", "_ga"));
        assert!(glob("ph_*_posthog", "ph_phc_abc_posthog"));
        assert!(!glob("ph_*_posthog", "ph_phc_abc_posthog2"));
        assert!(glob("*", ""));
        assert!(glob("a*b*c", "a-b-b-c"));
        assert!(!glob("a*b*c", "a-c"));
        assert!(!glob("ab*ba", "aba"), "the prefix and suffix may not overlap");
    }

    #[test]
    fn hosts() {
        assert!(host_matches("www.google-analytics.com", "google-analytics.com"));
        assert!(host_matches("google-analytics.com", "google-analytics.com"));
        assert!(!host_matches("notgoogle-analytics.com", "google-analytics.com"));
        assert!(!host_matches("t.co.example", "t.co"));
    }

    #[test]
    fn names_the_usual_trackers() {
        assert_eq!(by_cookie("_ga").unwrap().name, "Google Analytics");
        assert_eq!(by_cookie("_ga_XYZ").unwrap().name, "Google Analytics");
        assert_eq!(by_cookie("_fbp").unwrap().name, "Meta Pixel");
        assert_eq!(by_cookie("_hjSessionUser_123").unwrap().name, "Hotjar");
        assert_eq!(by_cookie("cs_id").unwrap().purpose, "analytics");
        assert!(by_cookie("session").is_none());
        assert_eq!(by_storage("ph_phc_x_posthog").unwrap().name, "PostHog");
        assert_eq!(by_storage("consentry").unwrap().purpose, "necessary");
        assert_eq!(by_url("https://www.googletagmanager.com/gtm.js?id=GTM-1").unwrap().name, "Google Tag Manager");
        assert_eq!(by_url("https://eu.i.posthog.com/e/").unwrap().name, "PostHog");
        assert_eq!(by_url("https://plausible.io/api/event").unwrap().name, "Plausible");
        // A self-hosted Matomo on the site's own host is still Matomo.
        assert_eq!(by_url("https://shop.example/matomo.php?idsite=1").unwrap().name, "Matomo");
        assert!(by_url("https://cdn.example.net/app.js").is_none());
    }

    #[test]
    fn every_entry_is_well_formed() {
        let purposes = ["analytics", "marketing", "functional", "necessary"];
        for t in TABLE {
            assert!(purposes.contains(&t.purpose), "{}: purpose {}", t.name, t.purpose);
            assert!(!t.cookies.is_empty() || !t.storage.is_empty() || !t.hosts.is_empty(), "{} names nothing", t.name);
            for h in t.hosts {
                assert!(!h.contains('*') && !h.contains('/'), "{}: host {h}", t.name);
            }
        }
    }

    #[test]
    fn config_forms() {
        assert_eq!(cookie_config_form("_ga"), "_ga");
        assert_eq!(cookie_config_form("_ga_*"), "/^_ga_/");
        assert_eq!(cookie_config_form("ph_*_posthog"), "/^ph_.*_posthog$/");
        assert_eq!(cookie_config_form("_pk_id.*"), "/^_pk_id\\./");
        assert_eq!(storage_config_form("_hj*", "_hjX"), "_hj*");
        assert_eq!(storage_config_form("mp_*_mixpanel", "mp_abc_mixpanel"), "mp_abc_mixpanel");
        assert_eq!(storage_config_form("consentry", "consentry"), "consentry");
    }
}
