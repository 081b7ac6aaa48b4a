//! Every error kind leaves through the real server as RFC 9457 problem+json.

mod support;

use std::time::Duration;

use axum::{
    Router,
    extract::Path,
    routing::{get, post},
};
use caly::{
    http::{error::ApiError, extract::ValidJson},
    state::AppState,
};
use serde::{Deserialize, Serialize};
use support::{Engine, TestApp, problem};

#[derive(Debug, Deserialize, Serialize, garde::Validate)]
#[serde(deny_unknown_fields)]
struct Order {
    #[garde(range(min = 1))]
    number: u32,
    #[garde(email)]
    email: String,
    #[garde(length(min = 1, max = 40))]
    name: String,
}

/// Fixture routes mounted behind the real guard stack.
fn fixtures() -> Router<AppState> {
    Router::new()
        .route("/test/orders", post(|ValidJson(order): ValidJson<Order>| async move { axum::Json(order) }))
        .route("/test/panic", get(|| async { panic!("boom: internal secret") as &str }))
        .route(
            "/test/slow/{millis}",
            get(|Path(millis): Path<u64>| async move {
                tokio::time::sleep(Duration::from_millis(millis)).await;
                "done"
            }),
        )
        .route(
            "/test/error/{kind}",
            get(|Path(kind): Path<String>| async move {
                Err::<(), _>(match kind.as_str() {
                    "forbidden" => ApiError::Forbidden("Supervisors only."),
                    "conflict" => ApiError::Conflict("That email is already registered.".into()),
                    "rate_limited" => ApiError::RateLimited { retry_after_secs: 42 },
                    "upstream" => ApiError::Upstream("The store did not answer."),
                    _ => ApiError::NotFound("Error kind"),
                })
            }),
        )
}

async fn app() -> TestApp {
    TestApp::builder(Engine::Sqlite).routes(fixtures()).spawn().await
}

#[tokio::test]
async fn validation_lists_every_bad_field() {
    let app = app().await;
    let response = app.post_json("/test/orders", &serde_json::json!({"number": 0, "email": "nope", "name": ""})).await;
    let body = problem(response, 422, "validation").await;
    let mut fields: Vec<&str> =
        body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    fields.sort();
    assert_eq!(fields, ["email", "name", "number"]);
    for error in body["errors"].as_array().unwrap() {
        assert!(error["code"].is_string() && error["message"].is_string(), "{error}");
    }

    let ok = app.post_json("/test/orders", &serde_json::json!({"number": 7, "email": "a@b.in", "name": "Asha"})).await;
    assert_eq!(ok.status(), 200);
}

#[tokio::test]
async fn json_of_the_wrong_shape_names_the_field() {
    let app = app().await;
    let cases = [
        (serde_json::json!({"number": "seven", "email": "a@b.in", "name": "A"}), "number", "invalid_type"),
        (serde_json::json!({"email": "a@b.in", "name": "A"}), "number", "required"),
        (serde_json::json!({"number": 1, "email": "a@b.in", "name": "A", "admin": true}), "admin", "unknown_field"),
    ];
    for (body, field, code) in cases {
        let body = problem(app.post_json("/test/orders", &body).await, 422, "validation").await;
        assert_eq!(body["errors"][0]["field"], field, "{body}");
        assert_eq!(body["errors"][0]["code"], code, "{body}");
    }
}

#[tokio::test]
async fn broken_json_and_wrong_content_type_are_malformed() {
    let app = app().await;
    let broken = app
        .client
        .post(app.url("/test/orders"))
        .header("content-type", "application/json")
        .body("{\"number\":")
        .send()
        .await
        .unwrap();
    problem(broken, 400, "malformed_request").await;
    let text =
        app.client.post(app.url("/test/orders")).header("content-type", "text/plain").body("{}").send().await.unwrap();
    let body = problem(text, 400, "malformed_request").await;
    assert!(body["detail"].as_str().unwrap().contains("application/json"));
    let bad_path = app.get("/test/slow/soon").await;
    problem(bad_path, 400, "malformed_request").await;
}

#[tokio::test]
async fn bodies_over_the_limit_are_refused() {
    let app =
        TestApp::builder(Engine::Sqlite).routes(fixtures()).config(|c| c.http.body_limit_bytes = 1024).spawn().await;
    let declared = app
        .client
        .post(app.url("/test/orders"))
        .header("content-type", "application/json")
        .body(vec![b' '; 4096])
        .send()
        .await
        .unwrap();
    let body = problem(declared, 413, "payload_too_large").await;
    assert!(body["detail"].as_str().unwrap().contains("1024"), "{body}");

    // No Content-Length: the limit cuts the stream as it arrives.
    let chunks = futures::stream::iter((0..8).map(|_| Ok::<_, std::io::Error>(vec![b' '; 512])));
    let streamed = app
        .client
        .post(app.url("/test/orders"))
        .header("content-type", "application/json")
        .body(reqwest::Body::wrap_stream(chunks))
        .send()
        .await
        .unwrap();
    problem(streamed, 413, "payload_too_large").await;
}

#[tokio::test]
async fn operator_endpoints_need_the_token() {
    let app = app().await;
    for path in ["/health", "/metrics"] {
        let missing = app.get(path).await;
        assert_eq!(missing.headers()["www-authenticate"], r#"Bearer realm="caly""#);
        problem(missing, 401, "unauthenticated").await;
        let wrong = app.client.get(app.url(path)).bearer_auth("wrong-token-wrong-token").send().await.unwrap();
        assert!(wrong.headers().contains_key("www-authenticate"));
        problem(wrong, 401, "unauthenticated").await;
    }
}

#[tokio::test]
async fn handler_errors_keep_their_status_headers_and_code() {
    let app = app().await;
    problem(app.get("/test/error/forbidden").await, 403, "forbidden").await;
    problem(app.get("/test/error/conflict").await, 409, "conflict").await;
    let limited = app.get("/test/error/rate_limited").await;
    assert_eq!(limited.headers()["retry-after"], "42");
    problem(limited, 429, "rate_limited").await;
    problem(app.get("/test/error/upstream").await, 502, "upstream_failed").await;
}

#[tokio::test]
async fn unknown_routes_and_methods() {
    let app = app().await;
    let body = problem(app.get("/no/such/route").await, 404, "not_found").await;
    assert_eq!(body["instance"], "/no/such/route");
    let wrong_method = app.client.delete(app.url("/livez")).send().await.unwrap();
    assert!(wrong_method.headers().contains_key("allow"));
    problem(wrong_method, 405, "method_not_allowed").await;
}

#[tokio::test]
async fn panics_become_internal_errors_without_details() {
    let app = app().await;
    let body = problem(app.get("/test/panic").await, 500, "internal").await;
    assert!(!body.to_string().contains("secret"), "{body}");
    assert_eq!(app.get("/livez").await.status(), 200, "the server survives");
}

#[tokio::test]
async fn slow_requests_time_out() {
    let app = TestApp::builder(Engine::Sqlite)
        .routes(fixtures())
        .config(|c| c.http.request_timeout = Duration::from_millis(100))
        .spawn()
        .await;
    let response = app.get("/test/slow/5000").await;
    assert!(response.headers().contains_key("retry-after"));
    problem(response, 503, "timeout").await;
}

#[tokio::test]
async fn requests_over_the_concurrency_limit_are_shed() {
    let app =
        TestApp::builder(Engine::Sqlite).routes(fixtures()).config(|c| c.http.concurrency_limit = 1).spawn().await;
    let slow = tokio::spawn(app.client.get(app.url("/test/slow/1000")).send());
    tokio::time::sleep(Duration::from_millis(200)).await;
    let shed = app.get_authorized("/metrics").await;
    assert!(shed.headers().contains_key("retry-after"));
    problem(shed, 503, "overloaded").await;
    assert_eq!(app.get("/livez").await.status(), 200, "probes are outside the limit");
    assert_eq!(slow.await.unwrap().unwrap().status(), 200);
}

#[tokio::test]
async fn a_stopped_database_is_unavailable() {
    let app = app().await;
    app.server().state.store.close().await;
    let ready = app.get("/readyz").await;
    assert!(ready.headers().contains_key("retry-after"));
    let body = problem(ready, 503, "unavailable").await;
    assert!(body["detail"].as_str().unwrap().contains("database"));
    assert_eq!(app.get("/livez").await.status(), 200);
}
