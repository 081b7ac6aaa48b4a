//! Tenants, users and refresh-token families.

use caly_core::{DisplayName, Email, Language, Role, Timezone};
use sqlx::{Row, any::AnyRow};

use crate::{Store, StoreError, error::word, new_id};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tenant {
    pub id: String,
    pub name: String,
    pub timezone: String,
    pub language: String,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: String,
    pub tenant_id: String,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub password_hash: Option<String>,
    pub active: bool,
    pub email_verified: bool,
    /// When the user last chose their password; `None` for one set at creation.
    pub password_changed_at: Option<i64>,
    pub created_at: i64,
}

pub struct NewTenant<'a> {
    pub name: &'a DisplayName,
    pub timezone: &'a Timezone,
    pub language: Language,
}

pub struct NewUser<'a> {
    pub email: &'a Email,
    pub name: &'a DisplayName,
    pub role: Role,
    pub password_hash: &'a str,
}

/// A refresh token to store; `hash` is the SHA-256 of the token the client holds.
pub struct NewRefreshToken<'a> {
    pub family_id: &'a str,
    pub tenant_id: &'a str,
    pub user_id: &'a str,
    pub hash: &'a str,
    pub expires_at: i64,
}

/// What presenting a refresh token amounted to.
#[derive(Debug, PartialEq, Eq)]
pub enum RefreshUse {
    /// It was live and is now used: issue the next one in `family_id`.
    Rotated { family_id: String, tenant_id: String, user_id: String },
    /// It had been used before: the family is now revoked.
    Reused { family_id: String, tenant_id: String, user_id: String },
    /// Unknown, expired or revoked.
    Rejected,
}

pub(crate) const USER_COLUMNS: &str = "id, tenant_id, email, name, role, password_hash, deactivated_at, email_verified_at, password_changed_at, created_at";

pub(crate) fn user(row: AnyRow) -> Result<User, StoreError> {
    Ok(User {
        id: row.try_get("id")?,
        tenant_id: row.try_get("tenant_id")?,
        email: row.try_get("email")?,
        name: row.try_get("name")?,
        role: word(&row, "role")?,
        password_hash: row.try_get("password_hash")?,
        active: row.try_get::<Option<i64>, _>("deactivated_at")?.is_none(),
        email_verified: row.try_get::<Option<i64>, _>("email_verified_at")?.is_some(),
        password_changed_at: row.try_get("password_changed_at")?,
        created_at: row.try_get("created_at")?,
    })
}

impl Store {
    /// Creates a tenant and its owner in one transaction; `Conflict` if the email is taken.
    pub async fn create_tenant_with_owner(
        &self,
        tenant: NewTenant<'_>,
        owner: NewUser<'_>,
        now: i64,
    ) -> Result<(Tenant, User), StoreError> {
        let tenant = Tenant {
            id: new_id(),
            name: tenant.name.as_str().to_owned(),
            timezone: tenant.timezone.as_str().to_owned(),
            language: tenant.language.as_str().to_owned(),
            created_at: now,
        };
        let user = User {
            id: new_id(),
            tenant_id: tenant.id.clone(),
            email: owner.email.as_str().to_owned(),
            name: owner.name.as_str().to_owned(),
            role: owner.role,
            password_hash: Some(owner.password_hash.to_owned()),
            active: true,
            email_verified: false,
            password_changed_at: None,
            created_at: now,
        };
        let mut tx = self.begin().await?;
        sqlx::query(
            "INSERT INTO tenants (id, name, timezone, language, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5)",
        )
        .bind(&tenant.id)
        .bind(&tenant.name)
        .bind(&tenant.timezone)
        .bind(&tenant.language)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO users (id, tenant_id, email, name, role, password_hash, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
        )
        .bind(&user.id)
        .bind(&user.tenant_id)
        .bind(&user.email)
        .bind(&user.name)
        .bind(user.role.as_str())
        .bind(&user.password_hash)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok((tenant, user))
    }

    /// Looks a user up by email across tenants: emails are unique, and sign-in happens before
    /// the tenant is known.
    pub async fn user_by_email(&self, email: &Email) -> Result<Option<User>, StoreError> {
        let mut conn = self.acquire().await?;
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE lower(email) = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(email.as_str()).fetch_optional(&mut *conn).await?;
        row.map(user).transpose()
    }

    pub async fn user(&self, tenant_id: &str, user_id: &str) -> Result<Option<User>, StoreError> {
        let mut conn = self.acquire().await?;
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE tenant_id = $1 AND id = $2");
        let row =
            sqlx::query(sqlx::AssertSqlSafe(sql)).bind(tenant_id).bind(user_id).fetch_optional(&mut *conn).await?;
        row.map(user).transpose()
    }

    /// Failed sign-ins for `email` since `since`: how many, and when the latest was.
    pub async fn login_failures_since(&self, email: &str, since: i64) -> Result<(i64, Option<i64>), StoreError> {
        let mut conn = self.acquire().await?;
        let row = sqlx::query(
            "SELECT COUNT(*) AS n, MAX(failed_at) AS latest FROM login_failures WHERE email = $1 AND failed_at >= $2",
        )
        .bind(email)
        .bind(since)
        .fetch_one(&mut *conn)
        .await?;
        Ok((row.try_get("n")?, row.try_get("latest")?))
    }

    /// Records a failed sign-in and drops this email's failures from before `prune_before`.
    pub async fn record_login_failure(&self, email: &str, now: i64, prune_before: i64) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        sqlx::query("DELETE FROM login_failures WHERE email = $1 AND failed_at < $2")
            .bind(email)
            .bind(prune_before)
            .execute(&mut *tx)
            .await?;
        sqlx::query("INSERT INTO login_failures (email, failed_at) VALUES ($1, $2)")
            .bind(email)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn clear_login_failures(&self, email: &str) -> Result<(), StoreError> {
        let mut conn = self.acquire().await?;
        sqlx::query("DELETE FROM login_failures WHERE email = $1").bind(email).execute(&mut *conn).await?;
        Ok(())
    }

    pub async fn tenant_count(&self) -> Result<i64, StoreError> {
        let mut conn = self.acquire().await?;
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM tenants").fetch_one(&mut *conn).await?)
    }

    pub async fn tenant(&self, tenant_id: &str) -> Result<Option<Tenant>, StoreError> {
        let mut conn = self.acquire().await?;
        let row = sqlx::query("SELECT id, name, timezone, language, created_at FROM tenants WHERE id = $1")
            .bind(tenant_id)
            .fetch_optional(&mut *conn)
            .await?;
        row.map(|row| {
            Ok(Tenant {
                id: row.try_get("id")?,
                name: row.try_get("name")?,
                timezone: row.try_get("timezone")?,
                language: row.try_get("language")?,
                created_at: row.try_get("created_at")?,
            })
        })
        .transpose()
    }

    pub async fn insert_refresh_token(&self, token: NewRefreshToken<'_>, now: i64) -> Result<(), StoreError> {
        let mut conn = self.acquire().await?;
        sqlx::query(
            "INSERT INTO refresh_tokens (id, family_id, tenant_id, user_id, token_hash, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(new_id())
        .bind(token.family_id)
        .bind(token.tenant_id)
        .bind(token.user_id)
        .bind(token.hash)
        .bind(now)
        .bind(token.expires_at)
        .execute(&mut *conn)
        .await?;
        Ok(())
    }

    /// Marks a live refresh token used, atomically, so two concurrent refreshes with the same
    /// token cannot both succeed; a second use revokes the token's family.
    pub async fn use_refresh_token(&self, hash: &str, now: i64) -> Result<RefreshUse, StoreError> {
        let mut conn = self.acquire().await?;
        let used = sqlx::query(
            "UPDATE refresh_tokens SET used_at = $1 \
             WHERE token_hash = $2 AND used_at IS NULL AND revoked_at IS NULL AND expires_at > $1 \
             RETURNING family_id, tenant_id, user_id",
        )
        .bind(now)
        .bind(hash)
        .fetch_optional(&mut *conn)
        .await?;
        if let Some(row) = used {
            return Ok(RefreshUse::Rotated {
                family_id: row.try_get("family_id")?,
                tenant_id: row.try_get("tenant_id")?,
                user_id: row.try_get("user_id")?,
            });
        }
        let earlier = sqlx::query(
            "SELECT family_id, tenant_id, user_id FROM refresh_tokens WHERE token_hash = $1 AND used_at IS NOT NULL",
        )
        .bind(hash)
        .fetch_optional(&mut *conn)
        .await?;
        drop(conn);
        let Some(row) = earlier else { return Ok(RefreshUse::Rejected) };
        let family_id: String = row.try_get("family_id")?;
        self.revoke_refresh_family(&family_id, now).await?;
        Ok(RefreshUse::Reused { family_id, tenant_id: row.try_get("tenant_id")?, user_id: row.try_get("user_id")? })
    }

    /// Revokes every token of a family (a logout). Returns how many were still live.
    pub async fn revoke_refresh_family(&self, family_id: &str, now: i64) -> Result<u64, StoreError> {
        let mut conn = self.acquire().await?;
        let done = sqlx::query("UPDATE refresh_tokens SET revoked_at = $1 WHERE family_id = $2 AND revoked_at IS NULL")
            .bind(now)
            .bind(family_id)
            .execute(&mut *conn)
            .await?;
        Ok(done.rows_affected())
    }

    /// The family a refresh token belongs to, if the token is known.
    pub async fn refresh_family_of(&self, hash: &str) -> Result<Option<(String, String, String)>, StoreError> {
        let mut conn = self.acquire().await?;
        let row = sqlx::query("SELECT family_id, tenant_id, user_id FROM refresh_tokens WHERE token_hash = $1")
            .bind(hash)
            .fetch_optional(&mut *conn)
            .await?;
        row.map(|r| Ok((r.try_get("family_id")?, r.try_get("tenant_id")?, r.try_get("user_id")?))).transpose()
    }

    /// Revokes every refresh token of a user (logout everywhere).
    pub async fn revoke_user_sessions(&self, tenant_id: &str, user_id: &str, now: i64) -> Result<u64, StoreError> {
        let mut conn = self.acquire().await?;
        revoke_sessions(&mut conn, tenant_id, user_id, now).await
    }
}

/// Revokes every live refresh token of a user, on `conn` (which may be inside a transaction).
pub(crate) async fn revoke_sessions(
    conn: &mut sqlx::AnyConnection,
    tenant_id: &str,
    user_id: &str,
    now: i64,
) -> Result<u64, StoreError> {
    let done = sqlx::query(
        "UPDATE refresh_tokens SET revoked_at = $1 WHERE tenant_id = $2 AND user_id = $3 AND revoked_at IS NULL",
    )
    .bind(now)
    .bind(tenant_id)
    .bind(user_id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn users_round_trip_and_emails_are_unique() {
        let (store, _dir) = crate::pool::test_store().await;
        let email = Email::parse("asha@example.in").unwrap();
        let name = DisplayName::parse("Asha").unwrap();
        let tz = Timezone::parse("Asia/Kolkata").unwrap();
        let new = || {
            (
                NewTenant { name: &name, timezone: &tz, language: Language::En },
                NewUser { email: &email, name: &name, role: Role::Owner, password_hash: "h" },
            )
        };
        let (tenant, owner) = new();
        let (tenant, user) = store.create_tenant_with_owner(tenant, owner, 1).await.unwrap();
        assert!(user.active);
        assert_eq!(store.user_by_email(&email).await.unwrap(), Some(user.clone()));
        assert_eq!(store.user(&tenant.id, &user.id).await.unwrap(), Some(user.clone()));
        assert_eq!(store.user("another-tenant", &user.id).await.unwrap(), None, "scoped by tenant");
        let (tenant, owner) = new();
        assert!(matches!(store.create_tenant_with_owner(tenant, owner, 2).await, Err(StoreError::Conflict(_))));
    }
}
