//! Request bodies: read within the size limit and the read timeout, then
//! parsed as the JSON each route expects.

use std::collections::HashMap;
use std::time::Duration;

use bytes::Bytes;
use http::request::Parts;
use http::{header, HeaderMap};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use hyper::body::Body;
use serde_json::value::RawValue;

use super::error::ApiError;

/// Reads the whole body: 413 past `max` bytes (before reading anything when
/// `Content-Length` already says so), 408 when it trickles in slower than
/// `timeout`, 400 when the connection breaks mid-body.
pub async fn read<B>(
    parts: &Parts,
    body: B,
    max: usize,
    timeout: Duration,
) -> Result<Bytes, ApiError>
where
    B: Body,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    if declared(&parts.headers).is_some_and(|n| n > max as u64) {
        return Err(ApiError::BodyTooLarge { max });
    }
    // Most requests (every GET) have no body: answer without arming a
    // timer and collecting nothing.
    if body.is_end_stream() {
        return Ok(Bytes::new());
    }
    // Boxed: a timer and a collector would otherwise make the future of
    // every request larger, and futures are moved whole, also for the many
    // requests that never get here.
    Box::pin(collect(body, max, timeout)).await
}

/// Whether a request has no body at all: none arrives and none is
/// declared (a `Content-Length` above 0 that never comes is still refused
/// by [`read`]).
pub fn absent<B: Body>(headers: &HeaderMap, body: &B) -> bool {
    body.is_end_stream() && declared(headers).is_none_or(|n| n == 0)
}

/// The body's length as `Content-Length` gives it, if it does.
fn declared(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok())
}

/// The reading itself, with the errors [`read`] promises.
async fn collect<B>(body: B, max: usize, timeout: Duration) -> Result<Bytes, ApiError>
where
    B: Body,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    match tokio::time::timeout(timeout, Limited::new(body, max).collect()).await {
        Err(_) => Err(ApiError::BodyTimeout),
        Ok(Ok(collected)) => Ok(collected.to_bytes()),
        Ok(Err(e)) if e.is::<LengthLimitError>() => Err(ApiError::BodyTooLarge { max }),
        Ok(Err(_)) => Err(ApiError::InvalidBody(
            "the request body could not be read".into(),
        )),
    }
}

/// Whether a body carries nothing (absent, or whitespace only).
pub fn is_empty(body: &[u8]) -> bool {
    body.iter().all(u8::is_ascii_whitespace)
}

/// A JSON object of initial data: key -> JSON text, each value exactly as
/// sent.
pub fn data_object(body: &[u8]) -> Result<HashMap<String, String>, ApiError> {
    let members: HashMap<String, Box<RawValue>> = serde_json::from_slice(body).map_err(|e| {
        ApiError::InvalidBody(format!(
            "the body must be a JSON object of session data: {e}"
        ))
    })?;
    Ok(members
        .into_iter()
        .map(|(k, v)| (k, String::from(Box::<str>::from(v))))
        .collect())
}

/// One JSON document (for `PUT /session/keys/{key}`), as UTF-8 text. The
/// store checks that it is JSON, so the message names the key.
pub fn utf8(body: Bytes) -> Result<String, ApiError> {
    String::from_utf8(body.to_vec())
        .map_err(|_| ApiError::InvalidBody("the body must be a JSON document in UTF-8".into()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::Full;

    fn parts(content_length: Option<&str>) -> Parts {
        let mut req = http::Request::post("/session");
        if let Some(n) = content_length {
            req = req.header("content-length", n);
        }
        req.body(()).unwrap().into_parts().0
    }

    #[tokio::test]
    async fn a_body_within_the_limit_is_read_whole() {
        let body = Full::new(Bytes::from_static(b"{\"a\":1}"));
        let read = read(&parts(None), body, 16, Duration::from_secs(1))
            .await
            .unwrap();
        assert_eq!(&read[..], b"{\"a\":1}");
    }

    #[tokio::test]
    async fn a_body_over_the_limit_is_too_large_declared_or_not() {
        let body = || Full::new(Bytes::from(vec![b' '; 17]));
        let err = read(&parts(None), body(), 16, Duration::from_secs(1))
            .await
            .unwrap_err();
        assert!(matches!(err, ApiError::BodyTooLarge { max: 16 }));
        let err = read(&parts(Some("1000000")), body(), 16, Duration::from_secs(1))
            .await
            .unwrap_err();
        assert!(matches!(err, ApiError::BodyTooLarge { max: 16 }));
    }

    #[test]
    fn initial_data_keeps_values_exactly_as_sent() {
        let data = data_object(br#"{"n": 1.50, "s": "x", "o": {"a" : 1}}"#).unwrap();
        assert_eq!(data["n"], "1.50");
        assert_eq!(data["s"], "\"x\"");
        assert_eq!(data["o"], "{\"a\" : 1}");
        assert!(data_object(b"[1,2]").is_err());
        assert!(is_empty(b" \r\n"));
    }
}
