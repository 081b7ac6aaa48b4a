//! Per-client windows over what a client's requests come to: bursts of 401/403 (credential
//! stuffing), many 404s or distinct paths (scanning), attack-detector hits, repeated 400/413
//! (fuzzing), and requests far slower than their route's norm. Each pattern is reported once per
//! window per subject; a subject may then be banned for a while.
//!
//! Counts are sliding-window estimates (the current window plus the previous one weighted by how
//! much of it still overlaps), held in a `moka` cache with a capacity and an idle expiry, so a
//! flood of distinct clients cannot grow memory without bound.

use std::{
    collections::{HashMap, HashSet},
    fmt,
    hash::BuildHasher,
    net::IpAddr,
    sync::{Arc, Mutex, RwLock},
    time::{Duration, Instant},
};

use moka::sync::Cache;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Pattern {
    CredentialStuffing,
    Scanning,
    PathEnumeration,
    AttackProbing,
    Fuzzing,
    SlowRequests,
}

impl Pattern {
    const ALL: [Self; 6] = [
        Self::CredentialStuffing,
        Self::Scanning,
        Self::PathEnumeration,
        Self::AttackProbing,
        Self::Fuzzing,
        Self::SlowRequests,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::CredentialStuffing => "credential_stuffing",
            Self::Scanning => "scanning",
            Self::PathEnumeration => "path_enumeration",
            Self::AttackProbing => "attack_probing",
            Self::Fuzzing => "fuzzing",
            Self::SlowRequests => "slow_requests",
        }
    }
}

/// Whether to look for anomalies, and how many events of each kind within one window make one.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AnomalySettings {
    pub enabled: bool,
    #[serde(with = "humantime_serde")]
    pub window: Duration,
    /// 401 and 403 answers (credential stuffing).
    pub auth_failures: u32,
    /// 404 answers (scanning).
    pub not_found: u32,
    /// Different paths requested (enumeration).
    pub distinct_paths: u32,
    /// Requests the attack detector matched.
    pub attack_hits: u32,
    /// 400 and 413 answers (fuzzing).
    pub malformed: u32,
    /// Requests slower than `slow_factor` times their route's average (and at least
    /// `slow_min`), once the route has `SLOW_SAMPLES` samples.
    pub slow_requests: u32,
    pub slow_factor: f64,
    #[serde(with = "humantime_serde")]
    pub slow_min: Duration,
    /// Subjects tracked at once; the least recently seen are dropped beyond it.
    pub max_subjects: u64,
    /// How long a flagged client IP is refused; zero: never.
    #[serde(with = "humantime_serde")]
    pub ban_for: Duration,
}

impl Default for AnomalySettings {
    fn default() -> Self {
        Self {
            enabled: true,
            window: Duration::from_secs(60),
            auth_failures: 20,
            not_found: 30,
            distinct_paths: 50,
            attack_hits: 3,
            malformed: 20,
            slow_requests: 3,
            slow_factor: 10.0,
            slow_min: Duration::from_secs(1),
            max_subjects: 100_000,
            ban_for: Duration::ZERO,
        }
    }
}

impl AnomalySettings {
    fn limit(&self, pattern: Pattern) -> u32 {
        match pattern {
            Pattern::CredentialStuffing => self.auth_failures,
            Pattern::Scanning => self.not_found,
            Pattern::PathEnumeration => self.distinct_paths,
            Pattern::AttackProbing => self.attack_hits,
            Pattern::Fuzzing => self.malformed,
            Pattern::SlowRequests => self.slow_requests,
        }
    }
}

/// A route's latency needs this many samples before a request can be "far slower" than it.
const SLOW_SAMPLES: u32 = 20;

/// Who sent a request. An IP is kept as it is rather than as text: it is looked up on every
/// request, and formatting it was most of what looking it up cost.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Subject {
    Ip(IpAddr),
    User(String),
}

/// `ip:203.0.113.7`, `user:…`, as logs and audit rows name it.
impl fmt::Display for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Ip(ip) => write!(f, "ip:{ip}"),
            Self::User(user) => write!(f, "user:{user}"),
        }
    }
}

/// One finished request, as seen from the edge.
pub struct Observation<'a> {
    pub subject: &'a Subject,
    pub path: &'a str,
    pub status: u16,
    /// [`AnomalyDetector::is_slow`] said so, asked once per request however many subjects it has.
    pub slow: bool,
    pub attack: bool,
}

/// A pattern crossed its threshold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Anomaly {
    pub pattern: Pattern,
    pub subject: Subject,
    pub count: u32,
}

/// foldhash rather than the standard SipHash: every request is looked up by its address, path
/// and route, and SipHash showed in every request's profile (`callgrind`). Its seed is still
/// random per process, and every table here is bounded, so colliding keys cannot make one grow
/// without end.
type Hashing = foldhash::fast::RandomState;

pub struct AnomalyDetector {
    thresholds: AnomalySettings,
    windows: Cache<Subject, Arc<Mutex<Window>>, Hashing>,
    /// Per route; the map is only written when a route is first seen.
    norms: RwLock<HashMap<String, Arc<Mutex<Norm>>, Hashing>>,
    bans: Cache<Subject, (), Hashing>,
    paths: Hashing,
}

#[derive(Default)]
struct Window {
    started: Option<Instant>,
    current: [u32; 6],
    previous: [u32; 6],
    paths: HashSet<u64, Hashing>,
    reported: [bool; 6],
}

#[derive(Default, Clone, Copy)]
struct Norm {
    mean_secs: f64,
    samples: u32,
}

impl AnomalyDetector {
    pub fn new(thresholds: AnomalySettings) -> Self {
        let idle = thresholds.window * 2;
        let windows = Cache::builder()
            .max_capacity(thresholds.max_subjects)
            .time_to_idle(idle)
            .build_with_hasher(Hashing::default());
        let bans = Cache::builder()
            .max_capacity(thresholds.max_subjects)
            .time_to_live(thresholds.ban_for.max(Duration::from_millis(1)))
            .build_with_hasher(Hashing::default());
        Self { thresholds, windows, norms: RwLock::default(), bans, paths: Hashing::default() }
    }

    pub fn bans_enabled(&self) -> bool {
        !self.thresholds.ban_for.is_zero()
    }

    /// Whether `subject` is serving a ban.
    pub fn is_banned(&self, subject: &Subject) -> bool {
        self.bans.contains_key(subject)
    }

    /// Counts one finished request; returns the patterns it completes.
    pub fn observe(&self, seen: &Observation<'_>, now: Instant) -> Vec<Anomaly> {
        let window = self.windows.get_with_by_ref(seen.subject, Arc::default);
        let mut window = window.lock().expect("never poisoned");
        window.roll(now, self.thresholds.window);
        let by_status = match seen.status {
            401 | 403 => Some(Pattern::CredentialStuffing),
            404 => Some(Pattern::Scanning),
            400 | 413 => Some(Pattern::Fuzzing),
            _ => None,
        };
        let flags = [(Pattern::AttackProbing, seen.attack), (Pattern::SlowRequests, seen.slow)];
        let counted = by_status.into_iter().chain(flags.into_iter().filter(|(_, on)| *on).map(|(p, _)| p));
        for pattern in counted {
            window.current[pattern as usize] += 1;
        }
        if window.paths.len() <= self.thresholds.distinct_paths as usize {
            window.paths.insert(self.paths.hash_one(seen.path));
            window.current[Pattern::PathEnumeration as usize] = window.paths.len() as u32;
        }
        let fraction_left = window.fraction_left(now, self.thresholds.window);
        let mut found = Vec::new();
        for pattern in Pattern::ALL {
            let i = pattern as usize;
            let carried =
                if pattern == Pattern::PathEnumeration { 0.0 } else { f64::from(window.previous[i]) * fraction_left };
            let count = window.current[i] + carried as u32;
            let limit = self.thresholds.limit(pattern);
            if limit > 0 && count >= limit && !window.reported[i] {
                window.reported[i] = true;
                found.push(Anomaly { pattern, subject: seen.subject.clone(), count });
            }
        }
        if !found.is_empty() && !self.thresholds.ban_for.is_zero() {
            self.bans.insert(seen.subject.clone(), ());
        }
        found
    }

    /// Updates the route's running mean and says whether this request was far above it.
    pub fn is_slow(&self, route: &str, latency: Duration) -> bool {
        let secs = latency.as_secs_f64();
        let known = self.norms.read().expect("never poisoned").get(route).cloned();
        let norm = known.unwrap_or_else(|| {
            self.norms.write().expect("never poisoned").entry(route.to_owned()).or_default().clone()
        });
        let mut norm = norm.lock().expect("never poisoned");
        let slow = norm.samples >= SLOW_SAMPLES
            && latency >= self.thresholds.slow_min
            && secs > norm.mean_secs * self.thresholds.slow_factor;
        // A running mean for the first samples, then an exponential one that follows change.
        let weight = 1.0 / f64::from(norm.samples.saturating_add(1).min(100));
        norm.mean_secs += (secs - norm.mean_secs) * weight;
        norm.samples = norm.samples.saturating_add(1);
        slow
    }
}

impl Window {
    /// Starts a new window when the current one is over; the old one becomes `previous` if it
    /// ended less than a window ago.
    fn roll(&mut self, now: Instant, length: Duration) {
        let started = *self.started.get_or_insert(now);
        let elapsed = now.duration_since(started);
        if elapsed < length {
            return;
        }
        self.previous = if elapsed < length * 2 { self.current } else { [0; 6] };
        self.current = [0; 6];
        self.paths.clear();
        self.reported = [false; 6];
        self.started = Some(now);
    }

    fn fraction_left(&self, now: Instant, length: Duration) -> f64 {
        let elapsed = self.started.map_or(Duration::ZERO, |s| now.duration_since(s));
        1.0 - (elapsed.as_secs_f64() / length.as_secs_f64()).min(1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn thresholds() -> AnomalySettings {
        AnomalySettings {
            enabled: true,
            window: Duration::from_secs(60),
            auth_failures: 5,
            not_found: 5,
            distinct_paths: 8,
            attack_hits: 2,
            malformed: 3,
            slow_requests: 1,
            slow_factor: 10.0,
            slow_min: Duration::from_millis(100),
            max_subjects: 1000,
            ban_for: Duration::ZERO,
        }
    }

    fn ip(last: u8) -> Subject {
        Subject::Ip(IpAddr::from([192, 0, 2, last]))
    }

    fn seen<'a>(subject: &'a Subject, path: &'a str, status: u16) -> Observation<'a> {
        Observation { subject, path, status, slow: false, attack: false }
    }

    #[test]
    fn each_pattern_is_reported_once_per_window() {
        let detector = AnomalyDetector::new(thresholds());
        let now = Instant::now();
        let mut reported = Vec::new();
        for _ in 0..10 {
            reported.extend(detector.observe(&seen(&ip(1), "/login", 401), now));
        }
        assert_eq!(reported, [Anomaly { pattern: Pattern::CredentialStuffing, subject: ip(1), count: 5 }]);
        assert!(detector.observe(&seen(&ip(2), "/login", 401), now).is_empty(), "other subjects are apart");
    }

    #[test]
    fn the_previous_window_still_counts_while_it_overlaps() {
        let detector = AnomalyDetector::new(thresholds());
        let start = Instant::now();
        for _ in 0..2 {
            assert!(detector.observe(&seen(&ip(1), "/x", 400), start).is_empty());
        }
        // Early in the next window, most of the previous one still counts: 1 + 2 × ~0.9.
        let found = detector.observe(&seen(&ip(1), "/x", 400), start + Duration::from_secs(66));
        assert!(found.iter().any(|a| a.pattern == Pattern::Fuzzing), "{found:?}");
        // Two windows after that, nothing carries over.
        let found = detector.observe(&seen(&ip(1), "/x", 400), start + Duration::from_secs(200));
        assert!(found.is_empty(), "{found:?}");
    }

    #[test]
    fn distinct_paths_and_slow_requests_are_seen() {
        let detector = AnomalyDetector::new(thresholds());
        let now = Instant::now();
        let found: Vec<_> =
            (0..8).flat_map(|i| detector.observe(&seen(&ip(1), &format!("/p/{i}"), 200), now)).collect();
        assert_eq!(found.iter().map(|a| a.pattern).collect::<Vec<_>>(), [Pattern::PathEnumeration]);
        for _ in 0..SLOW_SAMPLES {
            assert!(!detector.is_slow("/r", Duration::from_millis(5)));
        }
        assert!(!detector.is_slow("/other", Duration::from_millis(500)), "another route has no norm yet");
        assert!(detector.is_slow("/r", Duration::from_millis(500)));
        let subject = ip(2);
        let slow = Observation { slow: true, ..seen(&subject, "/x", 200) };
        assert_eq!(detector.observe(&slow, now)[0].pattern, Pattern::SlowRequests);
    }

    #[test]
    fn a_flagged_subject_is_banned_when_bans_are_on() {
        let detector = AnomalyDetector::new(AnomalySettings { ban_for: Duration::from_secs(60), ..thresholds() });
        let now = Instant::now();
        for _ in 0..2 {
            detector.observe(&Observation { attack: true, ..seen(&ip(1), "/x", 403) }, now);
        }
        assert!(detector.is_banned(&ip(1)));
        assert!(!detector.is_banned(&ip(2)));
    }

    #[test]
    fn memory_stays_bounded_under_a_flood_of_subjects() {
        let detector = AnomalyDetector::new(AnomalySettings { max_subjects: 1000, ..thresholds() });
        let now = Instant::now();
        for i in 0..20_000u32 {
            detector.observe(&seen(&Subject::Ip(IpAddr::from(i.to_be_bytes())), "/x", 404), now);
        }
        detector.windows.run_pending_tasks();
        assert!(detector.windows.entry_count() <= 1000, "{}", detector.windows.entry_count());
    }
}
