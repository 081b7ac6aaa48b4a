//! Every response, success or error, carries the strict browser headers and no server banner.

mod support;

use support::{Engine, TestApp};

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let app = TestApp::spawn(Engine::Sqlite).await;
    let responses = [
        app.get("/livez").await,
        app.get("/no/such/route").await,
        app.get("/health").await,
        app.get_authorized("/metrics").await,
        app.post_json("/api/v1/auth/login", &serde_json::json!({"email": 1})).await,
    ];
    for response in responses {
        let headers = response.headers();
        let status = response.status();
        assert_eq!(headers["content-security-policy"], "default-src 'none'; frame-ancestors 'none'", "{status}");
        assert_eq!(headers["x-content-type-options"], "nosniff");
        assert_eq!(headers["x-frame-options"], "DENY");
        assert_eq!(headers["referrer-policy"], "no-referrer");
        assert_eq!(headers["permissions-policy"], "camera=(), geolocation=(), payment=(), microphone=()");
        assert_eq!(headers["cross-origin-opener-policy"], "same-origin");
        assert_eq!(headers["cross-origin-resource-policy"], "same-origin");
        assert_eq!(headers["cache-control"], "no-store");
        assert!(!headers.contains_key("server") && !headers.contains_key("x-powered-by"));
        assert!(!headers.contains_key("strict-transport-security"), "plain HTTP gets no HSTS");
    }
}
