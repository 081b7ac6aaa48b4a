//! Named rate-limit policies: GCRA per key (the `governor` crate), with the IETF
//! `RateLimit-Policy` / `RateLimit` headers. Each key's state lives in a `moka` cache bounded in
//! size and forgotten after a window of idleness, so a flood of distinct keys cannot grow memory
//! without bound: past the bound the least valuable keys are dropped, which resets their
//! allowance (fails open for them) rather than exhausting memory.

use std::{num::NonZeroU32, sync::Arc, time::Duration};

use axum::http::{HeaderMap, HeaderName, HeaderValue};
use governor::{
    Quota, RateLimiter,
    clock::{Clock, DefaultClock},
    middleware::StateInformationMiddleware,
    state::{InMemoryState, NotKeyed},
};
use moka::sync::Cache;

static RATELIMIT_POLICY: HeaderName = HeaderName::from_static("ratelimit-policy");
static RATELIMIT: HeaderName = HeaderName::from_static("ratelimit");

/// `limit` requests per `window`, at most `burst` of them at once.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    pub name: &'static str,
    pub limit: NonZeroU32,
    pub window: Duration,
    pub burst: NonZeroU32,
}

impl Policy {
    /// One request per `window / limit`, all `limit` of them allowed at once.
    pub fn new(name: &'static str, limit: NonZeroU32, window: Duration) -> Self {
        Self { name, limit, window, burst: limit }
    }

    /// The time one request's allowance takes to come back.
    pub fn interval(&self) -> Duration {
        self.window / self.limit.get()
    }
}

/// The outcome of one request against a policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allowed { remaining: u32 },
    Limited { retry_after: Duration },
}

type Direct = RateLimiter<NotKeyed, InMemoryState, DefaultClock, StateInformationMiddleware>;

#[derive(Clone)]
pub struct Limiter {
    policy: Policy,
    quota: Quota,
    keys: Cache<String, Arc<Direct>>,
    clock: DefaultClock,
}

impl Limiter {
    /// A limiter that tracks at most `max_keys` keys at once.
    pub fn new(policy: Policy, max_keys: u64) -> Self {
        let quota = Quota::with_period(policy.interval()).expect("a window above zero").allow_burst(policy.burst);
        // A key idle for the time its whole burst takes to refill is back to a full allowance:
        // forgetting it changes nothing.
        let refill = policy.interval() * policy.burst.get();
        let keys = Cache::builder().max_capacity(max_keys).time_to_idle(refill.max(Duration::from_millis(1))).build();
        Self { policy, quota, keys, clock: DefaultClock::default() }
    }

    pub fn policy(&self) -> Policy {
        self.policy
    }

    /// Spends one request of `key`'s allowance, if there is one. A known key is looked up
    /// without allocating; only a new one is copied into the cache.
    pub fn check(&self, key: &str) -> Decision {
        let state = self.keys.get_with_by_ref(key, || {
            Arc::new(RateLimiter::direct_with_clock(self.quota, self.clock.clone()).with_middleware())
        });
        match state.check() {
            Ok(snapshot) => Decision::Allowed { remaining: snapshot.remaining_burst_capacity() },
            Err(not_until) => Decision::Limited { retry_after: not_until.wait_time_from(self.clock.now()) },
        }
    }

    /// Runs the cache's pending expiry and eviction, and returns how many keys remain.
    pub fn forget_idle(&self) -> u64 {
        self.keys.run_pending_tasks();
        self.keys.entry_count()
    }
}

impl Policy {
    /// `RateLimit-Policy` and `RateLimit` (draft-ietf-httpapi-ratelimit-headers) for a decision.
    pub fn write_headers(&self, decision: Decision, headers: &mut HeaderMap) {
        let Policy { name, limit, window, .. } = *self;
        let period = window.as_secs_f64() / f64::from(limit.get());
        let (remaining, reset) = match decision {
            Decision::Allowed { remaining } => (remaining, (f64::from(limit.get() - remaining) * period).ceil() as u64),
            Decision::Limited { retry_after } => (0, retry_after.as_secs() + 1),
        };
        let policy = format!("\"{name}\";q={};w={}", limit.get(), window.as_secs());
        let state = format!("\"{name}\";r={remaining};t={reset}");
        headers.insert(RATELIMIT_POLICY.clone(), HeaderValue::from_str(&policy).expect("ASCII"));
        headers.insert(RATELIMIT.clone(), HeaderValue::from_str(&state).expect("ASCII"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limiter(limit: u32, window_secs: u64) -> Limiter {
        Limiter::new(Policy::new("test", NonZeroU32::new(limit).unwrap(), Duration::from_secs(window_secs)), 1000)
    }

    #[test]
    fn allows_the_burst_then_limits_per_key() {
        let limiter = limiter(3, 900);
        for remaining in [2, 1, 0] {
            assert_eq!(limiter.check("a"), Decision::Allowed { remaining });
        }
        let Decision::Limited { retry_after } = limiter.check("a") else { panic!("the fourth is limited") };
        assert!(retry_after > Duration::from_secs(290) && retry_after <= Duration::from_secs(300), "{retry_after:?}");
        assert_eq!(limiter.check("b"), Decision::Allowed { remaining: 2 });
    }

    #[test]
    fn headers_follow_the_draft() {
        let limiter = limiter(6, 900);
        let mut headers = HeaderMap::new();
        limiter.policy().write_headers(Decision::Allowed { remaining: 5 }, &mut headers);
        assert_eq!(headers["ratelimit-policy"], "\"test\";q=6;w=900");
        assert_eq!(headers["ratelimit"], "\"test\";r=5;t=150");
    }

    #[test]
    fn a_burst_smaller_than_the_limit_spreads_requests_out() {
        let policy = Policy {
            burst: NonZeroU32::new(2).unwrap(),
            ..Policy::new("api", NonZeroU32::new(600).unwrap(), Duration::from_secs(60))
        };
        let limiter = Limiter::new(policy, 10);
        assert!(matches!(limiter.check("u"), Decision::Allowed { .. }));
        assert!(matches!(limiter.check("u"), Decision::Allowed { .. }));
        let Decision::Limited { retry_after } = limiter.check("u") else { panic!("over the burst") };
        assert!(retry_after <= Duration::from_millis(100), "one interval of 100 ms: {retry_after:?}");
    }

    #[test]
    fn a_flood_of_a_million_distinct_keys_stays_within_the_bound() {
        let limiter = limiter(6, 900);
        for key in 0..1_000_000u32 {
            limiter.check(&key.to_string());
        }
        assert!(limiter.forget_idle() <= 1000, "at most max_keys are kept");
        // A key that is tracked keeps its state.
        for _ in 0..6 {
            limiter.check("steady");
        }
        assert!(matches!(limiter.check("steady"), Decision::Limited { .. }));
    }

    #[test]
    fn idle_keys_are_forgotten() {
        let limiter = Limiter::new(Policy::new("t", NonZeroU32::new(1).unwrap(), Duration::from_millis(5)), 1000);
        for key in 0..500u32 {
            limiter.check(&key.to_string());
        }
        std::thread::sleep(Duration::from_millis(20));
        assert_eq!(limiter.forget_idle(), 0);
    }
}
