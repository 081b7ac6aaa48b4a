//! Sign-in: password hashing, access tokens (JWT) and refresh-token rotation.
//!
//! Access tokens are stateless and live `auth.access_token_ttl` (15 min by default): that is
//! the longest a deactivated user or a revoked session keeps working. Refresh tokens are opaque,
//! stored hashed, single use, and grouped in families so that a reused one revokes its family.

mod passwords;
mod tokens;

pub use passwords::PasswordHasher;
pub use tokens::{AccessClaims, TokenKeys};

use std::{
    path::Path,
    time::{SystemTime, UNIX_EPOCH},
};

use anyhow::Context;
use rand::RngExt;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

use crate::config::AuthConfig;

/// Now, in the store's unit: microseconds since the Unix epoch.
pub fn now_micros() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_micros() as i64)
}

/// A new opaque token: 32 random bytes, hex.
pub fn random_token() -> String {
    let bytes: [u8; 32] = rand::rng().random();
    hex::encode(bytes)
}

/// How refresh tokens are stored: their SHA-256, hex.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// The signing key: configured, or created once in the data directory (mode 0600).
pub fn signing_secret(config: &AuthConfig, data_dir: &Path) -> anyhow::Result<SecretString> {
    local_secret(config.jwt_secret.as_ref(), data_dir, "jwt-secret", "a signing key for access tokens")
}

/// A secret from configuration, else one kept in `data_dir/file` (random 32 bytes, hex,
/// mode 0600), created on first use.
pub fn local_secret(
    configured: Option<&SecretString>,
    data_dir: &Path,
    file: &str,
    what: &str,
) -> anyhow::Result<SecretString> {
    if let Some(secret) = configured {
        return Ok(secret.clone());
    }
    let path = data_dir.join(file);
    if let Ok(existing) = std::fs::read_to_string(&path) {
        return Ok(SecretString::from(existing.trim().to_owned()));
    }
    std::fs::create_dir_all(data_dir).with_context(|| format!("cannot create {}", data_dir.display()))?;
    let secret = random_token();
    write_private(&path, &secret).with_context(|| format!("cannot write {}", path.display()))?;
    tracing::info!(path = %path.display(), "created {what}");
    Ok(SecretString::from(secret))
}

fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::{io::Write, os::unix::fs::OpenOptionsExt};
    let mut file = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)?;
    file.write_all(contents.as_bytes())
}

/// Compares secrets without an early exit, so timing reveals nothing.
pub fn same_secret(a: &SecretString, b: &str) -> bool {
    use subtle::ConstantTimeEq;
    bool::from(a.expose_secret().as_bytes().ct_eq(b.as_bytes()))
}
