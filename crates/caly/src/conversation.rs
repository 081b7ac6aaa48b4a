//! The runtime of a conversation: performs the agent's effects against the tenant's store and
//! feeds their results back until the agent has nothing left to do. Every action is an `actions`
//! row first (its idempotency key makes a repeated "yes" find the first one), then runs — or
//! waits for a supervisor, whose approval runs it through `execute`.

use std::{collections::BTreeMap, sync::Arc};

use caly_commerce::{CommerceError, Store as Commerce};
use caly_core::{
    action::ActionStatus,
    agent::{Acted, ActionRequest, Agent, Effect, Event},
    dialogue::Rules,
    replies::Replies,
    settings::EngineChoice,
};
use caly_engines::{
    dialogue::{DialogueEngine, LlmEngine, RulesEngine},
    openai::ChatClient,
};
use caly_store::{Action, NewAction, StoreError};
use secrecy::ExposeSecret;

use crate::{
    auth::now_micros,
    config::LlmConfig,
    http::audit::{Actor, AuditContext},
    state::AppState,
};

/// The dialogue engines and the shipped replies, built once at start-up.
pub struct Dialogue {
    pub rules: RulesEngine,
    /// `None` when no LLM is configured.
    pub llm: Option<LlmEngine>,
    pub replies: Replies,
}

impl Dialogue {
    pub fn new(config: &LlmConfig, http: reqwest::Client) -> Self {
        let rules = Arc::new(Rules::new());
        let llm = config.base_url.clone().map(|base_url| LlmEngine {
            client: ChatClient {
                base_url,
                api_key: config.api_key.as_ref().map(|k| k.expose_secret().to_owned()),
                model: config.model.clone(),
                timeout: config.timeout,
                http,
            },
            rules: rules.clone(),
        });
        Self { rules: RulesEngine(rules), llm, replies: Replies::shipped() }
    }

    /// The engine a tenant chose; the rules when it chose an LLM the server does not have.
    pub fn engine(&self, choice: EngineChoice) -> &dyn DialogueEngine {
        match (&self.llm, choice) {
            (Some(llm), EngineChoice::Llm) => llm,
            _ => &self.rules,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConversationError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The tenant's shop could not answer a lookup.
    #[error("the store connector failed: {0}")]
    Commerce(#[from] CommerceError),
    /// The audit log could not be written.
    #[error("audit failed")]
    Audit,
}

/// Who the conversation acts for, for the actions it records and the audit log.
pub struct Party<'a> {
    pub tenant_id: &'a str,
    pub call_id: &'a str,
    pub actor: Actor<'a>,
    pub audit: &'a AuditContext,
}

/// Handles `event` and everything it leads to; returns every effect, in order.
pub async fn drive(
    state: &AppState,
    party: &Party<'_>,
    agent: &mut Agent,
    commerce: &dyn Commerce,
    event: Event,
) -> Result<Vec<Effect>, ConversationError> {
    let mut done = Vec::new();
    let mut next = Some(event);
    while let Some(event) = next.take() {
        let effects = agent.handle(&state.dialogue.replies, event, now_micros());
        for effect in &effects {
            let answer = match effect {
                Effect::FindOrder { number } => Some(Event::Found(commerce.find_order(number).await?)),
                Effect::SearchProducts { query } => Some(Event::Products(commerce.search_products(query).await?)),
                Effect::Act(request) => Some(Event::Acted(act(state, party, commerce, request).await?)),
                Effect::Say { .. } | Effect::Transfer { .. } | Effect::HangUp { .. } => None,
            };
            // An agent waits on at most one lookup or action per event.
            next = next.or(answer);
        }
        done.extend(effects);
    }
    Ok(done)
}

/// Records the action once per idempotency key, then runs it unless it must wait for approval.
async fn act(
    state: &AppState,
    party: &Party<'_>,
    commerce: &dyn Commerce,
    request: &ActionRequest,
) -> Result<Acted, ConversationError> {
    let params = serde_json::to_string(&request.params).expect("string maps serialise");
    let status = if request.needs_approval.is_some() { ActionStatus::AwaitingApproval } else { ActionStatus::Proposed };
    let new = NewAction {
        call_id: Some(party.call_id),
        kind: request.kind,
        order_number: &request.order_number,
        params: &params,
        amount_paise: request.amount_paise,
        status,
        idempotency_key: &request.idempotency_key,
        requested_at: now_micros(),
    };
    let (action, inserted) = state.store.insert_action(party.tenant_id, new).await?;
    if !inserted {
        return Ok(match action.status {
            ActionStatus::Executed => Acted::Done,
            ActionStatus::Failed | ActionStatus::Rejected => Acted::Failed,
            ActionStatus::Proposed | ActionStatus::AwaitingApproval | ActionStatus::Approved => Acted::AwaitingApproval,
        });
    }
    let details = serde_json::json!({
        "kind": action.kind.as_str(), "order_number": action.order_number, "amount_paise": action.amount_paise,
        "call_id": party.call_id, "needs_approval": request.needs_approval,
    });
    record(state, party, "action.requested", &action.id, "success", details).await?;
    if status == ActionStatus::AwaitingApproval {
        return Ok(Acted::AwaitingApproval);
    }
    Ok(if execute(state, party, commerce, &action).await? == ActionStatus::Executed {
        Acted::Done
    } else {
        Acted::Failed
    })
}

/// Runs a proposed or approved action against the store and records how it went, once.
pub async fn execute(
    state: &AppState,
    party: &Party<'_>,
    commerce: &dyn Commerce,
    action: &Action,
) -> Result<ActionStatus, ConversationError> {
    let params: BTreeMap<String, String> = serde_json::from_str(&action.params).unwrap_or_default();
    let outcome =
        caly_commerce::perform(commerce, action.kind, &action.order_number, &params, action.amount_paise).await;
    let (status, result, audit_outcome) = match &outcome {
        Ok(receipt) => (
            ActionStatus::Executed,
            serde_json::json!({ "reference": receipt.reference, "detail": receipt.detail }),
            "success",
        ),
        Err(error) => (ActionStatus::Failed, serde_json::json!({ "error": error.to_string() }), "failure"),
    };
    if let Err(error) = &outcome {
        tracing::warn!(action_id = %action.id, %error, "the store did not carry out an action");
    }
    let recorded = state
        .store
        .record_action_result(party.tenant_id, &action.id, status, &result.to_string(), now_micros())
        .await?;
    if recorded {
        let details = serde_json::json!({
            "kind": action.kind.as_str(), "order_number": action.order_number, "amount_paise": action.amount_paise,
            "result": result,
        });
        record(state, party, "action.executed", &action.id, audit_outcome, details).await?;
    }
    Ok(status)
}

async fn record(
    state: &AppState,
    party: &Party<'_>,
    event: &'static str,
    target: &str,
    outcome: &'static str,
    details: serde_json::Value,
) -> Result<(), ConversationError> {
    party
        .audit
        .record(&state.store, party.tenant_id, party.actor, event, Some(target), outcome, details)
        .await
        .map_err(|_| ConversationError::Audit)
}
