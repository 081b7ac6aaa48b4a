//! The HTTP edge: routes, the guard stack and the one error format.

pub mod access;
pub mod account;
pub mod actions;
pub mod admin;
pub mod analytics;
pub mod anomaly;
pub mod api_keys;
pub mod attack;
pub mod audit;
pub mod audit_log;
pub mod calls;
pub mod error;
pub mod extract;
mod guard;
pub mod health;
pub mod identity;
pub mod limits;
pub mod openapi;
pub mod recordings;
pub mod sandbox;
pub mod settings;
pub mod team;
pub mod telephony;
pub mod time;

use std::{any::Any, sync::Arc};

use axum::{
    Router,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use caly_guard::{
    client_ip::TrustedProxies,
    edge::{Edge, EdgeLayer},
    request_log,
    security_headers::SecurityHeaders,
    transport::HttpsPolicy,
};
use http::{HeaderName, HeaderValue, Method, header};
use tokio::sync::Semaphore;
use tower::Layer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::state::AppState;
use error::ApiError;

/// Every route with its OpenAPI description. Probes are kept apart from the rest so that the
/// request limits never make a healthy process look dead.
pub fn routes() -> (OpenApiRouter<AppState>, OpenApiRouter<AppState>, OpenApiRouter<AppState>) {
    let probes = OpenApiRouter::new()
        .routes(routes!(health::livez))
        .routes(routes!(health::readyz))
        .routes(routes!(health::startupz));
    let api = OpenApiRouter::with_openapi(openapi::base())
        .routes(routes!(health::health))
        .routes(routes!(health::metrics))
        .routes(routes!(openapi::openapi_json))
        .routes(routes!(identity::register))
        .routes(routes!(identity::login))
        .routes(routes!(identity::refresh))
        .routes(routes!(identity::logout))
        .routes(routes!(identity::logout_all))
        .routes(routes!(identity::me))
        .routes(routes!(account::verify_email))
        .routes(routes!(account::resend_verification))
        .routes(routes!(account::request_password_reset))
        .routes(routes!(account::reset_password))
        .routes(routes!(account::accept_invite))
        .routes(routes!(account::change_password))
        .routes(routes!(api_keys::create, api_keys::list))
        .routes(routes!(api_keys::revoke))
        .routes(routes!(settings::get, settings::put))
        .routes(routes!(settings::onboarding))
        .routes(routes!(team::list))
        .routes(routes!(team::invite))
        .routes(routes!(team::update))
        .routes(routes!(calls::list))
        .routes(routes!(calls::export))
        .routes(routes!(calls::get, calls::update))
        .routes(routes!(recordings::download))
        .routes(routes!(actions::list))
        .routes(routes!(actions::approve))
        .routes(routes!(actions::reject))
        .routes(routes!(telephony::web::start))
        .routes(routes!(sandbox::start))
        .routes(routes!(sandbox::message))
        .routes(routes!(analytics::summary))
        .routes(routes!(analytics::timeseries))
        .routes(routes!(audit_log::list))
        .routes(routes!(admin::scan));
    (probes, api, telephony::routes())
}

/// The OpenAPI document of [`routes`].
pub fn openapi() -> utoipa::openapi::OpenApi {
    let (probes, api, telephony) = routes();
    let mut doc = api.into_openapi();
    doc.merge(probes.into_openapi());
    doc.merge(telephony.into_openapi());
    doc
}

/// The application: routes (plus `extra`, e.g. test fixtures) inside the guard stack.
pub fn app(state: AppState, extra: Router<AppState>) -> Edge<Router> {
    let (probes, api, telephony) = routes();
    let http = &state.config.http;
    let limits = Arc::new(limits::Limits {
        rate: state.rate_limits.clone(),
        body_bytes: http.body_limit_bytes,
        timeout: http.request_timeout,
        slots: Arc::new(Semaphore::new(http.concurrency_limit)),
        anomalies: state.anomalies.clone(),
        tokens: state.tokens.clone(),
        store: state.store.clone(),
        audited_refusals: moka::sync::Cache::builder()
            .max_capacity(10_000)
            .time_to_live(std::time::Duration::from_secs(60))
            .build(),
    });
    let api = Router::from(api).merge(extra).layer(guard::GuardLayer::api(limits.clone(), state.clone()));

    let observer = state.clone();
    let edge = EdgeLayer {
        log: request_log::RequestLog {
            log_headers: state.config.log.headers,
            on_complete: Arc::new(move |done| {
                observer.metrics.observe_request(done);
                anomaly::observe(&observer, done);
            }),
        },
        security_headers: SecurityHeaders::api(),
        trusted_proxies: TrustedProxies::new(http.trusted_proxies.clone()),
        https: HttpsPolicy { enforce: http.enforce_https, exempt_paths: vec!["/livez", "/readyz", "/startupz"] },
        on_panic: Arc::new(panic_response),
    };
    // Carrier routes prove who sent them (signatures, Basic credentials, one-time tokens) before
    // reading anything, so the attack detector, made for requests nobody vouches for, stays out.
    let telephony = Router::from(telephony).layer(guard::GuardLayer::carrier(limits));
    let router = Router::from(probes)
        .merge(api)
        .merge(telephony)
        .fallback(|| async { StatusCode::NOT_FOUND })
        .layer(request_log::ExposeRouteLayer);
    let router = match cors(&http.cors_origins) {
        Some(cors) => router.layer(cors),
        None => router,
    };
    edge.layer(router.with_state(state))
}

/// Browsers on the listed origins may call the API with credentials; no origin, no CORS layer
/// (and no cost per request). Never `*`: configuration refuses it.
fn cors(origins: &[String]) -> Option<CorsLayer> {
    let origins: Vec<HeaderValue> = origins.iter().filter_map(|origin| HeaderValue::from_str(origin).ok()).collect();
    if origins.is_empty() {
        return None;
    }
    let layer = CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_credentials(true)
        .allow_methods([Method::GET, Method::POST, Method::PUT, Method::PATCH, Method::DELETE])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE, HeaderName::from_static("x-request-id")])
        .expose_headers([
            HeaderName::from_static("x-request-id"),
            HeaderName::from_static("ratelimit"),
            HeaderName::from_static("ratelimit-policy"),
            header::RETRY_AFTER,
        ])
        .max_age(std::time::Duration::from_secs(600));
    Some(layer)
}

fn panic_response(panic: Box<dyn Any + Send + 'static>) -> Response {
    let message = panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "non-string panic payload".into());
    ApiError::internal(anyhow::anyhow!("handler panicked: {message}")).into_response()
}
