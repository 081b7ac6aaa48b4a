//! Who is calling: an access token (users) or the operator token (health and metrics).

use axum::{
    extract::FromRequestParts,
    http::{header, request::Parts},
};
use caly_core::Role;

use super::error::ApiError;
use crate::{
    auth::{AccessClaims, same_secret},
    state::AppState,
};

fn bearer(parts: &Parts) -> Option<&str> {
    bearer_token(&parts.headers)
}

/// The token of an `Authorization: Bearer …` header.
pub fn bearer_token(headers: &axum::http::HeaderMap) -> Option<&str> {
    headers.get(header::AUTHORIZATION)?.to_str().ok()?.strip_prefix("Bearer ")
}

/// A signed-in user, from a valid access token. Records the tenant and user on the request's
/// span so that its log line names them.
pub struct Access {
    pub claims: AccessClaims,
}

impl Access {
    /// Refuses callers below `role`.
    pub fn require(&self, role: Role) -> Result<(), ApiError> {
        if self.claims.role.at_least(role) {
            Ok(())
        } else {
            Err(ApiError::Forbidden("Your role does not allow this."))
        }
    }
}

impl FromRequestParts<AppState> for Access {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let claims = match parts.extensions.remove::<AccessClaims>() {
            Some(verified) => verified,
            None => {
                let token = bearer(parts).ok_or(ApiError::Unauthenticated("A bearer token is required."))?;
                state
                    .tokens
                    .verify(token)
                    .ok_or(ApiError::Unauthenticated("The access token is invalid or expired."))?
            }
        };
        let span = tracing::Span::current();
        span.record("tenant_id", claims.tid.as_str());
        span.record("user_id", claims.sub.as_str());
        if let Some(principal) = parts.extensions.get::<caly_guard::request_log::Principal>() {
            principal.set(&claims.sub);
        }
        Ok(Self { claims })
    }
}

/// Proof that the caller may read operator endpoints: the configured health token, or an
/// access token of a tenant owner or admin.
pub struct OperatorAccess;

impl FromRequestParts<AppState> for OperatorAccess {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let presented = bearer(parts).ok_or(ApiError::Unauthenticated("A bearer token is required."))?;
        if state.config.health_token.as_ref().is_some_and(|expected| same_secret(expected, presented)) {
            return Ok(Self);
        }
        match state.tokens.verify(presented) {
            Some(claims) if claims.role.at_least(Role::Admin) => Ok(Self),
            Some(_) => Err(ApiError::Forbidden("Only owners and admins may read this.")),
            None => Err(ApiError::Unauthenticated("The bearer token is not valid.")),
        }
    }
}
