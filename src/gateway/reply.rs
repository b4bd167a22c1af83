//! What a handler answers, and how it becomes a response: JSON bodies,
//! `ETag`, the cookie, `Cache-Control: no-store`, and errors.

use std::collections::HashMap;
use std::time::{Duration, UNIX_EPOCH};

use bytes::Bytes;
use http::{header, HeaderName, HeaderValue, Response, StatusCode};
use http_body_util::Full;

use super::cookie::CookiePolicy;
use super::error::ApiError;
use super::etag::etag;
use crate::clock::Millis;
use crate::store::SessionInfo;

/// A successful answer, before cookies and common headers are added.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    /// A JSON document, or nothing.
    pub body: Option<String>,
    /// The session's version, sent as `ETag`.
    pub version: Option<u64>,
    pub headers: Vec<(HeaderName, HeaderValue)>,
}

impl Reply {
    /// A bodiless answer.
    pub fn empty(status: StatusCode) -> Self {
        Reply {
            status,
            body: None,
            version: None,
            headers: Vec::new(),
        }
    }

    /// The whole session: `{"data": {...}, "version": n, "expires_at": "..."}`.
    pub fn session(status: StatusCode, info: &SessionInfo, data: &HashMap<String, String>) -> Self {
        Reply {
            status,
            body: Some(session_json(info, data)),
            version: Some(info.version),
            headers: Vec::new(),
        }
    }

    /// One stored JSON value, exactly as stored.
    pub fn value(info: &SessionInfo, json: String) -> Self {
        Reply {
            status: StatusCode::OK,
            body: Some(json),
            version: Some(info.version),
            headers: Vec::new(),
        }
    }

    /// A bodiless answer about a session, with its `ETag`.
    pub fn done(info: &SessionInfo) -> Self {
        Reply {
            version: Some(info.version),
            ..Reply::empty(StatusCode::NO_CONTENT)
        }
    }
}

/// What the response does with the session cookie.
#[derive(Debug, Clone, Default)]
pub enum CookieAction {
    /// Leave the browser's cookie alone.
    #[default]
    Keep,
    /// A session was used: roll the cookie's `Max-Age` forward with the
    /// session's sliding deadline (nothing to do for browser-session cookies).
    Refresh(SessionInfo),
    /// A new id (create, rotate): always set.
    Issue(SessionInfo),
    /// No live session behind the cookie, or logout: delete it.
    Expire,
}

/// Builds the response. Every response is `Cache-Control: no-store`: they
/// either carry private session data, set a cookie, or say whether a
/// session exists, none of which a cache may keep.
pub fn render(
    result: Result<Reply, ApiError>,
    cookie: &CookieAction,
    policy: &CookiePolicy,
    now: Millis,
) -> Response<Full<Bytes>> {
    let (status, body, version, extra) = match result {
        Ok(reply) => (reply.status, reply.body, reply.version, reply.headers),
        Err(err) => (err.status(), Some(err.body()), None, err.headers()),
    };
    let mut response = Response::new(Full::new(body.clone().map(Bytes::from).unwrap_or_default()));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    if body.is_some() {
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if let Some(version) = version {
        headers.insert(header::ETAG, etag(version));
    }
    let set_cookie = match cookie {
        CookieAction::Keep => None,
        CookieAction::Refresh(_) if policy.browser_session => None,
        CookieAction::Refresh(info) | CookieAction::Issue(info) => {
            policy.issue(&info.id, info.expires_ms, now)
        }
        CookieAction::Expire => policy.expire(),
    };
    if let Some(value) = set_cookie {
        headers.insert(header::SET_COOKIE, value);
    }
    for (name, value) in extra {
        headers.append(name, value);
    }
    response
}

/// The session as JSON. Values are spliced in as stored: the store only
/// holds valid JSON documents, so no re-encoding (which could change
/// numbers) is needed. Keys are sorted so the output is stable.
fn session_json(info: &SessionInfo, data: &HashMap<String, String>) -> String {
    let mut keys: Vec<&String> = data.keys().collect();
    keys.sort();
    let mut out = String::with_capacity(
        64 + data
            .iter()
            .map(|(k, v)| k.len() + v.len() + 4)
            .sum::<usize>(),
    );
    out.push_str("{\"data\":{");
    for (i, key) in keys.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&serde_json::Value::from(key.as_str()).to_string());
        out.push(':');
        out.push_str(data[key].trim());
    }
    out.push_str("},\"version\":");
    out.push_str(&info.version.to_string());
    out.push_str(",\"expires_at\":\"");
    out.push_str(&rfc3339(info.expires_ms));
    out.push_str("\"}");
    out
}

/// Milliseconds since the epoch in RFC 3339, UTC, millisecond precision.
pub fn rfc3339(ms: Millis) -> String {
    humantime::format_rfc3339_millis(UNIX_EPOCH + Duration::from_millis(ms)).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::SessionId;

    fn info() -> SessionInfo {
        SessionInfo {
            id: SessionId::generate(),
            version: 3,
            created_ms: 1_700_000_000_000,
            expires_ms: 1_700_000_060_000,
            idle_timeout: Duration::from_secs(60),
        }
    }

    #[test]
    fn the_session_body_is_valid_json_with_values_as_stored() {
        let data = HashMap::from([
            ("n".to_string(), " 1.50 ".to_string()),
            ("we\"ird".to_string(), "{\"a\":[true]}".to_string()),
        ]);
        let info = info();
        let text = session_json(&info, &data);
        let body: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(body["version"], 3);
        assert_eq!(body["expires_at"], "2023-11-14T22:14:20.000Z");
        assert_eq!(body["data"]["we\"ird"]["a"][0], true);
        assert!(text.contains("\"n\":1.50"), "{text}");
        assert!(!text.contains(info.id.expose()));
    }

    #[test]
    fn every_response_is_no_store_and_errors_are_json() {
        let policy = CookiePolicy {
            name: "sessionid".into(),
            secure: true,
            domain: None,
            browser_session: false,
        };
        let r = render(
            Err(ApiError::KeyNotFound),
            &CookieAction::Expire,
            &policy,
            0,
        );
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
        assert_eq!(r.headers()[header::CACHE_CONTROL], "no-store");
        assert_eq!(r.headers()[header::CONTENT_TYPE], "application/json");
        assert!(r.headers()[header::SET_COOKIE]
            .to_str()
            .unwrap()
            .contains("Max-Age=0"));
    }
}
