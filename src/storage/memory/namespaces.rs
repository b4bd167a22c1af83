//! The namespaces the store has seen, each interned to a small index that
//! its entries keep (two bytes, not a name per session), with the count of
//! sessions it holds for the per-namespace limit.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::RwLock;

use crate::session::{Namespace, SessionError};

/// A namespace's index in [`Namespaces`]; what an entry remembers.
pub(crate) type NsIndex = u16;

/// Interned namespaces. Names come from configuration (tokens, client
/// certificates, `--http-namespace`), so there are few; the lock is taken
/// for reading on every create and removal, for writing only the first
/// time a namespace is seen.
pub(crate) struct Namespaces {
    inner: RwLock<Interned>,
}

struct Interned {
    by_name: HashMap<Namespace, NsIndex>,
    /// By index: the name and the sessions it holds, live or expired but
    /// not yet reclaimed (like the store's total).
    slots: Vec<(Namespace, AtomicUsize)>,
}

impl Namespaces {
    /// The default namespace is always index 0.
    pub fn new() -> Self {
        Namespaces {
            inner: RwLock::new(Interned {
                by_name: HashMap::from([(Namespace::DEFAULT, 0)]),
                slots: vec![(Namespace::DEFAULT, AtomicUsize::new(0))],
            }),
        }
    }

    /// The index of `ns`, interning it the first time.
    pub fn intern(&self, ns: &Namespace) -> Result<NsIndex, SessionError> {
        if let Some(&i) = read(&self.inner).by_name.get(ns) {
            return Ok(i);
        }
        let mut inner = self.inner.write().unwrap_or_else(|e| e.into_inner());
        if let Some(&i) = inner.by_name.get(ns) {
            return Ok(i);
        }
        let i = NsIndex::try_from(inner.slots.len()).map_err(|_| {
            SessionError::Unavailable("too many namespaces: at most 65536 are supported")
        })?;
        inner.slots.push((ns.clone(), AtomicUsize::new(0)));
        inner.by_name.insert(ns.clone(), i);
        Ok(i)
    }

    /// The index of `ns`, if it was ever seen (a namespace never seen holds
    /// no session, and a lookup must not intern one).
    pub fn index_of(&self, ns: &Namespace) -> Option<NsIndex> {
        read(&self.inner).by_name.get(ns).copied()
    }

    /// Counts one more session in namespace `i`, unless it holds `max`.
    pub fn reserve(&self, i: NsIndex, max: usize) -> bool {
        read(&self.inner).slots[usize::from(i)]
            .1
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < max).then_some(n + 1)
            })
            .is_ok()
    }

    /// Counts one session fewer in namespace `i`.
    pub fn release(&self, i: NsIndex) {
        read(&self.inner).slots[usize::from(i)]
            .1
            .fetch_sub(1, Ordering::AcqRel);
    }

    /// Runs `f` with the name of namespace `i`.
    pub fn with_name<T>(&self, i: NsIndex, f: impl FnOnce(&str) -> T) -> T {
        f(read(&self.inner).slots[usize::from(i)].0.as_str())
    }

    /// Sessions held in `ns` (0 for a namespace never seen).
    pub fn count(&self, ns: &Namespace) -> usize {
        let inner = read(&self.inner);
        inner.by_name.get(ns).map_or(0, |&i| {
            inner.slots[usize::from(i)].1.load(Ordering::Acquire)
        })
    }

    /// Sets every count at once, after recovery.
    pub fn recount(&self, counts: &HashMap<NsIndex, usize>) {
        for (i, (_, count)) in read(&self.inner).slots.iter().enumerate() {
            let n = NsIndex::try_from(i)
                .ok()
                .and_then(|i| counts.get(&i))
                .copied()
                .unwrap_or(0);
            count.store(n, Ordering::Release);
        }
    }
}

/// A poisoned lock only means a panic elsewhere while it was held; the map
/// is always in a valid state.
fn read(lock: &RwLock<Interned>) -> std::sync::RwLockReadGuard<'_, Interned> {
    lock.read().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_namespace_is_interned_once_and_counted_on_its_own() {
        let namespaces = Namespaces::new();
        let shop = Namespace::parse("shop").unwrap();
        let i = namespaces.intern(&shop).unwrap();
        assert_eq!(namespaces.intern(&shop).unwrap(), i);
        assert_eq!(namespaces.intern(&Namespace::DEFAULT).unwrap(), 0);
        assert!(namespaces.reserve(i, 1));
        assert!(!namespaces.reserve(i, 1));
        assert!(namespaces.reserve(0, 1));
        assert_eq!(namespaces.count(&shop), 1);
        namespaces.release(i);
        assert_eq!(namespaces.count(&shop), 0);
        namespaces.with_name(i, |name| assert_eq!(name, "shop"));
    }
}
