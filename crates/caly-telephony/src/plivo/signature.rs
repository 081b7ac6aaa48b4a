//! Plivo's V3 signature (`X-Plivo-Signature-V3`, with `X-Plivo-Signature-V3-Nonce`): base64
//! HMAC-SHA256, keyed by the auth token, over `<url>.<nonce>`, where for a POST `<url>` is the
//! URL without its query, then `?` and the query's parameters sorted as `name=value` joined by
//! `&`, then (when both exist) `.`, then the form parameters sorted as `namevalue`. The header
//! may hold several signatures separated by commas (one per auth token in rotation).

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use url::Url;

use crate::wire::{base64_text, same};

/// What Plivo signs for a POST to `url` with form `params`; `None` if `url` is not a URL.
fn signed_text(url: &str, params: &[(String, String)]) -> Option<String> {
    let parsed = Url::parse(url).ok()?;
    let mut text = parsed[..url::Position::AfterPath].to_owned();
    let mut query: Vec<(String, String)> = parsed.query_pairs().into_owned().collect();
    query.sort();
    let query: Vec<String> = query.iter().map(|(name, value)| format!("{name}={value}")).collect();
    let query = query.join("&");
    if !query.is_empty() || !params.is_empty() {
        text.push('?');
        text.push_str(&query);
    }
    if !query.is_empty() && !params.is_empty() {
        text.push('.');
    }
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    sorted.sort();
    for (name, value) in sorted {
        text.push_str(name);
        text.push_str(value);
    }
    Some(text)
}

/// The V3 signature of a POST to `url` with `params` and `nonce`.
pub fn sign(auth_token: &str, url: &str, nonce: &str, params: &[(String, String)]) -> Option<String> {
    let text = signed_text(url, params)?;
    let mut mac = Hmac::<Sha256>::new_from_slice(auth_token.as_bytes()).expect("HMAC takes any key length");
    mac.update(text.as_bytes());
    mac.update(b".");
    mac.update(nonce.as_bytes());
    Some(base64_text(&mac.finalize().into_bytes()))
}

/// Whether any of the comma-separated `signatures` signs this POST.
pub fn verify(auth_token: &str, url: &str, nonce: &str, params: &[(String, String)], signatures: &str) -> bool {
    let Some(expected) = sign(auth_token, url, nonce, params) else { return false };
    signatures.split(',').any(|given| same(given.trim(), &expected))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params() -> Vec<(String, String)> {
        [("CallUUID", "c0ffee"), ("From", "919812345678"), ("To", "918035000000")]
            .into_iter()
            .map(|(n, v)| (n.into(), v.into()))
            .collect()
    }

    #[test]
    fn the_signed_text_follows_plivos_layout() {
        assert_eq!(
            signed_text("https://x.in/answer?b=2&a=1", &params()).unwrap(),
            "https://x.in/answer?a=1&b=2.CallUUIDc0ffeeFrom919812345678To918035000000"
        );
        assert_eq!(
            signed_text("https://x.in/answer", &params()).unwrap(),
            "https://x.in/answer?CallUUIDc0ffeeFrom919812345678To918035000000"
        );
        assert_eq!(signed_text("https://x.in/answer?a=1", &[]).unwrap(), "https://x.in/answer?a=1");
        assert_eq!(signed_text("https://x.in/answer", &[]).unwrap(), "https://x.in/answer");
    }

    #[test]
    fn any_of_several_signatures_passes_and_a_changed_parameter_fails() {
        let good = sign("token", "https://x.in/answer", "12345", &params()).unwrap();
        assert!(verify("token", "https://x.in/answer", "12345", &params(), &format!("bogus=,{good}")));
        assert!(!verify("token", "https://x.in/answer", "12346", &params(), &good));
        let mut changed = params();
        changed[1].1 = "919812345679".into();
        assert!(!verify("token", "https://x.in/answer", "12345", &changed, &good));
    }
}
