//! Outbound pacing: agent audio leaves at real-time rate, one 20 ms frame per slot of a
//! schedule anchored when speech starts (slot n is due at `origin + n × 20 ms`, so timer lateness
//! never accumulates into drift). Markers queued between frames leave as soon as every frame
//! before them has. Time is given, not read, so the schedule is tested without sleeping.

use std::{
    collections::VecDeque,
    time::{Duration, Instant},
};

pub const FRAME: Duration = Duration::from_millis(20);

/// Slots in which the caller heard a gap, by whose fault.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Underruns {
    /// A frame was ready and left a whole slot late: the sender was not run in time.
    pub late: u64,
    /// No frame was ready while more audio of the utterance was on its way: its source (the
    /// speech synthesiser) fell behind real time.
    pub starved: u64,
}

impl Underruns {
    /// What happened after `earlier`, a reading of the same pacer.
    pub fn since(self, earlier: Underruns) -> Underruns {
        Underruns { late: self.late - earlier.late, starved: self.starved - earlier.starved }
    }

    pub fn total(self) -> u64 {
        self.late + self.starved
    }
}

/// What leaves the pacer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Paced<M> {
    Frame(Vec<i16>),
    Marker(M),
}

#[derive(Debug)]
pub struct Pacer<M> {
    queue: VecDeque<Paced<M>>,
    origin: Instant,
    /// Frames sent since `origin`.
    slot: u32,
    /// More audio of the current utterance is on its way, so an empty queue is an underrun.
    streaming: bool,
    underruns: Underruns,
}

impl<M> Pacer<M> {
    pub fn new(now: Instant) -> Self {
        Self { queue: VecDeque::new(), origin: now, slot: 0, streaming: false, underruns: Underruns::default() }
    }

    /// Queues a frame. Speech after a pause starts a new schedule at `now`; speech that follows
    /// on in time continues the current one, so back-to-back utterances have no gap.
    pub fn push_frame(&mut self, frame: Vec<i16>, now: Instant) {
        if self.queue.is_empty() && self.due_at() < now {
            self.origin = now;
            self.slot = 0;
        }
        self.queue.push_back(Paced::Frame(frame));
    }

    pub fn push_marker(&mut self, marker: M) {
        self.queue.push_back(Paced::Marker(marker));
    }

    /// Whether more audio of the utterance being played is still to come.
    pub fn set_streaming(&mut self, streaming: bool) {
        self.streaming = streaming;
    }

    /// When `poll` has something next, if anything is queued.
    pub fn next_deadline(&self) -> Option<Instant> {
        match self.queue.front()? {
            Paced::Marker(_) => Some(self.origin),
            Paced::Frame(_) => Some(self.due_at()),
        }
    }

    /// The next frame or marker if it is due at `now`.
    pub fn poll(&mut self, now: Instant) -> Option<Paced<M>> {
        match self.queue.front() {
            Some(Paced::Marker(_)) => self.queue.pop_front(),
            Some(Paced::Frame(_)) if now >= self.due_at() => {
                // A whole slot late: the carrier's playout buffer ran dry meanwhile.
                if now >= self.due_at() + FRAME {
                    self.underruns.late += 1;
                }
                self.slot += 1;
                self.queue.pop_front()
            }
            Some(Paced::Frame(_)) => None,
            None => {
                if self.streaming && now >= self.due_at() + FRAME {
                    // The slot passed with nothing to send: the caller hears a gap.
                    self.underruns.starved += 1;
                    self.slot += 1;
                }
                None
            }
        }
    }

    /// Drops everything queued, returning the markers that will now never be reached.
    pub fn clear(&mut self) -> Vec<M> {
        self.streaming = false;
        self.queue
            .drain(..)
            .filter_map(|item| match item {
                Paced::Marker(marker) => Some(marker),
                Paced::Frame(_) => None,
            })
            .collect()
    }

    pub fn is_idle(&self) -> bool {
        self.queue.is_empty()
    }

    /// Slots that passed with audio still to come and none queued, and frames sent a whole
    /// slot late: either way the caller heard a gap.
    pub fn underruns(&self) -> Underruns {
        self.underruns
    }

    /// When the frame of the current slot is due.
    pub fn due_at(&self) -> Instant {
        self.origin + FRAME * self.slot
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn frames_leave_on_a_fixed_grid_and_lateness_does_not_drift_it() {
        let t = Instant::now();
        let mut pacer = Pacer::<&str>::new(t);
        for i in 0..4 {
            pacer.push_frame(vec![i], t);
        }
        pacer.push_marker("end");
        assert_eq!(pacer.poll(t), Some(Paced::Frame(vec![0])));
        assert_eq!(pacer.poll(t + ms(19)), None);
        assert_eq!(pacer.next_deadline(), Some(t + ms(20)));
        // Woken 7 ms late: the frame goes, and the next is still due on the grid.
        assert_eq!(pacer.poll(t + ms(27)), Some(Paced::Frame(vec![1])));
        assert_eq!(pacer.next_deadline(), Some(t + ms(40)));
        assert_eq!(pacer.poll(t + ms(40)), Some(Paced::Frame(vec![2])));
        assert_eq!(pacer.underruns(), Underruns::default());
        // A whole slot late is a gap the caller hears.
        assert_eq!(pacer.poll(t + ms(80)), Some(Paced::Frame(vec![3])));
        assert_eq!(pacer.underruns(), Underruns { late: 1, starved: 0 });
        assert_eq!(pacer.poll(t + ms(80)), Some(Paced::Marker("end")));
        assert!(pacer.is_idle());
    }

    #[test]
    fn speech_after_a_pause_starts_a_new_grid_and_speech_that_follows_on_continues_it() {
        let t = Instant::now();
        let mut pacer = Pacer::<()>::new(t);
        pacer.push_frame(vec![1], t);
        assert!(pacer.poll(t).is_some());
        pacer.push_frame(vec![2], t + ms(5));
        assert_eq!(pacer.next_deadline(), Some(t + ms(20)), "follows on");
        assert!(pacer.poll(t + ms(20)).is_some());
        pacer.push_frame(vec![3], t + ms(500));
        assert_eq!(pacer.next_deadline(), Some(t + ms(500)), "after a pause");
    }

    #[test]
    fn an_empty_queue_mid_utterance_is_an_underrun_and_clear_returns_unreached_markers() {
        let t = Instant::now();
        let mut pacer = Pacer::new(t);
        pacer.set_streaming(true);
        pacer.push_frame(vec![1], t);
        assert!(pacer.poll(t).is_some());
        assert_eq!(pacer.poll(t + ms(39)), None);
        assert_eq!(pacer.underruns().total(), 0, "the slot is not over yet");
        assert_eq!(pacer.poll(t + ms(40)), None);
        assert_eq!(pacer.underruns(), Underruns { late: 0, starved: 1 });
        pacer.push_frame(vec![2], t + ms(41));
        pacer.push_marker("u1");
        pacer.push_frame(vec![3], t + ms(41));
        pacer.push_marker("u2");
        assert_eq!(pacer.clear(), vec!["u1", "u2"]);
        assert!(pacer.is_idle());
    }
}
