//! `/api/v1/settings` and `/api/v1/onboarding`: a tenant's settings, versioned, with
//! provider credentials write-only (sealed with AES-256-GCM, shown as `****1234`), and what a
//! new tenant still has to set up.

use std::collections::BTreeMap;

use axum::{Json, extract::State};
use caly_core::{Invalid, permission::Permission, settings::Settings};
use caly_store::{Saved, SecretChange, SettingsSave};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{
    access::Access,
    audit::AuditContext,
    error::{ApiError, FieldErrors},
    extract::Json as JsonBody,
    time::rfc3339,
};
use crate::{auth::now_micros, state::AppState};

/// The credentials a tenant may store.
const CREDENTIALS: [&str; 9] = [
    "twilio_account_sid",
    "twilio_auth_token",
    "exotel_api_key",
    "exotel_api_token",
    "plivo_auth_id",
    "plivo_auth_token",
    "shopify_access_token",
    "deepgram_api_key",
    "openai_api_key",
];
const TELEPHONY: [&str; 3] = ["twilio_auth_token", "exotel_api_token", "plivo_auth_token"];

#[derive(Serialize, ToSchema)]
pub struct SettingsView {
    /// Send it back with the next `PUT`; 0 until the first save.
    version: i64,
    updated_at: Option<String>,
    #[schema(value_type = Object)]
    settings: Settings,
    /// Stored credentials, masked: `****1234`.
    credentials: BTreeMap<String, String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SettingsUpdate {
    /// The `version` you read; a save by someone else since then answers 409.
    version: i64,
    #[schema(value_type = Object)]
    settings: Settings,
    /// Credentials to set (a string) or delete (`null`); others stay as they are.
    #[schema(value_type = Option<Object>)]
    credentials: Option<BTreeMap<String, Option<String>>>,
}

#[derive(Serialize, ToSchema)]
pub struct Step {
    /// `email_verified`, `phone_number`, `telephony`, `store_connection` or `greeting`.
    id: &'static str,
    title: &'static str,
    done: bool,
}

#[derive(Serialize, ToSchema)]
pub struct Onboarding {
    complete: bool,
    steps: Vec<Step>,
}

/// Far beyond any real number of saves; keeps `version + 1` from overflowing.
const MAX_VERSION: i64 = 1 << 40;

/// Credentials shorter than this show no characters at all.
const SHOWN_FROM: usize = 12;

fn last4(value: &str) -> String {
    let chars: Vec<char> = value.chars().collect();
    if chars.len() < SHOWN_FROM { String::new() } else { chars[chars.len() - 4..].iter().collect() }
}

async fn current(state: &AppState, tenant: &str) -> Result<(i64, Option<i64>, Settings), ApiError> {
    match state.store.settings(tenant).await? {
        Some(stored) => {
            let settings = serde_json::from_str(&stored.document).map_err(ApiError::internal)?;
            Ok((stored.version, Some(stored.updated_at), settings))
        }
        None => Ok((0, None, Settings::default())),
    }
}

async fn view(state: &AppState, tenant: &str) -> Result<SettingsView, ApiError> {
    let (version, updated_at, settings) = current(state, tenant).await?;
    let credentials = state
        .store
        .secret_names(tenant)
        .await?
        .into_iter()
        .map(|(name, last4)| (name, format!("****{last4}")))
        .collect();
    Ok(SettingsView { version, updated_at: updated_at.map(rfc3339), settings, credentials })
}

/// The tenant's settings and which credentials are stored.
#[utoipa::path(get, path = "/api/v1/settings", operation_id = "get_settings", tag = "settings", security(("bearer" = [])), responses(
    (status = 200, description = "The current settings", body = SettingsView),
    (status = 403, description = "Owners and admins only", body = caly_guard::problem::ProblemBody, content_type = "application/problem+json")))]
pub async fn get(State(state): State<AppState>, access: Access) -> Result<Json<SettingsView>, ApiError> {
    access.require(Permission::ManageSettings)?;
    Ok(Json(view(&state, &access.tenant_id).await?))
}

/// Replaces the settings (all fields validated at once) and sets or deletes credentials.
#[utoipa::path(put, path = "/api/v1/settings", operation_id = "put_settings", tag = "settings", request_body = SettingsUpdate, security(("bearer" = [])), responses(
    (status = 200, description = "Saved as a new version", body = SettingsView),
    (status = 403, description = "Owners and admins only", body = caly_guard::problem::ProblemBody, content_type = "application/problem+json"),
    (status = 409, description = "Saved by someone else since `version`, or a number belongs to another store", body = caly_guard::problem::ProblemBody, content_type = "application/problem+json"),
    (status = 422, description = "Invalid fields, all listed", body = caly_guard::problem::ProblemBody, content_type = "application/problem+json")))]
pub async fn put(
    State(state): State<AppState>,
    access: Access,
    audit: AuditContext,
    JsonBody(update): JsonBody<SettingsUpdate>,
) -> Result<Json<SettingsView>, ApiError> {
    access.require(Permission::ManageSettings)?;
    let mut settings = update.settings;
    let mut errors = FieldErrors::default();
    if !(0..=MAX_VERSION).contains(&update.version) {
        errors.refuse(
            "version",
            Invalid::new("invalid_version", "must be the version you read (0 before the first save)"),
        );
    }
    for (field, invalid) in settings.validate() {
        errors.refuse(&format!("settings/{field}"), invalid);
    }
    let credentials = update.credentials.unwrap_or_default();
    for (name, value) in &credentials {
        let field = format!("credentials/{name}");
        if !CREDENTIALS.contains(&name.as_str()) {
            let message = format!("must be one of: {}", CREDENTIALS.join(" "));
            errors.refuse(&field, Invalid::new("unknown_credential", message));
        } else if value
            .as_ref()
            .is_some_and(|v| v.trim().is_empty() || v.len() > 512 || v.chars().any(char::is_control))
        {
            errors.refuse(
                &field,
                Invalid::new("invalid_credential", "must be 1–512 characters without control characters"),
            );
        }
    }
    errors.finish()?;

    let tenant = &access.tenant_id;
    let (_, _, before) = current(&state, tenant).await?;
    let sealed: Vec<(String, Option<(String, String)>)> = credentials
        .iter()
        .map(|(name, value)| {
            let sealed = value.as_ref().map(|v| (state.secrets.seal(tenant, name, v.trim()), last4(v.trim())));
            (name.clone(), sealed)
        })
        .collect();
    let secrets: Vec<SecretChange> = sealed
        .iter()
        .map(|(name, sealed)| SecretChange { name, sealed: sealed.as_ref().map(|(s, l)| (s.as_str(), l.as_str())) })
        .collect();
    let changed = changed_sections(&before, &settings, credentials.keys());
    let document = serde_json::to_string(&settings).map_err(ApiError::internal)?;
    let changed_json = serde_json::to_string(&changed).map_err(ApiError::internal)?;
    let save = SettingsSave {
        expected_version: update.version,
        document: &document,
        changed: &changed_json,
        phone_numbers: &settings.phone_numbers,
        secrets: &secrets,
        updated_by: &access.actor_label(),
    };
    let version = match state.store.save_settings(tenant, save, now_micros()).await? {
        Saved::Version(version) => version,
        Saved::Stale(current) => {
            return Err(ApiError::Conflict(format!(
                "The settings were saved by someone else (now version {current}); read them again and retry."
            )));
        }
        Saved::NumberTaken(number) => {
            return Err(ApiError::Conflict(format!("{number} is already connected to another store.")));
        }
    };
    let details = serde_json::json!({"version": version, "changed": changed});
    audit.record(&state.store, tenant, access.actor(), "settings.updated", None, "success", details).await?;
    crate::call::speech::prepare_greetings(&state, &settings);
    Ok(Json(view(&state, tenant).await?))
}

/// Top-level sections that differ, and `credentials/<name>` for each credential touched.
fn changed_sections<'a>(
    before: &Settings,
    after: &Settings,
    credentials: impl Iterator<Item = &'a String>,
) -> Vec<String> {
    let (before, after) =
        (serde_json::to_value(before).unwrap_or_default(), serde_json::to_value(after).unwrap_or_default());
    let mut changed: Vec<String> = after
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(key, value)| before.get(key.as_str()) != Some(value))
        .map(|(key, _)| key.clone())
        .collect();
    changed.extend(credentials.map(|name| format!("credentials/{name}")));
    changed
}

/// What a new store still has to set up before Caly can answer its calls.
#[utoipa::path(get, path = "/api/v1/onboarding", operation_id = "get_onboarding", tag = "settings", security(("bearer" = [])), responses(
    (status = 200, description = "The steps, in order", body = Onboarding),
    (status = 403, description = "Owners and admins only", body = caly_guard::problem::ProblemBody, content_type = "application/problem+json")))]
pub async fn onboarding(State(state): State<AppState>, access: Access) -> Result<Json<Onboarding>, ApiError> {
    access.require(Permission::ManageSettings)?;
    let tenant = &access.tenant_id;
    let user = state.store.user(tenant, access.user_id()?).await?.ok_or(ApiError::NotFound("User"))?;
    let (version, _, settings) = current(&state, tenant).await?;
    let stored: Vec<String> = state.store.secret_names(tenant).await?.into_iter().map(|(name, _)| name).collect();
    let steps = vec![
        Step { id: "email_verified", title: "Confirm your email address", done: user.email_verified },
        Step { id: "phone_number", title: "Connect a phone number", done: !settings.phone_numbers.is_empty() },
        Step {
            id: "telephony",
            title: "Add your Twilio, Exotel or Plivo credentials",
            done: TELEPHONY.iter().any(|name| stored.iter().any(|s| s == name)),
        },
        Step {
            id: "store_connection",
            title: "Connect your Shopify store",
            done: stored.iter().any(|s| s == "shopify_access_token"),
        },
        Step { id: "greeting", title: "Review the agent's greeting and policies", done: version > 0 },
    ];
    Ok(Json(Onboarding { complete: steps.iter().all(|s| s.done), steps }))
}
