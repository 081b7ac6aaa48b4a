//! Rate limits per client IP, with the IETF headers, and the switch that turns them off.

mod support;

use caly::config::{FailMode, PolicyConfig, Switch};
use serde_json::json;
use support::{Engine, TestApp, problem};

async fn limited_app() -> TestApp {
    TestApp::builder(Engine::Sqlite).config(|c| c.rate_limits = Switch::On).spawn().await
}

fn login_body() -> serde_json::Value {
    json!({"email": "nobody@example.in", "password": "wrong horse battery"})
}

#[tokio::test]
async fn sign_ins_are_limited_to_six_per_fifteen_minutes_per_ip() {
    let app = limited_app().await;
    for remaining in (0..6).rev() {
        let response = app.post_json("/api/v1/auth/login", &login_body()).await;
        assert_eq!(response.status(), 401);
        assert_eq!(response.headers()["ratelimit-policy"], "\"login\";q=6;w=900");
        let state = response.headers()["ratelimit"].to_str().unwrap().to_owned();
        assert!(state.starts_with(&format!("\"login\";r={remaining};t=")), "{state}");
    }
    let limited = app.post_json("/api/v1/auth/login", &login_body()).await;
    let retry_after: u64 = limited.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((100..=151).contains(&retry_after), "{retry_after}");
    assert!(limited.headers()["ratelimit"].to_str().unwrap().starts_with("\"login\";r=0;"));
    problem(limited, 429, "rate_limited").await;
    problem(app.post_json("/api/v1/auth/login", &login_body()).await, 429, "rate_limited").await;
    // Refusals are audited, one row per client and policy a minute.
    let rows = app.server().state.store.audit_events(caly_store::SYSTEM_CHAIN).await.unwrap();
    let refusals: Vec<_> = rows.iter().filter(|row| row.event == "rate_limit.exceeded").collect();
    assert_eq!(refusals.len(), 1, "sampled");
    assert_eq!((refusals[0].target.as_deref(), refusals[0].ip.as_deref()), (Some("login"), Some("127.0.0.1")));

    // Other policies keep their own allowance.
    let public = app.get("/api/v1/audit").await;
    assert_eq!(public.headers()["ratelimit-policy"], "\"public\";q=120;w=60");
}

#[tokio::test]
async fn sign_ins_are_limited_per_account_too_from_any_ip() {
    let app = TestApp::builder(Engine::Sqlite)
        .config(|c| {
            c.rate_limits = Switch::On;
            c.http.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
        })
        .spawn()
        .await;
    let attempt = |n: u32| {
        app.client
            .post(app.url("/api/v1/auth/login"))
            .header("x-forwarded-for", format!("198.51.100.{n}"))
            .json(&login_body())
            .send()
    };
    for n in 0..6 {
        assert_eq!(attempt(n).await.unwrap().status(), 401, "attempt {n} from its own address");
    }
    problem(attempt(6).await.unwrap(), 429, "rate_limited").await;
    // Another account from a fresh address is not affected.
    let other = json!({"email": "someone@example.in", "password": "wrong horse battery"});
    let response =
        app.client.post(app.url("/api/v1/auth/login")).header("x-forwarded-for", "198.51.100.99").json(&other).send();
    assert_eq!(response.await.unwrap().status(), 401);
}

#[tokio::test]
async fn password_resets_are_limited_per_email_whether_or_not_it_exists() {
    let app = limited_app().await;
    app.sign_up("asha@example.in").await;
    for email in ["asha@example.in", "nobody@example.in"] {
        let body = json!({"email": email});
        for n in 0..3 {
            assert_eq!(app.post_json("/api/v1/auth/password-reset/request", &body).await.status(), 202, "{email} {n}");
        }
        problem(app.post_json("/api/v1/auth/password-reset/request", &body).await, 429, "rate_limited").await;
    }
    assert_eq!(app.store().mail_to("asha@example.in").await.unwrap().len(), 1 + 3, "verification and three resets");
}

#[tokio::test]
async fn verification_mails_are_limited_per_account() {
    let app = limited_app().await;
    let owner = app.sign_up("asha@example.in").await;
    let resend = || app.request(reqwest::Method::POST, "/api/v1/auth/verify-email/resend", &owner.token).send();
    for n in 0..5 {
        assert_eq!(resend().await.unwrap().status(), 202, "resend {n}");
    }
    problem(resend().await.unwrap(), 429, "rate_limited").await;
}

#[tokio::test]
async fn registrations_are_limited_to_five_per_fifteen_minutes_per_ip() {
    let app = limited_app().await;
    for n in 0..5 {
        let body = json!({"email": format!("owner{n}@example.in"), "password": "correct horse battery", "name": "O",
            "store_name": "S", "timezone": "UTC", "language": "en"});
        assert_eq!(app.post_json("/api/v1/auth/register", &body).await.status(), 201);
    }
    let body = json!({"email": "sixth@example.in", "password": "correct horse battery", "name": "O",
        "store_name": "S", "timezone": "UTC", "language": "en"});
    problem(app.post_json("/api/v1/auth/register", &body).await, 429, "rate_limited").await;
}

#[tokio::test]
async fn probes_are_not_counted_and_signed_in_users_have_their_own_allowance() {
    let app = TestApp::builder(Engine::Sqlite)
        .config(|c| {
            c.rate_limits = Switch::On;
            c.policies.api = PolicyConfig { limit: 3, burst: 3, ..c.policies.api };
        })
        .spawn()
        .await;
    for _ in 0..150 {
        assert_eq!(app.get("/livez").await.status(), 200);
    }
    let token = &app.sign_up_owner().await;
    let me = || app.client.get(app.url("/api/v1/me")).bearer_auth(token).send();
    for remaining in (0..3).rev() {
        let response = me().await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["ratelimit-policy"], "\"api\";q=3;w=60");
        assert_eq!(
            response.headers()["ratelimit"].to_str().unwrap().split(';').nth(1),
            Some(format!("r={remaining}").as_str())
        );
    }
    problem(me().await.unwrap(), 429, "rate_limited").await;
    // The same client without a token still has its public allowance.
    let public = app.get("/api/v1/me").await;
    assert_eq!(public.status(), 401);
    assert!(public.headers()["ratelimit-policy"].to_str().unwrap().starts_with("\"public\""));
    let metrics = app.get_authorized("/metrics").await.text().await.unwrap();
    assert!(metrics.contains(r#"caly_rate_limited_total{policy="api"} 1"#), "{metrics}");
}

#[tokio::test]
async fn switching_rate_limits_off_disables_them() {
    let app = TestApp::spawn(Engine::Sqlite).await;
    for _ in 0..8 {
        let response = app.post_json("/api/v1/auth/login", &login_body()).await;
        assert_eq!(response.status(), 401);
        assert!(!response.headers().contains_key("ratelimit"));
    }
}

#[tokio::test]
async fn with_redis_the_limit_holds_across_two_instances() {
    let Some(url) = support::redis_url("rate_limits::with_redis_the_limit_holds_across_two_instances") else { return };
    let prefix = format!("caly-test-{}:", uuid::Uuid::now_v7().simple());
    let instance = || {
        let (url, prefix) = (url.clone(), prefix.clone());
        TestApp::builder(Engine::Sqlite)
            .config(move |c| {
                c.rate_limits = Switch::On;
                c.redis.url = Some(secrecy::SecretString::from(url));
                c.redis.key_prefix = prefix;
            })
            .spawn()
    };
    let (first, second) = (instance().await, instance().await);
    for n in 0..6 {
        let app = if n % 2 == 0 { &first } else { &second };
        let response = app.post_json("/api/v1/auth/login", &login_body()).await;
        assert_eq!(response.status(), 401, "attempt {n}");
        let state = response.headers()["ratelimit"].to_str().unwrap().to_owned();
        assert!(state.starts_with(&format!("\"login\";r={};", 5 - n)), "attempt {n}: {state}");
    }
    // Six were spent across both instances: the seventh is refused by either.
    problem(first.post_json("/api/v1/auth/login", &login_body()).await, 429, "rate_limited").await;
    problem(second.post_json("/api/v1/auth/login", &login_body()).await, 429, "rate_limited").await;
}

#[tokio::test]
async fn unreachable_redis_fails_closed_for_sign_in_and_open_elsewhere() {
    let app = TestApp::builder(Engine::Sqlite)
        .config(|c| {
            c.rate_limits = Switch::On;
            c.redis.url = Some(secrecy::SecretString::from("redis://127.0.0.1:1"));
        })
        .spawn()
        .await;
    problem(app.post_json("/api/v1/auth/login", &login_body()).await, 429, "rate_limited").await;
    let public = app.get("/api/v1/audit").await;
    assert_eq!(public.status(), 401, "public requests pass when the limiter is down");
    let metrics = app.get_authorized("/metrics").await.text().await.unwrap();
    assert!(metrics.contains(r#"caly_rate_limit_store_failures_total{policy="login"} 1"#), "{metrics}");
}

#[tokio::test]
async fn each_policy_chooses_how_it_fails() {
    let app = TestApp::builder(Engine::Sqlite)
        .config(|c| {
            c.rate_limits = Switch::On;
            c.redis.url = Some(secrecy::SecretString::from("redis://127.0.0.1:1"));
            c.policies.public.on_store_failure = FailMode::Closed;
        })
        .spawn()
        .await;
    problem(app.get("/api/v1/audit").await, 429, "rate_limited").await;
}
