//! The routes of a user's sessions, for the "where you're signed in" page:
//! `GET /sessions` lists the sessions of the user the cookie's session is
//! bound to (the current one marked), `DELETE /sessions/{handle}` ends one
//! of them, `POST /sessions/revoke-others` ends all but the current one.
//! Only handles appear here, never ids. Binding a session to a user is
//! not a gateway route: the browser could then claim any user; backends
//! bind over gRPC (`BindUser`, or `Create` with a user).

use http::StatusCode;

use super::error::ApiError;
use super::handlers::Exchange;
use super::reply::{push_json_string, push_rfc3339, CookieAction, Reply};
use crate::session::{Handle, SessionError, SessionId, UserId, UserSession};

impl Exchange<'_> {
    /// The cookie's live session and the user it is bound to (`None` when
    /// it is bound to no one); NOT_FOUND without a live session.
    async fn caller(&mut self) -> Result<(SessionId, Option<UserId>), ApiError> {
        let id = self.session().await?.ok_or(SessionError::NotFound)?;
        let s = self.shared;
        let user = s.store.bound_user(&s.namespace, &id).await?;
        Ok((id, user))
    }

    /// `GET /sessions`.
    pub(super) async fn list_user_sessions(&mut self) -> Result<Reply, ApiError> {
        let (id, user) = self.caller().await?;
        let sessions = match user {
            None => Vec::new(),
            Some(user) => {
                let s = self.shared;
                s.store
                    .list_user_sessions(&s.namespace, &user, Some(&id))
                    .await?
            }
        };
        Ok(Reply::json(StatusCode::OK, listing_json(&sessions)))
    }

    /// `DELETE /sessions/{handle}`: 204, or 404 `handle_not_found` when the
    /// caller's user has no such session. Ending the current session
    /// expires the cookie, as a logout does.
    pub(super) async fn revoke_session(&mut self, handle: &str) -> Result<Reply, ApiError> {
        let handle = Handle::parse(handle)?;
        let (id, user) = self.caller().await?;
        let user = user.ok_or(ApiError::HandleNotFound)?;
        let s = self.shared;
        if !s
            .store
            .revoke_session(&s.namespace, &handle, Some(&user))
            .await?
        {
            return Err(ApiError::HandleNotFound);
        }
        tracing::info!(session = %handle.0.short(), "session revoked by its user");
        if handle == Handle(id.digest_in(&s.namespace)) {
            self.cookie = CookieAction::Expire;
        }
        Ok(Reply::empty(StatusCode::NO_CONTENT))
    }

    /// `POST /sessions/revoke-others`: `{"revoked": n}`.
    pub(super) async fn revoke_others(&mut self) -> Result<Reply, ApiError> {
        let (id, user) = self.caller().await?;
        let revoked = match user {
            None => 0,
            Some(user) => {
                let s = self.shared;
                s.store
                    .revoke_user_sessions(&s.namespace, &user, Some(&id))
                    .await?
            }
        };
        tracing::info!(revoked, "a user's other sessions revoked");
        Ok(Reply::json(
            StatusCode::OK,
            format!("{{\"revoked\":{revoked}}}"),
        ))
    }
}

/// `{"sessions": [{"handle", "created_at", "last_seen", "expires_at",
/// "user_agent", "ip", "current"}, ...]}`.
fn listing_json(sessions: &[UserSession]) -> String {
    let mut out = String::from("{\"sessions\":[");
    for (i, s) in sessions.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str("{\"handle\":\"");
        out.push_str(&s.handle.to_string());
        for (name, ms) in [
            ("created_at", s.created_ms),
            ("last_seen", s.last_seen_ms),
            ("expires_at", s.expires_ms),
        ] {
            out.push_str("\",\"");
            out.push_str(name);
            out.push_str("\":\"");
            push_rfc3339(&mut out, ms);
        }
        out.push_str("\",\"user_agent\":");
        push_json_string(&mut out, &s.user_agent);
        out.push_str(",\"ip\":");
        push_json_string(&mut out, &s.ip);
        out.push_str(",\"current\":");
        out.push_str(if s.current { "true" } else { "false" });
        out.push('}');
    }
    out.push_str("]}");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::Digest;

    #[test]
    fn a_listing_is_json_that_serde_reads_back() {
        let one = UserSession {
            handle: Handle(Digest([0xab; 16])),
            created_ms: 1_700_000_000_000,
            last_seen_ms: 1_700_000_000_500,
            expires_ms: 1_700_000_600_000,
            user_agent: "Mozilla \"quoted\" \\ agent".into(),
            ip: "192.0.2.1".into(),
            current: true,
        };
        let text = listing_json(&[
            one.clone(),
            UserSession {
                current: false,
                ..one
            },
        ]);
        let parsed: serde_json::Value = serde_json::from_str(&text).unwrap();
        let first = &parsed["sessions"][0];
        assert_eq!(first["handle"], "ab".repeat(16));
        assert_eq!(first["created_at"], "2023-11-14T22:13:20.000Z");
        assert_eq!(first["last_seen"], "2023-11-14T22:13:20.500Z");
        assert_eq!(first["user_agent"], "Mozilla \"quoted\" \\ agent");
        assert_eq!(first["current"], true);
        assert_eq!(parsed["sessions"][1]["current"], false);
        assert_eq!(listing_json(&[]), "{\"sessions\":[]}");
    }
}
