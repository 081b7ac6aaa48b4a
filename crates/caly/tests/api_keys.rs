//! API keys: shown once, scoped, revocable, last use recorded, bound to their tenant; on both
//! engines.

mod support;

use caly_core::{
    action::{ActionKind, ActionStatus},
    call::Direction,
};
use caly_store::{NewAction, NewCall};
use reqwest::Method;
use serde_json::{Value, json};
use support::{Engine, TestApp, problem};

fn new_call() -> NewCall<'static> {
    NewCall {
        direction: Direction::Inbound,
        carrier: "twilio",
        carrier_call_id: None,
        caller_number: None,
        called_number: None,
        language: None,
        started_at: 1,
    }
}

on_both_engines! {
    async fn keys_act_within_their_scopes(engine: Engine) {
        let app = TestApp::spawn(engine).await;
        let owner = app.sign_up("asha@example.in").await;
        let call = app.store().insert_call(&owner.tenant_id, new_call()).await.unwrap().id;
        let refund = NewAction {
            call_id: None, kind: ActionKind::Refund, order_number: "#1", params: "{}", amount_paise: Some(100),
            status: ActionStatus::AwaitingApproval, idempotency_key: "k", requested_at: 1,
        };
        let action = app.store().insert_action(&owner.tenant_id, refund).await.unwrap().0.id;

        let body = json!({"name": "Order sync", "scopes": ["calls:read", "actions:write", "calls:read"], "expires_in_days": 30});
        let created = app.request(Method::POST, "/api/v1/api-keys", &owner.token).json(&body).send().await.unwrap();
        assert_eq!(created.status(), 201);
        let created: Value = created.json().await.unwrap();
        let key = created["key"].as_str().unwrap().to_owned();
        assert!(key.starts_with("caly_") && key.len() == 69, "{key}");
        assert_eq!(created["prefix"], &key[..13]);
        assert_eq!(created["scopes"], json!(["calls:read", "actions:write"]));
        assert!(created["expires_at"].is_string());

        let listed: Value = app.request(Method::GET, "/api/v1/api-keys", &owner.token).send().await.unwrap().json().await.unwrap();
        assert!(!listed.to_string().contains(&key), "a key is never shown again");
        assert!(listed[0]["last_used_at"].is_null());

        let with_key = |method: Method, path: &str| app.request(method, path, &key);
        assert_eq!(with_key(Method::GET, "/api/v1/calls").send().await.unwrap().status(), 200);
        assert_eq!(with_key(Method::GET, &format!("/api/v1/calls/{call}")).send().await.unwrap().status(), 200);
        let patch = with_key(Method::PATCH, &format!("/api/v1/calls/{call}")).json(&json!({"notes": "x"})).send().await.unwrap();
        problem(patch, 403, "forbidden").await;
        problem(with_key(Method::GET, "/api/v1/analytics/summary").send().await.unwrap(), 403, "forbidden").await;
        problem(with_key(Method::GET, "/api/v1/team").send().await.unwrap(), 403, "forbidden").await;
        problem(with_key(Method::GET, "/api/v1/me").send().await.unwrap(), 403, "forbidden").await;
        let more = with_key(Method::POST, "/api/v1/api-keys").json(&json!({"name": "n", "scopes": ["calls:read"]})).send().await.unwrap();
        problem(more, 403, "forbidden").await;

        let approved: Value = with_key(Method::POST, &format!("/api/v1/actions/{action}/approve")).send().await.unwrap().json().await.unwrap();
        let key_id = created["id"].as_str().unwrap();
        assert_eq!(approved["decided_by"], format!("api_key:{key_id}"));
        let audit = app.store().audit_events(&owner.tenant_id).await.unwrap();
        let approval = audit.iter().find(|e| e.event == "action.approved").unwrap();
        assert_eq!((approval.actor_type.as_ref(), approval.actor_id.as_deref()), ("api_key", Some(key_id)));

        let listed: Value = app.request(Method::GET, "/api/v1/api-keys", &owner.token).send().await.unwrap().json().await.unwrap();
        assert!(listed[0]["last_used_at"].is_string());

        let revoke = app.request(Method::DELETE, &format!("/api/v1/api-keys/{key_id}"), &owner.token).send().await.unwrap();
        assert_eq!(revoke.status(), 204);
        problem(with_key(Method::GET, "/api/v1/calls").send().await.unwrap(), 401, "unauthenticated").await;
        let again = app.request(Method::DELETE, &format!("/api/v1/api-keys/{key_id}"), &owner.token).send().await.unwrap();
        problem(again, 404, "not_found").await;
        let events: Vec<&str> = audit.iter().map(|e| e.event.as_ref()).collect();
        assert!(events.contains(&"api_key.created"), "{events:?}");
        problem(app.request(Method::GET, "/api/v1/calls", "caly_0000").send().await.unwrap(), 401, "unauthenticated").await;
    }

    async fn bad_key_requests_name_their_fields(engine: Engine) {
        let app = TestApp::spawn(engine).await;
        let owner = app.sign_up("asha@example.in").await;
        let body = json!({"name": " ", "scopes": ["calls:read", "calls:delete"], "expires_in_days": 0});
        let refused = app.request(Method::POST, "/api/v1/api-keys", &owner.token).json(&body).send().await.unwrap();
        let body = problem(refused, 422, "validation").await;
        let fields: Vec<&str> = body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
        assert_eq!(fields, ["name", "scopes/1", "expires_in_days"]);
    }

    async fn a_key_sees_only_its_tenant(engine: Engine) {
        let app = TestApp::spawn(engine).await;
        let asha = app.sign_up("asha@example.in").await;
        let ravi = app.sign_up("ravi@example.in").await;
        let theirs = app.store().insert_call(&ravi.tenant_id, new_call()).await.unwrap().id;
        let body = json!({"name": "Sync", "scopes": ["calls:read", "calls:write"]});
        let created: Value = app.request(Method::POST, "/api/v1/api-keys", &asha.token).json(&body).send().await.unwrap().json().await.unwrap();
        let key = created["key"].as_str().unwrap();
        let page: Value = app.request(Method::GET, "/api/v1/calls", key).send().await.unwrap().json().await.unwrap();
        assert!(page["items"].as_array().unwrap().is_empty());
        problem(app.request(Method::GET, &format!("/api/v1/calls/{theirs}"), key).send().await.unwrap(), 404, "not_found").await;
        let patch = app.request(Method::PATCH, &format!("/api/v1/calls/{theirs}"), key).json(&json!({"notes": "x"})).send().await.unwrap();
        problem(patch, 404, "not_found").await;
        let revoke = app.request(Method::DELETE, &format!("/api/v1/api-keys/{}", created["id"].as_str().unwrap()), &ravi.token).send().await.unwrap();
        problem(revoke, 404, "not_found").await;
    }
}
