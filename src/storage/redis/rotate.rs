//! Rotate on Redis: the session moves to a new key, which in a Cluster is
//! in another slot (likely on another node), so no one script can do it.
//! Three atomic steps instead, ordered so that the old id is never usable
//! once Rotate has answered, and nothing is lost if sessiond dies between
//! them.

use std::sync::atomic::Ordering;

use redis::Value;

use super::scripts::{self, Meta};
use super::users::Joined;
use super::{backend, info, key, malformed, millis, Redis, ID_TRIES};
use crate::session::{Namespace, SessionError, SessionId, SessionInfo, UserId};

/// The hash fields Rotate reads in the copy (`common.lua` names them).
const USER: &[u8] = b"\0u";
const EPOCH: &[u8] = b"\0e";
const ABSOLUTE: &[u8] = b"\0a";

/// The value of `name` in a flat field, value list.
fn field<'a>(fields: &'a [Vec<u8>], name: &[u8]) -> Option<&'a [u8]> {
    fields
        .chunks_exact(2)
        .find(|pair| pair[0] == name)
        .map(|pair| pair[1].as_slice())
}

fn set_field(fields: &mut [Vec<u8>], name: &[u8], value: &[u8]) {
    if let Some(pair) = fields.chunks_exact_mut(2).find(|pair| pair[0] == name) {
        pair[1] = value.to_vec();
    }
}

/// The user and epoch the copied session is bound with, if any.
fn binding_of(fields: &[Vec<u8>]) -> Option<(UserId, String)> {
    let user = std::str::from_utf8(field(fields, USER)?).ok()?;
    let epoch = std::str::from_utf8(field(fields, EPOCH)?).ok()?;
    Some((UserId::parse(user).ok()?, epoch.to_owned()))
}

impl Redis {
    /// Django's `cycle_key`: the same data under a new id.
    ///
    /// The new key is in another slot, so this takes three atomic steps:
    /// 1. on the old key, mark the session as moving to the new key, for
    ///    [`Self::rotation_hold`]: from then on no operation finds it under
    ///    the old id, so nothing changes it while it is copied;
    /// 2. write the copy under the new key (an id no one has been told);
    /// 3. delete the old key if the mark is still this Rotate's, and only
    ///    then answer the new id.
    ///
    /// The old id is therefore never usable once Rotate has answered. If
    /// sessiond dies half-way, the mark runs out and the session is usable
    /// again under its old id, unchanged (the caller never learnt the new
    /// one); the copy left behind is deleted by the next Rotate, or expires.
    pub async fn rotate(
        &self,
        ns: &Namespace,
        id: &SessionId,
    ) -> Result<SessionInfo, SessionError> {
        let old = key(&id.digest_in(ns));
        for _ in 0..ID_TRIES {
            let new_id = SessionId::generate();
            let new = key(&new_id.digest_in(ns));
            let mut fields = self.rotate_begin(&old, &new).await?;
            // A bound session joins its user's index under the new id
            // (with a fresh epoch) before the copy exists, and leaves it
            // under the old one only once that is deleted.
            let now = self.clock.now_ms();
            let binding = binding_of(&fields);
            let rejoined = match &binding {
                Some((user, _)) => {
                    let joined = Joined::fresh(ns, user, new_id.digest_in(ns), now);
                    set_field(&mut fields, EPOCH, joined.epoch().as_bytes());
                    let absolute = field(&fields, ABSOLUTE)
                        .and_then(|a| std::str::from_utf8(a).ok()?.parse().ok());
                    if let Err(e) = self.index_add(&joined, now, absolute).await {
                        let _ = self.rotate_end(&old, &new, false).await;
                        return Err(e);
                    }
                    Some(joined)
                }
                None => None,
            };
            let copied = match self.rotate_copy(&new, fields).await {
                Ok(copied) => copied,
                Err(e) => {
                    // Release the hold, so the old id works again at once;
                    // if this fails too, the hold runs out by itself. The
                    // copy may have been written: its member stays.
                    let _ = self.rotate_end(&old, &new, false).await;
                    return Err(e);
                }
            };
            let Some(meta) = copied else {
                // The new key was taken: the member names another session.
                if let Some(joined) = &rejoined {
                    self.leave_index(joined).await;
                }
                self.rotate_end(&old, &new, false).await?;
                continue;
            };
            if !self.rotate_end(&old, &new, true).await? {
                // The hold ran out before this Rotate finished, and another
                // operation took the session back: this copy is no one's.
                if self.delete(&new).await.is_ok() {
                    if let Some(joined) = &rejoined {
                        self.leave_index(joined).await;
                    }
                }
                return Err(backend(
                    "was too slow to rotate",
                    "the rotation took longer than its hold and was abandoned",
                ));
            }
            if let Some((user, epoch)) = binding {
                let old_digest = id.digest_in(ns);
                self.unindex(ns, old_digest, Some((user.as_str().to_owned(), epoch)))
                    .await;
            }
            self.rotated.fetch_add(1, Ordering::Relaxed);
            return Ok(info(new_id, meta));
        }
        Err(backend("found no free id", "every id drawn was taken"))
    }

    /// Rotate's step 1: holds the session at `old` for a move to `new`, and
    /// answers all its fields. Deletes the copy of an abandoned earlier
    /// Rotate, if there was one.
    pub(super) async fn rotate_begin(
        &self,
        old: &str,
        new: &str,
    ) -> Result<Vec<Vec<u8>>, SessionError> {
        let now = self.clock.now_ms();
        let hold_until = now.saturating_add(millis(self.rotation_hold()));
        let mut call = scripts::ROTATE_BEGIN.key(old);
        call.arg(now).arg(new).arg(hold_until);
        let answer = self
            .call(&self.series.rotate, self.connection.invoke(&call))
            .await?;
        let mut items = scripts::array(answer).map_err(malformed)?;
        if scripts::status(&items).map_err(malformed)? != 1 || items.len() != 3 {
            return Err(SessionError::NotFound);
        }
        let fields = scripts::raw_fields(items.pop().unwrap_or(Value::Nil)).map_err(malformed)?;
        if let Some(Value::BulkString(abandoned)) = items.pop() {
            if let Ok(abandoned) = String::from_utf8(abandoned) {
                let _ = self.delete(&abandoned).await;
            }
        }
        Ok(fields)
    }

    /// Rotate's step 2: the copy at `new`; `None` when that key is taken.
    pub(super) async fn rotate_copy(
        &self,
        new: &str,
        fields: Vec<Vec<u8>>,
    ) -> Result<Option<Meta>, SessionError> {
        let now = self.clock.now_ms();
        let mut call = scripts::ROTATE_COPY.key(new);
        call.arg(now);
        for field in &fields {
            call.arg(field.as_slice());
        }
        let answer = self
            .call(&self.series.rotate, self.connection.invoke(&call))
            .await?;
        let items = scripts::array(answer).map_err(malformed)?;
        match scripts::status(&items).map_err(malformed)? {
            1 => Ok(Some(scripts::meta(&items).map_err(malformed)?)),
            _ => Ok(None),
        }
    }

    /// Rotate's step 3: deletes the old session (`commit`) or releases it;
    /// `false` when this Rotate no longer held it.
    pub(super) async fn rotate_end(
        &self,
        old: &str,
        new: &str,
        commit: bool,
    ) -> Result<bool, SessionError> {
        let mut call = scripts::ROTATE_END.key(old);
        call.arg(new).arg(if commit { "commit" } else { "abort" });
        let answer = self
            .call(&self.series.rotate, self.connection.invoke(&call))
            .await?;
        Ok(scripts::int(&answer).map_err(malformed)? == 1)
    }

    async fn delete(&self, key: &str) -> Result<(), SessionError> {
        let mut del = redis::cmd("DEL");
        del.arg(key);
        let answer = self
            .call(&self.series.rotate, self.connection.command(&del))
            .await;
        answer.map(|_| ())
    }
}
