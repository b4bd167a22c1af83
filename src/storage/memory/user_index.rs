//! The per-user index: for each (namespace, user), the map keys of the
//! sessions bound to them, so a listing or a "log out everywhere" visits
//! that user's sessions only, never the map.
//!
//! The index is a hint, the entries are the truth: every reader looks each
//! key up in the map and keeps it only if that entry is live and bound to
//! the same user in the same namespace. The index is kept in step with the
//! map by whoever adds or removes a bound entry (create, bind, rotate,
//! flush, revoke, the reaper), after the map's guard is dropped, so a key
//! may briefly be missing or left over, never wrongly trusted. Leftovers
//! (from a race between two changes of one session) are pruned when a
//! reader meets them.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasher, Hasher};
use std::sync::{Mutex, MutexGuard};

use super::NsIndex;
use crate::session::BuildDigestHasher;

/// Shards, as many as the map has: two logins of different users rarely
/// meet on one mutex.
const SHARDS: usize = 64;

/// Beyond this many sessions a user's keys move from a vector (scanned
/// on removal) to a set, so removing one of a user's 10,000 sessions stays
/// O(1).
const FEW: usize = 16;

/// A user as the index names one: 64 bits of a keyed SipHash of the
/// namespace and the user id. Keyed with a random key per process, so a
/// client cannot choose ids that collide; a collision of two users anyway
/// only puts both in one bucket, which readers sort out by the entries.
pub(crate) type UserKey = u64;

pub(crate) struct UserIndex {
    hasher: std::collections::hash_map::RandomState,
    shards: Box<[Mutex<HashMap<UserKey, Keys, BuildDigestHasher>>]>,
}

/// One user's session keys.
// The set is boxed so that the common case, a user with a few sessions,
// keeps a map slot of a vector's size rather than a set's.
#[allow(clippy::box_collection)]
enum Keys {
    Few(Vec<u64>),
    Many(Box<HashSet<u64, BuildDigestHasher>>),
}

impl Keys {
    fn insert(&mut self, key: u64) {
        match self {
            Keys::Few(keys) if keys.contains(&key) => {}
            Keys::Few(keys) if keys.len() < FEW => {
                keys.reserve_exact(1);
                keys.push(key);
            }
            Keys::Few(keys) => {
                let mut set: HashSet<u64, BuildDigestHasher> = keys.drain(..).collect();
                set.insert(key);
                *self = Keys::Many(Box::new(set));
            }
            Keys::Many(set) => {
                set.insert(key);
            }
        }
    }

    /// Removes `key`; whether none are left.
    fn remove(&mut self, key: u64) -> bool {
        match self {
            Keys::Few(keys) => {
                if let Some(i) = keys.iter().position(|&k| k == key) {
                    keys.swap_remove(i);
                    keys.shrink_to_fit();
                }
                keys.is_empty()
            }
            Keys::Many(set) => {
                set.remove(&key);
                set.is_empty()
            }
        }
    }

    fn len(&self) -> usize {
        match self {
            Keys::Few(keys) => keys.len(),
            Keys::Many(set) => set.len(),
        }
    }

    fn to_vec(&self) -> Vec<u64> {
        match self {
            Keys::Few(keys) => keys.clone(),
            Keys::Many(set) => set.iter().copied().collect(),
        }
    }
}

impl UserIndex {
    pub fn new() -> Self {
        UserIndex {
            hasher: Default::default(),
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
        }
    }

    /// The index's name for `user` in namespace `ns`.
    pub fn key(&self, ns: NsIndex, user: &str) -> UserKey {
        let mut h = self.hasher.build_hasher();
        h.write_u16(ns);
        h.write(user.as_bytes());
        h.finish()
    }

    fn shard(&self, user: UserKey) -> MutexGuard<'_, HashMap<UserKey, Keys, BuildDigestHasher>> {
        let shard = &self.shards[(user >> 58) as usize % SHARDS];
        // A poisoned lock only means a panic elsewhere while it was held;
        // the map is always in a valid state.
        shard.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn insert(&self, user: UserKey, key: u64) {
        self.shard(user)
            .entry(user)
            .or_insert_with(|| Keys::Few(Vec::with_capacity(1)))
            .insert(key);
    }

    pub fn remove(&self, user: UserKey, key: u64) {
        let mut shard = self.shard(user);
        if shard.get_mut(&user).is_some_and(|keys| keys.remove(key)) {
            shard.remove(&user);
        }
    }

    /// How many keys the user has: never fewer than its live sessions.
    pub fn len(&self, user: UserKey) -> usize {
        self.shard(user).get(&user).map_or(0, Keys::len)
    }

    /// The user's keys, copied out so no lock is held while the map is
    /// read.
    pub fn keys(&self, user: UserKey) -> Vec<u64> {
        self.shard(user)
            .get(&user)
            .map_or_else(Vec::new, Keys::to_vec)
    }

    /// Users indexed, for tests that check nothing is left behind.
    #[cfg(test)]
    pub fn users(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().unwrap_or_else(|e| e.into_inner()).len())
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_user_keeps_its_keys_from_one_to_many_and_leaves_nothing_when_emptied() {
        let index = UserIndex::new();
        let alice = index.key(0, "alice");
        assert_ne!(alice, index.key(1, "alice"), "namespaces are apart");
        assert_ne!(alice, index.key(0, "bob"));
        for key in 0..100 {
            index.insert(alice, key);
        }
        index.insert(alice, 5);
        assert_eq!(index.len(alice), 100);
        for key in 0..99 {
            index.remove(alice, key);
        }
        assert_eq!(index.keys(alice), vec![99]);
        index.remove(alice, 99);
        assert_eq!((index.len(alice), index.users()), (0, 0));
    }
}
