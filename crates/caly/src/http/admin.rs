//! Operator endpoints beyond health and metrics.

use axum::{Json, extract::State};
use serde::Serialize;

use super::{access::OperatorAccess, error::ApiError};
use crate::{
    scan::{self, Finding},
    state::AppState,
};

#[derive(Serialize, utoipa::ToSchema)]
pub struct ScanReport {
    /// Most severe first.
    pub findings: Vec<Finding>,
    /// Whether any finding is high or critical (`caly scan` exits non-zero then).
    pub fails: bool,
}

/// `caly scan` over the running server's configuration and database.
#[utoipa::path(get, path = "/api/v1/admin/scan", tag = "operations", security(("bearer" = [])), responses(
    (status = 200, description = "The security scan", body = ScanReport),
    (status = 401, description = "No or invalid credentials", body = caly_guard::problem::ProblemBody, content_type = "application/problem+json"),
    (status = 403, description = "Not an operator", body = caly_guard::problem::ProblemBody, content_type = "application/problem+json"),
))]
pub async fn scan(State(state): State<AppState>, _: OperatorAccess) -> Result<Json<ScanReport>, ApiError> {
    let findings = scan::findings(&state.config, Some(&state.store)).await.map_err(ApiError::internal)?;
    Ok(Json(ScanReport { fails: scan::fails(&findings), findings }))
}
