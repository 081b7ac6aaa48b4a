//! The rate-limit policies in force. In memory for one instance; with Redis configured, the
//! same GCRA runs as one Lua script per decision in Redis, so every instance shares the limit.

use std::{num::NonZeroU32, sync::LazyLock, time::Duration};

use caly_guard::rate_limit::{Decision, Limiter, Policy};
use redis::Script;

use crate::redis_link::RedisLink;

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
    Redis {
        link: RedisLink,
        prefix: String,
        /// When Redis cannot be reached: refuse (`true`, for sign-in) or allow (`false`).
        fail_closed: bool,
    },
}

pub struct PolicyLimiter {
    pub policy: Policy,
    store: Store,
}

impl PolicyLimiter {
    pub async fn check(&self, key: String) -> Decision {
        match &self.store {
            Store::Memory(limiter) => limiter.check(key),
            Store::Redis { link, prefix, fail_closed } => {
                let interval = self.policy.window.as_micros() as u64 / u64::from(self.policy.limit.get());
                let tolerance = interval * u64::from(self.policy.limit.get() - 1);
                let redis_key = format!("{prefix}{}:{key}", self.policy.name);
                let result: Result<(i64, i64), String> = link
                    .run(|mut connection| async move {
                        GCRA_SCRIPT.key(redis_key).arg(interval).arg(tolerance).invoke_async(&mut connection).await
                    })
                    .await;
                match result {
                    Ok((1, remaining)) => Decision::Allowed { remaining: remaining.max(0) as u32 },
                    Ok((_, wait_micros)) => {
                        Decision::Limited { retry_after: Duration::from_micros(wait_micros.max(0) as u64) }
                    }
                    Err(error) => {
                        tracing::warn!(policy = self.policy.name, %error, fail_closed, "rate limiter unreachable");
                        if *fail_closed {
                            Decision::Limited { retry_after: Duration::from_secs(1) }
                        } else {
                            Decision::Allowed { remaining: 0 }
                        }
                    }
                }
            }
        }
    }
}

pub struct RateLimits {
    /// Sign-in attempts per client IP: 6 per 15 minutes (fails closed).
    pub login: PolicyLimiter,
    /// Registrations per client IP: 5 per 15 minutes.
    pub register: PolicyLimiter,
    /// Any other unauthenticated API request per client IP: 120 per minute.
    pub public: PolicyLimiter,
}

fn policy(name: &'static str, limit: u32, window_secs: u64) -> Policy {
    Policy {
        name,
        limit: NonZeroU32::new(limit).expect("at least one request"),
        window: Duration::from_secs(window_secs),
    }
}

impl RateLimits {
    /// In memory, or in Redis under `prefix` when a link is given.
    pub fn new(redis: Option<(RedisLink, String)>) -> Self {
        let make = |policy: Policy, fail_closed: bool| PolicyLimiter {
            policy,
            store: match &redis {
                Some((link, prefix)) => Store::Redis { link: link.clone(), prefix: prefix.clone(), fail_closed },
                None => Store::Memory(Limiter::new(policy)),
            },
        };
        Self {
            login: make(policy("login", 6, 900), true),
            register: make(policy("register", 5, 900), false),
            public: make(policy("public", 120, 60), false),
        }
    }

    pub fn forget_idle(&self) {
        for limiter in [&self.login, &self.register, &self.public] {
            if let Store::Memory(memory) = &limiter.store {
                let kept = memory.forget_idle();
                tracing::debug!(policy = limiter.policy.name, kept, "rate-limit keys swept");
            }
        }
    }
}
