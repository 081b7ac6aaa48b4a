//! Named rate-limit policies: GCRA per key (the `governor` crate), with the IETF
//! `RateLimit-Policy` / `RateLimit` headers. Keys that stay idle are forgotten by
//! [`Limiter::forget_idle`], which the server calls periodically, so a flood of distinct keys
//! cannot grow memory without bound.

use std::{num::NonZeroU32, sync::Arc, time::Duration};

use axum::http::{HeaderMap, HeaderName, HeaderValue};
use governor::{
    Quota, RateLimiter,
    clock::{Clock, DefaultClock},
    middleware::StateInformationMiddleware,
    state::keyed::DefaultKeyedStateStore,
};

static RATELIMIT_POLICY: HeaderName = HeaderName::from_static("ratelimit-policy");
static RATELIMIT: HeaderName = HeaderName::from_static("ratelimit");

/// `limit` requests per `window`, all of which may come at once.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    pub name: &'static str,
    pub limit: NonZeroU32,
    pub window: Duration,
}

/// The outcome of one request against a policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allowed { remaining: u32 },
    Limited { retry_after: Duration },
}

type Keyed = RateLimiter<String, DefaultKeyedStateStore<String>, DefaultClock, StateInformationMiddleware>;

#[derive(Clone)]
pub struct Limiter {
    policy: Policy,
    state: Arc<Keyed>,
    clock: DefaultClock,
}

impl Limiter {
    pub fn new(policy: Policy) -> Self {
        let period = policy.window / policy.limit.get();
        let quota = Quota::with_period(period).expect("a window above zero").allow_burst(policy.limit);
        let clock = DefaultClock::default();
        let state =
            RateLimiter::dashmap_with_clock(quota, clock.clone()).with_middleware::<StateInformationMiddleware>();
        Self { policy, state: Arc::new(state), clock }
    }

    pub fn policy(&self) -> Policy {
        self.policy
    }

    /// Spends one request of `key`'s allowance, if there is one. The key is taken by value:
    /// a new key is stored as it is, without another copy.
    pub fn check(&self, key: String) -> Decision {
        match self.state.check_key(&key) {
            Ok(snapshot) => Decision::Allowed { remaining: snapshot.remaining_burst_capacity() },
            Err(not_until) => Decision::Limited { retry_after: not_until.wait_time_from(self.clock.now()) },
        }
    }

    /// Drops keys whose allowance is full again, and returns how many remain.
    pub fn forget_idle(&self) -> usize {
        self.state.retain_recent();
        self.state.shrink_to_fit();
        self.state.len()
    }
}

impl Policy {
    /// `RateLimit-Policy` and `RateLimit` (draft-ietf-httpapi-ratelimit-headers) for a decision.
    pub fn write_headers(&self, decision: Decision, headers: &mut HeaderMap) {
        let Policy { name, limit, window } = *self;
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
        Limiter::new(Policy {
            name: "test",
            limit: NonZeroU32::new(limit).unwrap(),
            window: Duration::from_secs(window_secs),
        })
    }

    #[test]
    fn allows_the_burst_then_limits_per_key() {
        let limiter = limiter(3, 900);
        for remaining in [2, 1, 0] {
            assert_eq!(limiter.check("a".into()), Decision::Allowed { remaining });
        }
        let Decision::Limited { retry_after } = limiter.check("a".into()) else { panic!("the fourth is limited") };
        assert!(retry_after > Duration::from_secs(290) && retry_after <= Duration::from_secs(300), "{retry_after:?}");
        assert_eq!(limiter.check("b".into()), Decision::Allowed { remaining: 2 });
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
    fn a_million_distinct_keys_are_forgotten_once_idle() {
        // One request per key leaves each key's allowance almost full; a policy whose window
        // is tiny refills them at once, so all are idle by the time we sweep.
        let limiter =
            Limiter::new(Policy { name: "t", limit: NonZeroU32::new(1).unwrap(), window: Duration::from_nanos(1) });
        for key in 0..1_000_000u32 {
            limiter.check(key.to_string());
        }
        std::thread::sleep(Duration::from_millis(10));
        assert_eq!(limiter.forget_idle(), 0);
    }
}
