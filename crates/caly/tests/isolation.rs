//! Tenant isolation, route by route: signed in as tenant B, every route is tried with tenant
//! A's ids and every list is read. Always 404 for A's ids, never a byte of A's data; A's data
//! is unchanged afterwards. Every documented route with an id in its path must be covered.

mod support;

use caly_core::{
    action::{ActionKind, ActionStatus},
    call::Direction,
};
use caly_store::{NewAction, NewCall};
use reqwest::Method;
use serde_json::{Value, json};
use support::{Engine, TestApp};

on_both_engines! {
    async fn another_tenant_never_sees_or_touches_a_tenants_data(engine: Engine) {
        let app = TestApp::spawn(engine).await;
        let a = app.sign_up("asha@example.in").await;
        let b = app.sign_up("ravi@example.in").await;
        let store = app.store();
        let call = NewCall {
            direction: Direction::Inbound, carrier: "twilio", carrier_call_id: Some("CA-secret-of-a"),
            caller_number: Some("+919876543210"), called_number: None, language: None, started_at: 1_795_000_000_000_000,
        };
        let call = store.insert_call(&a.tenant_id, call).await.unwrap().id;
        let action = NewAction {
            call_id: Some(&call), kind: ActionKind::Refund, order_number: "#A-1001", params: "{}", amount_paise: Some(100),
            status: ActionStatus::AwaitingApproval, idempotency_key: "a-key", requested_at: 1_795_000_000_000_000,
        };
        let action = store.insert_action(&a.tenant_id, action).await.unwrap().0.id;
        let invite = json!({"email": "member-of-a@example.in", "name": "Member", "role": "viewer"});
        let member: Value = app.request(Method::POST, "/api/v1/team/invites", &a.token).json(&invite).send().await.unwrap().json().await.unwrap();
        let member = member["id"].as_str().unwrap().to_owned();
        let key: Value = app.request(Method::POST, "/api/v1/api-keys", &a.token)
            .json(&json!({"name": "A's sync", "scopes": ["calls:read"]})).send().await.unwrap().json().await.unwrap();
        let key_id = key["id"].as_str().unwrap().to_owned();
        let settings = json!({"version": 0, "settings": {"phone_numbers": ["+918045678901"]}, "credentials": {"twilio_auth_token": "tw-secret-of-a-0000"}});
        assert_eq!(app.request(Method::PUT, "/api/v1/settings", &a.token).json(&settings).send().await.unwrap().status(), 200);

        let conversation: Value = app.request(Method::POST, "/api/v1/sandbox/conversations", &a.token)
            .json(&json!({"caller": "+919876543210"})).send().await.unwrap().json().await.unwrap();
        let conversation = conversation["call_id"].as_str().unwrap().to_owned();

        // Routes with an id: A's ids answer 404 to B, whatever the method.
        let by_id: Vec<(Method, &str, String, Option<Value>)> = vec![
            (Method::GET, "/api/v1/calls/{id}", format!("/api/v1/calls/{call}"), None),
            (Method::PATCH, "/api/v1/calls/{id}", format!("/api/v1/calls/{call}"), Some(json!({"notes": "B was here"}))),
            (Method::POST, "/api/v1/actions/{id}/approve", format!("/api/v1/actions/{action}/approve"), None),
            (Method::POST, "/api/v1/actions/{id}/reject", format!("/api/v1/actions/{action}/reject"), Some(json!({"reason": "B"}))),
            (Method::PATCH, "/api/v1/team/{id}", format!("/api/v1/team/{member}"), Some(json!({"active": false}))),
            (Method::DELETE, "/api/v1/api-keys/{id}", format!("/api/v1/api-keys/{key_id}"), None),
            (Method::GET, "/api/v1/calls/{id}/recording", format!("/api/v1/calls/{call}/recording"), None),
            (Method::POST, "/api/v1/sandbox/conversations/{id}/messages", format!("/api/v1/sandbox/conversations/{conversation}/messages"),
                Some(json!({"text": "order 1001 cancel kar do"}))),
        ];
        for (method, _, path, body) in &by_id {
            let mut request = app.request(method.clone(), path, &b.token);
            if let Some(body) = body {
                request = request.json(body);
            }
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), 404, "{method} {path}");
        }

        // Lists and figures: nothing of A's.
        let secrets_of_a = [call.as_str(), action.as_str(), member.as_str(), key_id.as_str(), "CA-secret-of-a", conversation.as_str(),
            "#A-1001", "member-of-a@example.in", "+918045678901", "asha@example.in", "A's sync"];
        for path in [
            "/api/v1/calls", "/api/v1/calls/export.csv", "/api/v1/actions", &format!("/api/v1/actions?call_id={call}"),
            "/api/v1/analytics/summary?from=2026-01-01", "/api/v1/team", "/api/v1/api-keys", "/api/v1/audit",
            "/api/v1/settings", "/api/v1/onboarding", "/api/v1/me",
        ] {
            let response = app.request(Method::GET, path, &b.token).send().await.unwrap();
            assert_eq!(response.status(), 200, "{path}");
            let text = response.text().await.unwrap();
            for secret in secrets_of_a {
                assert!(!text.contains(secret), "{path} shows {secret}: {text}");
            }
        }
        let summary: Value = app.request(Method::GET, "/api/v1/analytics/summary?from=2026-01-01", &b.token).send().await.unwrap().json().await.unwrap();
        assert_eq!(summary["calls"], 0);

        // A's data is as it was.
        let a_call: Value = app.request(Method::GET, &format!("/api/v1/calls/{call}"), &a.token).send().await.unwrap().json().await.unwrap();
        assert_eq!(a_call["notes"], "");
        assert_eq!(store.action(&a.tenant_id, &action).await.unwrap().unwrap().status, ActionStatus::AwaitingApproval);
        let team: Value = app.request(Method::GET, "/api/v1/team", &a.token).send().await.unwrap().json().await.unwrap();
        assert!(team.as_array().unwrap().iter().all(|m| m["status"] != "deactivated"));
        let keys: Value = app.request(Method::GET, "/api/v1/api-keys", &a.token).send().await.unwrap().json().await.unwrap();
        assert!(keys[0]["revoked_at"].is_null());
        let turns: Value = app.request(Method::GET, &format!("/api/v1/calls/{conversation}"), &a.token).send().await.unwrap().json().await.unwrap();
        assert_eq!(turns["turns"].as_array().unwrap().len(), 1, "only the greeting: B's message never reached A's agent");

        // Every documented route with an id is in the table above. (`/telephony/{carrier}/…`
        // names a carrier, not a tenant's record: its one-time token carries the tenant.)
        let doc: Value = app.get("/openapi.json").await.json().await.unwrap();
        for (path, item) in doc["paths"].as_object().unwrap() {
            let has_id = path.contains('{') && !path.starts_with("/telephony/{carrier}/");
            for method in item.as_object().unwrap().keys().filter(|_| has_id) {
                let operation = (method.to_uppercase(), path.as_str());
                assert!(
                    by_id.iter().any(|(m, template, ..)| (m.as_str(), *template) == (operation.0.as_str(), operation.1)),
                    "{} {path} is not tried across tenants", operation.0
                );
            }
        }
    }
}
