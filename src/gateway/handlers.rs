//! One request's exchange with storage: the checks every route shares,
//! then one handler per route and method. Handlers say what to answer and
//! what to do with the cookie; `reply::render` writes it.
//!
//! Handlers await each storage operation, which answers once its change is
//! as durable as `--fsync` says. Reads from a backend that answers at once
//! (memory) never wait, and run without a future (`run_now`).

use std::collections::HashMap;

use futures_util::FutureExt;
use http::request::Parts;
use http::{Method, StatusCode};
use hyper::body::Body;
use percent_encoding::percent_decode_str;

use super::cookie::{presented, Presented};
use super::error::ApiError;
use super::etag::{stale, IfMatch};
use super::reply::{CookieAction, Reply};
use super::routes::{changes_state, Route};
use super::{auth, body, csrf, PeerAddr, Shared};
use crate::metrics::Api;
use crate::session::{MergePatch, SessionError, SessionId, SessionInfo, Update};
use crate::storage::Op;

/// One request in flight.
pub struct Exchange<'a> {
    pub(super) shared: &'a Shared,
    parts: &'a Parts,
    presented: Presented,
    /// What the response does with the cookie; handlers set it.
    pub cookie: CookieAction,
    /// The request body could not be read to its end (too large, too slow,
    /// broken), so the connection cannot carry another request.
    pub close: bool,
}

impl<'a> Exchange<'a> {
    pub fn new(shared: &'a Shared, parts: &'a Parts) -> Self {
        let presented = presented(&parts.headers, &shared.cookie.name);
        Exchange {
            shared,
            parts,
            presented,
            cookie: CookieAction::Keep,
            close: false,
        }
    }

    /// Whether a request to `route` by `method` can be answered at once
    /// ([`Self::run_now`]): it changes nothing, so there is nothing to make
    /// durable and no handler that reads a body.
    pub fn answers_at_once(route: &Route, method: &Method) -> bool {
        !changes(route, method)
    }

    /// Runs a request that [`Self::answers_at_once`] and has no body,
    /// without waiting on anything; the same steps as [`Self::run`]. Only
    /// for storage whose reads answer at once (`Storage::reads_at_once`):
    /// its handler then finishes on its first poll.
    pub fn run_now(&mut self, route: Route) -> Result<Reply, ApiError> {
        let method = self.parts.method.clone();
        let result = match self.check(&route, &method) {
            Ok(()) => self
                .at_once(route, &method)
                .now_or_never()
                .unwrap_or_else(|| {
                    Err(
                        SessionError::Backend("a read that should answer at once waited".into())
                            .into(),
                    )
                }),
            Err(refused) => Err(refused),
        };
        self.settle(result)
    }

    /// Runs the request, then reads whatever body its handler left unread
    /// (bounded like any body), so that an early answer does not cost a
    /// keep-alive connection or reset a client still sending.
    pub async fn run<B>(&mut self, route: Route, body: B) -> Result<Reply, ApiError>
    where
        B: Body,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let mut body = Some(body);
        let result = self.dispatch(route, &mut body).await;
        if let Some(unread) = body {
            let _ = self.read_body(&mut Some(unread)).await;
        }
        self.settle(result)
    }

    /// The cookie named a session that expired while we worked on it.
    fn settle(&mut self, result: Result<Reply, ApiError>) -> Result<Reply, ApiError> {
        if matches!(result, Err(ApiError::Session(SessionError::NotFound)))
            && self.presented.any
            && !matches!(self.cookie, CookieAction::Issue(_))
        {
            self.cookie = CookieAction::Expire;
        }
        result
    }

    /// The checks every route shares, in order: draining (503), head size
    /// (431), route and method (404, 405), CSRF for state changes (403,
    /// 415).
    fn check(&self, route: &Route, method: &Method) -> Result<(), ApiError> {
        if self.shared.lifecycle.is_stopping() {
            return Err(ApiError::Unavailable);
        }
        let max = self.shared.max_header_bytes;
        if head_bytes(self.parts) > max {
            return Err(ApiError::HeadersTooLarge { max });
        }
        route.check_method(method)?;
        if changes(route, method) {
            csrf::check(self.parts, &self.shared.allowed_origins)?;
        }
        Ok(())
    }

    /// The shared checks, then the handler, which takes the body if it
    /// needs it.
    async fn dispatch<B>(&mut self, route: Route, body: &mut Option<B>) -> Result<Reply, ApiError>
    where
        B: Body,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let method = self.parts.method.clone();
        self.check(&route, &method)?;
        match (route, &method) {
            (Route::Session, &Method::POST) => self.create(body).await,
            (Route::Session, &Method::PATCH) => self.patch(body).await,
            (Route::Key(key), &Method::PUT) => self.put_key(&decode_key(&key)?, body).await,
            (route, method) => self.at_once(route, method).await,
        }
    }

    /// The handlers that read no body, for a request that passed the
    /// checks.
    async fn at_once(&mut self, route: Route, method: &Method) -> Result<Reply, ApiError> {
        match (route, method) {
            (Route::Session, &Method::GET) => self.get().await,
            (Route::Session, _) => self.flush().await,
            (Route::Key(key), &Method::GET) => self.get_key(&decode_key(&key)?).await,
            (Route::Key(key), _) => self.delete_key(&decode_key(&key)?).await,
            (Route::Rotate, _) => self.rotate().await,
            (Route::Auth, _) => self.auth().await,
            (Route::UserSessions, _) => self.list_user_sessions().await,
            (Route::UserSession(handle), _) => self.revoke_session(&handle).await,
            (Route::RevokeOthers, _) => self.revoke_others().await,
            (Route::Unknown, _) => Err(ApiError::RouteNotFound),
        }
    }

    /// The live session the cookie names, if any. Among duplicates the
    /// first live one wins. Finding it counts as activity. A cookie that
    /// names no live session is expired by the response.
    pub(super) async fn session(&mut self) -> Result<Option<SessionId>, ApiError> {
        let (shared, namespace) = (self.shared, &self.shared.namespace);
        let found = self.live(|id| shared.store.touch(namespace, id, None));
        Ok(found.await?.map(|info| info.id))
    }

    /// What `lookup` found for the first candidate id it succeeds for.
    /// `lookup` must fail only for an id with no live session behind it,
    /// and must count as activity (slide the deadline) as `touch` does, so
    /// that a route whose answer needs the session's data finds and reads it
    /// in one store lookup instead of a `touch` and then a `get`. What it
    /// found names the session, so the id is not cloned here.
    ///
    /// A failure that says nothing of the session (the storage is
    /// unreachable: 503) is answered as it is, and the cookie kept: a Redis
    /// outage must not log anyone out.
    async fn live<T>(
        &mut self,
        mut lookup: impl FnMut(&SessionId) -> Op<T>,
    ) -> Result<Option<T>, ApiError> {
        let mut live = None;
        for id in &self.presented.ids {
            match lookup(id).await {
                Ok(found) => {
                    live = Some((id, found));
                    break;
                }
                Err(e @ (SessionError::Backend(_) | SessionError::Unavailable(_))) => {
                    return Err(e.into())
                }
                Err(_) => {}
            }
        }
        let Some((id, found)) = live else {
            if self.presented.any {
                if !self.presented.ids.is_empty() {
                    let peer = self.parts.extensions.get::<PeerAddr>().map(|p| p.0.ip());
                    self.shared.metrics.unknown_session(Api::Http, peer);
                }
                self.cookie = CookieAction::Expire
            }
            return Ok(None);
        };
        // The span is DEBUG: below that, finding it is skipped (as gRPC's
        // `parse_id` does).
        if tracing::level_filters::LevelFilter::current() >= tracing::Level::DEBUG {
            tracing::Span::current()
                .record("session", tracing::field::display(id.digest().short()));
        }
        Ok(Some(found))
    }

    /// Takes the body and reads it whole; a failure closes the connection.
    async fn read_body<B>(&mut self, body: &mut Option<B>) -> Result<bytes::Bytes, ApiError>
    where
        B: Body,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let Some(body) = body.take() else {
            return Ok(bytes::Bytes::new());
        };
        let s = self.shared;
        let read = body::read(self.parts, body, s.max_body_bytes, s.read_timeout).await;
        self.close |= read.is_err();
        read
    }

    fn if_match(&self) -> Result<Option<IfMatch>, ApiError> {
        IfMatch::from_headers(&self.parts.headers)
    }

    /// `POST /session`: a new session with the body's data. A session the
    /// cookie already names is flushed: the browser can hold only one, and
    /// an orphan would stay usable by whoever else holds its id.
    async fn create<B>(&mut self, body: &mut Option<B>) -> Result<Reply, ApiError>
    where
        B: Body,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let bytes = self.read_body(body).await?;
        let data = if body::is_empty(&bytes) {
            HashMap::new()
        } else {
            body::data_object(&bytes)?
        };
        let info = self
            .shared
            .store
            .create(&self.shared.namespace, data.clone(), None)
            .await?;
        for old in &self.presented.ids {
            self.shared.store.flush(&self.shared.namespace, old).await?;
        }
        Ok(self.issued(StatusCode::CREATED, info, &data))
    }

    /// Answers for a session just created or re-keyed: the new cookie.
    fn issued(
        &mut self,
        status: StatusCode,
        info: SessionInfo,
        data: &HashMap<String, String>,
    ) -> Reply {
        tracing::info!(session = %info.id.digest().short(), "session issued");
        let pairs = data.iter().map(|(k, v)| (k.as_str(), v.as_str()));
        let reply = Reply::session(status, &info, pairs);
        self.cookie = CookieAction::Issue(info);
        reply
    }

    /// `GET /session`: the whole session.
    async fn get(&mut self) -> Result<Reply, ApiError> {
        // `read` with no keys fails only for a session that is not live, and
        // slides the deadline like `touch`: one lookup finds and reads it.
        let (shared, namespace) = (self.shared, &self.shared.namespace);
        let read = self
            .live(|id| shared.store.read(namespace, id, Vec::new(), true))
            .await?
            .ok_or(SessionError::NotFound)?;
        let reply = Reply::session(StatusCode::OK, &read.info, read.data.iter());
        self.cookie = CookieAction::Refresh(read.info);
        Ok(reply)
    }

    /// `PATCH /session`: JSON Merge Patch; creates the session when the
    /// cookie names none (Django creates one on first write).
    async fn patch<B>(&mut self, body: &mut Option<B>) -> Result<Reply, ApiError>
    where
        B: Body,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let bytes = self.read_body(body).await?;
        let patch = MergePatch::parse(&bytes).map_err(|e| ApiError::InvalidBody(e.0))?;
        let if_match = self.if_match()?;
        if let Some(id) = self.session().await? {
            match self.patch_existing(&id, &patch, if_match.as_ref()).await {
                Err(ApiError::Session(SessionError::NotFound)) if if_match.is_none() => {}
                other => return other,
            }
        }
        if if_match.is_some() {
            return Err(ApiError::PreconditionFailed(
                "If-Match was given but there is no session to match",
            ));
        }
        let data = patch.initial_data();
        let info = self
            .shared
            .store
            .create(&self.shared.namespace, data.clone(), None)
            .await?;
        Ok(self.issued(StatusCode::CREATED, info, &data))
    }

    /// Applies `patch` to a live session, as one storage operation: the
    /// keys that merge objects are read and written back atomically, so no
    /// concurrent write is lost and nothing is retried. With `If-Match` the
    /// client's versions rule, and a mismatch is a 412.
    async fn patch_existing(
        &mut self,
        id: &SessionId,
        patch: &MergePatch,
        if_match: Option<&IfMatch>,
    ) -> Result<Reply, ApiError> {
        let versions = match if_match {
            Some(IfMatch::Versions(v)) => Some(v.as_slice()),
            Some(IfMatch::Any) | None => None,
        };
        let merged = self
            .shared
            .store
            .merge(&self.shared.namespace, id, patch, versions)
            .await;
        let read = match merged {
            // A list of tags is not one expected version: say so as a
            // stale If-Match, as a write does.
            Err(SessionError::VersionMismatch { .. }) if versions.is_some_and(|v| v.len() != 1) => {
                return Err(stale())
            }
            other => other?,
        };
        let reply = Reply::session(StatusCode::OK, &read.info, read.data.iter());
        self.cookie = CookieAction::Refresh(read.info);
        Ok(reply)
    }

    /// `DELETE /session`: logout. Every session the cookie names is
    /// flushed and the cookie expired, whether or not one existed.
    async fn flush(&mut self) -> Result<Reply, ApiError> {
        for id in &self.presented.ids {
            if self.shared.store.flush(&self.shared.namespace, id).await? {
                tracing::info!(session = %id.digest().short(), "session flushed");
            }
        }
        self.cookie = CookieAction::Expire;
        Ok(Reply::empty(StatusCode::NO_CONTENT))
    }

    /// `POST /session/rotate`: same data under a new id (Django's
    /// `cycle_key`); the old id is dead at once.
    async fn rotate(&mut self) -> Result<Reply, ApiError> {
        let id = self.session().await?.ok_or(SessionError::NotFound)?;
        let info = self
            .shared
            .store
            .rotate(&self.shared.namespace, &id)
            .await?;
        tracing::info!(
            old_session = %id.digest().short(),
            session = %info.id.digest().short(),
            "session rotated"
        );
        let reply = Reply::done(&info);
        self.cookie = CookieAction::Issue(info);
        Ok(reply)
    }

    /// `GET /session/keys/{key}`: the key's JSON value, exactly as stored.
    async fn get_key(&mut self, key: &str) -> Result<Reply, ApiError> {
        let id = self.session().await?.ok_or(SessionError::NotFound)?;
        let read = self
            .shared
            .store
            .read(&self.shared.namespace, &id, vec![key.to_owned()], true)
            .await?;
        let value = read.data.get(key).ok_or(ApiError::KeyNotFound)?;
        let reply = Reply::value(&read.info, value.to_owned());
        self.cookie = CookieAction::Refresh(read.info);
        Ok(reply)
    }

    /// `PUT /session/keys/{key}`: sets one key to the body's JSON.
    async fn put_key<B>(&mut self, key: &str, body: &mut Option<B>) -> Result<Reply, ApiError>
    where
        B: Body,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let value = body::utf8(self.read_body(body).await?)?;
        let update = Update {
            upsert: HashMap::from([(key.to_owned(), value)]),
            ..Update::default()
        };
        self.write(update).await
    }

    /// `DELETE /session/keys/{key}`: removes one key (absent is fine).
    async fn delete_key(&mut self, key: &str) -> Result<Reply, ApiError> {
        let update = Update {
            remove: vec![key.to_owned()],
            ..Update::default()
        };
        self.write(update).await
    }

    /// A one-key write under the request's `If-Match`, if any.
    async fn write(&mut self, mut update: Update) -> Result<Reply, ApiError> {
        let if_match = self.if_match()?;
        let Some(id) = self.session().await? else {
            return Err(match if_match {
                Some(_) => stale(),
                None => SessionError::NotFound.into(),
            });
        };
        let store = &self.shared.store;
        if let Some(m) = &if_match {
            let current = match m.needs_current() {
                true => Some(
                    store
                        .touch(&self.shared.namespace, &id, None)
                        .await?
                        .version,
                ),
                false => None,
            };
            update.expected_version = m.expected(current)?;
        }
        let info = store.set(&self.shared.namespace, &id, update).await?;
        let reply = Reply::done(&info);
        self.cookie = CookieAction::Refresh(info);
        Ok(reply)
    }

    /// `GET /auth`: 200 with the exported keys as headers, or 401.
    async fn auth(&mut self) -> Result<Reply, ApiError> {
        let id = self.session().await?.ok_or(ApiError::Unauthorized)?;
        let exported = &self.shared.auth_headers;
        let required = &self.shared.auth_require;
        let keys: Vec<String> = exported
            .iter()
            .map(|h| h.key.clone())
            .chain(required.iter().cloned())
            .collect();
        let (_, data) = self
            .shared
            .store
            .get(&self.shared.namespace, &id, &keys, true)
            .await
            .map_err(|_| ApiError::Unauthorized)?;
        if !required
            .iter()
            .all(|k| data.get(k).is_some_and(|v| auth::truthy(v)))
        {
            return Err(ApiError::Unauthorized);
        }
        let mut reply = Reply::empty(StatusCode::OK);
        reply.headers = auth::headers(exported, &data);
        Ok(reply)
    }
}

/// Whether a request changes state: any method but the safe ones, except
/// on `/auth`, which takes any method and only reads.
fn changes(route: &Route, method: &Method) -> bool {
    changes_state(method) && *route != Route::Auth
}

/// Bytes of the request line and headers as sent over HTTP/1.1. hyper
/// bounds its buffer but does not expose an exact head limit through the
/// auto builder, so the setting is enforced here, the same for HTTP/2.
fn head_bytes(parts: &Parts) -> usize {
    let target = parts.uri.path_and_query().map_or(1, |p| p.as_str().len());
    let line = parts.method.as_str().len() + target + 12;
    let headers: usize = parts
        .headers
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + 4)
        .sum();
    line + headers
}

/// A key from the path: percent-decoded, then UTF-8. Storage validates it
/// like any other key.
fn decode_key(raw: &str) -> Result<String, ApiError> {
    percent_decode_str(raw)
        .decode_utf8()
        .map(|k| k.into_owned())
        .map_err(|_| {
            SessionError::InvalidKey("the key is not UTF-8 once percent-decoded".into()).into()
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_percent_decoded_and_must_be_utf8() {
        assert_eq!(decode_key("user%20name").unwrap(), "user name");
        assert_eq!(decode_key("a%2Fb").unwrap(), "a/b");
        assert_eq!(decode_key("caf%C3%A9").unwrap(), "café");
        assert_eq!(decode_key("a+b").unwrap(), "a+b");
        assert!(matches!(
            decode_key("%FF"),
            Err(ApiError::Session(SessionError::InvalidKey(_)))
        ));
    }
}
