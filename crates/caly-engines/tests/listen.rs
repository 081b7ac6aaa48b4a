//! Turn-taking and barge-in on synthesised speech (espeak-ng, 8 kHz, the caly-audio fixtures).

use caly_engines::listen::{Heard, ListenSettings, Listener};

fn fixture(name: &str) -> Vec<i16> {
    let path = format!("{}/../caly-audio/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    hound::WavReader::open(path).unwrap().into_samples().map(Result::unwrap).collect()
}

/// Plays `speech` after 200 ms of silence, then a second of silence; `words` (if any) arrive as
/// as interim transcripts at the frames given. Returns each event with its frame.
fn listen(speech: &[i16], agent_speaking: bool, words: &[(&str, usize)]) -> Vec<(Heard, usize)> {
    let mut listener = Listener::new(ListenSettings::default(), 8_000).unwrap();
    let silence = vec![0i16; 1_600];
    let audio: Vec<i16> = silence.iter().chain(speech).chain(&vec![0; 8_000]).copied().collect();
    let mut events = Vec::new();
    for (i, frame) in audio.chunks(160).enumerate() {
        events.extend(listener.frame(frame, agent_speaking).map(|e| (e, i)));
        for (text, _) in words.iter().filter(|(_, at)| *at == i) {
            events.extend(listener.words(text, agent_speaking).map(|e| (e, i)));
        }
    }
    events
}

fn kinds(events: &[(Heard, usize)]) -> Vec<Heard> {
    events.iter().map(|(heard, _)| *heard).collect()
}

#[test]
fn a_turn_starts_and_ends_without_barge_in_while_the_agent_is_quiet() {
    let events = listen(&fixture("order_en_8k.wav"), false, &[]);
    assert_eq!(kinds(&events), vec![Heard::SpeechStarted, Heard::SpeechEnded]);
}

#[test]
fn speech_over_the_agent_interrupts_when_words_come_or_once_it_outlasts_a_backchannel() {
    let speech = fixture("order_en_8k.wav");
    let events = listen(&speech, true, &[]);
    assert_eq!(kinds(&events), vec![Heard::SpeechStarted, Heard::BargeIn, Heard::SpeechEnded]);
    let (started, barged) = (events[0].1, events[1].1);
    assert_eq!(barged - started, (700 - 60) / 20, "barge_in + barge_in_wait after onset, no words");

    let events = listen(&speech, true, &[("where is", 30)]);
    let started = events[0].1;
    let barged = events.iter().find(|(h, _)| *h == Heard::BargeIn).unwrap().1;
    assert!(barged <= started.max(30) + (300 - 60) / 20, "words make it interrupt at 300 ms: {events:?}");
}

#[test]
fn a_backchannel_over_the_agent_does_not_interrupt() {
    let haan = fixture("haan_8k.wav");
    for words in [&[("haan", 25)][..], &[]] {
        let events = listen(&haan, true, words);
        assert!(!kinds(&events).contains(&Heard::BargeIn), "{words:?}: {events:?}");
    }
    let events = listen(&fixture("order_hi_8k.wav"), true, &[("हाँ", 25), ("हाँ मेरा ऑर्डर", 50)]);
    assert_eq!(events[1], (Heard::BargeIn, 50), "a backchannel that goes on into words: {events:?}");
}

#[test]
fn the_agent_answering_in_the_quiet_that_ends_a_turn_is_not_interrupted() {
    let mut listener = Listener::new(ListenSettings::default(), 8_000).unwrap();
    let speech = fixture("order_en_8k.wav");
    let mut heard = Vec::new();
    for frame in speech.chunks(160) {
        heard.extend(listener.frame(frame, false));
    }
    // A realtime service ended the turn before our detector's hangover: the agent speaks.
    for frame in vec![0i16; 8_000].chunks(160) {
        heard.extend(listener.frame(frame, true));
    }
    assert_eq!(heard, vec![Heard::SpeechStarted, Heard::SpeechEnded]);
}
