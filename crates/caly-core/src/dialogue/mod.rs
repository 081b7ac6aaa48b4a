//! Understanding what a caller said: intent, language and entities, by rules and a model trained
//! on shipped examples — deterministic, no network, so Caly works without any API key. Sans-IO:
//! text in, `Understanding` out.

mod entities;
mod intents;
mod model;
pub(crate) mod number_words;
mod numbers;
mod words;

use serde::Serialize;

pub use entities::Entities;
pub use model::{EXAMPLES, labelled};

use crate::{Language, choice};

choice! {
    /// What the caller wants.
    pub enum Intent, invalid = "invalid_intent" {
        OrderStatus = "order_status",
        Tracking = "tracking",
        CancelOrder = "cancel_order",
        Return = "return",
        Exchange = "exchange",
        Refund = "refund",
        AddressChange = "address_change",
        PaymentProblem = "payment_problem",
        Cod = "cod",
        Invoice = "invoice",
        ProductQuestion = "product_question",
        Complaint = "complaint",
        TechnicalProblem = "technical_problem",
        Human = "human",
        Greeting = "greeting",
        Goodbye = "goodbye",
        NeverMind = "never_mind",
        Yes = "yes",
        No = "no",
        Unknown = "unknown",
    }
}

impl Intent {
    /// Replies and courtesies rather than requests.
    pub fn is_answer(self) -> bool {
        matches!(self, Self::Yes | Self::No | Self::Greeting | Self::Goodbye)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Understanding {
    pub intent: Intent,
    pub confidence: f32,
    /// The language of the words, or `None` when nothing tells (digits, "ok").
    pub language: Option<Language>,
    pub entities: Entities,
    /// Angry or abusive words: the agent hands such a caller to a person.
    #[serde(skip)]
    pub upset: bool,
}

impl Understanding {
    /// Nothing understood: for input that is not words (keypad digits).
    pub fn nothing() -> Self {
        Self { intent: Intent::Unknown, confidence: 0.0, language: None, entities: Entities::default(), upset: false }
    }
}

/// The rules engine. Built once (it indexes its lexicon and trains its model) and shared.
pub struct Rules {
    lexicon: intents::Lexicon,
    model: model::Model,
    numbers: numbers::NumberWords,
    hindi_markers: std::collections::HashSet<String>,
    upset_words: std::collections::HashSet<String>,
    shared_words: std::collections::HashSet<String>,
    unfinished_words: std::collections::HashSet<String>,
}

/// Roman words that only Hindi has: one of them makes a roman sentence Hinglish.
const HINDI_MARKERS: &str = "mera meri mere mujhe muje hai hain ho kab kya kyun kyu kaise kahan nahi nahin karna karni \
    karo kar kariye karna karwa karwana chahiye aaya aayega aayegi milega milegi wapas vapas paisa paise haan ji bhai \
    bhaiya abhi tak ka ki ke ko se mein hoon hu raha rahi rahe gaya gayi gaye diya bata batao accha acha theek thik \
    rehne chhodo chhod yeh ye woh aur lekin pe wala wali dijiye namaste namaskar dhanyavad dhanyawad shukriya bilkul \
    galat sahi saman samaan badal lautana kitne kitna kaun mat jaldi yaar kuch bhi aaj sunao hua hui tha thi koi baat \
    baar maine aapka aapki aap hamara tum tera isko usko kisi karwa dena lena jane jaane rakhta alvida bas itna haan \
    kat atak kahin pata naya purana badalna chahta chahti sakta sakte sakti";

/// Words Hinglish speakers use as much as English ones: alone they do not make a sentence
/// English ("hello", "order 1001 cancel").
const SHARED_WORDS: &str = "hello hi hey ok okay yes no please thanks thank you bye sorry order cancel refund return \
    exchange status number address payment delivery app otp cod invoice bill gst upi pin code tracking courier parcel \
    product size colour color price stock link rupees rs double triple";

/// Words a sentence does not end on: conjunctions, possessives, fillers.
const UNFINISHED_WORDS: &str = "and or but because so the my is aur ya lekin par kyunki ki ke ka toh to matlab mera meri \
    mere umm um uh और या लेकिन क्योंकि कि तो मेरा मेरी";

/// Anger and abuse, in the three languages.
const UPSET_WORDS: &str = "stupid idiot useless nonsense rubbish shut bloody damn cheaters cheater fraud bakwas \
    bakvas bewakoof bevkoof pagal ullu kamina kamine chor dhokebaaz बकवास बेवकूफ पागल उल्लू कमीना कमीने चोर धोखेबाज़ फ्रॉड";

/// The lexicon decides alone from this confidence up, and always on answers (yes, no, hello,
/// bye), which the agent acts on.
const SURE: f32 = 0.5;
/// Below it, the model's guess replaces the lexicon's when the model gives it this probability
/// and the caller said a sentence: a word or three (a city, "too expensive") tell the model too
/// little, and are most often the answer to the agent's question.
const LIKELY: f32 = 0.6;
const SENTENCE: usize = 4;
/// A hello or a thank-you at the start of a sentence this long is a courtesy before the request
/// ("hi, I bought a microwave last week and wonder when it will show up"): the model may find
/// the request the lexicon did not.
const COURTESY_BEFORE_REQUEST: usize = 7;

impl Rules {
    pub fn new() -> Self {
        let numbers = numbers::NumberWords::new();
        let examples: Vec<(Intent, Vec<words::Word>)> = model::EXAMPLES
            .iter()
            .flat_map(|file| labelled(file))
            .map(|(_, intent, text)| {
                let words = words::words(text);
                (intent, request_words(&words, &entities::numbers(&words, &numbers)))
            })
            .collect();
        Self {
            lexicon: intents::Lexicon::new(),
            model: model::Model::train(examples.iter().map(|(intent, words)| (*intent, words.as_slice()))),
            numbers,
            hindi_markers: HINDI_MARKERS.split_whitespace().map(words::sound_key).collect(),
            upset_words: UPSET_WORDS.split_whitespace().flat_map(words::words).map(|w| w.key).collect(),
            shared_words: SHARED_WORDS.split_whitespace().map(words::sound_key).collect(),
            unfinished_words: UNFINISHED_WORDS.split_whitespace().flat_map(words::words).map(|w| w.key).collect(),
        }
    }

    /// Whether the caller has clearly not finished (a pause cut the sentence): the words end
    /// in a number being read out, on "number (hai)", or on a word no sentence ends on.
    pub fn is_incomplete(&self, text: &str) -> bool {
        let words = words::words(text);
        let Some(last) = words.last() else { return false };
        let in_number = entities::numbers(&words, &self.numbers).iter().any(|heard| heard.last == words.len() - 1);
        let key = |i: usize| words.get(i).map(|w| words::sound_key(&w.key));
        let is_number_word =
            |i: usize| key(i).is_some_and(|k| ["number", "nambar", "नंबर"].map(words::sound_key).contains(&k));
        let number_is = key(words.len() - 1).is_some_and(|k| ["hai", "है", "is"].map(words::sound_key).contains(&k))
            && words.len() >= 2
            && is_number_word(words.len() - 2);
        in_number || number_is || is_number_word(words.len() - 1) || self.unfinished_words.contains(&last.key)
    }

    pub fn understand(&self, text: &str) -> Understanding {
        let words = words::words(text);
        let heard = entities::numbers(&words, &self.numbers);
        let request = request_words(&words, &heard);
        let (mut intent, mut confidence, found) = self.lexicon.classify(&request);
        let courtesy = matches!(intent, Intent::Greeting | Intent::Goodbye) && request.len() >= COURTESY_BEFORE_REQUEST;
        if courtesy || (!intent.is_answer() && confidence < SURE && request.len() >= SENTENCE) {
            // What the lexicon found bounds the model's choice, besides "none of these" (small
            // talk); it chooses freely where the lexicon found nothing.
            let mut among: Vec<Intent> = found.into_iter().filter(|intent| !intent.is_answer()).collect();
            if !among.is_empty() {
                among.push(Intent::Unknown);
            }
            let guess = self.model.classify(&request, &among);
            let wanted = |&(guess, probability): &(Intent, f32)| {
                probability >= LIKELY && (!courtesy || (!guess.is_answer() && guess != Intent::Unknown))
            };
            if let Some((guess, probability)) = guess.filter(wanted) {
                // The model's probabilities run high; its guess never claims more than the
                // lexicon needs to decide alone.
                (intent, confidence) = (guess, (probability * SURE * 100.0).round() / 100.0);
            }
        }
        Understanding {
            intent,
            confidence,
            language: self.language(&words),
            entities: entities::entities(text, &words, heard),
            upset: words.iter().any(|w| self.upset_words.contains(&w.key)),
        }
    }

    /// Devanagari anywhere makes it Hindi (callers mix in English words); otherwise a Hindi
    /// word in roman letters makes it Hinglish; otherwise an English word that Hinglish does not
    /// share makes it English. Digits and shared words alone tell nothing.
    fn language(&self, words: &[words::Word]) -> Option<Language> {
        if words.iter().any(words::Word::is_devanagari) {
            Some(Language::Hi)
        } else if words.iter().any(|w| self.hindi_markers.contains(&w.key)) {
            Some(Language::Hinglish)
        } else if words
            .iter()
            .any(|w| w.key.chars().any(|c| c.is_ascii_alphabetic()) && !self.shared_words.contains(&w.key))
        {
            Some(Language::En)
        } else {
            None
        }
    }
}

/// The words that can tell an intent: number words are not evidence of one ("one double zero
/// one" is no double charge).
fn request_words(words: &[words::Word], heard: &[numbers::Heard]) -> Vec<words::Word> {
    let in_number = |i: usize| heard.iter().any(|h| !h.lone_word && (h.first..=h.last).contains(&i));
    words.iter().enumerate().filter(|&(i, _)| !in_number(i)).map(|(_, w)| w.clone()).collect()
}

impl Default for Rules {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod incomplete_tests {
    use super::Rules;

    #[test]
    fn sentences_cut_by_a_pause_are_incomplete() {
        let rules = Rules::new();
        for text in [
            "mera order number hai",
            "mera order number hai 4 5",
            "char paanch do",
            "I want to cancel and",
            "order kab aayega lekin",
            "मेरा ऑर्डर नंबर है",
            "my number is",
            "order number",
        ] {
            assert!(rules.is_incomplete(text), "{text}");
        }
        for text in ["", "mera order kahan hai", "where is my order", "cancel kar do", "order 4521 kab aayega"] {
            assert!(!rules.is_incomplete(text), "{text}");
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// Any text at all, including digits, scripts and punctuation run together.
    #[test]
    fn any_text_is_understood_without_panicking() {
        let rules = Rules::new();
        proptest!(|(text in "(\\PC|[0-9₹@.,' ]|ek|do|sau|hazaar|double|at|dot){0,40}")| {
            let understood = rules.understand(&text);
            prop_assert!((0.0..=1.0).contains(&understood.confidence));
        });
    }

    #[test]
    fn the_language_follows_the_words() {
        let rules = Rules::new();
        let language = |text: &str| rules.understand(text).language;
        assert_eq!(language("where is my order"), Some(Language::En));
        assert_eq!(language("mera order kahan hai"), Some(Language::Hinglish));
        assert_eq!(language("मेरा order cancel करो"), Some(Language::Hi));
        assert_eq!(language("4521"), None);
        assert_eq!(language("hello, order 1001 cancel"), None, "words both languages use");
    }
}
