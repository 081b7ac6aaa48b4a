//! The rate-limit policies in force. In memory for one instance; with Redis configured, the
//! same GCRA runs as one Lua script per decision in Redis, so every instance shares the limit.

use std::{num::NonZeroU32, sync::LazyLock, time::Duration};

use caly_guard::rate_limit::{Decision, Limiter, Policy};
use redis::Script;

use crate::{
    config::{FailMode, PoliciesConfig, PolicyConfig},
    metrics::Metrics,
    redis_link::RedisLink,
};

/// How often idle in-memory keys are dropped.
pub const SWEEP_EVERY: Duration = Duration::from_secs(60);

/// GCRA in Redis, hashed once: `Script::new` computes the script's SHA-1, which a decision
/// should not repeat.
static GCRA_SCRIPT: LazyLock<Script> = LazyLock::new(|| Script::new(GCRA));

/// The script's source. GCRA in Redis: one theoretical arrival time (TAT, µs) per key, read and advanced atomically,
/// on Redis's own clock so that instances with skewed clocks agree. Returns {allowed, remaining
/// or retry-after µs}.
const GCRA: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
if tat - now > tolerance then
  return {0, tat - now - tolerance}
end
local new_tat = tat + interval
redis.call('SET', KEYS[1], new_tat, 'PX', math.ceil((new_tat - now) / 1000))
return {1, math.floor((now + tolerance + interval - new_tat) / interval)}
";

/// Where a policy keeps its counts.
pub enum Store {
    Memory(Limiter),
    Redis { link: RedisLink, prefix: String },
}

pub struct PolicyLimiter {
    pub policy: Policy,
    store: Store,
    fail: FailMode,
    metrics: Metrics,
}

impl PolicyLimiter {
    pub async fn check(&self, key: &str) -> Decision {
        let decision = match &self.store {
            Store::Memory(limiter) => limiter.check(key),
            Store::Redis { link, prefix } => self.check_in_redis(link, prefix, key).await,
        };
        if matches!(decision, Decision::Limited { .. }) {
            self.metrics.rate_limited(self.policy.name);
        }
        decision
    }

    async fn check_in_redis(&self, link: &RedisLink, prefix: &str, key: &str) -> Decision {
        let interval = self.policy.interval().as_micros() as u64;
        let tolerance = interval * u64::from(self.policy.burst.get() - 1);
        let redis_key = format!("{prefix}{}:{key}", self.policy.name);
        let result: Result<(i64, i64), String> = link
            .run(|mut connection| async move {
                GCRA_SCRIPT.key(redis_key).arg(interval).arg(tolerance).invoke_async(&mut connection).await
            })
            .await;
        match result {
            Ok((1, remaining)) => Decision::Allowed { remaining: remaining.max(0) as u32 },
            Ok((_, wait_micros)) => Decision::Limited { retry_after: Duration::from_micros(wait_micros.max(0) as u64) },
            Err(error) => {
                tracing::warn!(policy = self.policy.name, %error, fail = ?self.fail, "rate limiter unreachable");
                self.metrics.rate_limit_store_failed(self.policy.name);
                match self.fail {
                    FailMode::Closed => Decision::Limited { retry_after: Duration::from_secs(1) },
                    FailMode::Open => Decision::Allowed { remaining: 0 },
                }
            }
        }
    }
}

pub struct RateLimits {
    /// Sign-in attempts per client IP.
    pub login: PolicyLimiter,
    /// Registrations per client IP.
    pub register: PolicyLimiter,
    /// Any other unauthenticated API request per client IP.
    pub public: PolicyLimiter,
    pub telephony: PolicyLimiter,
    /// Authenticated API requests per user.
    pub api: PolicyLimiter,
    /// Password-reset requests per account.
    pub password_reset: PolicyLimiter,
    /// Verification mails per account.
    pub verify: PolicyLimiter,
}

impl RateLimits {
    /// In memory, or in Redis under `prefix` when a link is given.
    pub fn new(config: &PoliciesConfig, redis: Option<(RedisLink, String)>, metrics: Metrics) -> Self {
        let make = |name: &'static str, settings: PolicyConfig| {
            let policy = Policy {
                name,
                limit: NonZeroU32::new(settings.limit).expect("validated: at least 1"),
                window: settings.window,
                burst: NonZeroU32::new(settings.burst).expect("validated: at least 1"),
            };
            let store = match &redis {
                Some((link, prefix)) => Store::Redis { link: link.clone(), prefix: prefix.clone() },
                None => Store::Memory(Limiter::new(policy, config.max_keys)),
            };
            PolicyLimiter { policy, store, fail: settings.on_store_failure, metrics: metrics.clone() }
        };
        Self {
            login: make("login", config.login),
            register: make("register", config.register),
            public: make("public", config.public),
            telephony: make("telephony", config.telephony),
            api: make("api", config.api),
            password_reset: make("password_reset", config.password_reset),
            verify: make("verify", config.verify),
        }
    }

    pub fn forget_idle(&self) {
        for limiter in
            [&self.login, &self.register, &self.public, &self.telephony, &self.api, &self.password_reset, &self.verify]
        {
            if let Store::Memory(memory) = &limiter.store {
                let kept = memory.forget_idle();
                tracing::debug!(policy = limiter.policy.name, kept, "rate-limit keys swept");
            }
        }
    }
}
