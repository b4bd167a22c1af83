//! Gateway request bodies: the initial data of `POST /session` and the
//! JSON Merge Patch of `PATCH /session`, on any bytes. Whatever they accept
//! becomes only valid JSON values under the keys the body named, exactly as
//! serde_json reads the body as an object; and the merge of an object into
//! a stored value is RFC 7396's, checked against a second, iterative
//! statement of it (every path the patch sets is set, every `null` path is
//! gone, every other path of the target is kept).
#![no_main]

use std::collections::HashMap;

use libfuzzer_sys::fuzz_target;
use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use sessiond::gateway::fuzzing::{data_object, merge, MergePatch};
use sessiond::session::{validate_value, Limits};

/// Whether the store would take `text` as a value (size aside).
fn is_json(text: &str) -> bool {
    let limits = Limits {
        max_value_bytes: usize::MAX,
        ..Limits::default()
    };
    validate_value("k", text, &limits).is_ok()
}

/// Every member of a JSON object as written, duplicates included.
struct Pairs(Vec<(String, Box<RawValue>)>);

impl<'de> Deserialize<'de> for Pairs {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Members;
        impl<'de> Visitor<'de> for Members {
            type Value = Pairs;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Pairs, A::Error> {
                let mut pairs = Vec::new();
                while let Some(pair) = map.next_entry()? {
                    pairs.push(pair);
                }
                Ok(Pairs(pairs))
            }
        }
        deserializer.deserialize_map(Members)
    }
}

/// serde_json refuses the whole body as a `Value`, yet the gateway took it
/// apart: fine only when one of the members as written is a value the
/// store refuses (a number no f64 holds, a lone surrogate; perhaps under a
/// key a later duplicate replaces), or when the nesting is too deep only
/// counted from the body, not from the value.
fn refused_as_a_whole(err: &serde_json::Error, body: &[u8]) -> bool {
    let bad_member = match serde_json::from_slice::<Pairs>(body) {
        Ok(Pairs(pairs)) => pairs.iter().any(|(_, v)| !is_json(v.get())),
        Err(_) => false,
    };
    err.to_string().contains("recursion limit") || bad_member
}

/// Equal as JSON values, numbers within a few ULPs: the merged value is
/// written and read again, and serde_json (without `float_roundtrip`)
/// may read a float back one ULP off.
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) if x.is_f64() || y.is_f64() => {
            let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
            x == y || (x - y).abs() <= 1e-14 * x.abs().max(y.abs())
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

/// RFC 7396 as a check on the result rather than a construction.
fn check_merge(target: Option<&Value>, patch: &Value, result: &Value) {
    let Value::Object(members) = patch else {
        assert!(
            same(result, patch),
            "a non-object patch replaces: {result} {patch}"
        );
        return;
    };
    let Value::Object(out) = result else {
        panic!("an object patch gives an object: {result}");
    };
    let empty = Map::new();
    let before = match target {
        Some(Value::Object(map)) => map,
        _ => &empty,
    };
    for (name, value) in before {
        if !members.contains_key(name) {
            let kept = out.get(name).is_some_and(|v| same(v, value));
            assert!(kept, "{name} kept: {value} {:?}", out.get(name));
        }
    }
    for (name, value) in members {
        if value.is_null() {
            assert!(!out.contains_key(name), "{name} removed");
        } else {
            let got = out.get(name).expect("a patched member is there");
            check_merge(before.get(name), value, got);
        }
    }
    for name in out.keys() {
        assert!(
            before.contains_key(name) || members.contains_key(name),
            "{name} came from nowhere"
        );
    }
}

fuzz_target!(|data: &[u8]| {
    // body 0xFF stored-value: 0xFF never occurs in UTF-8, so it separates.
    let mut parts = data.splitn(2, |&b| b == 0xff);
    let body = parts.next().unwrap_or_default();
    let stored = parts.next().and_then(|s| std::str::from_utf8(s).ok());

    let as_object = serde_json::from_slice::<Map<String, Value>>(body);
    match data_object(body) {
        Ok(members) => match &as_object {
            Err(e) => assert!(
                refused_as_a_whole(e, body),
                "accepted what is not an object: {e}"
            ),
            Ok(object) => {
                let keys: Vec<_> = members.keys().collect();
                assert_eq!(members.len(), object.len(), "{keys:?}");
                for (key, text) in &members {
                    assert!(is_json(text), "{key}: {text:?}");
                    let value: Value = serde_json::from_str(text).unwrap();
                    assert_eq!(Some(&value), object.get(key), "{key}");
                }
            }
        },
        Err(_) => assert!(as_object.is_err(), "refused an object: {as_object:?}"),
    }

    let Ok(patch) = MergePatch::parse(body) else {
        return;
    };
    let object = match as_object {
        Ok(object) => object,
        Err(e) => {
            let refused = refused_as_a_whole(&e, body);
            return assert!(refused, "a patch from a non-object: {e}");
        }
    };
    let current: HashMap<String, String> = match stored {
        Some(text) if is_json(text) => patch
            .keys_to_read()
            .into_iter()
            .map(|k| (k, text.to_owned()))
            .collect(),
        _ => HashMap::new(),
    };
    let update = patch.update(&current, Some(7));
    assert_eq!(update.expected_version, Some(7));
    for key in &update.remove {
        assert_eq!(
            object.get(key),
            Some(&Value::Null),
            "{key} removed by null only"
        );
        assert!(!update.upsert.contains_key(key));
    }
    for (key, text) in &update.upsert {
        assert!(is_json(text), "{key}: {text:?}");
        let sent = object.get(key).expect("upserts only keys the patch names");
        let value: Value = serde_json::from_str(text).unwrap();
        if sent.is_object() {
            let target = current
                .get(key)
                .map(|t| serde_json::from_str::<Value>(t).unwrap());
            check_merge(target.as_ref(), sent, &value);
            assert!(same(&value, &merge(target, sent)));
        } else {
            assert_eq!(&value, sent, "{key} replaced as sent");
        }
    }
    assert_eq!(
        update.upsert.len() + update.remove.len(),
        object.len(),
        "every member of the patch does something"
    );
});
