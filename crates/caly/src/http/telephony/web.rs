//! `POST /api/v1/calls/web`: a test call from the dashboard. The signed-in user gets a one-time
//! media URL; the browser opens it (`GET /calls/web?token=…`) and talks 16 kHz PCM both ways
//! through the same call pipeline as a phone call, recorded with `direction = web`.

use axum::{
    Json,
    extract::State,
    http::{HeaderMap, StatusCode},
};
use caly_core::{call::Direction, permission::Permission};
use caly_telephony::Carrier;
use serde::Serialize;
use utoipa::ToSchema;

use super::{Leg, open_call};
use crate::{
    http::{access::Access, error::ApiError},
    state::AppState,
};

#[derive(Serialize, ToSchema)]
pub struct WebCall {
    call_id: String,
    /// The media WebSocket: open it within a minute; it works once.
    url: String,
}

#[utoipa::path(post, path = "/api/v1/calls/web", operation_id = "start_web_call", tag = "calls",
    security(("bearer" = [])), responses(
    (status = 201, description = "The call is open; connect to `url`", body = WebCall),
    (status = 403, description = "Supervisors and above only", body = caly_guard::problem::ProblemBody, content_type = "application/problem+json")))]
pub async fn start(
    State(state): State<AppState>,
    access: Access,
    headers: HeaderMap,
) -> Result<(StatusCode, Json<WebCall>), ApiError> {
    access.require(Permission::UseSandbox)?;
    let leg = Leg { carrier: Carrier::Browser, carrier_call_id: None, from: None, to: None, direction: Direction::Web };
    let settings = crate::commerce::settings_of(&state, &access.tenant_id).await?;
    let (call, url) = open_call(&state, &headers, &access.tenant_id, &settings, leg).await?;
    Ok((StatusCode::CREATED, Json(WebCall { call_id: call.id, url })))
}
