//! Whole-object writes and namespace-wide operations on Redis: a Set with
//! a [`SetMode`] (`write.lua`, one atomic script), and CountSessions /
//! ClearSessions, which walk every session key with SCAN (on every master
//! of a Cluster) and ask `namespace.lua` of each. Sessions carry their
//! namespace's name for this; ones written before it existed have none and
//! are seen by neither walk (they expire as usual).

use futures_util::future::join_all;

use super::{key, malformed, scripts, Redis, KEY_PREFIX};
use crate::session::{Namespace, SessionError, SessionId, SessionInfo, SetMode, Update};

impl Redis {
    /// [`Redis::set`] with what `mode` adds; see
    /// [`crate::storage::Backend::set_with`].
    pub async fn set_with(
        &self,
        ns: &Namespace,
        id: &SessionId,
        mut update: Update,
        mode: SetMode,
    ) -> Result<SessionInfo, SessionError> {
        self.checked_update(&mut update)?;
        let idle = mode
            .idle_timeout
            .map(|d| self.checked_idle(Some(d)).map(super::millis))
            .transpose()?;
        let created_idle = super::millis(self.checked_idle(mode.idle_timeout)?);
        let now = self.clock.now_ms();
        let absolute = self
            .timeouts
            .absolute
            .map(|a| now.saturating_add(super::millis(a)));
        let mut call = scripts::WRITE.key(key(&id.digest_in(ns)));
        call.arg(now)
            .arg(self.limits.max_keys)
            .arg(self.limits.max_session_bytes)
            .arg(
                update
                    .expected_version
                    .map(|v| v.to_string())
                    .unwrap_or_default(),
            )
            .arg(if mode.replace_all { "1" } else { "0" })
            .arg(if mode.create_if_missing { "1" } else { "0" })
            .arg(idle.map(|i| i.to_string()).unwrap_or_default())
            .arg(created_idle)
            .arg(absolute.map(|a| a.to_string()).unwrap_or_default())
            .arg(ns.as_str())
            .arg(update.upsert.len());
        for (k, v) in &update.upsert {
            call.arg(k).arg(v);
        }
        for k in &update.remove {
            call.arg(k);
        }
        let answer = self
            .call(&self.series.write, self.connection.invoke(&call))
            .await?;
        let items = scripts::array(answer).map_err(malformed)?;
        self.refusal(&items, update.expected_version)?;
        let meta = scripts::meta(&items).map_err(malformed)?;
        // A session made by this call is answered with a sixth figure.
        if items.len() > 5 {
            self.created
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        Ok(super::info(id.clone(), meta))
    }

    /// Live sessions of `ns`: a walk of every session key.
    pub async fn count(&self, ns: &Namespace) -> Result<u64, SessionError> {
        self.walk(ns, false).await
    }

    /// Deletes every session of `ns`; how many were live.
    pub async fn clear(&self, ns: &Namespace) -> Result<u64, SessionError> {
        let cleared = self.walk(ns, true).await?;
        self.flushed
            .fetch_add(cleared, std::sync::atomic::Ordering::Relaxed);
        Ok(cleared)
    }

    /// SCANs every server for session keys and asks `namespace.lua` of
    /// each key a batch found, the batch's calls at once; the number of
    /// live sessions of `ns` (deleted when `delete`).
    async fn walk(&self, ns: &Namespace, delete: bool) -> Result<u64, SessionError> {
        let pattern = format!("{KEY_PREFIX}{{*");
        let targets = super::flatten(
            tokio::time::timeout(self.timeout, self.connection.scan_targets()).await,
        )?;
        let mut live = 0;
        for target in &targets {
            let mut cursor = 0u64;
            loop {
                let step = self
                    .call(
                        &self.series.namespace,
                        self.connection.scan(target, cursor, &pattern),
                    )
                    .await?;
                let (next, keys) = scan_step(step)?;
                let now = self.clock.now_ms();
                let calls = keys.iter().map(|k| {
                    let mut call = scripts::NAMESPACE.key(k);
                    call.arg(now)
                        .arg(ns.as_str())
                        .arg(if delete { "1" } else { "0" });
                    async move {
                        let answer = self
                            .call(&self.series.namespace, self.connection.invoke(&call))
                            .await?;
                        scripts::int(&answer).map_err(malformed)
                    }
                });
                for answer in join_all(calls).await {
                    live += u64::from(answer? == 1);
                }
                if next == 0 {
                    break;
                }
                cursor = next;
            }
        }
        Ok(live)
    }
}

/// A SCAN answer: `[cursor, [key, ...]]`.
fn scan_step(value: redis::Value) -> Result<(u64, Vec<String>), SessionError> {
    let mut items = scripts::array(value).map_err(malformed)?;
    let keys = items.pop().ok_or(scripts::Malformed).map_err(malformed)?;
    let cursor = items.pop().ok_or(scripts::Malformed).map_err(malformed)?;
    let cursor = u64::try_from(scripts::int(&cursor).map_err(malformed)?)
        .map_err(|_| malformed(scripts::Malformed))?;
    let keys = scripts::array(keys)
        .map_err(malformed)?
        .into_iter()
        .filter_map(|k| match k {
            redis::Value::BulkString(b) => String::from_utf8(b).ok(),
            _ => None,
        })
        .collect();
    Ok((cursor, keys))
}
