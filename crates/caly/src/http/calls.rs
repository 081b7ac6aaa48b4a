//! `/api/v1/calls`: the tenant's calls, one call's transcript and actions, notes, CSV export.

use axum::{
    Json,
    body::Body,
    extract::State,
    http::{HeaderValue, header},
    response::{IntoResponse, Response},
};
use caly_core::{
    Invalid, PhoneNumber,
    call::{CallStatus, Direction, Outcome},
    period::Period,
    permission::Permission,
};
use caly_store::{Call, CallCursor, CallFilter, Order};
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{
    access::Access,
    actions::{ActionView, action_view},
    audit::AuditContext,
    error::{ApiError, FieldErrors},
    extract::{Json as JsonBody, PathId, Query, uuid},
    time::{rfc3339, tenant_zone},
};
use crate::{auth::now_micros, state::AppState};

/// The longest range a filter may span.
const MAX_RANGE_DAYS: i64 = 366;

#[derive(Deserialize, IntoParams, Default)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CallsQuery {
    /// Calls started at or after: a date (`2026-11-27`), local time (`2026-11-27T09:00`) in the
    /// tenant's time zone, or an RFC 3339 time.
    from: Option<String>,
    /// Calls started up to: a date (the whole day), local time or RFC 3339 time.
    to: Option<String>,
    /// `in_progress`, `completed`, `failed` or `interrupted`.
    status: Option<String>,
    /// `inbound`, `outbound`, `web` or `sandbox`.
    direction: Option<String>,
    /// Calls in which this intent came up, e.g. `cancel_order`.
    intent: Option<String>,
    /// `hi`, `en` or `hinglish`.
    language: Option<String>,
    /// `resolved`, `transferred` or `abandoned`.
    outcome: Option<String>,
    /// The caller's phone number, in any common form.
    caller: Option<String>,
    /// Words to find in the transcript.
    q: Option<String>,
    /// `-started_at` (newest first, the default) or `started_at`.
    sort: Option<String>,
    /// 1–200, default 50.
    limit: Option<i64>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct CallSummary {
    id: String,
    /// `inbound`, `outbound`, `web` or `sandbox`.
    direction: String,
    carrier: String,
    caller_number: Option<String>,
    called_number: Option<String>,
    /// `in_progress`, `completed`, `failed` or `interrupted`.
    status: String,
    /// `resolved`, `transferred` or `abandoned`; absent while the call lasts.
    outcome: Option<String>,
    language: Option<String>,
    started_at: String,
    ended_at: Option<String>,
    duration_secs: Option<i64>,
    /// From the caller's first words ending to the agent's first audio.
    first_response_ms: Option<i64>,
    /// Marked handled by someone at the store.
    resolved: bool,
    summary: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct CallPage {
    items: Vec<CallSummary>,
    /// Pass as `cursor` for the next page; absent on the last page.
    next_cursor: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct TurnView {
    seq: i64,
    /// `caller`, `agent` or `system`.
    speaker: String,
    /// For an interrupted agent turn, only what the caller heard.
    text: String,
    language: Option<String>,
    intent: Option<String>,
    started_at: String,
    ended_at: Option<String>,
    interrupted: bool,
    /// An agent turn answering the caller: the silence that ended the caller's turn…
    eos_ms: Option<i64>,
    /// …the transcriber's final words…
    stt_ms: Option<i64>,
    /// …understanding (the model's first token within it)…
    dialogue_ms: Option<i64>,
    llm_ms: Option<i64>,
    /// …lookups and actions…
    tool_ms: Option<i64>,
    /// …the first synthesised audio…
    tts_ms: Option<i64>,
    /// …what no provider accounts for…
    overhead_ms: Option<i64>,
    /// …and end of speech → first frame sent, all of it.
    response_ms: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct CallDetail {
    #[serde(flatten)]
    call: CallSummary,
    answered_at: Option<String>,
    end_reason: Option<String>,
    notes: String,
    /// Intents in the order they came up.
    intents: Vec<String>,
    turns: Vec<TurnView>,
    actions: Vec<ActionView>,
    /// Where the recording can be downloaded, when there is one.
    recording_url: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CallPatch {
    /// Free text, up to 10,000 characters; replaces the notes.
    notes: Option<String>,
    /// Marks the call handled (or not) by the store.
    resolved: Option<bool>,
}

/// The call as lists show it; takes the call so that its strings move rather than copy.
fn summary(call: Call) -> CallSummary {
    CallSummary {
        direction: call.direction.to_string(),
        status: call.status.to_string(),
        outcome: call.outcome.map(|o| o.to_string()),
        started_at: rfc3339(call.started_at),
        ended_at: call.ended_at.map(rfc3339),
        duration_secs: call.ended_at.map(|end| (end - call.started_at) / 1_000_000),
        first_response_ms: call.first_response_ms,
        resolved: call.resolved_at.is_some(),
        id: call.id,
        carrier: call.carrier,
        caller_number: call.caller_number,
        called_number: call.called_number,
        language: call.language,
        summary: call.summary,
    }
}

fn cursor_text(call: &Call) -> String {
    format!("{}_{}", call.started_at, call.id)
}

fn parse_cursor(text: &str) -> Option<CallCursor> {
    let (at, id) = text.split_once('_')?;
    Some(CallCursor { started_at: at.parse().ok()?, id: uuid(id).ok()? })
}

/// Reads the filter parameters, listing every bad one at once.
async fn read_filter(
    state: &AppState,
    tenant_id: &str,
    query: &CallsQuery,
    errors: &mut FieldErrors,
) -> Result<CallFilter, ApiError> {
    fn choice<T: std::str::FromStr<Err = Invalid>>(
        errors: &mut FieldErrors,
        field: &str,
        value: &Option<String>,
    ) -> Option<T> {
        value.as_deref().and_then(|text| errors.check(field, text.parse()))
    }
    let mut filter = CallFilter {
        status: choice::<CallStatus>(errors, "status", &query.status),
        direction: choice::<Direction>(errors, "direction", &query.direction),
        outcome: choice::<Outcome>(errors, "outcome", &query.outcome),
        language: choice::<caly_core::Language>(errors, "language", &query.language).map(|l| l.as_str().to_owned()),
        intent: query.intent.clone(),
        caller_number: query
            .caller
            .as_deref()
            .and_then(|text| errors.check("caller", PhoneNumber::parse(text)))
            .map(|phone| phone.as_str().to_owned()),
        text: query.q.as_deref().map(str::trim).filter(|q| !q.is_empty()).map(str::to_owned),
        ..CallFilter::default()
    };
    if filter.text.as_ref().is_some_and(|q| q.chars().count() > 200) {
        errors.refuse("q", Invalid::new("too_long", "must be at most 200 characters"));
    }
    if query.from.is_some() || query.to.is_some() {
        let tz = tenant_zone(&state.store, tenant_id).await?;
        match Period::parse(query.from.as_deref(), query.to.as_deref(), &tz, MAX_RANGE_DAYS) {
            Ok(period) => (filter.from, filter.to) = (period.from, period.to),
            Err(refused) => refused.into_iter().for_each(|(field, invalid)| errors.refuse(field, invalid)),
        }
    }
    Ok(filter)
}

fn read_order(errors: &mut FieldErrors, sort: Option<&str>) -> Order {
    match sort {
        None | Some("-started_at") => Order::NewestFirst,
        Some("started_at") => Order::OldestFirst,
        Some(_) => {
            errors.refuse("sort", Invalid::new("invalid_sort", "must be started_at or -started_at"));
            Order::NewestFirst
        }
    }
}

/// The tenant's calls, newest first unless asked otherwise.
#[utoipa::path(get, path = "/api/v1/calls", operation_id = "list_calls", tag = "calls", params(CallsQuery), security(("bearer" = [])), responses(
    (status = 200, description = "A page of calls", body = CallPage),
    (status = 401, description = "No valid access token", body = caly_guard::problem::ProblemBody, content_type = "application/problem+json"),
    (status = 422, description = "Invalid parameters, all listed", body = caly_guard::problem::ProblemBody, content_type = "application/problem+json")))]
pub async fn list(
    State(state): State<AppState>,
    access: Access,
    Query(query): Query<CallsQuery>,
) -> Result<Json<CallPage>, ApiError> {
    access.require(Permission::ReadCalls)?;
    let tenant = &access.tenant_id;
    let mut errors = FieldErrors::default();
    let filter = read_filter(&state, tenant, &query, &mut errors).await?;
    let order = read_order(&mut errors, query.sort.as_deref());
    let limit = errors.page_limit(query.limit);
    let after = query.cursor.as_deref().map(parse_cursor);
    if let Some(None) = after {
        errors.refuse("cursor", Invalid::new("invalid_cursor", "must be a next_cursor from an earlier page"));
    }
    errors.finish()?;
    let mut calls = state.store.calls_page(tenant, &filter, order, after.flatten().as_ref(), limit + 1).await?;
    let next_cursor = (calls.len() as i64 > limit).then(|| {
        calls.truncate(limit as usize);
        calls.last().map(cursor_text)
    });
    Ok(Json(CallPage { items: calls.into_iter().map(summary).collect(), next_cursor: next_cursor.flatten() }))
}

/// One call: who, when, how it ended, every turn, its actions and latencies.
#[utoipa::path(get, path = "/api/v1/calls/{id}", operation_id = "get_call", tag = "calls", params(("id" = String, Path, description = "The call's id")),
    security(("bearer" = [])), responses(
    (status = 200, description = "The call", body = CallDetail),
    (status = 401, description = "No valid access token", body = caly_guard::problem::ProblemBody, content_type = "application/problem+json"),
    (status = 404, description = "No such call in this tenant", body = caly_guard::problem::ProblemBody, content_type = "application/problem+json")))]
pub async fn get(
    State(state): State<AppState>,
    access: Access,
    PathId(id): PathId,
) -> Result<Json<CallDetail>, ApiError> {
    access.require(Permission::ReadCalls)?;
    let call = state.store.call(&access.tenant_id, &id).await?.ok_or(ApiError::NotFound("Call"))?;
    Ok(Json(detail(&state, call).await?))
}

async fn detail(state: &AppState, mut call: Call) -> Result<CallDetail, ApiError> {
    let tenant = &call.tenant_id;
    let turns = state.store.call_turns(tenant, &call.id).await?;
    let intents = state.store.call_intents(tenant, &call.id).await?;
    let actions = state.store.actions_page(tenant, None, Some(&call.id), None, 200).await?;
    let recording_url = call.recording_key.as_ref().map(|_| format!("/api/v1/calls/{}/recording", call.id));
    Ok(CallDetail {
        answered_at: call.answered_at.map(rfc3339),
        end_reason: call.end_reason.take(),
        notes: std::mem::take(&mut call.notes),
        call: summary(call),
        intents,
        turns: turns
            .into_iter()
            .map(|turn| TurnView {
                seq: turn.seq,
                speaker: turn.speaker.to_string(),
                text: turn.text,
                language: turn.language,
                intent: turn.intent,
                started_at: rfc3339(turn.started_at),
                ended_at: turn.ended_at.map(rfc3339),
                interrupted: turn.interrupted_at.is_some(),
                eos_ms: turn.latency.eos_ms,
                stt_ms: turn.stt_ms,
                dialogue_ms: turn.dialogue_ms,
                llm_ms: turn.latency.llm_ms,
                tool_ms: turn.latency.tool_ms,
                tts_ms: turn.tts_ms,
                overhead_ms: turn.latency.overhead_ms,
                response_ms: turn.latency.response_ms,
            })
            .collect(),
        actions: actions.into_iter().map(action_view).collect(),
        recording_url,
    })
}

/// Notes on a call, and whether the store has handled it.
#[utoipa::path(patch, path = "/api/v1/calls/{id}", operation_id = "update_call", tag = "calls", params(("id" = String, Path, description = "The call's id")),
    request_body = CallPatch, security(("bearer" = [])), responses(
    (status = 200, description = "The call, updated", body = CallDetail),
    (status = 403, description = "Supervisors and above only", body = caly_guard::problem::ProblemBody, content_type = "application/problem+json"),
    (status = 404, description = "No such call in this tenant", body = caly_guard::problem::ProblemBody, content_type = "application/problem+json"),
    (status = 422, description = "Invalid fields, all listed", body = caly_guard::problem::ProblemBody, content_type = "application/problem+json")))]
pub async fn update(
    State(state): State<AppState>,
    access: Access,
    audit: AuditContext,
    PathId(id): PathId,
    JsonBody(patch): JsonBody<CallPatch>,
) -> Result<Json<CallDetail>, ApiError> {
    access.require(Permission::AnnotateCalls)?;
    let mut errors = FieldErrors::default();
    if let Some(notes) = &patch.notes {
        if notes.chars().count() > 10_000 {
            errors.refuse("notes", Invalid::new("too_long", "must be at most 10000 characters"));
        } else if notes.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
            errors.refuse("notes", Invalid::new("invalid_characters", "must not contain control characters"));
        }
    }
    errors.finish()?;
    let tenant = &access.tenant_id;
    let call = state
        .store
        .annotate_call(tenant, &id, patch.notes.as_deref(), patch.resolved, now_micros())
        .await?
        .ok_or(ApiError::NotFound("Call"))?;
    let details = serde_json::json!({"notes_changed": patch.notes.is_some(), "resolved": patch.resolved});
    audit.record(&state.store, tenant, access.actor(), "call.annotated", Some(&id), "success", details).await?;
    Ok(Json(detail(&state, call).await?))
}

/// Calls matching a filter as CSV, streamed page by page so any number of rows fits in
/// constant memory. Takes the list's parameters except `limit` and `cursor`.
#[utoipa::path(get, path = "/api/v1/calls/export.csv", operation_id = "export_calls", tag = "calls", params(CallsQuery), security(("bearer" = [])), responses(
    (status = 200, description = "CSV, one row per call, with a header row", content_type = "text/csv", body = String),
    (status = 403, description = "Supervisors and above only", body = caly_guard::problem::ProblemBody, content_type = "application/problem+json"),
    (status = 422, description = "Invalid parameters, all listed", body = caly_guard::problem::ProblemBody, content_type = "application/problem+json")))]
pub async fn export(
    State(state): State<AppState>,
    access: Access,
    audit: AuditContext,
    Query(query): Query<CallsQuery>,
) -> Result<Response, ApiError> {
    access.require(Permission::ExportCalls)?;
    let tenant = access.tenant_id.clone();
    let mut errors = FieldErrors::default();
    if query.limit.is_some() || query.cursor.is_some() {
        errors.refuse(
            "limit",
            Invalid::new("not_allowed", "the export has every matching call; limit and cursor do not apply"),
        );
    }
    let filter = read_filter(&state, &tenant, &query, &mut errors).await?;
    let order = read_order(&mut errors, query.sort.as_deref());
    errors.finish()?;
    let details = serde_json::json!({"filter": format!("{filter:?}")});
    audit.record(&state.store, &tenant, access.actor(), "calls.exported", None, "success", details).await?;

    let header_row = csv_records([EXPORT_COLUMNS.map(String::from)]);
    let pages = futures::stream::unfold(Some(None::<CallCursor>), move |after| {
        let (state, tenant, filter) = (state.clone(), tenant.clone(), filter.clone());
        async move {
            let after = after?;
            match state.store.calls_page(&tenant, &filter, order, after.as_ref(), EXPORT_PAGE).await {
                Ok(calls) => {
                    let next = (calls.len() as i64 == EXPORT_PAGE)
                        .then(|| calls.last().map(|c| CallCursor { started_at: c.started_at, id: c.id.clone() }));
                    let bytes = csv_records(calls.into_iter().map(export_row));
                    Some((Ok::<_, std::io::Error>(bytes), next.flatten().map(Some)))
                }
                Err(error) => {
                    // The status line has gone; cutting the body short is how the client learns.
                    tracing::error!(%error, "call export stopped");
                    Some((Err(std::io::Error::other("export stopped")), None))
                }
            }
        }
    });
    let body = futures::stream::once(async move { Ok(header_row) }).chain(pages);
    let mut response = Body::from_stream(body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
    headers.insert(header::CONTENT_DISPOSITION, HeaderValue::from_static("attachment; filename=\"calls.csv\""));
    Ok(response)
}

const EXPORT_PAGE: i64 = 500;

const EXPORT_COLUMNS: [&str; 14] = [
    "id",
    "started_at",
    "ended_at",
    "direction",
    "status",
    "outcome",
    "language",
    "caller_number",
    "called_number",
    "duration_secs",
    "first_response_ms",
    "resolved",
    "summary",
    "notes",
];

fn export_row(mut call: Call) -> [String; 14] {
    let notes = std::mem::take(&mut call.notes);
    let view = summary(call);
    let text = |value: Option<String>| value.unwrap_or_default();
    let number = |value: Option<i64>| value.map(|n| n.to_string()).unwrap_or_default();
    [
        view.id,
        view.started_at,
        text(view.ended_at),
        view.direction,
        view.status,
        text(view.outcome),
        text(view.language),
        text(view.caller_number),
        text(view.called_number),
        number(view.duration_secs),
        number(view.first_response_ms),
        view.resolved.to_string(),
        text(view.summary),
        notes,
    ]
}

/// CSV records, written by one writer per page. Cells a spreadsheet would run as a formula get
/// a leading `'` (OWASP's advice against CSV injection): notes and transcripts are typed by
/// strangers.
fn csv_records<R: IntoIterator<Item = String>>(records: impl IntoIterator<Item = R>) -> Vec<u8> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    for record in records {
        let safe = record.into_iter().map(|cell| match cell.chars().next() {
            Some('=' | '+' | '-' | '@' | '\t' | '\r') if cell.parse::<f64>().is_err() => format!("'{cell}"),
            _ => cell,
        });
        writer.write_record(safe).expect("writing to memory");
    }
    writer.into_inner().expect("writing to memory")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_cells_are_defused_and_numbers_kept() {
        let row = csv_records([["=HYPERLINK(\"x\")".to_owned(), "-5".into(), "a,b".into(), "@SUM(1)".into()]]);
        assert_eq!(String::from_utf8(row).unwrap(), "\"'=HYPERLINK(\"\"x\"\")\",-5,\"a,b\",'@SUM(1)\n");
    }

    #[test]
    fn cursors_round_trip_and_junk_is_refused() {
        let id = "01936f0e-8e3a-7c4b-9d2e-0123456789ab";
        assert_eq!(parse_cursor(&format!("42_{id}")), Some(CallCursor { started_at: 42, id: id.into() }));
        assert_eq!(parse_cursor("42"), None);
        assert_eq!(parse_cursor("x_01936f0e-8e3a-7c4b-9d2e-0123456789ab"), None);
        assert_eq!(parse_cursor("42_' OR 1=1"), None);
    }
}
