//! Recording audit events from handlers, with who and where the request came from.

use std::convert::Infallible;

use axum::{
    extract::FromRequestParts,
    http::{Extensions, HeaderMap, header, request::Parts},
};
use caly_guard::{ClientIp, RequestId};
use caly_store::AuditEvent;

use super::error::ApiError;
use crate::auth::now_micros;

/// The request facts every audit row carries.
#[derive(Clone)]
pub struct AuditContext {
    ip: Option<String>,
    user_agent: Option<String>,
    request_id: Option<String>,
}

/// Who did it.
#[derive(Clone, Copy)]
pub enum Actor<'a> {
    User(&'a str),
    ApiKey(&'a str),
    Anonymous,
}

impl<S: Send + Sync> FromRequestParts<S> for AuditContext {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Infallible> {
        Ok(Self::of(parts))
    }
}

impl AuditContext {
    pub fn of(parts: &Parts) -> Self {
        Self::from_request(&parts.headers, &parts.extensions)
    }

    /// The same facts from a request's headers and extensions, for middleware.
    pub fn from_request(headers: &HeaderMap, extensions: &Extensions) -> Self {
        Self {
            ip: extensions.get::<ClientIp>().map(|ip| ip.0.to_string()),
            user_agent: headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()).map(str::to_owned),
            request_id: extensions.get::<RequestId>().map(|id| id.as_str().to_owned()),
        }
    }

    /// Appends one event; if it cannot be written the request fails, never silently.
    #[allow(clippy::too_many_arguments)]
    pub async fn record(
        &self,
        store: &caly_store::Store,
        chain: &str,
        actor: Actor<'_>,
        event: &'static str,
        target: Option<&str>,
        outcome: &'static str,
        details: serde_json::Value,
    ) -> Result<(), ApiError> {
        let (actor_type, actor_id) = match actor {
            Actor::User(id) => ("user", Some(id.to_owned())),
            Actor::ApiKey(id) => ("api_key", Some(id.to_owned())),
            Actor::Anonymous => ("anonymous", None),
        };
        let row = AuditEvent {
            chain: chain.to_owned(),
            at: now_micros(),
            actor_type: actor_type.into(),
            actor_id,
            ip: self.ip.clone(),
            user_agent: self.user_agent.clone(),
            request_id: self.request_id.clone(),
            event: event.into(),
            target: target.map(str::to_owned),
            outcome: outcome.into(),
            details: details.to_string(),
        };
        store.append_audit(&row).await.map_err(|e| ApiError::internal(anyhow::anyhow!("audit write failed: {e}")))?;
        Ok(())
    }
}
