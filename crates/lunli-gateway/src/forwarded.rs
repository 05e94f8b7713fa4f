//! Who is on the other end of a request when the gateway runs behind a reverse proxy.
//!
//! Without trusted proxies (`trusted_proxies` in the configuration, `--trusted-proxy` on
//! `lunli serve`) the client is the connection's peer and `X-Forwarded-For` and
//! `X-Forwarded-Proto` are ignored: anyone can send them, and believing them would let one client
//! pose as many and dodge the feedback limit. When the peer is a trusted proxy, the client is the
//! right-most address of `X-Forwarded-For` that is not itself a trusted proxy (each proxy appends
//! the address it received the request from, so addresses to the left of the first untrusted
//! one are whatever that client chose to send); and `X-Forwarded-Proto: https` from the proxy
//! means the browser reached it over HTTPS, so the dashboard's cookies get `Secure`.
//!
//! A malformed `X-Forwarded-For` is not trusted at all: the client is then the peer.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::Response;
pub use ipnet::IpNet;
use serde::{Deserialize, Deserializer};

use crate::config::GatewayConfig;

/// A trusted proxy's network: CIDR (`10.0.0.0/8`, `fd00::/8`) or a single address.
pub fn parse_cidr(text: &str) -> Result<IpNet, String> {
    let text = text.trim();
    text.parse::<IpNet>().or_else(|_| text.parse::<IpAddr>().map(IpNet::from)).map_err(|_| {
        format!("`{text}` is not a network in CIDR notation (like 10.0.0.0/8 or fd00::/8) or an IP address")
    })
}

/// Deserializes a list of [`parse_cidr`] networks (the `trusted_proxies` configuration key).
pub(crate) fn deserialize_cidrs<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<IpNet>, D::Error> {
    Vec::<String>::deserialize(deserializer)?
        .iter()
        .map(|text| parse_cidr(text).map_err(serde::de::Error::custom))
        .collect()
}

/// What the gateway takes to be the client of a request; every request carries one (an
/// extension set by [`layer`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Forwarded {
    /// The client's address: the peer, or the address a trusted proxy forwarded for.
    pub client: IpAddr,
    /// A trusted proxy said the client reached it over HTTPS.
    pub https: bool,
}

fn trusted(proxies: &[IpNet], address: IpAddr) -> bool {
    let address = address.to_canonical();
    proxies.iter().any(|net| net.contains(&address))
}

/// One address of `X-Forwarded-For`: an IP, possibly with a port (`1.2.3.4:5678`, `[::1]:80`).
fn forwarded_address(entry: &str) -> Option<IpAddr> {
    let entry = entry.trim();
    entry
        .parse::<IpAddr>()
        .ok()
        .or_else(|| entry.parse::<SocketAddr>().ok().map(|s| s.ip()))
        .map(|ip| ip.to_canonical())
}

/// The comma-separated values of every instance of a header, in order; `None` when one is not
/// text.
fn values<'h>(headers: &'h HeaderMap, name: &str) -> Option<Vec<&'h str>> {
    let mut out = Vec::new();
    for value in headers.get_all(name) {
        out.extend(value.to_str().ok()?.split(','));
    }
    Some(out)
}

impl Forwarded {
    /// The client of a request from `peer` (unknown when the server was not told the peer).
    pub fn of(peer: Option<IpAddr>, headers: &HeaderMap, proxies: &[IpNet]) -> Self {
        let Some(peer) = peer.map(|p| p.to_canonical()) else {
            return Self { client: IpAddr::V4(Ipv4Addr::UNSPECIFIED), https: false };
        };
        if !trusted(proxies, peer) {
            return Self { client: peer, https: false };
        }
        let https = values(headers, "x-forwarded-proto")
            .and_then(|v| v.last().map(|proto| proto.trim().eq_ignore_ascii_case("https")))
            .unwrap_or(false);
        Self { client: Self::client_behind(peer, headers, proxies), https }
    }

    fn client_behind(peer: IpAddr, headers: &HeaderMap, proxies: &[IpNet]) -> IpAddr {
        let Some(chain) = values(headers, "x-forwarded-for") else {
            tracing::debug!(%peer, "X-Forwarded-For is not text; using the peer");
            return peer;
        };
        if chain.iter().all(|entry| entry.trim().is_empty()) {
            return peer;
        }
        let mut leftmost = peer;
        for entry in chain.iter().rev() {
            let Some(address) = forwarded_address(entry) else {
                tracing::debug!(%peer, entry = entry.trim(), "malformed X-Forwarded-For; using the peer");
                return peer;
            };
            if !trusted(proxies, address) {
                return address;
            }
            leftmost = address;
        }
        // Every hop is a trusted proxy: the first of them is as far back as anyone can tell.
        leftmost
    }
}

/// Middleware: works out each request's [`Forwarded`] once and leaves it in its extensions.
pub(crate) async fn layer(State(config): State<Arc<GatewayConfig>>, mut request: Request, next: Next) -> Response {
    let peer = request.extensions().get::<ConnectInfo<SocketAddr>>().map(|ConnectInfo(addr)| addr.ip());
    let forwarded = Forwarded::of(peer, request.headers(), &config.trusted_proxies);
    request.extensions_mut().insert(forwarded);
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(
                axum::http::HeaderName::from_bytes(name.as_bytes()).expect("name"),
                value.parse().expect("value"),
            );
        }
        map
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("ip")
    }

    fn proxies() -> Vec<IpNet> {
        vec![parse_cidr("10.0.0.0/8").expect("net"), parse_cidr("192.0.2.7").expect("address")]
    }

    #[test]
    fn networks_and_single_addresses_parse_and_anything_else_is_named() {
        assert_eq!(parse_cidr(" 10.0.0.0/8 ").expect("v4"), "10.0.0.0/8".parse::<IpNet>().expect("net"));
        assert_eq!(parse_cidr("fd00::/8").expect("v6").prefix_len(), 8);
        assert_eq!(parse_cidr("192.0.2.7").expect("address").prefix_len(), 32);
        let err = parse_cidr("10.0.0.0/33").expect_err("prefix too long");
        assert!(err.contains("`10.0.0.0/33`") && err.contains("CIDR"), "{err}");
        assert!(parse_cidr("proxy.local").is_err());
    }

    #[test]
    fn a_spoofed_header_from_an_untrusted_peer_is_ignored() {
        let h = headers(&[("x-forwarded-for", "203.0.113.9"), ("x-forwarded-proto", "https")]);
        let f = Forwarded::of(Some(ip("198.51.100.1")), &h, &proxies());
        assert_eq!(f, Forwarded { client: ip("198.51.100.1"), https: false });
        // With no trusted proxies at all, the same.
        assert_eq!(Forwarded::of(Some(ip("10.1.1.1")), &h, &[]).client, ip("10.1.1.1"));
    }

    #[test]
    fn behind_a_trusted_proxy_the_client_is_the_rightmost_untrusted_address() {
        // The client sent a made-up address first; its own address was appended by the proxies.
        let h = headers(&[("x-forwarded-for", "1.1.1.1, 203.0.113.9"), ("x-forwarded-for", "10.2.3.4")]);
        let f = Forwarded::of(Some(ip("10.0.0.5")), &h, &proxies());
        assert_eq!(f.client, ip("203.0.113.9"));
        assert!(!f.https);
        // Ports and IPv6, and an IPv4-mapped peer.
        let h = headers(&[("x-forwarded-for", "[2001:db8::1]:4711, 192.0.2.7:80"), ("x-forwarded-proto", "https")]);
        let f = Forwarded::of(Some(ip("::ffff:10.0.0.5")), &h, &proxies());
        assert_eq!(f, Forwarded { client: ip("2001:db8::1"), https: true });
        // Only trusted hops: the first of them.
        let h = headers(&[("x-forwarded-for", "10.9.9.9, 10.0.0.1")]);
        assert_eq!(Forwarded::of(Some(ip("10.0.0.5")), &h, &proxies()).client, ip("10.9.9.9"));
        // No header: the proxy itself.
        assert_eq!(Forwarded::of(Some(ip("10.0.0.5")), &HeaderMap::new(), &proxies()).client, ip("10.0.0.5"));
    }

    #[test]
    fn a_malformed_header_falls_back_to_the_peer() {
        for bad in ["not-an-ip", "203.0.113.9, ", "203.0.113.9,,10.0.0.1", "999.1.1.1", "unknown"] {
            let h = headers(&[("x-forwarded-for", bad), ("x-forwarded-proto", "http")]);
            let f = Forwarded::of(Some(ip("10.0.0.5")), &h, &proxies());
            assert_eq!(f.client, ip("10.0.0.5"), "{bad}");
        }
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", axum::http::HeaderValue::from_bytes(b"\xff\xfe").expect("bytes"));
        assert_eq!(Forwarded::of(Some(ip("10.0.0.5")), &h, &proxies()).client, ip("10.0.0.5"));
        assert_eq!(Forwarded::of(None, &h, &proxies()).client, IpAddr::V4(Ipv4Addr::UNSPECIFIED));
    }
}
