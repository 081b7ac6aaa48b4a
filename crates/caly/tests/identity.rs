//! Registering a store, signing in, rotating and revoking sessions — on both engines.

mod support;

use serde_json::{Value, json};
use support::{Engine, TestApp, problem};

fn registration(email: &str) -> Value {
    json!({
        "email": email,
        "password": "correct horse battery",
        "name": "Asha Rao",
        "store_name": "Kurta Ghar",
        "timezone": "Asia/Kolkata",
        "language": "hinglish"
    })
}

async fn login(app: &TestApp, email: &str, password: &str) -> reqwest::Response {
    app.post_json("/api/v1/auth/login", &json!({"email": email, "password": password})).await
}

async fn tokens(app: &TestApp, email: &str) -> (String, String) {
    let response = login(app, email, "correct horse battery").await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 900);
    (body["access_token"].as_str().unwrap().to_owned(), body["refresh_token"].as_str().unwrap().to_owned())
}

async fn me(app: &TestApp, access: &str) -> reqwest::Response {
    app.client.get(app.url("/api/v1/me")).bearer_auth(access).send().await.unwrap()
}

async fn refresh(app: &TestApp, token: &str) -> reqwest::Response {
    app.post_json("/api/v1/auth/refresh", &json!({"refresh_token": token})).await
}

on_both_engines! {
    async fn register_creates_a_tenant_and_its_owner(engine: Engine) {
        let app = TestApp::spawn(engine).await;
        let response = app.post_json("/api/v1/auth/register", &registration("  Asha@Example.IN ")).await;
        assert_eq!(response.status(), 201);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["user"]["email"], "asha@example.in");
        assert_eq!(body["user"]["role"], "owner");
        assert_eq!(body["tenant"]["name"], "Kurta Ghar");
        assert_eq!(body["tenant"]["timezone"], "Asia/Kolkata");
        assert_eq!(body["tenant"]["language"], "hinglish");
        assert!(body.to_string().find("correct horse").is_none(), "the password is never echoed");

        let again = app.post_json("/api/v1/auth/register", &registration("asha@example.in")).await;
        problem(again, 409, "conflict").await;
    }

    async fn register_lists_every_invalid_field(engine: Engine) {
        let app = TestApp::spawn(engine).await;
        let body = json!({
            "email": "not-an-email", "password": "short", "name": "", "store_name": "x\u{7}",
            "timezone": "Asia/Mumbai", "language": "fr"
        });
        let body = problem(app.post_json("/api/v1/auth/register", &body).await, 422, "validation").await;
        let mut fields: Vec<(String, String)> = body["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| (e["field"].as_str().unwrap().to_owned(), e["code"].as_str().unwrap().to_owned()))
            .collect();
        fields.sort();
        let expected = [
            ("email", "invalid_email"), ("language", "invalid_language"), ("name", "required"),
            ("password", "too_short"), ("store_name", "invalid_characters"), ("timezone", "invalid_timezone"),
        ];
        assert_eq!(fields, expected.map(|(f, c)| (f.to_owned(), c.to_owned())));

        let mut with_name = registration("asha@example.in");
        with_name["password"] = json!("asha-is-my-password");
        let body = problem(app.post_json("/api/v1/auth/register", &with_name).await, 422, "validation").await;
        assert_eq!(body["errors"][0]["code"], "contains_email");
    }

    async fn login_issues_tokens_that_identify_the_caller(engine: Engine) {
        let app = TestApp::spawn(engine).await;
        app.post_json("/api/v1/auth/register", &registration("asha@example.in")).await;
        let (access, _) = tokens(&app, "ASHA@example.in").await;
        let response = me(&app, &access).await;
        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["user"]["email"], "asha@example.in");
        assert_eq!(body["tenant"]["name"], "Kurta Ghar");

        for (email, password) in [("asha@example.in", "wrong horse battery"), ("nobody@example.in", "correct horse battery")] {
            let refused = problem(login(&app, email, password).await, 401, "unauthenticated").await;
            assert_eq!(refused["detail"], "The email or password is not correct.");
        }
        problem(me(&app, "not.a.jwt").await, 401, "unauthenticated").await;
        problem(app.get("/api/v1/me").await, 401, "unauthenticated").await;
    }

    async fn refresh_rotates_and_reuse_revokes_the_session(engine: Engine) {
        let app = TestApp::spawn(engine).await;
        app.post_json("/api/v1/auth/register", &registration("asha@example.in")).await;
        let (_, first) = tokens(&app, "asha@example.in").await;

        let rotated = refresh(&app, &first).await;
        assert_eq!(rotated.status(), 200);
        let rotated: Value = rotated.json().await.unwrap();
        let second = rotated["refresh_token"].as_str().unwrap().to_owned();
        assert_ne!(second, first);
        assert_eq!(me(&app, rotated["access_token"].as_str().unwrap()).await.status(), 200);

        // The spent token comes back: the whole session is revoked, the live token with it.
        problem(refresh(&app, &first).await, 401, "unauthenticated").await;
        problem(refresh(&app, &second).await, 401, "unauthenticated").await;
        problem(refresh(&app, "made-up").await, 401, "unauthenticated").await;
    }

    async fn logout_ends_one_session_and_logout_all_every_session(engine: Engine) {
        let app = TestApp::spawn(engine).await;
        app.post_json("/api/v1/auth/register", &registration("asha@example.in")).await;
        let (_, phone) = tokens(&app, "asha@example.in").await;
        let (laptop_access, laptop) = tokens(&app, "asha@example.in").await;

        let out = app.post_json("/api/v1/auth/logout", &json!({"refresh_token": phone})).await;
        assert_eq!(out.status(), 204);
        problem(refresh(&app, &phone).await, 401, "unauthenticated").await;
        let laptop_next: Value = refresh(&app, &laptop).await.json().await.unwrap();
        let laptop = laptop_next["refresh_token"].as_str().unwrap().to_owned();

        let (_, tablet) = tokens(&app, "asha@example.in").await;
        let all = app.client.post(app.url("/api/v1/auth/logout-all")).bearer_auth(&laptop_access).send().await.unwrap();
        assert_eq!(all.status(), 204);
        problem(refresh(&app, &laptop).await, 401, "unauthenticated").await;
        problem(refresh(&app, &tablet).await, 401, "unauthenticated").await;
    }

    async fn owners_may_read_operator_endpoints(engine: Engine) {
        let app = TestApp::spawn(engine).await;
        app.post_json("/api/v1/auth/register", &registration("asha@example.in")).await;
        let (access, _) = tokens(&app, "asha@example.in").await;
        let health = app.client.get(app.url("/health")).bearer_auth(&access).send().await.unwrap();
        assert_eq!(health.status(), 200);
    }
}

#[tokio::test]
async fn expired_access_tokens_are_refused() {
    let app = TestApp::builder(Engine::Sqlite)
        .config(|c| c.auth.access_token_ttl = std::time::Duration::from_secs(1))
        .spawn()
        .await;
    app.post_json("/api/v1/auth/register", &registration("asha@example.in")).await;
    let body: Value = login(&app, "asha@example.in", "correct horse battery").await.json().await.unwrap();
    let access = body["access_token"].as_str().unwrap();
    assert_eq!(me(&app, access).await.status(), 200);
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    problem(me(&app, access).await, 401, "unauthenticated").await;
}

on_both_engines! {
    async fn ten_failed_sign_ins_lock_the_account(engine: Engine) {
        let app = TestApp::spawn(engine).await;
        app.post_json("/api/v1/auth/register", &registration("asha@example.in")).await;
        app.post_json("/api/v1/auth/register", &registration("ravi@example.in")).await;
        for _ in 0..10 {
            problem(login(&app, "asha@example.in", "wrong horse battery").await, 401, "unauthenticated").await;
        }
        // Now even the right password is refused, and the answer says when to come back.
        let locked = login(&app, "Asha@Example.in", "correct horse battery").await;
        let retry_after: u64 = locked.headers()["retry-after"].to_str().unwrap().parse().unwrap();
        assert!((1..=900).contains(&retry_after), "{retry_after}");
        problem(locked, 429, "rate_limited").await;
        // Another account is untouched, and unknown emails lock the same way.
        assert_eq!(login(&app, "ravi@example.in", "correct horse battery").await.status(), 200);
        for _ in 0..10 {
            login(&app, "nobody@example.in", "whatever whatever").await;
        }
        problem(login(&app, "nobody@example.in", "whatever whatever").await, 429, "rate_limited").await;
    }

    async fn a_success_clears_earlier_failures(engine: Engine) {
        let app = TestApp::spawn(engine).await;
        app.post_json("/api/v1/auth/register", &registration("asha@example.in")).await;
        for _ in 0..9 {
            login(&app, "asha@example.in", "wrong horse battery").await;
        }
        assert_eq!(login(&app, "asha@example.in", "correct horse battery").await.status(), 200);
        for _ in 0..9 {
            login(&app, "asha@example.in", "wrong horse battery").await;
        }
        assert_eq!(login(&app, "asha@example.in", "correct horse battery").await.status(), 200);
    }
}
