//! The one source of time for sessions, so tests can run on simulated time.
//!
//! Times are milliseconds since the Unix epoch: wall-clock values that can be
//! shown to clients (`expires_at`) and survive a restart, but read through a
//! monotonic clock so that a wall-clock step (NTP) cannot expire or revive
//! sessions.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tokio::sync::watch;

/// Milliseconds since the Unix epoch.
pub type Millis = u64;

/// A cheap, cloneable handle on the process's clock.
#[derive(Clone, Debug)]
pub struct Clock(Arc<Source>);

#[derive(Debug)]
enum Source {
    /// Wall-clock time at start plus monotonic time since.
    System { origin_ms: Millis, origin: Instant },
    /// Time that moves only when a test says so.
    Manual {
        now_ms: AtomicU64,
        /// Wakes sleepers when the time moves.
        moved: watch::Sender<Millis>,
    },
}

impl Clock {
    /// The real clock.
    pub fn system() -> Self {
        let origin_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as Millis)
            .unwrap_or(0);
        Clock(Arc::new(Source::System {
            origin_ms,
            origin: Instant::now(),
        }))
    }

    /// A simulated clock starting at `start_ms`, moved by [`Clock::advance`].
    pub fn manual(start_ms: Millis) -> Self {
        let (moved, _) = watch::channel(start_ms);
        Clock(Arc::new(Source::Manual {
            now_ms: AtomicU64::new(start_ms),
            moved,
        }))
    }

    /// Now, in milliseconds since the Unix epoch.
    pub fn now_ms(&self) -> Millis {
        match &*self.0 {
            Source::System { origin_ms, origin } => {
                origin_ms + origin.elapsed().as_millis() as Millis
            }
            Source::Manual { now_ms, .. } => now_ms.load(Ordering::Acquire),
        }
    }

    /// Moves a manual clock forward and wakes whoever sleeps on it.
    ///
    /// # Panics
    /// On the system clock: moving real time is a programming error.
    pub fn advance(&self, by: Duration) {
        match &*self.0 {
            Source::System { .. } => panic!("the system clock cannot be advanced"),
            Source::Manual { now_ms, moved } => {
                let now = now_ms.fetch_add(by.as_millis() as Millis, Ordering::AcqRel)
                    + by.as_millis() as Millis;
                moved.send_replace(now);
            }
        }
    }

    /// Sleeps until the clock reads at least `deadline_ms`.
    pub async fn sleep_until(&self, deadline_ms: Millis) {
        match &*self.0 {
            Source::System { .. } => {
                let wait = deadline_ms.saturating_sub(self.now_ms());
                if wait > 0 {
                    tokio::time::sleep(Duration::from_millis(wait)).await;
                }
            }
            Source::Manual { moved, .. } => {
                let mut rx = moved.subscribe();
                // The sender lives as long as this clock, so this cannot fail.
                let _ = rx.wait_for(|&now| now >= deadline_ms).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn system_time_is_close_to_the_wall_clock_and_never_goes_back() {
        let clock = Clock::system();
        let wall = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis() as u64;
        let a = clock.now_ms();
        let b = clock.now_ms();
        assert!(a.abs_diff(wall) < 1000);
        assert!(b >= a);
    }

    #[tokio::test]
    async fn a_manual_sleep_ends_when_the_clock_is_advanced() {
        let clock = Clock::manual(1_000);
        let sleeper = tokio::spawn({
            let clock = clock.clone();
            async move { clock.sleep_until(5_000).await }
        });
        tokio::task::yield_now().await;
        assert!(!sleeper.is_finished());
        clock.advance(Duration::from_secs(4));
        sleeper.await.unwrap();
        assert_eq!(clock.now_ms(), 5_000);
    }
}
