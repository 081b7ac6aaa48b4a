//! The facts a caller gives in passing: order number, phone, email, amount, PIN code, reason and
//! new address. Numbers are told apart by the words around them and by their shape.

use serde::Serialize;

use super::{
    numbers::{Heard, NumberWords},
    words::Word,
};
use crate::{Email, PhoneNumber};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Entities {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order_number: Option<String>,
    /// E.164.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amount_paise: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pincode: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// Every number heard, in order, whatever it was taken for: an agent that asked for one
    /// thing reads its answer from here.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub numbers: Vec<String>,
}

// Marker words are spelled as sound keys (`rupees` → `rupis`); a test holds them to it.
const CURRENCY: [&str; 13] =
    ["₹", "rs", "inr", "rupis", "rupi", "rupaye", "rupaiye", "rupay", "rupye", "rupya", "rupiya", "रुपए", "रुपया"];
const ORDER: [&str; 4] = ["order", "ordr", "ओर्डर", "आर्डर"];
const PIN: [&str; 5] = ["pin", "pincode", "पिन", "पिनकोड", "postal"];
const PHONE: [&str; 4] = ["fone", "mobile", "फोन", "मोबाइल"];
const BECAUSE: [&str; 9] = ["because", "kyunki", "kyonki", "kyuki", "kyoki", "क्योंकि", "क्युंकि", "vajah", "वजह"];
/// Words that join a marker to what follows it: "is", "hai".
const JOINERS: [&str; 3] = ["is", "hai", "है"];
/// Words after which a new address follows.
const ADDRESS: [[&str; 2]; 6] =
    [["nev", "adres"], ["naya", "adres"], ["naya", "pata"], ["नया", "पता"], ["नया", "एड्रेस"], ["adres", "is"]];

/// Every number in the words; a currency word beside an everyday number word makes it one.
pub fn numbers(words: &[Word], numbers: &NumberWords) -> Vec<Heard> {
    numbers.find(words, |w| CURRENCY.contains(&w.key.as_str()))
}

pub fn entities(text: &str, words: &[Word], heard: Vec<Heard>) -> Entities {
    let has = |set: &[&str]| words.iter().any(|w| set.contains(&w.key.as_str()));
    let near = |heard: &Heard, set: &[&str]| {
        let before = heard.first.checked_sub(1).and_then(|i| words.get(i));
        [before, words.get(heard.last + 1)].into_iter().flatten().any(|w| set.contains(&w.key.as_str()))
    };
    let mut found = Entities::default();
    let (pin_said, order_said) = (has(&PIN), has(&ORDER));
    for heard in heard {
        let digits = heard.digits.as_str();
        if near(&heard, &CURRENCY) {
            found.amount_paise = found.amount_paise.or(digits.parse::<i64>().ok().and_then(|r| r.checked_mul(100)));
        } else if heard.lone_word {
            continue;
        } else if let Some(phone) = phone(digits, near(&heard, &PHONE)) {
            found.phone.get_or_insert(phone);
        } else if digits.len() == 6 && !digits.starts_with('0') && pin_said && !near(&heard, &ORDER) {
            found.pincode.get_or_insert_with(|| digits.to_owned());
        } else if (3..=12).contains(&digits.len()) && (order_said || found.order_number.is_none()) {
            found.order_number.get_or_insert_with(|| digits.to_owned());
        }
        found.numbers.push(heard.digits);
    }
    found.email = email(text, words);
    found.reason = rest_after(text, words, |i| BECAUSE.contains(&words[i].key.as_str()));
    let address_at = (0..words.len())
        .find(|&i| ADDRESS.iter().any(|pair| words[i].key == pair[1] && i > 0 && words[i - 1].key == pair[0]));
    // "naya pata hai …", "new address is: …": the words that join the marker to the address go.
    let address_starts =
        address_at.map(|i| i + 1 + usize::from(words.get(i + 1).is_some_and(|w| JOINERS.contains(&w.key.as_str()))));
    found.address = address_starts.and_then(|start| rest_from(text, words, start));
    found
}

/// A mobile number: ten digits from 6 up, or any valid number when the caller said "phone".
fn phone(digits: &str, said_phone: bool) -> Option<String> {
    let mobile = digits.len() == 10 && digits.starts_with(['6', '7', '8', '9']);
    let prefixed = (digits.len() == 12 && digits.starts_with("91")) || (digits.len() == 11 && digits.starts_with('0'));
    if !(mobile || prefixed || said_phone) {
        return None;
    }
    let international = if digits.len() == 12 { format!("+{digits}") } else { digits.to_owned() };
    PhoneNumber::parse(&international).ok().map(|p| p.as_str().to_owned())
}

/// A typed address (`rahul@gmail.com`) or a spoken one (`rahul at the rate gmail dot com`).
fn email(text: &str, words: &[Word]) -> Option<String> {
    let typed =
        text.split_whitespace().map(|t| t.trim_matches(|c: char| !c.is_alphanumeric())).find(|t| t.contains('@'));
    if let Some(typed) = typed {
        return Email::parse(typed).ok().map(|e| e.as_str().to_owned());
    }
    let at = words.iter().position(|w| w.key == "at")?;
    let local = &text[words.get(at.checked_sub(1)?)?.start..words[at - 1].end];
    let mut rest = &words[at + 1..];
    if rest.len() >= 2 && rest[0].key == "the" && rest[1].key == "rate" {
        rest = &rest[2..];
    }
    let mut domain = String::new();
    let mut parts = rest.iter();
    domain.push_str(&text[parts.next()?.start..rest[0].end]);
    while let (Some(dot), Some(part)) = (parts.next(), parts.next()) {
        if dot.key != "dot" {
            break;
        }
        domain.push('.');
        domain.push_str(&text[part.start..part.end]);
    }
    Email::parse(&format!("{local}@{domain}")).ok().map(|e| e.as_str().to_owned())
}

/// The caller's own words after the first marker word, if any follow.
fn rest_after(text: &str, words: &[Word], marker: impl Fn(usize) -> bool) -> Option<String> {
    let at = (0..words.len()).find(|&i| marker(i))?;
    rest_from(text, words, at + 1)
}

/// The caller's own words from the word at `start` to the end.
fn rest_from(text: &str, words: &[Word], start: usize) -> Option<String> {
    let rest = words.get(start)?;
    let rest = text[rest.start..].trim().trim_end_matches(['.', '।', '!', '?']).trim();
    (!rest.is_empty()).then(|| rest.to_owned())
}

#[cfg(test)]
mod tests {
    use crate::dialogue::{Entities, Rules};

    /// Built once: the engine trains its model when built.
    static RULES: std::sync::LazyLock<Rules> = std::sync::LazyLock::new(Rules::new);

    fn entities(text: &str) -> Entities {
        RULES.understand(text).entities
    }

    #[test]
    fn order_numbers_phones_and_pin_codes_are_told_apart() {
        let found = entities("order 4521 ka pincode 110092 hai aur mera number 98765 43210");
        assert_eq!(found.order_number.as_deref(), Some("4521"));
        assert_eq!(found.pincode.as_deref(), Some("110092"));
        assert_eq!(found.phone.as_deref(), Some("+919876543210"));
        assert_eq!(found.numbers, ["4521", "110092", "9876543210"]);
        assert_eq!(entities("mera order double five seven hai").order_number.as_deref(), Some("557"));
        let spoken = entities("phone number plus 91 nine eight seven six five four three two one zero");
        assert_eq!(spoken.phone.as_deref(), Some("+919876543210"));
        assert_eq!(entities("919876543210").phone.as_deref(), Some("+919876543210"));
    }

    #[test]
    fn markers_are_spelled_as_sound_keys() {
        let lists: [&[&str]; 6] =
            [&super::CURRENCY, &super::ORDER, &super::PIN, &super::PHONE, &super::BECAUSE, &super::JOINERS];
        for word in lists.into_iter().flatten().chain(super::ADDRESS.as_flattened()) {
            assert_eq!(crate::dialogue::words::words(word)[0].key, *word);
        }
    }

    #[test]
    fn amounts_in_rupees_any_way_said() {
        for (text, paise) in [
            ("refund ₹1,299 please", 129_900),
            ("mujhe 599 rupaye ka refund chahiye", 59_900),
            ("baarah sau ninyanave rupaye", 129_900),
            ("मुझे 799 रुपये का refund चाहिए", 79_900),
            ("Rs 500", 50_000),
            ("five hundred rupees", 50_000),
        ] {
            assert_eq!(entities(text).amount_paise, Some(paise), "{text}");
        }
        assert_eq!(entities("order 4521").amount_paise, None);
    }

    #[test]
    fn emails_typed_or_spoken() {
        assert_eq!(entities("mail it to Rahul.S@example.com.").email.as_deref(), Some("rahul.s@example.com"));
        assert_eq!(entities("rahul at the rate gmail dot com").email.as_deref(), Some("rahul@gmail.com"));
        assert_eq!(entities("meet me at noon").email, None);
    }

    #[test]
    fn reasons_and_new_addresses_are_the_callers_words() {
        let found = entities("cancel it because I found it cheaper elsewhere.");
        assert_eq!(found.reason.as_deref(), Some("I found it cheaper elsewhere"));
        let found = entities("naya pata hai 12 MG Road, Bengaluru 560001");
        assert_eq!(found.address.as_deref(), Some("12 MG Road, Bengaluru 560001"));
        assert_eq!(entities("return karna hai kyunki size chhota hai").reason.as_deref(), Some("size chhota hai"));
    }
}
