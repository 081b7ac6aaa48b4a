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
    /// Phrases by their first word's key; phrases whose first word is a prefix are in `by_prefix`.
    by_first: HashMap<String, Vec<usize>>,
    by_prefix: Vec<usize>,
}

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
        let mut lexicon = Self { phrases: Vec::new(), by_first: HashMap::new(), by_prefix: Vec::new() };
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
                    let (stem, star) = word.strip_suffix('*').map_or((word, ""), |stem| (stem, "*"));
                    let key = super::words::words(stem).into_iter().map(|w| w.key).collect::<String>();
                    format!("{key}{star}")
                })
                .collect();
            let index = lexicon.phrases.len();
            if words[0].ends_with('*') {
                lexicon.by_prefix.push(index);
            } else {
                lexicon.by_first.entry(words[0].clone()).or_default().push(index);
            }
            lexicon.phrases.push(Phrase { intent, weight, words });
        }
        lexicon
    }

    /// The winning intent and a confidence in 0–1.
    pub fn classify(&self, words: &[Word]) -> (Intent, f32) {
        let mut matched = vec![false; self.phrases.len()];
        let mut opener = None;
        for start in 0..words.len() {
            let candidates = self.by_first.get(&words[start].key).into_iter().flatten().chain(&self.by_prefix);
            for &index in candidates {
                let phrase = &self.phrases[index];
                let yes_or_no = matches!(phrase.intent, Intent::Yes | Intent::No);
                let opening_only = yes_or_no || phrase.intent == Intent::Greeting;
                if matched[index] || (opening_only && start >= ANSWER_REACH && words.len() > SHORT) {
                    continue;
                }
                if phrase.matches(&words[start..]) {
                    matched[index] = true;
                    if yes_or_no && start == 0 {
                        opener = Some(phrase.intent);
                    }
                }
            }
        }
        let mut scores: Vec<(Intent, i32)> = Vec::new();
        for (phrase, _) in self.phrases.iter().zip(&matched).filter(|(_, m)| **m) {
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
        match scores.as_slice() {
            [] => (Intent::Unknown, 0.0),
            [(intent, top), rest @ ..] => {
                let runner_up = rest.first().map_or(0, |&(_, score)| score);
                let margin = *top as f32 / (*top + runner_up) as f32;
                let strength = (*top as f32 / 5.0).min(1.0);
                (*intent, (margin * strength * 100.0).round() / 100.0)
            }
        }
    }
}

impl Phrase {
    fn matches(&self, words: &[Word]) -> bool {
        self.words.len() <= words.len()
            && self.words.iter().zip(words).all(|(pattern, word)| match pattern.strip_suffix('*') {
                Some(stem) => word.key.starts_with(stem),
                None => *pattern == word.key,
            })
    }
}
