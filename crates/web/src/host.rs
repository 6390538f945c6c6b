//! Which site a request is for, from its Host header.

use domain::ids::Slug;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Site {
    /// `BASE` or `www.BASE`: the public site.
    Apex,
    /// `api.BASE`: webhooks and the operator admin.
    Api,
    /// `{slug}.BASE`: a store's dashboard (the slug is validated, not yet looked up).
    Store(String),
    /// Anything else (an IP address, another domain).
    Other,
}

/// `demo.localhost:8080` with base `localhost` → `Store("demo")`.
pub fn classify(host: &str, base: &str) -> Site {
    let host = host.trim().to_ascii_lowercase();
    let host = strip_port(&host);
    let base = base.trim().to_ascii_lowercase();
    if host == base || host == format!("www.{base}") {
        return Site::Apex;
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
        assert_eq!(classify("localhost:8080", "localhost"), Site::Apex);
        assert_eq!(classify("www.orcazap.com.br", "orcazap.com.br"), Site::Apex);
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
        assert_eq!(classify("127.0.0.1:8080", "localhost"), Site::Other);
        assert_eq!(classify("evil.com", "localhost"), Site::Other);
    }
}
