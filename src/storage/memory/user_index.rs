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
//!
//! Each shard is one ordered set of `(user tag, session key)` pairs, 12
//! bytes each, in sorted runs ([`RunSet`]): 14.5 bytes a bound session
//! (300 000 random pairs counted by allocator size class) whether its user
//! has one session or ten thousand, where a B-tree set of 16-byte
//! `(user, session key)` pairs took 27.6 and a map of users to key lists
//! paid a slot, a list and its allocation per user (BENCHMARKS.md, row
//! U1). A user's keys are one range of the set, so removing one of 10,000
//! moves at most one run's values.
//!
//! The tag is 32 bits of the user's key, the shard 6 more: users that
//! share both (one pair of users in 2^38) share a range, which readers
//! sort out by the entries, as they would a collision of whole keys.

use std::hash::{BuildHasher, Hasher};
use std::sync::{Mutex, MutexGuard};

use super::run_set::RunSet;
use super::NsIndex;

/// Shards, as many as the map has: two logins of different users rarely
/// meet on one mutex.
const SHARDS: usize = 64;

/// A user as the index names one: 64 bits of a keyed SipHash of the
/// namespace and the user id. Keyed with a random key per process, so a
/// client cannot choose ids that collide; a collision of two users anyway
/// only puts both in one range, which readers sort out by the entries.
pub(crate) type UserKey = u64;

/// One shard: each bound session as its user's tag and its map key, both
/// big-endian, so that byte order is `(tag, key)` order and a user's
/// sessions are one range. Bytes rather than a `(u32, u64)`, which would
/// be padded to 16.
type Shard = RunSet<Pair>;
type Pair = [u8; 12];

/// `user`'s tag and session `key` as the shard holds them.
fn pair(user: UserKey, key: u64) -> Pair {
    let mut pair = [0; 12];
    pair[..4].copy_from_slice(&tag(user).to_be_bytes());
    pair[4..].copy_from_slice(&key.to_be_bytes());
    pair
}

/// The bits of a user's key below those that pick its shard.
fn tag(user: UserKey) -> u32 {
    (user >> 26) as u32
}

/// The session key of a pair.
fn key_of(pair: &Pair) -> u64 {
    let mut key = [0; 8];
    key.copy_from_slice(&pair[4..]);
    u64::from_be_bytes(key)
}

pub(crate) struct UserIndex {
    hasher: std::collections::hash_map::RandomState,
    shards: Box<[Mutex<Shard>]>,
    /// Held by whoever counts a user's sessions against
    /// `--max-sessions-per-user` and then adds one, so two logins of one
    /// user at the limit cannot both pass the count. Striped as the
    /// shards are; taken before any map guard, never while holding one.
    admission: Box<[Mutex<()>]>,
}

/// Holds a user's admission stripe (see [`UserIndex::admit`]).
pub(crate) struct Admission<'a>(#[allow(dead_code)] MutexGuard<'a, ()>);

impl UserIndex {
    pub fn new() -> Self {
        UserIndex {
            hasher: Default::default(),
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
            admission: (0..SHARDS).map(|_| Mutex::default()).collect(),
        }
    }

    /// The index's name for `user` in namespace `ns`.
    pub fn key(&self, ns: NsIndex, user: &str) -> UserKey {
        let mut h = self.hasher.build_hasher();
        h.write_u16(ns);
        h.write(user.as_bytes());
        h.finish()
    }

    fn stripe(user: UserKey) -> usize {
        (user >> 58) as usize % SHARDS
    }

    fn shard(&self, user: UserKey) -> MutexGuard<'_, Shard> {
        // A poisoned lock only means a panic elsewhere while it was held;
        // the set is always in a valid state.
        self.shards[Self::stripe(user)]
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }

    /// Serialises adding sessions to `user` (and to the users sharing its
    /// stripe) until the guard drops: the count against the per-user limit
    /// and the insert it allows are then one step.
    pub fn admit(&self, user: UserKey) -> Admission<'_> {
        Admission(
            self.admission[Self::stripe(user)]
                .lock()
                .unwrap_or_else(|e| e.into_inner()),
        )
    }

    pub fn insert(&self, user: UserKey, key: u64) {
        self.shard(user).insert(pair(user, key));
    }

    pub fn remove(&self, user: UserKey, key: u64) {
        self.shard(user).remove(&pair(user, key));
    }

    /// Whether the user has at least `n` keys (never fewer keys than live
    /// sessions). Counts at most `n`.
    pub fn has_at_least(&self, user: UserKey, n: usize) -> bool {
        n == 0
            || self
                .shard(user)
                .range(pair(user, 0), pair(user, u64::MAX))
                .nth(n - 1)
                .is_some()
    }

    /// The user's keys, copied out so no lock is held while the map is
    /// read. Those of a user sharing the tag come too.
    pub fn keys(&self, user: UserKey) -> Vec<u64> {
        self.shard(user)
            .range(pair(user, 0), pair(user, u64::MAX))
            .map(key_of)
            .collect()
    }

    /// Users (tags) indexed, for tests that check nothing is left behind.
    #[cfg(test)]
    pub fn users(&self) -> usize {
        self.shards
            .iter()
            .map(|s| {
                let set = s.lock().unwrap_or_else(|e| e.into_inner());
                let mut users: Vec<[u8; 4]> = set
                    .iter()
                    .map(|pair| [pair[0], pair[1], pair[2], pair[3]])
                    .collect();
                users.dedup();
                users.len()
            })
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
        let bob = index.key(0, "bob");
        assert_ne!(alice, index.key(1, "alice"), "namespaces are apart");
        assert_ne!(alice, bob);
        for key in 0..100 {
            index.insert(alice, key);
        }
        index.insert(alice, 5);
        index.insert(bob, 7);
        assert!(index.has_at_least(alice, 100));
        assert!(!index.has_at_least(alice, 101));
        assert_eq!(
            index.keys(bob),
            vec![7],
            "bob's range holds bob's keys only"
        );
        for key in 0..99 {
            index.remove(alice, key);
        }
        assert_eq!(index.keys(alice), vec![99]);
        index.remove(alice, 99);
        index.remove(bob, 7);
        assert!(!index.has_at_least(alice, 1));
        assert!(index.has_at_least(alice, 0));
        assert_eq!(index.users(), 0);
    }

    #[test]
    fn users_sharing_a_tag_share_a_range_and_keep_their_own_keys() {
        let index = UserIndex::new();
        // The same shard and tag; the low 26 bits differ.
        let (dan, eve) = (0xabcd_ef01_2345_6789, 0xabcd_ef01_2000_0000);
        assert_eq!(
            (UserIndex::stripe(dan), tag(dan)),
            (UserIndex::stripe(eve), tag(eve))
        );
        index.insert(dan, 1);
        index.insert(eve, 2);
        assert_eq!(index.keys(dan), vec![1, 2], "readers sort them out");
        index.remove(eve, 2);
        assert_eq!(index.keys(dan), vec![1]);
        assert!(index.has_at_least(dan, 1) && !index.has_at_least(dan, 2));
    }

    #[test]
    fn the_extreme_keys_of_a_user_are_in_its_range() {
        let index = UserIndex::new();
        let user = index.key(0, "carol");
        index.insert(user, 0);
        index.insert(user, u64::MAX);
        assert_eq!(index.keys(user), vec![0, u64::MAX]);
    }
}
