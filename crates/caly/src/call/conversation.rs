//! A phone call's conversation: the tenant's agent, understood by the tenant's dialogue engine,
//! acting through the tenant's store — the same `drive` as the sandbox — behind the speech
//! engine's [`Conversation`] trait.

use std::sync::Arc;

use caly_commerce::Store as Commerce;
use caly_core::{
    agent::{Agent, Effect, Event, Setup},
    settings::Settings,
};
use caly_engines::cascade::{Conversation, Reply, Said, Step};
use tokio::time::Instant;

use crate::{
    conversation::{Party, drive},
    http::audit::{Actor, AuditContext},
    state::AppState,
};

pub struct CallConversation {
    state: AppState,
    tenant_id: String,
    call_id: String,
    agent: Agent,
    settings: Settings,
    commerce: Arc<dyn Commerce>,
    audit: AuditContext,
}

impl CallConversation {
    pub fn new(
        state: AppState,
        tenant_id: String,
        setup: Setup,
        commerce: Arc<dyn Commerce>,
        audit: AuditContext,
    ) -> Self {
        Self {
            state,
            tenant_id,
            call_id: setup.call_id.clone(),
            settings: setup.settings.clone(),
            agent: Agent::new(setup),
            commerce,
            audit,
        }
    }
}

#[async_trait::async_trait]
impl Conversation for CallConversation {
    async fn reply(&mut self, said: Said) -> Result<Reply, String> {
        let started = Instant::now();
        let (event, intent, llm_first_token) = match said {
            Said::Started => (Event::Started, None, None),
            Said::Keys(digits) => (Event::Keypad(digits), None, None),
            Said::Words(text) => {
                let engine = self.state.dialogue.engine(self.settings.dialogue.engine);
                let understood = engine.understand(&text, self.agent.last_said()).await;
                let intent = understood.understanding.intent.as_str().to_owned();
                (Event::Heard { text, understanding: understood.understanding }, Some(intent), understood.first_token)
            }
        };
        let understanding = started.elapsed();
        let acting = Instant::now();
        let party =
            Party { tenant_id: &self.tenant_id, call_id: &self.call_id, actor: Actor::Anonymous, audit: &self.audit };
        let effects = drive(&self.state, &party, &mut self.agent, self.commerce.as_ref(), event)
            .await
            .map_err(|error| error.to_string())?;
        let steps = effects
            .into_iter()
            .filter_map(|effect| match effect {
                Effect::Say { text } => Some(Step::Say(text)),
                Effect::Transfer { summary } => Some(Step::Transfer(summary)),
                Effect::HangUp { .. } => Some(Step::HangUp),
                Effect::FindOrder { .. } | Effect::SearchProducts { .. } | Effect::Act(_) => None,
            })
            .collect();
        Ok(Reply {
            steps,
            language: self.agent.language(),
            intent,
            understanding,
            llm_first_token,
            tools: acting.elapsed(),
        })
    }
}
