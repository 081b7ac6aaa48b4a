//! `/api/v1/auth/*` and `/api/v1/me`: registering a store, signing in and out.

use axum::{Json, extract::State, http::StatusCode};
use caly_core::{DisplayName, Email, Language, Password, Role, Timezone};
use caly_store::{NewRefreshToken, NewTenant, NewUser, RefreshUse, SYSTEM_CHAIN, StoreError, Tenant, User};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{
    access::Access,
    audit::{Actor, AuditContext},
    error::{ApiError, FieldErrors},
    extract::Json as JsonBody,
};
use crate::{
    auth::{now_micros, random_token, token_hash},
    state::AppState,
};

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterRequest {
    #[schema(example = "asha@example.in")]
    email: String,
    /// 12–128 characters, not a common password, not containing the email's name.
    password: String,
    #[schema(example = "Asha Rao")]
    name: String,
    #[schema(example = "Kurta Ghar")]
    store_name: String,
    #[schema(example = "Asia/Kolkata")]
    timezone: String,
    /// `hi`, `en` or `hinglish`.
    #[schema(example = "hinglish")]
    language: String,
}

#[derive(Serialize, ToSchema)]
pub struct TenantView {
    id: String,
    name: String,
    timezone: String,
    language: String,
}

#[derive(Serialize, ToSchema)]
pub struct UserView {
    id: String,
    email: String,
    name: String,
    /// `owner`, `admin`, `supervisor` or `viewer`.
    #[schema(value_type = String, example = "owner")]
    role: Role,
    email_verified: bool,
}

#[derive(Serialize, ToSchema)]
pub struct Account {
    tenant: TenantView,
    user: UserView,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    email: String,
    password: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    refresh_token: String,
}

#[derive(Serialize, ToSchema)]
pub struct TokenPair {
    access_token: String,
    refresh_token: String,
    /// Always `Bearer`.
    token_type: &'static str,
    /// Seconds until the access token expires.
    expires_in: u64,
}

fn user_view(user: User) -> UserView {
    UserView { id: user.id, email: user.email, name: user.name, role: user.role, email_verified: user.email_verified }
}

fn tenant_view(tenant: Tenant) -> TenantView {
    TenantView { id: tenant.id, name: tenant.name, timezone: tenant.timezone, language: tenant.language }
}

/// Creates a store (tenant) and its owner.
#[utoipa::path(post, path = "/api/v1/auth/register", tag = "auth", request_body = RegisterRequest, responses(
    (status = 201, description = "Tenant and owner created", body = Account),
    (status = 409, description = "The email is already registered", body = caly_guard::problem::ProblemBody, content_type = "application/problem+json"),
    (status = 422, description = "Invalid fields, all listed", body = caly_guard::problem::ProblemBody, content_type = "application/problem+json")))]
pub async fn register(
    State(state): State<AppState>,
    audit: AuditContext,
    JsonBody(body): JsonBody<RegisterRequest>,
) -> Result<(StatusCode, Json<Account>), ApiError> {
    let mut verdicts = FieldErrors::default();
    let email = verdicts.check("email", Email::parse(&body.email));
    let password = verdicts.check("password", Password::parse(&body.password, email.as_ref()));
    let name = verdicts.check("name", DisplayName::parse(&body.name));
    let store_name = verdicts.check("store_name", DisplayName::parse(&body.store_name));
    let timezone = verdicts.check("timezone", Timezone::parse(&body.timezone));
    let language = verdicts.check("language", body.language.parse::<Language>());
    verdicts.finish()?;
    let (Some(email), Some(password), Some(name), Some(store_name), Some(timezone), Some(language)) =
        (email, password, name, store_name, timezone, language)
    else {
        unreachable!("every field passed")
    };

    let hash = state.passwords.hash(password.expose()).await.map_err(ApiError::internal)?;
    let created = state
        .store
        .create_tenant_with_owner(
            NewTenant { name: &store_name, timezone: &timezone, language },
            NewUser { email: &email, name: &name, role: Role::Owner, password_hash: &hash },
            now_micros(),
        )
        .await;
    let (tenant, user) = match created {
        Err(StoreError::Conflict(_)) => {
            return Err(ApiError::Conflict("An account with this email already exists.".into()));
        }
        other => other?,
    };
    tracing::info!(tenant_id = %tenant.id, user_id = %user.id, "tenant registered");
    super::account::send_token(
        &state,
        &user,
        caly_store::TokenPurpose::VerifyEmail,
        super::account::SHORT_LINK,
        crate::mail::verification,
    )
    .await?;
    let details = serde_json::json!({"store_name": tenant.name, "email": user.email});
    audit
        .record(
            &state.store,
            &tenant.id,
            Actor::User(&user.id),
            "tenant.registered",
            Some(&tenant.id),
            "success",
            details,
        )
        .await?;
    Ok((StatusCode::CREATED, Json(Account { tenant: tenant_view(tenant), user: user_view(user) })))
}

/// Signs in with email and password.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginRequest, responses(
    (status = 200, description = "Signed in", body = TokenPair),
    (status = 401, description = "Wrong email or password", body = caly_guard::problem::ProblemBody, content_type = "application/problem+json"),
    (status = 429, description = "Too many failed sign-ins for this account; see Retry-After", body = caly_guard::problem::ProblemBody, content_type = "application/problem+json")))]
pub async fn login(
    State(state): State<AppState>,
    audit: AuditContext,
    JsonBody(body): JsonBody<LoginRequest>,
) -> Result<Json<TokenPair>, ApiError> {
    const REFUSED: ApiError = ApiError::Unauthenticated("The email or password is not correct.");
    let email = Email::parse(&body.email);
    // The lockout is keyed by the normalised email whether or not an account has it, so that
    // it tells nothing about which emails exist.
    let account = email.as_ref().map_or_else(|_| body.email.trim().to_lowercase(), |e| e.as_str().to_owned());
    let (now, policy) = (now_micros(), &state.config.auth);
    let window = policy.lockout_window.as_micros() as i64;
    let (failures, latest) = state.store.login_failures_since(&account, now - window).await?;
    if failures >= i64::from(policy.lockout_threshold) {
        let unlocks_in = (latest.unwrap_or(now) + window - now).max(0) / 1_000_000 + 1;
        tracing::warn!(failures, "sign-in refused: account locked");
        let details = serde_json::json!({"email": account, "failures": failures});
        audit
            .record(&state.store, SYSTEM_CHAIN, Actor::Anonymous, "auth.login.locked", None, "denied", details)
            .await?;
        return Err(ApiError::RateLimited { retry_after_secs: unlocks_in as u64 });
    }
    // The login policy counts per account as well as per IP (the route's limit), so that many
    // addresses together cannot try one account faster than one address could.
    super::limits::check_account(&state, |rate| &rate.login, &account).await?;

    let user = match &email {
        Ok(email) => state.store.user_by_email(email).await?,
        Err(_) => None,
    };
    let hash = user.as_ref().filter(|u| u.active).and_then(|u| u.password_hash.as_deref());
    // Unknown emails are checked against a decoy so that both answers take as long.
    let matches = state.passwords.verify(&body.password, hash).await.map_err(ApiError::internal)?;
    let user = match user {
        Some(user) if matches => user,
        unmatched => {
            state.store.record_login_failure(&account, now, now - window).await?;
            let details = serde_json::json!({"email": account});
            let (chain, actor) = match &unmatched {
                Some(known) => (known.tenant_id.as_str(), Actor::User(&known.id)),
                None => (SYSTEM_CHAIN, Actor::Anonymous),
            };
            audit.record(&state.store, chain, actor, "auth.login.failed", None, "failure", details).await?;
            return Err(REFUSED);
        }
    };
    if failures > 0 {
        state.store.clear_login_failures(&account).await?;
    }
    let session = caly_store::new_id();
    let details = serde_json::json!({"session": session});
    audit
        .record(&state.store, &user.tenant_id, Actor::User(&user.id), "auth.login.succeeded", None, "success", details)
        .await?;
    Ok(Json(issue_tokens(&state, &user, &session).await?))
}

/// Trades a refresh token for a new pair; a used token presented again revokes its session.
#[utoipa::path(post, path = "/api/v1/auth/refresh", tag = "auth", request_body = RefreshRequest, responses(
    (status = 200, description = "A new token pair; the old refresh token is spent", body = TokenPair),
    (status = 401, description = "Unknown, expired, revoked or reused refresh token", body = caly_guard::problem::ProblemBody, content_type = "application/problem+json")))]
pub async fn refresh(
    State(state): State<AppState>,
    audit: AuditContext,
    JsonBody(body): JsonBody<RefreshRequest>,
) -> Result<Json<TokenPair>, ApiError> {
    const REFUSED: ApiError = ApiError::Unauthenticated("The refresh token is not valid.");
    match state.store.use_refresh_token(&token_hash(&body.refresh_token), now_micros()).await? {
        RefreshUse::Rotated { family_id, tenant_id, user_id } => {
            let user = state.store.user(&tenant_id, &user_id).await?.filter(|u| u.active).ok_or(REFUSED)?;
            let details = serde_json::json!({"session": family_id});
            audit
                .record(
                    &state.store,
                    &tenant_id,
                    Actor::User(&user_id),
                    "auth.token.refreshed",
                    None,
                    "success",
                    details,
                )
                .await?;
            Ok(Json(issue_tokens(&state, &user, &family_id).await?))
        }
        RefreshUse::Reused { family_id, tenant_id, user_id } => {
            tracing::warn!(%tenant_id, %user_id, %family_id, "refresh token reused; session revoked");
            let details = serde_json::json!({"session": family_id});
            audit
                .record(&state.store, &tenant_id, Actor::User(&user_id), "auth.token.reused", None, "denied", details)
                .await?;
            Err(REFUSED)
        }
        RefreshUse::Rejected => Err(REFUSED),
    }
}

/// Ends the session the refresh token belongs to.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", request_body = RefreshRequest, responses(
    (status = 204, description = "Signed out (also when the token was already spent or unknown)")))]
pub async fn logout(
    State(state): State<AppState>,
    audit: AuditContext,
    JsonBody(body): JsonBody<RefreshRequest>,
) -> Result<StatusCode, ApiError> {
    if let Some((family_id, tenant_id, user_id)) =
        state.store.refresh_family_of(&token_hash(&body.refresh_token)).await?
    {
        state.store.revoke_refresh_family(&family_id, now_micros()).await?;
        let details = serde_json::json!({"session": family_id});
        audit.record(&state.store, &tenant_id, Actor::User(&user_id), "auth.logout", None, "success", details).await?;
    }
    Ok(StatusCode::NO_CONTENT)
}

/// Ends every session of the signed-in user.
#[utoipa::path(post, path = "/api/v1/auth/logout-all", tag = "auth", security(("bearer" = [])), responses(
    (status = 204, description = "Every session revoked"),
    (status = 401, description = "No valid access token", body = caly_guard::problem::ProblemBody, content_type = "application/problem+json")))]
pub async fn logout_all(
    State(state): State<AppState>,
    audit: AuditContext,
    access: Access,
) -> Result<StatusCode, ApiError> {
    let (tenant, user) = (&access.tenant_id, access.user_id()?);
    let revoked = state.store.revoke_user_sessions(tenant, user, now_micros()).await?;
    let details = serde_json::json!({"sessions_revoked": revoked});
    audit.record(&state.store, tenant, Actor::User(user), "auth.logout_all", None, "success", details).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The signed-in user and their tenant.
#[utoipa::path(get, path = "/api/v1/me", tag = "auth", security(("bearer" = [])), responses(
    (status = 200, description = "The caller", body = Account),
    (status = 401, description = "No valid access token", body = caly_guard::problem::ProblemBody, content_type = "application/problem+json")))]
pub async fn me(State(state): State<AppState>, access: Access) -> Result<Json<Account>, ApiError> {
    let user = access.active_user(&state.store).await?;
    let tenant = state.store.tenant(&user.tenant_id).await?.ok_or(ApiError::NotFound("Tenant"))?;
    Ok(Json(Account { tenant: tenant_view(tenant), user: user_view(user) }))
}

async fn issue_tokens(state: &AppState, user: &User, family_id: &str) -> Result<TokenPair, ApiError> {
    let now = now_micros();
    let refresh_token = random_token();
    let ttl = &state.config.auth;
    state
        .store
        .insert_refresh_token(
            NewRefreshToken {
                family_id,
                tenant_id: &user.tenant_id,
                user_id: &user.id,
                hash: &token_hash(&refresh_token),
                expires_at: now + ttl.refresh_token_ttl.as_micros() as i64,
            },
            now,
        )
        .await?;
    let access_token = state.tokens.issue(&user.id, &user.tenant_id, user.role, family_id, (now / 1_000_000) as u64);
    Ok(TokenPair { access_token, refresh_token, token_type: "Bearer", expires_in: ttl.access_token_ttl.as_secs() })
}
