//! Watch subscribers of the memory backend: every change that ends or
//! changes a session is offered to the subscribers of its namespace, under
//! the session's guard (so each session's events leave in the order it saw
//! them), without blocking: a subscriber whose buffer is full is flagged
//! as having fallen behind and offered nothing more. With no subscriber,
//! a change costs one atomic load.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};

use tokio::sync::mpsc;

use super::namespaces::NsIndex;
use super::Memory;
use crate::session::{Digest, Handle, Namespace, SessionError};
use crate::storage::watch::{Change, EndReason, Event, Scope, Subject, Subscription};

/// The subscribers, shared by every handle on one map.
pub(super) struct Watchers {
    /// Subscribers now: read on every change, so that nobody watching
    /// costs a change one load.
    active: AtomicUsize,
    subscribers: RwLock<Vec<Arc<Subscriber>>>,
    /// This run's name (see [`Subscription::epoch`]): random at start, so
    /// a restarted server, journal or not, shows a new one.
    epoch: u64,
}

struct Subscriber {
    namespace: NsIndex,
    /// `None`: every session of the namespace. Otherwise each watched
    /// digest with its position in the subscriber's list (the first, if
    /// listed twice).
    sessions: Option<HashMap<Digest, u32>>,
    events: mpsc::Sender<Event>,
    overflowed: Arc<AtomicBool>,
}

impl Watchers {
    pub(super) fn new() -> Self {
        Watchers {
            active: AtomicUsize::new(0),
            subscribers: RwLock::new(Vec::new()),
            epoch: rand::random(),
        }
    }

    /// Offers `change` of the session `digest` in `namespace` to whoever
    /// watches it.
    #[inline]
    pub(super) fn publish(&self, namespace: NsIndex, digest: &Digest, change: Change) {
        if self.active.load(Ordering::Acquire) == 0 {
            return;
        }
        self.offer(namespace, digest, change);
    }

    #[cold]
    fn offer(&self, namespace: NsIndex, digest: &Digest, change: Change) {
        let subscribers = self.subscribers.read().unwrap_or_else(|e| e.into_inner());
        for sub in subscribers.iter().filter(|s| s.namespace == namespace) {
            let subject = match &sub.sessions {
                None => Subject::Handle(Handle(*digest)),
                Some(watched) => match watched.get(digest) {
                    Some(&index) => Subject::Index(index),
                    None => continue,
                },
            };
            if sub.overflowed.load(Ordering::Relaxed) {
                continue;
            }
            if sub.events.try_send(Event { subject, change }).is_err() {
                // Full (or the subscription is ending): it has missed this
                // event, and will be told so instead of any later one.
                sub.overflowed.store(true, Ordering::Release);
            }
        }
    }

    /// How many subscriptions are live.
    pub(super) fn active(&self) -> usize {
        self.active.load(Ordering::Acquire)
    }
}

/// Unsubscribes when the subscription it is part of is dropped.
struct Unsubscribe {
    memory: Memory,
    subscriber: Arc<Subscriber>,
}

impl Drop for Unsubscribe {
    fn drop(&mut self) {
        let watchers = &self.memory.shared.watchers;
        let mut subscribers = watchers
            .subscribers
            .write()
            .unwrap_or_else(|e| e.into_inner());
        if let Some(at) = subscribers
            .iter()
            .position(|s| Arc::ptr_eq(s, &self.subscriber))
        {
            subscribers.swap_remove(at);
            watchers.active.fetch_sub(1, Ordering::AcqRel);
        }
    }
}

impl Memory {
    /// Subscribes to `scope` in `ns`, with room for `buffer` events not yet
    /// taken.
    pub fn watch(
        &self,
        ns: &Namespace,
        scope: Scope,
        buffer: usize,
    ) -> Result<Subscription, SessionError> {
        let s = &*self.shared;
        let namespace = s.namespaces.intern(ns)?;
        let sessions = match scope {
            Scope::Namespace => None,
            Scope::Sessions(digests) => {
                let mut watched = HashMap::with_capacity(digests.len());
                for (i, digest) in digests.into_iter().enumerate() {
                    watched.entry(digest).or_insert(i as u32);
                }
                Some(watched)
            }
        };
        let (events, receiver) = mpsc::channel(buffer.max(1));
        let overflowed = Arc::new(AtomicBool::new(false));
        let subscriber = Arc::new(Subscriber {
            namespace,
            sessions,
            events,
            overflowed: overflowed.clone(),
        });
        {
            let mut subscribers = s
                .watchers
                .subscribers
                .write()
                .unwrap_or_else(|e| e.into_inner());
            subscribers.push(subscriber.clone());
            s.watchers.active.fetch_add(1, Ordering::AcqRel);
        }
        let guard = Unsubscribe {
            memory: self.clone(),
            subscriber,
        };
        Ok(Subscription::new(
            s.watchers.epoch,
            receiver,
            overflowed,
            guard,
        ))
    }

    /// Live Watch subscriptions.
    pub fn watchers(&self) -> usize {
        self.shared.watchers.active()
    }

    pub(super) fn publish_changed(&self, namespace: NsIndex, digest: &Digest, version: u64) {
        self.shared
            .watchers
            .publish(namespace, digest, Change::Changed { version });
    }

    pub(super) fn publish_ended(&self, namespace: NsIndex, digest: &Digest, reason: EndReason) {
        self.shared
            .watchers
            .publish(namespace, digest, Change::Ended(reason));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::Clock;
    use crate::session::{Limits, SessionId, Timeouts, Update};
    use crate::storage::watch::Overflow;

    const NS: Namespace = Namespace::DEFAULT;

    fn store() -> Memory {
        Memory::new(Limits::default(), Timeouts::default(), Clock::manual(0))
    }

    fn set(store: &Memory, id: &SessionId) -> u64 {
        let update = Update {
            upsert: [("k".to_string(), "1".to_string())].into(),
            remove: vec![],
            expected_version: None,
        };
        store.set(&NS, id, update).unwrap().version
    }

    #[test]
    fn nobody_watches_until_a_subscription_and_its_drop_unsubscribes() {
        let store = store();
        assert_eq!(store.watchers(), 0);
        let one = store.watch(&NS, Scope::Namespace, 4).unwrap();
        let two = store.watch(&NS, Scope::Sessions(vec![]), 4).unwrap();
        assert_eq!(store.watchers(), 2);
        drop(one);
        assert_eq!(store.watchers(), 1);
        drop(two);
        assert_eq!(store.watchers(), 0);
    }

    #[tokio::test]
    async fn a_set_that_changes_nothing_is_no_event() {
        let store = store();
        let id = store.create(&NS, HashMap::new(), None).unwrap().id;
        let mut sub = store
            .watch(&NS, Scope::Sessions(vec![id.digest_in(&NS)]), 4)
            .unwrap();
        let empty = Update {
            upsert: HashMap::new(),
            remove: vec!["absent".into()],
            expected_version: None,
        };
        store.set(&NS, &id, empty).unwrap();
        let version = set(&store, &id);
        let event = sub.next().await.unwrap().unwrap();
        assert_eq!(event.subject, Subject::Index(0));
        assert_eq!(event.change, Change::Changed { version });
    }

    #[tokio::test]
    async fn a_subscriber_whose_buffer_is_full_is_told_it_fell_behind_before_anything_else() {
        let store = store();
        let id = store.create(&NS, HashMap::new(), None).unwrap().id;
        let mut slow = store.watch(&NS, Scope::Namespace, 2).unwrap();
        let mut other = store.watch(&NS, Scope::Namespace, 8).unwrap();
        for _ in 0..3 {
            set(&store, &id);
        }
        assert_eq!(slow.next().await, Err(Overflow { buffered: 2 }));
        assert_eq!(slow.next().await, Err(Overflow { buffered: 2 }));
        // The other subscriber missed nothing.
        for version in 2..=4 {
            let event = other.next().await.unwrap().unwrap();
            assert_eq!(event.change, Change::Changed { version });
            assert_eq!(event.subject, Subject::Handle(Handle(id.digest_in(&NS))));
        }
    }

    #[tokio::test]
    async fn a_rotated_session_ends_under_its_old_id_and_the_new_one_is_not_watched() {
        let store = store();
        let id = store.create(&NS, HashMap::new(), None).unwrap().id;
        let mut sub = store
            .watch(&NS, Scope::Sessions(vec![id.digest_in(&NS)]), 4)
            .unwrap();
        let new = store.rotate(&NS, &id).unwrap().id;
        set(&store, &new);
        store.flush(&NS, &id).unwrap();
        let event = sub.next().await.unwrap().unwrap();
        assert_eq!(event.change, Change::Ended(EndReason::Rotated));
        drop(store);
        // Only the rotation: the later Set and Flush named other sessions.
        assert!(matches!(
            futures_util::FutureExt::now_or_never(sub.next()),
            None | Some(Ok(None))
        ));
    }
}
