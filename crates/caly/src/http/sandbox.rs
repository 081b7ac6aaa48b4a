//! `/api/v1/sandbox/conversations`: a text conversation with the agent, through the same
//! dialogue, policies and store actions as a phone call (actions are real against the tenant's
//! store). The call record is a call's, with `direction = sandbox`; the agent's state is saved
//! after every message.

use axum::{Json, extract::State, http::StatusCode};
use caly_core::{
    Invalid, Language, PhoneNumber,
    agent::{Agent, Effect, Event, Setup},
    call::{CallStatus, Direction, Outcome, Speaker},
    dialogue::Understanding,
    permission::Permission,
};
use caly_store::{CallEnd, NewCall, Turn};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{
    access::Access,
    audit::AuditContext,
    error::{ApiError, FieldErrors},
    extract::{Json as JsonBody, PathId},
};
use crate::{
    auth::now_micros,
    commerce::{connector_for, settings_of},
    conversation::{ConversationError, Party, drive},
    state::AppState,
};

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewConversation {
    /// The caller's phone number, as if they called from it: the agent trusts orders placed
    /// with it. Without it, the caller must prove an order is theirs.
    caller: Option<String>,
    /// `hi`, `en` or `hinglish`; the tenant's language by default. The agent follows the caller
    /// from their first words.
    language: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Message {
    /// What the caller says: 1–1000 characters.
    text: Option<String>,
    /// Or keys pressed: 1–32 of `0-9`, `*`, `#`.
    digits: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct Reply {
    call_id: String,
    /// What the agent said, in order.
    replies: Vec<String>,
    /// The language the agent speaks now.
    language: String,
    /// How the message was understood; absent when the conversation starts and for keypad input.
    #[schema(value_type = Option<Object>)]
    understanding: Option<Understanding>,
    /// What the agent did: `say`, `find_order`, `search_products`, `act`, `transfer`, `hang_up`.
    #[schema(value_type = Vec<Object>)]
    effects: Vec<Effect>,
    /// The agent hung up or handed the call to a person; no more messages are taken.
    ended: bool,
    /// What understood the message: `rules`, `llm`, or `rules_fallback` when the LLM failed.
    engine: Option<&'static str>,
}

impl From<ConversationError> for ApiError {
    fn from(error: ConversationError) -> Self {
        match error {
            ConversationError::Store(error) => error.into(),
            ConversationError::Commerce(error) => {
                tracing::error!(%error, "the store connector failed");
                ApiError::Upstream("the store")
            }
            ConversationError::Audit => ApiError::internal(anyhow::anyhow!("the audit log could not be written")),
        }
    }
}

/// Starts a conversation; the answer holds the agent's greeting and the call's id.
#[utoipa::path(post, path = "/api/v1/sandbox/conversations", operation_id = "start_conversation", tag = "sandbox",
    request_body = NewConversation, security(("bearer" = [])), responses(
    (status = 201, description = "Started; the agent greeted", body = Reply),
    (status = 403, description = "Supervisors and above only, signed in", body = caly_guard::problem::ProblemBody, content_type = "application/problem+json"),
    (status = 422, description = "Invalid fields, all listed", body = caly_guard::problem::ProblemBody, content_type = "application/problem+json")))]
pub async fn start(
    State(state): State<AppState>,
    access: Access,
    audit: AuditContext,
    JsonBody(body): JsonBody<NewConversation>,
) -> Result<(StatusCode, Json<Reply>), ApiError> {
    access.require(Permission::UseSandbox)?;
    let tenant_id = &access.tenant_id;
    let mut errors = FieldErrors::default();
    let caller = body.caller.as_deref().and_then(|c| errors.check("caller", PhoneNumber::parse(c)));
    let language = body.language.as_deref().and_then(|l| errors.check("language", l.parse::<Language>()));
    errors.finish()?;
    let tenant = state.store.tenant(tenant_id).await?.ok_or(ApiError::NotFound("Tenant"))?;
    let settings = settings_of(&state, tenant_id).await?;
    let connection = settings.store.clone();
    let language = language.or_else(|| tenant.language.parse().ok()).unwrap_or(Language::Hinglish);
    let now = now_micros();
    let new = NewCall {
        direction: Direction::Sandbox,
        carrier: "sandbox",
        carrier_call_id: None,
        caller_number: caller.as_ref().map(PhoneNumber::as_str),
        called_number: None,
        language: Some(language.as_str()),
        started_at: now,
    };
    let call = state.store.insert_call(tenant_id, new).await?;
    state.store.answer_call(tenant_id, &call.id, now).await?;
    let setup = Setup {
        call_id: call.id.clone(),
        caller: caller.map(|c| c.as_str().to_owned()),
        language,
        timezone: tenant.timezone,
        settings,
    };
    let mut agent = Agent::new(setup);
    let commerce = connector_for(&state, tenant_id, &connection).await?;
    let party = Party { tenant_id, call_id: &call.id, actor: access.actor(), audit: &audit };
    let effects = drive(&state, &party, &mut agent, commerce.as_ref(), Event::Started).await?;
    let reply = record(&state, &party, &agent, None, effects, now).await?;
    state.store.insert_conversation(tenant_id, &call.id, &saved(&agent), now_micros()).await?;
    Ok((StatusCode::CREATED, Json(reply)))
}

/// Sends the caller's next words (or keys) and answers with what the agent said and did.
#[utoipa::path(post, path = "/api/v1/sandbox/conversations/{id}/messages", operation_id = "send_message", tag = "sandbox",
    params(("id" = String, Path, description = "The conversation's call id")), request_body = Message, security(("bearer" = [])), responses(
    (status = 200, description = "The agent's answer", body = Reply),
    (status = 403, description = "Supervisors and above only, signed in", body = caly_guard::problem::ProblemBody, content_type = "application/problem+json"),
    (status = 404, description = "No such conversation in this tenant", body = caly_guard::problem::ProblemBody, content_type = "application/problem+json"),
    (status = 409, description = "The conversation has ended, or another message was being answered", body = caly_guard::problem::ProblemBody, content_type = "application/problem+json"),
    (status = 422, description = "Neither or both of text and digits, or invalid", body = caly_guard::problem::ProblemBody, content_type = "application/problem+json")))]
pub async fn message(
    State(state): State<AppState>,
    access: Access,
    audit: AuditContext,
    PathId(id): PathId,
    JsonBody(body): JsonBody<Message>,
) -> Result<Json<Reply>, ApiError> {
    access.require(Permission::UseSandbox)?;
    let tenant_id = &access.tenant_id;
    let input = input(body)?;
    let (saved_state, version) =
        state.store.conversation(tenant_id, &id).await?.ok_or(ApiError::NotFound("Conversation"))?;
    let mut agent: Agent = serde_json::from_str(&saved_state).map_err(ApiError::internal)?;
    if agent.ended() {
        return Err(ApiError::Conflict("The conversation has ended.".into()));
    }
    let now = now_micros();
    let settings = settings_of(&state, tenant_id).await?;
    let (said, understanding, engine, event) = match input {
        Input::Text(text) => {
            let engine = state.dialogue.engine(settings.dialogue.engine);
            let understood = engine.understand(&text, agent.last_said()).await;
            let understanding = understood.understanding;
            let event = Event::Heard { text: text.clone(), understanding: understanding.clone() };
            (text, Some(understanding), Some(understood.engine), event)
        }
        Input::Digits(digits) => (format!("[keypad] {digits}"), None, None, Event::Keypad(digits)),
    };
    let caller_turn = Turn {
        language: understanding.as_ref().and_then(|u| u.language).map(|l| l.as_str().to_owned()),
        intent: understanding.as_ref().map(|u| u.intent.as_str().to_owned()),
        ..turn(Speaker::Caller, said, now)
    };
    state.store.append_turn(tenant_id, &id, &caller_turn, None).await?;
    let commerce = connector_for(&state, tenant_id, &settings.store).await?;
    let party = Party { tenant_id, call_id: &id, actor: access.actor(), audit: &audit };
    let effects = drive(&state, &party, &mut agent, commerce.as_ref(), event).await?;
    let mut reply = record(&state, &party, &agent, understanding, effects, now).await?;
    reply.engine = engine;
    if !state.store.save_conversation(tenant_id, &id, version, &saved(&agent), now_micros()).await? {
        return Err(ApiError::Conflict(
            "Another message to this conversation was answered first; send it again.".into(),
        ));
    }
    Ok(Json(reply))
}

enum Input {
    Text(String),
    Digits(String),
}

fn input(body: Message) -> Result<Input, ApiError> {
    let mut errors = FieldErrors::default();
    let input = match (body.text, body.digits) {
        (Some(text), None) => {
            let length = text.trim().chars().count();
            if length == 0 || length > 1000 || text.chars().any(|c| c.is_control() && c != '\n') {
                errors.refuse(
                    "text",
                    Invalid::new("invalid_text", "must be 1–1000 characters without control characters"),
                );
            }
            Input::Text(text)
        }
        (None, Some(digits)) => {
            let keys = digits.len();
            if keys == 0 || keys > 32 || !digits.bytes().all(|b| b.is_ascii_digit() || b == b'*' || b == b'#') {
                errors.refuse("digits", Invalid::new("invalid_digits", "must be 1–32 of 0-9, * and #"));
            }
            Input::Digits(digits.trim_end_matches('#').to_owned())
        }
        _ => {
            errors.refuse("text", Invalid::new("one_of", "give either `text` or `digits`"));
            Input::Text(String::new())
        }
    };
    errors.finish()?;
    Ok(input)
}

fn turn(speaker: Speaker, text: String, at: i64) -> Turn {
    Turn { ended_at: Some(at), ..Turn::new(speaker, text, at) }
}

fn saved(agent: &Agent) -> String {
    serde_json::to_string(agent).expect("the agent's state serialises")
}

/// Writes the agent's words as a turn and closes the call when the agent ended it.
async fn record(
    state: &AppState,
    party: &Party<'_>,
    agent: &Agent,
    understanding: Option<Understanding>,
    effects: Vec<Effect>,
    heard_at: i64,
) -> Result<Reply, ApiError> {
    let replies: Vec<String> = effects
        .iter()
        .filter_map(|e| match e {
            Effect::Say { text } => Some(text.clone()),
            _ => None,
        })
        .collect();
    let now = now_micros();
    let elapsed_ms = (now - heard_at) / 1_000;
    if !replies.is_empty() {
        let agent_turn = Turn {
            language: Some(agent.language().as_str().to_owned()),
            dialogue_ms: Some(elapsed_ms),
            ..turn(Speaker::Agent, replies.join(" "), now)
        };
        state.store.append_turn(party.tenant_id, party.call_id, &agent_turn, Some(elapsed_ms)).await?;
    }
    let end = effects.iter().find_map(|e| match e {
        Effect::Transfer { summary } => Some((Outcome::Transferred, "transferred", summary)),
        Effect::HangUp { summary } => Some((Outcome::Resolved, "agent_hung_up", summary)),
        _ => None,
    });
    if let Some((outcome, reason, summary)) = end {
        let end = CallEnd {
            status: CallStatus::Completed,
            outcome: Some(outcome),
            end_reason: reason,
            ended_at: now,
            summary: Some(summary),
        };
        state.store.finish_call(party.tenant_id, party.call_id, end).await?;
    }
    Ok(Reply {
        call_id: party.call_id.to_owned(),
        replies,
        language: agent.language().as_str().to_owned(),
        understanding,
        effects,
        ended: agent.ended(),
        engine: None,
    })
}
