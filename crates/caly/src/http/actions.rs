//! `/api/v1/actions`: what agents asked the store to do, and the supervisors' approvals.

use axum::{Json, extract::State};
use caly_core::{
    Invalid,
    action::{ActionStatus, Decision},
    permission::Permission,
};
use caly_store::{Action, Decided};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{
    access::Access,
    audit::AuditContext,
    error::{ApiError, FieldErrors},
    extract::{Json as JsonBody, PathId, Query, uuid},
    time::rfc3339,
};
use crate::{
    auth::now_micros,
    conversation::{Party, execute},
    state::AppState,
};

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ActionsQuery {
    /// `proposed`, `awaiting_approval`, `approved`, `rejected`, `executed` or `failed`.
    status: Option<String>,
    /// Only the actions of this call.
    call_id: Option<String>,
    /// 1–200, default 50.
    limit: Option<i64>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ActionView {
    id: String,
    call_id: Option<String>,
    /// `cancel`, `refund`, `return`, `exchange` or `address_change`.
    kind: String,
    order_number: String,
    #[schema(value_type = Object)]
    params: serde_json::Value,
    /// Money moved, in rupees with two decimals (refunds).
    amount_inr: Option<String>,
    /// `proposed`, `awaiting_approval`, `approved`, `rejected`, `executed` or `failed`.
    status: String,
    requested_at: String,
    /// The user who approved or rejected it.
    decided_by: Option<String>,
    decided_at: Option<String>,
    /// Why it was rejected.
    reason: Option<String>,
    #[schema(value_type = Option<Object>)]
    result: Option<serde_json::Value>,
    executed_at: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ActionPage {
    items: Vec<ActionView>,
    /// Pass as `cursor` for the next page; absent on the last page.
    next_cursor: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Rejection {
    /// Why, for the record and the caller: 1–500 characters.
    reason: String,
}

/// Paise as rupees with two decimals: 129900 → `1299.00`.
pub fn inr(paise: i64) -> String {
    format!("{}.{:02}", paise / 100, paise % 100)
}

pub fn action_view(action: Action) -> ActionView {
    let json = |text: &str| serde_json::from_str(text).unwrap_or(serde_json::Value::Null);
    ActionView {
        params: json(&action.params),
        result: action.result.as_deref().map(json),
        id: action.id,
        call_id: action.call_id,
        kind: action.kind.to_string(),
        order_number: action.order_number,
        amount_inr: action.amount_paise.map(inr),
        status: action.status.to_string(),
        requested_at: rfc3339(action.requested_at),
        decided_by: action.decided_by,
        decided_at: action.decided_at.map(rfc3339),
        reason: action.reason,
        executed_at: action.executed_at.map(rfc3339),
    }
}

/// The tenant's actions in the order they were requested, e.g. the approval queue with
/// `status=awaiting_approval`.
#[utoipa::path(get, path = "/api/v1/actions", operation_id = "list_actions", tag = "actions", params(ActionsQuery), security(("bearer" = [])), responses(
    (status = 200, description = "A page of actions", body = ActionPage),
    (status = 401, description = "No valid access token", body = caly_guard::problem::ProblemBody, content_type = "application/problem+json"),
    (status = 422, description = "Invalid parameters, all listed", body = caly_guard::problem::ProblemBody, content_type = "application/problem+json")))]
pub async fn list(
    State(state): State<AppState>,
    access: Access,
    Query(query): Query<ActionsQuery>,
) -> Result<Json<ActionPage>, ApiError> {
    access.require(Permission::ReadActions)?;
    let mut errors = FieldErrors::default();
    let status = query.status.as_deref().and_then(|s| errors.check("status", s.parse::<ActionStatus>()));
    let call_id = query.call_id.as_deref().and_then(|id| errors.check("call_id", uuid(id)));
    let after = query.cursor.as_deref().and_then(|id| errors.check("cursor", uuid(id)));
    let limit = errors.page_limit(query.limit);
    errors.finish()?;
    let mut actions =
        state.store.actions_page(&access.tenant_id, status, call_id.as_deref(), after.as_deref(), limit + 1).await?;
    let next_cursor = (actions.len() as i64 > limit).then(|| {
        actions.truncate(limit as usize);
        actions.last().map(|a| a.id.clone())
    });
    Ok(Json(ActionPage { items: actions.into_iter().map(action_view).collect(), next_cursor: next_cursor.flatten() }))
}

/// Approves an action awaiting approval and runs it against the tenant's store; the answer
/// shows how it went (`executed` or `failed`, with the store's result). Of two supervisors
/// approving at once, one succeeds and the other gets 409.
#[utoipa::path(post, path = "/api/v1/actions/{id}/approve", operation_id = "approve_action", tag = "actions",
    params(("id" = String, Path, description = "The action's id")), security(("bearer" = [])), responses(
    (status = 200, description = "Approved", body = ActionView),
    (status = 403, description = "Supervisors and above only", body = caly_guard::problem::ProblemBody, content_type = "application/problem+json"),
    (status = 404, description = "No such action in this tenant", body = caly_guard::problem::ProblemBody, content_type = "application/problem+json"),
    (status = 409, description = "Not awaiting approval (already decided)", body = caly_guard::problem::ProblemBody, content_type = "application/problem+json")))]
pub async fn approve(
    State(state): State<AppState>,
    access: Access,
    audit: AuditContext,
    PathId(id): PathId,
) -> Result<Json<ActionView>, ApiError> {
    decide(state, access, audit, id, Decision::Approve, None).await
}

/// Rejects an action awaiting approval; the reason is required.
#[utoipa::path(post, path = "/api/v1/actions/{id}/reject", operation_id = "reject_action", tag = "actions",
    params(("id" = String, Path, description = "The action's id")), request_body = Rejection, security(("bearer" = [])), responses(
    (status = 200, description = "Rejected", body = ActionView),
    (status = 403, description = "Supervisors and above only", body = caly_guard::problem::ProblemBody, content_type = "application/problem+json"),
    (status = 404, description = "No such action in this tenant", body = caly_guard::problem::ProblemBody, content_type = "application/problem+json"),
    (status = 409, description = "Not awaiting approval (already decided)", body = caly_guard::problem::ProblemBody, content_type = "application/problem+json"),
    (status = 422, description = "No reason given", body = caly_guard::problem::ProblemBody, content_type = "application/problem+json")))]
pub async fn reject(
    State(state): State<AppState>,
    access: Access,
    audit: AuditContext,
    PathId(id): PathId,
    JsonBody(body): JsonBody<Rejection>,
) -> Result<Json<ActionView>, ApiError> {
    let reason = body.reason.trim();
    let length = reason.chars().count();
    if length == 0 || length > 500 || reason.chars().any(char::is_control) {
        let invalid = Invalid::new("invalid_reason", "must be 1–500 characters without control characters");
        let mut errors = FieldErrors::default();
        errors.refuse("reason", invalid);
        errors.finish()?;
    }
    decide(state, access, audit, id, Decision::Reject, Some(reason)).await
}

async fn decide(
    state: AppState,
    access: Access,
    audit: AuditContext,
    id: String,
    decision: Decision,
    reason: Option<&str>,
) -> Result<Json<ActionView>, ApiError> {
    access.require(Permission::DecideActions)?;
    let (tenant, decider) = (&access.tenant_id, access.actor_label());
    let event = match decision {
        Decision::Approve => "action.approved",
        Decision::Reject => "action.rejected",
    };
    match state.store.decide_action(tenant, &id, decision, &decider, reason, now_micros()).await? {
        Decided::Now(action) => {
            let details = serde_json::json!({
                "kind": action.kind.as_str(), "order_number": action.order_number,
                "amount_paise": action.amount_paise, "reason": reason,
            });
            audit.record(&state.store, tenant, access.actor(), event, Some(&id), "success", details).await?;
            if decision == Decision::Reject {
                return Ok(Json(action_view(action)));
            }
            // Approved: it runs now, against the tenant's store, and the answer shows how it went.
            let commerce = crate::commerce::connector(&state, tenant).await?;
            let call_id = action.call_id.clone().unwrap_or_default();
            let party = Party { tenant_id: tenant, call_id: &call_id, actor: access.actor(), audit: &audit };
            execute(&state, &party, commerce.as_ref(), &action).await?;
            let executed = state.store.action(tenant, &id).await?.ok_or(ApiError::NotFound("Action"))?;
            Ok(Json(action_view(executed)))
        }
        Decided::Already(action) => {
            Err(ApiError::Conflict(format!("The action is {}, not awaiting approval.", action.status)))
        }
        Decided::Missing => Err(ApiError::NotFound("Action")),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn paise_read_as_rupees() {
        assert_eq!(super::inr(129_900), "1299.00");
        assert_eq!(super::inr(5), "0.05");
        assert_eq!(super::inr(0), "0.00");
    }
}
