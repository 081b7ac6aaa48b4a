//! Probes, deep health and metrics, on SQLite and PostgreSQL.

mod support;

use support::{Engine, TestApp, problem};

on_both_engines! {
    async fn probes_answer_once_started(engine: Engine) {
        let app = TestApp::spawn(engine).await;
        for path in ["/livez", "/readyz", "/startupz"] {
            let response = app.get(path).await;
            assert_eq!(response.status(), 200, "{path}");
            assert_eq!(response.json::<serde_json::Value>().await.unwrap()["status"], "ok");
        }
    }

    async fn deep_health_reports_every_dependency(engine: Engine) {
        let app = TestApp::builder(engine).config(|c| c.release_id = Some("abc123".into())).spawn().await;
        let response = app.get_authorized("/health").await;
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["content-type"], "application/health+json");
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["status"], "pass", "{body:#}");
        assert_eq!(body["releaseId"], "abc123");
        assert_eq!(body["version"], "0");
        let checks = &body["checks"];
        for key in ["database:responseTime", "database:connections", "database:schemaVersion", "disk:free", "uptime"] {
            assert_eq!(checks[key][0]["status"], "pass", "{key}: {body:#}");
        }
        assert_eq!(checks["database:responseTime"][0]["observedUnit"], "ms");
        assert!(checks["database:connections"][0]["observedValue"].as_f64().unwrap() >= 1.0);
        assert!(checks["database:schemaVersion"][0]["observedValue"].as_f64().unwrap() > 20_000_000_000_000.0);
        assert!(checks["disk:free"][0]["observedValue"].as_f64().unwrap() > 0.0);
        assert!(checks.get("redis:responseTime").is_none(), "Redis is not configured");
    }

    async fn a_stopped_database_fails_readiness_and_health(engine: Engine) {
        let app = TestApp::spawn(engine).await;
        assert_eq!(app.get("/readyz").await.status(), 200);
        app.server().state.store.close().await;
        problem(app.get("/readyz").await, 503, "unavailable").await;
        let health = app.get_authorized("/health").await;
        assert_eq!(health.status(), 503);
        let body: serde_json::Value = health.json().await.unwrap();
        assert_eq!(body["status"], "fail");
        assert_eq!(body["checks"]["database:responseTime"][0]["status"], "fail");
        assert_eq!(app.get("/livez").await.status(), 200, "liveness does no I/O");
    }

    async fn metrics_count_requests_by_route_and_report_the_pool(engine: Engine) {
        let app = TestApp::spawn(engine).await;
        app.get("/livez").await;
        app.get("/livez").await;
        app.get("/no/such/page").await;
        let response = app.get_authorized("/metrics").await;
        assert_eq!(response.status(), 200);
        assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/plain"));
        let text = response.text().await.unwrap();
        assert!(text.contains(r#"caly_http_requests_total{method="GET",route="/livez",status="200"} 2"#), "{text}");
        assert!(text.contains(r#"caly_http_requests_total{method="GET",route="unmatched",status="404"} 1"#), "{text}");
        assert!(text.contains(r#"caly_http_request_duration_seconds_count{method="GET",route="/livez",status="200"} 2"#));
        assert!(text.contains(r#"caly_build_info{version=""#), "{text}");
        for gauge in ["caly_db_pool_max_connections 10", "caly_db_pool_open_connections", "caly_db_pool_idle_connections", "caly_db_pool_acquires_total"] {
            assert!(text.contains(gauge), "{gauge} missing:\n{text}");
        }
    }
}

#[tokio::test]
async fn redis_is_checked_when_configured() {
    let Some(url) = support::redis_url("health::redis_is_checked_when_configured") else { return };
    let app =
        TestApp::builder(Engine::Sqlite).config(|c| c.redis.url = Some(secrecy::SecretString::from(url))).spawn().await;
    assert_eq!(app.get("/readyz").await.status(), 200);
    let body: serde_json::Value = app.get_authorized("/health").await.json().await.unwrap();
    assert_eq!(body["checks"]["redis:responseTime"][0]["status"], "pass", "{body:#}");
}

#[tokio::test]
async fn unreachable_redis_fails_readiness() {
    // Nothing listens on port 1 of loopback.
    let app = TestApp::builder(Engine::Sqlite)
        .config(|c| c.redis.url = Some(secrecy::SecretString::from("redis://127.0.0.1:1")))
        .spawn()
        .await;
    let body = problem(app.get("/readyz").await, 503, "unavailable").await;
    assert!(body["detail"].as_str().unwrap().contains("Redis"));
    let health: serde_json::Value = app.get_authorized("/health").await.json().await.unwrap();
    assert_eq!(health["checks"]["redis:responseTime"][0]["status"], "fail");
}

#[tokio::test]
async fn an_unreachable_recordings_bucket_is_a_warning_not_a_failure() {
    // Calls go on without it: readiness holds, health warns and says why.
    let app = TestApp::builder(Engine::Sqlite)
        .config(|c| {
            c.recordings = caly::config::RecordingsConfig {
                s3_bucket: Some("caly-recordings".into()),
                s3_endpoint: Some("http://127.0.0.1:1".into()),
                s3_access_key_id: Some("AKIDCALYTESTS".into()),
                s3_secret_access_key: Some("a secret".into()),
                ..Default::default()
            }
        })
        .spawn()
        .await;
    assert_eq!(app.get("/readyz").await.status(), 200);
    let response = app.get_authorized("/health").await;
    assert_eq!(response.status(), 200);
    let health: serde_json::Value = response.json().await.unwrap();
    assert_eq!(health["status"], "warn", "{health:#}");
    let check = &health["checks"]["recordings:responseTime"][0];
    assert_eq!(check["status"], "warn", "{health:#}");
    assert!(!check["output"].as_str().unwrap().is_empty(), "{health:#}");
}
