//! Serves the same routes twice for `benches/http.sh`: once through Caly's full guard stack
//! (`caly::server`, JSON request logs, metrics, limits) and once as the bare router with no
//! middleware at all, so that the stack's cost is measured in one run on one machine.
//!
//! `/bench/authenticated` is an authenticated-shaped route: it checks the operator bearer token
//! with the real extractor and answers a small JSON body.

use std::net::SocketAddr;

use axum::{Json, Router, routing::get};
use caly::{config::Config, http::access::OperatorAccess, server::RunningServer, state::AppState};

/// The allocator `caly` itself runs with (see `main.rs`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

async fn authenticated(_: OperatorAccess) -> Json<serde_json::Value> {
    Json(serde_json::json!({"tenant_id": "01937f6e-0000-7000-8000-000000000000", "role": "owner"}))
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let data_dir = tempfile::tempdir()?;
    let config = Config {
        listen: "127.0.0.1:18081".parse()?,
        data_dir: data_dir.path().to_owned(),
        health_token: Some("bench-token-0123456789".into()),
        // The sign-in benchmark sends thousands of logins from one IP.
        rate_limits: caly::config::Switch::Off,
        ..Config::default()
    };
    let _log = caly::telemetry::init(&caly::config::LogConfig {
        format: caly::config::LogFormat::Json,
        // `BENCH_LOG_LEVEL=off` shows what the per-request log line costs.
        level: std::env::var("BENCH_LOG_LEVEL").unwrap_or_else(|_| "info".into()),
        ..Default::default()
    });
    let bench_route = || Router::<AppState>::new().route("/bench/authenticated", get(authenticated));

    let full = RunningServer::start(config, bench_route()).await?;
    let state = full.state.clone();
    let (probes, api, _telephony) = caly::http::routes();
    let bare = probes.merge(api).split_for_parts().0.merge(bench_route()).with_state(state);
    let bare_listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 18082))).await?;
    eprintln!("full stack on http://{}, bare router on http://127.0.0.1:18082", full.addr);
    tokio::spawn(async move { axum::serve(bare_listener, bare).await });
    full.wait().await
}
