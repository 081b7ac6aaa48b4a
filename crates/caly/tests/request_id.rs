//! `X-Request-Id`: the caller's when well formed, else a fresh UUIDv7; on every response.

mod support;

use support::{Engine, TestApp, problem};

#[tokio::test]
async fn a_well_formed_id_is_echoed() {
    let app = TestApp::spawn(Engine::Sqlite).await;
    let id = "req-42_abc.DEF";
    let response = app.client.get(app.url("/livez")).header("x-request-id", id).send().await.unwrap();
    assert_eq!(response.headers()["x-request-id"], id);
    let long = "a".repeat(128);
    let response = app.client.get(app.url("/livez")).header("x-request-id", &long).send().await.unwrap();
    assert_eq!(response.headers()["x-request-id"], long.as_str());
}

#[tokio::test]
async fn a_bad_or_missing_id_is_replaced_with_a_uuid_v7() {
    let app = TestApp::spawn(Engine::Sqlite).await;
    for bad in [None, Some("a".repeat(129)), Some("has space".into()), Some("semi;colon".into()), Some(String::new())] {
        let mut request = app.client.get(app.url("/livez"));
        if let Some(bad) = &bad {
            request = request.header("x-request-id", bad);
        }
        let response = request.send().await.unwrap();
        let id = response.headers()["x-request-id"].to_str().unwrap();
        let uuid = uuid::Uuid::parse_str(id).unwrap_or_else(|_| panic!("{bad:?} gave {id}"));
        assert_eq!(uuid.get_version_num(), 7);
    }
}

#[tokio::test]
async fn error_bodies_carry_the_same_id() {
    let app = TestApp::spawn(Engine::Sqlite).await;
    let response = app.client.get(app.url("/missing")).header("x-request-id", "trace-me").send().await.unwrap();
    let body = problem(response, 404, "not_found").await;
    assert_eq!(body["request_id"], "trace-me");
}
