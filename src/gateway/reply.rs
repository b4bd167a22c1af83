//! What a handler answers, and how it becomes a response: JSON bodies,
//! `ETag`, the cookie, `Cache-Control: no-store`, and errors.

use bytes::Bytes;
use http::{header, HeaderName, HeaderValue, Response, StatusCode};
use http_body_util::Full;

use super::cookie::CookiePolicy;
use super::error::ApiError;
use super::etag::etag;
use crate::clock::Millis;
use crate::session::SessionInfo;

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
        data: impl Iterator<Item = (&'a str, &'a str)> + Clone,
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

    /// A JSON document about no one session (no `ETag`).
    pub fn json(status: StatusCode, body: String) -> Self {
        Reply {
            body: Some(body),
            ..Reply::empty(status)
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
/// numbers) is needed. Keys are sorted so the output is stable; the store
/// keeps them sorted, so they are written as they come, and only data in
/// another order is collected and sorted (after a first try that stops at
/// the first key out of order).
fn session_json<'a>(
    info: &SessionInfo,
    data: impl Iterator<Item = (&'a str, &'a str)> + Clone,
) -> String {
    let mut out = String::with_capacity(256);
    out.push_str("{\"data\":{");
    let members_at = out.len();
    if !push_members(&mut out, data.clone(), true) {
        out.truncate(members_at);
        let mut members: Vec<(&str, &str)> = data.collect();
        members.sort_unstable_by_key(|(key, _)| *key);
        push_members(&mut out, members.into_iter(), false);
    }
    out.push_str("},\"version\":");
    out.push_str(itoa::Buffer::new().format(info.version));
    out.push_str(",\"expires_at\":\"");
    push_rfc3339(&mut out, info.expires_ms);
    out.push_str("\"}");
    out
}

/// Appends `"key":value` pairs, comma-separated, in the order given. With
/// `sorted_only`, stops and returns false at the first key not greater
/// than the one before it.
fn push_members<'a>(
    out: &mut String,
    members: impl Iterator<Item = (&'a str, &'a str)>,
    sorted_only: bool,
) -> bool {
    let mut last: Option<&str> = None;
    for (key, value) in members {
        if let Some(last) = last {
            if sorted_only && key <= last {
                return false;
            }
            out.push(',');
        }
        last = Some(key);
        push_json_string(out, key);
        out.push(':');
        out.push_str(value.trim());
    }
    true
}

/// Appends `text` as a JSON string, escaped exactly as `serde_json` escapes
/// it. Session keys rarely need escaping, so those that do not are copied
/// as they are instead of going through an allocated `serde_json` string;
/// serde_json escapes only `"`, `\` and control characters below U+0020.
pub(super) fn push_json_string(out: &mut String, text: &str) {
    if text.bytes().any(|b| b == b'"' || b == b'\\' || b < 0x20) {
        out.push_str(&serde_json::Value::from(text).to_string());
    } else {
        out.push('"');
        out.push_str(text);
        out.push('"');
    }
}

/// The latest instant [`push_rfc3339`] writes: 9999-12-31T23:59:59.999Z,
/// the last one a four-digit year can name.
const RFC3339_MAX_MS: Millis = 253_402_300_799_999;

/// Appends milliseconds since the epoch in RFC 3339, UTC, millisecond
/// precision (`2023-11-14T22:13:20.000Z`), as `humantime`'s
/// `format_rfc3339_millis` writes it (a test compares the two), without a
/// formatter: every `GET /session` writes one. Instants past the year 9999
/// (which no deadline reaches on a sane clock) are written as its last
/// millisecond, where humantime writes nothing.
pub(super) fn push_rfc3339(out: &mut String, ms: Millis) {
    let ms = ms.min(RFC3339_MAX_MS);
    let (days, ms_of_day) = (ms / 86_400_000, ms % 86_400_000);
    let (year, month, day) = civil_from_days(days);
    let mut text = *b"0000-00-00T00:00:00.000Z";
    let mut put = |at: usize, width: usize, mut n: u64| {
        for i in (at..at + width).rev() {
            text[i] = b'0' + (n % 10) as u8;
            n /= 10;
        }
    };
    put(0, 4, year);
    put(5, 2, month);
    put(8, 2, day);
    put(11, 2, ms_of_day / 3_600_000);
    put(14, 2, ms_of_day / 60_000 % 60);
    put(17, 2, ms_of_day / 1000 % 60);
    put(20, 3, ms_of_day % 1000);
    // Digits and punctuation only, so always UTF-8.
    if let Ok(text) = std::str::from_utf8(&text) {
        out.push_str(text);
    }
}

/// (year, month, day) of the proleptic Gregorian calendar, `days` after
/// 1970-01-01: Howard Hinnant's `civil_from_days`, for days on or after
/// the epoch. Eras are 400-year cycles starting on 0000-03-01, so that the
/// leap day ends each year of the cycle.
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468; // days since 0000-03-01
    let era = z / 146_097;
    let day_of_era = z % 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153; // March is 0
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    };
    let year = era * 400 + year_of_era + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, HashMap};
    use std::time::{Duration, UNIX_EPOCH};

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
        let expires = humantime_rfc3339(info.expires_ms);
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

    fn humantime_rfc3339(ms: Millis) -> String {
        humantime::format_rfc3339_millis(UNIX_EPOCH + Duration::from_millis(ms)).to_string()
    }

    fn rfc3339(ms: Millis) -> String {
        let mut out = String::new();
        push_rfc3339(&mut out, ms);
        out
    }

    #[test]
    fn rfc3339_is_written_as_humantime_writes_it() {
        const DAY: Millis = 86_400_000;
        let mut instants = vec![0, 1, 999, 1000, DAY - 1, DAY, RFC3339_MAX_MS];
        // Around every leap day and year end from 1970 to 2500, and the
        // centuries that are (2000, 2400) and are not (2100, 2200) leap.
        for year in 1970..=2500u64 {
            for (month, day) in [(1, 1), (2, 28), (2, 29), (3, 1), (12, 31)] {
                if let Some(date) = days_from_civil(year, month, day) {
                    for delta in [0, 1, DAY - 1] {
                        instants.push(date * DAY + delta);
                    }
                }
            }
        }
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..20_000 {
            // xorshift: spread over the whole range a four-digit year covers.
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            instants.push(x % (RFC3339_MAX_MS + 1));
        }
        for ms in instants {
            assert_eq!(rfc3339(ms), humantime_rfc3339(ms), "{ms} ms");
        }
        assert_eq!(rfc3339(1_700_000_060_000), "2023-11-14T22:14:20.000Z");
        assert_eq!(rfc3339(951_782_400_000), "2000-02-29T00:00:00.000Z");
        assert_eq!(rfc3339(4_107_542_399_999), "2100-02-28T23:59:59.999Z");
        assert_eq!(rfc3339(4_107_542_400_000), "2100-03-01T00:00:00.000Z");
    }

    #[test]
    fn rfc3339_past_the_year_9999_is_its_last_millisecond() {
        assert_eq!(rfc3339(RFC3339_MAX_MS), "9999-12-31T23:59:59.999Z");
        assert_eq!(rfc3339(RFC3339_MAX_MS + 1), "9999-12-31T23:59:59.999Z");
        assert_eq!(rfc3339(u64::MAX), "9999-12-31T23:59:59.999Z");
    }

    /// Days from 1970-01-01 to a date, if the date exists: the reference
    /// the tests build instants from, by counting, independent of
    /// `civil_from_days`.
    fn days_from_civil(year: u64, month: u64, day: u64) -> Option<u64> {
        let leap =
            |y: u64| y.is_multiple_of(4) && (!y.is_multiple_of(100) || y.is_multiple_of(400));
        let lengths = [
            31,
            if leap(year) { 29 } else { 28 },
            31,
            30,
            31,
            30,
            31,
            31,
            30,
            31,
            30,
            31,
        ];
        if day > lengths[(month - 1) as usize] {
            return None;
        }
        let years: u64 = (1970..year).map(|y| if leap(y) { 366 } else { 365 }).sum();
        let months: u64 = lengths[..(month - 1) as usize].iter().sum();
        Some(years + months + day - 1)
    }

    #[test]
    fn data_out_of_order_is_written_sorted() {
        let info = info();
        let pairs = [("b", "2"), ("a", "1"), ("c", "3")];
        let text = session_json(&info, pairs.iter().copied());
        assert!(
            text.starts_with("{\"data\":{\"a\":1,\"b\":2,\"c\":3},"),
            "{text}"
        );
        // Out of order only at the end: what was written first is undone.
        let pairs = [("a", "1"), ("c", "3"), ("b", "2")];
        assert_eq!(session_json(&info, pairs.iter().copied()), text);
    }
}
