//! The tamper-evident audit log: per-chain SHA-256 hash links, appended under the chain's
//! next sequence number (a concurrent append that takes the same number retries).

use std::borrow::Cow;

use sha2::{Digest, Sha256};
use sqlx::{Row, any::AnyRow};

use crate::{Store, StoreError, new_id};

/// The chain of events that belong to no tenant.
pub const SYSTEM_CHAIN: &str = "system";
const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";
const APPEND_ATTEMPTS: usize = 8;

/// An event to record. `details` is JSON and must never hold a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    /// The tenant's id, or [`SYSTEM_CHAIN`].
    pub chain: String,
    pub at: i64,
    /// `user`, `api_key`, `system`, `carrier` or `anonymous`.
    pub actor_type: Cow<'static, str>,
    pub actor_id: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub request_id: Option<String>,
    /// A dotted name such as `auth.login.failed`.
    pub event: Cow<'static, str>,
    pub target: Option<String>,
    /// `success`, `failure` or `denied`.
    pub outcome: Cow<'static, str>,
    pub details: String,
}

impl AuditEvent {
    /// An event of the system chain, by the system, saying only what happened; callers that
    /// know who or where fill those fields in.
    pub fn system(at: i64, event: &'static str, outcome: &'static str, details: String) -> Self {
        Self {
            chain: SYSTEM_CHAIN.to_owned(),
            at,
            actor_type: "system".into(),
            actor_id: None,
            ip: None,
            user_agent: None,
            request_id: None,
            event: event.into(),
            target: None,
            outcome: outcome.into(),
            details,
        }
    }
}

/// Optional conditions on a page of the audit log; times in store units.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub event: Option<String>,
    pub outcome: Option<String>,
    pub from: Option<i64>,
    pub to: Option<i64>,
}

/// A stored event with its place in the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub id: String,
    pub seq: i64,
    pub event: AuditEvent,
}

/// Where a chain breaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Break {
    pub chain: String,
    pub seq: i64,
    pub id: String,
    pub reason: &'static str,
}

/// The result of walking every chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verification {
    pub rows: u64,
    pub chains: u64,
    /// The first broken row of each broken chain.
    pub breaks: Vec<Break>,
}

struct Stored {
    id: String,
    seq: i64,
    prev_hash: String,
    hash: String,
    event: AuditEvent,
}

/// The hash of a row: every field, length-prefixed so that no two rows share an encoding.
fn row_hash(seq: i64, prev_hash: &str, event: &AuditEvent) -> String {
    let mut hasher = Sha256::new();
    let mut field = |value: &str| {
        hasher.update((value.len() as u64).to_be_bytes());
        hasher.update(value.as_bytes());
    };
    let optional = |value: &Option<String>| value.clone().unwrap_or_else(|| "\u{0}null".into());
    field(&event.chain);
    field(&seq.to_string());
    field(&event.at.to_string());
    field(&event.actor_type);
    field(&optional(&event.actor_id));
    field(&optional(&event.ip));
    field(&optional(&event.user_agent));
    field(&optional(&event.request_id));
    field(&event.event);
    field(&optional(&event.target));
    field(&event.outcome);
    field(&event.details);
    field(prev_hash);
    hex::encode(hasher.finalize())
}

fn stored(row: AnyRow) -> Result<Stored, StoreError> {
    Ok(Stored {
        id: row.try_get("id")?,
        seq: row.try_get("seq")?,
        prev_hash: row.try_get("prev_hash")?,
        hash: row.try_get("hash")?,
        event: AuditEvent {
            chain: row.try_get("chain")?,
            at: row.try_get("at")?,
            actor_type: Cow::Owned(row.try_get("actor_type")?),
            actor_id: row.try_get("actor_id")?,
            ip: row.try_get("ip")?,
            user_agent: row.try_get("user_agent")?,
            request_id: row.try_get("request_id")?,
            event: Cow::Owned(row.try_get("event")?),
            target: row.try_get("target")?,
            outcome: Cow::Owned(row.try_get("outcome")?),
            details: row.try_get("details")?,
        },
    })
}

impl Store {
    /// Appends an event to its chain. An error here must fail the caller's request: an
    /// action that cannot be audited does not happen silently.
    pub async fn append_audit(&self, event: &AuditEvent) -> Result<String, StoreError> {
        for _ in 0..APPEND_ATTEMPTS {
            let mut conn = self.acquire().await?;
            let last = sqlx::query("SELECT seq, hash FROM audit_log WHERE chain = $1 ORDER BY seq DESC LIMIT 1")
                .bind(&event.chain)
                .fetch_optional(&mut *conn)
                .await?;
            let (seq, prev_hash) = match last {
                Some(row) => (row.try_get::<i64, _>("seq")? + 1, row.try_get::<String, _>("hash")?),
                None => (1, GENESIS.to_owned()),
            };
            let id = new_id();
            let hash = row_hash(seq, &prev_hash, event);
            let inserted = sqlx::query(
                "INSERT INTO audit_log (id, chain, seq, at, actor_type, actor_id, ip, user_agent, request_id, \
                 event, target, outcome, details, prev_hash, hash) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
            )
            .bind(&id)
            .bind(&event.chain)
            .bind(seq)
            .bind(event.at)
            .bind(event.actor_type.as_ref())
            .bind(&event.actor_id)
            .bind(&event.ip)
            .bind(&event.user_agent)
            .bind(&event.request_id)
            .bind(event.event.as_ref())
            .bind(&event.target)
            .bind(event.outcome.as_ref())
            .bind(&event.details)
            .bind(&prev_hash)
            .bind(&hash)
            .execute(&mut *conn)
            .await
            .map_err(StoreError::from);
            match inserted {
                Ok(_) => return Ok(id),
                // Another append took this sequence number first: read the new tail and retry.
                Err(StoreError::Conflict(_)) => continue,
                Err(other) => return Err(other),
            }
        }
        Err(StoreError::Conflict(format!("audit chain {} too contended", event.chain)))
    }

    /// A page of one chain, oldest first, after sequence number `after`, optionally filtered.
    pub async fn audit_page(
        &self,
        chain: &str,
        filter: &AuditFilter,
        after: i64,
        limit: i64,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        let mut conn = self.acquire().await?;
        let rows = sqlx::query(
            "SELECT * FROM audit_log WHERE chain = $1 AND seq > $2 \
             AND (CAST($3 AS TEXT) IS NULL OR event = $3) AND (CAST($4 AS TEXT) IS NULL OR outcome = $4) \
             AND at >= $5 AND at <= $6 ORDER BY seq LIMIT $7",
        )
        .bind(chain)
        .bind(after)
        .bind(&filter.event)
        .bind(&filter.outcome)
        .bind(filter.from.unwrap_or(i64::MIN))
        .bind(filter.to.unwrap_or(i64::MAX))
        .bind(limit)
        .fetch_all(&mut *conn)
        .await?;
        rows.into_iter().map(|row| stored(row).map(|s| AuditEntry { id: s.id, seq: s.seq, event: s.event })).collect()
    }

    /// The events of one chain in order (for the API and tests).
    pub async fn audit_events(&self, chain: &str) -> Result<Vec<AuditEvent>, StoreError> {
        let mut conn = self.acquire().await?;
        let rows = sqlx::query("SELECT * FROM audit_log WHERE chain = $1 ORDER BY seq")
            .bind(chain)
            .fetch_all(&mut *conn)
            .await?;
        rows.into_iter().map(|row| stored(row).map(|s| s.event)).collect()
    }

    /// Walks every chain and reports the first broken row of each: a row whose content no
    /// longer matches its hash, whose link does not match the row before, or a gap in the
    /// sequence (a deleted row). Removing the newest rows of a chain leaves no trace in the
    /// chain itself; the count of rows per chain is what an operator compares for that.
    pub async fn verify_audit(&self) -> Result<Verification, StoreError> {
        let mut conn = self.acquire().await?;
        let rows = sqlx::query("SELECT * FROM audit_log ORDER BY chain, seq").fetch_all(&mut *conn).await?;
        let mut verification = Verification { rows: 0, chains: 0, breaks: Vec::new() };
        let mut current: Option<(String, i64, String, bool)> = None;
        for row in rows {
            let row = stored(row)?;
            verification.rows += 1;
            let (expected_seq, expected_prev) = match &current {
                Some((chain, seq, hash, _)) if *chain == row.event.chain => (seq + 1, hash.clone()),
                _ => {
                    verification.chains += 1;
                    (1, GENESIS.to_owned())
                }
            };
            let already_broken = matches!(&current, Some((chain, _, _, true)) if *chain == row.event.chain);
            let reason = if row.seq != expected_seq {
                Some("a row is missing before this one")
            } else if row.prev_hash != expected_prev {
                Some("does not link to the row before it")
            } else if row_hash(row.seq, &row.prev_hash, &row.event) != row.hash {
                Some("content does not match its hash")
            } else {
                None
            };
            if let (Some(reason), false) = (reason, already_broken) {
                verification.breaks.push(Break {
                    chain: row.event.chain.clone(),
                    seq: row.seq,
                    id: row.id.clone(),
                    reason,
                });
            }
            current = Some((row.event.chain, row.seq, row.hash, already_broken || reason.is_some()));
        }
        Ok(verification)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(chain: &str, name: &'static str) -> AuditEvent {
        AuditEvent {
            chain: chain.into(),
            at: 1,
            actor_type: "user".into(),
            actor_id: Some("u1".into()),
            ip: Some("127.0.0.1".into()),
            user_agent: None,
            request_id: Some("r1".into()),
            event: name.into(),
            target: None,
            outcome: "success".into(),
            details: "{}".into(),
        }
    }

    #[tokio::test]
    async fn chains_link_and_verify() {
        let (store, _dir) = crate::pool::test_store().await;
        for name in ["a", "b", "c"] {
            store.append_audit(&event("t1", name)).await.unwrap();
        }
        store.append_audit(&event(SYSTEM_CHAIN, "d")).await.unwrap();
        let verification = store.verify_audit().await.unwrap();
        assert_eq!(verification, Verification { rows: 4, chains: 2, breaks: vec![] });
        let events = store.audit_events("t1").await.unwrap();
        assert_eq!(events.iter().map(|e| e.event.as_ref()).collect::<Vec<_>>(), ["a", "b", "c"]);
    }

    #[tokio::test]
    async fn concurrent_appends_keep_one_chain() {
        let (store, _dir) = crate::pool::test_store().await;
        let appends = (0..20).map(|_| {
            let store = store.clone();
            tokio::spawn(async move { store.append_audit(&event("t1", "x")).await })
        });
        for append in appends {
            append.await.unwrap().unwrap();
        }
        assert_eq!(store.verify_audit().await.unwrap().breaks, vec![]);
        assert_eq!(store.audit_events("t1").await.unwrap().len(), 20);
    }

    #[test]
    fn every_field_is_in_the_hash() {
        let base = event("t1", "a");
        let hash = row_hash(1, GENESIS, &base);
        let changed = [
            AuditEvent { actor_id: None, ..base.clone() },
            AuditEvent { ip: Some("10.0.0.1".into()), ..base.clone() },
            AuditEvent { details: "{\"x\":1}".into(), ..base.clone() },
            AuditEvent { outcome: "failure".into(), ..base.clone() },
            AuditEvent { at: 2, ..base.clone() },
        ];
        for other in changed {
            assert_ne!(row_hash(1, GENESIS, &other), hash, "{other:?}");
        }
        assert_ne!(row_hash(2, GENESIS, &base), hash);
    }
}
