//! Per-value and per-key validation: a value is accepted exactly when it is
//! within the size limit and serde_json reads it as one document (a
//! `Value`, which the validator avoids building); what is accepted is
//! stored as sent, so once re-serialized it is accepted too. A key is
//! accepted exactly when it is non-empty, short enough and has no control
//! character.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sessiond::session::{validate_key, validate_value, Limits};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let limits = Limits {
        max_value_bytes: 4096,
        max_key_bytes: 16,
        ..Limits::default()
    };

    let accepted = validate_value("k", text, &limits).is_ok();
    let parsed = serde_json::from_str::<serde_json::Value>(text);
    let fits = text.len() <= limits.max_value_bytes;
    assert_eq!(
        accepted,
        fits && parsed.is_ok(),
        "value {text:?}: {parsed:?}"
    );
    if let Ok(value) = parsed {
        let again = value.to_string();
        if again.len() <= limits.max_value_bytes {
            assert!(validate_value("k", &again, &limits).is_ok(), "{again:?}");
        }
    }

    let key_ok = !text.is_empty() && text.len() <= 16 && !text.chars().any(char::is_control);
    assert_eq!(validate_key(text, &limits).is_ok(), key_ok, "key {text:?}");
});
