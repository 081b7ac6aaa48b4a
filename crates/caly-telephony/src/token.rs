//! One-time media tokens: the webhook answer names the media WebSocket with a token that binds
//! the call, its tenant and its carrier and expires soon; the socket is refused without it.
//! `base64url(claims).base64url(HMAC-SHA256(claims))`. That a token is used only once is the
//! caller's to enforce (the call row records the first connection).

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::Carrier;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaClaims {
    pub call_id: String,
    pub tenant_id: String,
    pub carrier: String,
    /// Unix seconds.
    pub expires_at: i64,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TokenError {
    #[error("not a media token")]
    Malformed,
    #[error("the media token's signature does not match")]
    BadSignature,
    #[error("the media token expired")]
    Expired,
    #[error("the media token is for another carrier")]
    WrongCarrier,
}

fn mac(key: &[u8], claims: &str) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(b"caly media token v1\0");
    mac.update(claims.as_bytes());
    mac
}

pub fn sign(key: &[u8], claims: &MediaClaims) -> String {
    let text = format!("{}|{}|{}|{}", claims.call_id, claims.tenant_id, claims.carrier, claims.expires_at);
    let tag = mac(key, &text).finalize().into_bytes();
    format!("{}.{}", URL_SAFE_NO_PAD.encode(&text), URL_SAFE_NO_PAD.encode(tag))
}

/// The claims of a token signed with `key` for `carrier` that has not expired at `now` (unix s).
pub fn verify(key: &[u8], token: &str, carrier: Carrier, now: i64) -> Result<MediaClaims, TokenError> {
    let (text, tag) = token.split_once('.').ok_or(TokenError::Malformed)?;
    let text = URL_SAFE_NO_PAD.decode(text).map_err(|_| TokenError::Malformed)?;
    let tag = URL_SAFE_NO_PAD.decode(tag).map_err(|_| TokenError::Malformed)?;
    let text = String::from_utf8(text).map_err(|_| TokenError::Malformed)?;
    mac(key, &text).verify_slice(&tag).map_err(|_| TokenError::BadSignature)?;
    let mut parts = text.split('|');
    let mut part = || parts.next().ok_or(TokenError::Malformed);
    let claims = MediaClaims {
        call_id: part()?.to_owned(),
        tenant_id: part()?.to_owned(),
        carrier: part()?.to_owned(),
        expires_at: part()?.parse().map_err(|_| TokenError::Malformed)?,
    };
    if claims.carrier != carrier.as_str() {
        return Err(TokenError::WrongCarrier);
    }
    if now >= claims.expires_at {
        return Err(TokenError::Expired);
    }
    Ok(claims)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims() -> MediaClaims {
        MediaClaims { call_id: "c1".into(), tenant_id: "t1".into(), carrier: "twilio".into(), expires_at: 1_000 }
    }

    #[test]
    fn a_token_verifies_until_it_expires_and_only_with_its_key_and_carrier() {
        let token = sign(b"key", &claims());
        assert_eq!(verify(b"key", &token, Carrier::Twilio, 999), Ok(claims()));
        assert_eq!(verify(b"key", &token, Carrier::Twilio, 1_000), Err(TokenError::Expired));
        assert_eq!(verify(b"other", &token, Carrier::Twilio, 999), Err(TokenError::BadSignature));
        assert_eq!(verify(b"key", &token, Carrier::Plivo, 999), Err(TokenError::WrongCarrier));
        assert_eq!(verify(b"key", "nonsense", Carrier::Twilio, 999), Err(TokenError::Malformed));
        let (text, tag) = token.split_once('.').unwrap();
        let forged = URL_SAFE_NO_PAD.encode("c1|t2|twilio|1000");
        assert_eq!(verify(b"key", &format!("{forged}.{tag}"), Carrier::Twilio, 999), Err(TokenError::BadSignature));
        assert!(!text.is_empty());
    }
}
