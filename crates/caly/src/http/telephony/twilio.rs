//! `POST /telephony/twilio/voice` (a call comes in: answer `<Connect><Stream>`) and
//! `POST /telephony/twilio/status` (status callbacks), both signed with `X-Twilio-Signature`.

use axum::{
    body::Bytes,
    extract::State,
    http::{HeaderMap, StatusCode, Uri, header},
    response::{IntoResponse, Response},
};
use caly_core::call::{CallStatus, Direction, Outcome};
use caly_telephony::{Carrier, twilio};

use super::{Denied, Leg, Refusal, field, form_pairs, open_call, requested_url, respond, tenant_of_number, xml};
use crate::{
    auth::now_micros,
    call::credentials::{Credential, credential},
    http::{audit::AuditContext, error::ApiError},
    state::AppState,
};

/// A signed request's tenant and parameters.
async fn verified(
    state: &AppState,
    headers: &HeaderMap,
    uri: &Uri,
    body: &[u8],
) -> Result<(String, Vec<(String, String)>), Denied> {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let params: Vec<(String, String)> = if is_json {
        match serde_json::from_slice::<std::collections::BTreeMap<String, serde_json::Value>>(body) {
            Ok(map) => {
                map.into_iter().map(|(k, v)| (k, v.as_str().map_or_else(|| v.to_string(), str::to_owned))).collect()
            }
            Err(_) => return Err(Refusal::Malformed.into()),
        }
    } else {
        form_pairs(body)
    };
    let tenant_id = tenant_of_number(state, field(&params, "To")).await?;
    let auth_token = credential(state, &tenant_id, Credential::TwilioAuthToken).await?.ok_or(Refusal::NoCredentials)?;
    let signature = headers.get("x-twilio-signature").and_then(|v| v.to_str().ok()).unwrap_or_default();
    let url = requested_url(state, headers, uri);
    let signed = if is_json {
        twilio::signature::verify_body(&auth_token, &url, body, signature)
    } else {
        twilio::signature::verify_form(&auth_token, &url, &params, signature)
    };
    if !signed {
        return Err(Refusal::BadSignature.into());
    }
    let account = credential(state, &tenant_id, Credential::TwilioAccountSid).await?;
    if account.is_some_and(|sid| field(&params, "AccountSid") != Some(sid.as_str())) {
        return Err(Refusal::WrongAccount.into());
    }
    Ok((tenant_id, params))
}

#[utoipa::path(post, path = "/telephony/twilio/voice", operation_id = "twilio_voice", tag = "telephony",
    request_body(content = String, content_type = "application/x-www-form-urlencoded", description = "Twilio's call parameters, signed in `X-Twilio-Signature`"), responses(
    (status = 200, description = "TwiML `<Connect><Stream>` to the call's media stream", body = String, content_type = "text/xml"),
    (status = 403, description = "Not signed by the tenant's account, or for no tenant's number: refused alike, audited", body = caly_guard::problem::ProblemBody, content_type = "application/problem+json")))]
pub async fn voice(
    State(state): State<AppState>,
    audit: AuditContext,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> Result<Response, ApiError> {
    respond(&state, &audit, Carrier::Twilio, async {
        let (tenant_id, params) = verified(&state, &headers, &uri, &body).await?;
        let direction = match field(&params, "Direction") {
            Some(d) if d.starts_with("outbound") => Direction::Outbound,
            _ => Direction::Inbound,
        };
        let settings = crate::commerce::settings_of(&state, &tenant_id).await?;
        let (call, stream_url) = open_call(
            &state,
            &headers,
            &tenant_id,
            &settings,
            Leg {
                carrier: Carrier::Twilio,
                carrier_call_id: field(&params, "CallSid"),
                from: field(&params, "From"),
                to: field(&params, "To"),
                direction,
            },
        )
        .await?;
        let parameters = [("call_id".to_owned(), call.id)].into_iter().collect();
        Ok(xml(twilio::connect_stream(&stream_url, &parameters)))
    })
    .await
}

/// Records how the call ended at Twilio; a call our media stream already closed stays as it is.
#[utoipa::path(post, path = "/telephony/twilio/status", operation_id = "twilio_status", tag = "telephony",
    request_body(content = String, content_type = "application/x-www-form-urlencoded", description = "Twilio's status callback, signed in `X-Twilio-Signature`"), responses(
    (status = 204, description = "Recorded"),
    (status = 403, description = "Not signed by the tenant's account, or for no tenant's number: refused alike, audited", body = caly_guard::problem::ProblemBody, content_type = "application/problem+json")))]
pub async fn status(
    State(state): State<AppState>,
    audit: AuditContext,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> Result<Response, ApiError> {
    respond(&state, &audit, Carrier::Twilio, async {
        let (tenant_id, params) = verified(&state, &headers, &uri, &body).await?;
        let ended = match field(&params, "CallStatus") {
            Some("completed") => Some((CallStatus::Completed, Outcome::Abandoned, "carrier_completed")),
            Some("busy" | "failed" | "no-answer" | "canceled") => {
                Some((CallStatus::Failed, Outcome::Abandoned, "carrier_failed"))
            }
            _ => None,
        };
        if let (Some((status, outcome, reason)), Some(sid)) = (ended, field(&params, "CallSid"))
            && let Some(call) = state.store.call_by_carrier_id(&tenant_id, Carrier::Twilio.as_str(), sid).await?
        {
            let end = caly_store::CallEnd {
                status,
                outcome: Some(outcome),
                end_reason: reason,
                ended_at: now_micros(),
                summary: None,
            };
            state.store.finish_call(&tenant_id, &call.id, end).await?;
        }
        Ok(StatusCode::NO_CONTENT.into_response())
    })
    .await
}
