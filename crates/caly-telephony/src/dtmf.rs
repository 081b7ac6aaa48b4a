//! Keypad digits gathered into strings, as callers type order numbers: `#` ends one, `*` starts
//! over, and a pause longer than the inter-digit timeout ends it too. Time is given, not read.

use std::time::{Duration, Instant};

#[derive(Debug)]
pub struct DigitCollector {
    digits: String,
    last_key_at: Option<Instant>,
    timeout: Duration,
}

/// The longest string kept; more keys than this end it, so a stuck key cannot grow it.
pub const MAX_DIGITS: usize = 32;

impl DigitCollector {
    pub fn new(timeout: Duration) -> Self {
        Self { digits: String::new(), last_key_at: None, timeout }
    }

    /// Takes one key; returns the string it completed, if it completed one.
    pub fn key(&mut self, key: char, now: Instant) -> Option<String> {
        let expired = self.expire(now);
        match key {
            '#' => {
                let done = std::mem::take(&mut self.digits);
                self.last_key_at = None;
                return expired.or((!done.is_empty()).then_some(done));
            }
            '*' => self.digits.clear(),
            key => self.digits.push(key),
        }
        self.last_key_at = Some(now);
        if self.digits.len() >= MAX_DIGITS {
            self.last_key_at = None;
            return Some(std::mem::take(&mut self.digits));
        }
        expired
    }

    /// When the string being typed ends by itself, if one is being typed.
    pub fn deadline(&self) -> Option<Instant> {
        self.last_key_at.filter(|_| !self.digits.is_empty()).map(|at| at + self.timeout)
    }

    /// The string being typed, if its timeout has passed by `now`.
    pub fn expire(&mut self, now: Instant) -> Option<String> {
        let deadline = self.deadline()?;
        (now >= deadline).then(|| {
            self.last_key_at = None;
            std::mem::take(&mut self.digits)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collector() -> (DigitCollector, Instant) {
        (DigitCollector::new(Duration::from_secs(3)), Instant::now())
    }

    #[test]
    fn hash_ends_a_string() {
        let (mut keys, t) = collector();
        assert_eq!(keys.key('1', t), None);
        assert_eq!(keys.key('0', t), None);
        assert_eq!(keys.key('0', t), None);
        assert_eq!(keys.key('7', t), None);
        assert_eq!(keys.key('#', t), Some("1007".into()));
        assert_eq!(keys.deadline(), None);
        assert_eq!(keys.key('#', t), None, "a lone # is nothing");
    }

    #[test]
    fn a_pause_ends_a_string_and_the_next_key_starts_another() {
        let (mut keys, t) = collector();
        keys.key('4', t);
        keys.key('2', t + Duration::from_secs(2));
        assert_eq!(keys.deadline(), Some(t + Duration::from_secs(5)));
        assert_eq!(keys.expire(t + Duration::from_millis(4_999)), None);
        assert_eq!(keys.key('9', t + Duration::from_secs(6)), Some("42".into()));
        assert_eq!(keys.key('#', t + Duration::from_secs(6)), Some("9".into()));
    }

    #[test]
    fn star_starts_over_and_a_stuck_key_cannot_grow_forever() {
        let (mut keys, t) = collector();
        keys.key('5', t);
        keys.key('*', t);
        keys.key('6', t);
        assert_eq!(keys.key('#', t), Some("6".into()));
        let typed: Vec<_> = (0..40).filter_map(|_| keys.key('1', t)).collect();
        assert_eq!(typed, vec!["1".repeat(MAX_DIGITS)]);
    }
}
