//! `GET /telephony/exotel/voice`: the Voicebot applet asks where to stream a call and gets
//! `{"url": "wss://…"}`. Exotel does not sign: the request must carry the tenant's (or the
//! deployment's) API key and token as HTTP Basic credentials, and come from an allowed address
//! when the tenant lists any.

use axum::{
    extract::State,
    http::{HeaderMap, StatusCode, Uri, header},
    response::{IntoResponse, Response},
};
use base64::{Engine, engine::general_purpose::STANDARD};
use caly_core::call::Direction;
use caly_guard::client_ip::ClientIp;
use caly_telephony::{Carrier, exotel};
use subtle::ConstantTimeEq;

use super::{Leg, Refusal, field, form_pairs, open_call, refuse, tenant_of_number};
use crate::{
    call::credentials::{Credential, credential},
    http::{audit::AuditContext, error::ApiError},
    state::AppState,
};

fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let encoded = headers.get(header::AUTHORIZATION)?.to_str().ok()?.strip_prefix("Basic ")?;
    let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
    let (user, password) = decoded.split_once(':')?;
    Some((user.to_owned(), password.to_owned()))
}

fn same(a: &str, b: &str) -> bool {
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

async fn admitted(
    state: &AppState,
    headers: &HeaderMap,
    client: Option<std::net::IpAddr>,
    params: &[(String, String)],
) -> Result<Result<String, Refusal>, ApiError> {
    let Some(tenant_id) = tenant_of_number(state, field(params, "CallTo").or(field(params, "To"))).await? else {
        return Ok(Err(Refusal::UnknownNumber));
    };
    let key = credential(state, &tenant_id, Credential::ExotelApiKey).await.map_err(ApiError::internal)?;
    let token = credential(state, &tenant_id, Credential::ExotelApiToken).await.map_err(ApiError::internal)?;
    let (Some(key), Some(token)) = (key, token) else { return Ok(Err(Refusal::NoCredentials)) };
    match basic_credentials(headers) {
        Some((user, password)) if same(&user, &key) & same(&password, &token) => {}
        _ => return Ok(Err(Refusal::BadSignature)),
    }
    let settings = crate::commerce::settings_of(state, &tenant_id).await?;
    let allowed = &settings.telephony.exotel_allowed_ips;
    if !allowed.is_empty()
        && !client.is_some_and(|ip| allowed.iter().any(|network| caly_core::settings::network_contains(network, ip)))
    {
        return Ok(Err(Refusal::AddressNotAllowed));
    }
    Ok(Ok(tenant_id))
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
    let tenant_id = match admitted(&state, &headers, client, &params).await? {
        Ok(tenant_id) => tenant_id,
        Err(refusal) => return Ok(refuse(&state, &audit, Carrier::Exotel, refusal).await),
    };
    let (_, stream_url) = open_call(
        &state,
        &headers,
        &tenant_id,
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
}
