//! A caller's task: what they want done, and how far it has got.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{ActionRequest, Turn, speak};
use crate::{
    action::ActionKind,
    dialogue::Intent,
    order::Order,
    policy::{self, Verdict},
};

/// What the caller wants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Goal {
    Status,
    Tracking,
    Invoice,
    Product,
    Act(ActionKind),
}

impl Goal {
    /// The goal an intent starts, if it is about an order.
    pub fn of(intent: Intent) -> Option<Self> {
        Some(match intent {
            Intent::OrderStatus => Self::Status,
            Intent::Tracking => Self::Tracking,
            Intent::Invoice => Self::Invoice,
            Intent::CancelOrder => Self::Act(ActionKind::Cancel),
            Intent::Return => Self::Act(ActionKind::Return),
            Intent::Exchange => Self::Act(ActionKind::Exchange),
            Intent::Refund => Self::Act(ActionKind::Refund),
            Intent::AddressChange => Self::Act(ActionKind::AddressChange),
            _ => return None,
        })
    }

    pub fn intent(self) -> Intent {
        match self {
            Self::Status => Intent::OrderStatus,
            Self::Tracking => Intent::Tracking,
            Self::Invoice => Intent::Invoice,
            Self::Product => Intent::ProductQuestion,
            Self::Act(ActionKind::Cancel) => Intent::CancelOrder,
            Self::Act(ActionKind::Return) => Intent::Return,
            Self::Act(ActionKind::Exchange) => Intent::Exchange,
            Self::Act(ActionKind::Refund) => Intent::Refund,
            Self::Act(ActionKind::AddressChange) => Intent::AddressChange,
        }
    }
}

/// What the task waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    OrderNumber,
    LookingUp,
    Identity,
    Reason,
    Address,
    Confirm,
    Acting,
    Searching,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Task {
    pub goal: Goal,
    pub stage: Stage,
    /// Times the current question was asked again.
    pub asks: u32,
    pub identity_tries: u32,
    pub order_number: Option<String>,
    /// The order was looked up for this task: each task reads the order afresh, as an action
    /// earlier in the call may have changed it.
    #[serde(default)]
    pub fetched: bool,
    pub reason: Option<String>,
    pub address: Option<String>,
    pub amount_paise: Option<i64>,
    /// The change read back to the caller, waiting for their yes.
    pub request: Option<ActionRequest>,
}

impl Task {
    pub fn new(goal: Goal, stage: Stage) -> Self {
        Self {
            goal,
            stage,
            asks: 0,
            identity_tries: 0,
            order_number: None,
            fetched: false,
            reason: None,
            address: None,
            amount_paise: None,
            request: None,
        }
    }
}

impl Turn<'_> {
    /// The order is known and the caller verified: answer, or judge and read back the change.
    pub(super) fn carry_out(&mut self) {
        let (Some(task), Some(order)) = (self.agent.task.clone(), self.agent.order.clone()) else { return };
        let number = speak::digits(&order.number);
        let zone = jiff::tz::TimeZone::get(&self.agent.setup.timezone).unwrap_or(jiff::tz::TimeZone::UTC);
        let language = self.agent.language;
        let day = |micros: Option<i64>| micros.map(|at| speak::date(at, &zone, language));
        match task.goal {
            Goal::Status => {
                let eta = day(order.tracking.as_ref().and_then(|t| t.eta));
                let eta = eta.unwrap_or_else(|| self.text("eta_unknown", &[]));
                let carrier = order.tracking.as_ref().map(|t| t.carrier.clone()).unwrap_or_default();
                let delivered = day(order.delivered_at).unwrap_or_default();
                self.note(format!("Asked about order {} ({}).", order.number, order.status));
                let key = format!("status_{}", order.status);
                self.say(&key, &[("number", &number), ("carrier", &carrier), ("eta", &eta), ("delivered", &delivered)]);
                self.agent.task = None;
            }
            Goal::Tracking => {
                self.note(format!("Asked to track order {}.", order.number));
                match &order.tracking {
                    Some(tracking) => {
                        let eta = day(tracking.eta).unwrap_or_else(|| self.text("eta_unknown", &[]));
                        let latest = tracking.events.last().map(|e| format!("{}, {}", e.description, e.location));
                        let awb = speak::digits(&tracking.awb);
                        let values = [
                            ("carrier", tracking.carrier.as_str()),
                            ("awb", &awb),
                            ("latest", &latest.unwrap_or_default()),
                            ("eta", &eta),
                        ];
                        self.say("tracking", &values);
                    }
                    None => self.say("not_shipped", &[("number", &number)]),
                }
                self.agent.task = None;
            }
            Goal::Invoice => {
                self.note(format!("Asked for the invoice of order {}.", order.number));
                match &order.invoice_url {
                    Some(link) => self.say("invoice", &[("number", &number), ("link", link)]),
                    None => self.say("no_invoice", &[("number", &number)]),
                }
                self.agent.task = None;
            }
            Goal::Product => self.agent.task = None,
            Goal::Act(kind) => self.propose(kind, task, &order),
        }
    }

    fn text(&self, key: &str, values: &[(&str, &str)]) -> String {
        self.replies.say(&self.agent.setup.settings.replies, key, self.agent.language, values)
    }

    /// Judges the change, asks for what it still lacks, then reads it back for a yes.
    fn propose(&mut self, kind: ActionKind, mut task: Task, order: &Order) {
        let number = speak::digits(&order.number);
        let language = self.agent.language;
        let refund = task.amount_paise.unwrap_or_else(|| order.refundable_paise());
        let verdict = policy::judge(kind, order, &self.agent.setup.settings, refund, self.now);
        if let Verdict::Refused(refusal) = verdict {
            self.note(format!("{kind} of order {} refused: {refusal}.", order.number));
            let most = speak::amount(order.refundable_paise(), language);
            let days = self.agent.setup.settings.policies.return_window_days.to_string();
            self.say(&format!("refusal_{refusal}"), &[("number", &number), ("amount", &most), ("days", &days)]);
            self.agent.task = None;
            return;
        }
        let needs_reason = matches!(kind, ActionKind::Return | ActionKind::Exchange) && task.reason.is_none();
        let needs_address = kind == ActionKind::AddressChange && task.address.is_none();
        if needs_reason || needs_address {
            task.stage = if needs_reason { Stage::Reason } else { Stage::Address };
            self.agent.task = Some(task);
            return self.say(if needs_reason { "ask_reason" } else { "ask_address" }, &[]);
        }
        let mut params = BTreeMap::new();
        params.extend(task.reason.clone().map(|r| ("reason".to_owned(), r)));
        params.extend(task.address.clone().map(|a| ("address".to_owned(), a)));
        let amount_paise = match kind {
            ActionKind::Refund => Some(refund),
            ActionKind::Cancel => Some(order.total_paise),
            _ => None,
        };
        let needs_approval = match verdict {
            Verdict::NeedsApproval(why) => Some(why.to_owned()),
            _ => None,
        };
        let amount = amount_paise.map(|p| speak::amount(p, language)).unwrap_or_default();
        let address = task.address.clone().unwrap_or_default();
        let mut readback =
            self.text(&format!("confirm_{kind}"), &[("number", &number), ("amount", &amount), ("address", &address)]);
        if needs_approval.is_some() {
            readback = format!("{} {readback}", self.text("needs_approval", &[]));
        }
        task.request = Some(ActionRequest {
            kind,
            order_number: order.number.clone(),
            params,
            amount_paise,
            needs_approval,
            idempotency_key: format!("{}:{kind}:{}", self.agent.setup.call_id, order.number),
        });
        task.stage = Stage::Confirm;
        task.asks = 0;
        self.agent.task = Some(task);
        self.say_text(readback);
    }
}
