//! The HTTP edge's error type: every handler and extractor fails with an [`ApiError`], which
//! becomes an RFC 9457 problem here and nowhere else. Internal causes are logged (inside the
//! request's span, so with its id) and never returned.

use axum::{
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use caly_guard::{FieldError, Problem};
use thiserror::Error;

#[derive(Debug, Error)]
pub enum ApiError {
    /// The request was well formed but some fields are invalid (422).
    #[error("validation failed")]
    Validation(Vec<FieldError>),
    /// Bad JSON, wrong content type, bad path or query (400).
    #[error("malformed request: {0}")]
    Malformed(String),
    /// Missing or invalid credentials (401).
    #[error("unauthenticated: {0}")]
    Unauthenticated(&'static str),
    /// Authenticated but not allowed (403).
    #[error("forbidden: {0}")]
    Forbidden(&'static str),
    /// The client IP is serving a ban after an anomaly (403).
    #[error("client banned")]
    Banned,
    /// The attack detector matched the request (403); the rule id, never the payload, is named.
    #[error("attack blocked by rule {rule}")]
    AttackBlocked { rule: &'static str },
    #[error("not found: {0}")]
    NotFound(&'static str),
    #[error("conflict: {0}")]
    Conflict(String),
    /// The byte range asked for lies beyond the resource (416).
    #[error("range not satisfiable (size {size})")]
    RangeNotSatisfiable { size: u64 },
    #[error("payload too large (limit {limit} bytes)")]
    PayloadTooLarge { limit: usize },
    #[error("rate limited")]
    RateLimited { retry_after_secs: u64 },
    /// A dependency (database, Redis) or the server itself cannot take the request now (503).
    #[error("unavailable: {detail}")]
    Unavailable { detail: &'static str, retry_after_secs: u64 },
    /// The request ran longer than the configured request timeout (503).
    #[error("request timed out")]
    Timeout,
    /// Every slot of the global concurrency limit is taken (503).
    #[error("server at capacity")]
    Overloaded,
    /// An upstream service answered badly (502).
    #[error("upstream failed: {0}")]
    Upstream(&'static str),
    #[error("internal error: {0}")]
    Internal(#[source] anyhow::Error),
}

impl ApiError {
    pub fn internal(error: impl Into<anyhow::Error>) -> Self {
        Self::Internal(error.into())
    }

    pub fn to_problem(&self) -> Problem {
        use StatusCode as S;
        match self {
            Self::Validation(errors) => {
                let detail = format!("{} field(s) are invalid.", errors.len());
                Problem::new(S::UNPROCESSABLE_ENTITY, "validation", "Validation Failed", detail)
                    .with_errors(errors.clone())
            }
            Self::Malformed(detail) => Problem::new(S::BAD_REQUEST, "malformed_request", "Bad Request", detail),
            Self::Unauthenticated(detail) => Problem::new(S::UNAUTHORIZED, "unauthenticated", "Unauthorized", *detail)
                .with_header(header::WWW_AUTHENTICATE, HeaderValue::from_static(r#"Bearer realm="caly""#)),
            Self::Forbidden(detail) => Problem::new(S::FORBIDDEN, "forbidden", "Forbidden", *detail),
            Self::Banned => Problem::new(
                S::FORBIDDEN,
                "banned",
                "Forbidden",
                "Requests from this address are refused for a while after suspicious activity.",
            ),
            Self::AttackBlocked { rule } => Problem::new(
                S::FORBIDDEN,
                "attack_blocked",
                "Forbidden",
                format!(
                    "The request was refused by the attack detector (rule {rule}). Quote the request id if this is a mistake."
                ),
            ),
            Self::NotFound(what) => Problem::new(S::NOT_FOUND, "not_found", "Not Found", format!("{what} not found.")),
            Self::Conflict(detail) => Problem::new(S::CONFLICT, "conflict", "Conflict", detail),
            Self::PayloadTooLarge { limit } => Problem::new(
                S::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                "Payload Too Large",
                format!("The request body exceeds {limit} bytes."),
            ),
            Self::RateLimited { retry_after_secs } => Problem::new(
                S::TOO_MANY_REQUESTS,
                "rate_limited",
                "Too Many Requests",
                format!("Too many requests; retry after {retry_after_secs} s."),
            )
            .with_header(header::RETRY_AFTER, HeaderValue::from(*retry_after_secs)),
            Self::Unavailable { detail, retry_after_secs } => {
                Problem::new(S::SERVICE_UNAVAILABLE, "unavailable", "Service Unavailable", *detail)
                    .with_header(header::RETRY_AFTER, HeaderValue::from(*retry_after_secs))
            }
            Self::Timeout => {
                Problem::new(S::SERVICE_UNAVAILABLE, "timeout", "Service Unavailable", "The request took too long.")
                    .with_header(header::RETRY_AFTER, HeaderValue::from(1))
            }
            Self::Overloaded => Problem::new(
                S::SERVICE_UNAVAILABLE,
                "overloaded",
                "Service Unavailable",
                "The server is at capacity; retry shortly.",
            )
            .with_header(header::RETRY_AFTER, HeaderValue::from(1)),
            Self::Upstream(detail) => Problem::new(S::BAD_GATEWAY, "upstream_failed", "Bad Gateway", *detail),
            Self::RangeNotSatisfiable { size } => Problem::new(
                S::RANGE_NOT_SATISFIABLE,
                "range_not_satisfiable",
                "Range Not Satisfiable",
                "The range lies beyond the end of the resource.",
            )
            .with_header(header::CONTENT_RANGE, HeaderValue::try_from(format!("bytes */{size}")).expect("digits")),
            Self::Internal(_) => Problem::new(
                S::INTERNAL_SERVER_ERROR,
                "internal",
                "Internal Server Error",
                "An unexpected error occurred; quote the request id when reporting it.",
            ),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match &self {
            Self::Internal(cause) => tracing::error!(error = format!("{cause:#}"), "internal error"),
            Self::Unavailable { .. } | Self::Upstream(_) | Self::Timeout | Self::Overloaded => {
                tracing::warn!(error = %self, "dependency failed")
            }
            _ => tracing::debug!(error = %self, "request rejected"),
        }
        self.to_problem().into_response()
    }
}

/// Collects the verdict on each field of a request, so that one 422 lists every bad field.
#[derive(Debug, Default)]
pub struct FieldErrors(Vec<FieldError>);

impl FieldErrors {
    /// Keeps `result`'s value, or records why `field` was refused.
    pub fn check<T>(&mut self, field: &str, result: Result<T, caly_core::Invalid>) -> Option<T> {
        result.map_err(|invalid| self.refuse(field, invalid)).ok()
    }

    /// Records why `field` was refused.
    pub fn refuse(&mut self, field: &str, invalid: caly_core::Invalid) {
        self.0.push(FieldError::new(field, invalid.code, invalid.message));
    }

    /// A page size: `limit` if within 1–200, else 50 with `limit` refused.
    pub fn page_limit(&mut self, limit: Option<i64>) -> i64 {
        match limit.unwrap_or(50) {
            limit @ 1..=200 => limit,
            _ => {
                self.refuse("limit", caly_core::Invalid::new("out_of_range", "must be between 1 and 200"));
                50
            }
        }
    }

    /// `Ok` when every field passed, else the validation error listing them all.
    pub fn finish(self) -> Result<(), ApiError> {
        if self.0.is_empty() { Ok(()) } else { Err(ApiError::Validation(self.0)) }
    }
}

impl From<caly_store::StoreError> for ApiError {
    fn from(error: caly_store::StoreError) -> Self {
        match error {
            caly_store::StoreError::Unavailable(cause) => {
                tracing::warn!(error = %cause, "database unavailable");
                Self::Unavailable { detail: "The database is unavailable.", retry_after_secs: 5 }
            }
            other => Self::internal(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_its_status_and_code() {
        let cases = [
            (ApiError::Validation(vec![FieldError::new("a", "required", "a is required")]), 422, "validation"),
            (ApiError::Malformed("bad".into()), 400, "malformed_request"),
            (ApiError::Unauthenticated("no token"), 401, "unauthenticated"),
            (ApiError::Forbidden("role"), 403, "forbidden"),
            (ApiError::AttackBlocked { rule: "sqli-union" }, 403, "attack_blocked"),
            (ApiError::Banned, 403, "banned"),
            (ApiError::NotFound("call"), 404, "not_found"),
            (ApiError::Conflict("exists".into()), 409, "conflict"),
            (ApiError::PayloadTooLarge { limit: 10 }, 413, "payload_too_large"),
            (ApiError::RateLimited { retry_after_secs: 7 }, 429, "rate_limited"),
            (ApiError::Unavailable { detail: "db", retry_after_secs: 5 }, 503, "unavailable"),
            (ApiError::Timeout, 503, "timeout"),
            (ApiError::Overloaded, 503, "overloaded"),
            (ApiError::Upstream("shopify"), 502, "upstream_failed"),
            (ApiError::internal(anyhow::anyhow!("secret cause")), 500, "internal"),
        ];
        for (error, status, code) in cases {
            let problem = error.to_problem();
            assert_eq!((problem.status.as_u16(), problem.code), (status, code));
            assert!(!problem.detail.contains("secret cause"));
        }
    }
}
