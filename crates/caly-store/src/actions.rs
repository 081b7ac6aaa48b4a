//! Actions: what an agent asked the store to do, their approval and their result. Both the
//! idempotency key and the approval are enforced by the database, not by the caller's care.

use caly_core::action::{ActionKind, ActionStatus, Decision};
use sqlx::{Row, any::AnyRow};

use crate::{Store, StoreError, error::word, new_id};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Action {
    pub id: String,
    pub tenant_id: String,
    pub call_id: Option<String>,
    pub kind: ActionKind,
    pub order_number: String,
    /// JSON object: what the action needs (reason, new address, items…).
    pub params: String,
    pub amount_paise: Option<i64>,
    pub status: ActionStatus,
    pub idempotency_key: String,
    pub requested_at: i64,
    pub decided_by: Option<String>,
    pub decided_at: Option<i64>,
    pub reason: Option<String>,
    /// JSON: what the store answered when the action ran.
    pub result: Option<String>,
    pub executed_at: Option<i64>,
}

pub struct NewAction<'a> {
    pub call_id: Option<&'a str>,
    pub kind: ActionKind,
    pub order_number: &'a str,
    pub params: &'a str,
    pub amount_paise: Option<i64>,
    /// `Proposed` to run now, `AwaitingApproval` to wait for a supervisor.
    pub status: ActionStatus,
    pub idempotency_key: &'a str,
    pub requested_at: i64,
}

/// What deciding on an action amounted to.
#[derive(Debug, PartialEq, Eq)]
pub enum Decided {
    /// This decision moved it out of `awaiting_approval`.
    Now(Action),
    /// It was no longer waiting (decided by someone else, or never needed approval).
    Already(Action),
    Missing,
}

const ACTION_COLUMNS: &str = "id, tenant_id, call_id, kind, order_number, params, amount_paise, status, \
     idempotency_key, requested_at, decided_by, decided_at, reason, result, executed_at";

fn action(row: AnyRow) -> Result<Action, StoreError> {
    Ok(Action {
        kind: word(&row, "kind")?,
        status: word(&row, "status")?,
        id: row.try_get("id")?,
        tenant_id: row.try_get("tenant_id")?,
        call_id: row.try_get("call_id")?,
        order_number: row.try_get("order_number")?,
        params: row.try_get("params")?,
        amount_paise: row.try_get("amount_paise")?,
        idempotency_key: row.try_get("idempotency_key")?,
        requested_at: row.try_get("requested_at")?,
        decided_by: row.try_get("decided_by")?,
        decided_at: row.try_get("decided_at")?,
        reason: row.try_get("reason")?,
        result: row.try_get("result")?,
        executed_at: row.try_get("executed_at")?,
    })
}

impl Store {
    /// Records an action once per idempotency key: the same key again returns the first
    /// action and `false`, whatever else differs.
    pub async fn insert_action(&self, tenant_id: &str, new: NewAction<'_>) -> Result<(Action, bool), StoreError> {
        let mut conn = self.acquire().await?;
        let inserted = sqlx::query(
            "INSERT INTO actions (id, tenant_id, call_id, kind, order_number, params, amount_paise, status, \
             idempotency_key, requested_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) \
             ON CONFLICT (tenant_id, idempotency_key) DO NOTHING",
        )
        .bind(new_id())
        .bind(tenant_id)
        .bind(new.call_id)
        .bind(new.kind.as_str())
        .bind(new.order_number)
        .bind(new.params)
        .bind(new.amount_paise)
        .bind(new.status.as_str())
        .bind(new.idempotency_key)
        .bind(new.requested_at)
        .execute(&mut *conn)
        .await?;
        let sql = format!("SELECT {ACTION_COLUMNS} FROM actions WHERE tenant_id = $1 AND idempotency_key = $2");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant_id)
            .bind(new.idempotency_key)
            .fetch_one(&mut *conn)
            .await?;
        Ok((action(row)?, inserted.rows_affected() == 1))
    }

    pub async fn action(&self, tenant_id: &str, action_id: &str) -> Result<Option<Action>, StoreError> {
        let mut conn = self.acquire().await?;
        let sql = format!("SELECT {ACTION_COLUMNS} FROM actions WHERE tenant_id = $1 AND id = $2");
        let row =
            sqlx::query(sqlx::AssertSqlSafe(sql)).bind(tenant_id).bind(action_id).fetch_optional(&mut *conn).await?;
        row.map(action).transpose()
    }

    /// Approves or rejects an action awaiting approval. One statement moves it, so of two
    /// supervisors deciding at once exactly one does; the other learns it was `Already` decided.
    pub async fn decide_action(
        &self,
        tenant_id: &str,
        action_id: &str,
        decision: Decision,
        by: &str,
        reason: Option<&str>,
        now: i64,
    ) -> Result<Decided, StoreError> {
        let mut conn = self.acquire().await?;
        let sql = format!(
            "UPDATE actions SET status = $1, decided_by = $2, decided_at = $3, reason = $4, updated_at = $3 \
             WHERE tenant_id = $5 AND id = $6 AND status = $7 RETURNING {ACTION_COLUMNS}"
        );
        let moved = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(decision.status().as_str())
            .bind(by)
            .bind(now)
            .bind(reason)
            .bind(tenant_id)
            .bind(action_id)
            .bind(ActionStatus::AwaitingApproval.as_str())
            .fetch_optional(&mut *conn)
            .await?;
        drop(conn);
        match moved {
            Some(row) => Ok(Decided::Now(action(row)?)),
            None => Ok(self.action(tenant_id, action_id).await?.map_or(Decided::Missing, Decided::Already)),
        }
    }

    /// Records how running an approved or proposed action went. Only one outcome is kept: a
    /// second report for the same action changes nothing and returns `false`.
    pub async fn record_action_result(
        &self,
        tenant_id: &str,
        action_id: &str,
        status: ActionStatus,
        result: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        let mut conn = self.acquire().await?;
        let done = sqlx::query(
            "UPDATE actions SET status = $1, result = $2, executed_at = $3, updated_at = $3 \
             WHERE tenant_id = $4 AND id = $5 AND status IN ($6, $7)",
        )
        .bind(status.as_str())
        .bind(result)
        .bind(now)
        .bind(tenant_id)
        .bind(action_id)
        .bind(ActionStatus::Proposed.as_str())
        .bind(ActionStatus::Approved.as_str())
        .execute(&mut *conn)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// A page of a tenant's actions, oldest request first, optionally of one status or call,
    /// continuing after the action with id `after` (ids are UUIDv7, ordered like requests).
    pub async fn actions_page(
        &self,
        tenant_id: &str,
        status: Option<ActionStatus>,
        call_id: Option<&str>,
        after: Option<&str>,
        limit: i64,
    ) -> Result<Vec<Action>, StoreError> {
        let mut conn = self.acquire().await?;
        let sql = format!(
            "SELECT {ACTION_COLUMNS} FROM actions WHERE tenant_id = $1 AND (CAST($2 AS TEXT) IS NULL OR status = $2) \
             AND (CAST($3 AS TEXT) IS NULL OR call_id = $3) AND id > $4 ORDER BY id LIMIT $5"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant_id)
            .bind(status.map(ActionStatus::as_str))
            .bind(call_id)
            .bind(after.unwrap_or(""))
            .bind(limit)
            .fetch_all(&mut *conn)
            .await?;
        rows.into_iter().map(action).collect()
    }
}
