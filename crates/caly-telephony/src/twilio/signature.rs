//! `X-Twilio-Signature`: base64 HMAC-SHA1, keyed by the account's auth token, over the full
//! webhook URL followed by each form parameter's name and value, sorted by name. JSON bodies
//! are signed over the URL alone, which carries the body's SHA-256 as `bodySHA256`.
//! Twilio signs the URL sometimes with and sometimes without the default port, so both pass.

use hmac::{Hmac, KeyInit, Mac};
use sha1::Sha1;
use sha2::{Digest, Sha256};
use url::Url;

use crate::wire::{base64_text, same};

/// The signature Twilio would send for a form-encoded request.
pub fn sign(auth_token: &str, url: &str, params: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    sorted.sort();
    let mut mac = Hmac::<Sha1>::new_from_slice(auth_token.as_bytes()).expect("HMAC takes any key length");
    mac.update(url.as_bytes());
    for (name, value) in sorted {
        mac.update(name.as_bytes());
        mac.update(value.as_bytes());
    }
    base64_text(&mac.finalize().into_bytes())
}

/// Whether `signature` signs a form-encoded request to `url` with `params`.
pub fn verify_form(auth_token: &str, url: &str, params: &[(String, String)], signature: &str) -> bool {
    url_forms(url).iter().any(|url| same(&sign(auth_token, url, params), signature))
}

/// Whether `signature` signs a JSON request to `url` (which must carry `bodySHA256`) with `body`.
pub fn verify_body(auth_token: &str, url: &str, body: &[u8], signature: &str) -> bool {
    let Ok(parsed) = Url::parse(url) else { return false };
    let Some((_, claimed)) = parsed.query_pairs().find(|(name, _)| name == "bodySHA256") else { return false };
    let actual = hex::encode(Sha256::digest(body));
    same(&actual, &claimed) && verify_form(auth_token, url, &[], signature)
}

/// The URL as given, without its port and with the scheme's default port (string surgery
/// rather than a URL parser, which would normalise what was signed).
fn url_forms(url: &str) -> Vec<String> {
    let mut forms = vec![url.to_owned()];
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else { return forms };
    let authority_end = url[scheme_end..].find(['/', '?', '#']).map_or(url.len(), |i| scheme_end + i);
    let authority = &url[scheme_end..authority_end];
    let host = match authority.rsplit_once(':') {
        Some((host, port)) if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => host,
        _ => authority,
    };
    let default_port = if url.starts_with("https://") { 443 } else { 80 };
    let (before, after) = (&url[..scheme_end], &url[authority_end..]);
    forms.push(format!("{before}{host}{after}"));
    if host == authority {
        forms.push(format!("{before}{host}:{default_port}{after}"));
    }
    forms.dedup();
    forms
}

#[cfg(test)]
mod tests {
    use super::*;

    fn twilio_example() -> Vec<(String, String)> {
        [
            ("CallSid", "CA1234567890ABCDE"),
            ("Caller", "+12349013030"),
            ("Digits", "1234"),
            ("From", "+12349013030"),
            ("To", "+18005551212"),
        ]
        .into_iter()
        .map(|(n, v)| (n.into(), v.into()))
        .collect()
    }

    /// The example of Twilio's security documentation and its helper libraries' tests.
    #[test]
    fn twilio_published_form_example() {
        let url = "https://mycompany.com/myapp.php?foo=1&bar=2";
        assert_eq!(sign("12345", url, &twilio_example()), "0/KCTR6DLpKmkAf8muzZqo1nDgQ=");
        assert!(verify_form("12345", url, &twilio_example(), "0/KCTR6DLpKmkAf8muzZqo1nDgQ="));
        assert!(!verify_form("12346", url, &twilio_example(), "0/KCTR6DLpKmkAf8muzZqo1nDgQ="));
        let mut changed = twilio_example();
        changed[2].1 = "1235".into();
        assert!(!verify_form("12345", url, &changed, "0/KCTR6DLpKmkAf8muzZqo1nDgQ="));
    }

    #[test]
    fn twilio_published_json_example() {
        let body = br#"{"property": "value", "boolean": true}"#;
        let url = "https://mycompany.com/myapp.php?foo=1&bar=2&bodySHA256=0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620";
        assert!(verify_body("12345", url, body, "a9nBmqA0ju/hNViExpshrM61xv4="));
        assert!(!verify_body(
            "12345",
            url,
            br#"{"property": "value", "boolean": false}"#,
            "a9nBmqA0ju/hNViExpshrM61xv4="
        ));
    }

    #[test]
    fn port_or_not_both_pass() {
        let params = twilio_example();
        let signed_with_port = sign("token", "https://example.in:443/telephony/twilio/voice", &params);
        assert!(verify_form("token", "https://example.in/telephony/twilio/voice", &params, &signed_with_port));
        let signed_without = sign("token", "https://example.in/telephony/twilio/voice", &params);
        assert!(verify_form("token", "https://example.in:443/telephony/twilio/voice", &params, &signed_without));
        assert!(!verify_form("token", "https://example.in/telephony/twilio/status", &params, &signed_without));
        assert!(!verify_form("token", "http://example.in/telephony/twilio/voice", &params, &signed_without));
    }
}
