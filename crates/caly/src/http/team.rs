//! `/api/v1/team`: who works on the store's calls, with which role. Owners and admins invite,
//! change roles and deactivate; only owners touch owners; a tenant always keeps an owner.

use axum::{Json, extract::State, http::StatusCode};
use caly_core::{DisplayName, Email, Invalid, Role, permission::Permission};
use caly_store::{MemberChange, StoreError, TokenPurpose, User};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{
    access::Access,
    account::{INVITE_LINK, send_token},
    audit::AuditContext,
    error::{ApiError, FieldErrors},
    extract::{Json as JsonBody, PathId},
};
use crate::{auth::now_micros, mail, state::AppState};

#[derive(Serialize, ToSchema)]
pub struct Member {
    id: String,
    email: String,
    name: String,
    /// `owner`, `admin`, `supervisor` or `viewer`.
    role: String,
    /// `invited` (no password yet), `active` or `deactivated`.
    status: &'static str,
    email_verified: bool,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Invite {
    email: String,
    name: String,
    /// `owner`, `admin`, `supervisor` or `viewer`; only owners invite owners.
    role: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MemberPatch {
    role: Option<String>,
    /// `false` deactivates (ending their sessions), `true` reactivates.
    active: Option<bool>,
}

fn member(user: User) -> Member {
    let status = match (user.active, user.password_hash.is_some()) {
        (false, _) => "deactivated",
        (true, false) => "invited",
        (true, true) => "active",
    };
    Member {
        id: user.id,
        email: user.email,
        name: user.name,
        role: user.role.as_str().to_owned(),
        status,
        email_verified: user.email_verified,
    }
}

/// The tenant's team.
#[utoipa::path(get, path = "/api/v1/team", operation_id = "list_team", tag = "team", security(("bearer" = [])), responses(
    (status = 200, description = "Every member, oldest first", body = [Member]),
    (status = 403, description = "Owners and admins only", body = caly_guard::problem::ProblemBody, content_type = "application/problem+json")))]
pub async fn list(State(state): State<AppState>, access: Access) -> Result<Json<Vec<Member>>, ApiError> {
    access.require(Permission::ManageTeam)?;
    Ok(Json(state.store.team(&access.tenant_id).await?.into_iter().map(member).collect()))
}

/// Invites someone by email; they choose a password from the mailed link (72 hours).
#[utoipa::path(post, path = "/api/v1/team/invites", tag = "team", request_body = Invite, security(("bearer" = [])), responses(
    (status = 201, description = "Invited", body = Member),
    (status = 403, description = "Owners and admins only; only owners invite owners", body = caly_guard::problem::ProblemBody, content_type = "application/problem+json"),
    (status = 409, description = "The email already has an account", body = caly_guard::problem::ProblemBody, content_type = "application/problem+json"),
    (status = 422, description = "Invalid fields, all listed", body = caly_guard::problem::ProblemBody, content_type = "application/problem+json")))]
pub async fn invite(
    State(state): State<AppState>,
    access: Access,
    audit: AuditContext,
    JsonBody(body): JsonBody<Invite>,
) -> Result<(StatusCode, Json<Member>), ApiError> {
    access.require(Permission::ManageTeam)?;
    let mut errors = FieldErrors::default();
    let email = errors.check("email", Email::parse(&body.email));
    let name = errors.check("name", DisplayName::parse(&body.name));
    let role = errors.check("role", body.role.parse::<Role>());
    errors.finish()?;
    let (Some(email), Some(name), Some(role)) = (email, name, role) else { unreachable!("every field passed") };
    if role == Role::Owner {
        access.require(Permission::ManageOwners)?;
    }
    let tenant = &access.tenant_id;
    let user = match state.store.add_invited_user(tenant, &email, &name, role, now_micros()).await {
        Err(StoreError::Conflict(_)) => {
            return Err(ApiError::Conflict("An account with this email already exists.".into()));
        }
        other => other?,
    };
    let store_name = state.store.tenant(tenant).await?.map(|t| t.name).unwrap_or_default();
    send_token(&state, &user, TokenPurpose::Invite, INVITE_LINK, |url, token| {
        mail::invitation(url, &store_name, token)
    })
    .await?;
    let details = serde_json::json!({"email": user.email, "role": role.as_str()});
    audit.record(&state.store, tenant, access.actor(), "team.invited", Some(&user.id), "success", details).await?;
    Ok((StatusCode::CREATED, Json(member(user))))
}

/// Changes a member's role, or deactivates / reactivates them.
#[utoipa::path(patch, path = "/api/v1/team/{id}", tag = "team", params(("id" = String, Path, description = "The member's user id")),
    request_body = MemberPatch, security(("bearer" = [])), responses(
    (status = 200, description = "The member, changed", body = Member),
    (status = 403, description = "Owners and admins only; only owners change owners", body = caly_guard::problem::ProblemBody, content_type = "application/problem+json"),
    (status = 404, description = "No such member in this tenant", body = caly_guard::problem::ProblemBody, content_type = "application/problem+json"),
    (status = 409, description = "It would leave the tenant without an active owner", body = caly_guard::problem::ProblemBody, content_type = "application/problem+json"),
    (status = 422, description = "Invalid fields, all listed", body = caly_guard::problem::ProblemBody, content_type = "application/problem+json")))]
pub async fn update(
    State(state): State<AppState>,
    access: Access,
    audit: AuditContext,
    PathId(id): PathId,
    JsonBody(patch): JsonBody<MemberPatch>,
) -> Result<Json<Member>, ApiError> {
    access.require(Permission::ManageTeam)?;
    let mut errors = FieldErrors::default();
    let role = patch.role.as_deref().and_then(|role| errors.check("role", role.parse::<Role>()));
    if patch.role.is_none() && patch.active.is_none() {
        errors.refuse("role", Invalid::new("required", "give a role, active, or both"));
    }
    errors.finish()?;
    let tenant = &access.tenant_id;
    let target = state.store.user(tenant, &id).await?.ok_or(ApiError::NotFound("Member"))?;
    if target.role == Role::Owner || role == Some(Role::Owner) {
        access.require(Permission::ManageOwners)?;
    }
    let changed = match state.store.change_member(tenant, &id, role, patch.active, now_micros()).await? {
        MemberChange::Changed(user) => user,
        MemberChange::LastOwner => {
            return Err(ApiError::Conflict("The store must keep at least one active owner.".into()));
        }
        MemberChange::Missing => return Err(ApiError::NotFound("Member")),
    };
    let actor = access.actor();
    if changed.role != target.role {
        let details = serde_json::json!({"from": target.role.as_str(), "to": changed.role.as_str()});
        audit.record(&state.store, tenant, actor, "team.role_changed", Some(&id), "success", details).await?;
    }
    if changed.active != target.active {
        let event = if changed.active { "team.reactivated" } else { "team.deactivated" };
        audit.record(&state.store, tenant, actor, event, Some(&id), "success", serde_json::json!({})).await?;
    }
    Ok(Json(member(changed)))
}
