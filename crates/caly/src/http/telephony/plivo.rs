//! `POST /telephony/plivo/answer` (a call comes in: answer `<Stream bidirectional="true">`)
//! and `POST /telephony/plivo/dial` (where a transfer fetches its `<Dial>`), both signed with
//! Plivo's V3 signature.

use axum::{
    body::Bytes,
    extract::State,
    http::{HeaderMap, Uri},
    response::Response,
};
use caly_core::call::Direction;
use caly_telephony::{Carrier, plivo};

use super::{Denied, Leg, Refusal, field, form_pairs, open_call, requested_url, respond, tenant_of_number, xml};
use crate::{
    call::credentials::{Credential, credential},
    http::{audit::AuditContext, error::ApiError},
    state::AppState,
};

async fn signed(
    state: &AppState,
    tenant_id: &str,
    headers: &HeaderMap,
    uri: &Uri,
    params: &[(String, String)],
) -> Result<(), Denied> {
    let auth_token = credential(state, tenant_id, Credential::PlivoAuthToken).await?.ok_or(Refusal::NoCredentials)?;
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let url = requested_url(state, headers, uri);
    let nonce = header("x-plivo-signature-v3-nonce");
    if nonce.is_empty() || !plivo::signature::verify(&auth_token, &url, nonce, params, header("x-plivo-signature-v3")) {
        return Err(Refusal::BadSignature.into());
    }
    Ok(())
}

#[utoipa::path(post, path = "/telephony/plivo/answer", operation_id = "plivo_answer", tag = "telephony",
    request_body(content = String, content_type = "application/x-www-form-urlencoded", description = "Plivo's call parameters, signed in `X-Plivo-Signature-V3`"), responses(
    (status = 200, description = "Plivo XML `<Stream bidirectional=\"true\">` to the call's media stream", body = String, content_type = "text/xml"),
    (status = 403, description = "Not signed by the tenant's account, or for no tenant's number: refused alike, audited", body = caly_guard::problem::ProblemBody, content_type = "application/problem+json")))]
pub async fn answer(
    State(state): State<AppState>,
    audit: AuditContext,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> Result<Response, ApiError> {
    respond(&state, &audit, Carrier::Plivo, async {
        let params = form_pairs(&body);
        let tenant_id = tenant_of_number(&state, field(&params, "To")).await?;
        signed(&state, &tenant_id, &headers, &uri, &params).await?;
        let direction = match field(&params, "Direction") {
            Some("outbound") => Direction::Outbound,
            _ => Direction::Inbound,
        };
        let settings = crate::commerce::settings_of(&state, &tenant_id).await?;
        let (_, stream_url) = open_call(
            &state,
            &headers,
            &tenant_id,
            &settings,
            Leg {
                carrier: Carrier::Plivo,
                carrier_call_id: field(&params, "CallUUID"),
                from: field(&params, "From"),
                to: field(&params, "To"),
                direction,
            },
        )
        .await?;
        Ok(xml(plivo::stream_answer(&stream_url)))
    })
    .await
}

/// The `<Dial>` of a transfer the call asked Plivo for: signed by Plivo like any webhook.
#[utoipa::path(post, path = "/telephony/plivo/dial", operation_id = "plivo_dial", tag = "telephony",
    params(("tenant" = String, Query, description = "The tenant"), ("call" = String, Query, description = "The call")),
    request_body(content = String, content_type = "application/x-www-form-urlencoded", description = "Plivo's transfer request, signed in `X-Plivo-Signature-V3`"), responses(
    (status = 200, description = "Plivo XML `<Dial>` to the escalation number", body = String, content_type = "text/xml"),
    (status = 403, description = "Not signed by the tenant's account, or for no tenant's number: refused alike, audited", body = caly_guard::problem::ProblemBody, content_type = "application/problem+json")))]
pub async fn dial(
    State(state): State<AppState>,
    audit: AuditContext,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> Result<Response, ApiError> {
    respond(&state, &audit, Carrier::Plivo, async {
        let query = form_pairs(uri.query().unwrap_or_default().as_bytes());
        let params = form_pairs(&body);
        let (Some(tenant_id), Some(call_id)) = (field(&query, "tenant"), field(&query, "call")) else {
            return Err(Refusal::Malformed.into());
        };
        state.store.tenant(tenant_id).await?.ok_or(Refusal::UnknownNumber)?;
        signed(&state, tenant_id, &headers, &uri, &params).await?;
        let settings = crate::commerce::settings_of(&state, tenant_id).await?;
        let number = settings.telephony.escalation_number;
        tracing::info!(call_id, "transfer dialled");
        Ok(xml(if number.is_empty() { plivo::reject() } else { plivo::dial(&number) }))
    })
    .await
}
