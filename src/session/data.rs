//! Keys and JSON values: validated at the edge of the store.

use std::fmt;

use serde::de::{Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

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

/// Checks one upserted value: within the value limit and a JSON document
/// that JSON readers can hold (see [`Document`]). The text is stored as
/// given, so it leaves exactly as it came.
pub fn validate_value(key: &str, value: &str, limits: &Limits) -> Result<(), SessionError> {
    if value.len() > limits.max_value_bytes {
        return Err(SessionError::limit(
            Limit::ValueBytes,
            format!("value of key {key:?} ({} bytes)", value.len()),
            limits.max_value_bytes,
        ));
    }
    serde_json::from_str::<Document>(value).map_err(|e| SessionError::InvalidJson {
        key: key.to_owned(),
        reason: e.to_string(),
    })?;
    Ok(())
}

/// A JSON document read without building it, through `deserialize_any`
/// rather than `IgnoredAny`: serde_json skips an ignored value without
/// reading its numbers or counting its depth, so `1e400` or arrays nested
/// 30,000 deep would be stored, and then every reader of them fails
/// (`serde_json::Value` in the gateway's merge patch, which then took the
/// value for absent and replaced it whole; Python's `json` past its
/// recursion limit). Visited, a number must fit an `f64` and nesting must
/// stay under serde_json's limit of 128 levels: exactly what `Value` reads.
struct Document;

impl<'de> Deserialize<'de> for Document {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(Document)
    }
}

impl<'de> Visitor<'de> for Document {
    type Value = Document;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON document")
    }

    fn visit_bool<E>(self, _: bool) -> Result<Document, E> {
        Ok(Document)
    }

    fn visit_i64<E>(self, _: i64) -> Result<Document, E> {
        Ok(Document)
    }

    fn visit_u64<E>(self, _: u64) -> Result<Document, E> {
        Ok(Document)
    }

    fn visit_f64<E>(self, _: f64) -> Result<Document, E> {
        Ok(Document)
    }

    fn visit_str<E>(self, _: &str) -> Result<Document, E> {
        Ok(Document)
    }

    fn visit_unit<E>(self) -> Result<Document, E> {
        Ok(Document)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Document, A::Error> {
        while seq.next_element::<Document>()?.is_some() {}
        Ok(Document)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Document, A::Error> {
        while map.next_entry::<IgnoredAny, Document>()?.is_some() {}
        Ok(Document)
    }
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

    /// Found by the `json_value` and `gateway_body` fuzz targets
    /// (RELIABILITY.md): what `serde_json::Value` cannot read.
    #[test]
    fn a_number_no_f64_holds_or_a_lone_surrogate_is_rejected() {
        let limits = Limits::default();
        for v in ["3E222222", "1e400", "{\"a\":[-1e999]}", "\"\\ud800\""] {
            let err = validate_value("n", v, &limits).unwrap_err();
            assert!(matches!(err, SessionError::InvalidJson { .. }), "{v}");
        }
        for v in ["1e308", "1e-400", "123456789012345678901234567890", "-0"] {
            assert!(validate_value("n", v, &limits).is_ok(), "{v}");
        }
    }

    /// Found by the `json_value` fuzz target (RELIABILITY.md).
    #[test]
    fn nesting_is_accepted_as_deep_as_serde_json_value_reads_it() {
        let limits = Limits::default();
        for depth in [1, 100, 127, 128, 200, 30_000] {
            let v = "[".repeat(depth) + &"]".repeat(depth);
            let o = "{\"a\":".repeat(depth) + "1" + &"}".repeat(depth);
            for doc in [v, o] {
                let as_value = serde_json::from_str::<serde_json::Value>(&doc).is_ok();
                assert_eq!(
                    validate_value("k", &doc, &limits).is_ok(),
                    as_value,
                    "depth {depth}"
                );
                assert_eq!(as_value, depth < 128, "depth {depth}");
            }
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
