//! Each anomaly pattern, driven through the real server: it is logged, counted and audited
//! once per window, per client IP and per signed-in user; with bans on, the IP is refused.

mod support;

use std::time::Duration;

use axum::{Router, extract::Query, routing::get};
use caly::state::AppState;
use caly_guard::anomaly::AnomalySettings;
use serde_json::json;
use support::{Engine, TestApp};

/// Thresholds so high that only the pattern under test can fire.
fn quiet() -> AnomalySettings {
    AnomalySettings {
        auth_failures: 1000,
        not_found: 1000,
        distinct_paths: 1000,
        attack_hits: 1000,
        malformed: 1000,
        slow_requests: 1000,
        ..AnomalySettings::default()
    }
}

async fn app_with(anomaly: AnomalySettings) -> TestApp {
    #[derive(serde::Deserialize)]
    struct Sleep {
        ms: u64,
    }
    let slow = Router::<AppState>::new().route(
        "/test/sleep",
        get(|Query(sleep): Query<Sleep>| async move {
            tokio::time::sleep(Duration::from_millis(sleep.ms)).await;
            "done"
        }),
    );
    TestApp::builder(Engine::Sqlite).config(move |config| config.anomaly = anomaly).routes(slow).spawn().await
}

/// The `anomaly.flagged` rows so far: (pattern, subject). The rows are written after the
/// response, so this waits briefly for them.
async fn flagged(app: &TestApp, expected: usize) -> Vec<(String, String)> {
    let store = &app.server().state.store;
    for _ in 0..50 {
        let rows: Vec<_> = store
            .audit_events(caly_store::SYSTEM_CHAIN)
            .await
            .unwrap()
            .into_iter()
            .filter(|row| row.event == "anomaly.flagged")
            .map(|row| {
                let details: serde_json::Value = serde_json::from_str(&row.details).unwrap();
                (details["pattern"].as_str().unwrap().to_owned(), row.target.unwrap())
            })
            .collect();
        if rows.len() >= expected {
            return rows;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("fewer than {expected} anomaly rows");
}

#[tokio::test]
async fn a_burst_of_failed_sign_ins_is_credential_stuffing() {
    let app = app_with(AnomalySettings { auth_failures: 3, ..quiet() }).await;
    for _ in 0..5 {
        let wrong = json!({"email": "nobody@example.in", "password": "wrong horse battery"});
        assert_eq!(app.post_json("/api/v1/auth/login", &wrong).await.status(), 401);
    }
    assert_eq!(flagged(&app, 1).await, [("credential_stuffing".to_owned(), "ip:127.0.0.1".to_owned())]);
    let metrics = app.get_authorized("/metrics").await.text().await.unwrap();
    assert!(metrics.contains(r#"caly_anomalies_total{pattern="credential_stuffing"} 1"#), "{metrics}");
}

#[tokio::test]
async fn many_not_found_answers_are_scanning() {
    let app = app_with(AnomalySettings { not_found: 4, ..quiet() }).await;
    for _ in 0..4 {
        assert_eq!(app.get("/wp-admin/setup.php").await.status(), 404);
    }
    assert_eq!(flagged(&app, 1).await[0].0, "scanning");
}

#[tokio::test]
async fn many_distinct_paths_are_enumeration() {
    let app = app_with(AnomalySettings { distinct_paths: 6, ..quiet() }).await;
    for i in 0..6 {
        app.get(&format!("/backup-{i}.zip")).await;
    }
    assert_eq!(flagged(&app, 1).await[0].0, "path_enumeration");
}

#[tokio::test]
async fn repeated_detector_hits_are_attack_probing() {
    let app = app_with(AnomalySettings { attack_hits: 2, ..quiet() }).await;
    for _ in 0..2 {
        support::problem(app.get("/api/v1/audit?q=%3Cscript%3Ealert(1)%3C/script%3E").await, 403, "attack_blocked")
            .await;
    }
    // Each blocked request is a 403 as well, but credential stuffing is quiet here.
    assert_eq!(flagged(&app, 1).await[0].0, "attack_probing");
}

#[tokio::test]
async fn repeated_malformed_requests_are_fuzzing_by_ip_and_by_user() {
    let app = app_with(AnomalySettings { malformed: 3, ..quiet() }).await;
    let token = &app.sign_up_owner().await;
    let client = reqwest::Client::new();
    for _ in 0..3 {
        let response = client.get(app.url("/api/v1/audit?limit=lots")).bearer_auth(token).send().await.unwrap();
        assert_eq!(response.status(), 400);
    }
    let mut rows = flagged(&app, 2).await;
    rows.sort();
    assert_eq!(rows[0], ("fuzzing".to_owned(), "ip:127.0.0.1".to_owned()));
    assert!(rows[1].0 == "fuzzing" && rows[1].1.starts_with("user:"), "{rows:?}");
}

#[tokio::test]
async fn requests_far_slower_than_their_route_are_flagged() {
    let app = app_with(AnomalySettings {
        slow_requests: 1,
        slow_factor: 5.0,
        slow_min: Duration::from_millis(50),
        ..quiet()
    })
    .await;
    for _ in 0..20 {
        assert_eq!(app.get("/test/sleep?ms=0").await.status(), 200);
    }
    assert_eq!(app.get("/test/sleep?ms=200").await.status(), 200);
    assert_eq!(flagged(&app, 1).await[0].0, "slow_requests");
}

#[tokio::test]
async fn with_bans_on_a_flagged_ip_is_refused_but_probes_still_answer() {
    let app = app_with(AnomalySettings { not_found: 2, ban_for: Duration::from_secs(60), ..quiet() }).await;
    for _ in 0..2 {
        app.get("/.env").await;
    }
    support::problem(app.get("/api/v1/me").await, 403, "banned").await;
    assert_eq!(app.get("/livez").await.status(), 200);
}

#[tokio::test]
async fn disabled_anomaly_detection_flags_nothing() {
    let app = app_with(AnomalySettings { enabled: false, not_found: 1, ..quiet() }).await;
    app.get("/nope").await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let rows = app.server().state.store.audit_events(caly_store::SYSTEM_CHAIN).await.unwrap();
    assert!(rows.iter().all(|row| row.event != "anomaly.flagged"));
}
