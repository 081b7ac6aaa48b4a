//! `GET /api/v1/audit`: the tenant's audit log for owners and admins, oldest first, with a
//! cursor that stays stable while new events are appended.

use axum::{Json, extract::State};
use caly_core::{Invalid, permission::Permission};
use caly_store::AuditFilter;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{
    access::Access,
    error::{ApiError, FieldErrors},
    extract::Query,
};
use crate::state::AppState;

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Only this event, e.g. `auth.login.failed`.
    event: Option<String>,
    /// `success`, `failure` or `denied`.
    outcome: Option<String>,
    /// RFC 3339 time, inclusive.
    from: Option<String>,
    /// RFC 3339 time, inclusive.
    to: Option<String>,
    /// 1–200, default 50.
    limit: Option<i64>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct AuditItem {
    id: String,
    seq: i64,
    /// RFC 3339, UTC.
    at: String,
    actor_type: String,
    actor_id: Option<String>,
    ip: Option<String>,
    user_agent: Option<String>,
    request_id: Option<String>,
    event: String,
    target: Option<String>,
    outcome: String,
    #[schema(value_type = Object)]
    details: serde_json::Value,
}

#[derive(Serialize, ToSchema)]
pub struct AuditPage {
    items: Vec<AuditItem>,
    /// Pass as `cursor` for the next page; absent on the last page.
    next_cursor: Option<String>,
}

/// An optional RFC 3339 time, in store units (µs since the epoch).
fn micros(value: &Option<String>) -> Result<Option<i64>, Invalid> {
    let invalid = || Invalid::new("invalid_time", "must be an RFC 3339 time such as 2026-11-27T10:00:00Z");
    value
        .as_deref()
        .map(|text| text.parse::<jiff::Timestamp>().map(|t| t.as_microsecond()).map_err(|_| invalid()))
        .transpose()
}

/// The caller's tenant's audit log.
#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", params(AuditQuery), security(("bearer" = [])), responses(
    (status = 200, description = "A page of events, oldest first", body = AuditPage),
    (status = 401, description = "No valid access token", body = caly_guard::problem::ProblemBody, content_type = "application/problem+json"),
    (status = 403, description = "Only owners and admins", body = caly_guard::problem::ProblemBody, content_type = "application/problem+json"),
    (status = 422, description = "Invalid parameters, all listed", body = caly_guard::problem::ProblemBody, content_type = "application/problem+json")))]
pub async fn list(
    State(state): State<AppState>,
    access: Access,
    Query(query): Query<AuditQuery>,
) -> Result<Json<AuditPage>, ApiError> {
    access.require(Permission::ReadAudit)?;
    let mut errors = FieldErrors::default();
    let limit = errors.page_limit(query.limit);
    let after = match query.cursor.as_deref().map(str::parse::<i64>) {
        None => 0,
        Some(Ok(seq)) if seq >= 0 => seq,
        Some(_) => {
            let invalid = Invalid::new("invalid_cursor", "must be a next_cursor from an earlier page");
            errors.refuse("cursor", invalid);
            0
        }
    };
    let from = errors.check("from", micros(&query.from)).flatten();
    let to = errors.check("to", micros(&query.to)).flatten();
    if let (Some(from), Some(to)) = (from, to)
        && from > to
    {
        errors.refuse("from", Invalid::new("after_to", "must not be after `to`"));
    }
    errors.finish()?;
    let filter = AuditFilter { event: query.event, outcome: query.outcome, from, to };
    let entries = state.store.audit_page(&access.tenant_id, &filter, after, limit + 1).await?;
    let more = entries.len() as i64 > limit;
    let items: Vec<AuditItem> = entries
        .into_iter()
        .take(limit as usize)
        .map(|entry| {
            let event = entry.event;
            AuditItem {
                id: entry.id,
                seq: entry.seq,
                at: super::time::rfc3339(event.at),
                actor_type: event.actor_type.into_owned(),
                actor_id: event.actor_id,
                ip: event.ip,
                user_agent: event.user_agent,
                request_id: event.request_id,
                event: event.event.into_owned(),
                target: event.target,
                outcome: event.outcome.into_owned(),
                details: serde_json::from_str(&event.details).unwrap_or(serde_json::Value::Null),
            }
        })
        .collect();
    let next_cursor = more.then(|| items.last().map(|i| i.seq.to_string())).flatten();
    Ok(Json(AuditPage { items, next_cursor }))
}
