//! The client's address: the socket peer, unless the peer is one of the configured trusted
//! proxies (`ORCAZAP_TRUSTED_PROXIES`), in which case the forwarding headers they write are
//! believed — and only as far as they were written by trusted hops.
//!
//! Every per-address budget (login throttling, rate limits, the operator page) keys on this.
//! Believing `X-Forwarded-For` from anyone would let a client pick whose budget it spends;
//! believing nobody behind Caddy/nginx makes every visitor share the proxy's address. So: the
//! chain is read right to left (each proxy appends the address it received the request
//! from), trusted hops are skipped, and the first untrusted hop is the client. Anything to its
//! left was written by the client itself and is ignored.

use std::net::{IpAddr, SocketAddr};

use axum::extract::ConnectInfo;
use axum::http::request::Parts;
use axum::http::HeaderMap;
pub use ipnet::IpNet;

/// Parses `10.0.0.1, 192.168.0.0/16, ::1` (IPs or CIDRs, comma-separated).
pub fn parse_trusted(list: &str) -> Result<Vec<IpNet>, String> {
    list.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<IpNet>()
                .or_else(|_| s.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| format!("{s:?} não é um IP nem uma faixa CIDR"))
        })
        .collect()
}

fn trusted(ip: &IpAddr, proxies: &[IpNet]) -> bool {
    // An IPv4 peer may show up as IPv4-mapped IPv6 on a dual-stack socket.
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(*ip),
        v4 => *v4,
    };
    proxies.iter().any(|n| n.contains(&ip))
}

/// One hop of `X-Forwarded-For` (`1.2.3.4`, `1.2.3.4:5678`, `[::1]:80`, `::1`).
fn parse_hop(s: &str) -> Option<IpAddr> {
    let s = s.trim().trim_matches('"');
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Some(ip);
    }
    if let Ok(sa) = s.parse::<SocketAddr>() {
        return Some(sa.ip());
    }
    s.strip_prefix('[')
        .and_then(|r| r.split(']').next())
        .and_then(|h| h.parse().ok())
}

/// The forwarding chain, oldest hop first: `X-Forwarded-For` when present (what Caddy and
/// nginx write), else the `for=` parameters of `Forwarded` (RFC 7239). `None` for a hop that
/// is not an address (`unknown`, obfuscated identifiers, garbage).
fn chain(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    let xff: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    if !xff.is_empty() {
        return xff
            .iter()
            .flat_map(|v| v.split(','))
            .map(parse_hop)
            .collect();
    }
    headers
        .get_all("forwarded")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|elem| {
            elem.split(';').find_map(|pair| {
                let (k, v) = pair.split_once('=')?;
                k.trim()
                    .eq_ignore_ascii_case("for")
                    .then(|| parse_hop(v))
                    .flatten()
            })
        })
        .collect()
}

/// The client address of a request that arrived from `peer`.
pub fn resolve(peer: IpAddr, headers: &HeaderMap, proxies: &[IpNet]) -> IpAddr {
    if !trusted(&peer, proxies) {
        return peer;
    }
    let mut client = peer;
    for hop in chain(headers).into_iter().rev() {
        match hop {
            // Written by the trusted hop on its right: the address it saw.
            Some(ip) if !trusted(&ip, proxies) => return ip,
            Some(ip) => client = ip,
            // A non-address where a trusted proxy should have written one: stop believing.
            None => return client,
        }
    }
    client
}

/// The client address as text ("unknown" when the connection info is missing).
pub fn of_parts(parts: &Parts, proxies: &[IpNet]) -> String {
    match parts.extensions.get::<ConnectInfo<SocketAddr>>() {
        Some(c) => resolve(c.0.ip(), &parts.headers, proxies).to_string(),
        None => "unknown".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut m = HeaderMap::new();
        for (k, v) in pairs {
            m.append(
                axum::http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        m
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn untrusted_peer_is_the_client_whatever_it_says() {
        let headers = h(&[("x-forwarded-for", "1.2.3.4"), ("forwarded", "for=5.6.7.8")]);
        assert_eq!(resolve(ip("9.9.9.9"), &headers, &[]), ip("9.9.9.9"));
        let proxies = parse_trusted("10.0.0.0/8").unwrap();
        assert_eq!(resolve(ip("9.9.9.9"), &headers, &proxies), ip("9.9.9.9"));
    }

    #[test]
    fn right_most_untrusted_hop_behind_trusted_proxies() {
        let proxies = parse_trusted("127.0.0.1, 10.0.0.0/8").unwrap();
        // The client forged a left-most entry; the proxy appended the real one.
        let headers = h(&[("x-forwarded-for", "6.6.6.6, 203.0.113.7")]);
        assert_eq!(
            resolve(ip("127.0.0.1"), &headers, &proxies),
            ip("203.0.113.7")
        );
        // Two proxies in a row.
        let headers = h(&[("x-forwarded-for", "6.6.6.6, 203.0.113.7, 10.1.2.3")]);
        assert_eq!(
            resolve(ip("127.0.0.1"), &headers, &proxies),
            ip("203.0.113.7")
        );
        // Several header lines are one list.
        let headers = h(&[
            ("x-forwarded-for", "6.6.6.6"),
            ("x-forwarded-for", "203.0.113.8"),
        ]);
        assert_eq!(
            resolve(ip("127.0.0.1"), &headers, &proxies),
            ip("203.0.113.8")
        );
        // IPv4-mapped peer.
        let headers = h(&[("x-forwarded-for", "203.0.113.9")]);
        assert_eq!(
            resolve(ip("::ffff:127.0.0.1"), &headers, &proxies),
            ip("203.0.113.9")
        );
        // No header: the proxy itself.
        assert_eq!(
            resolve(ip("127.0.0.1"), &HeaderMap::new(), &proxies),
            ip("127.0.0.1")
        );
        // Garbage where the proxy's entry should be: the last trusted address.
        let headers = h(&[("x-forwarded-for", "6.6.6.6, nonsense")]);
        assert_eq!(
            resolve(ip("127.0.0.1"), &headers, &proxies),
            ip("127.0.0.1")
        );
    }

    #[test]
    fn forwarded_header_when_there_is_no_x_forwarded_for() {
        let proxies = parse_trusted("127.0.0.1").unwrap();
        let headers = h(&[(
            "forwarded",
            "for=6.6.6.6, for=\"[2001:db8::1]:4711\";proto=https",
        )]);
        assert_eq!(
            resolve(ip("127.0.0.1"), &headers, &proxies),
            ip("2001:db8::1")
        );
        let headers = h(&[("forwarded", "for=192.0.2.60;proto=http;by=203.0.113.43")]);
        assert_eq!(
            resolve(ip("127.0.0.1"), &headers, &proxies),
            ip("192.0.2.60")
        );
    }

    #[test]
    fn trusted_list_parsing() {
        assert_eq!(parse_trusted("").unwrap(), vec![]);
        assert_eq!(
            parse_trusted(" 10.0.0.1 , ::1, 172.16.0.0/12")
                .unwrap()
                .len(),
            3
        );
        assert!(parse_trusted("10.0.0.1, proxy.local").is_err());
    }
}
