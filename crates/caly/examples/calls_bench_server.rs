//! Serves `GET /api/v1/calls` over a SQLite database of 100,000 calls for `benches/calls.sh`:
//! the real server (full guard stack, JSON logs to stdout, attack detector on; rate limits off,
//! since one client sends every request). Once seeded, writes a bearer token for the seeded
//! tenant to the file named by its first argument.

use caly::{auth::now_micros, config::Config, server::RunningServer};
use caly_core::{
    DisplayName, Email, Language, Role, Timezone,
    call::{CallStatus, Direction, Outcome},
};
use caly_store::{CallEnd, NewCall, NewTenant, NewUser};

const CALLS: i64 = 100_000;

/// The allocator `caly` itself runs with (see `main.rs`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let data_dir = tempfile::tempdir()?;
    let config = Config {
        listen: "127.0.0.1:18083".parse()?,
        data_dir: data_dir.path().to_owned(),
        rate_limits: caly::config::Switch::Off,
        demo: false,
        ..Config::default()
    };
    let _log = caly::telemetry::init(&caly::config::LogConfig {
        format: caly::config::LogFormat::Json,
        level: "info".into(),
        ..Default::default()
    });
    let server = RunningServer::start(config, Default::default()).await?;
    let state = server.state.clone();
    while state.lifecycle.phase() != caly::lifecycle::Phase::Ready {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let (tenant, owner) = state
        .store
        .create_tenant_with_owner(
            NewTenant {
                name: &DisplayName::parse("Bench Store")?,
                timezone: &Timezone::parse("Asia/Kolkata")?,
                language: Language::Hinglish,
            },
            NewUser {
                email: &Email::parse("bench@example.in")?,
                name: &DisplayName::parse("Bench")?,
                role: Role::Owner,
                password_hash: "unused",
            },
            now_micros(),
        )
        .await?;
    let started = std::time::Instant::now();
    let first = now_micros() - CALLS * 30_000_000;
    for i in 0..CALLS {
        let caller = format!("+9198{:08}", i % 5_000);
        let at = first + i * 30_000_000;
        let new = NewCall {
            direction: if i % 10 == 0 { Direction::Web } else { Direction::Inbound },
            carrier: "twilio",
            carrier_call_id: None,
            caller_number: Some(&caller),
            called_number: Some("+918000000001"),
            language: Some(["hi", "en", "hinglish"][i as usize % 3]),
            started_at: at,
        };
        let call = state.store.insert_call(&tenant.id, new).await?;
        let end = CallEnd {
            status: CallStatus::Completed,
            outcome: Some([Outcome::Resolved, Outcome::Transferred, Outcome::Abandoned][i as usize % 3]),
            end_reason: "caller_hung_up",
            ended_at: at + 90_000_000,
            summary: Some("Asked where the order is; told it ships tomorrow."),
        };
        state.store.finish_call(&tenant.id, &call.id, end).await?;
    }
    eprintln!("seeded {CALLS} calls in {:.1} s", started.elapsed().as_secs_f64());
    let token = state.tokens.issue(&owner.id, &tenant.id, Role::Owner, "bench", (now_micros() / 1_000_000) as u64);
    let path = std::env::args().nth(1).ok_or_else(|| anyhow::anyhow!("usage: calls_bench_server <token file>"))?;
    std::fs::write(path, token)?;
    server.wait().await
}
