//! `TestApp`: the real server, in-process on 127.0.0.1:0, with a fresh database per test —
//! a temporary SQLite file, or a new PostgreSQL database cloned from a migrated template when
//! `CALY_TEST_DATABASE_URL` is set.
#![allow(dead_code)] // each test binary uses a different part of this module

pub mod carrier;
pub mod postgres;
pub mod providers;
pub mod s3;
pub mod scripts;
pub mod shopify;

use std::{net::SocketAddr, time::Duration};

use axum::Router;
use caly::{config::Config, server::RunningServer, state::AppState};
use secrecy::SecretString;

pub const HEALTH_TOKEN: &str = "test-health-token-0123456789";

/// An HTTP client for tests that run no server in-process: reqwest's TLS takes the process's
/// crypto provider, which the server installs when it starts (ring), so it is installed here.
pub fn http_client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

impl Engine {
    /// Whether tests on this engine can run here; says why not when they cannot.
    pub fn available(self, test: &str) -> bool {
        match self {
            Engine::Sqlite => true,
            Engine::Postgres if postgres::admin_url().is_some() => true,
            Engine::Postgres => {
                skip(test, "CALY_TEST_DATABASE_URL");
                false
            }
        }
    }
}

/// Says that a test was skipped. Written to the real stderr, past the test harness's output
/// capture, so that the skip is visible in a passing run.
pub fn skip(test: &str, variable: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "SKIPPED {test}: {variable} is not set");
}

/// The Redis URL for tests, if any; says so when the test must skip.
pub fn redis_url(test: &str) -> Option<String> {
    let url = std::env::var("CALY_TEST_REDIS_URL").ok().filter(|u| !u.is_empty());
    if url.is_none() {
        skip(test, "CALY_TEST_REDIS_URL");
    }
    url
}

/// Runs each test body once per database engine: `<name>::sqlite` and `<name>::postgres`.
#[macro_export]
macro_rules! on_both_engines {
    ($(async fn $name:ident($engine:ident: Engine) $body:block)*) => {$(
        mod $name {
            use super::*;

            async fn run($engine: Engine) $body

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                run(Engine::Sqlite).await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if Engine::Postgres.available(concat!(module_path!(), "::postgres")) {
                    run(Engine::Postgres).await
                }
            }
        }
    )*};
}

pub struct TestApp {
    pub addr: SocketAddr,
    pub client: reqwest::Client,
    pub server: Option<RunningServer>,
    _data_dir: tempfile::TempDir,
    pub database: Option<postgres::TestDatabase>,
}

/// A tenant's owner, signed in.
#[derive(Clone)]
pub struct Owner {
    pub token: String,
    pub tenant_id: String,
}

pub struct Builder {
    engine: Engine,
    config: Config,
    routes: Router<AppState>,
    data_dir: tempfile::TempDir,
}

impl TestApp {
    pub async fn spawn(engine: Engine) -> Self {
        Self::builder(engine).spawn().await
    }

    pub fn builder(engine: Engine) -> Builder {
        let data_dir = tempfile::tempdir().expect("temp dir");
        let mut config = Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            data_dir: data_dir.path().to_owned(),
            health_token: Some(SecretString::from(HEALTH_TOKEN)),
            demo: false,
            // Tests sign in many times from one IP; the rate-limit tests switch this back on.
            rate_limits: caly::config::Switch::Off,
            ..Config::default()
        };
        config.http.shutdown_timeout = Duration::from_secs(5);
        // Calls carry the echo engine unless a test chooses the cascade (tests/speech.rs):
        // the transport tests hear exactly what they sent.
        config.speech.engine = caly::config::SpeechEngine::Echo;
        Builder { engine, config, routes: Router::new(), data_dir }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.expect("request sent")
    }

    pub async fn get_authorized(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).bearer_auth(HEALTH_TOKEN).send().await.expect("request sent")
    }

    pub async fn post_json(&self, path: &str, body: &serde_json::Value) -> reqwest::Response {
        self.client.post(self.url(path)).json(body).send().await.expect("request sent")
    }

    /// Registers a store and signs its owner in; the owner's access token.
    pub async fn sign_up_owner(&self) -> String {
        self.sign_up("asha@example.in").await.token
    }

    /// Registers a store (time zone Asia/Kolkata) whose owner has `email`, and signs in.
    pub async fn sign_up(&self, email: &str) -> Owner {
        let registration = serde_json::json!({
            "email": email, "password": "correct horse battery", "name": "Asha Rao",
            "store_name": "Kurta Ghar", "timezone": "Asia/Kolkata", "language": "en"
        });
        let created = self.post_json("/api/v1/auth/register", &registration).await;
        assert_eq!(created.status(), 201);
        let account: serde_json::Value = created.json().await.unwrap();
        let login = serde_json::json!({"email": email, "password": "correct horse battery"});
        let tokens: serde_json::Value = self.post_json("/api/v1/auth/login", &login).await.json().await.unwrap();
        Owner {
            token: tokens["access_token"].as_str().expect("an access token").to_owned(),
            tenant_id: account["tenant"]["id"].as_str().expect("a tenant id").to_owned(),
        }
    }

    /// A request to `path` with `token` as bearer.
    pub fn request(&self, method: reqwest::Method, path: &str, token: &str) -> reqwest::RequestBuilder {
        self.client.request(method, self.url(path)).bearer_auth(token)
    }

    /// `GET path` as `token`, read as JSON.
    pub async fn get_json(&self, path: &str, token: &str) -> serde_json::Value {
        let response = self.request(reqwest::Method::GET, path, token).send().await.expect("request sent");
        response.json().await.expect("a JSON answer")
    }

    /// The token in the newest mail to `email` whose link contains `path` (e.g. `/reset-password`).
    pub async fn mailed_token(&self, email: &str, path: &str) -> String {
        let mail = self.store().mail_to(email).await.unwrap();
        let body = &mail.iter().rev().find(|m| m.body.contains(path)).expect("a mail with that link").body;
        let after = body.split_once("?token=").expect("a link with a token").1;
        after.split_whitespace().next().unwrap().to_owned()
    }

    /// Invites `email` into `owner`'s tenant with `role`, accepts the invitation and signs in:
    /// the new member's access token.
    pub async fn add_member(&self, owner: &Owner, email: &str, role: &str) -> String {
        let invite = serde_json::json!({"email": email, "name": "Team Member", "role": role});
        let invited = self
            .request(reqwest::Method::POST, "/api/v1/team/invites", &owner.token)
            .json(&invite)
            .send()
            .await
            .unwrap();
        assert_eq!(invited.status(), 201, "invite {role}");
        let token = self.mailed_token(email, "/accept-invite").await;
        let accept = serde_json::json!({"token": token, "password": "another long passphrase"});
        assert_eq!(self.post_json("/api/v1/auth/accept-invite", &accept).await.status(), 204);
        let login = serde_json::json!({"email": email, "password": "another long passphrase"});
        let tokens: serde_json::Value = self.post_json("/api/v1/auth/login", &login).await.json().await.unwrap();
        tokens["access_token"].as_str().expect("an access token").to_owned()
    }

    pub fn store(&self) -> &caly_store::Store {
        &self.server().state.store
    }

    pub fn server(&self) -> &RunningServer {
        self.server.as_ref().expect("server running")
    }
}

impl Builder {
    pub fn config(mut self, change: impl FnOnce(&mut Config)) -> Self {
        change(&mut self.config);
        self
    }

    /// Extra routes (test fixtures) mounted behind the same guard stack as the real ones.
    pub fn routes(mut self, routes: Router<AppState>) -> Self {
        self.routes = routes;
        self
    }

    /// Starts the server and waits until migrations are applied.
    pub async fn spawn(self) -> TestApp {
        let app = self.start().await;
        for _ in 0..500 {
            if app.get("/startupz").await.status() == 200 {
                return app;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("the server did not finish starting");
    }

    /// Starts the server without waiting for its migrations.
    pub async fn start(mut self) -> TestApp {
        let database = match self.engine {
            Engine::Sqlite => None,
            Engine::Postgres => {
                let database = postgres::TestDatabase::create().await;
                self.config.database.url = Some(SecretString::from(database.url.clone()));
                Some(database)
            }
        };
        let server = RunningServer::start(self.config, self.routes).await.expect("server starts");
        TestApp {
            addr: server.addr,
            client: reqwest::Client::builder().timeout(Duration::from_secs(30)).build().unwrap(),
            server: Some(server),
            _data_dir: self.data_dir,
            database,
        }
    }
}

/// The `caly` binary, run in `dir` with none of the caller's `CALY_*` variables and its data
/// directory at `dir/data`.
pub fn caly_command(dir: &std::path::Path) -> std::process::Command {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_caly"));
    for (key, _) in std::env::vars().filter(|(k, _)| k.starts_with("CALY_")) {
        command.env_remove(key);
    }
    command.current_dir(dir).env("CALY_DATA_DIR", dir.join("data"));
    command
}

/// Reads a problem+json response, asserting the parts every error shares.
pub async fn problem(response: reqwest::Response, status: u16, code: &str) -> serde_json::Value {
    assert_eq!(response.status().as_u16(), status, "status");
    let content_type = response.headers()["content-type"].to_str().unwrap().to_owned();
    assert_eq!(content_type, "application/problem+json");
    let request_id = response.headers()["x-request-id"].to_str().unwrap().to_owned();
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["status"], status, "{body}");
    assert_eq!(body["code"], code, "{body}");
    assert_eq!(body["type"], format!("urn:caly:problem:{code}"));
    assert_eq!(body["request_id"], request_id.as_str());
    assert!(body["title"].as_str().is_some_and(|t| !t.is_empty()));
    assert!(body["detail"].as_str().is_some_and(|d| !d.is_empty()));
    assert!(body["instance"].as_str().is_some_and(|i| i.starts_with('/')));
    body
}
