//! The client's IP address as the rest of the stack should see it. Forwarding headers are
//! believed only from configured trusted proxies, so that a client cannot spoof its address
//! (and with it rate limits and the audit log) by sending `X-Forwarded-For` itself. No other
//! layer reads forwarding headers.

use std::net::IpAddr;

use axum::http::{HeaderMap, HeaderName};
use ipnet::IpNet;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

static X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");
static FORWARDED: HeaderName = HeaderName::from_static("forwarded");

/// Networks whose forwarding headers are believed.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    pub fn new(networks: Vec<IpNet>) -> Self {
        Self(networks)
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|net| net.contains(&ip))
    }

    /// The client behind `peer`: the peer itself unless it is a trusted proxy; then the
    /// nearest address in the forwarding chain that is not a trusted proxy.
    pub fn resolve(&self, peer: IpAddr, headers: &HeaderMap) -> ClientIp {
        if !self.contains(peer) {
            return ClientIp(peer);
        }
        // Hops are appended left to right, so the right-most untrusted one is the client as
        // seen by our own proxies; anything left of it was written by the client.
        let hops = forwarded_for(headers);
        ClientIp(hops.into_iter().rev().find(|ip| !self.contains(*ip)).unwrap_or(peer))
    }
}

/// Addresses from `Forwarded: for=…` (RFC 7239) if present, else from `X-Forwarded-For`.
fn forwarded_for(headers: &HeaderMap) -> Vec<IpAddr> {
    let values = |name: &HeaderName| -> Vec<String> {
        headers.get_all(name).iter().filter_map(|v| v.to_str().ok()).map(str::to_owned).collect()
    };
    let forwarded = values(&FORWARDED);
    if !forwarded.is_empty() {
        return forwarded
            .iter()
            .flat_map(|v| v.split(','))
            .filter_map(|element| {
                element.split(';').find_map(|pair| {
                    let (key, value) = pair.trim().split_once('=')?;
                    key.eq_ignore_ascii_case("for").then(|| parse_node(value))?
                })
            })
            .collect();
    }
    values(&X_FORWARDED_FOR).iter().flat_map(|v| v.split(',')).filter_map(|hop| hop.trim().parse().ok()).collect()
}

/// `192.0.2.1`, `"192.0.2.1:443"`, `"[2001:db8::1]:443"`; obfuscated or unknown nodes are none.
fn parse_node(value: &str) -> Option<IpAddr> {
    let node = value.trim().trim_matches('"');
    if let Some(rest) = node.strip_prefix('[') {
        return rest.split(']').next()?.parse().ok();
    }
    node.parse().ok().or_else(|| node.rsplit_once(':').and_then(|(ip, _)| ip.parse().ok()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        pairs.iter().map(|(k, v)| (HeaderName::from_static(k), v.parse().unwrap())).collect()
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn untrusted_peers_cannot_spoof() {
        let proxies = TrustedProxies::new(vec!["10.0.0.0/8".parse().unwrap()]);
        let spoofed = headers(&[("x-forwarded-for", "1.2.3.4"), ("forwarded", "for=1.2.3.4")]);
        assert_eq!(proxies.resolve(ip("198.51.100.9"), &spoofed), ClientIp(ip("198.51.100.9")));
        assert_eq!(TrustedProxies::default().resolve(ip("10.0.0.1"), &spoofed), ClientIp(ip("10.0.0.1")));
    }

    #[test]
    fn trusted_proxies_name_the_nearest_untrusted_hop() {
        let proxies = TrustedProxies::new(vec!["10.0.0.0/8".parse().unwrap(), "2001:db8::/32".parse().unwrap()]);
        let chain = headers(&[("x-forwarded-for", "6.6.6.6, 203.0.113.7, 10.0.0.3")]);
        assert_eq!(proxies.resolve(ip("10.0.0.2"), &chain), ClientIp(ip("203.0.113.7")));
        let rfc = headers(&[("forwarded", r#"for=6.6.6.6, for="[2001:db8::5]:443";proto=https, for=203.0.113.8"#)]);
        assert_eq!(proxies.resolve(ip("10.0.0.2"), &rfc), ClientIp(ip("203.0.113.8")));
        let only_proxies = headers(&[("x-forwarded-for", "10.1.1.1, garbage")]);
        assert_eq!(proxies.resolve(ip("10.0.0.2"), &only_proxies), ClientIp(ip("10.0.0.2")));
    }

    proptest::proptest! {
        /// Whatever the headers say, the answer is the peer or one of the addresses in them,
        /// and never a trusted proxy unless the peer itself is the answer.
        #[test]
        fn resolve_never_invents_an_address(forwarded in "[ -~]{0,120}", xff in "[ -~]{0,120}", last in 0u8..=255) {
            let proxies = TrustedProxies::new(vec!["10.0.0.0/8".parse().unwrap()]);
            let mut map = HeaderMap::new();
            if let Ok(value) = forwarded.parse() { map.insert("forwarded", value); }
            if let Ok(value) = xff.parse() { map.insert("x-forwarded-for", value); }
            let peer = ip(&format!("10.0.0.{last}"));
            let ClientIp(client) = proxies.resolve(peer, &map);
            let hops = forwarded_for(&map);
            proptest::prop_assert!(client == peer || (hops.contains(&client) && !proxies.contains(client)));
        }

        #[test]
        fn request_from_an_untrusted_peer_is_the_peer(xff in "[ -~]{0,120}", last in 0u8..=255) {
            let mut map = HeaderMap::new();
            if let Ok(value) = xff.parse() { map.insert("x-forwarded-for", value); }
            let peer = ip(&format!("192.0.2.{last}"));
            proptest::prop_assert_eq!(TrustedProxies::new(vec!["10.0.0.0/8".parse().unwrap()]).resolve(peer, &map), ClientIp(peer));
        }
    }

    #[test]
    fn forwarded_nodes_parse() {
        assert_eq!(parse_node("192.0.2.1"), Some(ip("192.0.2.1")));
        assert_eq!(parse_node("\"192.0.2.1:8080\""), Some(ip("192.0.2.1")));
        assert_eq!(parse_node("\"[2001:db8::1]:443\""), Some(ip("2001:db8::1")));
        assert_eq!(parse_node("_hidden"), None);
        assert_eq!(parse_node("unknown"), None);
    }
}
