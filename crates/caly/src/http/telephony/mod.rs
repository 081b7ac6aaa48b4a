//! Carrier-facing routes: webhooks that answer calls (signed, or Basic-authenticated for
//! Exotel) and the media WebSockets they point to. None of them is in the API description:
//! carriers, not API clients, call them. Anything refused here — a bad signature, an unknown
//! number or account, a bad, expired or reused media token — gets the same 403 (or close code
//! 1008 on a socket) and one audit row, so nothing can be enumerated.

mod exotel;
mod plivo;
mod twilio;
pub mod web;

use axum::{
    extract::{
        Path, Query, State, WebSocketUpgrade,
        ws::{CloseFrame, Message, rejection::WebSocketUpgradeRejection},
    },
    http::{HeaderMap, StatusCode, Uri, header},
    response::{IntoResponse, Response},
};
use caly_core::{Language, call::Direction, settings::Settings};
use caly_store::{Call, NewCall};
use caly_telephony::{
    Carrier,
    token::{self, MediaClaims},
};
use serde::Deserialize;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{
    audit::{Actor, AuditContext},
    error::ApiError,
};
use crate::{
    auth::now_micros,
    call::{self, CallSetup},
    state::AppState,
};

/// The carrier routes, documented; mounted apart from the API (see `http::app`).
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(twilio::voice))
        .routes(routes!(twilio::status))
        .routes(routes!(exotel::voice))
        .routes(routes!(plivo::answer))
        .routes(routes!(plivo::dial))
        .routes(routes!(carrier_media))
        .routes(routes!(web_media))
}

/// A media socket's read buffer, and its largest message: carriers send 20 ms frames (a few
/// hundred bytes of JSON or PCM), Exotel at most a few kilobytes. The WebSocket library zeroes
/// the free part of the buffer before every read, so it is not made larger than a frame needs
/// (a longer message takes more reads); 8 KiB cost 2.5 % of the server's CPU at 500 calls.
const MEDIA_READ_BUFFER: usize = 2 * 1024;
const MEDIA_MAX_MESSAGE: usize = 1024 * 1024;

/// Why a carrier request was refused: logged and audited, never told.
#[derive(Debug, Clone, Copy)]
enum Refusal {
    UnknownNumber,
    NoCredentials,
    BadSignature,
    WrongAccount,
    AddressNotAllowed,
    BadToken,
    TokenUsed,
    Malformed,
}

impl Refusal {
    const fn as_str(self) -> &'static str {
        match self {
            Self::UnknownNumber => "unknown_number",
            Self::NoCredentials => "no_credentials",
            Self::BadSignature => "bad_signature",
            Self::WrongAccount => "wrong_account",
            Self::AddressNotAllowed => "address_not_allowed",
            Self::BadToken => "bad_token",
            Self::TokenUsed => "token_used",
            Self::Malformed => "malformed",
        }
    }
}

/// Why a carrier request got no answer: refused (the one 403, audited) or failed.
enum Denied {
    Refused(Refusal),
    Failed(ApiError),
}

impl From<Refusal> for Denied {
    fn from(refusal: Refusal) -> Self {
        Self::Refused(refusal)
    }
}

impl<E: Into<ApiError>> From<E> for Denied {
    fn from(error: E) -> Self {
        Self::Failed(error.into())
    }
}

/// Writes the audit row of a refusal; the refusal stands even if the row cannot be written.
async fn audit_refusal(state: &AppState, audit: &AuditContext, carrier: Carrier, refusal: Refusal) {
    tracing::warn!(carrier = carrier.as_str(), reason = refusal.as_str(), "carrier request refused");
    let details = serde_json::json!({ "carrier": carrier.as_str(), "reason": refusal.as_str() });
    let event = "telephony.refused";
    if let Err(error) =
        audit.record(&state.store, caly_store::SYSTEM_CHAIN, Actor::Anonymous, event, None, "denied", details).await
    {
        tracing::error!(?error, "the refusal could not be audited");
    }
}

/// Answers a carrier's webhook: a refusal, whatever its reason, becomes the same 403.
async fn respond(
    state: &AppState,
    audit: &AuditContext,
    carrier: Carrier,
    handled: impl Future<Output = Result<Response, Denied>>,
) -> Result<Response, ApiError> {
    match handled.await {
        Ok(response) => Ok(response),
        Err(Denied::Failed(error)) => Err(error),
        Err(Denied::Refused(refusal)) => {
            audit_refusal(state, audit, carrier, refusal).await;
            Err(ApiError::Forbidden("This request is not accepted."))
        }
    }
}

/// Caly's address as the carrier called it: the configured public URL, else from `Host`.
fn public_base(state: &AppState, headers: &HeaderMap) -> String {
    if let Some(url) = &state.config.telephony.public_url {
        return url.clone();
    }
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("localhost");
    let scheme = if state.config.http.tls_cert.is_some() || state.config.http.enforce_https { "https" } else { "http" };
    format!("{scheme}://{host}")
}

/// The full URL of this request, as a carrier signs it.
fn requested_url(state: &AppState, headers: &HeaderMap, uri: &Uri) -> String {
    let target = uri.path_and_query().map_or(uri.path(), |target| target.as_str());
    format!("{}{target}", public_base(state, headers))
}

/// `name=value&…` of a form body or query, in order.
fn form_pairs(bytes: &[u8]) -> Vec<(String, String)> {
    url::form_urlencoded::parse(bytes).into_owned().collect()
}

fn field<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
}

/// The tenant a dialled number belongs to; numbers are stored in E.164. Plivo sends them
/// without the `+`, Exotel in national form (`080…`): both are tried as such.
async fn tenant_of_number(state: &AppState, number: Option<&str>) -> Result<String, Denied> {
    let Some(number) = number.map(str::trim).filter(|n| !n.is_empty()) else {
        return Err(Refusal::UnknownNumber.into());
    };
    let international = (!number.starts_with(['+', '0'])).then(|| format!("+{number}"));
    for candidate in international.iter().map(String::as_str).chain([number]) {
        if let Ok(phone) = caly_core::PhoneNumber::parse(candidate)
            && let Some(tenant) = state.store.tenant_by_number(phone.as_str()).await?
        {
            return Ok(tenant);
        }
    }
    Err(Refusal::UnknownNumber.into())
}

/// A call answered by a carrier's webhook: its row, and the media URL with a fresh token.
/// A call as a webhook announced it.
struct Leg<'a> {
    carrier: Carrier,
    carrier_call_id: Option<&'a str>,
    from: Option<&'a str>,
    to: Option<&'a str>,
    direction: Direction,
}

async fn open_call(
    state: &AppState,
    headers: &HeaderMap,
    tenant_id: &str,
    settings: &Settings,
    leg: Leg<'_>,
) -> Result<(Call, String), ApiError> {
    let Leg { carrier, carrier_call_id, from, to, direction } = leg;
    let normalise =
        |n: Option<&str>| n.map(|n| caly_core::PhoneNumber::parse(n).map_or(n.to_owned(), |p| p.as_str().to_owned()));
    let (from, to) = (normalise(from), normalise(to));
    let new = NewCall {
        direction,
        carrier: carrier.as_str(),
        carrier_call_id,
        caller_number: from.as_deref(),
        called_number: to.as_deref(),
        language: None,
        started_at: now_micros(),
    };
    let call = state.store.insert_call(tenant_id, new).await?;
    // The media stream follows: its greeting is made meanwhile, if it is not kept yet.
    crate::call::speech::prepare_greetings(state, settings);
    let claims = MediaClaims {
        call_id: call.id.clone(),
        tenant_id: tenant_id.to_owned(),
        carrier: carrier.as_str().to_owned(),
        expires_at: now_micros() / 1_000_000 + state.config.telephony.media_token_ttl.as_secs().max(1) as i64,
    };
    let token = token::sign(&state.media_key, &claims);
    let base = public_base(state, headers).replacen("http", "ws", 1);
    let path = match carrier {
        Carrier::Browser => "/calls/web".to_owned(),
        other => format!("/telephony/{}/media", other.as_str()),
    };
    Ok((call, format!("{base}{path}?token={token}")))
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct TokenQuery {
    /// The one-time token of the webhook answer (or of `POST /api/v1/calls/web`).
    token: Option<String>,
}

/// A carrier's media stream (Twilio Media Streams, Exotel AgentStream, Plivo audio stream).
#[utoipa::path(get, path = "/telephony/{carrier}/media", operation_id = "carrier_media_stream", tag = "telephony",
    params(("carrier" = String, Path, description = "`twilio`, `exotel` or `plivo`"), TokenQuery), responses(
    (status = 101, description = "The media WebSocket; closed with 1008 when the token is bad, expired or used"),
    (status = 400, description = "Not a WebSocket upgrade", body = caly_guard::problem::ProblemBody, content_type = "application/problem+json"),
    (status = 404, description = "No such carrier", body = caly_guard::problem::ProblemBody, content_type = "application/problem+json")))]
pub async fn carrier_media(
    State(state): State<AppState>,
    Path(carrier): Path<String>,
    query: Query<TokenQuery>,
    audit: AuditContext,
    headers: HeaderMap,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    let carrier = match carrier.as_str() {
        "twilio" => Carrier::Twilio,
        "exotel" => Carrier::Exotel,
        "plivo" => Carrier::Plivo,
        _ => return ApiError::NotFound("Carrier").into_response(),
    };
    media(state, carrier, query, audit, headers, upgrade).await
}

/// A test call's media stream from the dashboard: 16 kHz PCM16 both ways.
#[utoipa::path(get, path = "/calls/web", operation_id = "web_call_stream", tag = "calls", params(TokenQuery), responses(
    (status = 101, description = "The media WebSocket; closed with 1008 when the token is bad, expired or used"),
    (status = 400, description = "Not a WebSocket upgrade", body = caly_guard::problem::ProblemBody, content_type = "application/problem+json")))]
pub async fn web_media(
    State(state): State<AppState>,
    query: Query<TokenQuery>,
    audit: AuditContext,
    headers: HeaderMap,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    media(state, Carrier::Browser, query, audit, headers, upgrade).await
}

/// A media WebSocket: one per call, opened with the call's one-time token.
async fn media(
    state: AppState,
    carrier: Carrier,
    Query(query): Query<TokenQuery>,
    audit: AuditContext,
    headers: HeaderMap,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    let upgrade = match upgrade {
        // Media messages are a few hundred bytes: the default 128 KiB read buffer was zeroed
        // before every read (a tenth of the CPU at 400 calls), and a 64 MiB message allowed.
        Ok(upgrade) => upgrade.read_buffer_size(MEDIA_READ_BUFFER).max_message_size(MEDIA_MAX_MESSAGE),
        Err(rejection) => {
            return ApiError::Malformed(format!("expected a WebSocket upgrade: {rejection}")).into_response();
        }
    };
    let claims = query.token.as_deref().ok_or(Refusal::BadToken).and_then(|t| {
        token::verify(&state.media_key, t, carrier, now_micros() / 1_000_000).map_err(|_| Refusal::BadToken)
    });
    let setup = match claims {
        Ok(claims) => connect(&state, claims, carrier, &public_base(&state, &headers), &audit).await,
        Err(refusal) => Err(refusal),
    };
    let setup = match setup {
        Ok(setup) => setup,
        Err(refusal) => {
            audit_refusal(&state, &audit, carrier, refusal).await;
            return upgrade
                .on_upgrade(|mut socket| async move {
                    let close = CloseFrame { code: 1008, reason: "not accepted".into() };
                    let _ = socket.send(Message::Close(Some(close))).await;
                })
                .into_response();
        }
    };
    upgrade.on_upgrade(move |socket| call::run(state, setup, socket)).into_response()
}

/// Marks the token used (its call's stream connected) and gathers what the call needs.
async fn connect(
    state: &AppState,
    claims: MediaClaims,
    carrier: Carrier,
    base: &str,
    audit: &AuditContext,
) -> Result<CallSetup, Refusal> {
    let internal = |error: &dyn std::fmt::Display| {
        tracing::error!(%error, "a media stream could not be connected");
        Refusal::Malformed
    };
    if !state.store.connect_media(&claims.tenant_id, &claims.call_id, now_micros()).await.map_err(|e| internal(&e))? {
        return Err(Refusal::TokenUsed);
    }
    let call = state.store.call(&claims.tenant_id, &claims.call_id).await.map_err(|e| internal(&e))?;
    let call = call.ok_or(Refusal::BadToken)?;
    let settings = crate::commerce::settings_of(state, &claims.tenant_id).await.map_err(|e| internal(&e))?;
    let tenant = state.store.tenant(&claims.tenant_id).await.map_err(|e| internal(&e))?.ok_or(Refusal::BadToken)?;
    let language = call.language.as_deref().or(Some(tenant.language.as_str())).and_then(|l| l.parse().ok());
    Ok(CallSetup {
        caller: call.caller_number.clone(),
        language: language.unwrap_or(Language::Hinglish),
        timezone: tenant.timezone,
        audit: audit.clone(),
        dial_url: format!("{base}/telephony/plivo/dial?tenant={}&call={}", claims.tenant_id, claims.call_id),
        greeting: greeting(&settings),
        escalation_number: Some(settings.telephony.escalation_number.clone()).filter(|n| !n.is_empty()),
        record: settings.recording.enabled,
        settings,
        carrier_call_id: call.carrier_call_id,
        tenant_id: claims.tenant_id,
        call_id: claims.call_id,
        carrier,
    })
}

/// The greeting in the tenant's first language.
fn greeting(settings: &Settings) -> String {
    let greetings = &settings.agent.greetings;
    settings
        .languages
        .iter()
        .find_map(|language| greetings.get(language))
        .or_else(|| greetings.values().next())
        .cloned()
        .unwrap_or_default()
}

/// An XML (TwiML, Plivo XML) answer.
fn xml(body: String) -> Response {
    (StatusCode::OK, [(header::CONTENT_TYPE, "text/xml; charset=utf-8")], body).into_response()
}
