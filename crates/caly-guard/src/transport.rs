//! Which scheme the client used, and what follows from it: a 308 to HTTPS when HTTPS is
//! enforced, and `Strict-Transport-Security` on answers that went out over HTTPS.
//!
//! A request is HTTPS when it arrived over TLS on our own listener ([`Tls`]), or came from a
//! trusted proxy that says so in `X-Forwarded-Proto` or `Forwarded: proto=`. From any other
//! peer those headers are ignored, like the client-IP headers.

use axum::{
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};

/// Marks a request that arrived over TLS on our own listener.
#[derive(Debug, Clone, Copy)]
pub struct Tls;

/// Two years, with subdomains: what the HSTS preload list asks for.
const HSTS: &str = "max-age=63072000; includeSubDomains";

#[derive(Debug, Clone, Default)]
pub struct HttpsPolicy {
    /// Answer plain-HTTP requests with a 308 to the same URL over HTTPS.
    pub enforce: bool,
    /// Paths served over plain HTTP even when enforcing (probes from an orchestrator that
    /// talks to the pod directly).
    pub exempt_paths: Vec<&'static str>,
}

/// Whether the client's request used HTTPS; `trusted_peer` says the headers may be believed.
pub fn is_https(tls: bool, trusted_peer: bool, headers: &HeaderMap) -> bool {
    tls || (trusted_peer && forwarded_proto(headers).is_some_and(|proto| proto.eq_ignore_ascii_case("https")))
}

fn forwarded_proto(headers: &HeaderMap) -> Option<&str> {
    let from_forwarded = headers
        .get(header::FORWARDED)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split([';', ',']).find_map(|pair| pair.trim().strip_prefix("proto=")));
    from_forwarded.or_else(|| {
        let value = headers.get("x-forwarded-proto")?.to_str().ok()?;
        // A chain of proxies appends; the first entry is what the client used.
        value.split(',').next().map(str::trim)
    })
}

impl HttpsPolicy {
    /// The redirect for a plain-HTTP request that must use HTTPS, if any.
    pub fn redirect(&self, https: bool, headers: &HeaderMap, path_and_query: &str) -> Option<Response> {
        let path = path_and_query.split('?').next().unwrap_or_default();
        if !self.enforce || https || self.exempt_paths.contains(&path) {
            return None;
        }
        let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).filter(|h| is_host(h));
        let Some(location) =
            host.and_then(|host| HeaderValue::try_from(format!("https://{host}{path_and_query}")).ok())
        else {
            return Some(crate::Problem::for_status(StatusCode::BAD_REQUEST).into_response());
        };
        Some((StatusCode::PERMANENT_REDIRECT, [(header::LOCATION, location)]).into_response())
    }
}

/// A `Host` header fit to put in a redirect: a name or address and an optional port, nothing
/// that could turn the Location into another URL.
fn is_host(host: &str) -> bool {
    !host.is_empty() && host.bytes().all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
}

/// Adds `Strict-Transport-Security` to an answer that goes out over HTTPS.
pub fn add_hsts(https: bool, headers: &mut HeaderMap) {
    if https {
        headers.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static(HSTS));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        pairs.iter().map(|(k, v)| (k.parse().unwrap(), HeaderValue::from_static(v))).collect()
    }

    #[test]
    fn forwarded_scheme_counts_only_from_a_trusted_peer() {
        let https = headers(&[("x-forwarded-proto", "https")]);
        assert!(is_https(false, true, &https));
        assert!(!is_https(false, false, &https), "spoofed by the client");
        assert!(is_https(false, true, &headers(&[("forwarded", "for=1.2.3.4;proto=https")])));
        assert!(!is_https(false, true, &headers(&[("x-forwarded-proto", "http, https")])));
        assert!(is_https(true, false, &HeaderMap::new()));
    }

    #[test]
    fn plain_requests_are_redirected_unless_exempt() {
        let policy = HttpsPolicy { enforce: true, exempt_paths: vec!["/livez"] };
        let host = headers(&[("host", "shop.example.in:8443")]);
        let redirect = policy.redirect(false, &host, "/api/v1/me?x=1").unwrap();
        assert_eq!(redirect.status(), StatusCode::PERMANENT_REDIRECT);
        assert_eq!(redirect.headers()[header::LOCATION], "https://shop.example.in:8443/api/v1/me?x=1");
        assert!(policy.redirect(true, &host, "/api/v1/me").is_none());
        assert!(policy.redirect(false, &host, "/livez").is_none());
        let evil = headers(&[("host", "evil.example/phish?")]);
        assert_eq!(policy.redirect(false, &evil, "/").unwrap().status(), StatusCode::BAD_REQUEST);
        assert!(HttpsPolicy::default().redirect(false, &host, "/").is_none());
    }
}
