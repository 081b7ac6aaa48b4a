//! The rate-limit policies in force, by name. In memory for now (one instance); Redis-backed
//! limits for several instances are still to come.

use std::{num::NonZeroU32, time::Duration};

use caly_guard::rate_limit::{Limiter, Policy};

/// How often idle keys are dropped.
pub const SWEEP_EVERY: Duration = Duration::from_secs(60);

pub struct RateLimits {
    /// Sign-in attempts per client IP: 6 per 15 minutes.
    pub login: Limiter,
    /// Registrations per client IP: 5 per 15 minutes.
    pub register: Limiter,
    /// Any other unauthenticated API request per client IP: 120 per minute.
    pub public: Limiter,
}

fn policy(name: &'static str, limit: u32, window_secs: u64) -> Limiter {
    let limit = NonZeroU32::new(limit).expect("policies allow at least one request");
    Limiter::new(Policy { name, limit, window: Duration::from_secs(window_secs) })
}

impl Default for RateLimits {
    fn default() -> Self {
        Self { login: policy("login", 6, 900), register: policy("register", 5, 900), public: policy("public", 120, 60) }
    }
}

impl RateLimits {
    pub fn forget_idle(&self) {
        for limiter in [&self.login, &self.register, &self.public] {
            let kept = limiter.forget_idle();
            tracing::debug!(policy = limiter.policy().name, kept, "rate-limit keys swept");
        }
    }
}
