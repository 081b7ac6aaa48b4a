//! `GET /telephony/exotel/voice`: the Voicebot applet asks where to stream a call and gets
//! `{"url": "wss://…"}`. Exotel does not sign: the request must carry the tenant's (or the
//! deployment's) API key and token as HTTP Basic credentials, and come from an allowed address
//! when the tenant lists any.

use axum::{
    extract::State,
    http::{HeaderMap, StatusCode, Uri, header},
    response::{IntoResponse, Response},
};
use caly_core::{call::Direction, settings::Settings};
use caly_guard::client_ip::ClientIp;
use caly_telephony::{Carrier, exotel};

use super::{Denied, Leg, Refusal, field, form_pairs, open_call, respond, tenant_of_number};
use crate::{
    call::credentials::{Credential, credential},
    http::{audit::AuditContext, error::ApiError},
    state::AppState,
};

/// The tenant the call is for and its settings, once its Basic credentials and address are
/// accepted.
async fn admitted(
    state: &AppState,
    headers: &HeaderMap,
    client: Option<std::net::IpAddr>,
    params: &[(String, String)],
) -> Result<(String, Settings), Denied> {
    let tenant_id = tenant_of_number(state, field(params, "CallTo").or(field(params, "To"))).await?;
    let key = credential(state, &tenant_id, Credential::ExotelApiKey).await?;
    let token = credential(state, &tenant_id, Credential::ExotelApiToken).await?;
    let (Some(key), Some(token)) = (key, token) else { return Err(Refusal::NoCredentials.into()) };
    let authorization = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    if !exotel::basic_credentials_match(authorization, &key, &token) {
        return Err(Refusal::BadSignature.into());
    }
    let settings = crate::commerce::settings_of(state, &tenant_id).await?;
    if !client.is_some_and(|ip| settings.telephony.exotel_allows(ip)) {
        return Err(Refusal::AddressNotAllowed.into());
    }
    Ok((tenant_id, settings))
}

#[utoipa::path(get, path = "/telephony/exotel/voice", operation_id = "exotel_voice", tag = "telephony",
    params(("CallSid" = Option<String>, Query, description = "Exotel's call id"), ("CallFrom" = Option<String>, Query, description = "The caller"), ("CallTo" = Option<String>, Query, description = "The number dialled")),
    security(("exotel_basic" = [])), responses(
    (status = 200, description = "`{\"url\": \"wss://…\"}`: where to stream the call", body = Object, content_type = "application/json"),
    (status = 403, description = "Wrong Basic credentials, an address not allowed, or no tenant's number: refused alike, audited", body = caly_guard::problem::ProblemBody, content_type = "application/problem+json")))]
pub async fn voice(
    State(state): State<AppState>,
    audit: AuditContext,
    client: Option<axum::Extension<ClientIp>>,
    headers: HeaderMap,
    uri: Uri,
) -> Result<Response, ApiError> {
    let params = form_pairs(uri.query().unwrap_or_default().as_bytes());
    let client = client.map(|ip| ip.0.0);
    respond(&state, &audit, Carrier::Exotel, async {
        let (tenant_id, settings) = admitted(&state, &headers, client, &params).await?;
        let (_, stream_url) = open_call(
            &state,
            &headers,
            &tenant_id,
            &settings,
            Leg {
                carrier: Carrier::Exotel,
                carrier_call_id: field(&params, "CallSid"),
                from: field(&params, "CallFrom").or(field(&params, "From")),
                to: field(&params, "CallTo").or(field(&params, "To")),
                direction: Direction::Inbound,
            },
        )
        .await?;
        Ok((StatusCode::OK, [(header::CONTENT_TYPE, "application/json")], exotel::stream_answer(&stream_url))
            .into_response())
    })
    .await
}
