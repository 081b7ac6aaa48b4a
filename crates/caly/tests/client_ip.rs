//! The client IP that logs, the audit log and (later) rate limits see: forwarding headers count
//! only from trusted proxies.

mod support;

use serde_json::json;
use support::{Engine, TestApp};

async fn failed_sign_in_ip(app: &TestApp, forwarded_for: &str) -> Option<String> {
    let body = json!({"email": "nobody@example.in", "password": "wrong horse battery"});
    let response = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .header("x-forwarded-for", forwarded_for)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    let events = app.server().state.store.audit_events(caly_store::SYSTEM_CHAIN).await.unwrap();
    events.last().and_then(|e| e.ip.clone())
}

#[tokio::test]
async fn a_spoofed_forwarded_for_from_an_untrusted_peer_is_ignored() {
    let app = TestApp::spawn(Engine::Sqlite).await;
    assert_eq!(failed_sign_in_ip(&app, "203.0.113.7").await.as_deref(), Some("127.0.0.1"));
}

#[tokio::test]
async fn a_trusted_proxy_names_the_client() {
    let app = TestApp::builder(Engine::Sqlite)
        .config(|c| c.http.trusted_proxies = vec!["127.0.0.0/8".parse().unwrap()])
        .spawn()
        .await;
    assert_eq!(failed_sign_in_ip(&app, "6.6.6.6, 203.0.113.7").await.as_deref(), Some("203.0.113.7"));
}
