//! Which site a request is for, from its Host header.
//!
//! Every surface answers on its own host only (docs/security.md § Host routing): a proxy's
//! rules for `api.BASE` (say, an IP allow-list on `/admin`) mean nothing if the same page
//! also answers on `evil.com` or on the bare address.

use std::net::IpAddr;

use domain::ids::Slug;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Site {
    /// `BASE` or `www.BASE` (`www` true): the public site.
    Apex { www: bool },
    /// `api.BASE`: webhooks, the operator admin and `/metrics`.
    Api,
    /// `{slug}.BASE`: a store's dashboard (the slug is validated, not yet looked up).
    Store(String),
    /// An IP address: a direct request to this process on its own address (a health check,
    /// Prometheus on the private network, the demo's own Graph client). Only operations
    /// endpoints answer there.
    Address(IpAddr),
    /// Anything else (another domain, a subdomain that cannot be a store): `/health` and
    /// `/ready` only.
    Other,
}

/// `demo.localhost:8080` with base `localhost` → `Store("demo")`.
pub fn classify(host: &str, base: &str) -> Site {
    let host = host.trim().to_ascii_lowercase();
    let host = strip_port(&host);
    let base = base.trim().to_ascii_lowercase();
    if host == base {
        return Site::Apex { www: false };
    }
    if host == format!("www.{base}") {
        return Site::Apex { www: true };
    }
    if host == format!("api.{base}") {
        return Site::Api;
    }
    if let Some(sub) = host.strip_suffix(&format!(".{base}")) {
        if !sub.contains('.') {
            if let Ok(slug) = Slug::parse(sub) {
                return Site::Store(slug.as_str().to_string());
            }
        }
    }
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = bare.parse::<IpAddr>() {
        return Site::Address(ip);
    }
    Site::Other
}

fn strip_port(host: &str) -> &str {
    if host.starts_with('[') {
        return host
            .split(']')
            .next()
            .map(|h| &host[..h.len() + 1])
            .unwrap_or(host);
    }
    match host.rsplit_once(':') {
        Some((h, port)) if port.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => host,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts() {
        assert_eq!(
            classify("localhost:8080", "localhost"),
            Site::Apex { www: false }
        );
        assert_eq!(
            classify("www.orcazap.com.br", "orcazap.com.br"),
            Site::Apex { www: true }
        );
        assert_eq!(classify("api.localhost:8080", "localhost"), Site::Api);
        assert_eq!(
            classify("Demo.Localhost:8080", "localhost"),
            Site::Store("demo".into())
        );
        assert_eq!(classify("a.b.localhost", "localhost"), Site::Other);
        assert_eq!(
            classify("admin.localhost", "localhost"),
            Site::Other,
            "reserved words are not stores"
        );
        assert_eq!(
            classify("127.0.0.1:8080", "localhost"),
            Site::Address("127.0.0.1".parse().unwrap())
        );
        assert_eq!(
            classify("[::1]:8080", "localhost"),
            Site::Address("::1".parse().unwrap())
        );
        assert_eq!(classify("evil.com", "localhost"), Site::Other);
        assert_eq!(classify("localhost.evil.com", "localhost"), Site::Other);
        assert_eq!(classify("", "localhost"), Site::Other);
    }
}
