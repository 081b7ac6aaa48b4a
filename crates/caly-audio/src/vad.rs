//! Voice-activity detection: a [`Classifier`] says whether one frame sounds like speech, and
//! [`Vad`] turns those answers into speech that starts after `onset` speech frames in a row and
//! ends after `hangover` quiet ones.
//!
//! Two classifiers: [`Energy`] (a level threshold — enough for the test engine's synthetic
//! audio) and [`Neural`], the speech engines' detector: earshot's small network, shipped inside
//! the crate (nothing downloaded), which tells voices from telephone noise at any level.

use crate::resample::{ResampleError, Resampler};

/// What a frame changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activity {
    SpeechStarted,
    SpeechEnded,
}

pub trait Classifier: Send {
    fn is_speech(&mut self, frame: &[i16]) -> bool;
}

#[derive(Debug, Clone)]
pub struct Vad<C> {
    classifier: C,
    onset: u32,
    hangover: u32,
    loud_run: u32,
    quiet_run: u32,
    speaking: bool,
}

/// The test engine's detector: −40 dBFS, 3 frames (60 ms) to start, 25 frames (500 ms) to end.
pub type EnergyVad = Vad<Energy>;

impl Default for EnergyVad {
    fn default() -> Self {
        Vad::new(Energy::new(-40.0), 3, 25)
    }
}

impl<C: Classifier> Vad<C> {
    pub fn new(classifier: C, onset: u32, hangover: u32) -> Self {
        Self { classifier, onset, hangover, loud_run: 0, quiet_run: 0, speaking: false }
    }

    pub fn is_speaking(&self) -> bool {
        self.speaking
    }

    /// Frames of speech in a row so far (0 when the last frame was quiet).
    pub fn speech_run(&self) -> u32 {
        self.loud_run
    }

    pub fn frame(&mut self, samples: &[i16]) -> Option<Activity> {
        if samples.is_empty() {
            return None;
        }
        if self.classifier.is_speech(samples) {
            self.loud_run += 1;
            self.quiet_run = 0;
            if !self.speaking && self.loud_run >= self.onset {
                self.speaking = true;
                return Some(Activity::SpeechStarted);
            }
        } else {
            self.quiet_run += 1;
            self.loud_run = 0;
            if self.speaking && self.quiet_run >= self.hangover {
                self.speaking = false;
                return Some(Activity::SpeechEnded);
            }
        }
        None
    }
}

/// Speech is anything louder than a threshold.
#[derive(Debug, Clone)]
pub struct Energy {
    threshold: f64,
}

impl Energy {
    pub fn new(threshold_dbfs: f64) -> Self {
        Self { threshold: f64::from(i16::MAX) * 10f64.powf(threshold_dbfs / 20.0) }
    }
}

impl Classifier for Energy {
    fn is_speech(&mut self, samples: &[i16]) -> bool {
        mean_square(samples).sqrt() >= self.threshold
    }
}

fn mean_square(samples: &[i16]) -> f64 {
    let sum: i64 = samples.iter().map(|&s| i64::from(s) * i64::from(s)).sum();
    sum as f64 / samples.len().max(1) as f64
}

/// The network's input: 16 ms at 16 kHz.
const NEURAL_FRAME: usize = 256;
const NEURAL_RATE: u32 = 16_000;
/// Frames below −60 dBFS (an RMS of 33) are near-silence: a telephone line's idle noise sits
/// below it, the quietest syllables the accuracy benchmark counts as speech (30 dB under the
/// loudest) well above.
const SILENCE_MEAN_SQUARE: f64 = 32_768.0 * 32_768.0 * 1e-6;
/// Near-silence longer than this (in calls' 20 ms frames) is no longer given to the network.
/// Shorter gaps are, so that the pauses between words reach it as they are.
const SILENCE_SETTLES: u32 = 10;

/// earshot's network on frames of any length at 8 or 16 kHz. `aggressiveness` (0–3, like
/// WebRTC's modes) raises the score a frame needs: 0.35, 0.5, 0.65, 0.8.
///
/// The network costs tens of microseconds a frame, and callers are mostly quiet; so once
/// near-silence has lasted [`SILENCE_SETTLES`] frames it is no longer given to the network: by
/// then the network's memory and context window hold silence, as they would after any longer
/// stretch of it, and the next sound is heard as after that.
pub struct Neural {
    detector: Box<earshot::Detector>,
    threshold: f32,
    upsample: Option<Resampler>,
    pending: Vec<i16>,
    resampled: Vec<i16>,
    last_score: f32,
    silent_frames: u32,
}

impl Neural {
    pub fn new(rate: u32, aggressiveness: u8) -> Result<Self, ResampleError> {
        let threshold = [0.35, 0.5, 0.65, 0.8][usize::from(aggressiveness.min(3))];
        let upsample = (rate != NEURAL_RATE).then(|| Resampler::new(rate, NEURAL_RATE)).transpose()?;
        Ok(Self {
            detector: earshot::Detector::default_boxed(),
            threshold,
            upsample,
            pending: Vec::with_capacity(NEURAL_FRAME * 2),
            resampled: Vec::new(),
            last_score: 0.0,
            silent_frames: 0,
        })
    }
}

impl Classifier for Neural {
    /// Speech when any whole network frame the samples complete scores above the threshold; a
    /// frame too short to complete one keeps the last answer.
    fn is_speech(&mut self, samples: &[i16]) -> bool {
        if mean_square(samples) >= SILENCE_MEAN_SQUARE {
            self.silent_frames = 0;
        } else if self.silent_frames < SILENCE_SETTLES {
            self.silent_frames += 1;
        } else {
            return false;
        }
        match &mut self.upsample {
            Some(resampler) => {
                self.resampled.clear();
                resampler.push(samples, &mut self.resampled);
                self.pending.extend_from_slice(&self.resampled);
            }
            None => self.pending.extend_from_slice(samples),
        }
        let whole = self.pending.len() / NEURAL_FRAME * NEURAL_FRAME;
        if whole > 0 {
            self.last_score = self.pending[..whole]
                .chunks_exact(NEURAL_FRAME)
                .map(|chunk| self.detector.predict_i16(chunk))
                .fold(0.0, f32::max);
            self.pending.drain(..whole);
        }
        self.last_score >= self.threshold
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(amplitude: f64) -> Vec<i16> {
        (0..160).map(|i| (amplitude * (f64::from(i) * 0.3).sin()) as i16).collect()
    }

    #[test]
    fn speech_starts_after_the_onset_and_ends_after_the_hangover() {
        let mut vad = Vad::new(Energy::new(-40.0), 3, 5);
        let loud = tone(8_000.0);
        let quiet = tone(50.0);
        assert_eq!(vad.frame(&loud), None);
        assert_eq!(vad.frame(&quiet), None, "a click is not speech");
        let events: Vec<_> = (0..3).map(|_| vad.frame(&loud)).collect();
        assert_eq!(events, vec![None, None, Some(Activity::SpeechStarted)]);
        let events: Vec<_> = (0..5).filter_map(|_| vad.frame(&quiet)).collect();
        assert_eq!(events, vec![Activity::SpeechEnded]);
        assert!(!vad.is_speaking());
    }

    #[test]
    fn the_network_hears_no_speech_in_silence_or_a_steady_hum() {
        for rate in [8_000, 16_000] {
            let mut neural = Neural::new(rate, 1).unwrap();
            let frame = rate as usize / 50;
            let step = std::f64::consts::TAU * 100.0 / f64::from(rate);
            let hum: Vec<i16> = (0..rate as usize).map(|i| (3_000.0 * (i as f64 * step).sin()) as i16).collect();
            let audio = [vec![0; rate as usize], hum].concat();
            let heard = audio.chunks(frame).filter(|f| neural.is_speech(f)).count();
            assert_eq!(heard, 0, "{rate} Hz");
        }
    }
}
