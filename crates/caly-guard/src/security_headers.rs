//! Response headers that tell browsers to be strict with what we send. Set on every response,
//! errors included; a handler that sets one of them itself (say, its own `Cache-Control`)
//! keeps its value.

use axum::http::{HeaderMap, HeaderName, HeaderValue, header};

const X_POWERED_BY: HeaderName = HeaderName::from_static("x-powered-by");

#[derive(Debug, Clone)]
pub struct SecurityHeaders(Vec<(HeaderName, HeaderValue)>);

impl SecurityHeaders {
    /// The set for a JSON API: nothing may be framed, embedded, sniffed or cached.
    pub fn api() -> Self {
        let set = |name: HeaderName, value: &'static str| (name, HeaderValue::from_static(value));
        Self(vec![
            set(header::CONTENT_SECURITY_POLICY, "default-src 'none'; frame-ancestors 'none'"),
            set(header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            set(header::X_FRAME_OPTIONS, "DENY"),
            set(header::REFERRER_POLICY, "no-referrer"),
            set(HeaderName::from_static("permissions-policy"), "camera=(), geolocation=(), payment=(), microphone=()"),
            set(HeaderName::from_static("cross-origin-opener-policy"), "same-origin"),
            set(HeaderName::from_static("cross-origin-resource-policy"), "same-origin"),
            set(header::CACHE_CONTROL, "no-store"),
        ])
    }

    pub fn apply(&self, headers: &mut HeaderMap) {
        headers.reserve(self.0.len());
        for (name, value) in &self.0 {
            headers.entry(name).or_insert_with(|| value.clone());
        }
        headers.remove(header::SERVER);
        headers.remove(X_POWERED_BY);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sets_missing_headers_and_keeps_a_handlers_own() {
        let mut headers = HeaderMap::new();
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("max-age=60"));
        headers.insert(header::SERVER, HeaderValue::from_static("leaky/1.0"));
        SecurityHeaders::api().apply(&mut headers);
        assert_eq!(headers[header::CACHE_CONTROL], "max-age=60");
        assert_eq!(headers[header::X_FRAME_OPTIONS], "DENY");
        assert!(!headers.contains_key(header::SERVER));
    }
}
