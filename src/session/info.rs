//! What every backend answers and every transport sends: a session's info,
//! and the change a Set asks for.

use std::collections::HashMap;
use std::time::Duration;

use super::SessionId;
use crate::clock::Millis;

/// What a caller learns about a session besides its data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionInfo {
    pub id: SessionId,
    pub version: u64,
    pub created_ms: Millis,
    /// The earlier of the idle and absolute deadlines.
    pub expires_ms: Millis,
    pub idle_timeout: Duration,
}

/// A Set request: every upsert and removal applies, or none does.
#[derive(Debug, Clone, Default)]
pub struct Update {
    /// key -> JSON text.
    pub upsert: HashMap<String, String>,
    /// Keys to delete; absent ones are ignored.
    pub remove: Vec<String>,
    /// Compare-and-set: refuse unless the session is at this version.
    pub expected_version: Option<u64>,
}

/// What a Set may do beyond per-key upserts: what a store that writes
/// whole objects under ids it made itself (express-session) needs. The
/// default is a plain Set.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SetMode {
    /// The session's data becomes exactly the upserts: keys not named are
    /// removed, atomically with the rest.
    pub replace_all: bool,
    /// With no live session under the id, create one under it (holding the
    /// upserts). Only for a namespace that accepts client-chosen ids: the
    /// transport decides; storage does as told.
    pub create_if_missing: bool,
    /// A new idle timeout, as Touch sets it; for a session created, its
    /// idle timeout (unset: the server's default).
    pub idle_timeout: Option<Duration>,
}
