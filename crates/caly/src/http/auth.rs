//! Access to operator endpoints (`/health`, `/metrics`): a configured bearer token.
//! Admin sessions will also be accepted once users can sign in.

use axum::{
    extract::FromRequestParts,
    http::{header, request::Parts},
};
use secrecy::ExposeSecret;
use subtle::ConstantTimeEq;

use super::error::ApiError;
use crate::state::AppState;

/// Proof that the caller may read operator endpoints.
pub struct OperatorAccess;

impl FromRequestParts<AppState> for OperatorAccess {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let presented = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or(ApiError::Unauthenticated("A bearer token is required."))?;
        let Some(expected) = &state.config.health_token else {
            return Err(ApiError::Unauthenticated("No health token is configured (health_token)."));
        };
        // Constant time, so the token cannot be guessed byte by byte from response times.
        if bool::from(presented.as_bytes().ct_eq(expected.expose_secret().as_bytes())) {
            Ok(Self)
        } else {
            Err(ApiError::Unauthenticated("The bearer token is not valid."))
        }
    }
}
