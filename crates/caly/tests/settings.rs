//! `/api/v1/settings` and `/api/v1/onboarding` on both engines: versions, validation,
//! sealed write-only credentials, phone numbers unique across stores.

mod support;

use reqwest::Method;
use serde_json::{Value, json};
use support::{Engine, TestApp, problem};

async fn settings(app: &TestApp, token: &str) -> Value {
    app.request(Method::GET, "/api/v1/settings", token).send().await.unwrap().json().await.unwrap()
}

async fn onboarding(app: &TestApp, token: &str) -> Value {
    app.request(Method::GET, "/api/v1/onboarding", token).send().await.unwrap().json().await.unwrap()
}

async fn put(app: &TestApp, token: &str, body: Value) -> reqwest::Response {
    app.request(Method::PUT, "/api/v1/settings", token).json(&body).send().await.unwrap()
}

on_both_engines! {
    async fn settings_are_saved_in_versions_with_sealed_credentials(engine: Engine) {
        let app = TestApp::spawn(engine).await;
        let owner = app.sign_up("asha@example.in").await;
        let first = settings(&app, &owner.token).await;
        assert_eq!(first["version"], 0);
        assert_eq!(first["settings"]["policies"]["refund_auto_approve_limit_inr"], "500.00");
        assert_eq!(first["credentials"], json!({}));

        let mut chosen = first["settings"].clone();
        chosen["agent"]["name"] = json!("Priya");
        chosen["phone_numbers"] = json!(["080 4567 8901"]);
        chosen["policies"]["refund_auto_approve_limit_inr"] = json!("1500");
        let body = json!({"version": 0, "settings": chosen, "credentials": {
            "twilio_auth_token": "tw-0123456789abcdef5678", "openai_api_key": "short"}});
        let saved = put(&app, &owner.token, body).await;
        assert_eq!(saved.status(), 200);
        let saved: Value = saved.json().await.unwrap();
        assert_eq!(saved["version"], 1);
        assert_eq!(saved["settings"]["agent"]["name"], "Priya");
        assert_eq!(saved["settings"]["phone_numbers"], json!(["+918045678901"]));
        assert_eq!(saved["credentials"], json!({"openai_api_key": "****", "twilio_auth_token": "****5678"}));
        assert!(!saved.to_string().contains("0123456789abcdef"), "write-only");

        // At rest the token is sealed for this tenant and name only.
        let store = app.store();
        let sealed = store.sealed_secret(&owner.tenant_id, "twilio_auth_token").await.unwrap().unwrap();
        assert!(!sealed.contains("0123456789abcdef"));
        let secrets = &app.server().state.secrets;
        assert_eq!(secrets.open(&owner.tenant_id, "twilio_auth_token", &sealed).as_deref(), Some("tw-0123456789abcdef5678"));
        assert_eq!(secrets.open("another-tenant", "twilio_auth_token", &sealed), None);
        assert_eq!(store.tenant_by_number("+918045678901").await.unwrap().as_deref(), Some(owner.tenant_id.as_str()));

        // A stale version is refused; credentials left out stay, `null` deletes.
        let stale = put(&app, &owner.token, json!({"version": 0, "settings": chosen})).await;
        problem(stale, 409, "conflict").await;
        let next: Value = put(&app, &owner.token, json!({"version": 1, "settings": chosen, "credentials": {"openai_api_key": null}}))
            .await.json().await.unwrap();
        assert_eq!(next["version"], 2);
        assert_eq!(next["credentials"], json!({"twilio_auth_token": "****5678"}));

        let audit = store.audit_events(&owner.tenant_id).await.unwrap();
        let details: Vec<Value> = audit.iter().filter(|e| e.event == "settings.updated").map(|e| serde_json::from_str(&e.details).unwrap()).collect();
        assert_eq!(details.len(), 2);
        assert_eq!(details[0]["changed"], json!(["agent", "policies", "phone_numbers", "credentials/openai_api_key", "credentials/twilio_auth_token"]));
        assert_eq!(details[1]["changed"], json!(["credentials/openai_api_key"]));
        assert!(!audit.iter().any(|e| e.details.contains("0123456789abcdef")), "never a secret in the audit log");
    }

    async fn every_bad_field_is_listed_and_numbers_belong_to_one_store(engine: Engine) {
        let app = TestApp::spawn(engine).await;
        let asha = app.sign_up("asha@example.in").await;
        let ravi = app.sign_up("ravi@example.in").await;
        let mut bad = settings(&app, &asha.token).await["settings"].clone();
        bad["agent"]["name"] = json!("");
        bad["languages"] = json!(["en", "fr"]);
        bad["phone_numbers"] = json!(["12345"]);
        bad["policies"]["refund_auto_approve_limit_inr"] = json!("12.345");
        bad["business_hours"]["weekly"] = json!({"mon": [{"from": "18:00", "to": "09:00"}]});
        let body = json!({"version": 0, "settings": bad, "credentials": {"aws_secret": "x", "twilio_auth_token": ""}});
        let refused = problem(put(&app, &asha.token, body).await, 422, "validation").await;
        let fields: Vec<&str> = refused["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
        assert_eq!(fields, [
            "settings/agent/name", "settings/languages/1", "settings/business_hours/weekly/mon/0",
            "settings/policies/refund_auto_approve_limit_inr", "settings/phone_numbers/0",
            "credentials/aws_secret", "credentials/twilio_auth_token",
        ]);
        for version in [-1, i64::MAX] {
            let body = problem(put(&app, &asha.token, json!({"version": version, "settings": {}})).await, 422, "validation").await;
            assert_eq!(body["errors"][0]["field"], "version");
        }
        let unknown = put(&app, &asha.token, json!({"version": 0, "settings": {"agent": {"nickname": "x"}}})).await;
        problem(unknown, 422, "validation").await;

        let number = json!({"version": 0, "settings": {"phone_numbers": ["+918045678901"]}});
        assert_eq!(put(&app, &asha.token, number.clone()).await.status(), 200);
        let taken = problem(put(&app, &ravi.token, number).await, 409, "conflict").await;
        assert_eq!(taken["detail"], "+918045678901 is already connected to another store.");
        assert_eq!(settings(&app, &ravi.token).await["version"], 0, "nothing of the refused save was kept");
    }

    async fn onboarding_lists_what_is_missing(engine: Engine) {
        let app = TestApp::spawn(engine).await;
        let owner = app.sign_up("asha@example.in").await;
        let before = onboarding(&app, &owner.token).await;
        assert_eq!(before["complete"], false);
        let done: Vec<bool> = before["steps"].as_array().unwrap().iter().map(|s| s["done"].as_bool().unwrap()).collect();
        assert_eq!(done, [false; 5]);
        let token = app.mailed_token("asha@example.in", "/verify-email").await;
        assert_eq!(app.post_json("/api/v1/auth/verify-email", &json!({"token": token})).await.status(), 204);
        let body = json!({"version": 0, "settings": {"phone_numbers": ["+918045678901"]},
            "credentials": {"exotel_api_token": "ex-token-000011112222", "shopify_access_token": "shpat_0000111122223333"}});
        assert_eq!(put(&app, &owner.token, body).await.status(), 200);
        let after = onboarding(&app, &owner.token).await;
        assert_eq!(after["complete"], true, "{after}");
    }
}
