//! `GET /openapi.json`: OpenAPI 3.1 generated from the handlers' annotations.

use axum::{Json, extract::State};
use utoipa::{
    Modify, OpenApi,
    openapi::{
        self,
        security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
    },
};

use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(
    info(title = "Caly API", description = "Caly: an AI phone agent for online stores."),
    components(schemas(caly_guard::problem::ProblemBody, caly_guard::FieldError)),
    modifiers(&SecuritySchemes),
    tags((name = "health", description = "Probes, deep health and metrics"),
         (name = "auth", description = "Registering a store, signing in and out"),
         (name = "audit", description = "The tamper-evident audit log"),
         (name = "meta", description = "This API's own description"),
         (name = "telephony", description = "Carrier webhooks and media streams: called by Twilio, Exotel and Plivo, authenticated by their signatures, Basic credentials or one-time tokens"))
)]
struct BaseDoc;

struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, doc: &mut openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "operator_token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("The configured `health_token`, or an owner's or admin's access token."))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "exotel_basic",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Basic)
                    .description(Some("The tenant's Exotel API key and token."))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some("An access token from `POST /api/v1/auth/login`."))
                    .build(),
            ),
        );
    }
}

pub fn base() -> openapi::OpenApi {
    let mut doc = BaseDoc::openapi();
    doc.info.version = env!("CARGO_PKG_VERSION").to_owned();
    doc
}

/// This document.
#[utoipa::path(get, path = "/openapi.json", tag = "meta",
    responses((status = 200, description = "The OpenAPI 3.1 document", body = Object)))]
pub async fn openapi_json(State(state): State<AppState>) -> Json<openapi::OpenApi> {
    Json((*state.openapi).clone())
}
