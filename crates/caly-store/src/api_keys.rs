//! API keys: stored only as SHA-256 hashes, with their scopes and when they were last used.

use caly_core::permission::Scope;
use sqlx::{Row, any::AnyRow};

use crate::{Store, StoreError, new_id};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    pub id: String,
    pub tenant_id: String,
    pub name: String,
    pub prefix: String,
    pub scopes: Vec<Scope>,
    pub created_by: String,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

pub struct NewApiKey<'a> {
    pub name: &'a str,
    pub prefix: &'a str,
    pub key_hash: &'a str,
    pub scopes: &'a [Scope],
    pub created_by: &'a str,
    pub expires_at: Option<i64>,
}

/// `last_used_at` is written at most this often per key (µs), not on every request.
const TOUCH_EVERY: i64 = 60_000_000;

const COLUMNS: &str =
    "id, tenant_id, name, prefix, scopes, created_by, created_at, expires_at, last_used_at, revoked_at";

fn api_key(row: AnyRow) -> Result<ApiKey, StoreError> {
    let scopes: String = row.try_get("scopes")?;
    Ok(ApiKey {
        scopes: scopes
            .split_whitespace()
            .map(|s| s.parse().map_err(|_| StoreError::Corrupt(format!("scope {s:?}"))))
            .collect::<Result<_, _>>()?,
        id: row.try_get("id")?,
        tenant_id: row.try_get("tenant_id")?,
        name: row.try_get("name")?,
        prefix: row.try_get("prefix")?,
        created_by: row.try_get("created_by")?,
        created_at: row.try_get("created_at")?,
        expires_at: row.try_get("expires_at")?,
        last_used_at: row.try_get("last_used_at")?,
        revoked_at: row.try_get("revoked_at")?,
    })
}

impl Store {
    pub async fn create_api_key(&self, tenant_id: &str, new: NewApiKey<'_>, now: i64) -> Result<ApiKey, StoreError> {
        let mut conn = self.acquire().await?;
        let scopes: Vec<&str> = new.scopes.iter().map(|s| s.as_str()).collect();
        let sql = format!(
            "INSERT INTO api_keys (id, tenant_id, name, prefix, key_hash, scopes, created_by, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING {COLUMNS}"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(new_id())
            .bind(tenant_id)
            .bind(new.name)
            .bind(new.prefix)
            .bind(new.key_hash)
            .bind(scopes.join(" "))
            .bind(new.created_by)
            .bind(now)
            .bind(new.expires_at)
            .fetch_one(&mut *conn)
            .await?;
        api_key(row)
    }

    /// The tenant's keys, newest first, revoked ones included.
    pub async fn api_keys(&self, tenant_id: &str) -> Result<Vec<ApiKey>, StoreError> {
        let mut conn = self.acquire().await?;
        let sql = format!("SELECT {COLUMNS} FROM api_keys WHERE tenant_id = $1 ORDER BY created_at DESC, id DESC");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(tenant_id).fetch_all(&mut *conn).await?;
        rows.into_iter().map(api_key).collect()
    }

    /// Revokes a key; `false` if the tenant has no such live key.
    pub async fn revoke_api_key(&self, tenant_id: &str, id: &str, now: i64) -> Result<bool, StoreError> {
        let mut conn = self.acquire().await?;
        let done =
            sqlx::query("UPDATE api_keys SET revoked_at = $1 WHERE tenant_id = $2 AND id = $3 AND revoked_at IS NULL")
                .bind(now)
                .bind(tenant_id)
                .bind(id)
                .execute(&mut *conn)
                .await?;
        Ok(done.rows_affected() == 1)
    }

    /// The live key with this hash, recording its use (at most once a minute).
    pub async fn use_api_key(&self, key_hash: &str, now: i64) -> Result<Option<ApiKey>, StoreError> {
        let mut conn = self.acquire().await?;
        let sql = format!(
            "SELECT {COLUMNS} FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL \
             AND (expires_at IS NULL OR expires_at > $2)"
        );
        let Some(row) =
            sqlx::query(sqlx::AssertSqlSafe(sql)).bind(key_hash).bind(now).fetch_optional(&mut *conn).await?
        else {
            return Ok(None);
        };
        let key = api_key(row)?;
        if key.last_used_at.is_none_or(|at| at < now - TOUCH_EVERY) {
            sqlx::query("UPDATE api_keys SET last_used_at = $1 WHERE id = $2")
                .bind(now)
                .bind(&key.id)
                .execute(&mut *conn)
                .await?;
        }
        Ok(Some(key))
    }
}
