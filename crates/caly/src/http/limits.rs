//! Request limits answered in the error format: global concurrency, rate limits, time and body
//! size. One middleware for all, since each `from_fn` layer costs allocations per request.

use std::{sync::Arc, time::Duration};

use axum::{
    extract::{MatchedPath, Request},
    http::header,
    response::{IntoResponse, Response},
};
use caly_guard::{
    ClientIp,
    anomaly::{AnomalyDetector, Subject},
    rate_limit::Decision,
};
use caly_store::SYSTEM_CHAIN;
use tokio::sync::Semaphore;

use super::{
    audit::{Actor, AuditContext},
    error::ApiError,
};
use crate::{
    auth::TokenKeys,
    rate_limits::{PolicyLimiter, RateLimits},
};

/// The body limit in force for a request, for extractors to name in their 413.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimit(pub usize);

/// Shared behind an `Arc`: the middleware's state is cloned for every request.
pub struct Limits {
    pub rate: Option<Arc<RateLimits>>,
    pub body_bytes: usize,
    pub timeout: Duration,
    /// At most this many requests in flight; the next one is answered 503 `overloaded` at once
    /// rather than queued, so overload shows instead of growing latency.
    pub slots: Arc<Semaphore>,
    pub anomalies: Option<Arc<AnomalyDetector>>,
    /// To key the `api` policy by the signed-in user.
    pub tokens: TokenKeys,
    pub store: caly_store::Store,
    /// (policy, key) pairs whose refusal was audited within the last minute: one row per
    /// client and minute is evidence enough, and a flood cannot flood the audit log.
    pub audited_refusals: moka::sync::Cache<String, ()>,
}

/// Sheds load over the concurrency limit, refuses a declared `Content-Length` over the body
/// limit before reading anything (bodies without a length are cut by `DefaultBodyLimit` as they
/// stream in), and answers 503 `timeout` past the request timeout; `next` serves the rest.
pub async fn enforce<F: Future<Output = Response>>(
    limits: &Limits,
    mut request: Request,
    next: impl FnOnce(Request) -> F,
) -> Response {
    let Ok(_slot) = limits.slots.clone().try_acquire_owned() else {
        return ApiError::Overloaded.into_response();
    };
    if let (Some(anomalies), Some(ip)) = (&limits.anomalies, request.extensions().get::<ClientIp>())
        && anomalies.bans_enabled()
        && anomalies.is_banned(&Subject::Ip(ip.0))
    {
        return ApiError::Banned.into_response();
    }
    let decision = match limits.rate.as_deref() {
        Some(rate) => {
            let (limiter, key) = policy_for(rate, &limits.tokens, &mut request);
            let decision = limiter.check(&key).await;
            Some((limiter.policy, decision, key))
        }
        None => None,
    };
    if let Some((policy, decision @ Decision::Limited { retry_after }, key)) = decision {
        let context = AuditContext::from_request(request.headers(), request.extensions());
        // Boxed: the rare path would otherwise enlarge every request's future.
        if let Err(error) = Box::pin(audit_refusal(limits, context, policy.name, key, retry_after)).await {
            return error.into_response();
        }
        let mut response = ApiError::RateLimited { retry_after_secs: retry_after.as_secs() + 1 }.into_response();
        policy.write_headers(decision, response.headers_mut());
        return response;
    }
    let decision = decision.map(|(policy, decision, _)| (policy, decision));
    let declared =
        request.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > limits.body_bytes as u64) {
        return ApiError::PayloadTooLarge { limit: limits.body_bytes }.into_response();
    }
    request.extensions_mut().insert(BodyLimit(limits.body_bytes));
    let mut response = match tokio::time::timeout(limits.timeout, next(request)).await {
        Ok(response) => response,
        Err(_) => ApiError::Timeout.into_response(),
    };
    if let Some((policy, decision)) = decision {
        policy.write_headers(decision, response.headers_mut());
    }
    response
}

/// Which policy a request counts against, and under which key: its route's own (per client IP),
/// `api` per user for a request with a valid access token, `public` per client IP for the rest.
/// Appends `rate_limit.exceeded` for the first refusal of a key per minute.
async fn audit_refusal(
    limits: &Limits,
    context: AuditContext,
    policy: &'static str,
    key: String,
    retry_after: Duration,
) -> Result<(), ApiError> {
    let sample = format!("{policy}:{key}");
    if limits.audited_refusals.contains_key(&sample) {
        return Ok(());
    }
    limits.audited_refusals.insert(sample, ());
    let details = serde_json::json!({ "policy": policy, "retry_after_secs": retry_after.as_secs() + 1 });
    context
        .record(&limits.store, SYSTEM_CHAIN, Actor::Anonymous, "rate_limit.exceeded", Some(policy), "denied", details)
        .await
}

/// A verified token's claims are handed on to the `Access` extractor, which then need not
/// verify the signature again.
fn policy_for<'a>(rate: &'a RateLimits, tokens: &TokenKeys, request: &mut Request) -> (&'a PolicyLimiter, String) {
    let ip = request.extensions().get::<ClientIp>().map(|ip| ip.0.to_string()).unwrap_or_default();
    match request.extensions().get::<MatchedPath>().map(MatchedPath::as_str) {
        Some("/api/v1/auth/login") => (&rate.login, ip),
        Some("/api/v1/auth/register") => (&rate.register, ip),
        Some(path) if path.starts_with("/telephony/") || path == "/calls/web" => (&rate.telephony, ip),
        _ => match super::access::bearer_token(request.headers()) {
            // Per key; an unknown key is refused by authentication right after.
            Some(key) if key.starts_with(super::access::API_KEY_PREFIX) => {
                (&rate.api, format!("key:{}", crate::auth::token_hash(key)))
            }
            token => match token.and_then(|token| tokens.verify(token)) {
                Some(claims) => {
                    let user = claims.sub.clone();
                    request.extensions_mut().insert(claims);
                    (&rate.api, user)
                }
                None => (&rate.public, ip),
            },
        },
    }
}

/// Applies a per-account policy on top of a route's per-IP one: 429 once it is spent. Keyed by
/// the normalised email whether or not an account has it, so a refusal reveals nothing.
pub async fn check_account(
    state: &crate::state::AppState,
    policy: impl Fn(&crate::rate_limits::RateLimits) -> &crate::rate_limits::PolicyLimiter,
    account: &str,
) -> Result<(), ApiError> {
    if let Some(rate) = &state.rate_limits
        && let Decision::Limited { retry_after } = policy(rate).check(&format!("account:{account}")).await
    {
        return Err(ApiError::RateLimited { retry_after_secs: retry_after.as_secs() + 1 });
    }
    Ok(())
}
