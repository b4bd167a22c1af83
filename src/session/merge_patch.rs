//! JSON Merge Patch (RFC 7396) over session data.
//!
//! A session is a map of keys to JSON documents, so a patch is split by
//! what each top-level member asks: `null` removes the key, an object
//! merges into the key's current value (so that value must be read first,
//! and the write is guarded by the version read), anything else replaces
//! the value. Replaced values are stored exactly as sent.
//!
//! Part of the domain, not of the gateway: storage applies a patch as one
//! operation (`storage::Storage::merge`), under the session's guard in
//! memory, so a merge never races another writer.

use std::collections::HashMap;

use serde_json::value::RawValue;
use serde_json::{Map, Value};

use super::Update;

/// Why a body is not a merge patch of session data; the gateway answers 400.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidPatch(pub String);

/// A parsed merge patch, ready to become an [`Update`]. `Clone`, so a
/// backend across the network can own it in its operation's future.
#[derive(Debug, Default, Clone)]
pub struct MergePatch {
    /// Keys whose value is replaced, with the JSON text as sent.
    replace: HashMap<String, String>,
    /// Keys removed by a `null`.
    remove: Vec<String>,
    /// Keys whose current value an object patch merges into.
    merge: Vec<(String, Value)>,
}

impl MergePatch {
    /// Parses a request body. A merge patch of session data must be a JSON
    /// object: any other document would replace the whole session with
    /// something that is not a map.
    pub fn parse(body: &[u8]) -> Result<Self, InvalidPatch> {
        let members: HashMap<String, Box<RawValue>> = serde_json::from_slice(body)
            .map_err(|e| InvalidPatch(format!("a merge patch must be a JSON object: {e}")))?;
        let mut patch = MergePatch::default();
        for (key, raw) in members {
            let text = raw.get();
            if text == "null" {
                patch.remove.push(key);
            } else if text.starts_with('{') {
                let value = serde_json::from_str(text)
                    .map_err(|e| InvalidPatch(format!("merge patch of key {key:?}: {e}")))?;
                patch.merge.push((key, value));
            } else {
                patch.replace.insert(key, text.to_owned());
            }
        }
        Ok(patch)
    }

    /// Keys whose current values [`MergePatch::update`] needs.
    pub fn keys_to_read(&self) -> Vec<String> {
        self.merge.iter().map(|(k, _)| k.clone()).collect()
    }

    /// The store update that applies this patch to a session whose merged
    /// keys currently hold `current`.
    pub fn update(
        &self,
        current: &HashMap<String, String>,
        expected_version: Option<u64>,
    ) -> Update {
        self.update_with(|key| current.get(key).map(String::as_str), expected_version)
    }

    /// [`Self::update`], with the merged keys' current JSON texts found by
    /// `current`: a backend looks them up where it holds them, under the
    /// session's guard, instead of copying them out first.
    pub fn update_with<'a>(
        &self,
        current: impl Fn(&str) -> Option<&'a str>,
        expected_version: Option<u64>,
    ) -> Update {
        let mut upsert = self.replace.clone();
        for (key, patch) in &self.merge {
            let target = current(key).and_then(|text| serde_json::from_str::<Value>(text).ok());
            upsert.insert(key.clone(), merge(target, patch).to_string());
        }
        Update {
            upsert,
            remove: self.remove.clone(),
            expected_version,
        }
    }

    /// The data of a session that this patch creates from nothing.
    pub fn initial_data(&self) -> HashMap<String, String> {
        self.update(&HashMap::new(), None).upsert
    }
}

/// RFC 7396 `MergePatch(Target, Patch)`, section 2: a non-object patch
/// replaces the target; an object patch merges member by member, `null`
/// removing a member.
pub fn merge(target: Option<Value>, patch: &Value) -> Value {
    let Value::Object(members) = patch else {
        return patch.clone();
    };
    let mut target = match target {
        Some(Value::Object(map)) => map,
        _ => Map::new(),
    };
    for (name, value) in members {
        if value.is_null() {
            target.remove(name);
        } else {
            let current = target.remove(name);
            target.insert(name.clone(), merge(current, value));
        }
    }
    Value::Object(target)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The examples of RFC 7396, appendix A.
    #[test]
    fn the_rfc_examples_hold() {
        let cases = [
            (json!({"a":"b"}), json!({"a":"c"}), json!({"a":"c"})),
            (json!({"a":"b"}), json!({"b":"c"}), json!({"a":"b","b":"c"})),
            (json!({"a":"b"}), json!({"a":null}), json!({})),
            (
                json!({"a":"b","b":"c"}),
                json!({"a":null}),
                json!({"b":"c"}),
            ),
            (json!({"a":["b"]}), json!({"a":"c"}), json!({"a":"c"})),
            (json!({"a":"c"}), json!({"a":["b"]}), json!({"a":["b"]})),
            (
                json!({"a":{"b":"c"}}),
                json!({"a":{"b":"d","c":null}}),
                json!({"a":{"b":"d"}}),
            ),
            (json!({"a":[{"b":"c"}]}), json!({"a":[1]}), json!({"a":[1]})),
            (json!(["a", "b"]), json!(["c", "d"]), json!(["c", "d"])),
            (json!({"a":"b"}), json!(["c"]), json!(["c"])),
            (json!({"a":"foo"}), json!(null), json!(null)),
            (json!({"a":"foo"}), json!("bar"), json!("bar")),
            (json!({"e":null}), json!({"a":1}), json!({"e":null,"a":1})),
            (json!([1, 2]), json!({"a":"b","c":null}), json!({"a":"b"})),
            (
                json!({}),
                json!({"a":{"bb":{"ccc":null}}}),
                json!({"a":{"bb":{}}}),
            ),
        ];
        for (target, patch, expected) in cases {
            assert_eq!(
                merge(Some(target.clone()), &patch),
                expected,
                "{target} + {patch}"
            );
        }
    }

    #[test]
    fn a_patch_splits_into_replacements_removals_and_merges() {
        let patch =
            MergePatch::parse(br#"{"username":"yuan","cart":{"items":[1]},"old":null,"n":1.50}"#)
                .unwrap();
        assert_eq!(patch.keys_to_read(), vec!["cart".to_string()]);
        let current = HashMap::from([(
            "cart".to_string(),
            r#"{"coupon":"X","items":[]}"#.to_string(),
        )]);
        let update = patch.update(&current, Some(7));
        assert_eq!(update.upsert["username"], "\"yuan\"");
        assert_eq!(
            update.upsert["n"], "1.50",
            "replaced values stay exactly as sent"
        );
        let cart: Value = serde_json::from_str(&update.upsert["cart"]).unwrap();
        assert_eq!(cart, json!({"coupon":"X","items":[1]}));
        assert_eq!(update.remove, vec!["old".to_string()]);
        assert_eq!(update.expected_version, Some(7));
    }

    #[test]
    fn creating_from_a_patch_drops_nulls_at_every_depth() {
        let patch = MergePatch::parse(br#"{"a":null,"b":{"c":null,"d":2}}"#).unwrap();
        let data = patch.initial_data();
        assert_eq!(data.len(), 1);
        assert_eq!(data["b"], r#"{"d":2}"#);
    }

    #[test]
    fn a_patch_that_is_not_an_object_is_refused() {
        for body in [&b"[1]"[..], b"null", b"\"x\"", b"", b"{", b"{\"a\":}"] {
            assert!(MergePatch::parse(body).is_err());
        }
    }
}
