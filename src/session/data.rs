//! Keys and JSON values: validated at the edge of the store.

use super::{Limit, Limits, SessionError};

/// Checks a key: non-empty UTF-8 (guaranteed by `&str`) of bounded length,
/// without control characters, which have no business in a key and would
/// make logs and headers ambiguous.
pub fn validate_key(key: &str, limits: &Limits) -> Result<(), SessionError> {
    if key.is_empty() {
        return Err(SessionError::InvalidKey("keys must not be empty".into()));
    }
    if key.len() > limits.max_key_bytes {
        return Err(SessionError::InvalidKey(format!(
            "key of {} bytes is longer than {} bytes",
            key.len(),
            limits.max_key_bytes
        )));
    }
    if key.chars().any(char::is_control) {
        return Err(SessionError::InvalidKey(
            "keys must not contain control characters".into(),
        ));
    }
    Ok(())
}

/// Checks one upserted value: within the value limit and a JSON document.
/// The text is stored as given, so it leaves exactly as it came.
pub fn validate_value(key: &str, value: &str, limits: &Limits) -> Result<(), SessionError> {
    if value.len() > limits.max_value_bytes {
        return Err(SessionError::limit(
            Limit::ValueBytes,
            format!("value of key {key:?} ({} bytes)", value.len()),
            limits.max_value_bytes,
        ));
    }
    serde_json::from_str::<serde::de::IgnoredAny>(value).map_err(|e| {
        SessionError::InvalidJson {
            key: key.to_owned(),
            reason: e.to_string(),
        }
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_documents_of_every_kind_are_accepted() {
        let limits = Limits::default();
        for v in [
            "\"yuan\"",
            "true",
            "null",
            "12.5",
            "{\"cart\":[1,2]}",
            " [ ] ",
        ] {
            assert!(validate_value("k", v, &limits).is_ok(), "{v}");
        }
    }

    #[test]
    fn non_json_is_rejected_with_the_key_named() {
        let limits = Limits::default();
        for v in ["", "yuan", "{", "[1,]", "1 2", "'x'"] {
            let err = validate_value("name", v, &limits).unwrap_err();
            assert!(matches!(err, SessionError::InvalidJson { ref key, .. } if key == "name"));
        }
    }

    #[test]
    fn keys_are_bounded_and_printable() {
        let limits = Limits::default();
        assert!(validate_key("username", &limits).is_ok());
        assert!(validate_key(&"k".repeat(256), &limits).is_ok());
        assert!(validate_key(&"k".repeat(257), &limits).is_err());
        assert!(validate_key("", &limits).is_err());
        assert!(validate_key("a\nb", &limits).is_err());
    }

    #[test]
    fn oversized_values_name_the_limit() {
        let limits = Limits {
            max_value_bytes: 4,
            ..Limits::default()
        };
        let err = validate_value("k", "12345", &limits).unwrap_err();
        assert!(err.to_string().contains("max-value-bytes"), "{err}");
    }
}
