//! Voice engines: what turns a call's audio into the agent's audio. The call runtime feeds one
//! [`VoiceInput`] at a time and performs the [`VoiceOutput`]s it gets back at once or later
//! (providers answering); audio both ways is 16-bit PCM at [`RATE`]. [`TestEngine`] needs no provider: it greets with a tone, echoes each
//! thing the caller says, reads back keypad digits as DTMF tones, and transfers or hangs up on
//! request — enough to carry real calls end to end and to load-test the runtime.

use std::{f64::consts::TAU, sync::LazyLock, time::Duration};

use caly_audio::vad::{Activity, EnergyVad};
use caly_core::Language;
use tokio::time::Instant;

/// The rate of every engine's audio.
pub const RATE: u32 = 16_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VoiceInput<'a> {
    /// The caller is connected.
    Started,
    /// 20 ms of the caller's audio; `agent_speaking` while the agent's audio plays, and how
    /// much of the agent utterance now playing has gone out at real time.
    Audio { frame: &'a [i16], agent_speaking: bool, agent_played: Duration },
    /// Digits typed on the keypad, complete.
    Digits(&'a str),
}

#[derive(Debug, Clone, PartialEq)]
pub enum VoiceOutput {
    /// The agent starts saying `text` (what the transcript records); its audio follows.
    Speak { text: String, answering: Option<Answering> },
    /// The next piece of what the agent is saying.
    Audio(Vec<i16>),
    /// The words of what the agent is saying, when they are known only after its audio began
    /// (a speech-to-speech model's): they replace the text it started with.
    Words(String),
    /// What the agent started saying is all there.
    Spoken,
    /// The caller started talking over the agent: stop the agent's audio now.
    StopSpeaking,
    /// What the caller said, for the transcript.
    Heard { text: String, language: Option<Language>, intent: Option<String> },
    /// Hand the call to a person.
    Transfer { reason: String },
    /// End the call once everything said has been played.
    HangUp,
}

/// How the agent came to answer a caller's turn; the runtime adds when its audio went out.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Answering {
    /// What is answered: the caller's speech, keys, or the call's start (the greeting).
    pub cause: Cause,
    /// When the end of the caller's speech (their last key, the call's start) was detected.
    pub speech_ended: Instant,
    /// The silence that ended the turn.
    pub eos: Duration,
    /// From the end of speech to the words.
    pub stt: Duration,
    pub understanding: Duration,
    pub llm_first_token: Option<Duration>,
    pub tools: Duration,
    pub tts_first_audio: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cause {
    Speech,
    Keys,
    Greeting,
}

/// Says `text` with all of its audio at once.
pub fn say(text: impl Into<String>, audio: Vec<i16>) -> [VoiceOutput; 3] {
    [VoiceOutput::Speak { text: text.into(), answering: None }, VoiceOutput::Audio(audio), VoiceOutput::Spoken]
}

#[async_trait::async_trait]
pub trait VoiceEngine: Send {
    /// Takes one input at once (never waits); returns what it calls for now.
    fn handle(&mut self, input: VoiceInput<'_>) -> Vec<VoiceOutput>;

    /// The next output that comes later (a provider answered). Cancel-safe.
    async fn later(&mut self, _agent_speaking: bool) -> VoiceOutput {
        std::future::pending().await
    }
}

/// The longest echo: more of a long monologue is not kept.
const MAX_ECHO_SAMPLES: usize = RATE as usize * 8;

pub struct TestEngine {
    greeting: String,
    vad: EnergyVad,
    heard: Vec<i16>,
}

impl TestEngine {
    pub fn new(greeting: impl Into<String>) -> Self {
        Self { greeting: greeting.into(), vad: EnergyVad::default(), heard: Vec::new() }
    }
}

impl VoiceEngine for TestEngine {
    fn handle(&mut self, input: VoiceInput<'_>) -> Vec<VoiceOutput> {
        match input {
            VoiceInput::Started => say(self.greeting.clone(), GREETING_TONE.clone()).into(),
            VoiceInput::Audio { frame, .. } => {
                let activity = self.vad.frame(frame);
                if self.vad.is_speaking() || activity == Some(Activity::SpeechEnded) {
                    let room = MAX_ECHO_SAMPLES.saturating_sub(self.heard.len());
                    self.heard.extend_from_slice(&frame[..frame.len().min(room)]);
                }
                match activity {
                    Some(Activity::SpeechStarted) => vec![VoiceOutput::StopSpeaking],
                    Some(Activity::SpeechEnded) => {
                        let audio = std::mem::take(&mut self.heard);
                        let ms = audio.len() as u64 * 1_000 / u64::from(RATE);
                        let heard =
                            VoiceOutput::Heard { text: format!("[speech, {ms} ms]"), language: None, intent: None };
                        std::iter::once(heard).chain(say(format!("[echo, {ms} ms]"), audio)).collect()
                    }
                    None => Vec::new(),
                }
            }
            VoiceInput::Digits(digits) => {
                let mut out = vec![VoiceOutput::Heard { text: digits.to_owned(), language: None, intent: None }];
                match digits {
                    "0" => out.push(VoiceOutput::Transfer { reason: "the caller asked for a person (key 0)".into() }),
                    "9" => {
                        out.extend(say("Goodbye.", GREETING_TONE.clone()));
                        out.push(VoiceOutput::HangUp);
                    }
                    _ => out.extend(say(
                        format!("You typed {}.", spaced(digits)),
                        digits.chars().flat_map(dtmf_tone).collect(),
                    )),
                }
                out
            }
        }
    }
}

fn spaced(digits: &str) -> String {
    digits.chars().map(String::from).collect::<Vec<_>>().join(" ")
}

/// 1.2 s of speech-like sound: six 200 ms "syllables" of rising and falling pitch. Made once:
/// its 58,000 sines took half a millisecond of a runtime thread for every call's greeting.
static GREETING_TONE: LazyLock<Vec<i16>> = LazyLock::new(|| {
    let syllable = RATE as usize / 5;
    (0..6 * syllable)
        .map(|i| {
            let within = (i % syllable) as f64 / syllable as f64;
            let pitch = 180.0 + 60.0 * ((i / syllable) % 3) as f64;
            let envelope = (within * std::f64::consts::PI).sin();
            let t = i as f64 / f64::from(RATE);
            (8_000.0 * envelope * ((TAU * pitch * t).sin() + 0.5 * (TAU * 2.0 * pitch * t).sin())) as i16
        })
        .collect()
});

/// A key's DTMF tone pair for 150 ms, then 100 ms of silence.
pub fn dtmf_tone(key: char) -> Vec<i16> {
    const ROWS: [f64; 4] = [697.0, 770.0, 852.0, 941.0];
    const COLUMNS: [f64; 4] = [1209.0, 1336.0, 1477.0, 1633.0];
    const KEYS: [&str; 4] = ["123A", "456B", "789C", "*0#D"];
    let Some((row, column)) = KEYS.iter().enumerate().find_map(|(r, keys)| keys.find(key).map(|c| (r, c))) else {
        return Vec::new();
    };
    let tone = RATE as usize * 150 / 1_000;
    let gap = RATE as usize / 10;
    (0..tone + gap)
        .map(|i| {
            if i >= tone {
                return 0;
            }
            let t = i as f64 / f64::from(RATE);
            (6_000.0 * ((TAU * ROWS[row] * t).sin() + (TAU * COLUMNS[column] * t).sin())) as i16
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn says(outputs: &[VoiceOutput]) -> Vec<&str> {
        outputs
            .iter()
            .filter_map(|o| match o {
                VoiceOutput::Speak { text, .. } => Some(text.as_str()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn greets_echoes_speech_and_reads_back_digits() {
        let mut engine = TestEngine::new("Hello!");
        assert_eq!(says(&engine.handle(VoiceInput::Started)), vec!["Hello!"]);
        let loud: Vec<i16> = (0..320).map(|i| (8_000.0 * (i as f64 * 0.2).sin()) as i16).collect();
        let quiet = vec![0i16; 320];
        let mut outputs = Vec::new();
        for _ in 0..50 {
            outputs.extend(engine.handle(VoiceInput::Audio {
                frame: &loud,
                agent_speaking: true,
                agent_played: Duration::ZERO,
            }));
        }
        assert_eq!(outputs, vec![VoiceOutput::StopSpeaking], "barge-in as speech starts");
        outputs.clear();
        for _ in 0..30 {
            outputs.extend(engine.handle(VoiceInput::Audio {
                frame: &quiet,
                agent_speaking: false,
                agent_played: Duration::ZERO,
            }));
        }
        assert_eq!(says(&outputs), vec!["[echo, 1460 ms]"]);
        let VoiceOutput::Audio(audio) = &outputs[2] else { panic!("{outputs:?}") };
        // Speech from its 3rd loud frame to the end of the 500 ms hangover.
        assert_eq!(audio.len(), (48 + 25) * 320);
        let outputs = engine.handle(VoiceInput::Digits("1007"));
        assert_eq!(says(&outputs), vec!["You typed 1 0 0 7."]);
        let VoiceOutput::Audio(audio) = &outputs[2] else { panic!() };
        assert_eq!(audio.len(), 4 * 4_000);
        let outputs = engine.handle(VoiceInput::Digits("0"));
        assert!(matches!(outputs[1], VoiceOutput::Transfer { .. }));
        let outputs = engine.handle(VoiceInput::Digits("9"));
        assert_eq!(outputs.last(), Some(&VoiceOutput::HangUp));
    }
}
