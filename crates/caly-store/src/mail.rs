//! Single-use tokens (email verification, password reset, invitations) and the outbox their
//! mail goes through. A token and its mail are written in one transaction: a token nobody was
//! told about, or mail with a token that does not exist, cannot happen.

use sqlx::Row;

use crate::{Store, StoreError, new_id};

/// What a single-use token is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenPurpose {
    VerifyEmail,
    ResetPassword,
    Invite,
}

impl TokenPurpose {
    fn as_str(self) -> &'static str {
        match self {
            Self::VerifyEmail => "verify_email",
            Self::ResetPassword => "reset_password",
            Self::Invite => "invite",
        }
    }
}

/// A token to store (its SHA-256) and the mail that carries it.
pub struct TokenMail<'a> {
    pub purpose: TokenPurpose,
    pub tenant_id: &'a str,
    pub user_id: &'a str,
    pub token_hash: &'a str,
    pub expires_at: i64,
    pub recipient: &'a str,
    pub subject: &'a str,
    pub body: &'a str,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    pub id: String,
    pub recipient: String,
    pub subject: String,
    pub body: String,
    pub attempts: i64,
    pub sent_at: Option<i64>,
}

impl Store {
    /// Stores a token and queues its mail; earlier unused tokens of the same user and purpose
    /// stop working, so only the newest link counts.
    pub async fn issue_token_mail(&self, mail: TokenMail<'_>, now: i64) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        sqlx::query("UPDATE one_time_tokens SET used_at = $1 WHERE user_id = $2 AND purpose = $3 AND used_at IS NULL")
            .bind(now)
            .bind(mail.user_id)
            .bind(mail.purpose.as_str())
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO one_time_tokens (token_hash, purpose, tenant_id, user_id, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(mail.token_hash)
        .bind(mail.purpose.as_str())
        .bind(mail.tenant_id)
        .bind(mail.user_id)
        .bind(now)
        .bind(mail.expires_at)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO outbox (id, tenant_id, recipient, subject, body, created_at, next_attempt_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $6)",
        )
        .bind(new_id())
        .bind(mail.tenant_id)
        .bind(mail.recipient)
        .bind(mail.subject)
        .bind(mail.body)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Spends a live token of `purpose`: the tenant and user it was for, once; `None` if it is
    /// unknown, expired, spent, or for something else.
    pub async fn use_token(
        &self,
        token_hash: &str,
        purpose: TokenPurpose,
        now: i64,
    ) -> Result<Option<(String, String)>, StoreError> {
        let mut conn = self.acquire().await?;
        let row = sqlx::query(
            "UPDATE one_time_tokens SET used_at = $1 \
             WHERE token_hash = $2 AND purpose = $3 AND used_at IS NULL AND expires_at > $1 \
             RETURNING tenant_id, user_id",
        )
        .bind(now)
        .bind(token_hash)
        .bind(purpose.as_str())
        .fetch_optional(&mut *conn)
        .await?;
        row.map(|row| Ok((row.try_get("tenant_id")?, row.try_get("user_id")?))).transpose()
    }

    /// Whom a live token of `purpose` is for, without spending it.
    pub async fn token_owner(
        &self,
        token_hash: &str,
        purpose: TokenPurpose,
        now: i64,
    ) -> Result<Option<(String, String)>, StoreError> {
        let mut conn = self.acquire().await?;
        let row = sqlx::query(
            "SELECT tenant_id, user_id FROM one_time_tokens \
             WHERE token_hash = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > $3",
        )
        .bind(token_hash)
        .bind(purpose.as_str())
        .bind(now)
        .fetch_optional(&mut *conn)
        .await?;
        row.map(|row| Ok((row.try_get("tenant_id")?, row.try_get("user_id")?))).transpose()
    }

    /// Mail due for (another) delivery attempt, oldest first.
    pub async fn due_mail(&self, now: i64, limit: i64) -> Result<Vec<Mail>, StoreError> {
        let mut conn = self.acquire().await?;
        let rows = sqlx::query(
            "SELECT id, recipient, subject, body, attempts, sent_at FROM outbox \
             WHERE sent_at IS NULL AND next_attempt_at <= $1 ORDER BY next_attempt_at, id LIMIT $2",
        )
        .bind(now)
        .bind(limit)
        .fetch_all(&mut *conn)
        .await?;
        rows.into_iter().map(mail).collect()
    }

    /// Every mail to `recipient`, oldest first (for support and tests).
    pub async fn mail_to(&self, recipient: &str) -> Result<Vec<Mail>, StoreError> {
        let mut conn = self.acquire().await?;
        let rows = sqlx::query(
            "SELECT id, recipient, subject, body, attempts, sent_at FROM outbox WHERE recipient = $1 \
             ORDER BY created_at, id",
        )
        .bind(recipient)
        .fetch_all(&mut *conn)
        .await?;
        rows.into_iter().map(mail).collect()
    }

    pub async fn mail_sent(&self, id: &str, now: i64) -> Result<(), StoreError> {
        let mut conn = self.acquire().await?;
        sqlx::query("UPDATE outbox SET sent_at = $1, attempts = attempts + 1, last_error = NULL WHERE id = $2")
            .bind(now)
            .bind(id)
            .execute(&mut *conn)
            .await?;
        Ok(())
    }

    /// Records a failed attempt; the mail is tried again from `retry_at`.
    pub async fn mail_failed(&self, id: &str, error: &str, retry_at: i64) -> Result<(), StoreError> {
        let mut conn = self.acquire().await?;
        sqlx::query("UPDATE outbox SET attempts = attempts + 1, last_error = $1, next_attempt_at = $2 WHERE id = $3")
            .bind(error)
            .bind(retry_at)
            .bind(id)
            .execute(&mut *conn)
            .await?;
        Ok(())
    }
}

fn mail(row: sqlx::any::AnyRow) -> Result<Mail, StoreError> {
    Ok(Mail {
        id: row.try_get("id")?,
        recipient: row.try_get("recipient")?,
        subject: row.try_get("subject")?,
        body: row.try_get("body")?,
        attempts: row.try_get("attempts")?,
        sent_at: row.try_get("sent_at")?,
    })
}
