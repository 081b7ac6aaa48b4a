//! Redaction of secrets before anything reaches a log.

use std::borrow::Cow;

use axum::http::HeaderMap;

pub const REDACTED: &str = "[REDACTED]";

/// Whether a field, parameter or header of this name may carry a secret.
pub fn is_sensitive(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    matches!(name.as_str(), "authorization" | "proxy-authorization" | "cookie" | "set-cookie")
        || ["secret", "token", "password", "api-key", "api_key", "apikey"].iter().any(|s| name.contains(s))
}

/// A query string with the values of sensitive parameters replaced.
pub fn query(query: &str) -> Cow<'_, str> {
    if !query.split('&').any(|pair| is_sensitive(pair.split('=').next().unwrap_or(pair))) {
        return Cow::Borrowed(query);
    }
    let pairs: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((key, _)) if is_sensitive(key) => format!("{key}={REDACTED}"),
            _ => pair.to_owned(),
        })
        .collect();
    Cow::Owned(pairs.join("&"))
}

/// Headers as `name: value` lines with sensitive values replaced; non-UTF-8 values are elided.
pub fn headers(headers: &HeaderMap) -> String {
    let mut out = String::new();
    for (name, value) in headers {
        let value = if is_sensitive(name.as_str()) { REDACTED } else { value.to_str().unwrap_or("[binary]") };
        if !out.is_empty() {
            out.push_str("; ");
        }
        out.push_str(name.as_str());
        out.push_str(": ");
        out.push_str(value);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_sensitive_query_values_only() {
        assert_eq!(query("page=2&limit=5"), "page=2&limit=5");
        assert_eq!(
            query("token=abc&page=2&user_password=x&client_secret=y&flag"),
            "token=[REDACTED]&page=2&user_password=[REDACTED]&client_secret=[REDACTED]&flag"
        );
        assert_eq!(query("Access_Token=abc"), "Access_Token=[REDACTED]");
    }

    proptest::proptest! {
        /// No value of a sensitive parameter survives, whatever the query looks like.
        #[test]
        fn sensitive_values_never_survive(prefix in "[a-z=&]{0,20}", secret in "[A-Za-z0-9]{8,16}", suffix in "[a-z=&]{0,20}") {
            let q = format!("{prefix}&access_token={secret}&{suffix}");
            let leaked = format!("={secret}");
            proptest::prop_assert!(!query(&q).contains(&leaked));
        }
    }

    #[test]
    fn redacts_credential_headers() {
        let mut map = HeaderMap::new();
        map.insert("authorization", "Bearer s3cr3t".parse().unwrap());
        map.insert("cookie", "sid=s3cr3t".parse().unwrap());
        map.insert("x-health-token", "s3cr3t".parse().unwrap());
        map.insert("user-agent", "curl/8".parse().unwrap());
        let line = headers(&map);
        assert!(!line.contains("s3cr3t"), "{line}");
        assert!(line.contains("user-agent: curl/8"));
        assert_eq!(line.matches(REDACTED).count(), 3);
    }
}
