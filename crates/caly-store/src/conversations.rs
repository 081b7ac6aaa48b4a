//! A text conversation's agent state, kept between messages. Saves are versioned: a save that
//! did not start from the version it read is refused, so two racing messages cannot both apply.

use crate::{Store, StoreError};

impl Store {
    pub async fn insert_conversation(
        &self,
        tenant_id: &str,
        call_id: &str,
        state: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        let mut conn = self.acquire().await?;
        sqlx::query(
            "INSERT INTO conversations (call_id, tenant_id, state, version, updated_at) VALUES ($1, $2, $3, 1, $4)",
        )
        .bind(call_id)
        .bind(tenant_id)
        .bind(state)
        .bind(now)
        .execute(&mut *conn)
        .await?;
        Ok(())
    }

    /// The state and its version.
    pub async fn conversation(&self, tenant_id: &str, call_id: &str) -> Result<Option<(String, i64)>, StoreError> {
        let mut conn = self.acquire().await?;
        let row: Option<(String, i64)> =
            sqlx::query_as("SELECT state, version FROM conversations WHERE tenant_id = $1 AND call_id = $2")
                .bind(tenant_id)
                .bind(call_id)
                .fetch_optional(&mut *conn)
                .await?;
        Ok(row)
    }

    /// Saves the state if it is still at `version`; `false` when someone saved first.
    pub async fn save_conversation(
        &self,
        tenant_id: &str,
        call_id: &str,
        version: i64,
        state: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        let mut conn = self.acquire().await?;
        let saved = sqlx::query(
            "UPDATE conversations SET state = $1, version = version + 1, updated_at = $2 \
             WHERE tenant_id = $3 AND call_id = $4 AND version = $5",
        )
        .bind(state)
        .bind(now)
        .bind(tenant_id)
        .bind(call_id)
        .bind(version)
        .execute(&mut *conn)
        .await?;
        Ok(saved.rows_affected() == 1)
    }
}
