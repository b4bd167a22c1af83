//! Read-modify-write on Redis: a JSON merge patch.
//!
//! A patch that only replaces and removes keys needs nothing read, and is
//! one Set script. A patch that merges into an object needs that object's
//! current value, and merging JSON inside Lua (cjson) would not keep values
//! as serde_json writes them (numbers past 2^53, `[]` turned `{}`), so it
//! reads the keys it merges into, merges here, and writes with the version
//! it read as the expected one: two round trips, retried when another
//! writer got in between. No write is ever lost; under contention a merge
//! takes more tries.

use super::{whole, Found, Redis};
use crate::session::{MergePatch, Namespace, SessionError, SessionId, SessionRead};

/// Tries of a merge that keeps losing its compare-and-set to other writers
/// before it answers ABORTED (the caller may retry).
const MERGE_TRIES: usize = 64;

impl Redis {
    /// Applies `patch` to the session's current values and answers the
    /// whole session as it is after; with `versions`, only if the session
    /// is at one of them.
    pub async fn merge(
        &self,
        ns: &Namespace,
        id: &SessionId,
        patch: &MergePatch,
        versions: Option<&[u64]>,
    ) -> Result<SessionRead, SessionError> {
        let merged = patch.keys_to_read();
        if merged.is_empty() {
            let update = patch.update_with(|_| None, None);
            let (info, fields) = self
                .set(ns, id, update, versions.unwrap_or(&[]), true)
                .await?;
            return Ok(whole(info, fields));
        }
        let mut actual = 0;
        for _ in 0..MERGE_TRIES {
            let Found { info, fields } = self.read(ns, id.clone(), merged.clone(), false).await?;
            actual = info.version;
            if let Some(accepted) = versions {
                if !accepted.contains(&info.version) {
                    return Err(SessionError::VersionMismatch {
                        expected: accepted.first().copied().unwrap_or(0),
                        actual,
                    });
                }
            }
            let current = |key: &str| {
                fields
                    .iter()
                    .find(|(k, _)| k == key)
                    .map(|(_, v)| v.as_str())
            };
            let update = patch.update_with(current, Some(info.version));
            match self.set(ns, id, update, &[], true).await {
                Ok((info, fields)) => return Ok(whole(info, fields)),
                Err(SessionError::VersionMismatch { actual: now, .. }) => actual = now,
                Err(e) => return Err(e),
            }
        }
        Err(SessionError::VersionMismatch {
            expected: versions.and_then(|v| v.first().copied()).unwrap_or(actual),
            actual,
        })
    }
}
