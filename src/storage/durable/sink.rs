//! The journal as memory's [`ChangeSink`]: each change memory tells is
//! framed into the journal's buffer, under the session's guard, so one
//! session's records are in the order its changes happened.

use std::collections::HashMap;

use super::codec;
use super::Journal;
use crate::clock::Millis;
use crate::session::Digest;
use crate::storage::memory::{BindingRef, ChangeSink, StateRef};

impl ChangeSink for Journal {
    fn put(&self, digest: &Digest, state: &StateRef<'_>) -> u64 {
        self.append(|lsn, out| codec::put(out, lsn, digest, state))
    }

    fn update(
        &self,
        digest: &Digest,
        version: u64,
        idle_deadline_ms: Millis,
        upsert: &HashMap<String, String>,
        remove: &[String],
    ) -> u64 {
        self.append(|lsn, out| {
            codec::update(
                out,
                lsn,
                digest,
                version,
                idle_deadline_ms,
                upsert.iter(),
                remove,
            )
        })
    }

    fn deadline(&self, digest: &Digest, idle_ms: u64, idle_deadline_ms: Millis) -> u64 {
        self.append(|lsn, out| codec::deadline(out, lsn, digest, idle_ms, idle_deadline_ms))
    }

    fn delete(&self, digest: &Digest) {
        self.append(|lsn, out| codec::delete(out, lsn, digest));
    }

    fn rotate(&self, old: &Digest, new: &Digest, state: &StateRef<'_>) -> u64 {
        self.append(|lsn, out| codec::rotate(out, lsn, old, new, state))
    }

    fn bind(&self, digest: &Digest, user: Option<BindingRef<'_>>) -> u64 {
        self.append(|lsn, out| codec::bind(out, lsn, digest, user))
    }
}
