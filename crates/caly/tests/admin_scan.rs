//! `GET /api/v1/admin/scan`: the same findings as `caly scan`, for operators only.

mod support;

use support::{Engine, TestApp};

#[tokio::test]
async fn operators_get_the_scan_of_the_running_server() {
    let advisories = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/advisory-db");
    let with_db = advisories.is_dir();
    let app = TestApp::builder(Engine::Sqlite)
        .config(move |config| config.advisory_db = with_db.then_some(advisories))
        .spawn()
        .await;
    support::problem(app.get("/api/v1/admin/scan").await, 401, "unauthenticated").await;

    let report: serde_json::Value = app.get_authorized("/api/v1/admin/scan").await.json().await.unwrap();
    let ids: Vec<&str> = report["findings"].as_array().unwrap().iter().map(|f| f["id"].as_str().unwrap()).collect();
    assert!(ids.contains(&"rate-limits-off"), "the test server runs without rate limits: {ids:?}");
    assert_eq!(report["fails"], true);
    assert_eq!(report["findings"][0]["severity"], "high", "most severe first");
    if with_db {
        assert!(ids.iter().any(|id| id.starts_with("RUSTSEC-")), "the dependency audit ran: {ids:?}");
    } else {
        support::skip("operators_get_the_scan_of_the_running_server (dependency audit)", "../shared/advisory-db");
        assert!(ids.contains(&"dependency-audit-skipped"));
    }
}
