//! Cross-site request forgery defence for state-changing requests.
//!
//! Two checks, both cheap and both things a cross-site page cannot get past
//! without a CORS preflight that the gateway never grants:
//! - `Origin`, when present, must be the gateway's own host or one of
//!   `--allowed-origins` (403 otherwise);
//! - `Content-Type` must be JSON (`application/json` or
//!   `application/merge-patch+json`), which an HTML form cannot send (415
//!   otherwise). This holds for body-less requests too (`DELETE`,
//!   `POST /session/rotate`): one rule, easy to state and to follow.

use http::request::Parts;
use http::{header, HeaderMap};

use super::error::ApiError;
use crate::config::normalize_origin;

/// Media types a state-changing request may carry.
const JSON_TYPES: [&str; 2] = ["application/json", "application/merge-patch+json"];

/// Refuses a state-changing request that could have been forged.
pub fn check(parts: &Parts, allowed_origins: &[String]) -> Result<(), ApiError> {
    if let Some(origin) = parts.headers.get(header::ORIGIN) {
        let origin = origin.to_str().map_err(|_| ApiError::ForbiddenOrigin)?;
        if !origin_allowed(origin, own_authority(parts), allowed_origins) {
            return Err(ApiError::ForbiddenOrigin);
        }
    }
    if !is_json(&parts.headers) {
        return Err(ApiError::UnsupportedMediaType);
    }
    Ok(())
}

/// Whether the body is declared as JSON; parameters such as `charset` are
/// allowed.
fn is_json(headers: &HeaderMap) -> bool {
    let Some(value) = headers.get(header::CONTENT_TYPE) else {
        return false;
    };
    let Ok(value) = value.to_str() else {
        return false;
    };
    let essence = value.split(';').next().unwrap_or("").trim();
    JSON_TYPES.iter().any(|t| essence.eq_ignore_ascii_case(t))
}

/// The host the client addressed: `:authority` over HTTP/2, `Host` over
/// HTTP/1.1.
fn own_authority(parts: &Parts) -> Option<&str> {
    parts
        .uri
        .authority()
        .map(|a| a.as_str())
        .or_else(|| parts.headers.get(header::HOST)?.to_str().ok())
}

/// `origin` is allowed when it names the host the request was sent to (the
/// page is the gateway's own site) or is listed in `allowed`. `null`
/// (sandboxed frames, some redirects) and anything unparsable never are.
fn origin_allowed(origin: &str, own: Option<&str>, allowed: &[String]) -> bool {
    let Some(origin) = normalize_origin(origin) else {
        return false;
    };
    if allowed.contains(&origin) {
        return true;
    }
    let Some(own) = own else {
        return false;
    };
    let (scheme, origin_authority) = origin.split_once("://").unwrap_or(("", ""));
    // Browsers omit the scheme's default port from Origin; a proxy may
    // still put it in Host.
    let default_port = if scheme == "https" { ":443" } else { ":80" };
    let own = own.to_ascii_lowercase();
    let own = own.strip_suffix(default_port).unwrap_or(&own);
    own == origin_authority
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::Request;

    fn parts(headers: &[(&str, &str)]) -> Parts {
        let mut req = Request::post("/session");
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        req.body(()).unwrap().into_parts().0
    }

    #[test]
    fn json_content_types_pass_and_others_are_unsupported() {
        for ct in [
            "application/json",
            "Application/JSON; charset=utf-8",
            "application/merge-patch+json",
        ] {
            assert!(check(&parts(&[("content-type", ct)]), &[]).is_ok(), "{ct}");
        }
        for ct in [
            "text/plain",
            "application/x-www-form-urlencoded",
            "multipart/form-data",
            "application/jsonx",
        ] {
            let err = check(&parts(&[("content-type", ct)]), &[]).unwrap_err();
            assert!(matches!(err, ApiError::UnsupportedMediaType), "{ct}");
        }
        let err = check(&parts(&[]), &[]).unwrap_err();
        assert!(matches!(err, ApiError::UnsupportedMediaType));
    }

    #[test]
    fn the_own_host_is_the_only_default_origin() {
        let own = Some("app.example.com");
        assert!(origin_allowed("https://app.example.com", own, &[]));
        assert!(origin_allowed("http://APP.example.com", own, &[]));
        assert!(!origin_allowed("https://evil.example", own, &[]));
        assert!(!origin_allowed("https://app.example.com:8443", own, &[]));
        assert!(!origin_allowed("null", own, &[]));
        assert!(!origin_allowed("https://app.example.com", None, &[]));
        let with_port = Some("127.0.0.1:8080");
        assert!(origin_allowed("http://127.0.0.1:8080", with_port, &[]));
        assert!(!origin_allowed("http://127.0.0.1:8081", with_port, &[]));
        assert!(origin_allowed(
            "https://a.example",
            Some("a.example:443"),
            &[]
        ));
    }

    #[test]
    fn configured_origins_are_allowed_too() {
        let allowed = vec!["https://admin.example.com".to_string()];
        assert!(origin_allowed(
            "https://admin.example.com/",
            Some("api.example.com"),
            &allowed
        ));
        assert!(!origin_allowed(
            "http://admin.example.com",
            Some("api.example.com"),
            &allowed
        ));
    }

    #[test]
    fn a_foreign_origin_is_refused_before_the_content_type_is_looked_at() {
        let p = parts(&[
            ("host", "app.example.com"),
            ("origin", "https://evil.example"),
            ("content-type", "application/json"),
        ]);
        assert!(matches!(check(&p, &[]), Err(ApiError::ForbiddenOrigin)));
    }
}
