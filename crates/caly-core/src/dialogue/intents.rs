//! The rules engine's intent scorer: every phrase of the lexicon found in the words adds its
//! weight to its intent; the highest total wins. Answers (yes, no, hello, bye) are weak: any
//! request in the same sentence outweighs them.

use std::collections::HashMap;

use super::{Intent, words::Word};

struct Phrase {
    intent: Intent,
    weight: i32,
    /// Keys of the words; a key ending in `*` matches every word it begins.
    words: Vec<String>,
}

pub struct Lexicon {
    phrases: Vec<Phrase>,
    /// Phrases by their first word's key; phrases whose first word is a prefix are in `by_prefix`,
    /// by the prefix's first letter.
    by_first: HashMap<String, Vec<usize>>,
    by_prefix: HashMap<char, Vec<usize>>,
}

/// In a phrase, up to `GAP_WORDS` words of any kind ("send .. back": "send this item back").
const GAP: &str = "..";
const GAP_WORDS: usize = 3;

/// A score below this is not a request.
const REQUEST: i32 = 2;
/// A sentence that opens with yes or no is an answer unless a request this strong follows
/// ("haan yahi mera order hai" answers; "haan, cancel kar do" asks).
const STRONG_REQUEST: i32 = 4;
/// Yes, no and hello further in than this, in a longer sentence, are not answers ("I don't
/// have a card, can I pay cash?"; "abhi ke liye itna hi, thanks").
const ANSWER_REACH: usize = 2;
const SHORT: usize = 4;

impl Lexicon {
    /// Reads `lexicon.txt`; a malformed line is a bug in the shipped file (a unit test reads it).
    pub fn new() -> Self {
        let mut lexicon = Self { phrases: Vec::new(), by_first: HashMap::new(), by_prefix: HashMap::new() };
        // Two spellings of one phrase share a key and would count twice.
        let mut seen = std::collections::HashSet::new();
        for (number, line) in include_str!("lexicon.txt").lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let bad = |what: &str| panic!("lexicon.txt line {}: {what}: {line}", number + 1);
            let mut fields = line.splitn(3, ' ');
            let (Some(intent), Some(weight), Some(text)) = (fields.next(), fields.next(), fields.next()) else {
                bad("expected `intent weight phrase`")
            };
            let intent: Intent = intent.parse().unwrap_or_else(|_| bad("unknown intent"));
            let weight = weight.parse().unwrap_or_else(|_| bad("weight must be a number"));
            let words: Vec<String> = text
                .split_whitespace()
                .map(|word| {
                    if word == GAP {
                        return GAP.to_owned();
                    }
                    let (stem, star) = word.strip_suffix('*').map_or((word, ""), |stem| (stem, "*"));
                    let key = super::words::words(stem).into_iter().map(|w| w.key).collect::<String>();
                    format!("{key}{star}")
                })
                .collect();
            if words.first().is_none_or(|w| w == GAP) || words.last().is_some_and(|w| w == GAP) {
                bad("a phrase begins and ends with a word, not `..`")
            }
            if !seen.insert((intent, words.clone())) {
                bad("the same phrase (by sound key) is already listed for this intent")
            }
            let index = lexicon.phrases.len();
            if let Some(stem) = words[0].strip_suffix('*') {
                let first = stem.chars().next().unwrap_or_else(|| bad("`*` ends a word, it is not one"));
                lexicon.by_prefix.entry(first).or_default().push(index);
            } else {
                lexicon.by_first.entry(words[0].clone()).or_default().push(index);
            }
            lexicon.phrases.push(Phrase { intent, weight, words });
        }
        lexicon
    }

    /// The winning intent, a confidence in 0–1, and every intent found, best first.
    pub fn classify(&self, words: &[Word]) -> (Intent, f32, Vec<Intent>) {
        // The phrases found, by index: a handful, against a lexicon of hundreds.
        let mut matched: Vec<usize> = Vec::new();
        let mut opener = None;
        for start in 0..words.len() {
            let key = &words[start].key;
            let prefixed = key.chars().next().and_then(|first| self.by_prefix.get(&first));
            let candidates = self.by_first.get(key).into_iter().chain(prefixed).flatten();
            for &index in candidates {
                let phrase = &self.phrases[index];
                let yes_or_no = matches!(phrase.intent, Intent::Yes | Intent::No);
                let opening_only = yes_or_no || phrase.intent == Intent::Greeting;
                if matched.contains(&index) || (opening_only && start >= ANSWER_REACH && words.len() > SHORT) {
                    continue;
                }
                let remedy = matches!(phrase.intent, Intent::Return | Intent::Exchange | Intent::Refund);
                let found = match_length(&phrase.words, &words[start..]);
                if found.is_some_and(|length| !(remedy && set_aside(words, start, start + length))) {
                    matched.push(index);
                    if yes_or_no && start == 0 {
                        opener = Some(phrase.intent);
                    }
                }
            }
        }
        let mut scores: Vec<(Intent, i32)> = Vec::new();
        for phrase in matched.iter().map(|&index| &self.phrases[index]) {
            match scores.iter_mut().find(|(intent, _)| *intent == phrase.intent) {
                Some((_, score)) => *score += phrase.weight,
                None => scores.push((phrase.intent, phrase.weight)),
            }
        }
        let request = scores.iter().filter(|(intent, _)| !intent.is_answer()).map(|&(_, score)| score).max();
        let request_made = match request {
            Some(score) if opener.is_some() => score >= STRONG_REQUEST,
            Some(score) => score >= REQUEST,
            None => false,
        };
        scores.retain(|&(intent, score)| request_made != intent.is_answer() && score > 0);
        // "No, thank you" answers the question; the courtesy after it does not. An opening
        // "ok" or "haan" is a filler before "bye" or "hello".
        if opener == Some(Intent::No) && !request_made {
            scores.retain(|&(intent, _)| intent == Intent::No);
        }
        scores.sort_by_key(|&(intent, score)| (std::cmp::Reverse(score), intent as u8));
        let found = scores.iter().map(|&(intent, _)| intent).collect();
        match scores.as_slice() {
            [] => (Intent::Unknown, 0.0, found),
            [(intent, top), rest @ ..] => {
                let runner_up = rest.first().map_or(0, |&(_, score)| score);
                let margin = *top as f32 / (*top + runner_up) as f32;
                let strength = (*top as f32 / 5.0).min(1.0);
                (*intent, (margin * strength * 100.0).round() / 100.0, found)
            }
        }
    }
}

// Marker words are spelled as sound keys (`नहीं` → `नहिं`); a test holds them to it.

/// Pairs of words after which the next few words are what the caller does not want
/// ("a refund instead of a replacement").
const INSTEAD_OF: [[&str; 2]; 2] = [["instead", "of"], ["rather", "than"]];
/// Pairs of words before which the phrase is what the caller does not want ("brown ki jagah
/// black", "रिफंड के बजाय").
const IN_PLACE_OF: [[&str; 2]; 6] =
    [["ki", "jagah"], ["ke", "bajay"], ["ke", "bajaye"], ["कि", "जगह"], ["के", "बजाय"], ["के", "बजाए"]];
const NOT: [&str; 3] = ["nahi", "nahin", "नहिं"];
const WANTED: [&str; 4] = ["chahiye", "chaiye", "chahie", "चाहिए"];

/// Whether the words `start..end` name what the caller sets aside for something else (one remedy
/// for another: a refund, a return or an exchange): after
/// "instead of", before "ki jagah", or before a "nahi" that a "chahiye" follows ("replacement
/// nahi, refund chahiye" — unlike "refund nahi mila", which still asks about the refund).
fn set_aside(words: &[Word], start: usize, end: usize) -> bool {
    let pair_at = |at: usize, pairs: &[[&str; 2]]| {
        words.get(at..at + 2).is_some_and(|w| pairs.iter().any(|[a, b]| w[0].key == *a && w[1].key == *b))
    };
    let after_instead_of =
        (start.saturating_sub(4)..=start.saturating_sub(2)).any(|at| at + 2 <= start && pair_at(at, &INSTEAD_OF));
    let not_wanted = words.get(end).is_some_and(|w| NOT.contains(&w.key.as_str()))
        && words[end..].iter().any(|w| WANTED.contains(&w.key.as_str()));
    after_instead_of || pair_at(end, &IN_PLACE_OF) || not_wanted
}

/// How many words a phrase's pattern takes from the start of `words`, if it matches there.
fn match_length(pattern: &[String], words: &[Word]) -> Option<usize> {
    let Some((first, rest)) = pattern.split_first() else { return Some(0) };
    if first == GAP {
        return (0..=GAP_WORDS.min(words.len())).find_map(|skip| Some(skip + match_length(rest, &words[skip..])?));
    }
    let word = words.first()?;
    let hit = match first.strip_suffix('*') {
        Some(stem) => word.key.starts_with(stem),
        None => *first == word.key || is_plural(first, &word.key),
    };
    if hit { Some(1 + match_length(rest, &words[1..])?) } else { None }
}

/// An English plural of a roman word of four letters or more (`refunds`, `addresses`); shorter
/// words would meet others (`hi`, `his`).
fn is_plural(pattern: &str, key: &str) -> bool {
    pattern.len() >= 4
        && pattern.is_ascii()
        && key.strip_prefix(pattern).is_some_and(|suffix| suffix == "s" || suffix == "es")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_are_spelled_as_sound_keys() {
        let pairs = INSTEAD_OF.iter().chain(&IN_PLACE_OF).flatten();
        for word in pairs.chain(&NOT).chain(&WANTED) {
            assert_eq!(super::super::words::words(word)[0].key, *word);
        }
    }

    #[test]
    fn a_remedy_set_aside_is_not_asked_for() {
        let lexicon = Lexicon::new();
        let intent = |text: &str| lexicon.classify(&super::super::words::words(text)).0;
        assert_eq!(intent("i want a refund instead of a replacement"), Intent::Refund);
        assert_eq!(intent("replacement nahi refund chahiye"), Intent::Refund);
        assert_eq!(intent("रिफंड के बजाय रिप्लेसमेंट भेज दो"), Intent::Exchange);
        assert_eq!(intent("refund nahi mila abhi tak"), Intent::Refund);
        assert_eq!(intent("can i pay by upi instead of cash"), Intent::Cod);
    }
}
