//! Numbers heard in a sentence, said any way callers say them: typed digits (`452`, `98765 43210`),
//! digit by digit in Hindi or English (`char paanch do` → 452, `double five` → 55), or as an amount
//! (`baarah sau ninyanave` → 1299, `five hundred` → 500).

use std::collections::HashMap;

use super::{
    number_words::{DEVANAGARI, ENGLISH_ONES, ENGLISH_TENS, ROMAN},
    words::{Word, sound_key},
};

/// What a number word means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Meaning {
    /// 0–99 said as one word; `tens` for English twenty … ninety, which take a unit after them.
    Value { value: u64, tens: bool },
    /// hundred, thousand, lakh, crore.
    Times(u64),
    /// double, triple: the next digit said that many times.
    Repeat(usize),
}

#[derive(Debug, Clone, Copy)]
struct NumberWord {
    meaning: Meaning,
    /// Also an everyday word (`do` = "do", `ek` = "a", `one`): a number only beside another.
    ambiguous: bool,
}

/// A number heard: its digits, and the words it spans.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Heard {
    pub digits: String,
    pub first: usize,
    pub last: usize,
    /// One spoken word alone (`paanch`): a number only where an amount is expected.
    pub lone_word: bool,
}

pub struct NumberWords(HashMap<String, NumberWord>);

const AMBIGUOUS: [&str; 6] = ["ek", "do", "one", "oh", "sat", "tin"];

impl NumberWords {
    pub fn new() -> Self {
        let mut map = HashMap::new();
        let mut add = |word: &str, meaning: Meaning| {
            let key = sound_key(&super::words::words(word)[0].key);
            let ambiguous = AMBIGUOUS.contains(&key.as_str());
            map.entry(key).or_insert(NumberWord { meaning, ambiguous });
        };
        let value = |value: u64| Meaning::Value { value, tens: false };
        for (i, (roman, devanagari)) in ROMAN.iter().zip(DEVANAGARI).enumerate() {
            add(roman, value(i as u64 + 1));
            add(devanagari, value(i as u64 + 1));
        }
        for (i, word) in ENGLISH_ONES.iter().enumerate() {
            add(word, value(i as u64));
        }
        for (i, word) in ENGLISH_TENS.iter().enumerate().skip(2) {
            add(word, Meaning::Value { value: i as u64 * 10, tens: true });
        }
        let others = [
            ("oh", value(0)),
            ("shunya", value(0)),
            ("sifar", value(0)),
            ("शून्य", value(0)),
            ("chaar", value(4)),
            ("char", value(4)),
            ("panch", value(5)),
            ("chhe", value(6)),
            ("chah", value(6)),
            ("छः", value(6)),
            ("छे", value(6)),
            ("hundred", Meaning::Times(100)),
            ("sau", Meaning::Times(100)),
            ("सौ", Meaning::Times(100)),
            ("thousand", Meaning::Times(1_000)),
            ("hazaar", Meaning::Times(1_000)),
            ("हजार", Meaning::Times(1_000)),
            ("lakh", Meaning::Times(100_000)),
            ("lac", Meaning::Times(100_000)),
            ("लाख", Meaning::Times(100_000)),
            ("crore", Meaning::Times(10_000_000)),
            ("karod", Meaning::Times(10_000_000)),
            ("करोड़", Meaning::Times(10_000_000)),
            ("double", Meaning::Repeat(2)),
            ("triple", Meaning::Repeat(3)),
        ];
        for (word, meaning) in others {
            add(word, meaning);
        }
        Self(map)
    }

    /// Every number in the words, left to right. A word that `is_unit` (rupees) makes an
    /// everyday word beside it a number (`ek rupaya`).
    pub fn find(&self, words: &[Word], is_unit: impl Fn(&Word) -> bool) -> Vec<Heard> {
        let item = |i: usize| -> Option<Item> {
            let word = words.get(i)?;
            if word.is_number() {
                return Some(Item::Digits);
            }
            self.0.get(&word.key).map(|&w| Item::Word(w))
        };
        let spoken = |i: usize| matches!(item(i), Some(Item::Word(_))) || words.get(i).is_some_and(&is_unit);
        let counts = |i: usize| match item(i) {
            Some(Item::Word(w)) if w.ambiguous => (i > 0 && spoken(i - 1)) || spoken(i + 1),
            Some(_) => true,
            None => false,
        };
        let mut heard = Vec::new();
        let mut i = 0;
        while i < words.len() {
            if !counts(i) {
                i += 1;
                continue;
            }
            let first = i;
            while i + 1 < words.len() && counts(i + 1) {
                i += 1;
            }
            if let Some(digits) = self.digits(&words[first..=i]) {
                let lone_word = first == i && !words[i].is_number();
                heard.push(Heard { digits, first, last: i, lone_word });
            }
            i += 1;
        }
        heard
    }

    fn meaning(&self, word: &Word) -> Option<Meaning> {
        self.0.get(&word.key).map(|w| w.meaning)
    }

    /// The digits of one run: an amount when it has hundreds or thousands in it, otherwise the
    /// digits one after another.
    fn digits(&self, run: &[Word]) -> Option<String> {
        if run.iter().any(|w| matches!(self.meaning(w), Some(Meaning::Times(_)))) {
            return self.amount(run).map(|value| value.to_string());
        }
        let mut digits = String::new();
        let mut repeat = 1;
        let mut words = run.iter().peekable();
        while let Some(word) = words.next() {
            match self.meaning(word) {
                None => digits.push_str(&word.key),
                Some(Meaning::Repeat(n)) => {
                    repeat = n;
                    continue;
                }
                Some(Meaning::Value { value, tens }) => {
                    let unit = match words.peek().and_then(|next| self.meaning(next)) {
                        Some(Meaning::Value { value: unit @ 1..=9, tens: false }) if tens => {
                            words.next();
                            unit
                        }
                        _ => 0,
                    };
                    digits.push_str(&(value + unit).to_string().repeat(repeat));
                }
                Some(Meaning::Times(_)) => unreachable!("runs with multipliers are amounts"),
            }
            repeat = 1;
        }
        (!digits.is_empty()).then_some(digits)
    }

    /// `baarah sau ninyanave` → 1299, `ek hazaar do sau` → 1200, `two lakh` → 200000.
    fn amount(&self, run: &[Word]) -> Option<u64> {
        let (mut total, mut current) = (0u64, 0u64);
        for word in run {
            match self.meaning(word) {
                None => current = current.checked_add(word.key.parse::<u64>().ok()?)?,
                Some(Meaning::Value { value, .. }) => current += value,
                Some(Meaning::Times(100)) => current = current.max(1).checked_mul(100)?,
                Some(Meaning::Times(times)) => {
                    total = total.checked_add(current.max(1).checked_mul(times)?)?;
                    current = 0;
                }
                Some(Meaning::Repeat(_)) => return None,
            }
        }
        total.checked_add(current)
    }
}

#[derive(Clone, Copy)]
enum Item {
    Digits,
    Word(NumberWord),
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dialogue::words::words;

    fn heard(text: &str) -> Vec<String> {
        NumberWords::new()
            .find(&words(text), |_| false)
            .into_iter()
            .filter(|h| !h.lone_word)
            .map(|h| h.digits)
            .collect()
    }

    #[test]
    fn digits_said_one_by_one_in_any_language() {
        assert_eq!(heard("mera order char paanch do hai"), ["452"]);
        assert_eq!(heard("order number double five seven"), ["557"]);
        assert_eq!(heard("चार पाँच दो"), ["452"]);
        assert_eq!(heard("four five two one"), ["4521"]);
        assert_eq!(heard("forty five twenty one"), ["4521"]);
        assert_eq!(heard("triple nine two"), ["9992"]);
        assert_eq!(heard("nine eight seven six five four three two one zero"), ["9876543210"]);
        assert_eq!(heard("98765 43210"), ["9876543210"]);
        assert_eq!(heard("order ४५२१"), ["4521"]);
    }

    #[test]
    fn amounts_with_hundreds_and_thousands() {
        assert_eq!(heard("baarah sau ninyanave rupaye"), ["1299"]);
        assert_eq!(heard("बारह सौ निन्यानवे"), ["1299"]);
        assert_eq!(heard("ek hazaar do sau"), ["1200"]);
        assert_eq!(heard("five hundred rupees"), ["500"]);
        assert_eq!(heard("two thousand five hundred"), ["2500"]);
        assert_eq!(heard("dedh"), Vec::<String>::new());
        assert_eq!(heard("do lakh"), ["200000"]);
    }

    #[test]
    fn everyday_words_that_are_also_numbers_stay_words() {
        assert_eq!(heard("cancel kar do"), Vec::<String>::new());
        assert_eq!(heard("bhej do 4521"), ["4521"]);
        assert_eq!(heard("ek minute"), Vec::<String>::new());
        assert_eq!(heard("this one please"), Vec::<String>::new());
    }
}
