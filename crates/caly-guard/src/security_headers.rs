//! Response headers that tell browsers to be strict with what we send. Set on every response,
//! errors included; a handler that sets one of them itself (say, its own `Cache-Control`)
//! keeps its value.

use axum::http::{HeaderMap, HeaderName, HeaderValue, header};

const X_POWERED_BY: HeaderName = HeaderName::from_static("x-powered-by");

/// The headers, as a map that each response's own headers are laid over.
#[derive(Debug, Clone)]
pub struct SecurityHeaders(HeaderMap);

impl SecurityHeaders {
    /// The set for a JSON API: nothing may be framed, embedded, sniffed or cached.
    pub fn api() -> Self {
        let set = |name: HeaderName, value: &'static str| (name, HeaderValue::from_static(value));
        // Room for the response's own headers, so that laying them over does not grow the map.
        let mut headers = HeaderMap::with_capacity(24);
        headers.extend([
            set(header::CONTENT_SECURITY_POLICY, "default-src 'none'; frame-ancestors 'none'"),
            set(header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            set(header::X_FRAME_OPTIONS, "DENY"),
            set(header::REFERRER_POLICY, "no-referrer"),
            set(HeaderName::from_static("permissions-policy"), "camera=(), geolocation=(), payment=(), microphone=()"),
            set(HeaderName::from_static("cross-origin-opener-policy"), "same-origin"),
            set(HeaderName::from_static("cross-origin-resource-policy"), "same-origin"),
            set(header::CACHE_CONTROL, "no-store"),
        ]);
        Self(headers)
    }

    /// Starts from a copy of the set and moves the response's headers over it, so that a
    /// handler's own value replaces ours: a response usually has two or three headers, and this
    /// costs that many insertions instead of one lookup per header of the set (`callgrind`).
    pub fn apply(&self, headers: &mut HeaderMap) {
        let own = std::mem::replace(headers, self.0.clone());
        let mut current: Option<HeaderName> = None;
        for (name, value) in own {
            // `None` stands for another value of the name before.
            let first = name.is_some();
            current = name.or(current);
            let Some(name) = &current else { continue };
            if name == header::SERVER || name == X_POWERED_BY {
                continue;
            }
            if first {
                headers.insert(name.clone(), value);
            } else {
                headers.append(name.clone(), value);
            }
        }
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

    #[test]
    fn keeps_every_value_of_a_repeated_header() {
        let mut headers = HeaderMap::new();
        headers.append(header::SET_COOKIE, HeaderValue::from_static("a=1"));
        headers.append(header::SET_COOKIE, HeaderValue::from_static("b=2"));
        headers.insert(X_POWERED_BY, HeaderValue::from_static("php"));
        headers.append(header::VARY, HeaderValue::from_static("origin"));
        SecurityHeaders::api().apply(&mut headers);
        let cookies: Vec<_> = headers.get_all(header::SET_COOKIE).iter().collect();
        assert_eq!(cookies, ["a=1", "b=2"]);
        assert_eq!(headers[header::VARY], "origin");
        assert!(!headers.contains_key(X_POWERED_BY));
        assert_eq!(headers.len(), 8 + 3);
    }
}
