//! A tenant's settings document, its history, the phone numbers that reach it, and its sealed
//! provider credentials. One save writes all of them in one transaction, or nothing.

use sqlx::Row;

use crate::{Store, StoreError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSettings {
    pub version: i64,
    pub document: String,
    pub updated_by: String,
    pub updated_at: i64,
}

/// A credential to store sealed (`Some`) or to delete (`None`).
pub struct SecretChange<'a> {
    pub name: &'a str,
    pub sealed: Option<(&'a str, &'a str)>,
}

pub struct SettingsSave<'a> {
    /// The version the caller read; 0 for a tenant that never saved.
    pub expected_version: i64,
    pub document: &'a str,
    /// What changed, for the history (a JSON list of sections and credential names).
    pub changed: &'a str,
    pub phone_numbers: &'a [String],
    pub secrets: &'a [SecretChange<'a>],
    pub updated_by: &'a str,
}

#[derive(Debug, PartialEq, Eq)]
pub enum Saved {
    Version(i64),
    /// Someone saved in between: the version now current.
    Stale(i64),
    /// Another tenant has this number.
    NumberTaken(String),
}

impl Store {
    pub async fn settings(&self, tenant_id: &str) -> Result<Option<StoredSettings>, StoreError> {
        let mut conn = self.acquire().await?;
        let row =
            sqlx::query("SELECT version, document, updated_by, updated_at FROM tenant_settings WHERE tenant_id = $1")
                .bind(tenant_id)
                .fetch_optional(&mut *conn)
                .await?;
        row.map(|row| {
            Ok(StoredSettings {
                version: row.try_get("version")?,
                document: row.try_get("document")?,
                updated_by: row.try_get("updated_by")?,
                updated_at: row.try_get("updated_at")?,
            })
        })
        .transpose()
    }

    /// Saves a new version if `expected_version` is still current.
    pub async fn save_settings(&self, tenant_id: &str, save: SettingsSave<'_>, now: i64) -> Result<Saved, StoreError> {
        let mut tx = self.begin().await?;
        let version = save.expected_version + 1;
        let written = if save.expected_version == 0 {
            sqlx::query(
                "INSERT INTO tenant_settings (tenant_id, version, document, updated_by, updated_at) \
                 VALUES ($1, 1, $2, $3, $4) ON CONFLICT (tenant_id) DO NOTHING",
            )
            .bind(tenant_id)
            .bind(save.document)
            .bind(save.updated_by)
            .bind(now)
            .execute(&mut *tx)
            .await?
        } else {
            sqlx::query(
                "UPDATE tenant_settings SET version = $1, document = $2, updated_by = $3, updated_at = $4 \
                 WHERE tenant_id = $5 AND version = $6",
            )
            .bind(version)
            .bind(save.document)
            .bind(save.updated_by)
            .bind(now)
            .bind(tenant_id)
            .bind(save.expected_version)
            .execute(&mut *tx)
            .await?
        };
        if written.rows_affected() != 1 {
            let current: Option<i64> = sqlx::query_scalar("SELECT version FROM tenant_settings WHERE tenant_id = $1")
                .bind(tenant_id)
                .fetch_optional(&mut *tx)
                .await?;
            return Ok(Saved::Stale(current.unwrap_or(0)));
        }
        sqlx::query(
            "INSERT INTO settings_history (tenant_id, version, document, changed, updated_by, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(tenant_id)
        .bind(version)
        .bind(save.document)
        .bind(save.changed)
        .bind(save.updated_by)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM phone_numbers WHERE tenant_id = $1").bind(tenant_id).execute(&mut *tx).await?;
        for number in save.phone_numbers {
            let inserted = sqlx::query("INSERT INTO phone_numbers (number, tenant_id) VALUES ($1, $2)")
                .bind(number)
                .bind(tenant_id)
                .execute(&mut *tx)
                .await
                .map_err(StoreError::from);
            match inserted {
                Ok(_) => {}
                Err(StoreError::Conflict(_)) => return Ok(Saved::NumberTaken(number.clone())),
                Err(other) => return Err(other),
            }
        }
        for secret in save.secrets {
            sqlx::query("DELETE FROM tenant_secrets WHERE tenant_id = $1 AND name = $2")
                .bind(tenant_id)
                .bind(secret.name)
                .execute(&mut *tx)
                .await?;
            if let Some((sealed, last4)) = secret.sealed {
                sqlx::query(
                    "INSERT INTO tenant_secrets (tenant_id, name, sealed, last4, updated_at) VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(tenant_id)
                .bind(secret.name)
                .bind(sealed)
                .bind(last4)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            }
        }
        tx.commit().await?;
        Ok(Saved::Version(version))
    }

    /// The names of the tenant's stored credentials with their last 4 characters.
    pub async fn secret_names(&self, tenant_id: &str) -> Result<Vec<(String, String)>, StoreError> {
        let mut conn = self.acquire().await?;
        Ok(sqlx::query_as("SELECT name, last4 FROM tenant_secrets WHERE tenant_id = $1 ORDER BY name")
            .bind(tenant_id)
            .fetch_all(&mut *conn)
            .await?)
    }

    /// A sealed credential, for the connector that needs it.
    pub async fn sealed_secret(&self, tenant_id: &str, name: &str) -> Result<Option<String>, StoreError> {
        let mut conn = self.acquire().await?;
        Ok(sqlx::query_scalar("SELECT sealed FROM tenant_secrets WHERE tenant_id = $1 AND name = $2")
            .bind(tenant_id)
            .bind(name)
            .fetch_optional(&mut *conn)
            .await?)
    }

    /// The tenant a dialled number belongs to.
    pub async fn tenant_by_number(&self, number: &str) -> Result<Option<String>, StoreError> {
        let mut conn = self.acquire().await?;
        Ok(sqlx::query_scalar("SELECT tenant_id FROM phone_numbers WHERE number = $1")
            .bind(number)
            .fetch_optional(&mut *conn)
            .await?)
    }
}
