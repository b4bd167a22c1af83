//! What a handler answers, and how it becomes a response: JSON bodies,
//! `ETag`, the cookie, `Cache-Control: no-store`, and errors.

use std::fmt::Write as _;
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

    /// The whole session: `{"data": {...}, "version": n, "expires_at": "..."}`,
    /// from its (key, JSON value) pairs.
    pub fn session<'a>(
        status: StatusCode,
        info: &SessionInfo,
        data: impl Iterator<Item = (&'a str, &'a str)>,
    ) -> Self {
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
    let has_body = body.is_some();
    let mut response = Response::new(Full::new(body.map(Bytes::from).unwrap_or_default()));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    // Room for every header below at once, instead of growing the map as
    // they arrive.
    headers.reserve(6 + extra.len());
    if has_body {
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
fn session_json<'a>(info: &SessionInfo, data: impl Iterator<Item = (&'a str, &'a str)>) -> String {
    let mut members: Vec<(&str, &str)> = data.collect();
    members.sort_unstable_by_key(|(key, _)| *key);
    let bytes: usize = members.iter().map(|(k, v)| k.len() + v.len() + 4).sum();
    let mut out = String::with_capacity(64 + bytes);
    out.push_str("{\"data\":{");
    for (i, (key, value)) in members.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_json_string(&mut out, key);
        out.push(':');
        out.push_str(value.trim());
    }
    out.push_str("},\"version\":");
    out.push_str(itoa::Buffer::new().format(info.version));
    out.push_str(",\"expires_at\":\"");
    // Written in place: `fmt::Write` for `String` cannot fail.
    let _ = write!(out, "{}", rfc3339(info.expires_ms));
    out.push_str("\"}");
    out
}

/// Appends `text` as a JSON string, escaped exactly as `serde_json` escapes
/// it. Session keys rarely need escaping, so those that do not are copied
/// as they are instead of going through an allocated `serde_json` string;
/// serde_json escapes only `"`, `\` and control characters below U+0020.
fn push_json_string(out: &mut String, text: &str) {
    if text.bytes().any(|b| b == b'"' || b == b'\\' || b < 0x20) {
        out.push_str(&serde_json::Value::from(text).to_string());
    } else {
        out.push('"');
        out.push_str(text);
        out.push('"');
    }
}

/// Milliseconds since the epoch in RFC 3339, UTC, millisecond precision:
/// a `Display`, so that it is written into the body in place.
fn rfc3339(ms: Millis) -> humantime::Rfc3339Timestamp {
    humantime::format_rfc3339_millis(UNIX_EPOCH + Duration::from_millis(ms))
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, HashMap};

    use serde_json::value::RawValue;

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
        let data = [("n", " 1.50 "), ("we\"ird", "{\"a\":[true]}")];
        let info = info();
        let text = session_json(&info, data.into_iter());
        let body: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(body["version"], 3);
        assert_eq!(body["expires_at"], "2023-11-14T22:14:20.000Z");
        assert_eq!(body["data"]["we\"ird"]["a"][0], true);
        assert!(text.contains("\"n\":1.50"), "{text}");
        assert!(!text.contains(info.id.expose()));
    }

    /// The body as serde_json writes it: keys sorted and escaped, values
    /// as stored (trimmed).
    fn serde_json_body(info: &SessionInfo, data: &[(&str, &str)]) -> String {
        let data: BTreeMap<&str, Box<RawValue>> = data
            .iter()
            .map(|(k, v)| (*k, RawValue::from_string(v.trim().to_owned()).unwrap()))
            .collect();
        let data = serde_json::to_string(&data).unwrap();
        let expires = rfc3339(info.expires_ms);
        format!(
            r#"{{"data":{data},"version":{},"expires_at":"{expires}"}}"#,
            info.version
        )
    }

    #[test]
    fn the_session_body_is_the_same_bytes_in_whatever_order_the_pairs_come() {
        let info = info();
        let tricky = [
            ("we\"ird", "{\"a\": [true]}"),
            ("tab\tnew\nline", " 1.50 "),
            ("café ☕", "\"☕\""),
            ("\u{1}\u{1f}\u{7f}", "null"),
            ("</script>", "\"<\\/x>\""),
            ("back\\slash", "false"),
            ("Z", "[]"),
            ("a", "0"),
        ];
        let mut sorted = tricky;
        sorted.sort_unstable();
        let mut reversed = sorted;
        reversed.reverse();
        let expected = serde_json_body(&info, &tricky);
        for pairs in [&tricky[..], &sorted, &reversed, &tricky[..1], &[]] {
            let expected = serde_json_body(&info, pairs);
            assert_eq!(session_json(&info, pairs.iter().copied()), expected);
        }
        assert_eq!(
            session_json(&info, sorted[..3].iter().copied()),
            "{\"data\":{\"\\u0001\\u001f\u{7f}\":null,\"</script>\":\"<\\/x>\",\"Z\":[]},\
             \"version\":3,\"expires_at\":\"2023-11-14T22:14:20.000Z\"}"
        );
        // As `POST /session` passes them: from a map.
        let map: HashMap<String, String> = tricky
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let from_map = map.iter().map(|(k, v)| (k.as_str(), v.as_str()));
        assert_eq!(session_json(&info, from_map), expected);
    }

    #[test]
    fn keys_are_escaped_exactly_as_serde_json_escapes_them() {
        for key in [
            "user",
            "café ☕",
            "we\"ird",
            "back\\slash",
            "tab\tnew\nline",
            "\u{1}\u{1f}\u{7f}",
            "</script>",
            "",
        ] {
            let mut out = String::new();
            push_json_string(&mut out, key);
            assert_eq!(out, serde_json::to_string(key).unwrap(), "{key:?}");
        }
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
