//! Numbers, amounts and dates as a voice should say them: ₹1,299 is "baarah sau ninyanave
//! rupaye" in Hinglish, "बारह सौ निन्यानवे रुपये" in Hindi, "one thousand two hundred
//! ninety-nine rupees" in English; order numbers digit by digit.

use jiff::{Timestamp, tz::TimeZone};

use crate::{
    Language,
    dialogue::number_words::{DEVANAGARI, ENGLISH_ONES as ONES, ENGLISH_TENS as TENS, ROMAN},
};

/// Words for the scales of the Indian numbering system, per language.
struct Scale {
    zero: &'static str,
    hundred: &'static str,
    thousand: &'static str,
    lakh: &'static str,
    crore: &'static str,
    rupees: &'static str,
    paise: &'static str,
    and: &'static str,
}

fn scale(language: Language) -> Scale {
    match language {
        Language::En => Scale {
            zero: "zero",
            hundred: "hundred",
            thousand: "thousand",
            lakh: "lakh",
            crore: "crore",
            rupees: "rupees",
            paise: "paise",
            and: "and",
        },
        Language::Hinglish => Scale {
            zero: "shunya",
            hundred: "sau",
            thousand: "hazaar",
            lakh: "lakh",
            crore: "crore",
            rupees: "rupaye",
            paise: "paise",
            and: "aur",
        },
        Language::Hi => Scale {
            zero: "शून्य",
            hundred: "सौ",
            thousand: "हज़ार",
            lakh: "लाख",
            crore: "करोड़",
            rupees: "रुपये",
            paise: "पैसे",
            and: "और",
        },
    }
}

/// 1–99 as one word (Hindi) or a word pair (English).
fn below_hundred(n: u64, language: Language) -> String {
    match language {
        Language::En if n < 20 => ONES[n as usize].to_owned(),
        Language::En if n.is_multiple_of(10) => TENS[n as usize / 10].to_owned(),
        Language::En => format!("{}-{}", TENS[n as usize / 10], ONES[n as usize % 10]),
        Language::Hinglish => ROMAN[n as usize - 1].to_owned(),
        Language::Hi => DEVANAGARI[n as usize - 1].to_owned(),
    }
}

/// A whole number in words. In Hindi 1,100–9,999 with hundreds are said in hundreds, as
/// prices are ("baarah sau", not "ek hazaar do sau").
pub fn number(n: u64, language: Language) -> String {
    let scale = scale(language);
    if n == 0 {
        return scale.zero.to_owned();
    }
    let mut parts = Vec::new();
    let mut push = |count: u64, word: &str| {
        if count > 0 {
            parts.push(format!("{} {word}", number(count, language)));
        }
    };
    let hundreds_first = language != Language::En && (1_100..10_000).contains(&n) && !(n / 100).is_multiple_of(10);
    if hundreds_first {
        push(n / 100, scale.hundred);
    } else {
        push(n / 10_000_000, scale.crore);
        push((n / 100_000) % 100, scale.lakh);
        push((n / 1_000) % 100, scale.thousand);
        push((n / 100) % 10, scale.hundred);
    }
    if !n.is_multiple_of(100) {
        parts.push(below_hundred(n % 100, language));
    }
    parts.join(" ")
}

/// An amount in rupees and paise, in words.
pub fn amount(paise: i64, language: Language) -> String {
    let scale = scale(language);
    let (rupees, rest) = (paise.unsigned_abs() / 100, paise.unsigned_abs() % 100);
    let mut said = format!("{} {}", number(rupees, language), scale.rupees);
    if rest > 0 {
        said = format!("{said} {} {} {}", scale.and, number(rest, language), scale.paise);
    }
    said
}

/// Digits one by one, as order and AWB numbers are read out: `1023` → `1 0 2 3`.
pub fn digits(text: &str) -> String {
    let mut said = String::with_capacity(text.len() * 2);
    for c in text.chars() {
        if !said.is_empty() {
            said.push(' ');
        }
        said.push(c);
    }
    said
}

const MONTHS_EN: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const MONTHS_HI: [&str; 12] =
    ["जनवरी", "फ़रवरी", "मार्च", "अप्रैल", "मई", "जून", "जुलाई", "अगस्त", "सितंबर", "अक्टूबर", "नवंबर", "दिसंबर"];

/// A day in the store's time zone: "28 November".
pub fn date(micros: i64, zone: &TimeZone, language: Language) -> String {
    let Ok(at) = Timestamp::from_microsecond(micros) else { return String::new() };
    let day = at.to_zoned_datetime(zone.clone()).date();
    let months = if language == Language::Hi { MONTHS_HI } else { MONTHS_EN };
    format!("{} {}", day.day(), months[day.month() as usize - 1])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_are_said_as_people_say_them() {
        assert_eq!(amount(129_900, Language::Hinglish), "baarah sau ninyanave rupaye");
        assert_eq!(amount(129_900, Language::Hi), "बारह सौ निन्यानवे रुपये");
        assert_eq!(amount(129_900, Language::En), "one thousand two hundred ninety-nine rupees");
        assert_eq!(amount(50_050, Language::En), "five hundred rupees and fifty paise");
        assert_eq!(amount(200_000, Language::Hinglish), "do hazaar rupaye");
        assert_eq!(amount(12_345_600, Language::Hinglish), "ek lakh teyees hazaar chaar sau chhappan rupaye");
        assert_eq!(number(1_000, Language::Hi), "एक हज़ार");
        assert_eq!(number(0, Language::En), "zero");
        assert_eq!(number(250_000_000, Language::En), "twenty-five crore");
    }

    #[test]
    fn what_is_said_is_heard_back() {
        let rules = crate::dialogue::Rules::new();
        for paise in [100, 129_900, 50_000, 999_900, 1_000_000, 7_500_000] {
            for language in [Language::Hinglish, Language::Hi, Language::En] {
                let said = amount(paise, language);
                assert_eq!(rules.understand(&said).entities.amount_paise, Some(paise), "{said}");
            }
        }
    }

    #[test]
    fn dates_in_the_stores_zone() {
        let zone = TimeZone::get("Asia/Kolkata").unwrap();
        let late_utc = Timestamp::from_second(1_795_900_000).unwrap().as_microsecond();
        assert_eq!(date(late_utc, &zone, Language::En), "29 November");
        assert_eq!(date(late_utc, &zone, Language::Hi), "29 नवंबर");
        assert_eq!(digits("1023"), "1 0 2 3");
    }
}
