//! Persistence for Caly: one repository API over SQLite (the default) and PostgreSQL.
//!
//! Queries go through sqlx's `Any` driver, so a statement is written once where the dialects
//! agree (both accept `$1` placeholders). Columns use the types both engines share: ids as
//! UUIDv7 text, times as UTC microseconds since the Unix epoch. Each engine has its own migrations
//! directory because DDL is where they disagree.

mod error;
mod pool;

pub use error::StoreError;
pub use pool::{Backend, PoolSettings, PoolStats, Store};
