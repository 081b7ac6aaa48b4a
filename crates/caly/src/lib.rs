//! Caly: the server, its HTTP edge and its command line.

pub mod auth;
pub mod call;
pub mod cli;
pub mod commerce;
pub mod config;
pub mod conversation;
pub mod demo;
pub mod http;
pub mod lifecycle;
pub mod listener;
pub mod mail;
pub mod metrics;
pub mod rate_limits;
pub mod redis_link;
pub mod scan;
pub mod secrets;
pub mod server;
pub mod simulate;
pub mod state;
pub mod telemetry;
pub mod tls;
