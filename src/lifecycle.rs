//! Where the process is in its life: starting, serving, or draining.
//! Transports and probes read it; `app` moves it.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;

use tokio::sync::watch;

/// The phases, in the only order they happen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Phase {
    /// Listeners bound, not yet serving.
    Starting = 0,
    /// Ready for traffic.
    Serving = 1,
    /// Shutting down: new requests are refused, in-flight ones finish.
    Draining = 2,
}

/// A cheap `Clone` handle on the shared phase.
#[derive(Clone)]
pub struct Lifecycle(Arc<Inner>);

struct Inner {
    /// Read on every request, so an atomic rather than the channel's lock.
    phase: AtomicU8,
    /// For those who wait on a change (health reporters).
    changes: watch::Sender<Phase>,
}

impl Default for Lifecycle {
    fn default() -> Self {
        Lifecycle(Arc::new(Inner {
            phase: AtomicU8::new(Phase::Starting as u8),
            changes: watch::channel(Phase::Starting).0,
        }))
    }
}

impl Lifecycle {
    pub fn phase(&self) -> Phase {
        match self.0.phase.load(Ordering::Acquire) {
            0 => Phase::Starting,
            1 => Phase::Serving,
            _ => Phase::Draining,
        }
    }

    pub fn is_ready(&self) -> bool {
        self.phase() == Phase::Serving
    }

    pub fn is_draining(&self) -> bool {
        self.phase() == Phase::Draining
    }

    /// Starting -> Serving. Has no effect once draining.
    pub fn set_serving(&self) {
        if self
            .0
            .phase
            .compare_exchange(
                Phase::Starting as u8,
                Phase::Serving as u8,
                Ordering::AcqRel,
                Ordering::Acquire,
            )
            .is_ok()
        {
            self.0.changes.send_replace(Phase::Serving);
        }
    }

    /// Any phase -> Draining.
    pub fn start_draining(&self) {
        self.0.phase.store(Phase::Draining as u8, Ordering::Release);
        self.0.changes.send_replace(Phase::Draining);
    }

    /// A receiver that sees every later phase change.
    pub fn subscribe(&self) -> watch::Receiver<Phase> {
        self.0.changes.subscribe()
    }
}
