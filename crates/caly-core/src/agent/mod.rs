//! The agent: one conversation's state machine. Sans-IO — it takes events (what the caller
//! said, what the store answered) and returns effects (say this, look that up, act, transfer);
//! the runtime performs the effects and feeds their results back as events.
//!
//! One task at a time (an order question, a cancellation…), one missing slot asked at a time,
//! the caller's identity checked before anything about an order is told or changed, and every
//! change read back and confirmed before it becomes an action.

pub mod speak;
mod summary;
mod task;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use task::{Goal, Stage, Task};

use crate::{
    Language,
    action::ActionKind,
    dialogue::{Intent, Understanding},
    order::{Order, Product},
    replies::Replies,
    settings::Settings,
};

/// What the agent is told.
#[derive(Debug, Clone)]
pub enum Event {
    /// The call is connected.
    Started,
    /// The caller said something, as the dialogue engine understood it.
    Heard { text: String, understanding: Understanding },
    /// Keys pressed on the keypad, collected up to `#` or a pause.
    Keypad(String),
    /// The answer to `FindOrder`.
    Found(Option<Order>),
    /// The answer to `SearchProducts`.
    Products(Vec<Product>),
    /// How an `Act` went.
    Acted(Acted),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Acted {
    Done,
    AwaitingApproval,
    Failed,
}

/// What the agent asks the runtime to do, in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Effect {
    Say {
        text: String,
    },
    FindOrder {
        number: String,
    },
    SearchProducts {
        query: String,
    },
    Act(ActionRequest),
    /// Hand the call to a person, with what happened so far.
    Transfer {
        summary: String,
    },
    HangUp {
        summary: String,
    },
}

/// A change to an order the caller confirmed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionRequest {
    pub kind: ActionKind,
    pub order_number: String,
    /// Reason, new address…
    pub params: BTreeMap<String, String>,
    pub amount_paise: Option<i64>,
    /// Why a supervisor must approve it first, when the policy says so.
    pub needs_approval: Option<String>,
    /// The same for a repeated "yes" or a retried request, so nothing runs twice.
    pub idempotency_key: String,
}

/// What the agent knows of the call from the start.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Setup {
    pub call_id: String,
    /// The calling number, E.164, when the carrier told it.
    pub caller: Option<String>,
    /// The tenant's default language, spoken until the caller shows theirs.
    pub language: Language,
    /// IANA name of the store's time zone, for dates.
    pub timezone: String,
    pub settings: Settings,
}

/// Re-asks of one question before the agent offers a person instead.
const MAX_ASKS: u32 = 2;
/// Wrong identity answers before the agent stops trying.
const MAX_IDENTITY_TRIES: u32 = 2;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Agent {
    setup: Setup,
    language: Language,
    task: Option<Task>,
    /// The order under discussion and whether the caller proved it is theirs.
    order: Option<Order>,
    verified: bool,
    failed_turns: u32,
    /// What happened, in a few words each, for the summary handed to a person.
    notes: Vec<String>,
    ended: bool,
    /// The agent's last words: what the caller's next words may be answering.
    #[serde(default)]
    last_said: Option<String>,
}

impl Agent {
    pub fn new(setup: Setup) -> Self {
        let language = setup.language;
        Self {
            setup,
            language,
            task: None,
            order: None,
            verified: false,
            failed_turns: 0,
            notes: Vec::new(),
            ended: false,
            last_said: None,
        }
    }

    pub fn language(&self) -> Language {
        self.language
    }

    pub fn ended(&self) -> bool {
        self.ended
    }

    pub fn last_said(&self) -> Option<&str> {
        self.last_said.as_deref()
    }

    pub fn task(&self) -> Option<&Task> {
        self.task.as_ref()
    }

    /// Handles one event at `now` (microseconds) and returns what to do.
    pub fn handle(&mut self, replies: &Replies, event: Event, now: i64) -> Vec<Effect> {
        let mut turn = Turn { agent: self, replies, now, effects: Vec::new() };
        if !turn.agent.ended {
            turn.handle(event);
        }
        turn.effects
    }
}

/// What the agent says first in `language`: the tenant's greeting, else the shipped question.
/// Known before a call starts, so its speech can be made ahead.
pub fn greeting(settings: &Settings, replies: &Replies, language: Language) -> String {
    match settings.agent.greetings.get(language.as_str()) {
        Some(greeting) => greeting.clone(),
        None => replies.say(&settings.replies, "how_can_i_help", language, &[]),
    }
}

/// One event being handled: the agent, and the effects so far.
struct Turn<'a> {
    agent: &'a mut Agent,
    replies: &'a Replies,
    now: i64,
    effects: Vec<Effect>,
}

impl Turn<'_> {
    fn handle(&mut self, event: Event) {
        match event {
            Event::Started => self.say_text(greeting(&self.agent.setup.settings, self.replies, self.agent.language)),
            Event::Heard { text, understanding } => self.heard(&text, understanding),
            Event::Keypad(digits) => self.keypad(digits),
            Event::Found(order) => self.found(order),
            Event::Products(products) => self.products(&products),
            Event::Acted(acted) => self.acted(acted),
        }
    }

    fn say(&mut self, key: &str, values: &[(&str, &str)]) {
        let text = self.replies.say(&self.agent.setup.settings.replies, key, self.agent.language, values);
        self.say_text(text);
    }

    fn say_text(&mut self, text: String) {
        self.agent.last_said = Some(text.clone());
        self.effects.push(Effect::Say { text });
    }

    fn note(&mut self, note: impl Into<String>) {
        self.agent.notes.push(note.into());
    }

    fn transfer(&mut self, why: &str) {
        self.note(format!("Transferred: {why}."));
        self.say("transfer", &[]);
        let summary = self.agent.summary();
        self.effects.push(Effect::Transfer { summary });
        self.agent.ended = true;
    }

    fn heard(&mut self, text: &str, understanding: Understanding) {
        let spoken = self
            .agent
            .setup
            .settings
            .languages
            .iter()
            .any(|l| Some(l.as_str()) == understanding.language.map(|l| l.as_str()));
        // A reason or an address is the caller's own words, often English names: not a switch.
        let free_text = self.agent.task.as_ref().is_some_and(|t| matches!(t.stage, Stage::Reason | Stage::Address));
        if let Some(language) = understanding.language.filter(|_| spoken && !free_text) {
            self.agent.language = language;
        }
        let intent = understanding.intent;
        if understanding.upset {
            return self.transfer("the caller was upset or abusive");
        }
        if intent == Intent::Human {
            return self.transfer("the caller asked for a person");
        }
        if let Some(stage) = self.agent.task.as_ref().map(|t| t.stage)
            && self.answer(stage, text, &understanding)
        {
            return;
        }
        self.request(text, understanding);
    }

    /// Takes the utterance as the answer to what the current task asked; `false` when it is
    /// not one (a new request, or nothing to do with the question).
    fn answer(&mut self, stage: Stage, text: &str, understanding: &Understanding) -> bool {
        let intent = understanding.intent;
        if intent == Intent::NeverMind {
            return false;
        }
        let Some(task) = self.agent.task.as_mut() else { return false };
        let entities = &understanding.entities;
        let first_number = entities.numbers.first().cloned();
        match stage {
            Stage::Confirm => {
                let same_request = task.goal.intent() == intent;
                if intent == Intent::Yes || same_request {
                    self.act();
                } else if intent == Intent::No {
                    let request = task.request.as_ref().map(|r| r.kind.as_str()).unwrap_or_default();
                    self.note(format!("The caller declined the {request}."));
                    self.agent.task = None;
                    self.say("declined", &[]);
                } else if is_request(intent) {
                    return false;
                } else {
                    self.ask_again("confirm_again");
                }
            }
            Stage::OrderNumber => match entities.order_number.clone().or(first_number) {
                Some(number) => self.look_up(number),
                None if is_request(intent) => return false,
                None => self.ask_again("ask_order_number"),
            },
            Stage::Identity => {
                let answer = entities.pincode.clone().or(first_number);
                self.identity(answer.as_deref());
            }
            Stage::Reason => {
                task.reason = Some(entities.reason.clone().unwrap_or_else(|| text.trim().to_owned()));
                self.advance();
            }
            Stage::Address => {
                let address = entities.address.clone().unwrap_or_else(|| text.trim().to_owned());
                if address.chars().filter(|c| c.is_alphanumeric()).count() < 10 {
                    self.ask_again("ask_address");
                } else {
                    task.address = Some(address);
                    self.advance();
                }
            }
            Stage::LookingUp | Stage::Acting | Stage::Searching => {
                if is_request(intent) {
                    return false;
                }
                self.say("not_understood", &[]);
            }
        }
        true
    }

    fn request(&mut self, text: &str, understanding: Understanding) {
        let intent = understanding.intent;
        match intent {
            Intent::NeverMind => {
                self.agent.task = None;
                self.say("never_mind", &[]);
            }
            Intent::Goodbye => {
                self.say("goodbye", &[]);
                let summary = self.agent.summary();
                self.effects.push(Effect::HangUp { summary });
                self.agent.ended = true;
            }
            Intent::Greeting | Intent::Yes | Intent::No => self.say("how_can_i_help", &[]),
            Intent::Unknown => {
                self.agent.failed_turns += 1;
                if self.agent.failed_turns >= self.agent.setup.settings.policies.escalate_after_failed_turns {
                    self.transfer("the agent could not understand the caller");
                } else {
                    self.say("not_understood", &[]);
                }
            }
            Intent::PaymentProblem => {
                self.note("Asked about a payment problem.");
                self.say("payment_help", &[]);
            }
            Intent::Cod => self.say("cod_info", &[]),
            Intent::TechnicalProblem => {
                self.note("Reported a technical problem with the app or website.");
                self.say("tech_help", &[]);
            }
            Intent::Complaint => {
                self.note(format!("Complaint: \"{}\".", text.trim()));
                self.say("complaint", &[]);
                let summary = self.agent.summary();
                self.effects.push(Effect::Transfer { summary });
                self.agent.ended = true;
            }
            Intent::ProductQuestion => {
                self.agent.task = Some(Task::new(Goal::Product, Stage::Searching));
                self.effects.push(Effect::SearchProducts { query: text.trim().to_owned() });
            }
            Intent::Human => self.transfer("the caller asked for a person"),
            _ => {
                let Some(goal) = Goal::of(intent) else { return self.say("not_understood", &[]) };
                let entities = understanding.entities;
                let mut task = Task::new(goal, Stage::OrderNumber);
                task.reason = entities.reason;
                task.address = entities.address;
                task.amount_paise = entities.amount_paise;
                task.order_number = entities.order_number;
                self.agent.task = Some(task);
                self.advance();
            }
        }
    }

    fn keypad(&mut self, digits: String) {
        let (intent, numbers) = match (self.agent.task.as_ref().map(|t| t.stage), digits.as_str()) {
            (Some(Stage::Confirm), "1") => (Intent::Yes, Vec::new()),
            (Some(Stage::Confirm), "2") => (Intent::No, Vec::new()),
            _ => (Intent::Unknown, vec![digits.clone()]),
        };
        let mut understanding = Understanding::nothing();
        understanding.intent = intent;
        understanding.entities.numbers = numbers;
        self.heard(&digits, understanding);
    }

    fn ask_again(&mut self, key: &str) {
        let Some(task) = self.agent.task.as_mut() else { return };
        task.asks += 1;
        if task.asks > MAX_ASKS {
            self.transfer("the caller could not answer the agent's question");
        } else {
            self.say(key, &[]);
        }
    }

    fn look_up(&mut self, number: String) {
        if let Some(task) = self.agent.task.as_mut() {
            task.order_number = Some(number.clone());
            task.stage = Stage::LookingUp;
        }
        self.effects.push(Effect::FindOrder { number });
    }

    fn found(&mut self, order: Option<Order>) {
        let Some(task) = self.agent.task.as_mut().filter(|t| t.stage == Stage::LookingUp) else { return };
        let number = task.order_number.clone().unwrap_or_default();
        match order {
            Some(order) => {
                task.fetched = true;
                if self.agent.order.as_ref().is_none_or(|o| o.number != order.number) {
                    self.agent.verified = false;
                }
                self.agent.order = Some(order);
                self.advance();
            }
            None => {
                task.stage = Stage::OrderNumber;
                task.order_number = None;
                self.note(format!("Order {number} was not found."));
                self.ask_again_with("order_not_found", &number);
            }
        }
    }

    fn ask_again_with(&mut self, key: &str, number: &str) {
        let Some(task) = self.agent.task.as_mut() else { return };
        task.asks += 1;
        if task.asks > MAX_ASKS {
            self.transfer("the caller's order could not be found");
        } else {
            self.say(key, &[("number", &speak::digits(number))]);
        }
    }

    fn identity(&mut self, answer: Option<&str>) {
        let owned = self.agent.order.as_ref().is_some_and(|o| o.owned_by(None, answer));
        if owned {
            self.agent.verified = true;
            self.note("Identity confirmed by PIN code or phone digits.");
            return self.advance();
        }
        let Some(task) = self.agent.task.as_mut() else { return };
        task.identity_tries += 1;
        if task.identity_tries >= MAX_IDENTITY_TRIES {
            self.note("Identity check failed; nothing was disclosed.");
            self.agent.task = None;
            self.agent.failed_turns += 1;
            self.say("identity_failed", &[]);
        } else {
            self.say("identity_retry", &[]);
        }
    }

    /// Moves the current task on as far as it can go without the caller.
    fn advance(&mut self) {
        let Some(task) = self.agent.task.as_ref() else { return };
        let verified_order = self.agent.order.as_ref().filter(|_| self.agent.verified).map(|o| o.number.clone());
        match (task.order_number.clone().or(verified_order), task.fetched) {
            (None, _) => {
                self.set_stage(Stage::OrderNumber);
                return self.say("ask_order_number", &[]);
            }
            (Some(number), false) => return self.look_up(number),
            (Some(_), true) => {}
        }
        if !self.agent.verified {
            let caller = self.agent.setup.caller.clone();
            if self.agent.order.as_ref().is_some_and(|o| o.owned_by(caller.as_deref(), None)) {
                self.agent.verified = true;
                self.note("Identity confirmed by the calling number.");
            } else {
                self.set_stage(Stage::Identity);
                return self.say("ask_identity", &[]);
            }
        }
        self.carry_out();
    }

    fn set_stage(&mut self, stage: Stage) {
        if let Some(task) = self.agent.task.as_mut() {
            task.stage = stage;
        }
    }

    fn act(&mut self) {
        let Some(task) = self.agent.task.as_mut() else { return };
        let Some(request) = task.request.clone() else { return };
        task.stage = Stage::Acting;
        self.note(format!("Confirmed: {} of order {}.", request.kind, request.order_number));
        self.effects.push(Effect::Act(request));
    }

    fn acted(&mut self, acted: Acted) {
        let Some(task) = self.agent.task.take().filter(|t| t.stage == Stage::Acting) else { return };
        let Some(request) = task.request else { return };
        let number = speak::digits(&request.order_number);
        let amount = request.amount_paise.map(|p| speak::amount(p, self.agent.language)).unwrap_or_default();
        match acted {
            Acted::Done => {
                self.note(format!("Done: {} of order {}.", request.kind, request.order_number));
                self.say(&format!("done_{}", request.kind), &[("number", &number), ("amount", &amount)]);
            }
            Acted::AwaitingApproval => {
                self.note(format!("Sent for approval: {} of order {}.", request.kind, request.order_number));
                self.say("awaiting_approval", &[]);
            }
            Acted::Failed => {
                self.say("action_failed", &[]);
                self.transfer(&format!("the store could not carry out the {}", request.kind));
            }
        }
    }

    fn products(&mut self, products: &[Product]) {
        if self.agent.task.as_ref().is_some_and(|t| t.stage == Stage::Searching) {
            self.agent.task = None;
        }
        let Some(product) = products.first() else { return self.say("product_not_found", &[]) };
        let price = speak::amount(product.price_paise, self.agent.language);
        if product.in_stock == 0 {
            return self.say("product_out_of_stock", &[("title", &product.title), ("price", &price)]);
        }
        let variants = if product.variants.is_empty() {
            String::new()
        } else {
            let list = product.variants.join(", ");
            self.replies.say(
                &self.agent.setup.settings.replies,
                "product_variants",
                self.agent.language,
                &[("variants", &list)],
            )
        };
        let said = self.replies.say(
            &self.agent.setup.settings.replies,
            "product_in_stock",
            self.agent.language,
            &[("title", &product.title), ("price", &price), ("variants", &variants)],
        );
        self.say_text(said.trim_end().to_owned());
    }
}

/// Intents that start something, as opposed to answers and courtesies.
fn is_request(intent: Intent) -> bool {
    !intent.is_answer() && intent != Intent::Unknown
}
