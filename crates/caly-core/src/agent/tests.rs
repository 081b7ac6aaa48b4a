//! The agent driven event by event, with orders handed to it as a store would.

use super::*;
use crate::{dialogue::Rules, order::OrderStatus};

const NOW: i64 = 1_800_000_000_000_000;

fn order(number: &str, status: OrderStatus) -> Order {
    crate::order::sample(number, status, NOW)
}

/// A conversation: the agent, the engine, and the orders the "store" has.
struct Call {
    agent: Agent,
    rules: Rules,
    replies: Replies,
    orders: Vec<Order>,
    actions: Vec<ActionRequest>,
    transferred: Option<String>,
}

impl Call {
    fn new(caller: Option<&str>, orders: Vec<Order>) -> Self {
        let setup = Setup {
            call_id: "call-1".into(),
            caller: caller.map(str::to_owned),
            language: Language::Hinglish,
            timezone: "Asia/Kolkata".into(),
            settings: Settings::default(),
        };
        Self {
            agent: Agent::new(setup),
            rules: Rules::new(),
            replies: Replies::shipped(),
            orders,
            actions: Vec::new(),
            transferred: None,
        }
    }

    /// Says `text` and returns everything the agent said back, running its lookups and actions.
    fn say(&mut self, text: &str) -> String {
        let understanding = self.rules.understand(text);
        self.run(Event::Heard { text: text.into(), understanding })
    }

    fn run(&mut self, event: Event) -> String {
        let mut said = Vec::new();
        let mut queue = vec![event];
        while let Some(event) = queue.pop() {
            for effect in self.agent.handle(&self.replies, event, NOW) {
                match effect {
                    Effect::Say { text } => said.push(text),
                    Effect::FindOrder { number } => {
                        queue.push(Event::Found(self.orders.iter().find(|o| o.number == number).cloned()))
                    }
                    Effect::Act(request) => {
                        let duplicate = self.actions.iter().any(|a| a.idempotency_key == request.idempotency_key);
                        let acted =
                            if request.needs_approval.is_some() { Acted::AwaitingApproval } else { Acted::Done };
                        if !duplicate {
                            self.actions.push(request);
                        }
                        queue.push(Event::Acted(acted));
                    }
                    Effect::SearchProducts { .. } => queue.push(Event::Products(Vec::new())),
                    Effect::Transfer { summary } | Effect::HangUp { summary } => self.transferred = Some(summary),
                }
            }
        }
        said.join(" ")
    }
}

#[test]
fn a_caller_calling_from_the_orders_number_cancels_it_after_saying_yes() {
    let mut call = Call::new(Some("+919876543210"), vec![order("1023", OrderStatus::Confirmed)]);
    let said = call.say("mera order 1023 cancel kar do");
    assert!(said.contains("order 1 0 2 3, baarah sau ninyanave rupaye ka, cancel kar doon"), "{said}");
    assert!(call.actions.is_empty(), "nothing happens before the yes");
    let said = call.say("haan");
    assert!(said.starts_with("Ho gaya. Order 1 0 2 3 cancel"), "{said}");
    assert_eq!(call.actions.len(), 1);
    assert_eq!(call.actions[0].kind, ActionKind::Cancel);
    assert_eq!(call.actions[0].idempotency_key, "call-1:cancel:1023");
    call.say("haan");
    assert_eq!(call.actions.len(), 1, "a second yes does nothing");
}

#[test]
fn another_number_must_give_the_pin_code_before_anything_is_told() {
    let mut call = Call::new(Some("+919999999999"), vec![order("1023", OrderStatus::Confirmed)]);
    let said = call.say("what is the status of order 1023");
    assert!(said.contains("PIN code"), "{said}");
    assert!(!said.contains("confirmed"), "{said}");
    assert!(call.say("110001").contains("doesn't match"));
    let said = call.say("my pin code is 560001");
    assert_eq!(said, "Order 1 0 2 3 is confirmed and will be packed soon.");
}

#[test]
fn two_wrong_identity_answers_end_the_task_without_disclosure() {
    let mut call = Call::new(None, vec![order("1023", OrderStatus::Shipped)]);
    call.say("I want to cancel order 1023");
    call.say("1111");
    let said = call.say("2222");
    assert!(said.contains("can't share or change anything"), "{said}");
    assert!(call.actions.is_empty());
    assert!(call.agent.summary().contains("Identity check failed"));
}

#[test]
fn last_four_digits_of_the_phone_also_prove_ownership() {
    let mut call = Call::new(None, vec![order("1023", OrderStatus::Confirmed)]);
    call.say("order 1023 ka status");
    assert!(call.say("3210").contains("confirm ho gaya"));
}

#[test]
fn policy_refusals_are_explained_in_the_callers_language() {
    let mut call = Call::new(Some("+919876543210"), vec![order("1023", OrderStatus::Shipped)]);
    let said = call.say("ऑर्डर 1023 कैंसिल करो");
    assert!(said.contains("भेजा जा चुका है, इसलिए अब कैंसिल नहीं हो सकता"), "{said}");
    assert!(call.actions.is_empty());
}

#[test]
fn refunds_above_the_limit_go_to_a_supervisor() {
    let mut call = Call::new(Some("+919876543210"), vec![order("1023", OrderStatus::Delivered)]);
    let said = call.say("I want a refund for order 1023");
    assert!(said.starts_with("A supervisor will need to approve this."), "{said}");
    assert!(said.contains("one thousand two hundred ninety-nine rupees"), "{said}");
    assert!(call.say("yes").contains("sent this to a supervisor"));
    assert_eq!(call.actions[0].needs_approval.as_deref(), Some("refund above the auto-approve limit"));
    assert_eq!(call.actions[0].amount_paise, Some(129_900));
}

#[test]
fn declining_and_never_mind_leave_the_order_alone() {
    let mut call = Call::new(Some("+919876543210"), vec![order("1023", OrderStatus::Confirmed)]);
    call.say("please cancel my order 1023");
    assert!(call.say("no").starts_with("Okay, I won't"));
    call.say("please cancel my order 1023");
    assert!(call.say("rehne do").starts_with("Theek hai, koi baat nahi"));
    assert!(call.actions.is_empty());
}

#[test]
fn one_slot_at_a_time_and_keypad_digits_count() {
    let mut call = Call::new(Some("+919876543210"), vec![order("1023", OrderStatus::Delivered)]);
    assert!(call.say("I want to return my order").contains("order number"));
    assert!(call.run(Event::Keypad("1023".into())).contains("reason"));
    assert!(call.say("it does not fit").contains("return order 1 0 2 3"));
    assert!(call.run(Event::Keypad("1".into())).contains("return pickup"));
    assert_eq!(call.actions[0].params["reason"], "it does not fit");
}

#[test]
fn repeated_misunderstanding_hands_the_call_to_a_person_with_a_summary() {
    let mut call = Call::new(Some("+919876543210"), vec![]);
    call.say("blah blah");
    call.say("tell me a joke");
    assert!(call.transferred.is_none());
    call.say("what is the weather");
    let summary = call.transferred.expect("transferred after three failed turns");
    assert!(summary.starts_with("Caller from +919876543210, speaking English."), "{summary}");
    assert!(summary.contains("could not understand"), "{summary}");
}

#[test]
fn the_reply_language_follows_the_caller_mid_call() {
    let mut call = Call::new(Some("+919876543210"), vec![order("1023", OrderStatus::Packed)]);
    assert!(call.say("what is the status of order 1023").starts_with("Order 1 0 2 3 is packed"));
    assert!(call.say("मेरा ऑर्डर 1023 कब आएगा").starts_with("ऑर्डर 1 0 2 3 पैक हो गया है"));
}

#[test]
fn address_changes_ask_for_the_new_address() {
    let mut call = Call::new(Some("+919876543210"), vec![order("1023", OrderStatus::Confirmed)]);
    assert!(call.say("address change karna hai order 1023").contains("Naya poora address"));
    let said = call.say("Flat 402, Sunrise Apartments, Andheri West, Mumbai 400053");
    assert!(said.contains("Flat 402, Sunrise Apartments"), "{said}");
    call.say("haan");
    assert_eq!(call.actions[0].kind, ActionKind::AddressChange);
    assert!(call.actions[0].params["address"].ends_with("400053"));
}

#[test]
fn abuse_is_handed_to_a_person() {
    let mut call = Call::new(None, vec![]);
    call.say("you stupid machine");
    assert!(call.transferred.unwrap().contains("upset"));
}
