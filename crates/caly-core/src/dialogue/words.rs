//! Words as the rules engine compares them: split from the caller's text with their place in it,
//! Devanagari folded (nukta, chandrabindu, the borrowed ऑ), roman words reduced to a sound key so
//! that the many spellings of one Hinglish word meet (`aayega`, `ayega`; `wapas`, `vapas`).

use unicode_normalization::char::decompose_canonical;

/// One word of the caller's text: its comparison key and where it stands in the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    pub key: String,
    pub start: usize,
    pub end: usize,
}

impl Word {
    pub fn is_number(&self) -> bool {
        self.key.bytes().all(|b| b.is_ascii_digit())
    }

    pub fn is_devanagari(&self) -> bool {
        self.key.chars().any(is_devanagari)
    }
}

pub fn is_devanagari(c: char) -> bool {
    ('\u{0900}'..='\u{097F}').contains(&c)
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || (is_devanagari(c) && !matches!(c, '\u{0964}' | '\u{0965}')) || c == '₹'
}

/// Splits text into words. Apostrophes vanish inside words (`don't` → `dont`), digits grouped
/// with commas join (`1,299` → `1299`), Devanagari digits become ASCII, and `₹` stands alone.
pub fn words(text: &str) -> Vec<Word> {
    let mut words = Vec::new();
    let mut key = String::new();
    let mut start = 0;
    let mut chars = text.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        let next = chars.peek().map(|&(_, n)| n);
        let joins_digits =
            c == ',' && key.ends_with(|k: char| k.is_ascii_digit()) && next.is_some_and(|n| n.is_ascii_digit());
        let inside_word = matches!(c, '\'' | '’') && !key.is_empty() && next.is_some_and(char::is_alphanumeric);
        if joins_digits || inside_word || matches!(c, '\u{200C}' | '\u{200D}') {
            continue;
        }
        if c == '₹' || !is_word_char(c) {
            flush(&mut words, &mut key, start, at);
            if c == '₹' {
                words.push(Word { key: "₹".into(), start: at, end: at + c.len_utf8() });
            }
            continue;
        }
        if key.is_empty() {
            start = at;
        }
        push_folded(&mut key, c);
    }
    flush(&mut words, &mut key, start, text.len());
    words
}

fn flush(words: &mut Vec<Word>, key: &mut String, start: usize, end: usize) {
    if !key.is_empty() {
        words.push(Word { key: sound_key(key), start, end });
        key.clear();
    }
}

fn push_folded(key: &mut String, c: char) {
    match c {
        '०'..='९' => key.push(char::from(b'0' + (c as u32 - '०' as u32) as u8)),
        'ँ' => key.push('ं'),
        'ऑ' => key.push('ओ'),
        'ॉ' => key.push('ो'),
        c if is_devanagari(c) => decompose_canonical(c, |part| push_devanagari(key, part)),
        c => key.extend(c.to_lowercase()),
    }
}

/// Devanagari as callers' spellings vary: long and short i and u meet (`रीफंड`, `रिफंड`), a
/// half न or म is the nasal mark (`कैन्सल`, `कैंसल`), and `ये`, `यी` are `ए`, `ई` (`चाहिये`,
/// `गयी`); the nukta is dropped.
fn push_devanagari(key: &mut String, c: char) {
    let c = match c {
        '\u{093C}' => return,
        'ी' => 'ि',
        'ू' => 'ु',
        'ई' => 'इ',
        'ऊ' => 'उ',
        c => c,
    };
    let folded = match c {
        '्' if key.ends_with(['न', 'म']) => 'ं',
        'े' if key.ends_with('य') => 'ए',
        'ि' if key.ends_with('य') => 'इ',
        _ => {
            key.push(c);
            return;
        }
    };
    key.pop();
    key.push(folded);
}

/// The sound key of a roman word: long vowels shortened, `w`/`v`, `z`/`j`, `q`/`k` and `ph`/`f`
/// merged, doubled letters single. Devanagari and digits pass unchanged.
pub fn sound_key(word: &str) -> String {
    // `app` would meet `aap` ("you"), which nearly every polite Hinglish sentence has.
    if !word.is_ascii() || word.bytes().all(|b| b.is_ascii_digit()) || matches!(word, "app" | "apps") {
        return word.to_owned();
    }
    let merged = word.replace("ee", "i").replace("oo", "u").replace("ph", "f");
    let mut key = String::with_capacity(merged.len());
    for c in merged.chars() {
        let c = match c {
            'w' => 'v',
            'z' => 'j',
            'q' => 'k',
            c => c,
        };
        if !key.ends_with(c) {
            key.push(c);
        }
    }
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(text: &str) -> Vec<String> {
        words(text).into_iter().map(|w| w.key).collect()
    }

    #[test]
    fn spellings_of_one_word_meet() {
        assert_eq!(sound_key("aayega"), sound_key("ayega"));
        assert_eq!(sound_key("wapas"), sound_key("vapas"));
        assert_eq!(sound_key("chhodo"), sound_key("chodo"));
        assert_eq!(sound_key("teen"), sound_key("tin"));
        assert_ne!(sound_key("app"), sound_key("aap"));
        assert_eq!(keys("पहुँचा साइज़ ऑर्डर"), keys("पहुंचा साइज ओर्डर"));
        assert_eq!(keys("रीफंड कैन्सल चाहिये गयी दूसरा"), keys("रिफंड कैंसल चाहिए गई दुसरा"));
    }

    #[test]
    fn words_keep_their_place_in_the_text() {
        let text = "Don't cancel order #1,299, ₹499 — ठीक है।";
        let found = words(text);
        let found_keys: Vec<&str> = found.iter().map(|w| w.key.as_str()).collect();
        assert_eq!(found_keys, ["dont", "cancel", "order", "1299", "₹", "499", "ठिक", "है"]);
        assert_eq!(&text[found[1].start..found[1].end], "cancel");
        assert_eq!(&text[found[6].start..found[6].end], "ठीक");
        assert_eq!(keys("४५२"), ["452"]);
    }
}
