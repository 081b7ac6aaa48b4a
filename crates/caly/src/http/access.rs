//! Who is calling: an access token (users) or the operator token (health and metrics).

use axum::{
    extract::FromRequestParts,
    http::{header, request::Parts},
};
use caly_core::{
    Role,
    permission::{Permission, Scope},
};

use super::{audit::Actor, error::ApiError};
use crate::{
    auth::{AccessClaims, now_micros, same_secret, token_hash},
    state::AppState,
};

fn bearer(parts: &Parts) -> Option<&str> {
    bearer_token(&parts.headers)
}

/// The token of an `Authorization: Bearer …` header.
pub fn bearer_token(headers: &axum::http::HeaderMap) -> Option<&str> {
    headers.get(header::AUTHORIZATION)?.to_str().ok()?.strip_prefix("Bearer ")
}

/// Where API keys start, so that one look tells them from access tokens.
pub const API_KEY_PREFIX: &str = "caly_";

/// Who is calling, within which tenant: a signed-in user (access token) or an API key.
/// Records the tenant and caller on the request's span so that its log line names them.
pub struct Access {
    pub tenant_id: String,
    pub principal: Principal,
}

pub enum Principal {
    User { id: String, role: Role },
    ApiKey { id: String, scopes: Vec<Scope> },
}

impl Access {
    /// Refuses callers without `permission`: users below its role, keys without its scope.
    pub fn require(&self, permission: Permission) -> Result<(), ApiError> {
        let allowed = match &self.principal {
            Principal::User { role, .. } => role.at_least(permission.role()),
            Principal::ApiKey { scopes, .. } => permission.scope().is_some_and(|scope| scopes.contains(&scope)),
        };
        if allowed { Ok(()) } else { Err(ApiError::Forbidden("Your role or key's scopes do not allow this.")) }
    }

    /// The signed-in user's id; API keys are refused (they act for no person).
    pub fn user_id(&self) -> Result<&str, ApiError> {
        match &self.principal {
            Principal::User { id, .. } => Ok(id),
            Principal::ApiKey { .. } => Err(ApiError::Forbidden("This needs a signed-in user, not an API key.")),
        }
    }

    /// The signed-in user's account, refused once it is deactivated or gone.
    pub async fn active_user(&self, store: &caly_store::Store) -> Result<caly_store::User, ApiError> {
        let user = store.user(&self.tenant_id, self.user_id()?).await?.filter(|u| u.active);
        user.ok_or(ApiError::Unauthenticated("The account no longer exists or is deactivated."))
    }

    pub fn actor(&self) -> Actor<'_> {
        match &self.principal {
            Principal::User { id, .. } => Actor::User(id),
            Principal::ApiKey { id, .. } => Actor::ApiKey(id),
        }
    }

    /// The caller as recorded on what they decide: a user id, or `api_key:<id>`.
    pub fn actor_label(&self) -> std::borrow::Cow<'_, str> {
        match &self.principal {
            Principal::User { id, .. } => id.into(),
            Principal::ApiKey { id, .. } => format!("api_key:{id}").into(),
        }
    }
}

impl FromRequestParts<AppState> for Access {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let access = match parts.extensions.remove::<AccessClaims>() {
            Some(verified) => from_claims(verified),
            None => {
                let token = bearer(parts).ok_or(ApiError::Unauthenticated("A bearer token is required."))?;
                if token.starts_with(API_KEY_PREFIX) {
                    let key = state.store.use_api_key(&token_hash(token), now_micros()).await?;
                    let key = key.ok_or(ApiError::Unauthenticated("The API key is invalid, expired or revoked."))?;
                    Access { tenant_id: key.tenant_id, principal: Principal::ApiKey { id: key.id, scopes: key.scopes } }
                } else {
                    let claims = state
                        .tokens
                        .verify(token)
                        .ok_or(ApiError::Unauthenticated("The access token is invalid or expired."))?;
                    from_claims(claims)
                }
            }
        };
        let caller = access.actor_label();
        let span = tracing::Span::current();
        span.record("tenant_id", access.tenant_id.as_str());
        span.record("user_id", caller.as_ref());
        if let Some(principal) = parts.extensions.get::<caly_guard::request_log::Principal>() {
            principal.set(&caller);
        }
        Ok(access)
    }
}

fn from_claims(claims: AccessClaims) -> Access {
    Access { tenant_id: claims.tid, principal: Principal::User { id: claims.sub, role: claims.role } }
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
