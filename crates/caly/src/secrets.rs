//! Provider credentials at rest: AES-256-GCM with a random 96-bit nonce per value, and the
//! tenant and credential name as associated data, so a sealed value copied to another tenant
//! or field does not open.

use aes_gcm::{
    Aes256Gcm, KeyInit, Nonce,
    aead::{Aead, Payload},
};
use rand::RngExt;

/// The key's 32 bytes from its 64 hex characters.
pub fn key_bytes(hex_key: &str) -> Option<[u8; 32]> {
    hex::decode(hex_key.trim()).ok()?.try_into().ok()
}

#[derive(Clone)]
pub struct SecretBox {
    cipher: Aes256Gcm,
}

impl SecretBox {
    pub fn new(key: &[u8; 32]) -> Self {
        Self { cipher: Aes256Gcm::new(key.into()) }
    }

    /// `nonce ‖ ciphertext`, hex.
    pub fn seal(&self, tenant_id: &str, name: &str, plaintext: &str) -> String {
        let nonce: [u8; 12] = rand::rng().random();
        let aad = format!("{tenant_id}/{name}");
        let sealed = self
            .cipher
            .encrypt(&Nonce::from(nonce), Payload { msg: plaintext.as_bytes(), aad: aad.as_bytes() })
            .expect("AES-GCM encryption of a short value cannot fail");
        hex::encode([nonce.as_slice(), &sealed].concat())
    }

    /// The plaintext, or `None` if the value was not sealed by this key for this tenant and name.
    pub fn open(&self, tenant_id: &str, name: &str, sealed: &str) -> Option<String> {
        let bytes = hex::decode(sealed).ok()?;
        let (nonce, ciphertext) = bytes.split_at_checked(12)?;
        let nonce = Nonce::from(<[u8; 12]>::try_from(nonce).ok()?);
        let aad = format!("{tenant_id}/{name}");
        let plain = self.cipher.decrypt(&nonce, Payload { msg: ciphertext, aad: aad.as_bytes() }).ok()?;
        String::from_utf8(plain).ok()
    }
}

/// A tenant's stored credential `name`, opened. One that will not open (sealed under another
/// settings key) is logged and counts as not set.
pub async fn stored(
    store: &caly_store::Store,
    secrets: &SecretBox,
    tenant_id: &str,
    name: &str,
) -> Result<Option<String>, caly_store::StoreError> {
    let Some(sealed) = store.sealed_secret(tenant_id, name).await? else { return Ok(None) };
    let opened = secrets.open(tenant_id, name, &sealed);
    if opened.is_none() {
        tracing::error!(tenant_id, credential = name, "a stored credential does not open");
    }
    Ok(opened)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_where_they_were_sealed() {
        let secrets = SecretBox::new(&[7; 32]);
        let sealed = secrets.seal("tenant-a", "twilio_auth_token", "s3cret-token");
        assert!(!sealed.contains("s3cret"));
        assert_ne!(sealed, secrets.seal("tenant-a", "twilio_auth_token", "s3cret-token"), "fresh nonce each time");
        assert_eq!(secrets.open("tenant-a", "twilio_auth_token", &sealed).as_deref(), Some("s3cret-token"));
        assert_eq!(secrets.open("tenant-b", "twilio_auth_token", &sealed), None);
        assert_eq!(secrets.open("tenant-a", "plivo_auth_token", &sealed), None);
        assert_eq!(SecretBox::new(&[8; 32]).open("tenant-a", "twilio_auth_token", &sealed), None);
        assert_eq!(secrets.open("tenant-a", "twilio_auth_token", "00"), None);
    }

    #[test]
    fn keys_are_64_hex_characters() {
        assert!(key_bytes(&"ab".repeat(32)).is_some());
        assert!(key_bytes("abcd").is_none());
        assert!(key_bytes(&"zz".repeat(32)).is_none());
    }
}
