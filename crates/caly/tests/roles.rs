//! Every route × every role: a route answers 403 exactly to the roles below the one it
//! requires, and every route of `/openapi.json` is in this table or in the public list.

mod support;

use caly_core::action::{ActionKind, ActionStatus};
use caly_core::call::Direction;
use caly_store::{NewAction, NewCall};
use reqwest::Method;
use serde_json::{Value, json};
use support::{Engine, TestApp};

const ROLES: [&str; 4] = ["viewer", "supervisor", "admin", "owner"];

/// Routes anyone may call (they authenticate by other means, or not at all).
const PUBLIC: [&str; 21] = [
    "GET /livez",
    "GET /readyz",
    "GET /startupz",
    "GET /openapi.json",
    "POST /api/v1/auth/register",
    "POST /api/v1/auth/login",
    "POST /api/v1/auth/refresh",
    "POST /api/v1/auth/logout",
    "POST /api/v1/auth/verify-email",
    "POST /api/v1/auth/password-reset/request",
    "POST /api/v1/auth/password-reset",
    "POST /api/v1/auth/accept-invite",
    "GET /health",
    "GET /metrics",
    "POST /telephony/twilio/voice",
    "POST /telephony/twilio/status",
    "GET /telephony/exotel/voice",
    "POST /telephony/plivo/answer",
    "POST /telephony/plivo/dial",
    "GET /telephony/{carrier}/media",
    "GET /calls/web",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_route_refuses_exactly_the_roles_below_its_own() {
    let app = TestApp::spawn(Engine::Sqlite).await;
    let owner = app.sign_up("asha@example.in").await;
    let mut tokens = Vec::new();
    for role in ROLES {
        let token = match role {
            "owner" => owner.token.clone(),
            _ => app.add_member(&owner, &format!("{role}@example.in"), role).await,
        };
        tokens.push((role, token));
    }
    let store = app.store();
    let call = NewCall {
        direction: Direction::Inbound,
        carrier: "twilio",
        carrier_call_id: None,
        caller_number: None,
        called_number: None,
        language: None,
        started_at: 1,
    };
    let call = store.insert_call(&owner.tenant_id, call).await.unwrap().id;
    let team: Value =
        app.request(Method::GET, "/api/v1/team", &owner.token).send().await.unwrap().json().await.unwrap();
    let viewer_id = team[1]["id"].as_str().unwrap().to_owned();
    let conversation: Value = app
        .request(Method::POST, "/api/v1/sandbox/conversations", &owner.token)
        .json(&json!({}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let conversation = conversation["call_id"].as_str().unwrap().to_owned();

    // (method, path template, concrete path, body, lowest role allowed)
    let table: Vec<(Method, &str, String, Option<Value>, &str)> = vec![
        (Method::GET, "/api/v1/me", "/api/v1/me".into(), None, "viewer"),
        (Method::GET, "/api/v1/calls", "/api/v1/calls".into(), None, "viewer"),
        (Method::GET, "/api/v1/calls/{id}", format!("/api/v1/calls/{call}"), None, "viewer"),
        (
            Method::PATCH,
            "/api/v1/calls/{id}",
            format!("/api/v1/calls/{call}"),
            Some(json!({"notes": "n"})),
            "supervisor",
        ),
        (Method::GET, "/api/v1/calls/export.csv", "/api/v1/calls/export.csv".into(), None, "supervisor"),
        (Method::GET, "/api/v1/calls/{id}/recording", format!("/api/v1/calls/{call}/recording"), None, "supervisor"),
        (Method::GET, "/api/v1/actions", "/api/v1/actions".into(), None, "viewer"),
        (Method::GET, "/api/v1/analytics/summary", "/api/v1/analytics/summary".into(), None, "viewer"),
        (
            Method::GET,
            "/api/v1/analytics/timeseries",
            "/api/v1/analytics/timeseries?metric=calls".into(),
            None,
            "viewer",
        ),
        (Method::GET, "/api/v1/audit", "/api/v1/audit".into(), None, "admin"),
        (Method::GET, "/api/v1/admin/scan", "/api/v1/admin/scan".into(), None, "admin"),
        (Method::GET, "/api/v1/team", "/api/v1/team".into(), None, "admin"),
        (
            Method::PATCH,
            "/api/v1/team/{id}",
            format!("/api/v1/team/{viewer_id}"),
            Some(json!({"role": "viewer"})),
            "admin",
        ),
        (Method::POST, "/api/v1/auth/verify-email/resend", "/api/v1/auth/verify-email/resend".into(), None, "viewer"),
        (Method::GET, "/api/v1/api-keys", "/api/v1/api-keys".into(), None, "admin"),
        (Method::GET, "/api/v1/settings", "/api/v1/settings".into(), None, "admin"),
        (
            Method::PUT,
            "/api/v1/settings",
            "/api/v1/settings".into(),
            Some(json!({"version": 0, "settings": {}})),
            "admin",
        ),
        (Method::GET, "/api/v1/onboarding", "/api/v1/onboarding".into(), None, "admin"),
        (
            Method::POST,
            "/api/v1/api-keys",
            "/api/v1/api-keys".into(),
            Some(json!({"name": "k", "scopes": ["calls:read"]})),
            "admin",
        ),
        (Method::DELETE, "/api/v1/api-keys/{id}", format!("/api/v1/api-keys/{}", uuid::Uuid::now_v7()), None, "admin"),
        (
            Method::POST,
            "/api/v1/sandbox/conversations",
            "/api/v1/sandbox/conversations".into(),
            Some(json!({})),
            "supervisor",
        ),
        (Method::POST, "/api/v1/calls/web", "/api/v1/calls/web".into(), None, "supervisor"),
        (
            Method::POST,
            "/api/v1/sandbox/conversations/{id}/messages",
            format!("/api/v1/sandbox/conversations/{conversation}/messages"),
            Some(json!({"text": "hello"})),
            "supervisor",
        ),
    ];
    for (method, template, path, body, lowest) in &table {
        for (role, token) in &tokens {
            let mut request = app.request(method.clone(), path, token);
            if let Some(body) = body {
                request = request.json(body);
            }
            let status = request.send().await.unwrap().status().as_u16();
            let allowed = ROLES.iter().position(|r| r == role) >= ROLES.iter().position(|r| r == lowest);
            if allowed {
                assert!(![401, 403].contains(&status), "{role} {method} {template}: {status}");
            } else {
                assert_eq!(status, 403, "{role} {method} {template}");
            }
        }
    }
    // Routes that change things once: each role tries on its own fresh target.
    for (i, (role, token)) in tokens.iter().enumerate() {
        let lowest_index = |lowest: &str| ROLES.iter().position(|r| *r == lowest).unwrap();
        let awaiting = |key: String| {
            let tenant = owner.tenant_id.clone();
            async move {
                let new = NewAction {
                    call_id: None,
                    kind: ActionKind::Refund,
                    order_number: "#1",
                    params: "{}",
                    amount_paise: Some(1),
                    status: ActionStatus::AwaitingApproval,
                    idempotency_key: &key,
                    requested_at: 1,
                };
                store.insert_action(&tenant, new).await.unwrap().0
            }
        };
        let action = awaiting(format!("approve-{i}")).await;
        let other = awaiting(format!("reject-{i}")).await;
        let approve =
            app.request(Method::POST, &format!("/api/v1/actions/{}/approve", action.id), token).send().await.unwrap();
        let reject = app
            .request(Method::POST, &format!("/api/v1/actions/{}/reject", other.id), token)
            .json(&json!({"reason": "no"}))
            .send()
            .await
            .unwrap();
        let invite = json!({"email": format!("new{i}@example.in"), "name": "New", "role": "viewer"});
        let invited = app.request(Method::POST, "/api/v1/team/invites", token).json(&invite).send().await.unwrap();
        for (template, status, lowest) in [
            ("POST /api/v1/actions/{id}/approve", approve.status(), "supervisor"),
            ("POST /api/v1/actions/{id}/reject", reject.status(), "supervisor"),
            ("POST /api/v1/team/invites", invited.status(), "admin"),
        ] {
            let expected = if i >= lowest_index(lowest) { 200..300 } else { 403..404 };
            assert!(expected.contains(&status.as_u16()), "{role} {template}: {status}");
        }
    }
    let change = json!({"current_password": "wrong", "new_password": "irrelevant passphrase"});
    let changed = app.request(Method::POST, "/api/v1/auth/password", &tokens[0].1).json(&change).send().await.unwrap();
    assert_eq!(changed.status(), 422, "any signed-in user may change their own password");
    let logout_all = app.request(Method::POST, "/api/v1/auth/logout-all", &tokens[0].1).send().await.unwrap();
    assert_eq!(logout_all.status(), 204, "any signed-in user may end their own sessions");

    // Completeness: every documented operation is covered above or public.
    let doc: Value = app.get("/openapi.json").await.json().await.unwrap();
    let mut covered: Vec<String> = table.iter().map(|(m, t, ..)| format!("{m} {t}")).collect();
    covered.extend(
        [
            "POST /api/v1/actions/{id}/approve",
            "POST /api/v1/actions/{id}/reject",
            "POST /api/v1/team/invites",
            "POST /api/v1/auth/logout-all",
            "POST /api/v1/auth/password",
        ]
        .map(String::from),
    );
    covered.extend(PUBLIC.map(String::from));
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            let operation = format!("{} {path}", method.to_uppercase());
            assert!(covered.contains(&operation), "{operation} is in neither the role table nor the public list");
        }
    }
}
