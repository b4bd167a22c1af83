//! The route table: which paths exist, which methods each takes, and the
//! fixed label each is known by in logs (and metrics).

use http::Method;

use super::error::ApiError;

/// A matched path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// `/session`
    Session,
    /// `/session/keys/{key}`, the key still percent-encoded.
    Key(String),
    /// `/session/rotate`
    Rotate,
    /// `/auth`
    Auth,
    /// `/sessions`: the sessions of the cookie's user.
    UserSessions,
    /// `/sessions/{handle}`, the handle as sent.
    UserSession(String),
    /// `/sessions/revoke-others`
    RevokeOthers,
    /// Anything else.
    Unknown,
}

impl Route {
    /// Matches a path (the query string is not part of it). A key may hold
    /// `/` only percent-encoded, so `/session/keys/a/b` matches nothing.
    pub fn parse(path: &str) -> Self {
        match path {
            "/session" => Route::Session,
            "/session/rotate" => Route::Rotate,
            "/auth" => Route::Auth,
            "/sessions" => Route::UserSessions,
            "/sessions/revoke-others" => Route::RevokeOthers,
            _ => match path.strip_prefix("/session/keys/") {
                Some(key) if !key.contains('/') => Route::Key(key.to_owned()),
                _ => match path.strip_prefix("/sessions/") {
                    Some(handle) if !handle.contains('/') => Route::UserSession(handle.to_owned()),
                    _ => Route::Unknown,
                },
            },
        }
    }

    /// A fixed label: never the key or anything else a client chose, so
    /// logs and metrics stay bounded.
    pub fn label(&self) -> &'static str {
        match self {
            Route::Session => "/session",
            Route::Key(_) => "/session/keys/{key}",
            Route::Rotate => "/session/rotate",
            Route::Auth => "/auth",
            Route::UserSessions => "/sessions",
            Route::UserSession(_) => "/sessions/{handle}",
            Route::RevokeOthers => "/sessions/revoke-others",
            Route::Unknown => "unmatched",
        }
    }

    /// The metrics name of a request: the method and the route for the
    /// combinations that exist, the bare route label otherwise. Fixed
    /// strings, so metric series stay bounded whatever clients send.
    pub fn metric_name(&self, method: &Method) -> &'static str {
        match (self, method.as_str()) {
            (Route::Session, "GET") => "GET /session",
            (Route::Session, "POST") => "POST /session",
            (Route::Session, "PATCH") => "PATCH /session",
            (Route::Session, "DELETE") => "DELETE /session",
            (Route::Key(_), "GET") => "GET /session/keys/{key}",
            (Route::Key(_), "PUT") => "PUT /session/keys/{key}",
            (Route::Key(_), "DELETE") => "DELETE /session/keys/{key}",
            (Route::Rotate, "POST") => "POST /session/rotate",
            (Route::Auth, _) => "/auth",
            (Route::UserSessions, "GET") => "GET /sessions",
            (Route::UserSession(_), "DELETE") => "DELETE /sessions/{handle}",
            (Route::RevokeOthers, "POST") => "POST /sessions/revoke-others",
            _ => self.label(),
        }
    }

    /// Refuses a path that does not exist (404) or a method it does not
    /// take (405, with `Allow`). `/auth` takes any method, because some
    /// proxies forward the original request's.
    pub fn check_method(&self, method: &Method) -> Result<(), ApiError> {
        let allow: &'static str = match self {
            Route::Unknown => return Err(ApiError::RouteNotFound),
            Route::Auth => return Ok(()),
            Route::Session => "GET, POST, PATCH, DELETE",
            Route::Key(_) => "GET, PUT, DELETE",
            Route::Rotate | Route::RevokeOthers => "POST",
            Route::UserSessions => "GET",
            Route::UserSession(_) => "DELETE",
        };
        // Split on the character, not on ", ": a substring searcher costs
        // more to set up than this whole check, on every request.
        if allow.split(',').any(|m| m.trim_start() == method.as_str()) {
            Ok(())
        } else {
            Err(ApiError::MethodNotAllowed {
                method: method.clone(),
                allow,
            })
        }
    }
}

/// Methods that change state, and so must pass the CSRF checks.
pub fn changes_state(method: &Method) -> bool {
    !matches!(
        *method,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_match_their_routes_exactly() {
        assert_eq!(Route::parse("/session"), Route::Session);
        assert_eq!(Route::parse("/session/rotate"), Route::Rotate);
        assert_eq!(Route::parse("/auth"), Route::Auth);
        assert_eq!(
            Route::parse("/session/keys/a%2Fb"),
            Route::Key("a%2Fb".into())
        );
        assert_eq!(Route::parse("/session/keys/"), Route::Key(String::new()));
        assert_eq!(Route::parse("/sessions"), Route::UserSessions);
        assert_eq!(Route::parse("/sessions/revoke-others"), Route::RevokeOthers);
        assert_eq!(
            Route::parse("/sessions/00ff"),
            Route::UserSession("00ff".into())
        );
        for other in [
            "/",
            "/session/",
            "/sessions/a/b",
            "/session/keys/a/b",
            "/auth/x",
            "",
        ] {
            assert_eq!(Route::parse(other), Route::Unknown, "{other}");
        }
    }

    #[test]
    fn each_route_takes_its_methods_only() {
        assert!(Route::Session.check_method(&Method::PATCH).is_ok());
        assert!(Route::Key("k".into()).check_method(&Method::PUT).is_ok());
        assert!(Route::Auth.check_method(&Method::POST).is_ok());
        let err = Route::Rotate.check_method(&Method::GET).unwrap_err();
        assert!(matches!(
            err,
            ApiError::MethodNotAllowed { allow: "POST", .. }
        ));
        assert!(matches!(
            Route::Unknown.check_method(&Method::GET),
            Err(ApiError::RouteNotFound)
        ));
        assert!(Route::Session
            .check_method(&Method::from_bytes(b"BREW").unwrap())
            .is_err());
    }

    #[test]
    fn labels_never_carry_the_key() {
        assert_eq!(Route::Key("secret".into()).label(), "/session/keys/{key}");
        assert_eq!(Route::UserSession("h".into()).label(), "/sessions/{handle}");
    }
}
