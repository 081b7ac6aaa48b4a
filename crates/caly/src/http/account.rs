//! Email verification, password reset and accepting an invitation: each spends a single-use
//! token that reached the user by mail (stored hashed; 30 minutes, invitations 72 hours).

use std::time::Duration;

use axum::{extract::State, http::StatusCode};
use caly_core::{Email, Invalid, Password};
use caly_store::{SYSTEM_CHAIN, TokenMail, TokenPurpose, User};
use serde::Deserialize;
use utoipa::ToSchema;

use super::{
    access::Access,
    audit::{Actor, AuditContext},
    error::{ApiError, FieldErrors},
    extract::Json as JsonBody,
    limits::check_account,
};
use crate::{
    auth::{now_micros, random_token, token_hash},
    mail::{self, Message},
    state::AppState,
};

/// How long verification and reset links work.
pub const SHORT_LINK: Duration = Duration::from_secs(30 * 60);
/// How long an invitation works.
pub const INVITE_LINK: Duration = Duration::from_secs(72 * 3600);

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    /// The token from the mail's link.
    token: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetRequest {
    email: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPassword {
    /// The token from the mail's link.
    token: String,
    /// 12–128 characters, not a common password, not containing the email's name.
    password: String,
}

/// Mails `user` a new single-use token for `purpose`; earlier ones of that purpose stop working.
pub async fn send_token(
    state: &AppState,
    user: &User,
    purpose: TokenPurpose,
    ttl: Duration,
    message: impl FnOnce(&str, &str) -> Message,
) -> Result<(), ApiError> {
    let token = random_token();
    let Message { subject, body } = message(&state.config.mail.public_url, &token);
    let now = now_micros();
    let mail = TokenMail {
        purpose,
        tenant_id: &user.tenant_id,
        user_id: &user.id,
        token_hash: &token_hash(&token),
        expires_at: now + ttl.as_micros() as i64,
        recipient: &user.email,
        subject: &subject,
        body: &body,
    };
    state.store.issue_token_mail(mail, now).await?;
    Ok(())
}

fn invalid_token() -> ApiError {
    let mut errors = FieldErrors::default();
    errors.refuse("token", Invalid::new("invalid_token", "is unknown, expired or already used"));
    errors.finish().expect_err("one error")
}

/// Confirms the email address the token was sent to.
#[utoipa::path(post, path = "/api/v1/auth/verify-email", tag = "auth", request_body = TokenRequest, responses(
    (status = 204, description = "The email is verified"),
    (status = 422, description = "Unknown, expired or used token", body = caly_guard::problem::ProblemBody, content_type = "application/problem+json")))]
pub async fn verify_email(
    State(state): State<AppState>,
    audit: AuditContext,
    JsonBody(body): JsonBody<TokenRequest>,
) -> Result<StatusCode, ApiError> {
    let now = now_micros();
    let (tenant, user) = state
        .store
        .use_token(&token_hash(&body.token), TokenPurpose::VerifyEmail, now)
        .await?
        .ok_or_else(invalid_token)?;
    state.store.mark_email_verified(&tenant, &user, now).await?;
    audit
        .record(
            &state.store,
            &tenant,
            Actor::User(&user),
            "auth.email_verified",
            None,
            "success",
            serde_json::json!({}),
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Sends the signed-in user a new verification mail.
#[utoipa::path(post, path = "/api/v1/auth/verify-email/resend", tag = "auth", security(("bearer" = [])), responses(
    (status = 202, description = "A new verification mail is on its way"),
    (status = 409, description = "The email is already verified", body = caly_guard::problem::ProblemBody, content_type = "application/problem+json"),
    (status = 429, description = "Too many verification mails for this account", body = caly_guard::problem::ProblemBody, content_type = "application/problem+json")))]
pub async fn resend_verification(State(state): State<AppState>, access: Access) -> Result<StatusCode, ApiError> {
    let user = access.active_user(&state.store).await?;
    if user.email_verified {
        return Err(ApiError::Conflict("The email is already verified.".into()));
    }
    check_account(&state, |rate| &rate.verify, &user.email).await?;
    send_token(&state, &user, TokenPurpose::VerifyEmail, SHORT_LINK, mail::verification).await?;
    Ok(StatusCode::ACCEPTED)
}

/// Mails a password-reset link if an active account has this email. The answer is the same
/// either way, so it tells nothing about which emails exist.
#[utoipa::path(post, path = "/api/v1/auth/password-reset/request", tag = "auth", request_body = ResetRequest, responses(
    (status = 202, description = "If the account exists, a reset mail is on its way"),
    (status = 422, description = "Not an email address", body = caly_guard::problem::ProblemBody, content_type = "application/problem+json"),
    (status = 429, description = "Too many reset requests for this email", body = caly_guard::problem::ProblemBody, content_type = "application/problem+json")))]
pub async fn request_password_reset(
    State(state): State<AppState>,
    audit: AuditContext,
    JsonBody(body): JsonBody<ResetRequest>,
) -> Result<StatusCode, ApiError> {
    let mut errors = FieldErrors::default();
    let email = errors.check("email", Email::parse(&body.email));
    errors.finish()?;
    let email = email.expect("checked");
    check_account(&state, |rate| &rate.password_reset, email.as_str()).await?;
    let details = serde_json::json!({"email": email.as_str()});
    match state.store.user_by_email(&email).await?.filter(|u| u.active && u.password_hash.is_some()) {
        Some(user) => {
            send_token(&state, &user, TokenPurpose::ResetPassword, SHORT_LINK, mail::password_reset).await?;
            let actor = Actor::User(&user.id);
            audit
                .record(&state.store, &user.tenant_id, actor, "auth.password_reset.requested", None, "success", details)
                .await?;
        }
        None => {
            let actor = Actor::Anonymous;
            audit
                .record(&state.store, SYSTEM_CHAIN, actor, "auth.password_reset.requested", None, "failure", details)
                .await?;
        }
    }
    Ok(StatusCode::ACCEPTED)
}

/// Sets a new password with a reset token; every session of the account ends.
#[utoipa::path(post, path = "/api/v1/auth/password-reset", tag = "auth", request_body = NewPassword, responses(
    (status = 204, description = "Password changed; sign in again"),
    (status = 422, description = "Bad token or password, all listed", body = caly_guard::problem::ProblemBody, content_type = "application/problem+json")))]
pub async fn reset_password(
    State(state): State<AppState>,
    audit: AuditContext,
    JsonBody(body): JsonBody<NewPassword>,
) -> Result<StatusCode, ApiError> {
    let (tenant, user) = set_password_with(&state, &body, TokenPurpose::ResetPassword).await?;
    state.store.clear_login_failures(&user.email).await?;
    let actor = Actor::User(&user.id);
    audit
        .record(&state.store, &tenant, actor, "auth.password_reset.completed", None, "success", serde_json::json!({}))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Joins a team by choosing a password with an invitation token.
#[utoipa::path(post, path = "/api/v1/auth/accept-invite", tag = "auth", request_body = NewPassword, responses(
    (status = 204, description = "Joined; sign in with the new password"),
    (status = 422, description = "Bad token or password, all listed", body = caly_guard::problem::ProblemBody, content_type = "application/problem+json")))]
pub async fn accept_invite(
    State(state): State<AppState>,
    audit: AuditContext,
    JsonBody(body): JsonBody<NewPassword>,
) -> Result<StatusCode, ApiError> {
    let (tenant, user) = set_password_with(&state, &body, TokenPurpose::Invite).await?;
    let details = serde_json::json!({"email": user.email, "role": user.role.as_str()});
    audit
        .record(&state.store, &tenant, Actor::User(&user.id), "team.joined", Some(&user.id), "success", details)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Checks the password against the policy for the token's user, then spends the token and
/// stores the hash. The token is spent only once the password is known to be acceptable.
async fn set_password_with(
    state: &AppState,
    body: &NewPassword,
    purpose: TokenPurpose,
) -> Result<(String, User), ApiError> {
    let hash = token_hash(&body.token);
    let now = now_micros();
    let (tenant, user_id) = state.store.token_owner(&hash, purpose, now).await?.ok_or_else(invalid_token)?;
    let user = state.store.user(&tenant, &user_id).await?.filter(|u| u.active).ok_or_else(invalid_token)?;
    let email = Email::parse(&user.email).ok();
    let mut errors = FieldErrors::default();
    let password = errors.check("password", Password::parse(&body.password, email.as_ref()));
    errors.finish()?;
    let password_hash = state.passwords.hash(password.expect("checked").expose()).await.map_err(ApiError::internal)?;
    state.store.use_token(&hash, purpose, now).await?.ok_or_else(invalid_token)?;
    state.store.set_password(&tenant, &user.id, &password_hash, true, now).await?;
    Ok((tenant, user))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    current_password: String,
    /// 12–128 characters, not a common password, not containing the email's name.
    new_password: String,
}

/// Changes the signed-in user's password; every session of theirs ends, so sign in again.
#[utoipa::path(post, path = "/api/v1/auth/password", tag = "auth", request_body = PasswordChange, security(("bearer" = [])), responses(
    (status = 204, description = "Changed; every session ended"),
    (status = 403, description = "API keys have no password", body = caly_guard::problem::ProblemBody, content_type = "application/problem+json"),
    (status = 422, description = "Wrong current password or unacceptable new one", body = caly_guard::problem::ProblemBody, content_type = "application/problem+json"),
    (status = 429, description = "Too many attempts for this account", body = caly_guard::problem::ProblemBody, content_type = "application/problem+json")))]
pub async fn change_password(
    State(state): State<AppState>,
    access: Access,
    audit: AuditContext,
    JsonBody(body): JsonBody<PasswordChange>,
) -> Result<StatusCode, ApiError> {
    let user = access.active_user(&state.store).await?;
    // Guessing the current password here is a sign-in attempt, limited like one.
    check_account(&state, |rate| &rate.login, &user.email).await?;
    let mut errors = FieldErrors::default();
    let matches = state
        .passwords
        .verify(&body.current_password, user.password_hash.as_deref())
        .await
        .map_err(ApiError::internal)?;
    if !matches {
        errors.refuse("current_password", Invalid::new("incorrect", "is not your current password"));
    }
    let email = Email::parse(&user.email).ok();
    let password = errors.check("new_password", Password::parse(&body.new_password, email.as_ref()));
    errors.finish()?;
    let hash = state.passwords.hash(password.expect("checked").expose()).await.map_err(ApiError::internal)?;
    state.store.set_password(&user.tenant_id, &user.id, &hash, false, now_micros()).await?;
    audit
        .record(
            &state.store,
            &user.tenant_id,
            access.actor(),
            "auth.password_changed",
            None,
            "success",
            serde_json::json!({}),
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
