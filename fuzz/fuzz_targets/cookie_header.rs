//! The gateway's Cookie header reader against the `cookie` crate it
//! follows: for any set of `Cookie` headers, the session ids it takes are
//! exactly the well-formed ones `Cookie::split_parse` finds under the name
//! (first seen first, no duplicates, at most 8), and it says a cookie of
//! that name was sent exactly when the crate finds one.
#![no_main]

use cookie::Cookie;
use http::{header, HeaderMap, HeaderValue};
use libfuzzer_sys::fuzz_target;
use sessiond::gateway::fuzzing::presented;
use sessiond::session::SessionId;

fuzz_target!(|data: &[u8]| {
    // The first byte picks the cookie name; headers are split at 0x00
    // (which no header value may hold), as HTTP/2 splits Cookie.
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let name = ["sessionid", "__Host-sid", "a", "s s"][usize::from(pick % 4)];
    let mut headers = HeaderMap::new();
    for part in rest.split(|&b| b == 0) {
        if let Ok(value) = HeaderValue::from_bytes(part) {
            headers.append(header::COOKIE, value);
        }
    }

    let found = presented(&headers, name);

    let mut ids: Vec<SessionId> = Vec::new();
    let mut any = false;
    for value in headers.get_all(header::COOKIE) {
        let Ok(text) = std::str::from_utf8(value.as_bytes()) else {
            continue;
        };
        for cookie in Cookie::split_parse(text).flatten() {
            if cookie.name() != name {
                continue;
            }
            any = true;
            if let Ok(id) = SessionId::parse(cookie.value_trimmed()) {
                if ids.len() < 8 && !ids.contains(&id) {
                    ids.push(id);
                }
            }
        }
    }
    assert_eq!(found.any, any, "whether our cookie was sent: {headers:?}");
    assert_eq!(found.ids, ids, "the candidate ids: {headers:?}");
});
