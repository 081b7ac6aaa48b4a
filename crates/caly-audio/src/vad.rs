//! An energy voice-activity detector: a frame is speech when its RMS level is above a threshold;
//! speech starts after `onset` speech frames in a row and ends after `hangover` quiet ones. Enough
//! for barge-in and for the test engine's turns; the speech engines bring their own.

/// What a frame changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activity {
    SpeechStarted,
    SpeechEnded,
}

#[derive(Debug, Clone)]
pub struct EnergyVad {
    threshold: f64,
    onset: u32,
    hangover: u32,
    loud_run: u32,
    quiet_run: u32,
    speaking: bool,
}

impl Default for EnergyVad {
    /// −40 dBFS, 3 frames (60 ms) to start, 25 frames (500 ms) of quiet to end.
    fn default() -> Self {
        Self::new(-40.0, 3, 25)
    }
}

impl EnergyVad {
    pub fn new(threshold_dbfs: f64, onset: u32, hangover: u32) -> Self {
        let threshold = f64::from(i16::MAX) * 10f64.powf(threshold_dbfs / 20.0);
        Self { threshold, onset, hangover, loud_run: 0, quiet_run: 0, speaking: false }
    }

    pub fn is_speaking(&self) -> bool {
        self.speaking
    }

    pub fn frame(&mut self, samples: &[i16]) -> Option<Activity> {
        if samples.is_empty() {
            return None;
        }
        let power = samples.iter().map(|s| f64::from(*s).powi(2)).sum::<f64>() / samples.len() as f64;
        if power.sqrt() >= self.threshold {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(amplitude: f64) -> Vec<i16> {
        (0..160).map(|i| (amplitude * (f64::from(i) * 0.3).sin()) as i16).collect()
    }

    #[test]
    fn speech_starts_after_the_onset_and_ends_after_the_hangover() {
        let mut vad = EnergyVad::new(-40.0, 3, 5);
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
}
