//! Calls and their turns. A call's row is written when it starts and each turn as it
//! happens, so that nothing a caller said is lost if the process stops mid-call.

use caly_core::call::{CallStatus, Direction, Outcome, Speaker};
use sqlx::{Row, any::AnyRow};

use crate::{
    Store, StoreError,
    error::{optional_word, word},
    new_id,
};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    pub id: String,
    pub tenant_id: String,
    pub direction: Direction,
    pub carrier: String,
    pub carrier_call_id: Option<String>,
    pub caller_number: Option<String>,
    pub called_number: Option<String>,
    pub status: CallStatus,
    pub outcome: Option<Outcome>,
    pub language: Option<String>,
    pub started_at: i64,
    pub answered_at: Option<i64>,
    pub ended_at: Option<i64>,
    pub end_reason: Option<String>,
    pub first_response_ms: Option<i64>,
    pub recording_key: Option<String>,
    pub summary: Option<String>,
    pub notes: String,
    pub resolved_at: Option<i64>,
}

/// A call as it starts.
pub struct NewCall<'a> {
    pub direction: Direction,
    pub carrier: &'a str,
    pub carrier_call_id: Option<&'a str>,
    pub caller_number: Option<&'a str>,
    pub called_number: Option<&'a str>,
    pub language: Option<&'a str>,
    pub started_at: i64,
}

/// How a call ended.
pub struct CallEnd<'a> {
    pub status: CallStatus,
    pub outcome: Option<Outcome>,
    pub end_reason: &'a str,
    pub ended_at: i64,
    pub summary: Option<&'a str>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Turn {
    pub seq: i64,
    pub speaker: Speaker,
    pub text: String,
    pub language: Option<String>,
    pub intent: Option<String>,
    pub started_at: i64,
    pub ended_at: Option<i64>,
    pub interrupted_at: Option<i64>,
    pub stt_ms: Option<i64>,
    pub dialogue_ms: Option<i64>,
    pub tts_ms: Option<i64>,
    pub latency: TurnLatency,
}

impl Turn {
    /// A turn that started at `at` (µs), with nothing measured yet.
    pub fn new(speaker: Speaker, text: String, at: i64) -> Self {
        Self {
            seq: 0,
            speaker,
            text,
            language: None,
            intent: None,
            started_at: at,
            ended_at: None,
            interrupted_at: None,
            stt_ms: None,
            dialogue_ms: None,
            tts_ms: None,
            latency: TurnLatency::default(),
        }
    }
}

/// The rest of an agent turn's latency breakdown (with `stt_ms`, `dialogue_ms`, `tts_ms`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TurnLatency {
    /// The silence that ended the caller's turn.
    pub eos_ms: Option<i64>,
    /// The model's time to its first token.
    pub llm_ms: Option<i64>,
    /// Lookups and actions.
    pub tool_ms: Option<i64>,
    /// Ours: the end-of-speech → first-frame time no provider accounts for.
    pub overhead_ms: Option<i64>,
    /// From the end of the caller's speech to the first agent frame sent.
    pub response_ms: Option<i64>,
}

/// Which calls a page holds; every field narrows, `None` does not.
#[derive(Debug, Default, Clone)]
pub struct CallFilter {
    pub from: Option<i64>,
    pub to: Option<i64>,
    pub status: Option<CallStatus>,
    pub direction: Option<Direction>,
    pub outcome: Option<Outcome>,
    pub language: Option<String>,
    pub intent: Option<String>,
    pub caller_number: Option<String>,
    /// Words to find in the transcript, case-insensitive for Latin letters.
    pub text: Option<String>,
}

/// Where a page of calls continues: after the call that started at `started_at` with `id`.
/// Ids break ties, so the order is total and a page boundary never moves when calls are added.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallCursor {
    pub started_at: i64,
    pub id: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Order {
    #[default]
    NewestFirst,
    OldestFirst,
}

const CALL_COLUMNS: &str = "id, tenant_id, direction, carrier, carrier_call_id, caller_number, called_number, \
     status, outcome, language, started_at, answered_at, ended_at, end_reason, first_response_ms, recording_key, \
     summary, notes, resolved_at";

fn call(row: AnyRow) -> Result<Call, StoreError> {
    Ok(Call {
        direction: word(&row, "direction")?,
        status: word(&row, "status")?,
        outcome: optional_word(&row, "outcome")?,
        id: row.try_get("id")?,
        tenant_id: row.try_get("tenant_id")?,
        carrier: row.try_get("carrier")?,
        carrier_call_id: row.try_get("carrier_call_id")?,
        caller_number: row.try_get("caller_number")?,
        called_number: row.try_get("called_number")?,
        language: row.try_get("language")?,
        started_at: row.try_get("started_at")?,
        answered_at: row.try_get("answered_at")?,
        ended_at: row.try_get("ended_at")?,
        end_reason: row.try_get("end_reason")?,
        first_response_ms: row.try_get("first_response_ms")?,
        recording_key: row.try_get("recording_key")?,
        summary: row.try_get("summary")?,
        notes: row.try_get("notes")?,
        resolved_at: row.try_get("resolved_at")?,
    })
}

fn turn(row: AnyRow) -> Result<Turn, StoreError> {
    Ok(Turn {
        speaker: word(&row, "speaker")?,
        seq: row.try_get("seq")?,
        text: row.try_get("text")?,
        language: row.try_get("language")?,
        intent: row.try_get("intent")?,
        started_at: row.try_get("started_at")?,
        ended_at: row.try_get("ended_at")?,
        interrupted_at: row.try_get("interrupted_at")?,
        stt_ms: row.try_get("stt_ms")?,
        dialogue_ms: row.try_get("dialogue_ms")?,
        tts_ms: row.try_get("tts_ms")?,
        latency: TurnLatency {
            eos_ms: row.try_get("eos_ms")?,
            llm_ms: row.try_get("llm_ms")?,
            tool_ms: row.try_get("tool_ms")?,
            overhead_ms: row.try_get("overhead_ms")?,
            response_ms: row.try_get("response_ms")?,
        },
    })
}

enum Param {
    Text(String),
    Int(i64),
}

/// A statement whose WHERE clause holds only the filters given, so that the planner sees
/// plain conditions and picks their indexes (`$1 IS NULL OR …` hides them). Fragments are fixed
/// text with `?` for values; values are always bound, renumbered as `$n` for both engines.
struct Conditions {
    sql: String,
    params: Vec<Param>,
}

impl Conditions {
    fn new(select: String, tenant_id: &str) -> Self {
        let mut conditions = Self { sql: String::new(), params: Vec::new() };
        conditions.push(&select, [Param::Text(tenant_id.to_owned())]);
        conditions
    }

    fn and(&mut self, fragment: &str, values: impl IntoIterator<Item = Param>) {
        self.sql.push_str(" AND ");
        self.push(fragment, values);
    }

    fn push(&mut self, fragment: &str, values: impl IntoIterator<Item = Param>) {
        let mut values = values.into_iter();
        for (i, piece) in fragment.split('?').enumerate() {
            if i > 0 {
                self.params.push(values.next().expect("a value for every placeholder"));
                self.sql.push_str(&format!("${}", self.params.len()));
            }
            self.sql.push_str(piece);
        }
        debug_assert!(values.next().is_none(), "a placeholder for every value");
    }

    fn build(&self) -> sqlx::query::Query<'_, sqlx::Any, sqlx::any::AnyArguments> {
        let mut query = sqlx::query(sqlx::AssertSqlSafe(self.sql.as_str()));
        for param in &self.params {
            query = match param {
                Param::Text(text) => query.bind(text.as_str()),
                Param::Int(number) => query.bind(*number),
            };
        }
        query
    }
}

/// `text` as a LIKE pattern that matches it anywhere, its own `%`, `_` and `\` taken literally.
fn contains_pattern(text: &str) -> String {
    let mut pattern = String::with_capacity(text.len() + 2);
    pattern.push('%');
    for c in text.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

impl Store {
    pub async fn insert_call(&self, tenant_id: &str, new: NewCall<'_>) -> Result<Call, StoreError> {
        let mut conn = self.acquire().await?;
        let sql = format!(
            "INSERT INTO calls (id, tenant_id, direction, carrier, carrier_call_id, caller_number, called_number, \
             status, language, started_at, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10, $10) RETURNING {CALL_COLUMNS}"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(new_id())
            .bind(tenant_id)
            .bind(new.direction.as_str())
            .bind(new.carrier)
            .bind(new.carrier_call_id)
            .bind(new.caller_number)
            .bind(new.called_number)
            .bind(CallStatus::InProgress.as_str())
            .bind(new.language)
            .bind(new.started_at)
            .fetch_one(&mut *conn)
            .await?;
        call(row)
    }

    /// Marks the moment the agent picked up.
    pub async fn answer_call(&self, tenant_id: &str, call_id: &str, at: i64) -> Result<(), StoreError> {
        let mut conn = self.acquire().await?;
        sqlx::query(
            "UPDATE calls SET answered_at = $1, updated_at = $1 WHERE tenant_id = $2 AND id = $3 AND answered_at IS NULL",
        )
        .bind(at)
        .bind(tenant_id)
        .bind(call_id)
        .execute(&mut *conn)
        .await?;
        Ok(())
    }

    /// Appends a turn as the next in its call. The call's language follows the caller's latest
    /// turn, and the first agent turn's latency becomes the call's first-response time.
    pub async fn append_turn(
        &self,
        tenant_id: &str,
        call_id: &str,
        turn: &Turn,
        first_response_ms: Option<i64>,
    ) -> Result<i64, StoreError> {
        let mut tx = self.begin().await?;
        // The call's row is written first: that takes its lock (PostgreSQL) or the database's
        // (SQLite) before the next sequence number is read, so two turns never race for one.
        let caller_language = turn.language.as_deref().filter(|_| turn.speaker == Speaker::Caller);
        sqlx::query(
            "UPDATE calls SET language = COALESCE($1, language), \
             first_response_ms = COALESCE(first_response_ms, $2), updated_at = $3 \
             WHERE tenant_id = $4 AND id = $5",
        )
        .bind(caller_language)
        .bind(first_response_ms)
        .bind(turn.started_at)
        .bind(tenant_id)
        .bind(call_id)
        .execute(&mut *tx)
        .await?;
        // The next sequence number is read by the INSERT itself: one round trip fewer per turn.
        let seq: i64 = sqlx::query_scalar(
            "INSERT INTO call_turns (id, tenant_id, call_id, seq, speaker, text, language, intent, started_at, \
             ended_at, interrupted_at, stt_ms, dialogue_ms, tts_ms, eos_ms, llm_ms, tool_ms, overhead_ms, \
             response_ms) SELECT $1, $2, $3, COALESCE(MAX(seq), 0) + 1, $4, $5, $6, $7, $8, $9, $10, $11, $12, \
             $13, $14, $15, $16, $17, $18 FROM call_turns WHERE tenant_id = $2 AND call_id = $3 RETURNING seq",
        )
        .bind(new_id())
        .bind(tenant_id)
        .bind(call_id)
        .bind(turn.speaker.as_str())
        .bind(&turn.text)
        .bind(&turn.language)
        .bind(&turn.intent)
        .bind(turn.started_at)
        .bind(turn.ended_at)
        .bind(turn.interrupted_at)
        .bind(turn.stt_ms)
        .bind(turn.dialogue_ms)
        .bind(turn.tts_ms)
        .bind(turn.latency.eos_ms)
        .bind(turn.latency.llm_ms)
        .bind(turn.latency.tool_ms)
        .bind(turn.latency.overhead_ms)
        .bind(turn.latency.response_ms)
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(seq)
    }

    /// Closes a call that is still in progress; a call already closed stays as it was.
    pub async fn finish_call(&self, tenant_id: &str, call_id: &str, end: CallEnd<'_>) -> Result<bool, StoreError> {
        let mut conn = self.acquire().await?;
        let done = sqlx::query(
            "UPDATE calls SET status = $1, outcome = $2, end_reason = $3, ended_at = $4, summary = $5, updated_at = $4 \
             WHERE tenant_id = $6 AND id = $7 AND status = $8",
        )
        .bind(end.status.as_str())
        .bind(end.outcome.map(Outcome::as_str))
        .bind(end.end_reason)
        .bind(end.ended_at)
        .bind(end.summary)
        .bind(tenant_id)
        .bind(call_id)
        .bind(CallStatus::InProgress.as_str())
        .execute(&mut *conn)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Records that the call's media stream connected; false if it had connected before, so a
    /// media token opens one stream only.
    pub async fn connect_media(&self, tenant_id: &str, call_id: &str, now: i64) -> Result<bool, StoreError> {
        let mut conn = self.acquire().await?;
        let done = sqlx::query(
            "UPDATE calls SET media_connected_at = $1, answered_at = COALESCE(answered_at, $1), updated_at = $1 \
             WHERE tenant_id = $2 AND id = $3 AND media_connected_at IS NULL AND status = $4",
        )
        .bind(now)
        .bind(tenant_id)
        .bind(call_id)
        .bind(CallStatus::InProgress.as_str())
        .execute(&mut *conn)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Closes, as `interrupted`, every phone or browser call still open: run at start-up, when
    /// no call of this process can be live. What was said in them is already stored.
    pub async fn close_interrupted_calls(&self, now: i64) -> Result<u64, StoreError> {
        let mut conn = self.acquire().await?;
        let done = sqlx::query(
            "UPDATE calls SET status = $1, end_reason = 'server_stopped', ended_at = $2, updated_at = $2 \
             WHERE status = $3 AND direction <> $4",
        )
        .bind(CallStatus::Interrupted.as_str())
        .bind(now)
        .bind(CallStatus::InProgress.as_str())
        .bind(Direction::Sandbox.as_str())
        .execute(&mut *conn)
        .await?;
        Ok(done.rows_affected())
    }

    /// The call a carrier knows by `carrier_call_id`, within the tenant.
    pub async fn call_by_carrier_id(
        &self,
        tenant_id: &str,
        carrier: &str,
        carrier_call_id: &str,
    ) -> Result<Option<Call>, StoreError> {
        let mut conn = self.acquire().await?;
        let sql = format!(
            "SELECT {CALL_COLUMNS} FROM calls WHERE tenant_id = $1 AND carrier = $2 AND carrier_call_id = $3 \
             ORDER BY started_at DESC LIMIT 1"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant_id)
            .bind(carrier)
            .bind(carrier_call_id)
            .fetch_optional(&mut *conn)
            .await?;
        row.map(call).transpose()
    }

    /// Marks an agent turn as cut short: the caller heard only `heard` of it, until `at`.
    /// The agent turn's first frame went out: end of speech → first frame, our part of it;
    /// the call's first response time if it has none yet.
    pub async fn answer_turn(
        &self,
        tenant_id: &str,
        call_id: &str,
        seq: i64,
        response_ms: i64,
        overhead_ms: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        sqlx::query(
            "UPDATE calls SET first_response_ms = COALESCE(first_response_ms, $1) WHERE tenant_id = $2 AND id = $3",
        )
        .bind(response_ms)
        .bind(tenant_id)
        .bind(call_id)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "UPDATE call_turns SET response_ms = $1, overhead_ms = $2 WHERE tenant_id = $3 AND call_id = $4 AND seq = $5",
        )
        .bind(response_ms)
        .bind(overhead_ms)
        .bind(tenant_id)
        .bind(call_id)
        .bind(seq)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// A turn's words as they turned out: what the caller heard of an agent turn cut off at
    /// `interrupted_at`, or, with none, words known only once it was under way (a
    /// speech-to-speech model's).
    pub async fn set_turn_text(
        &self,
        tenant_id: &str,
        call_id: &str,
        seq: i64,
        text: &str,
        interrupted_at: Option<i64>,
    ) -> Result<(), StoreError> {
        let mut conn = self.acquire().await?;
        sqlx::query(
            "UPDATE call_turns SET text = $1, interrupted_at = COALESCE($2, interrupted_at), \
             ended_at = COALESCE($2, ended_at) WHERE tenant_id = $3 AND call_id = $4 AND seq = $5",
        )
        .bind(text)
        .bind(interrupted_at)
        .bind(tenant_id)
        .bind(call_id)
        .bind(seq)
        .execute(&mut *conn)
        .await?;
        Ok(())
    }

    pub async fn call(&self, tenant_id: &str, call_id: &str) -> Result<Option<Call>, StoreError> {
        let mut conn = self.acquire().await?;
        let sql = format!("SELECT {CALL_COLUMNS} FROM calls WHERE tenant_id = $1 AND id = $2");
        let row =
            sqlx::query(sqlx::AssertSqlSafe(sql)).bind(tenant_id).bind(call_id).fetch_optional(&mut *conn).await?;
        row.map(call).transpose()
    }

    /// A call's turns in the order they happened.
    pub async fn call_turns(&self, tenant_id: &str, call_id: &str) -> Result<Vec<Turn>, StoreError> {
        let mut conn = self.acquire().await?;
        let rows = sqlx::query(
            "SELECT seq, speaker, text, language, intent, started_at, ended_at, interrupted_at, stt_ms, dialogue_ms, \
             tts_ms, eos_ms, llm_ms, tool_ms, overhead_ms, response_ms FROM call_turns WHERE tenant_id = $1 AND call_id = $2 ORDER BY seq",
        )
        .bind(tenant_id)
        .bind(call_id)
        .fetch_all(&mut *conn)
        .await?;
        rows.into_iter().map(turn).collect()
    }

    /// Notes and the handled mark, set by people at the store. `None` leaves a field as it is.
    pub async fn annotate_call(
        &self,
        tenant_id: &str,
        call_id: &str,
        notes: Option<&str>,
        resolved: Option<bool>,
        now: i64,
    ) -> Result<Option<Call>, StoreError> {
        let mut conn = self.acquire().await?;
        let sql = format!(
            "UPDATE calls SET notes = COALESCE($1, notes), \
             resolved_at = CASE WHEN $2 = 1 THEN COALESCE(resolved_at, $3) WHEN $2 = 0 THEN NULL ELSE resolved_at END, \
             updated_at = $3 WHERE tenant_id = $4 AND id = $5 RETURNING {CALL_COLUMNS}"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(notes)
            .bind(resolved.map_or(-1_i64, i64::from))
            .bind(now)
            .bind(tenant_id)
            .bind(call_id)
            .fetch_optional(&mut *conn)
            .await?;
        row.map(call).transpose()
    }

    /// Names the object that holds the call's recording; `None` once it is deleted.
    pub async fn set_recording(
        &self,
        tenant_id: &str,
        call_id: &str,
        key: Option<&str>,
        now: i64,
    ) -> Result<bool, StoreError> {
        let mut conn = self.acquire().await?;
        let done = sqlx::query("UPDATE calls SET recording_key = $1, updated_at = $2 WHERE tenant_id = $3 AND id = $4")
            .bind(key)
            .bind(now)
            .bind(tenant_id)
            .bind(call_id)
            .execute(&mut *conn)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Tenants that keep at least one recording.
    /// Up to `limit` tenants, the one with the latest call first.
    pub async fn tenants_by_latest_call(&self, limit: i64) -> Result<Vec<String>, StoreError> {
        let mut conn = self.acquire().await?;
        let query = "SELECT tenant_id FROM calls GROUP BY tenant_id ORDER BY MAX(started_at) DESC LIMIT $1";
        Ok(sqlx::query_scalar(query).bind(limit).fetch_all(&mut *conn).await?)
    }

    pub async fn tenants_with_recordings(&self) -> Result<Vec<String>, StoreError> {
        let mut conn = self.acquire().await?;
        Ok(sqlx::query_scalar("SELECT DISTINCT tenant_id FROM calls WHERE recording_key IS NOT NULL")
            .fetch_all(&mut *conn)
            .await?)
    }

    /// Up to `limit` recordings of the tenant's calls that started before `before`: call id and key.
    pub async fn recordings_before(
        &self,
        tenant_id: &str,
        before: i64,
        limit: i64,
    ) -> Result<Vec<(String, String)>, StoreError> {
        let mut conn = self.acquire().await?;
        Ok(sqlx::query_as(
            "SELECT id, recording_key FROM calls WHERE tenant_id = $1 AND started_at < $2 \
             AND recording_key IS NOT NULL ORDER BY started_at LIMIT $3",
        )
        .bind(tenant_id)
        .bind(before)
        .bind(limit)
        .fetch_all(&mut *conn)
        .await?)
    }

    /// One page of a tenant's calls, `limit` long, continuing after `after`.
    pub async fn calls_page(
        &self,
        tenant_id: &str,
        filter: &CallFilter,
        order: Order,
        after: Option<&CallCursor>,
        limit: i64,
    ) -> Result<Vec<Call>, StoreError> {
        let (compare, direction) = match order {
            Order::NewestFirst => ("<", "DESC"),
            Order::OldestFirst => (">", "ASC"),
        };
        let mut query = Conditions::new(format!("SELECT {CALL_COLUMNS} FROM calls WHERE tenant_id = ?"), tenant_id);
        let text = |value: &str| Param::Text(value.to_owned());
        if let Some(from) = filter.from {
            query.and("started_at >= ?", [Param::Int(from)]);
        }
        if let Some(to) = filter.to {
            query.and("started_at < ?", [Param::Int(to)]);
        }
        if let Some(status) = filter.status {
            query.and("status = ?", [text(status.as_str())]);
        }
        if let Some(direction) = filter.direction {
            query.and("direction = ?", [text(direction.as_str())]);
        }
        if let Some(outcome) = filter.outcome {
            query.and("outcome = ?", [text(outcome.as_str())]);
        }
        if let Some(language) = &filter.language {
            query.and("language = ?", [text(language)]);
        }
        if let Some(caller) = &filter.caller_number {
            query.and("caller_number = ?", [text(caller)]);
        }
        if let Some(intent) = &filter.intent {
            let turns = "id IN (SELECT call_id FROM call_turns WHERE tenant_id = ? AND intent = ?)";
            query.and(turns, [text(tenant_id), text(intent)]);
        }
        if let Some(words) = &filter.text {
            let turns = "id IN (SELECT call_id FROM call_turns WHERE tenant_id = ? AND lower(text) LIKE ? ESCAPE '\\')";
            query.and(turns, [text(tenant_id), Param::Text(contains_pattern(words))]);
        }
        if let Some(cursor) = after {
            // A row-value comparison, which both engines answer from the (tenant, started_at, id) index.
            let keyset = format!("(started_at, id) {compare} (?, ?)");
            query.and(&keyset, [Param::Int(cursor.started_at), text(&cursor.id)]);
        }
        query.push(&format!(" ORDER BY started_at {direction}, id {direction} LIMIT ?"), [Param::Int(limit)]);
        let mut conn = self.acquire().await?;
        let rows = query.build().fetch_all(&mut *conn).await?;
        rows.into_iter().map(call).collect()
    }

    /// The distinct intents of a call's turns, in the order they first came up.
    pub async fn call_intents(&self, tenant_id: &str, call_id: &str) -> Result<Vec<String>, StoreError> {
        let mut conn = self.acquire().await?;
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "SELECT intent, MIN(seq) AS first FROM call_turns WHERE tenant_id = $1 AND call_id = $2 \
             AND intent IS NOT NULL GROUP BY intent ORDER BY first",
        )
        .bind(tenant_id)
        .bind(call_id)
        .fetch_all(&mut *conn)
        .await?;
        Ok(rows.into_iter().map(|(intent, _)| intent).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_text_is_taken_literally() {
        assert_eq!(contains_pattern("50% OFF_x\\"), "%50\\% off\\_x\\\\%");
    }

    #[test]
    fn only_given_conditions_are_written_and_numbered_in_order() {
        let mut query = Conditions::new("SELECT id FROM calls WHERE tenant_id = ?".into(), "t");
        query.and("status = ?", [Param::Text("completed".into())]);
        query.and("(started_at, id) < (?, ?)", [Param::Int(5), Param::Text("x".into())]);
        query.push(" LIMIT ?", [Param::Int(51)]);
        assert_eq!(
            query.sql,
            "SELECT id FROM calls WHERE tenant_id = $1 AND status = $2 AND (started_at, id) < ($3, $4) LIMIT $5"
        );
        assert_eq!(query.params.len(), 5);
    }
}
