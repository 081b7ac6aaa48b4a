//! Runs the attack detector on every API request, after routing and the cheap limits, and turns
//! a finding into a log line, a metric, an audit row and, in `block` mode, a 403 that names the
//! rule but never echoes the payload.

use axum::{
    body::Body,
    extract::{MatchedPath, Request},
    response::{IntoResponse, Response},
};
use caly_guard::{
    detector::{Detector, Finding, Mode, RequestView},
    request_log::AttackFlagged,
};
use caly_store::SYSTEM_CHAIN;
use serde_json::json;

use super::{
    audit::{Actor, AuditContext},
    error::ApiError,
    limits::BodyLimit,
};
use crate::{config::DetectorConfig, state::AppState};

/// Field locations are attacker-chosen (a query parameter's name may be the payload); the log
/// and audit trail keep this much of one.
const MAX_LOCATION: usize = 64;

/// The compiled detector and the mode of each class.
pub struct AttackGuard {
    detector: Detector,
    config: DetectorConfig,
}

impl AttackGuard {
    /// `None` when every class is off: then requests pass untouched.
    pub fn new(config: &DetectorConfig) -> Option<Self> {
        let any_on = caly_guard::detector::AttackClass::ALL.iter().any(|&class| config.mode_of(class) != Mode::Off);
        any_on.then(|| Self { detector: Detector::new(|class| config.mode_of(class)), config: config.clone() })
    }
}

/// The body is read (within the body limit) so that JSON fields can be inspected one by one,
/// then handed on unchanged to `next`.
pub async fn inspect<F: Future<Output = Response>>(
    state: &AppState,
    request: Request,
    next: impl FnOnce(Request) -> F,
) -> Response {
    let Some(guard) = state.attack_guard.as_deref() else {
        return next(request).await;
    };
    let (parts, body) = request.into_parts();
    let limit = parts.extensions.get::<BodyLimit>().map_or(usize::MAX, |limit| limit.0);
    let bytes = match axum::body::to_bytes(body, limit).await {
        Ok(bytes) => bytes,
        Err(error) if is_length_limit(&error) => return ApiError::PayloadTooLarge { limit }.into_response(),
        Err(_) => return ApiError::Malformed("the request body could not be read".into()).into_response(),
    };
    let finding = {
        let target = parts.uri.path_and_query().map_or(parts.uri.path(), |target| target.as_str());
        let headers = parts.headers.iter().map(|(name, value)| (name.as_str(), value.as_bytes())).collect();
        // Carrier media (base64 audio) arrives over WebSockets, not in request bodies, so no
        // HTTP route declares binary fields yet.
        guard.detector.inspect(&RequestView { target, headers, body: &bytes, binary_fields: &[] })
    };
    if let Some(finding) = finding {
        let route = parts.extensions.get::<MatchedPath>().map(|path| path.as_str().to_owned());
        let mode = guard.config.mode_of(finding.class);
        // Boxed: the rare path would otherwise enlarge every request's future.
        if let Err(error) = Box::pin(report(state, &parts, route.as_deref(), &finding, mode)).await {
            return error.into_response();
        }
        let mut response = if mode == Mode::Block {
            ApiError::AttackBlocked { rule: finding.rule }.into_response()
        } else {
            next(Request::from_parts(parts, Body::from(bytes))).await
        };
        response.extensions_mut().insert(AttackFlagged);
        return response;
    }
    next(Request::from_parts(parts, Body::from(bytes))).await
}

/// One log line, one metric sample and one audit row per finding; the audit row must be
/// written or the request fails.
async fn report(
    state: &AppState,
    parts: &axum::http::request::Parts,
    route: Option<&str>,
    finding: &Finding,
    mode: Mode,
) -> Result<(), ApiError> {
    let location: String = finding.location.chars().take(MAX_LOCATION).collect();
    let (event, outcome) = match mode {
        Mode::Block => ("attack.blocked", "denied"),
        _ => ("attack.detected", "allowed"),
    };
    tracing::warn!(class = finding.class.as_str(), rule = finding.rule, location, ?mode, "attack detected");
    state.metrics.attack_detected(finding.class.as_str(), finding.rule, mode);
    let details = json!({ "class": finding.class.as_str(), "rule": finding.rule, "location": location });
    AuditContext::of(parts).record(&state.store, SYSTEM_CHAIN, Actor::Anonymous, event, route, outcome, details).await
}

fn is_length_limit(error: &axum::Error) -> bool {
    let mut source: Option<&dyn std::error::Error> = Some(error);
    while let Some(error) = source {
        if error.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        source = error.source();
    }
    false
}
