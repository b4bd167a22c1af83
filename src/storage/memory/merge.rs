//! Read-modify-write in memory: a merge patch applied under the session's
//! exclusive guard, so no other writer gets in between its read and its
//! write, and no caller retries.

use super::{Memory, SessionRead};
use crate::session::{DataView, MergePatch, Namespace, SessionError, SessionId};

impl Memory {
    /// Applies `patch` to the session's current values and answers the
    /// whole session as it is after; with `versions`, only if the session
    /// is at one of them.
    pub fn merge(
        &self,
        ns: &Namespace,
        id: &SessionId,
        patch: &MergePatch,
        versions: Option<&[u64]>,
    ) -> Result<SessionRead, SessionError> {
        let now = self.shared.clock.now_ms();
        let digest = id.digest_in(ns);
        self.exclusive(&digest, now, |entry| {
            let version = entry.version();
            if let Some(accepted) = versions {
                if !accepted.contains(&version) {
                    return Err(SessionError::VersionMismatch {
                        expected: accepted.first().copied().unwrap_or(0),
                        actual: version,
                    });
                }
            }
            let current = entry.data();
            let mut update = patch.update_with(|key| current.get(key), None);
            self.checked_update(&mut update)?;
            let info = self.set_in(entry, id, &digest, now, &update)?;
            Ok(SessionRead {
                info,
                data: DataView::shared(Box::new(entry.share()), Vec::new()),
            })
        })
    }
}
