//! Forward-auth (`GET /auth`): session data exported as `X-Session-<Key>`
//! headers for nginx `auth_request`, Traefik ForwardAuth and the like.
//!
//! A header value must not let a session value smuggle a header or a
//! response into the proxy, so only values that are printable ASCII, within
//! a length bound, are exported; any other value is left out (and the key,
//! never the value, is logged).

use std::collections::HashMap;

use http::{HeaderName, HeaderValue};
use serde_json::Value;

/// Longest exported value. Proxies commonly cap a header line at 4-8 KiB.
pub const MAX_VALUE_BYTES: usize = 1024;

/// One exported key and the header it becomes.
#[derive(Debug, Clone)]
pub struct AuthHeader {
    pub key: String,
    pub name: HeaderName,
}

/// Header names for `keys` (already checked by `Config::validate` to be
/// header-safe): `is_login` becomes `x-session-is-login`.
pub fn auth_headers(keys: &[String]) -> Vec<AuthHeader> {
    keys.iter()
        .filter(|key| !key.is_empty())
        .filter_map(|key| {
            let name = format!("x-session-{}", key.to_ascii_lowercase().replace('_', "-"));
            let name = HeaderName::try_from(name).ok()?;
            Some(AuthHeader {
                key: key.clone(),
                name,
            })
        })
        .collect()
}

/// The headers for a session whose exported keys hold `data`.
pub fn headers(
    exported: &[AuthHeader],
    data: &HashMap<String, String>,
) -> Vec<(HeaderName, HeaderValue)> {
    exported
        .iter()
        .filter_map(|h| {
            let json = data.get(&h.key)?;
            match header_value(json) {
                Some(value) => Some((h.name.clone(), value)),
                None => {
                    tracing::debug!(key = %h.key, "session value not exported: not header-safe");
                    None
                }
            }
        })
        .collect()
}

/// A JSON value as a header: strings without their quotes, anything else as
/// compact JSON. `None` unless the result is printable ASCII (space
/// included, no control characters) of at most [`MAX_VALUE_BYTES`].
pub fn header_value(json: &str) -> Option<HeaderValue> {
    let text = match serde_json::from_str::<Value>(json).ok()? {
        Value::String(s) => s,
        other => other.to_string(),
    };
    let safe = text.len() <= MAX_VALUE_BYTES && text.bytes().all(|b| (b' '..=b'~').contains(&b));
    if !safe {
        return None;
    }
    HeaderValue::from_str(text.trim()).ok()
}

/// Whether a JSON value counts as set for `--auth-require`: anything but
/// `null`, `false`, `0`, `""`, `[]` and `{}`.
pub fn truthy(json: &str) -> bool {
    match serde_json::from_str::<Value>(json) {
        Ok(Value::Null) | Err(_) => false,
        Ok(Value::Bool(b)) => b,
        Ok(Value::Number(n)) => n.as_f64() != Some(0.0),
        Ok(Value::String(s)) => !s.is_empty(),
        Ok(Value::Array(a)) => !a.is_empty(),
        Ok(Value::Object(o)) => !o.is_empty(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truthiness_follows_what_a_login_flag_means() {
        for yes in ["true", "1", "\"yuan\"", "[0]", "{\"a\":1}"] {
            assert!(truthy(yes), "{yes}");
        }
        for no in ["false", "null", "0", "0.0", "\"\"", "[]", "{}", "not json"] {
            assert!(!truthy(no), "{no}");
        }
    }

    #[test]
    fn keys_become_x_session_headers() {
        let h = auth_headers(&["username".into(), "is_login".into()]);
        assert_eq!(h[0].name.as_str(), "x-session-username");
        assert_eq!(h[1].name.as_str(), "x-session-is-login");
    }

    #[test]
    fn strings_lose_their_quotes_and_other_values_are_compact_json() {
        assert_eq!(header_value("\"yuan\"").unwrap(), "yuan");
        assert_eq!(header_value("true").unwrap(), "true");
        assert_eq!(
            header_value("{ \"a\" : [1, 2] }").unwrap(),
            r#"{"a":[1,2]}"#
        );
    }

    #[test]
    fn values_that_could_split_a_header_are_not_exported() {
        for bad in [
            r#""a\r\nSet-Cookie: x=1""#,
            r#""a\nb""#,
            r#""tab\there""#,
            r#""nul\u0000""#,
            r#""del\u007f""#,
            r#""José""#,
        ] {
            assert!(header_value(bad).is_none(), "{bad} exported");
        }
        let long = format!("\"{}\"", "x".repeat(MAX_VALUE_BYTES + 1));
        assert!(header_value(&long).is_none());
        let fits = format!("\"{}\"", "x".repeat(MAX_VALUE_BYTES));
        assert!(header_value(&fits).is_some());
    }

    #[test]
    fn only_present_and_safe_keys_are_exported() {
        let exported = auth_headers(&["username".into(), "role".into(), "bio".into()]);
        let data = HashMap::from([
            ("username".to_string(), "\"yuan\"".to_string()),
            ("bio".to_string(), "\"line\\nbreak\"".to_string()),
        ]);
        let out = headers(&exported, &data);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].0.as_str(), "x-session-username");
        assert_eq!(out[0].1, "yuan");
    }
}
