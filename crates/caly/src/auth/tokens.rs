//! Access tokens: HS256 JWTs with the algorithm pinned, issuer and audience checked.

use std::time::Duration;

use caly_core::Role;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

const ISSUER: &str = "caly";
const AUDIENCE: &str = "caly-api";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccessClaims {
    pub iss: String,
    pub aud: String,
    /// The user's id.
    pub sub: String,
    /// The tenant's id.
    pub tid: String,
    pub role: Role,
    /// Token id.
    pub jti: String,
    /// Refresh family (session) this token was issued in.
    pub sid: String,
    pub iat: u64,
    pub exp: u64,
}

#[derive(Clone)]
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    pub access_ttl: Duration,
}

impl TokenKeys {
    pub fn new(secret: &SecretString, access_ttl: Duration) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = 0;
        let secret = secret.expose_secret().as_bytes();
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            access_ttl,
        }
    }

    pub fn issue(&self, user_id: &str, tenant_id: &str, role: Role, session: &str, now_secs: u64) -> String {
        let claims = AccessClaims {
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
            sub: user_id.into(),
            tid: tenant_id.into(),
            role,
            jti: caly_store::new_id(),
            sid: session.into(),
            iat: now_secs,
            exp: now_secs + self.access_ttl.as_secs(),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .expect("HS256 signing cannot fail")
    }

    /// The claims of a valid, unexpired token signed by us; `None` for anything else.
    pub fn verify(&self, token: &str) -> Option<AccessClaims> {
        jsonwebtoken::decode::<AccessClaims>(token, &self.decoding, &self.validation).ok().map(|data| data.claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(secret: &str) -> TokenKeys {
        TokenKeys::new(&SecretString::from(secret), Duration::from_secs(900))
    }

    fn now() -> u64 {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
    }

    #[test]
    fn tokens_round_trip_and_reject_tampering() {
        let keys = keys("0123456789abcdef0123456789abcdef");
        let token = keys.issue("u1", "t1", Role::Admin, "s1", now());
        let claims = keys.verify(&token).unwrap();
        assert_eq!((claims.sub.as_str(), claims.tid.as_str(), claims.role), ("u1", "t1", Role::Admin));
        assert!(keys.verify(&format!("{token}x")).is_none());
        assert!(self::keys("another-secret-another-secret-12").verify(&token).is_none());
        let expired = keys.issue("u1", "t1", Role::Admin, "s1", now() - 1000);
        assert!(keys.verify(&expired).is_none());
    }

    #[test]
    fn unsigned_tokens_are_refused() {
        let keys = keys("0123456789abcdef0123456789abcdef");
        let token = keys.issue("u1", "t1", Role::Owner, "s1", now());
        let payload = token.split('.').nth(1).unwrap();
        // {"alg":"none","typ":"JWT"}
        let forged = format!("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.{payload}.");
        assert!(keys.verify(&forged).is_none());
    }
}
