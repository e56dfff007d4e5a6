//! Sites: which registrable domain a URL or cookie domain belongs to, so "another site" means what
//! browsers mean by it (schemeful same-site, ports ignored, Public Suffix List).
//!
//! Owns: host → site, and first/third party against the page's site. Must never: fetch the suffix
//! list (it is compiled in by the `psl` crate) or look at anything but the host.
use crate::model::Party;
use url::Url;

/// The site of a host: its registrable domain (`www.shop.example.co.uk` → `example.co.uk`), or the
/// host itself for an IP address, `localhost` or a host that is only a public suffix.
pub fn site_of_host(host: &str) -> String {
    let host = host.trim_start_matches('.').trim_end_matches('.').to_ascii_lowercase();
    if host.parse::<std::net::IpAddr>().is_ok() || host.starts_with('[') || !host.contains('.') {
        return host;
    }
    match psl::domain_str(&host) {
        Some(d) => d.to_string(),
        None => host,
    }
}

/// The site of a URL's host; None for URLs without one (`data:`, `blob:`, `about:blank`).
pub fn site_of_url(url: &str) -> Option<String> {
    let u = Url::parse(url).ok()?;
    match u.scheme() {
        "http" | "https" | "ws" | "wss" => u.host_str().map(site_of_host),
        _ => None,
    }
}

/// The host of a URL (lower case), or an empty string.
pub fn host_of_url(url: &str) -> String {
    Url::parse(url).ok().and_then(|u| u.host_str().map(str::to_ascii_lowercase)).unwrap_or_default()
}

/// First or third party, for something of `site` seen on a page of `page_site`.
pub fn party(site: &str, page_site: &str) -> Party {
    if site == page_site {
        Party::First
    } else {
        Party::Third
    }
}

/// Whether `url` is an http(s) URL of the same site as `page_site` (links to follow).
pub fn same_site_http(url: &Url, page_site: &str) -> bool {
    matches!(url.scheme(), "http" | "https") && url.host_str().map(site_of_host).as_deref() == Some(page_site)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registrable_domains() {
        assert_eq!(site_of_host("www.shop.example.co.uk"), "example.co.uk");
        assert_eq!(site_of_host("region1.analytics.google.com"), "google.com");
        assert_eq!(site_of_host("connect.facebook.net"), "facebook.net");
        assert_eq!(site_of_host(".Example.com"), "example.com");
        assert_eq!(site_of_host("127.0.0.1"), "127.0.0.1");
        assert_eq!(site_of_host("localhost"), "localhost");
        // A private suffix of the list: each GitHub Pages user is a site of its own.
        assert_eq!(site_of_host("alice.github.io"), "alice.github.io");
        assert_ne!(site_of_host("alice.github.io"), site_of_host("bob.github.io"));
    }

    #[test]
    fn urls_and_parties() {
        assert_eq!(site_of_url("http://shop.test:8080/a?b").as_deref(), Some("shop.test"));
        assert_eq!(site_of_url("data:text/plain,hi"), None);
        assert_eq!(host_of_url("https://CDN.Example.com/x.js"), "cdn.example.com");
        let page = site_of_host("www.example.com");
        assert_eq!(party(&site_of_host("static.example.com"), &page), Party::First);
        assert_eq!(party(&site_of_host("tracker.test"), &page), Party::Third);
        // Ports do not make another site.
        assert_eq!(site_of_url("http://127.0.0.1:1/"), site_of_url("http://127.0.0.1:2/"));
        let u = Url::parse("https://blog.example.com/post").unwrap();
        assert!(same_site_http(&u, "example.com"));
        assert!(!same_site_http(&Url::parse("mailto:a@example.com").unwrap(), "example.com"));
    }
}
