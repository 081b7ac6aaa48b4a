//! Figures over a tenant's calls and actions, counted by the database. Charts are built from
//! 15-minute slots: every time zone's hours and days are made of whole slots, so the caller
//! can fold them into local hours or days without the database knowing time zones.

use sqlx::{FromRow, Row};

use crate::{Store, StoreError};

/// One slot's width in µs.
pub const SLOT_MICROS: i64 = 15 * 60 * 1_000_000;

/// Totals of calls over a range or a slot. Sums are kept apart from counts so that slots add up.
#[derive(Debug, Clone, Default, PartialEq, Eq, FromRow)]
pub struct CallTotals {
    pub calls: i64,
    pub answered: i64,
    pub resolved: i64,
    pub transferred: i64,
    pub abandoned: i64,
    /// Answered and ended calls, and their summed time from answer to end (µs).
    pub handled: i64,
    pub handle_micros: i64,
    /// Calls with a first-response time, and the sum of those times (ms).
    pub first_responses: i64,
    pub first_response_ms: i64,
}

impl CallTotals {
    pub fn add(&mut self, other: &CallTotals) {
        self.calls += other.calls;
        self.answered += other.answered;
        self.resolved += other.resolved;
        self.transferred += other.transferred;
        self.abandoned += other.abandoned;
        self.handled += other.handled;
        self.handle_micros += other.handle_micros;
        self.first_responses += other.first_responses;
        self.first_response_ms += other.first_response_ms;
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionCount {
    pub kind: String,
    pub status: String,
    pub count: i64,
    pub amount_paise: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    pub totals: CallTotals,
    /// Nearest-rank 95th percentile of first-response times (ms).
    pub first_response_p95_ms: Option<i64>,
    pub actions: Vec<ActionCount>,
    /// Calls in which each intent came up.
    pub intents: Vec<(String, i64)>,
    /// Calls per language; `None` for calls in which nobody spoke.
    pub languages: Vec<(Option<String>, i64)>,
}

const TOTALS: &str = "COUNT(*) AS calls, \
     COALESCE(SUM(CASE WHEN answered_at IS NOT NULL THEN 1 ELSE 0 END), 0) AS answered, \
     COALESCE(SUM(CASE WHEN outcome = 'resolved' THEN 1 ELSE 0 END), 0) AS resolved, \
     COALESCE(SUM(CASE WHEN outcome = 'transferred' THEN 1 ELSE 0 END), 0) AS transferred, \
     COALESCE(SUM(CASE WHEN outcome = 'abandoned' THEN 1 ELSE 0 END), 0) AS abandoned, \
     COALESCE(SUM(CASE WHEN answered_at IS NOT NULL AND ended_at IS NOT NULL THEN 1 ELSE 0 END), 0) AS handled, \
     CAST(COALESCE(SUM(CASE WHEN answered_at IS NOT NULL AND ended_at IS NOT NULL \
          THEN ended_at - answered_at ELSE 0 END), 0) AS BIGINT) AS handle_micros, \
     COUNT(first_response_ms) AS first_responses, \
     CAST(COALESCE(SUM(first_response_ms), 0) AS BIGINT) AS first_response_ms";

impl Store {
    /// Everything the summary shows, for calls started in `[from, to)`.
    pub async fn analytics_summary(&self, tenant_id: &str, from: i64, to: i64) -> Result<Summary, StoreError> {
        let mut conn = self.acquire().await?;
        let sql = format!("SELECT {TOTALS} FROM calls WHERE tenant_id = $1 AND started_at >= $2 AND started_at < $3");
        let totals: CallTotals =
            sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(tenant_id).bind(from).bind(to).fetch_one(&mut *conn).await?;
        let first_response_p95_ms =
            match totals.first_responses {
                0 => None,
                n => sqlx::query_scalar(
                    "SELECT first_response_ms FROM calls WHERE tenant_id = $1 AND started_at >= $2 AND started_at < $3 \
                 AND first_response_ms IS NOT NULL ORDER BY first_response_ms LIMIT 1 OFFSET $4",
                )
                .bind(tenant_id)
                .bind(from)
                .bind(to)
                .bind((n * 95 + 99) / 100 - 1)
                .fetch_optional(&mut *conn)
                .await?,
            };
        let actions = sqlx::query(
            "SELECT kind, status, COUNT(*) AS n, CAST(COALESCE(SUM(amount_paise), 0) AS BIGINT) AS amount \
             FROM actions WHERE tenant_id = $1 AND requested_at >= $2 AND requested_at < $3 \
             GROUP BY kind, status ORDER BY kind, status",
        )
        .bind(tenant_id)
        .bind(from)
        .bind(to)
        .fetch_all(&mut *conn)
        .await?
        .into_iter()
        .map(|row| {
            Ok(ActionCount {
                kind: row.try_get("kind")?,
                status: row.try_get("status")?,
                count: row.try_get("n")?,
                amount_paise: row.try_get("amount")?,
            })
        })
        .collect::<Result<_, StoreError>>()?;
        let intents = sqlx::query_as(
            "SELECT t.intent, COUNT(DISTINCT t.call_id) AS n FROM call_turns t JOIN calls c ON c.id = t.call_id \
             WHERE t.tenant_id = $1 AND c.tenant_id = $1 AND c.started_at >= $2 AND c.started_at < $3 \
             AND t.intent IS NOT NULL GROUP BY t.intent ORDER BY n DESC, t.intent",
        )
        .bind(tenant_id)
        .bind(from)
        .bind(to)
        .fetch_all(&mut *conn)
        .await?;
        let languages = sqlx::query_as(
            "SELECT language, COUNT(*) AS n FROM calls WHERE tenant_id = $1 AND started_at >= $2 AND started_at < $3 \
             GROUP BY language ORDER BY n DESC, COALESCE(language, '')",
        )
        .bind(tenant_id)
        .bind(from)
        .bind(to)
        .fetch_all(&mut *conn)
        .await?;
        Ok(Summary { totals, first_response_p95_ms, actions, intents, languages })
    }

    /// Call totals per 15-minute slot in `[from, to)`, keyed by the slot's start; empty slots
    /// are left out.
    pub async fn analytics_slots(
        &self,
        tenant_id: &str,
        from: i64,
        to: i64,
    ) -> Result<Vec<(i64, CallTotals)>, StoreError> {
        let mut conn = self.acquire().await?;
        let sql = format!(
            "SELECT started_at / {SLOT_MICROS} AS slot, {TOTALS} FROM calls \
             WHERE tenant_id = $1 AND started_at >= $2 AND started_at < $3 GROUP BY slot ORDER BY slot"
        );
        let rows =
            sqlx::query(sqlx::AssertSqlSafe(sql)).bind(tenant_id).bind(from).bind(to).fetch_all(&mut *conn).await?;
        rows.into_iter()
            .map(|row| {
                let slot: i64 = row.try_get("slot")?;
                Ok((slot * SLOT_MICROS, CallTotals::from_row(&row)?))
            })
            .collect()
    }
}
