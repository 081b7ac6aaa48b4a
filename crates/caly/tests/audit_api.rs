//! `GET /api/v1/audit`: a tenant's own events, paged and filtered, on both engines.

mod support;

use serde_json::{Value, json};
use support::{Engine, TestApp, problem};

async fn owner_token(app: &TestApp, email: &str) -> String {
    let registration = json!({
        "email": email, "password": "correct horse battery", "name": "Owner",
        "store_name": "Store", "timezone": "Asia/Kolkata", "language": "en"
    });
    assert_eq!(app.post_json("/api/v1/auth/register", &registration).await.status(), 201);
    let wrong = json!({"email": email, "password": "wrong horse battery"});
    assert_eq!(app.post_json("/api/v1/auth/login", &wrong).await.status(), 401);
    let right = json!({"email": email, "password": "correct horse battery"});
    let tokens: Value = app.post_json("/api/v1/auth/login", &right).await.json().await.unwrap();
    tokens["access_token"].as_str().unwrap().to_owned()
}

async fn audit(app: &TestApp, token: &str, query: &str) -> reqwest::Response {
    app.client.get(app.url(&format!("/api/v1/audit{query}"))).bearer_auth(token).send().await.unwrap()
}

on_both_engines! {
    async fn owners_page_through_their_own_events(engine: Engine) {
        let app = TestApp::spawn(engine).await;
        let asha = owner_token(&app, "asha@example.in").await;
        let ravi = owner_token(&app, "ravi@example.in").await;

        let page: Value = audit(&app, &asha, "").await.json().await.unwrap();
        let events: Vec<&str> = page["items"].as_array().unwrap().iter().map(|i| i["event"].as_str().unwrap()).collect();
        assert_eq!(events, ["tenant.registered", "auth.login.failed", "auth.login.succeeded"]);
        assert_eq!(page["items"][1]["details"]["email"], "asha@example.in");
        assert!(page["items"][0]["at"].as_str().unwrap().ends_with('Z'));
        assert!(page["next_cursor"].is_null());

        // Pages of one, following the cursor, give the same three events.
        let mut seen = Vec::new();
        let mut query = "?limit=1".to_owned();
        loop {
            let page: Value = audit(&app, &asha, &query).await.json().await.unwrap();
            seen.extend(page["items"].as_array().unwrap().iter().map(|i| i["event"].as_str().unwrap().to_owned()));
            match page["next_cursor"].as_str() {
                Some(cursor) => query = format!("?limit=1&cursor={cursor}"),
                None => break,
            }
        }
        assert_eq!(seen, events);

        let failures: Value = audit(&app, &asha, "?outcome=failure").await.json().await.unwrap();
        assert_eq!(failures["items"].as_array().unwrap().len(), 1);
        let future: Value = audit(&app, &asha, "?from=2100-01-01T00:00:00Z").await.json().await.unwrap();
        assert!(future["items"].as_array().unwrap().is_empty());

        // Another tenant sees only its own.
        let theirs: Value = audit(&app, &ravi, "").await.json().await.unwrap();
        assert!(theirs["items"].as_array().unwrap().iter().all(|i| i["details"]["email"] != "asha@example.in"));
    }

    async fn bad_parameters_are_all_named(engine: Engine) {
        let app = TestApp::spawn(engine).await;
        let token = owner_token(&app, "asha@example.in").await;
        let body = problem(audit(&app, &token, "?limit=0&cursor=x&from=yesterday&to=2020-01-01T00:00:00Z").await, 422, "validation").await;
        let mut fields: Vec<&str> = body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
        fields.sort();
        assert_eq!(fields, ["cursor", "from", "limit"]);
        problem(audit(&app, &token, "?limit=many").await, 400, "malformed_request").await;
        problem(audit(&app, &token, "?colour=blue").await, 400, "malformed_request").await;
        problem(app.get("/api/v1/audit").await, 401, "unauthenticated").await;
    }
}
