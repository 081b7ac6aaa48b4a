//! A tenant's team: invitations, roles, deactivation, and the rule that a tenant always keeps
//! an active owner.

use caly_core::{DisplayName, Email, Role};
use sqlx::AssertSqlSafe;

use crate::{
    Store, StoreError,
    identity::{USER_COLUMNS, User, revoke_sessions, user},
    new_id,
};

/// What changing a member amounted to.
#[derive(Debug)]
pub enum MemberChange {
    Changed(User),
    /// Refused: it would leave the tenant without an active owner.
    LastOwner,
    Missing,
}

impl Store {
    /// The tenant's users, oldest first.
    pub async fn team(&self, tenant_id: &str) -> Result<Vec<User>, StoreError> {
        let mut conn = self.acquire().await?;
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE tenant_id = $1 ORDER BY created_at, id");
        let rows = sqlx::query(AssertSqlSafe(sql)).bind(tenant_id).fetch_all(&mut *conn).await?;
        rows.into_iter().map(user).collect()
    }

    /// Adds an invited user: no password until they accept. `Conflict` if the email is taken.
    pub async fn add_invited_user(
        &self,
        tenant_id: &str,
        email: &Email,
        name: &DisplayName,
        role: Role,
        now: i64,
    ) -> Result<User, StoreError> {
        let mut conn = self.acquire().await?;
        let sql = format!(
            "INSERT INTO users (id, tenant_id, email, name, role, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING {USER_COLUMNS}"
        );
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(new_id())
            .bind(tenant_id)
            .bind(email.as_str())
            .bind(name.as_str())
            .bind(role.as_str())
            .bind(now)
            .fetch_one(&mut *conn)
            .await?;
        user(row)
    }

    /// Changes a member's role and/or whether they are active. Deactivating also ends their
    /// sessions. Serialised per tenant, so two owners demoting each other at once cannot
    /// leave the tenant with none.
    pub async fn change_member(
        &self,
        tenant_id: &str,
        user_id: &str,
        role: Option<Role>,
        active: Option<bool>,
        now: i64,
    ) -> Result<MemberChange, StoreError> {
        let mut tx = self.begin().await?;
        crate::lock_tenant(&mut tx, tenant_id, now).await?;
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE tenant_id = $1 AND id = $2");
        let Some(current) =
            sqlx::query(AssertSqlSafe(sql)).bind(tenant_id).bind(user_id).fetch_optional(&mut *tx).await?
        else {
            return Ok(MemberChange::Missing);
        };
        let current = user(current)?;
        let (new_role, new_active) = (role.unwrap_or(current.role), active.unwrap_or(current.active));
        let stops_owning = current.role == Role::Owner && current.active && (new_role != Role::Owner || !new_active);
        if stops_owning {
            let others: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM users WHERE tenant_id = $1 AND id <> $2 AND role = 'owner' \
                 AND deactivated_at IS NULL",
            )
            .bind(tenant_id)
            .bind(user_id)
            .fetch_one(&mut *tx)
            .await?;
            if others == 0 {
                return Ok(MemberChange::LastOwner);
            }
        }
        let sql = format!(
            "UPDATE users SET role = $1, deactivated_at = CASE WHEN $2 = 1 THEN NULL ELSE COALESCE(deactivated_at, $3) END, \
             updated_at = $3 WHERE tenant_id = $4 AND id = $5 RETURNING {USER_COLUMNS}"
        );
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(new_role.as_str())
            .bind(i64::from(new_active))
            .bind(now)
            .bind(tenant_id)
            .bind(user_id)
            .fetch_one(&mut *tx)
            .await?;
        if !new_active {
            revoke_sessions(&mut tx, tenant_id, user_id, now).await?;
        }
        tx.commit().await?;
        Ok(MemberChange::Changed(user(row)?))
    }

    /// Sets a user's password hash; `verified` also marks their email verified (they proved
    /// they read mail sent to it). Ends every session of theirs.
    pub async fn set_password(
        &self,
        tenant_id: &str,
        user_id: &str,
        password_hash: &str,
        verified: bool,
        now: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        sqlx::query(
            "UPDATE users SET password_hash = $1, updated_at = $2, password_changed_at = $2, \
             email_verified_at = CASE WHEN $3 = 1 THEN COALESCE(email_verified_at, $2) ELSE email_verified_at END \
             WHERE tenant_id = $4 AND id = $5",
        )
        .bind(password_hash)
        .bind(now)
        .bind(i64::from(verified))
        .bind(tenant_id)
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
        revoke_sessions(&mut tx, tenant_id, user_id, now).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn mark_email_verified(&self, tenant_id: &str, user_id: &str, now: i64) -> Result<(), StoreError> {
        let mut conn = self.acquire().await?;
        sqlx::query(
            "UPDATE users SET email_verified_at = COALESCE(email_verified_at, $1), updated_at = $1 \
             WHERE tenant_id = $2 AND id = $3",
        )
        .bind(now)
        .bind(tenant_id)
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
        Ok(())
    }
}
