//! `/api/v1/api-keys`: scoped keys for servers. The key is shown once, at creation; only its
//! SHA-256 is kept. Send it as `Authorization: Bearer caly_…`.

use axum::{Json, extract::State, http::StatusCode};
use caly_core::{
    Invalid,
    permission::{Permission, Scope},
};
use caly_store::{ApiKey, NewApiKey};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{
    access::{API_KEY_PREFIX, Access},
    audit::AuditContext,
    error::{ApiError, FieldErrors},
    extract::{Json as JsonBody, PathId},
    time::rfc3339,
};
use crate::{
    auth::{now_micros, random_token, token_hash},
    state::AppState,
};

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewKey {
    /// What the key is for, e.g. "Order sync server": 1–100 characters.
    name: String,
    /// Any of `calls:read`, `calls:write`, `actions:read`, `actions:write`, `analytics:read`.
    scopes: Vec<String>,
    /// Days until the key stops working (1–3650); absent: it works until revoked.
    expires_in_days: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct KeyView {
    id: String,
    name: String,
    /// The key's first characters, to tell keys apart.
    prefix: String,
    scopes: Vec<String>,
    created_by: String,
    created_at: String,
    expires_at: Option<String>,
    last_used_at: Option<String>,
    revoked_at: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct CreatedKey {
    #[serde(flatten)]
    view: KeyView,
    /// The key itself. It is shown only now; store it in a secret manager.
    key: String,
}

fn view(key: ApiKey) -> KeyView {
    KeyView {
        id: key.id,
        name: key.name,
        prefix: key.prefix,
        scopes: key.scopes.iter().map(|s| s.as_str().to_owned()).collect(),
        created_by: key.created_by,
        created_at: rfc3339(key.created_at),
        expires_at: key.expires_at.map(rfc3339),
        last_used_at: key.last_used_at.map(rfc3339),
        revoked_at: key.revoked_at.map(rfc3339),
    }
}

/// Creates a key; the answer holds the key itself, once.
#[utoipa::path(post, path = "/api/v1/api-keys", tag = "api-keys", request_body = NewKey, security(("bearer" = [])), responses(
    (status = 201, description = "Created; `key` is shown only now", body = CreatedKey),
    (status = 403, description = "Owners and admins only, signed in (not with a key)", body = caly_guard::problem::ProblemBody, content_type = "application/problem+json"),
    (status = 422, description = "Invalid fields, all listed", body = caly_guard::problem::ProblemBody, content_type = "application/problem+json")))]
pub async fn create(
    State(state): State<AppState>,
    access: Access,
    audit: AuditContext,
    JsonBody(body): JsonBody<NewKey>,
) -> Result<(StatusCode, Json<CreatedKey>), ApiError> {
    access.require(Permission::ManageApiKeys)?;
    let creator = access.user_id()?;
    let mut errors = FieldErrors::default();
    let name = body.name.trim();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        errors.refuse("name", Invalid::new("invalid_name", "must be 1–100 characters without control characters"));
    }
    let mut scopes = Vec::new();
    for (i, text) in body.scopes.iter().enumerate() {
        if let Some(scope) = errors.check(&format!("scopes/{i}"), text.parse::<Scope>())
            && !scopes.contains(&scope)
        {
            scopes.push(scope);
        }
    }
    if body.scopes.is_empty() {
        errors.refuse("scopes", Invalid::new("required", "give at least one scope"));
    }
    if body.expires_in_days.is_some_and(|days| !(1..=3650).contains(&days)) {
        errors.refuse("expires_in_days", Invalid::new("out_of_range", "must be between 1 and 3650"));
    }
    errors.finish()?;
    let now = now_micros();
    let key = format!("{API_KEY_PREFIX}{}", random_token());
    let new = NewApiKey {
        name,
        prefix: &key[..API_KEY_PREFIX.len() + 8],
        key_hash: &token_hash(&key),
        scopes: &scopes,
        created_by: creator,
        expires_at: body.expires_in_days.map(|days| now + days * 86_400_000_000),
    };
    let created = state.store.create_api_key(&access.tenant_id, new, now).await?;
    let details = serde_json::json!({"name": created.name, "prefix": created.prefix, "scopes": body.scopes});
    audit
        .record(
            &state.store,
            &access.tenant_id,
            access.actor(),
            "api_key.created",
            Some(&created.id),
            "success",
            details,
        )
        .await?;
    Ok((StatusCode::CREATED, Json(CreatedKey { view: view(created), key })))
}

/// The tenant's keys, newest first; the keys themselves are never shown again.
#[utoipa::path(get, path = "/api/v1/api-keys", operation_id = "list_api_keys", tag = "api-keys", security(("bearer" = [])), responses(
    (status = 200, description = "Every key, revoked ones included", body = [KeyView]),
    (status = 403, description = "Owners and admins only", body = caly_guard::problem::ProblemBody, content_type = "application/problem+json")))]
pub async fn list(State(state): State<AppState>, access: Access) -> Result<Json<Vec<KeyView>>, ApiError> {
    access.require(Permission::ManageApiKeys)?;
    Ok(Json(state.store.api_keys(&access.tenant_id).await?.into_iter().map(view).collect()))
}

/// Revokes a key: it stops working at once.
#[utoipa::path(delete, path = "/api/v1/api-keys/{id}", tag = "api-keys", params(("id" = String, Path, description = "The key's id")),
    security(("bearer" = [])), responses(
    (status = 204, description = "Revoked"),
    (status = 403, description = "Owners and admins only", body = caly_guard::problem::ProblemBody, content_type = "application/problem+json"),
    (status = 404, description = "No such live key in this tenant", body = caly_guard::problem::ProblemBody, content_type = "application/problem+json")))]
pub async fn revoke(
    State(state): State<AppState>,
    access: Access,
    audit: AuditContext,
    PathId(id): PathId,
) -> Result<StatusCode, ApiError> {
    access.require(Permission::ManageApiKeys)?;
    if !state.store.revoke_api_key(&access.tenant_id, &id, now_micros()).await? {
        return Err(ApiError::NotFound("API key"));
    }
    audit
        .record(
            &state.store,
            &access.tenant_id,
            access.actor(),
            "api_key.revoked",
            Some(&id),
            "success",
            serde_json::json!({}),
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
