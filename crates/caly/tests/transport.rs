//! HTTPS in-process, HSTS, enforcing HTTPS (directly and behind a trusted proxy) and the CORS
//! allow-list.

mod support;

use std::path::PathBuf;

use support::{Engine, TestApp};

/// A self-signed certificate for `localhost`: (certificate PEM, certificate file, key file).
fn certificate(dir: &std::path::Path) -> (String, PathBuf, PathBuf) {
    let rcgen::CertifiedKey { cert, signing_key } =
        rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    let (cert_path, key_path) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert_path, cert.pem()).unwrap();
    std::fs::write(&key_path, signing_key.serialize_pem()).unwrap();
    (cert.pem(), cert_path, key_path)
}

/// One HTTP/1.1 request over TLS to `localhost`, trusting only `cert_pem`; the raw response.
async fn https_get(port: u16, path: &str, cert_pem: &str) -> String {
    use rustls_pki_types::{CertificateDer, ServerName, pem::PemObject};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut roots = rustls::RootCertStore::empty();
    roots.add(CertificateDer::from_pem_slice(cert_pem.as_bytes()).unwrap()).unwrap();
    let config =
        rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(std::sync::Arc::new(config));
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let mut tls = connector.connect(ServerName::try_from("localhost").unwrap(), tcp).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: localhost:{port}\r\nConnection: close\r\n\r\n");
    tls.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    let _ = tls.read_to_end(&mut response).await;
    String::from_utf8_lossy(&response).into_owned()
}

#[tokio::test]
async fn serves_https_in_process_with_hsts() {
    let dir = tempfile::tempdir().unwrap();
    let (pem, cert, key) = certificate(dir.path());
    let app = TestApp::builder(Engine::Sqlite)
        .config(move |config| {
            config.http.tls_cert = Some(cert);
            config.http.tls_key = Some(key);
        })
        .start()
        .await;
    let mut response = String::new();
    for _ in 0..200 {
        response = https_get(app.addr.port(), "/api/v1/me", &pem).await.to_ascii_lowercase();
        if !response.contains("503") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert!(response.starts_with("http/1.1 401"), "served over TLS, through the whole stack: {response}");
    assert!(response.contains("strict-transport-security: max-age=63072000; includesubdomains"), "{response}");
    assert!(reqwest::get(app.url("/livez")).await.is_err(), "plain HTTP is not spoken on the TLS port");
}

#[tokio::test]
async fn an_unreadable_certificate_stops_start_up_with_its_key() {
    let dir = tempfile::tempdir().unwrap();
    let output = support::caly_command(dir.path())
        .env("CALY_HTTP_TLS_CERT", dir.path().join("missing.pem"))
        .env("CALY_HTTP_TLS_KEY", dir.path().join("missing.key"))
        .env("CALY_LISTEN", "127.0.0.1:0")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("http.tls_cert"), "{stderr}");
}

#[tokio::test]
async fn enforcing_https_redirects_plain_requests_but_not_probes() {
    let app = TestApp::builder(Engine::Sqlite).config(|config| config.http.enforce_https = true).spawn().await;
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let response = client.post(app.url("/api/v1/auth/login?next=1")).send().await.unwrap();
    assert_eq!(response.status(), 308);
    assert_eq!(response.headers()["location"], format!("https://{}/api/v1/auth/login?next=1", app.addr));
    assert!(response.headers().get("strict-transport-security").is_none(), "HSTS only over HTTPS");
    assert_eq!(client.get(app.url("/livez")).send().await.unwrap().status(), 200);
    // A client cannot claim HTTPS: it is not a trusted proxy.
    let spoofed = client.get(app.url("/api/v1/me")).header("x-forwarded-proto", "https").send().await.unwrap();
    assert_eq!(spoofed.status(), 308);
}

#[tokio::test]
async fn behind_a_trusted_tls_proxy_its_scheme_is_believed() {
    let app = TestApp::builder(Engine::Sqlite)
        .config(|config| {
            config.http.enforce_https = true;
            config.http.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
        })
        .spawn()
        .await;
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let response = client.get(app.url("/api/v1/me")).header("x-forwarded-proto", "https").send().await.unwrap();
    assert_eq!(response.status(), 401, "not redirected");
    assert!(response.headers().contains_key("strict-transport-security"));
    let plain = client.get(app.url("/api/v1/me")).header("x-forwarded-proto", "http").send().await.unwrap();
    assert_eq!(plain.status(), 308);
}

#[tokio::test]
async fn cors_answers_only_the_listed_origins() {
    let app = TestApp::builder(Engine::Sqlite)
        .config(|config| config.http.cors_origins = vec!["https://dashboard.example.com".into()])
        .spawn()
        .await;
    let preflight = |origin: &'static str| {
        app.client
            .request(reqwest::Method::OPTIONS, app.url("/api/v1/me"))
            .header("origin", origin)
            .header("access-control-request-method", "GET")
            .header("access-control-request-headers", "authorization")
            .send()
    };
    let allowed = preflight("https://dashboard.example.com").await.unwrap();
    assert!(allowed.status().is_success(), "{}", allowed.status());
    assert_eq!(allowed.headers()["access-control-allow-origin"], "https://dashboard.example.com");
    assert_eq!(allowed.headers()["access-control-allow-credentials"], "true");
    let other = preflight("https://evil.example").await.unwrap();
    assert!(other.headers().get("access-control-allow-origin").is_none());
    let simple =
        app.client.get(app.url("/livez")).header("origin", "https://dashboard.example.com").send().await.unwrap();
    assert_eq!(simple.headers()["access-control-allow-origin"], "https://dashboard.example.com");
}

#[tokio::test]
async fn without_origins_there_are_no_cors_headers_and_a_wildcard_is_refused() {
    let app = TestApp::spawn(Engine::Sqlite).await;
    let response =
        app.client.get(app.url("/livez")).header("origin", "https://dashboard.example.com").send().await.unwrap();
    assert!(response.headers().get("access-control-allow-origin").is_none());
    let dir = tempfile::tempdir().unwrap();
    let output =
        support::caly_command(dir.path()).arg("config").env("CALY_HTTP_CORS_ORIGINS", r#"["*"]"#).output().unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("http.cors_origins"));
}
