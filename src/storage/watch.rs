//! What a Watch subscribes to and receives, whatever backend feeds it: a
//! [`Subscription`] to changes and ends of sessions in one namespace,
//! named without their ids.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use tokio::sync::mpsc;

use crate::session::{Digest, Handle};

/// What a subscription covers.
pub enum Scope {
    /// Every session of the namespace; events name them by [`Handle`].
    Namespace,
    /// These sessions (their digests in the namespace); events name each by
    /// its position in this list.
    Sessions(Vec<Digest>),
}

/// Which session an event is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject {
    /// A namespace-wide subscription's: the session's public handle.
    Handle(Handle),
    /// A subscription to sessions': the position of its id in the list.
    Index(u32),
}

/// What happened to a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// Its data changed (a Set or merge that changed something): it is
    /// now at this version.
    Changed { version: u64 },
    /// It is gone.
    Ended(EndReason),
}

/// Why a session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndReason {
    /// Flush or ClearSessions (logout).
    Flushed,
    /// Its deadline passed (told when it is reclaimed, within about a
    /// second of the deadline).
    Expired,
    /// Rotate gave it a new id; the old one is gone.
    Rotated,
    /// RevokeSession, RevokeUserSessions, or evicted for a newer login of
    /// its user (`--per-user-limit-policy evict-oldest`).
    Revoked,
}

/// One event of a subscription.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Event {
    pub subject: Subject,
    pub change: Change,
}

/// A live subscription: events arrive in the order each session saw its
/// changes. Dropping it unsubscribes.
pub struct Subscription {
    /// Names this run of the server's storage: a subscriber that sees a
    /// different epoch than before reconnected to a restarted server, and
    /// may have missed events.
    pub epoch: u64,
    events: mpsc::Receiver<Event>,
    /// Set by the publisher when the buffer was full: the subscriber fell
    /// behind and has missed an event.
    overflowed: Arc<AtomicBool>,
    /// Unsubscribes when dropped.
    _guard: Box<dyn Send + Sync>,
}

/// The subscriber fell behind: its buffer of `buffered` events was full
/// when another came, so it missed at least one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Overflow {
    pub buffered: usize,
}

impl Subscription {
    /// A subscription fed through `events`, flagged through `overflowed`,
    /// that runs `guard`'s drop when it ends.
    pub fn new(
        epoch: u64,
        events: mpsc::Receiver<Event>,
        overflowed: Arc<AtomicBool>,
        guard: impl Send + Sync + 'static,
    ) -> Self {
        Subscription {
            epoch,
            events,
            overflowed,
            _guard: Box::new(guard),
        }
    }

    /// The next event, or [`Overflow`] once one was missed (from then on,
    /// and before any buffered event: what is buffered is no longer the
    /// whole story).
    pub fn poll_next(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<Option<Event>, Overflow>> {
        if self.overflowed.load(Ordering::Acquire) {
            return std::task::Poll::Ready(Err(Overflow {
                buffered: self.events.max_capacity(),
            }));
        }
        self.events.poll_recv(cx).map(Ok)
    }

    /// [`Self::poll_next`] as a future.
    pub async fn next(&mut self) -> Result<Option<Event>, Overflow> {
        std::future::poll_fn(|cx| self.poll_next(cx)).await
    }
}
