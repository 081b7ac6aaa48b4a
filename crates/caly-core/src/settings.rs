//! A tenant's settings: the agent's persona, languages, business hours, action policies, phone
//! numbers and recording. Provider credentials are not here: they are write-only and encrypted,
//! kept apart by the store. `validate` lists every bad field at once, by path.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{HttpsUrl, Invalid, Language, PhoneNumber, choice, replies::Replies};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    pub agent: Agent,
    /// Languages the agent speaks: `hi`, `en`, `hinglish`.
    pub languages: Vec<String>,
    pub business_hours: BusinessHours,
    pub policies: Policies,
    /// Numbers callers dial to reach this store, E.164.
    pub phone_numbers: Vec<String>,
    pub recording: Recording,
    /// Where the agent finds orders and acts on them.
    pub store: StoreConnection,
    /// How the agent understands callers.
    pub dialogue: DialogueSettings,
    /// The agent's replies in the tenant's own words: reply name → language → text, replacing
    /// the shipped ones it names.
    pub replies: BTreeMap<String, BTreeMap<String, String>>,
    /// Calls through the carriers.
    pub telephony: TelephonySettings,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct TelephonySettings {
    /// Where calls are handed to a person, E.164; empty: no transfers.
    pub escalation_number: String,
    /// Addresses Exotel's requests may come from (`203.0.113.7` or `203.0.113.0/24`); empty:
    /// any, with the Basic credentials still required.
    pub exotel_allowed_ips: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Agent {
    pub name: String,
    /// The speech service's voice for this tenant (`nova`, `af_bella`…); `default`: the
    /// server's configured voice.
    pub voice: String,
    /// The first words of a call, per language.
    pub greetings: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BusinessHours {
    /// Open around the clock; `weekly` is ignored.
    pub always_open: bool,
    /// Opening hours per weekday (`mon` … `sun`) in the store's time zone.
    pub weekly: BTreeMap<String, Vec<Opening>>,
    /// Said outside opening hours, per language.
    pub after_hours_message: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Opening {
    /// `HH:MM`, 24-hour.
    pub from: String,
    pub to: String,
}

choice! {
    /// Until when a caller may cancel an order.
    pub enum CancellationWindow, invalid = "invalid_cancellation" {
        Never = "never",
        UntilFulfilment = "until_fulfilment",
        UntilDelivery = "until_delivery",
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Policies {
    /// Days after delivery within which a return is accepted (0–365).
    pub return_window_days: u32,
    pub cancellation: CancellationWindow,
    /// Refunds up to this amount run without a supervisor, e.g. `"500.00"`.
    pub refund_auto_approve_limit_inr: String,
    /// Hours after the order within which the address may change without approval (0–720).
    pub address_change_window_hours: u32,
    /// Offer a human after this many turns the agent could not handle (1–10).
    pub escalate_after_failed_turns: u32,
}

choice! {
    /// What understands the caller's words.
    pub enum EngineChoice, invalid = "invalid_engine" {
        /// The built-in rules engine: no network, no API key.
        Rules = "rules",
        /// The server's configured LLM (`[llm]`), falling back to the rules when it fails.
        Llm = "llm",
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DialogueSettings {
    pub engine: EngineChoice,
}

impl Default for DialogueSettings {
    fn default() -> Self {
        Self { engine: EngineChoice::Rules }
    }
}

choice! {
    /// The shop behind the agent.
    pub enum StoreProvider, invalid = "invalid_provider" {
        /// The embedded demo store.
        Demo = "demo",
        Shopify = "shopify",
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StoreConnection {
    pub provider: StoreProvider,
    /// The shop's domain, e.g. `kurta-ghar.myshopify.com` (Shopify; its access token is the
    /// `shopify_access_token` credential).
    pub shopify_shop: String,
    /// The Admin API version, `YYYY-MM`.
    pub shopify_api_version: String,
}

impl Default for StoreConnection {
    fn default() -> Self {
        Self { provider: StoreProvider::Demo, shopify_shop: String::new(), shopify_api_version: "2025-10".into() }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Recording {
    pub enabled: bool,
    /// Recordings are deleted after this many days (1–3650).
    pub retention_days: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            agent: Agent::default(),
            languages: vec!["hi".into(), "en".into(), "hinglish".into()],
            business_hours: BusinessHours::default(),
            policies: Policies::default(),
            phone_numbers: Vec::new(),
            recording: Recording { enabled: true, retention_days: 90 },
            store: StoreConnection::default(),
            dialogue: DialogueSettings::default(),
            replies: BTreeMap::new(),
            telephony: TelephonySettings::default(),
        }
    }
}

impl Default for Agent {
    fn default() -> Self {
        let greetings = [
            ("hi", "नमस्ते! मैं आपकी क्या मदद कर सकती हूँ?"),
            ("en", "Hello! How can I help you today?"),
            ("hinglish", "Namaste! Main aapki kya madad kar sakti hoon?"),
        ];
        Self {
            name: "Caly".into(),
            voice: "default".into(),
            greetings: greetings.into_iter().map(|(l, g)| (l.into(), g.into())).collect(),
        }
    }
}

impl Agent {
    /// The voice this tenant chose, if it chose one.
    pub fn chosen_voice(&self) -> Option<&str> {
        let voice = self.voice.trim();
        (!voice.is_empty() && voice != "default").then_some(voice)
    }
}

impl Default for BusinessHours {
    fn default() -> Self {
        Self { always_open: true, weekly: BTreeMap::new(), after_hours_message: BTreeMap::new() }
    }
}

impl Default for Policies {
    fn default() -> Self {
        Self {
            return_window_days: 7,
            cancellation: CancellationWindow::UntilFulfilment,
            refund_auto_approve_limit_inr: "500.00".into(),
            address_change_window_hours: 24,
            escalate_after_failed_turns: 3,
        }
    }
}

impl Default for Recording {
    fn default() -> Self {
        Self { enabled: true, retention_days: 90 }
    }
}

/// `203.0.113.7`, `203.0.113.0/24`, `2001:db8::/32`.
fn network(text: &str) -> Option<ipnet::IpNet> {
    text.parse()
        .ok()
        .or_else(|| text.parse::<std::net::IpAddr>().ok().filter(|ip| !ip.is_unspecified()).map(Into::into))
}

/// Whether `ip` (IPv4-mapped IPv6 taken as IPv4) is in `network`, as [`network`] reads it.
pub fn network_contains(network_text: &str, ip: std::net::IpAddr) -> bool {
    network(network_text).is_some_and(|network| network.contains(&ip.to_canonical()))
}

impl TelephonySettings {
    /// Whether Exotel's requests may come from `ip`: any address when no list is set.
    pub fn exotel_allows(&self, ip: std::net::IpAddr) -> bool {
        self.exotel_allowed_ips.is_empty() || self.exotel_allowed_ips.iter().any(|n| network_contains(n, ip))
    }
}

const WEEKDAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// Rupees with at most two decimals, not negative: `"1299.5"` → 129950 paise.
pub fn parse_inr(text: &str) -> Result<i64, Invalid> {
    let invalid = || Invalid::new("invalid_amount", "must be rupees with at most two decimals, such as 1299.50");
    let (rupees, paise) = text.split_once('.').unwrap_or((text, ""));
    let digits = |s: &str| !s.is_empty() && s.len() <= 12 && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(rupees) || paise.len() > 2 || (text.contains('.') && !digits(paise)) {
        return Err(invalid());
    }
    let paise: i64 = format!("{paise:0<2}").parse().map_err(|_| invalid())?;
    Ok(rupees.parse::<i64>().map_err(|_| invalid())? * 100 + paise)
}

fn minutes(text: &str) -> Option<u32> {
    let (h, m) = text.split_once(':')?;
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    (text.len() == 5 && h < 24 && m < 60).then_some(h * 60 + m)
}

/// A short text people hear or read: 1–`max` characters, no control characters.
fn text(errors: &mut Vec<(String, Invalid)>, field: String, value: &str, max: usize) {
    let length = value.trim().chars().count();
    if length == 0 || length > max || value.chars().any(char::is_control) {
        let message = format!("must be 1–{max} characters without control characters");
        errors.push((field, Invalid::new("invalid_text", message)));
    }
}

fn language(errors: &mut Vec<(String, Invalid)>, field: String, code: &str) {
    if let Err(invalid) = code.parse::<Language>() {
        errors.push((field, invalid));
    }
}

impl Settings {
    /// Checks every field and normalises phone numbers to E.164; the errors, by path.
    pub fn validate(&mut self) -> Vec<(String, Invalid)> {
        let mut errors = Vec::new();
        text(&mut errors, "agent/name".into(), &self.agent.name, 40);
        text(&mut errors, "agent/voice".into(), &self.agent.voice, 80);
        for (code, greeting) in &self.agent.greetings {
            language(&mut errors, format!("agent/greetings/{code}"), code);
            text(&mut errors, format!("agent/greetings/{code}"), greeting, 500);
        }
        if self.languages.is_empty() {
            errors.push(("languages".into(), Invalid::new("required", "name at least one language")));
        }
        for (i, code) in self.languages.iter().enumerate() {
            language(&mut errors, format!("languages/{i}"), code);
        }
        for (day, openings) in &self.business_hours.weekly {
            if !WEEKDAYS.contains(&day.as_str()) {
                errors.push((format!("business_hours/weekly/{day}"), Invalid::new("invalid_day", "must be mon … sun")));
            }
            for (i, opening) in openings.iter().enumerate() {
                let field = format!("business_hours/weekly/{day}/{i}");
                match (minutes(&opening.from), minutes(&opening.to)) {
                    (Some(from), Some(to)) if from < to => {}
                    (Some(_), Some(_)) => {
                        errors.push((field, Invalid::new("empty_opening", "`from` must be before `to`")))
                    }
                    _ => errors.push((field, Invalid::new("invalid_time", "`from` and `to` must be HH:MM, 24-hour"))),
                }
            }
        }
        for (code, message) in &self.business_hours.after_hours_message {
            language(&mut errors, format!("business_hours/after_hours_message/{code}"), code);
            text(&mut errors, format!("business_hours/after_hours_message/{code}"), message, 500);
        }
        let policies = &self.policies;
        let mut range = |field: &str, value: u32, low: u32, high: u32| {
            if !(low..=high).contains(&value) {
                errors.push((field.to_owned(), Invalid::new("out_of_range", format!("must be {low}–{high}"))));
            }
        };
        range("policies/return_window_days", policies.return_window_days, 0, 365);
        range("policies/address_change_window_hours", policies.address_change_window_hours, 0, 720);
        range("policies/escalate_after_failed_turns", policies.escalate_after_failed_turns, 1, 10);
        range("recording/retention_days", self.recording.retention_days, 1, 3650);
        if let Err(invalid) = parse_inr(&policies.refund_auto_approve_limit_inr) {
            errors.push(("policies/refund_auto_approve_limit_inr".into(), invalid));
        }
        for (i, number) in self.phone_numbers.iter_mut().enumerate() {
            match PhoneNumber::parse(number) {
                Ok(phone) => *number = phone.as_str().to_owned(),
                Err(invalid) => errors.push((format!("phone_numbers/{i}"), invalid)),
            }
        }
        if !self.telephony.escalation_number.is_empty() {
            match PhoneNumber::parse(&self.telephony.escalation_number) {
                Ok(phone) => self.telephony.escalation_number = phone.as_str().to_owned(),
                Err(invalid) => errors.push(("telephony/escalation_number".into(), invalid)),
            }
        }
        for (i, text) in self.telephony.exotel_allowed_ips.iter().enumerate() {
            if network(text).is_none() {
                let invalid = Invalid::new("invalid_network", "must be an IP address or CIDR, such as 203.0.113.0/24");
                errors.push((format!("telephony/exotel_allowed_ips/{i}"), invalid));
            }
        }
        let store = &self.store;
        if store.provider == StoreProvider::Shopify || !store.shopify_shop.is_empty() {
            let shop = HttpsUrl::parse(&format!("https://{}", store.shopify_shop));
            if store.shopify_shop.contains(['/', ':', '@']) || shop.is_err() {
                let invalid =
                    Invalid::new("invalid_shop", "must be the shop's domain, such as kurta-ghar.myshopify.com");
                errors.push(("store/shopify_shop".into(), invalid));
            }
        }
        let version = store.shopify_api_version.as_bytes();
        let dated = version.len() == 7
            && version[4] == b'-'
            && version.iter().enumerate().all(|(i, b)| i == 4 || b.is_ascii_digit());
        if !dated {
            errors.push((
                "store/shopify_api_version".into(),
                Invalid::new("invalid_version", "must be YYYY-MM, such as 2025-10"),
            ));
        }
        for (key, by_language) in &self.replies {
            for (code, reply) in by_language {
                text(&mut errors, format!("replies/{key}/{code}"), reply, 500);
            }
        }
        errors.extend(Replies::shipped().check(&self.replies));
        let mut seen = self.phone_numbers.clone();
        seen.sort();
        if seen.windows(2).any(|pair| pair[0] == pair[1]) {
            errors.push(("phone_numbers".into(), Invalid::new("duplicate", "lists a number twice")));
        }
        errors
    }

    /// The refund limit in paise (valid settings only).
    pub fn refund_auto_approve_limit_paise(&self) -> i64 {
        parse_inr(&self.policies.refund_auto_approve_limit_inr).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn networks_contain_their_addresses_only() {
        let ip = |text: &str| text.parse().unwrap();
        assert!(network_contains("203.0.113.0/24", ip("203.0.113.77")));
        assert!(!network_contains("203.0.113.0/24", ip("203.0.114.1")));
        assert!(network_contains("203.0.113.7", ip("203.0.113.7")));
        assert!(!network_contains("203.0.113.7", ip("203.0.113.8")));
        assert!(network_contains("203.0.113.0/24", ip("::ffff:203.0.113.9")), "IPv4-mapped IPv6");
        assert!(network_contains("2001:db8::/32", ip("2001:db8:1::5")));
        assert!(!network_contains("2001:db8::/32", ip("203.0.113.7")));
        let mut settings = Settings::default();
        settings.telephony.exotel_allowed_ips = vec!["10.0.0.0/8".into(), "10.0.0.0/33".into(), "nope".into()];
        settings.telephony.escalation_number = "98123".into();
        let fields: Vec<String> = settings.validate().into_iter().map(|(field, _)| field).collect();
        assert_eq!(
            fields,
            ["telephony/escalation_number", "telephony/exotel_allowed_ips/1", "telephony/exotel_allowed_ips/2"]
        );
    }

    #[test]
    fn defaults_are_valid() {
        assert!(Settings::default().validate().is_empty());
    }

    #[test]
    fn every_bad_field_is_named() {
        let mut settings = Settings::default();
        settings.agent.name = " ".into();
        settings.agent.greetings.insert("fr".into(), "Bonjour".into());
        settings.languages = vec!["en".into(), "tamil".into()];
        settings.business_hours.weekly.insert("mon".into(), vec![Opening { from: "18:00".into(), to: "09:00".into() }]);
        settings.business_hours.weekly.insert("someday".into(), vec![Opening { from: "9".into(), to: "10:00".into() }]);
        settings.policies.escalate_after_failed_turns = 0;
        settings.policies.refund_auto_approve_limit_inr = "-5".into();
        settings.recording.retention_days = 0;
        settings.phone_numbers = vec!["098765 43210".into(), "+919876543210".into(), "12".into()];
        settings.store.provider = StoreProvider::Shopify;
        settings.store.shopify_shop = "http://evil.example/x".into();
        settings.store.shopify_api_version = "latest".into();
        let fields: Vec<String> = settings.validate().into_iter().map(|(field, _)| field).collect();
        assert_eq!(
            fields,
            [
                "agent/name",
                "agent/greetings/fr",
                "languages/1",
                "business_hours/weekly/mon/0",
                "business_hours/weekly/someday",
                "business_hours/weekly/someday/0",
                "policies/escalate_after_failed_turns",
                "recording/retention_days",
                "policies/refund_auto_approve_limit_inr",
                "phone_numbers/2",
                "store/shopify_shop",
                "store/shopify_api_version",
                "phone_numbers",
            ]
        );
        assert_eq!(settings.phone_numbers[0], "+919876543210", "normalised");
    }

    #[test]
    fn rupees_read_exactly() {
        assert_eq!(parse_inr("1299.5"), Ok(129_950));
        assert_eq!(parse_inr("0"), Ok(0));
        assert_eq!(parse_inr("500.00"), Ok(50_000));
        for bad in ["", "-1", "1.234", "1,299", "12e3", ".5", "1."] {
            assert!(parse_inr(bad).is_err(), "{bad}");
        }
    }
}
