//! Probes (`/livez`, `/readyz`, `/startupz`, public) and the deep check (`/health`, operators
//! only, since it reveals topology) in `application/health+json`.

use std::{collections::BTreeMap, time::Duration};

use axum::{
    Json,
    extract::State,
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::Serialize;
use utoipa::ToSchema;

use super::{access::OperatorAccess, error::ApiError};
use crate::{lifecycle::Phase, state::AppState};

const HEALTH_JSON: &str = "application/health+json";
const LOW_DISK_WARN: u64 = 1024 * 1024 * 1024;
const LOW_DISK_FAIL: u64 = 100 * 1024 * 1024;

#[derive(Serialize, ToSchema)]
pub struct ProbeStatus {
    /// `ok`
    status: &'static str,
}

fn ok() -> Json<ProbeStatus> {
    Json(ProbeStatus { status: "ok" })
}

/// Liveness: no I/O, answers while the process runs.
#[utoipa::path(get, path = "/livez", tag = "health",
    responses((status = 200, description = "The process is alive", body = ProbeStatus)))]
pub async fn livez() -> Json<ProbeStatus> {
    ok()
}

/// Readiness: ready for traffic, the database (and Redis, when configured) answering.
#[utoipa::path(get, path = "/readyz", tag = "health", responses(
    (status = 200, description = "Ready", body = ProbeStatus),
    (status = 503, description = "Starting, draining or a dependency failed", body = caly_guard::problem::ProblemBody,
        content_type = "application/problem+json")))]
pub async fn readyz(State(state): State<AppState>) -> Result<Json<ProbeStatus>, ApiError> {
    let unavailable = |detail| ApiError::Unavailable { detail, retry_after_secs: 1 };
    match state.lifecycle.phase() {
        Phase::Starting => return Err(unavailable("Starting up.")),
        Phase::Draining => return Err(unavailable("Shutting down.")),
        Phase::Ready => {}
    }
    if state.store.ping().await.is_err() {
        return Err(unavailable("The database is not answering."));
    }
    if let Some(redis) = &state.redis
        && redis.ping().await.is_err()
    {
        return Err(unavailable("Redis is not answering."));
    }
    Ok(ok())
}

/// Start-up: migrations applied.
#[utoipa::path(get, path = "/startupz", tag = "health", responses(
    (status = 200, description = "Started", body = ProbeStatus),
    (status = 503, description = "Still starting", body = caly_guard::problem::ProblemBody,
        content_type = "application/problem+json")))]
pub async fn startupz(State(state): State<AppState>) -> Result<Json<ProbeStatus>, ApiError> {
    match state.lifecycle.phase() {
        Phase::Starting => Err(ApiError::Unavailable { detail: "Starting up.", retry_after_secs: 1 }),
        Phase::Ready | Phase::Draining => Ok(ok()),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pass,
    Warn,
    Fail,
}

/// One measurement of the deep check (draft-inadarei-api-health-check).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Check {
    component_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    observed_value: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    observed_unit: Option<&'static str>,
    status: Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    output: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Health {
    status: Status,
    version: &'static str,
    release_id: String,
    service_id: &'static str,
    description: &'static str,
    checks: BTreeMap<&'static str, Vec<Check>>,
}

fn measured(component_type: &'static str, value: f64, unit: &'static str, status: Status) -> Check {
    Check { component_type, observed_value: Some(value), observed_unit: Some(unit), status, output: None }
}

fn failed(component_type: &'static str, output: String) -> Check {
    Check { component_type, observed_value: None, observed_unit: None, status: Status::Fail, output: Some(output) }
}

fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Deep health of every dependency; `fail` answers 503.
#[utoipa::path(get, path = "/health", tag = "health", security(("operator_token" = [])), responses(
    (status = 200, description = "pass or warn", body = Health, content_type = "application/health+json"),
    (status = 503, description = "fail", body = Health, content_type = "application/health+json"),
    (status = 401, description = "No or wrong operator token", body = caly_guard::problem::ProblemBody,
        content_type = "application/problem+json")))]
pub async fn health(_: OperatorAccess, State(state): State<AppState>) -> Response {
    let mut checks = BTreeMap::new();
    let db = match state.store.ping().await {
        Ok(rtt) => measured("datastore", millis(rtt), "ms", Status::Pass),
        Err(e) => failed("datastore", e.to_string()),
    };
    checks.insert("database:responseTime", vec![db]);

    let pool = state.store.stats();
    let pool_status = if pool.open >= pool.max && pool.idle == 0 { Status::Warn } else { Status::Pass };
    let mut connections = measured("datastore", f64::from(pool.open), "connections", pool_status);
    connections.output = Some(format!(
        "idle {}, max {}, acquires {}, acquire timeouts {}, mean acquire wait {:.3} ms",
        pool.idle,
        pool.max,
        pool.acquires,
        pool.acquire_timeouts,
        millis(pool.acquire_wait_total) / pool.acquires.max(1) as f64
    ));
    checks.insert("database:connections", vec![connections]);

    let expected = state.store.expected_schema_version();
    let schema = match state.store.schema_version().await {
        Ok(Some(v)) if v == expected => measured("datastore", v as f64, "version", Status::Pass),
        Ok(v) => Check {
            output: Some(format!("expected schema version {expected}")),
            ..measured("datastore", v.unwrap_or(0) as f64, "version", Status::Warn)
        },
        Err(e) => failed("datastore", e.to_string()),
    };
    checks.insert("database:schemaVersion", vec![schema]);

    if let Some(redis) = &state.redis {
        let check = match redis.ping().await {
            Ok(rtt) => measured("datastore", millis(rtt), "ms", Status::Pass),
            Err(e) => failed("datastore", e),
        };
        checks.insert("redis:responseTime", vec![check]);
    }

    // Calls go on without the bucket (a recording that cannot be stored stays on disk): a warning.
    if let Some(probe) = state.recordings.probe().await {
        let check = match probe {
            Ok(rtt) => measured("datastore", millis(rtt), "ms", Status::Pass),
            Err(e) => Check { status: Status::Warn, ..failed("datastore", format!("{e:#}")) },
        };
        checks.insert("recordings:responseTime", vec![check]);
    }

    let disk = match rustix::fs::statvfs(&state.config.data_dir) {
        Ok(fs) => {
            let free = fs.f_bavail * fs.f_frsize;
            let status = match free {
                f if f < LOW_DISK_FAIL => Status::Fail,
                f if f < LOW_DISK_WARN => Status::Warn,
                _ => Status::Pass,
            };
            measured("system", free as f64, "bytes", status)
        }
        Err(e) => failed("system", format!("cannot stat the data directory: {e}")),
    };
    checks.insert("disk:free", vec![disk]);
    checks.insert(
        "uptime",
        vec![measured("system", state.started_at.elapsed().as_secs_f64().floor(), "s", Status::Pass)],
    );

    let status = checks.values().flatten().map(|c| c.status).max().unwrap_or(Status::Pass);
    let body = Health {
        status,
        version: env!("CARGO_PKG_VERSION_MAJOR"),
        release_id: state.config.release_id.clone().unwrap_or_else(|| env!("CARGO_PKG_VERSION").to_owned()),
        service_id: "caly",
        description: "Caly AI phone agent",
        checks,
    };
    let code = if status == Status::Fail { StatusCode::SERVICE_UNAVAILABLE } else { StatusCode::OK };
    let json = serde_json::to_vec(&body).expect("health always serialises");
    (code, [(header::CONTENT_TYPE, HEALTH_JSON)], json).into_response()
}

/// Prometheus metrics in the text exposition format.
#[utoipa::path(get, path = "/metrics", tag = "health", security(("operator_token" = [])), responses(
    (status = 200, description = "Metrics", body = String, content_type = "text/plain; version=0.0.4"),
    (status = 401, description = "No or wrong operator token", body = caly_guard::problem::ProblemBody,
        content_type = "application/problem+json")))]
pub async fn metrics(_: OperatorAccess, State(state): State<AppState>) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], state.metrics.render())
}
