//! Process-wide logging, set up once by `main`.

mod json;

use std::io::IsTerminal;

pub use json::{JsonFields, JsonLines};
use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::{filter::Targets, fmt, prelude::*};

use crate::config::{LogConfig, LogFormat};

/// Installs the subscriber. Lines are written by a background thread so that a slow terminal
/// or pipe never stalls request handling; that thread flushes whenever it has caught up, so
/// under load lines leave in batches. Keep the guard alive to flush on exit.
pub fn init(log: &LogConfig) -> WorkerGuard {
    let (writer, guard) = tracing_appender::non_blocking(std::io::BufWriter::new(std::io::stdout()));
    // `Targets` rather than `EnvFilter`: it has no span-field directives to track on every
    // span enter and exit, which matters at one span per request.
    let filter: Targets = log.level.parse().expect("validated with the configuration");
    let registry = tracing_subscriber::registry().with(filter);
    match log.format {
        LogFormat::Json => {
            registry.with(fmt::layer().event_format(JsonLines).fmt_fields(JsonFields).with_writer(writer)).init()
        }
        LogFormat::Pretty => {
            registry.with(fmt::layer().with_ansi(std::io::stdout().is_terminal()).with_writer(writer)).init()
        }
    }
    guard
}
