//! Argon2id with OWASP's parameters (m = 19 MiB, t = 2, p = 1), on blocking threads behind a
//! semaphore: hashing is deliberately slow, and a login flood must queue rather than starve
//! the async runtime.

use std::sync::{Arc, LazyLock};

use anyhow::anyhow;
use argon2::{
    Algorithm, Argon2, Params, Version,
    password_hash::{PasswordHasher as _, PasswordVerifier, phc::PasswordHash},
};
use tokio::sync::Semaphore;

fn argon2() -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::new(19 * 1024, 2, 1, None).expect("valid parameters"))
}

/// A hash of a password nobody has, checked when an email is unknown so that the answer
/// takes as long as for a known one.
static DECOY: LazyLock<String> = LazyLock::new(|| {
    argon2().hash_password(b"decoy password that matches nothing").expect("hashing works").to_string()
});

#[derive(Clone)]
pub struct PasswordHasher {
    slots: Arc<Semaphore>,
}

impl PasswordHasher {
    pub fn new(concurrency: usize) -> Self {
        Self { slots: Arc::new(Semaphore::new(concurrency)) }
    }

    /// A PHC string (`$argon2id$v=19$m=19456,t=2,p=1$…`).
    pub async fn hash(&self, password: &str) -> anyhow::Result<String> {
        let password = password.to_owned();
        self.run(move || argon2().hash_password(password.as_bytes()).map(|h| h.to_string()).map_err(|e| anyhow!("{e}")))
            .await
    }

    /// Whether `password` matches `hash`; with no hash, checks a decoy and answers false.
    pub async fn verify(&self, password: &str, hash: Option<&str>) -> anyhow::Result<bool> {
        let password = password.to_owned();
        let hash = hash.map(str::to_owned);
        self.run(move || {
            let stored = hash.as_deref().unwrap_or(DECOY.as_str());
            let parsed = PasswordHash::new(stored).map_err(|e| anyhow!("stored hash unreadable: {e}"))?;
            Ok(argon2().verify_password(password.as_bytes(), &parsed).is_ok() && hash.is_some())
        })
        .await
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> anyhow::Result<T> + Send + 'static,
    ) -> anyhow::Result<T> {
        let _slot = self.slots.acquire().await?;
        tokio::task::spawn_blocking(work).await?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_and_use_owasp_parameters() {
        let hasher = PasswordHasher::new(1);
        let hash = hasher.hash("correct horse battery").await.unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{hash}");
        assert!(hasher.verify("correct horse battery", Some(&hash)).await.unwrap());
        assert!(!hasher.verify("wrong horse battery", Some(&hash)).await.unwrap());
        assert!(!hasher.verify("decoy password that matches nothing", None).await.unwrap());
    }
}
