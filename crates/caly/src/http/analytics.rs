//! `/api/v1/analytics/*`: the tenant's KPIs over a period, and one KPI as a chart in the
//! tenant's hours or days. The database counts; this module only divides.

use std::collections::BTreeMap;

use axum::{Json, extract::State};
use caly_core::{
    period::{Interval, Period},
    permission::Permission,
};
use caly_store::analytics::CallTotals;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{
    access::Access,
    actions::inr,
    error::{ApiError, FieldErrors},
    extract::Query,
    time::{rfc3339, tenant_zone},
};
use crate::{auth::now_micros, state::AppState};

const MAX_RANGE_DAYS: i64 = 366;
/// The period when none is given: the last 30 days.
const DEFAULT_DAYS: i64 = 30;

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SummaryQuery {
    /// A date, local time (tenant's time zone) or RFC 3339 time; default 30 days before `to`.
    from: Option<String>,
    /// A date (the whole day), local time or RFC 3339 time; default now.
    to: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TimeseriesQuery {
    /// One of `calls`, `answered`, `resolved`, `transferred`, `abandoned`, `automation_rate`,
    /// `transfer_rate`, `abandonment_rate`, `average_handle_time_secs`, `average_first_response_ms`.
    metric: String,
    /// `hour` or `day`, in the tenant's time zone; default `day`.
    interval: Option<String>,
    from: Option<String>,
    to: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ActionCountView {
    kind: String,
    status: String,
    count: i64,
    amount_inr: String,
}

#[derive(Serialize, ToSchema)]
pub struct Share {
    /// An intent or language; `null` for calls in which nobody spoke.
    key: Option<String>,
    calls: i64,
}

#[derive(Serialize, ToSchema)]
pub struct Summary {
    from: String,
    to: String,
    calls: i64,
    answered: i64,
    resolved: i64,
    transferred: i64,
    abandoned: i64,
    /// Resolved without a human, of answered calls; `null` with no answered call.
    automation_rate: Option<f64>,
    /// Handed to a human, of answered calls.
    transfer_rate: Option<f64>,
    /// Abandoned, of all calls.
    abandonment_rate: Option<f64>,
    /// Answer to hang-up, over answered calls that ended.
    average_handle_time_secs: Option<f64>,
    average_first_response_ms: Option<f64>,
    /// Nearest-rank 95th percentile.
    p95_first_response_ms: Option<i64>,
    actions: Vec<ActionCountView>,
    /// Executed refunds, in rupees.
    refunded_inr: String,
    intents: Vec<Share>,
    languages: Vec<Share>,
}

#[derive(Serialize, ToSchema)]
pub struct Point {
    /// The bucket's start.
    start: String,
    /// `null` where a rate or average has nothing to divide by.
    value: Option<f64>,
}

#[derive(Serialize, ToSchema)]
pub struct Timeseries {
    metric: String,
    interval: String,
    timezone: String,
    points: Vec<Point>,
}

fn ratio(part: i64, whole: i64) -> Option<f64> {
    (whole > 0).then(|| (part as f64 / whole as f64 * 10_000.0).round() / 10_000.0)
}

fn average(sum: i64, count: i64, unit: f64) -> Option<f64> {
    (count > 0).then(|| (sum as f64 / count as f64 / unit * 100.0).round() / 100.0)
}

caly_core::choice! {
    /// A KPI a chart can show.
    pub enum Metric, invalid = "invalid_metric" {
        Calls = "calls",
        Answered = "answered",
        Resolved = "resolved",
        Transferred = "transferred",
        Abandoned = "abandoned",
        AutomationRate = "automation_rate",
        TransferRate = "transfer_rate",
        AbandonmentRate = "abandonment_rate",
        AverageHandleTimeSecs = "average_handle_time_secs",
        AverageFirstResponseMs = "average_first_response_ms",
    }
}

impl Metric {
    fn of(self, t: &CallTotals) -> Option<f64> {
        match self {
            Self::Calls => Some(t.calls as f64),
            Self::Answered => Some(t.answered as f64),
            Self::Resolved => Some(t.resolved as f64),
            Self::Transferred => Some(t.transferred as f64),
            Self::Abandoned => Some(t.abandoned as f64),
            Self::AutomationRate => ratio(t.resolved, t.answered),
            Self::TransferRate => ratio(t.transferred, t.answered),
            Self::AbandonmentRate => ratio(t.abandoned, t.calls),
            Self::AverageHandleTimeSecs => average(t.handle_micros, t.handled, 1_000_000.0),
            Self::AverageFirstResponseMs => average(t.first_response_ms, t.first_responses, 1.0),
        }
    }
}

/// Reads `from`/`to` in the tenant's zone, closing open ends with the defaults.
async fn period(
    state: &AppState,
    tenant_id: &str,
    from: Option<&str>,
    to: Option<&str>,
    errors: &mut FieldErrors,
) -> Result<(jiff::tz::TimeZone, (i64, i64)), ApiError> {
    let tz = tenant_zone(&state.store, tenant_id).await?;
    let closed = Period::parse(from, to, &tz, MAX_RANGE_DAYS)
        .and_then(|period| period.closed(now_micros(), DEFAULT_DAYS, MAX_RANGE_DAYS).map_err(|refused| vec![refused]));
    let range = closed.unwrap_or_else(|refused| {
        refused.into_iter().for_each(|(field, invalid)| errors.refuse(field, invalid));
        (0, 0)
    });
    Ok((tz, range))
}

/// Calls, automation, transfers, abandonment, handle time, latency, actions, refunds and the
/// spread of intents and languages over a period.
#[utoipa::path(get, path = "/api/v1/analytics/summary", operation_id = "analytics_summary", tag = "analytics", params(SummaryQuery), security(("bearer" = [])), responses(
    (status = 200, description = "The period's KPIs", body = Summary),
    (status = 401, description = "No valid access token", body = caly_guard::problem::ProblemBody, content_type = "application/problem+json"),
    (status = 422, description = "Invalid parameters, all listed", body = caly_guard::problem::ProblemBody, content_type = "application/problem+json")))]
pub async fn summary(
    State(state): State<AppState>,
    access: Access,
    Query(query): Query<SummaryQuery>,
) -> Result<Json<Summary>, ApiError> {
    access.require(Permission::ReadAnalytics)?;
    let tenant = &access.tenant_id;
    let mut errors = FieldErrors::default();
    let (_, (from, to)) = period(&state, tenant, query.from.as_deref(), query.to.as_deref(), &mut errors).await?;
    errors.finish()?;
    let s = state.store.analytics_summary(tenant, from, to).await?;
    let t = &s.totals;
    let refunded =
        s.actions.iter().filter(|a| a.kind == "refund" && a.status == "executed").map(|a| a.amount_paise).sum();
    Ok(Json(Summary {
        from: rfc3339(from),
        to: rfc3339(to),
        calls: t.calls,
        answered: t.answered,
        resolved: t.resolved,
        transferred: t.transferred,
        abandoned: t.abandoned,
        automation_rate: Metric::AutomationRate.of(t),
        transfer_rate: Metric::TransferRate.of(t),
        abandonment_rate: Metric::AbandonmentRate.of(t),
        average_handle_time_secs: Metric::AverageHandleTimeSecs.of(t),
        average_first_response_ms: Metric::AverageFirstResponseMs.of(t),
        p95_first_response_ms: s.first_response_p95_ms,
        refunded_inr: inr(refunded),
        actions: s
            .actions
            .into_iter()
            .map(|a| ActionCountView {
                kind: a.kind,
                status: a.status,
                count: a.count,
                amount_inr: inr(a.amount_paise),
            })
            .collect(),
        intents: s.intents.into_iter().map(|(key, calls)| Share { key: Some(key), calls }).collect(),
        languages: s.languages.into_iter().map(|(key, calls)| Share { key, calls }).collect(),
    }))
}

/// One KPI per local hour or day over a period; every bucket is present, empty ones too.
#[utoipa::path(get, path = "/api/v1/analytics/timeseries", operation_id = "analytics_timeseries", tag = "analytics", params(TimeseriesQuery), security(("bearer" = [])), responses(
    (status = 200, description = "The KPI per bucket", body = Timeseries),
    (status = 401, description = "No valid access token", body = caly_guard::problem::ProblemBody, content_type = "application/problem+json"),
    (status = 422, description = "Invalid parameters, all listed", body = caly_guard::problem::ProblemBody, content_type = "application/problem+json")))]
pub async fn timeseries(
    State(state): State<AppState>,
    access: Access,
    Query(query): Query<TimeseriesQuery>,
) -> Result<Json<Timeseries>, ApiError> {
    access.require(Permission::ReadAnalytics)?;
    let tenant = &access.tenant_id;
    let mut errors = FieldErrors::default();
    let metric = errors.check("metric", query.metric.parse::<Metric>());
    let interval = errors.check("interval", query.interval.as_deref().unwrap_or("day").parse::<Interval>());
    let (tz, (from, to)) = period(&state, tenant, query.from.as_deref(), query.to.as_deref(), &mut errors).await?;
    errors.finish()?;
    let (metric, interval) = (metric.expect("checked"), interval.expect("checked"));
    let mut buckets: BTreeMap<i64, CallTotals> =
        interval.buckets(from, to, &tz).into_iter().map(|start| (start, CallTotals::default())).collect();
    for (slot, totals) in state.store.analytics_slots(tenant, from, to).await? {
        buckets.entry(interval.bucket_of(slot, &tz)).or_default().add(&totals);
    }
    let points =
        buckets.iter().map(|(start, totals)| Point { start: rfc3339(*start), value: metric.of(totals) }).collect();
    let timezone = tz.iana_name().unwrap_or("UTC").to_owned();
    Ok(Json(Timeseries { metric: metric.to_string(), interval: interval.to_string(), timezone, points }))
}
