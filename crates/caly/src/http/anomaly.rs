//! Feeds every finished request to the anomaly detector, per client IP and per signed-in user,
//! and reports what it flags: a warning log line, `caly_anomalies_total{pattern}` and an
//! `anomaly.flagged` audit row.

use std::{net::IpAddr, time::Instant};

use caly_guard::{
    anomaly::{Anomaly, Observation, Subject},
    request_log::Completed,
};
use caly_store::AuditEvent;
use serde_json::json;

use crate::{auth::now_micros, state::AppState};

/// Called by the edge for every request, after the response is sent on its way.
pub fn observe(state: &AppState, done: &Completed<'_>) {
    let Some(detector) = state.anomalies.as_deref() else {
        return;
    };
    let now = Instant::now();
    let slow = detector.is_slow(done.route, done.latency);
    let subjects = done.client_ip.map(Subject::Ip).into_iter().chain(done.user.map(|user| Subject::User(user.into())));
    for subject in subjects {
        let seen =
            Observation { subject: &subject, path: done.path, status: done.status.as_u16(), slow, attack: done.attack };
        for anomaly in detector.observe(&seen, now) {
            report(state, anomaly, done.client_ip, done.user);
        }
    }
}

/// The request has been answered, so the audit row is written in the background; a failure is
/// logged as an error rather than dropped.
fn report(state: &AppState, anomaly: Anomaly, ip: Option<IpAddr>, user: Option<&str>) {
    let pattern = anomaly.pattern.as_str();
    tracing::warn!(pattern, subject = %anomaly.subject, count = anomaly.count, "anomaly flagged");
    state.metrics.anomaly_flagged(pattern);
    let details = json!({
        "pattern": pattern,
        "count": anomaly.count,
        "window_secs": state.config.anomaly.window.as_secs(),
        "banned_for_secs": state.config.anomaly.ban_for.as_secs(),
    });
    let row = AuditEvent {
        actor_type: if user.is_some() { "user" } else { "anonymous" }.into(),
        actor_id: user.map(str::to_owned),
        ip: ip.map(|ip| ip.to_string()),
        target: Some(anomaly.subject.to_string()),
        ..AuditEvent::system(now_micros(), "anomaly.flagged", "flagged", details.to_string())
    };
    let store = state.store.clone();
    tokio::spawn(async move {
        if let Err(error) = store.append_audit(&row).await {
            tracing::error!(%error, event = "anomaly.flagged", "audit write failed");
        }
    });
}
