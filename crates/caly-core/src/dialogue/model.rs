//! A naive Bayes model of intents over pieces of words, trained when the engine is built on the
//! labelled examples shipped with it (`examples/*.tsv`). The lexicon is exact but knows only the
//! phrases written into it; the model generalises from the examples' words and their three- and
//! four-letter pieces (`tooti` shares `<to`, `oot` with `toota`) to sentences no rule was written
//! for. Written here rather than taken from a crate: it is a few dozen lines over our own word
//! keys, and a general ML crate would bring far more than it needs.

use std::{
    collections::HashMap,
    hash::{DefaultHasher, Hasher},
};

use super::{Intent, words::Word};

/// Additive smoothing of the counts: a feature never seen with an intent is unlikely, not impossible.
const SMOOTHING: f32 = 0.3;

/// The shipped examples, `language<TAB>intent<TAB>utterance` a line.
pub const EXAMPLES: [&str; 25] = [
    include_str!("examples/heldout-en.tsv"),
    include_str!("examples/heldout-hinglish.tsv"),
    include_str!("examples/heldout-hi.tsv"),
    include_str!("examples/blind.tsv"),
    include_str!("examples/blind-2.tsv"),
    include_str!("examples/final-en.tsv"),
    include_str!("examples/final-hinglish.tsv"),
    include_str!("examples/final-hi.tsv"),
    include_str!("examples/probe-1.tsv"),
    include_str!("examples/probe-2.tsv"),
    include_str!("examples/probe-3.tsv"),
    include_str!("examples/probe-4.tsv"),
    include_str!("examples/probe-5.tsv"),
    include_str!("examples/probe-6.tsv"),
    include_str!("examples/probe-7.tsv"),
    include_str!("examples/small-talk.tsv"),
    include_str!("examples/unseen-1-en.tsv"),
    include_str!("examples/unseen-1-hinglish.tsv"),
    include_str!("examples/unseen-1-hi.tsv"),
    include_str!("examples/unseen-2-en.tsv"),
    include_str!("examples/unseen-2-hinglish.tsv"),
    include_str!("examples/unseen-2-hi.tsv"),
    include_str!("examples/unseen-3-en.tsv"),
    include_str!("examples/unseen-3-hinglish.tsv"),
    include_str!("examples/unseen-3-hi.tsv"),
];

/// The labelled lines of a file of examples: (language, intent, utterance). A malformed line is a
/// bug in the file (the tests read every shipped one).
pub fn labelled(file: &str) -> impl Iterator<Item = (&str, Intent, &str)> {
    file.lines().filter(|line| !line.is_empty()).map(|line| {
        let mut fields = line.splitn(3, '\t');
        let (Some(language), Some(intent), Some(utterance)) = (fields.next(), fields.next(), fields.next()) else {
            panic!("expected `language<TAB>intent<TAB>utterance`: {line}")
        };
        (language, intent.parse().unwrap_or_else(|_| panic!("unknown intent: {line}")), utterance)
    })
}

/// Per intent, in the order of `Intent::ALL` (which is the enum's own, so `intent as usize`
/// indexes it).
type PerIntent<T> = Vec<T>;

pub struct Model {
    /// Intents without an example are never guessed.
    trained: PerIntent<bool>,
    /// The log-likelihood per intent of each feature seen in training.
    weights: HashMap<u64, PerIntent<f32>>,
}

impl Model {
    /// Counts in how many examples of each intent every feature occurs.
    pub fn train<'a>(examples: impl IntoIterator<Item = (Intent, &'a [Word])>) -> Self {
        let mut counts: HashMap<u64, PerIntent<u32>> = HashMap::new();
        let mut totals = vec![0u32; Intent::ALL.len()];
        let mut trained = vec![false; Intent::ALL.len()];
        for (intent, words) in examples {
            let at = intent as usize;
            trained[at] = true;
            for feature in features(words) {
                counts.entry(feature).or_insert_with(|| vec![0; Intent::ALL.len()])[at] += 1;
                totals[at] += 1;
            }
        }
        let vocabulary = counts.len() as f32;
        let likelihood = |(&count, &total): (&u32, &u32)| {
            ((count as f32 + SMOOTHING) / (total as f32 + SMOOTHING * vocabulary)).ln()
        };
        let weights = counts
            .into_iter()
            .map(|(feature, count)| (feature, count.iter().zip(&totals).map(likelihood).collect()))
            .collect();
        Self { trained, weights }
    }

    /// The likeliest intent of those given (of all, when none are) and its probability among
    /// them, or `None` when no feature of the words was seen in training.
    pub fn classify(&self, words: &[Word], among: &[Intent]) -> Option<(Intent, f32)> {
        let mut scores = vec![0.0f32; Intent::ALL.len()];
        let mut known = false;
        for feature in features(words) {
            if let Some(weights) = self.weights.get(&feature) {
                known = true;
                scores.iter_mut().zip(weights).for_each(|(score, weight)| *score += weight);
            }
        }
        let allowed = |at: usize| self.trained[at] && (among.is_empty() || among.contains(&Intent::ALL[at]));
        let candidates = || scores.iter().enumerate().filter(|&(at, _)| allowed(at));
        let (best, &top) = candidates().max_by(|a, b| a.1.total_cmp(b.1))?;
        let total: f32 = candidates().map(|(_, score)| (score - top).exp()).sum();
        known.then(|| (Intent::ALL[best], 1.0 / total))
    }
}

/// Each word that is not a number, and its three- and four-letter pieces with the word's edges
/// marked (`<to`, `ta>`), once each, hashed (one text hashes alike as a word or a piece), in a
/// fixed order so that scores add up the same way every time.
fn features(words: &[Word]) -> Vec<u64> {
    let hash = |letters: &mut dyn Iterator<Item = char>| {
        let mut hasher = DefaultHasher::new();
        letters.for_each(|letter| hasher.write_u32(letter.into()));
        hasher.finish()
    };
    let mut features = Vec::new();
    for word in words.iter().filter(|word| !word.is_number()) {
        let letters: Vec<char> = std::iter::once('<').chain(word.key.chars()).chain(std::iter::once('>')).collect();
        for size in [3, 4] {
            features.extend(letters.windows(size).map(|piece| hash(&mut piece.iter().copied())));
        }
        features.push(hash(&mut word.key.chars()));
    }
    features.sort_unstable();
    features.dedup();
    features
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dialogue::words::words;

    fn model(files: &[&str]) -> Model {
        let examples: Vec<(Intent, Vec<Word>)> =
            files.iter().flat_map(|file| labelled(file)).map(|(_, intent, text)| (intent, words(text))).collect();
        Model::train(examples.iter().map(|(intent, words)| (*intent, words.as_slice())))
    }

    #[test]
    fn intents_are_indexed_by_their_place_in_all() {
        assert!(Intent::ALL.iter().enumerate().all(|(at, &intent)| intent as usize == at));
    }

    #[test]
    fn the_likeliest_intent_is_the_one_its_words_were_seen_with() {
        let model = model(&["en\tcancel_order\tcancel my order\nen\trefund\twhere is my refund\n"]);
        assert_eq!(
            model.classify(&words("please cancel it"), &[]).map(|(intent, _)| intent),
            Some(Intent::CancelOrder)
        );
        assert_eq!(model.classify(&words("refunds"), &[]).map(|(intent, _)| intent), Some(Intent::Refund));
        assert_eq!(model.classify(&words("xyz"), &[]), None);
        let among = [Intent::Refund];
        assert_eq!(model.classify(&words("cancel my order"), &among).map(|(intent, _)| intent), Some(Intent::Refund));
    }

    /// How well the model alone generalises: each shipped file in turn is classified by a model
    /// trained on all the others (the figures are in BENCHMARKS.md).
    #[test]
    fn each_examples_file_is_understood_by_a_model_trained_on_the_others() {
        let (mut right, mut total) = (0, 0);
        for (held_out, file) in EXAMPLES.iter().enumerate() {
            let others: Vec<&str> =
                EXAMPLES.iter().enumerate().filter(|&(i, _)| i != held_out).map(|(_, f)| *f).collect();
            let model = model(&others);
            let (mut file_right, mut file_total) = (0, 0);
            for (_, intent, text) in labelled(file) {
                file_total += 1;
                file_right += usize::from(model.classify(&words(text), &[]).is_some_and(|(guess, _)| guess == intent));
            }
            println!("file {held_out:2}: {file_right}/{file_total}");
            (right, total) = (right + file_right, total + file_total);
        }
        println!("model alone, each file held out: {right}/{total} = {:.1} %", 100.0 * right as f64 / total as f64);
        assert!(right * 100 >= total * 70, "the model alone should get most unseen sentences right");
    }
}
