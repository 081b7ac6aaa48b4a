//! Request limits answered in the error format: global concurrency, time and body size.
//! One middleware for all three, since each `from_fn` layer costs allocations per request.

use std::{sync::Arc, time::Duration};

use axum::{
    extract::{Request, State},
    http::header,
    middleware::Next,
    response::{IntoResponse, Response},
};
use tokio::sync::Semaphore;

use super::error::ApiError;

/// The body limit in force for a request, for extractors to name in their 413.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimit(pub usize);

#[derive(Clone)]
pub struct Limits {
    pub body_bytes: usize,
    pub timeout: Duration,
    /// At most this many requests in flight; the next one is answered 503 `overloaded` at once
    /// rather than queued, so overload shows instead of growing latency.
    pub slots: Arc<Semaphore>,
}

/// Middleware: sheds load over the concurrency limit, refuses a declared `Content-Length` over
/// the body limit before reading anything (bodies without a length are cut by
/// `DefaultBodyLimit` as they stream in), and answers 503 `timeout` past the request timeout.
pub async fn enforce(State(limits): State<Limits>, mut request: Request, next: Next) -> Response {
    let Ok(_slot) = limits.slots.try_acquire_owned() else {
        return ApiError::Overloaded.into_response();
    };
    let declared =
        request.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > limits.body_bytes as u64) {
        return ApiError::PayloadTooLarge { limit: limits.body_bytes }.into_response();
    }
    request.extensions_mut().insert(BodyLimit(limits.body_bytes));
    match tokio::time::timeout(limits.timeout, next.run(request)).await {
        Ok(response) => response,
        Err(_) => ApiError::Timeout.into_response(),
    }
}
