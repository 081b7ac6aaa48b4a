//! Process-wide logging, set up once by `main`.

mod batch;
mod json;

use std::io::IsTerminal;

pub use batch::FlushGuard;
pub use json::{JsonFields, JsonLines};
use tracing_subscriber::{filter::Targets, fmt, prelude::*};

use crate::config::{LogConfig, LogFormat};

/// Installs the subscriber. Lines are written in batches by a background thread so that a slow
/// terminal or pipe never stalls request handling. Keep the guard alive to flush on exit.
pub fn init(log: &LogConfig) -> FlushGuard {
    let (writer, guard) = batch::spawn(std::io::stdout());
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
