//! The closed-loop engine every mode shares: workers issue one request at a
//! time each and record it; this drives warm-up, the measured window and
//! the stop, and samples CPU time at the window's edges.

use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinHandle;

use crate::report::{Control, CpuMark, Recorder, STOP};

/// How long and how much to measure.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    /// Requests before measuring starts (connections, caches, allocator).
    pub warmup: Duration,
    /// Longest measured time; the `Control`'s request budget may end the
    /// window sooner.
    pub duration: Duration,
    /// Whose CPU time to report as the server's.
    pub server_pid: Option<u32>,
    /// Whose CPU time to report as the backend's: the Redis behind a
    /// sessiond on `--backend redis`.
    pub backend_pid: Option<u32>,
}

/// Runs the window over already-started `workers`, then stops them and
/// merges their figures (one slot: phase 1).
pub async fn measure(
    window: Window,
    control: Arc<Control>,
    workers: Vec<JoinHandle<Recorder>>,
) -> (Recorder, CpuMark, CpuMark) {
    tokio::time::sleep(window.warmup).await;
    let from = CpuMark::now(window.server_pid).with_backend(window.backend_pid);
    control.set(1);
    tokio::select! {
        () = tokio::time::sleep(window.duration) => {}
        () = control.exhausted.notified() => {}
    }
    let to = CpuMark::now(window.server_pid).with_backend(window.backend_pid);
    control.set(STOP);
    (join(workers).await, from, to)
}

/// Waits for every worker and merges what they recorded.
pub async fn join(workers: Vec<JoinHandle<Recorder>>) -> Recorder {
    let mut merged: Option<Recorder> = None;
    for worker in workers {
        let recorder = worker.await.expect("a worker panicked");
        match &mut merged {
            Some(m) => m.merge(recorder),
            None => merged = Some(recorder),
        }
    }
    merged.expect("at least one worker")
}

/// Longest a request may take before it counts as failed: a server that
/// stops answering ends the run with errors instead of hanging it.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// `request`, or an error once [`REQUEST_TIMEOUT`] has passed.
pub async fn bounded<T, E: std::fmt::Display>(
    request: impl std::future::Future<Output = Result<T, E>>,
) -> Result<T, String> {
    match tokio::time::timeout(REQUEST_TIMEOUT, request).await {
        Ok(result) => result.map_err(|e| e.to_string()),
        Err(_) => Err(format!("no answer within {REQUEST_TIMEOUT:?}")),
    }
}

/// A small, fast PRNG for picking sessions and operations: the client must
/// cost less than the server, and this needs no locking or OS entropy.
pub struct XorShift(u64);

impl XorShift {
    pub fn new(seed: u64) -> Self {
        XorShift(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (((self.next() >> 32) * n as u64) >> 32) as usize
    }
}
