//! The rules engine against labelled utterances, ≥ 95 % overall and ≥ 90 % per language.
//! Each set was written with the lexicon frozen and measured once before any rule was learnt
//! from it; those first figures are the honest held-out ones (BENCHMARKS.md). Since then every
//! set also guards against regressions.

use std::collections::BTreeMap;

use caly_core::dialogue::{Intent, Rules};

/// Right and total per language, and the misses.
fn score(rules: &Rules, files: &[&str]) -> (BTreeMap<String, (usize, usize)>, Vec<String>) {
    let (mut scores, mut misses) = (BTreeMap::new(), Vec::new());
    for file in files {
        let path = format!("{}/tests/fixtures/intents/{file}", env!("CARGO_MANIFEST_DIR"));
        for line in std::fs::read_to_string(&path).unwrap().lines().filter(|l| !l.is_empty()) {
            let [language, intent, utterance] = line.splitn(3, '\t').collect::<Vec<_>>()[..] else {
                panic!("{path}: expected `language<TAB>intent<TAB>utterance`: {line}")
            };
            let expected: Intent = intent.parse().unwrap_or_else(|e| panic!("{path}: {e}: {line}"));
            let understood = rules.understand(utterance);
            let (right, total) = scores.entry(language.to_owned()).or_insert((0, 0));
            *total += 1;
            if understood.intent == expected {
                *right += 1;
            } else {
                misses.push(format!("{language}\t{expected}\t→ {}\t{utterance}", understood.intent));
            }
        }
    }
    (scores, misses)
}

/// Prints the figures and checks them against the floors (in percent).
fn check(files: &[&str], overall_floor: usize, language_floor: usize, minimum: usize) {
    let (scores, misses) = score(&Rules::new(), files);
    let (right, total) = scores.values().fold((0, 0), |(r, t), (sr, st)| (r + sr, t + st));
    for (language, (r, t)) in &scores {
        println!("{language:9} {r}/{t} = {:.1} %", 100.0 * *r as f64 / *t as f64);
    }
    println!(
        "overall   {right}/{total} = {:.1} %\nmisses:\n{}",
        100.0 * right as f64 / total as f64,
        misses.join("\n")
    );
    assert!(total >= minimum, "at least {minimum} utterances");
    assert!(right * 100 >= total * overall_floor, "overall accuracy below {overall_floor} %");
    for (language, (r, t)) in &scores {
        assert!(r * 100 >= t * language_floor, "{language} accuracy below {language_floor} %");
    }
}

#[test]
fn held_out_intent_accuracy() {
    check(&["heldout-en.tsv", "heldout-hinglish.tsv", "heldout-hi.tsv"], 95, 90, 300);
}

#[test]
fn blind_intent_accuracy() {
    check(&["blind.tsv"], 95, 90, 120);
}

#[test]
fn second_blind_intent_accuracy() {
    check(&["blind-2.tsv"], 90, 90, 90);
}

#[test]
fn final_intent_accuracy() {
    check(&["final-en.tsv", "final-hinglish.tsv", "final-hi.tsv"], 95, 90, 300);
}
