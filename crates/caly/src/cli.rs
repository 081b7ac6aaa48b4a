//! The command line: `caly [serve]`, `caly migrate`, `caly config`, `caly scan`, `caly audit`,
//! `caly simulate`, `caly dialogue`.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};

use crate::{config::Config, scan, server};

#[derive(Debug, Parser)]
#[command(name = "caly", version, about = "Caly: an AI phone agent for online stores.")]
pub struct Cli {
    /// Configuration file; optional, environment variables (CALY_*) override it.
    #[arg(long, global = true, default_value = "caly.toml", value_name = "FILE")]
    config: PathBuf,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the server (the default).
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Print the effective configuration with secrets redacted.
    Config,
    /// Check the configuration and the binary's dependencies; exits 1 on a high finding.
    Scan {
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// The audit log.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Place simulated Twilio calls against a running server and report their timings.
    Simulate(Box<crate::simulate::SimulateArgs>),
    /// The dialogue engine, for evaluation and debugging.
    Dialogue {
        #[command(subcommand)]
        command: DialogueCommand,
    },
}

#[derive(Debug, Subcommand)]
enum DialogueCommand {
    /// Reads one utterance per line on stdin; prints one JSON object per line:
    /// {"intent", "confidence", "language", "entities"}.
    Classify,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum Format {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
enum AuditCommand {
    /// Walk every hash chain and name the first broken row of each; exits 1 if any is broken.
    Verify,
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let config = Config::load(&cli.config)?;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Config => {
            print!("{}", config.to_redacted_toml());
            Ok(())
        }
        Command::Migrate => {
            let _guard = crate::telemetry::init(&config.log);
            let version = server::migrate(&config).await?;
            tracing::info!(schema_version = version, "migrations applied");
            Ok(())
        }
        Command::Serve => serve(config).await,
        Command::Simulate(args) => crate::simulate::run(*args).await,
        Command::Dialogue { command: DialogueCommand::Classify } => {
            classify(std::io::stdin().lock(), std::io::stdout().lock())
        }
        Command::Scan { format } => scan(&config, format).await,
        Command::Audit { command: AuditCommand::Verify } => {
            let store = server::open_store(&config).await?;
            let verification = store.verify_audit().await?;
            // The check itself is an audited event, appended after the chains were read.
            let intact = verification.breaks.is_empty();
            let details = serde_json::json!({
                "rows": verification.rows,
                "chains": verification.chains,
                "breaks": verification.breaks.len(),
            });
            let outcome = if intact { "success" } else { "failure" };
            let row = caly_store::AuditEvent::system(
                crate::auth::now_micros(),
                "audit.verified",
                outcome,
                details.to_string(),
            );
            store.append_audit(&row).await?;
            store.close().await;
            println!("{} rows in {} chains checked", verification.rows, verification.chains);
            for broken in &verification.breaks {
                println!("BROKEN chain {} at seq {} (row {}): {}", broken.chain, broken.seq, broken.id, broken.reason);
            }
            if verification.breaks.is_empty() {
                println!("audit log intact");
                Ok(())
            } else {
                anyhow::bail!("{} audit chain(s) broken", verification.breaks.len())
            }
        }
    }
}

/// One JSON line out per line in, flushed as it goes so that it can sit in a pipe.
fn classify(input: impl std::io::BufRead, mut output: impl std::io::Write) -> anyhow::Result<()> {
    let rules = caly_core::dialogue::Rules::new();
    for line in input.lines() {
        serde_json::to_writer(&mut output, &rules.understand(&line.context("reading stdin")?))?;
        writeln!(output)?;
        output.flush()?;
    }
    Ok(())
}

async fn scan(config: &Config, format: Format) -> anyhow::Result<()> {
    let store = server::open_store(config).await.ok();
    let findings = scan::findings(config, store.as_ref()).await?;
    if let Some(store) = store {
        store.close().await;
    }
    match format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&serde_json::json!({ "findings": findings }))?),
        Format::Text => {
            for f in &findings {
                println!(
                    "{:<8} {:<28} {}
{:<37} → {}",
                    format!("{:?}", f.severity).to_uppercase(),
                    f.id,
                    f.title,
                    "",
                    f.detail
                );
            }
            println!("{} finding(s)", findings.len());
        }
    }
    if scan::fails(&findings) { anyhow::bail!("the scan found high-severity problems") } else { Ok(()) }
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let _guard = crate::telemetry::init(&config.log);
    let server = server::RunningServer::start(config, axum::Router::new()).await?;
    tracing::info!(version = env!("CARGO_PKG_VERSION"), "Caly listening on http://{}", server.addr);
    let lifecycle = server.state.lifecycle.clone();
    tokio::spawn(async move {
        shutdown_signal().await;
        lifecycle.begin_shutdown();
    });
    server.wait().await.context("Caly stopped with an error")
}

/// SIGINT (Ctrl-C) or SIGTERM.
async fn shutdown_signal() {
    let mut terminate =
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).expect("can listen for SIGTERM");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate.recv() => {}
    }
}
