//! The server's phase, read by the probes, and the signal that starts a graceful shutdown.

use std::sync::{
    Arc,
    atomic::{AtomicU8, Ordering},
};

use tokio_util::sync::CancellationToken;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Listening, migrations not yet applied.
    Starting,
    Ready,
    /// Shutdown began: readiness fails, in-flight work finishes.
    Draining,
}

#[derive(Debug, Clone, Default)]
pub struct Lifecycle {
    phase: Arc<AtomicU8>,
    shutdown: CancellationToken,
}

impl Lifecycle {
    pub fn phase(&self) -> Phase {
        match self.phase.load(Ordering::Acquire) {
            0 => Phase::Starting,
            1 => Phase::Ready,
            _ => Phase::Draining,
        }
    }

    /// Marks start-up complete, unless a shutdown already began.
    pub fn mark_ready(&self) {
        let _ = self.phase.compare_exchange(0, 1, Ordering::AcqRel, Ordering::Acquire);
    }

    /// Starts a graceful shutdown; readiness fails from now on.
    pub fn begin_shutdown(&self) {
        self.phase.store(2, Ordering::Release);
        self.shutdown.cancel();
    }

    /// Resolves once [`Self::begin_shutdown`] was called.
    pub async fn shutdown_requested(&self) {
        self.shutdown.cancelled().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phases_only_move_forward() {
        let lifecycle = Lifecycle::default();
        assert_eq!(lifecycle.phase(), Phase::Starting);
        lifecycle.mark_ready();
        assert_eq!(lifecycle.phase(), Phase::Ready);
        lifecycle.begin_shutdown();
        lifecycle.mark_ready();
        assert_eq!(lifecycle.phase(), Phase::Draining);
    }
}
