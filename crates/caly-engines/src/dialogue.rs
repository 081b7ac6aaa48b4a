//! Dialogue engines behind one trait: what did the caller mean? The agent's state machine, its
//! identity checks and policies stay the same whichever engine understood the words — an LLM
//! proposes an understanding, it never acts.

use std::{sync::Arc, time::Duration};

use caly_core::{
    Email, PhoneNumber,
    dialogue::{Intent, Rules, Understanding},
    order::OrderNumber,
};
use serde_json::{Value, json};

use crate::{openai::ChatClient, provider::ProviderError};

/// An understanding and which engine produced it: `rules`, `llm`, or `rules_fallback` when the
/// LLM failed and the rules answered instead.
#[derive(Debug, Clone)]
pub struct Understood {
    pub understanding: Understanding,
    pub engine: &'static str,
    /// How long the model took to its first token, when a model answered.
    pub first_token: Option<Duration>,
}

#[async_trait::async_trait]
pub trait DialogueEngine: Send + Sync {
    /// Understands `text`; `asked` is what the agent said last (the caller may be answering it).
    async fn understand(&self, text: &str, asked: Option<&str>) -> Understood;
}

pub struct RulesEngine(pub Arc<Rules>);

#[async_trait::async_trait]
impl DialogueEngine for RulesEngine {
    async fn understand(&self, text: &str, _asked: Option<&str>) -> Understood {
        Understood { understanding: self.0.understand(text), engine: "rules", first_token: None }
    }
}

/// Understanding by an LLM through a forced tool call, checked field by field; the rules
/// answer whenever the model fails, times out or names an intent that does not exist.
pub struct LlmEngine {
    pub client: ChatClient,
    pub rules: Arc<Rules>,
}

const SYSTEM: &str = "You are the understanding step of a customer-support phone agent for an Indian \
online store. Callers speak Hindi (Devanagari), Hinglish (Hindi in Latin letters) or English, often \
mixed in one sentence, through speech recognition that makes mistakes. Call `understand` exactly once \
with what the caller wants now and any details they said. Intents: order_status (where is my order, \
when will it come), tracking (courier, AWB, tracking link), cancel_order, return, exchange, refund, \
address_change, payment_problem (failed, debited twice, stuck), cod (cash on delivery), invoice (bill, \
GST), product_question (availability, price, size), complaint, technical_problem (app, website, \
login, OTP), human (wants a person), greeting, goodbye, never_mind (drop the current request), yes, \
no, unknown. When the caller answers the agent's question (a number, yes or no), say so with the \
intent yes, no or unknown plus the details. Never invent a detail the caller did not say.";

fn tool() -> Value {
    let intents: Vec<&str> = Intent::ALL.iter().map(|i| i.as_str()).collect();
    json!({ "type": "function", "function": {
        "name": "understand",
        "description": "Record what the caller wants and the details they gave.",
        "parameters": { "type": "object", "required": ["intent"], "properties": {
            "intent": { "type": "string", "enum": intents },
            "language": { "type": "string", "enum": ["hi", "en", "hinglish"] },
            "order_number": { "type": "string" },
            "phone": { "type": "string" },
            "email": { "type": "string" },
            "amount_rupees": { "type": "number" },
            "pincode": { "type": "string" },
            "reason": { "type": "string" },
            "address": { "type": "string" },
        } },
    } })
}

impl LlmEngine {
    async fn ask(&self, text: &str, asked: Option<&str>) -> Result<(Understanding, Duration), ProviderError> {
        let mut messages = vec![json!({ "role": "system", "content": SYSTEM })];
        if let Some(asked) = asked {
            messages.push(json!({ "role": "assistant", "content": asked }));
        }
        messages.push(json!({ "role": "user", "content": text }));
        let called = self.client.call_tool(Value::Array(messages), tool()).await?;
        let said = called.arguments;
        let intent: Intent = said["intent"]
            .as_str()
            .and_then(|i| i.parse().ok())
            .ok_or_else(|| ProviderError::Unusable(format!("no known intent in {said}")))?;
        // The rules still read the numbers, language and abuse words; the model's details
        // replace theirs only where they pass the same validators.
        let mut understanding = self.rules.understand(text);
        understanding.intent = intent;
        understanding.confidence = 0.9;
        if let Some(language) = said["language"].as_str().and_then(|l| l.parse().ok()) {
            understanding.language = Some(language);
        }
        let field = |name: &str| said[name].as_str().map(str::trim).filter(|v| !v.is_empty());
        let entities = &mut understanding.entities;
        if let Some(number) = field("order_number").and_then(|n| OrderNumber::parse(n).ok()) {
            entities.order_number = Some(number.as_str().to_owned());
        }
        if let Some(phone) = field("phone").and_then(|p| PhoneNumber::parse(p).ok()) {
            entities.phone = Some(phone.as_str().to_owned());
        }
        if let Some(email) = field("email").and_then(|e| Email::parse(e).ok()) {
            entities.email = Some(email.as_str().to_owned());
        }
        if let Some(pincode) = field("pincode").filter(|p| p.len() == 6 && p.bytes().all(|b| b.is_ascii_digit())) {
            entities.pincode = Some(pincode.to_owned());
        }
        if let Some(rupees) = said["amount_rupees"].as_f64().filter(|r| r.is_finite() && *r > 0.0 && *r < 1e9) {
            entities.amount_paise = Some((rupees * 100.0).round() as i64);
        }
        entities.reason = field("reason").map(str::to_owned).or(entities.reason.take());
        entities.address = field("address").map(str::to_owned).or(entities.address.take());
        Ok((understanding, called.first_token))
    }
}

#[async_trait::async_trait]
impl DialogueEngine for LlmEngine {
    async fn understand(&self, text: &str, asked: Option<&str>) -> Understood {
        match self.ask(text, asked).await {
            Ok((understanding, first_token)) => {
                Understood { understanding, engine: "llm", first_token: Some(first_token) }
            }
            Err(error) => {
                tracing::warn!(%error, "the LLM did not understand; the rules engine answers");
                Understood { understanding: self.rules.understand(text), engine: "rules_fallback", first_token: None }
            }
        }
    }
}
