//! Persistence for Caly: one repository API over SQLite (the default) and PostgreSQL.
//!
//! Queries go through sqlx's `Any` driver, so a statement is written once where the dialects
//! agree (both accept `$1` placeholders). Columns use the types both engines share: ids as
//! UUIDv7 text, times as UTC microseconds since the Unix epoch. Each engine has its own migrations
//! directory because DDL is where they disagree.

mod actions;
pub mod analytics;
mod api_keys;
mod audit;
mod calls;
mod conversations;
mod demo_store;
mod error;
mod identity;
mod mail;
mod pool;
mod settings;
mod team;

pub use actions::{Action, Decided, NewAction};
pub use api_keys::{ApiKey, NewApiKey};
pub use calls::{Call, CallCursor, CallEnd, CallFilter, NewCall, Order, Turn, TurnLatency};

pub use audit::{AuditEntry, AuditEvent, AuditFilter, Break, SYSTEM_CHAIN, Verification};
pub use error::StoreError;
pub use identity::{NewRefreshToken, NewTenant, NewUser, RefreshUse, Tenant, User};
pub use mail::{Mail, TokenMail, TokenPurpose};
pub use pool::{Backend, PoolSettings, PoolStats, Store};
pub use settings::{Saved, SecretChange, SettingsSave, StoredSettings};
pub use team::MemberChange;

/// Writes the tenant's row first thing in a transaction: that takes its lock (PostgreSQL) or
/// the database's (SQLite), so decisions over several of the tenant's rows cannot interleave.
async fn lock_tenant(tx: &mut sqlx::Transaction<'_, sqlx::Any>, tenant_id: &str, now: i64) -> Result<(), StoreError> {
    sqlx::query("UPDATE tenants SET updated_at = $1 WHERE id = $2")
        .bind(now)
        .bind(tenant_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// A new row id: UUIDv7, so ids sort by creation time.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}
