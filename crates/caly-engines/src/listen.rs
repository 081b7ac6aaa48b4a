//! Listening, sans-IO: the caller's 20 ms frames and the words heard so far in, turn events
//! out — when the caller started, interrupted the agent, or finished speaking.
//!
//! Barge-in: caller speech of at least `barge_in` while the agent talks interrupts once the
//! words heard so far are more than a backchannel ("haan", "hmm", "ok"…), or, with no words
//! yet (a transcriber without interim results), once it has gone on `barge_in_wait` longer than
//! any backchannel does. End of turn: `end_silence` of quiet; the engine then waits up to
//! `max_wait` for the rest of a sentence the words show was cut off by a pause
//! (`Rules::is_incomplete`).

use std::time::Duration;

use caly_audio::vad::{Activity, Neural, Vad};

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ListenSettings {
    pub end_silence: Duration,
    pub max_wait: Duration,
    pub barge_in: Duration,
    pub barge_in_wait: Duration,
    /// 0–3: how sure the detector must be that a frame is speech.
    pub aggressiveness: u8,
}

impl Default for ListenSettings {
    fn default() -> Self {
        Self {
            end_silence: Duration::from_millis(500),
            max_wait: Duration::from_millis(2_000),
            barge_in: Duration::from_millis(300),
            barge_in_wait: Duration::from_millis(400),
            aggressiveness: 2,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Heard {
    SpeechStarted,
    /// Stop the agent: the caller is talking over it.
    BargeIn,
    /// `end_silence` of quiet after speech.
    SpeechEnded,
}

const FRAME_MS: u64 = 20;

pub struct Listener {
    settings: ListenSettings,
    vad: Vad<Neural>,
    /// Frames of speech since the caller started.
    speech_frames: u64,
    words: Option<String>,
    barged_in: bool,
}

impl Listener {
    /// `rate` is the rate of the frames given to [`Listener::frame`].
    pub fn new(settings: ListenSettings, rate: u32) -> Result<Self, caly_audio::resample::ResampleError> {
        let hangover = (settings.end_silence.as_millis() as u64 / FRAME_MS).max(1) as u32;
        let vad = Vad::new(Neural::new(rate, settings.aggressiveness)?, 3, hangover);
        Ok(Self { settings, vad, speech_frames: 0, words: None, barged_in: false })
    }

    pub fn is_speaking(&self) -> bool {
        self.vad.is_speaking()
    }

    /// One 20 ms frame; `agent_speaking` while the agent's audio is playing.
    pub fn frame(&mut self, frame: &[i16], agent_speaking: bool) -> Option<Heard> {
        match self.vad.frame(frame) {
            Some(Activity::SpeechStarted) => {
                self.speech_frames = u64::from(self.vad.speech_run());
                self.words = None;
                self.barged_in = false;
                return Some(Heard::SpeechStarted);
            }
            Some(Activity::SpeechEnded) => return Some(Heard::SpeechEnded),
            None => {}
        }
        if self.vad.is_speaking() && self.vad.speech_run() > 0 {
            self.speech_frames += 1;
        }
        self.barge_in(agent_speaking)
    }

    /// The words heard so far in this speech (an interim transcript).
    pub fn words(&mut self, text: &str, agent_speaking: bool) -> Option<Heard> {
        if !self.vad.is_speaking() {
            return None;
        }
        self.words = Some(text.to_owned());
        self.barge_in(agent_speaking)
    }

    fn barge_in(&mut self, agent_speaking: bool) -> Option<Heard> {
        // Only speech itself interrupts: the agent may begin in the quiet that is ending a turn.
        if !agent_speaking || self.barged_in || self.vad.speech_run() == 0 {
            return None;
        }
        let spoken = Duration::from_millis(self.speech_frames * FRAME_MS);
        let interrupts = spoken >= self.settings.barge_in
            && match &self.words {
                Some(words) => !words.trim().is_empty() && !is_backchannel(words),
                None => spoken >= self.settings.barge_in + self.settings.barge_in_wait,
            };
        self.barged_in = interrupts;
        interrupts.then_some(Heard::BargeIn)
    }
}

/// Words a listener says to show they are following, not to take the turn.
const BACKCHANNELS: &[&str] = &[
    "haan",
    "han",
    "haa",
    "ha",
    "haanji",
    "hanji",
    "hmm",
    "hm",
    "hmmm",
    "mm",
    "mhm",
    "uh-huh",
    "ok",
    "okay",
    "achha",
    "accha",
    "acha",
    "achchha",
    "ji",
    "right",
    "theek",
    "thik",
    "hai",
    "yeah",
    "हाँ",
    "हां",
    "हम्म",
    "जी",
    "ठीक",
    "है",
    "अच्छा",
    "ओके",
];

/// Whether `text` is only backchannel words.
pub fn is_backchannel(text: &str) -> bool {
    let mut words = words(text).peekable();
    words.peek().is_some() && words.all(|word| BACKCHANNELS.contains(&word.as_str()))
}

fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| c.is_whitespace() || (c.is_ascii_punctuation() && c != '-') || c == '।')
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backchannels_are_only_backchannel_words() {
        for text in ["haan", "Hmm.", "ok ok", "accha ji", "हाँ जी", "right", "Haan, theek hai"] {
            assert!(is_backchannel(text), "{text}");
        }
        for text in ["", "haan cancel kar do", "no", "wait", "हाँ मेरा ऑर्डर"] {
            assert!(!is_backchannel(text), "{text}");
        }
    }

    #[test]
    fn silence_never_starts_a_turn() {
        let mut listener = Listener::new(ListenSettings::default(), 16_000).unwrap();
        let silence = vec![0i16; 320];
        assert!((0..100).all(|_| listener.frame(&silence, true).is_none()));
        assert_eq!(listener.words("haan cancel", true), None, "words without speech change nothing");
    }
}
