//! Everything a request handler may reach, explicit and cheap to clone.

use std::{sync::Arc, time::Instant};

use crate::{
    auth::{PasswordHasher, TokenKeys},
    config::Config,
    http::attack::AttackGuard,
    lifecycle::Lifecycle,
    metrics::Metrics,
    rate_limits::RateLimits,
    redis_link::RedisLink,
};

/// Shared by every request; one `Arc`, so the many clones axum makes per request stay cheap.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl AppState {
    pub fn new(shared: Shared) -> Self {
        Self(Arc::new(shared))
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

pub struct Shared {
    pub config: Arc<Config>,
    pub store: caly_store::Store,
    pub redis: Option<RedisLink>,
    pub metrics: Metrics,
    pub lifecycle: Lifecycle,
    pub started_at: Instant,
    pub tokens: TokenKeys,
    /// Signs one-time media-stream tokens (derived from the token signing secret).
    pub media_key: [u8; 32],
    pub passwords: PasswordHasher,
    /// Seals and opens tenants' provider credentials.
    pub secrets: crate::secrets::SecretBox,
    /// `None` when `rate_limits = "off"`.
    pub rate_limits: Option<Arc<RateLimits>>,
    /// `None` when anomaly detection is off.
    pub anomalies: Option<Arc<caly_guard::anomaly::AnomalyDetector>>,
    /// Where call recordings are kept (`<data_dir>/recordings` by default).
    pub recordings: crate::call::recording_store::RecordingStore,
    /// Outbound HTTP to tenants' shops, with the configured timeout.
    pub http: reqwest::Client,
    /// The rules engine and the agent's shipped replies.
    pub dialogue: crate::conversation::Dialogue,
    /// Calls' speech providers and settings.
    pub speech: Arc<caly_engines::cascade::Speech>,
    /// `None` when every detector class is off.
    pub attack_guard: Option<Arc<AttackGuard>>,
    /// The API description served at `/openapi.json`.
    pub openapi: Arc<utoipa::openapi::OpenApi>,
}
