//! Where the process is in its life: starting, serving, draining, or
//! stopping. Transports and probes read it; `app` moves it.

use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
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
    /// A stop was asked for: readiness and health say no, so load balancers
    /// stop sending, but requests that still arrive are served normally
    /// (for `--drain-delay`).
    Draining = 2,
    /// Listeners are closing: new requests are refused with `UNAVAILABLE`,
    /// in-flight ones finish within the grace period.
    Stopping = 3,
}

impl Phase {
    /// A word for logs and the readiness endpoint.
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Starting => "starting",
            Phase::Serving => "serving",
            Phase::Draining => "draining",
            Phase::Stopping => "stopping",
        }
    }
}

/// A cheap `Clone` handle on the shared phase.
#[derive(Clone)]
pub struct Lifecycle(Arc<Inner>);

struct Inner {
    /// Read on every request, so an atomic rather than the channel's lock.
    phase: AtomicU8,
    /// For those who wait on a change (health reporters); also sent, with
    /// the phase unchanged, when the backend comes or goes.
    changes: watch::Sender<Phase>,
    /// The storage backend cannot be reached (Redis down): not ready, and
    /// health NOT_SERVING, whatever the phase.
    backend_down: AtomicBool,
}

impl Default for Lifecycle {
    fn default() -> Self {
        Lifecycle(Arc::new(Inner {
            phase: AtomicU8::new(Phase::Starting as u8),
            changes: watch::channel(Phase::Starting).0,
            backend_down: AtomicBool::new(false),
        }))
    }
}

impl Lifecycle {
    pub fn phase(&self) -> Phase {
        match self.0.phase.load(Ordering::Acquire) {
            0 => Phase::Starting,
            1 => Phase::Serving,
            2 => Phase::Draining,
            _ => Phase::Stopping,
        }
    }

    /// Whether probes should send traffic here: only while serving, and
    /// while the storage backend answers.
    pub fn is_ready(&self) -> bool {
        self.phase() == Phase::Serving && !self.0.backend_down.load(Ordering::Acquire)
    }

    /// Records whether the storage backend answers; `true` when that
    /// changed (readiness and health follow).
    pub fn set_backend_reachable(&self, reachable: bool) -> bool {
        let changed = self.0.backend_down.swap(!reachable, Ordering::AcqRel) == reachable;
        if changed {
            self.0.changes.send_replace(self.phase());
        }
        changed
    }

    /// Whether new requests are refused: only once listeners are closing,
    /// never during the drain delay.
    pub fn is_stopping(&self) -> bool {
        self.phase() == Phase::Stopping
    }

    /// Starting -> Serving. Has no effect once draining.
    pub fn set_serving(&self) {
        self.advance_from(Phase::Starting, Phase::Serving);
    }

    /// Starting or Serving -> Draining: readiness goes false.
    pub fn start_draining(&self) {
        if !self.advance_from(Phase::Starting, Phase::Draining) {
            self.advance_from(Phase::Serving, Phase::Draining);
        }
    }

    /// Any phase -> Stopping: new requests are refused.
    pub fn stop_accepting(&self) {
        self.0.phase.store(Phase::Stopping as u8, Ordering::Release);
        self.0.changes.send_replace(Phase::Stopping);
    }

    /// A receiver that sees every later phase change.
    pub fn subscribe(&self) -> watch::Receiver<Phase> {
        self.0.changes.subscribe()
    }

    fn advance_from(&self, from: Phase, to: Phase) -> bool {
        let moved = self
            .0
            .phase
            .compare_exchange(from as u8, to as u8, Ordering::AcqRel, Ordering::Acquire)
            .is_ok();
        if moved {
            self.0.changes.send_replace(to);
        }
        moved
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phases_only_move_forward() {
        let lifecycle = Lifecycle::default();
        assert_eq!(lifecycle.phase(), Phase::Starting);
        assert!(!lifecycle.is_ready());
        lifecycle.set_serving();
        assert!(lifecycle.is_ready());
        lifecycle.start_draining();
        assert_eq!(lifecycle.phase(), Phase::Draining);
        assert!(!lifecycle.is_ready() && !lifecycle.is_stopping());
        lifecycle.set_serving();
        assert_eq!(lifecycle.phase(), Phase::Draining);
        lifecycle.stop_accepting();
        assert!(lifecycle.is_stopping());
        lifecycle.start_draining();
        assert_eq!(lifecycle.phase(), Phase::Stopping);
    }

    #[test]
    fn an_unreachable_backend_makes_a_serving_process_not_ready() {
        let lifecycle = Lifecycle::default();
        lifecycle.set_serving();
        let mut changes = lifecycle.subscribe();
        changes.mark_unchanged();
        assert!(lifecycle.set_backend_reachable(false));
        assert!(!lifecycle.is_ready());
        assert!(changes.has_changed().unwrap(), "health reporters are woken");
        assert!(!lifecycle.set_backend_reachable(false), "no change");
        assert!(lifecycle.set_backend_reachable(true));
        assert!(lifecycle.is_ready());
    }

    #[test]
    fn subscribers_see_the_latest_phase() {
        let lifecycle = Lifecycle::default();
        let phases = lifecycle.subscribe();
        lifecycle.set_serving();
        lifecycle.start_draining();
        assert_eq!(*phases.borrow(), Phase::Draining);
    }
}
