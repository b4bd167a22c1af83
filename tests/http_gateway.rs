//! The HTTP gateway over a real socket with a real client: every route, every
//! status, cookies, CSRF, ETags, forward-auth, gRPC interplay and shutdown.

mod common;

use std::collections::HashMap;
use std::time::Duration;

use common::http_client::{Http, Reply, JSON};
use common::{spawn_app, spawn_app_with, TestApp};
use http::{Method, StatusCode};
use serde_json::json;
use sessiond::grpc::pb;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn cookie(id: &str) -> String {
    format!("sessionid={id}")
}

/// `POST /session` with `data`; returns the issued id.
async fn create(http: &Http, data: &str) -> String {
    let reply = http.send(Method::POST, "/session", &[JSON], data).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text());
    reply.issued("sessionid").expect("a session cookie")
}

async fn get_session(http: &Http, id: &str) -> Reply {
    http.get("/session", &[("cookie", &cookie(id))]).await
}

#[tokio::test]
async fn the_django_login_flow_works_end_to_end() {
    let app = spawn_app().await;
    let http = app.http();

    // Log in: the first write creates the session and sets the cookie.
    let login = http
        .send(
            Method::PATCH,
            "/session",
            &[("content-type", "application/merge-patch+json")],
            r#"{"is_login": true, "username": "yuan"}"#,
        )
        .await;
    assert_eq!(login.status, StatusCode::CREATED);
    let id = login.issued("sessionid").expect("login sets the cookie");
    assert_eq!(
        login.json()["data"],
        json!({"is_login": true, "username": "yuan"})
    );

    // Later requests see them.
    let page = get_session(&http, &id).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.json()["data"]["is_login"], true);
    assert_eq!(page.json()["data"]["username"], "yuan");
    let name = http
        .get("/session/keys/username", &[("cookie", &cookie(&id))])
        .await;
    assert_eq!(name.text(), "\"yuan\"");

    // Log out: flushed, cookie expired, the old id is dead.
    let logout = http
        .send(
            Method::DELETE,
            "/session",
            &[JSON, ("cookie", &cookie(&id))],
            "",
        )
        .await;
    assert_eq!(logout.status, StatusCode::NO_CONTENT);
    assert!(logout.expires_cookie());
    assert!(app.store.is_empty());
    let after = get_session(&http, &id).await;
    assert_eq!(after.status, StatusCode::NOT_FOUND);
    assert_eq!(after.error(), "session_not_found");
    assert!(after.expires_cookie());
    app.stop().await.unwrap();
}

#[tokio::test]
async fn a_created_session_has_a_secure_cookie_an_etag_and_no_id_in_the_body() {
    let app = spawn_app().await;
    let reply = app
        .http()
        .send(
            Method::POST,
            "/session",
            &[JSON],
            r#"{"cart": [1, 2], "n": 1.50}"#,
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED);
    let set = reply.set_cookie().unwrap();
    let id = reply.issued("sessionid").unwrap();
    assert_eq!(id.len(), 32);
    for attr in [
        "HttpOnly",
        "SameSite=Lax",
        "Path=/",
        "Secure",
        "Max-Age=1209600",
    ] {
        assert!(set.contains(attr), "{attr} missing: {set}");
    }
    assert!(!set.contains("Domain"));
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    assert_eq!(reply.etag(), Some("\"1\""));
    assert!(!reply.text().contains(&id));
    assert!(
        reply.text().contains("\"n\":1.50"),
        "values leave as stored"
    );
    let body = reply.json();
    assert_eq!(body["version"], 1);
    assert_eq!(body["expires_at"], "2023-11-28T22:13:20.000Z");
    assert_eq!(body["data"]["cart"], json!([1, 2]));
    app.stop().await.unwrap();
}

#[tokio::test]
async fn creating_with_an_empty_body_makes_an_empty_session_and_replaces_the_old_one() {
    let app = spawn_app().await;
    let http = app.http();
    let old = create(&http, r#"{"a": 1}"#).await;
    let new = http
        .send(
            Method::POST,
            "/session",
            &[JSON, ("cookie", &cookie(&old))],
            "",
        )
        .await;
    assert_eq!(new.status, StatusCode::CREATED);
    assert_eq!(new.json()["data"], json!({}));
    assert_eq!(get_session(&http, &old).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.store.len(), 1);
    let bad = http.send(Method::POST, "/session", &[JSON], "[1, 2]").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad.error(), "invalid_body");
    app.stop().await.unwrap();
}

#[tokio::test]
async fn unknown_and_malformed_cookies_are_no_session_and_get_expired() {
    let app = spawn_app().await;
    let http = app.http();
    let none = http.get("/session", &[]).await;
    assert_eq!(none.status, StatusCode::NOT_FOUND);
    assert!(none.set_cookie().is_none(), "no cookie sent, none expired");

    for value in [
        "sessionid=abcdefghijklmnopqrstuvwxyz012345",
        "sessionid=NOT-AN-ID",
        "sessionid=",
        "sessionid=\"unterminated",
        "a=1; sessionid=../../etc/passwd; b=2",
    ] {
        let reply = http.get("/session", &[("cookie", value)]).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{value}");
        assert!(reply.expires_cookie(), "{value}");
    }
    app.stop().await.unwrap();
}

#[tokio::test]
async fn among_duplicated_cookies_the_first_live_session_wins() {
    let app = spawn_app().await;
    let http = app.http();
    let live = create(&http, r#"{"who": "live"}"#).await;
    let dead = "abcdefghijklmnopqrstuvwxyz012345";
    let headers = [(
        "cookie",
        format!("theme=dark; sessionid={dead}; sessionid=\"{live}\"; x=\"y\""),
    )];
    let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let reply = http.get("/session", &headers).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.json()["data"]["who"], "live");
    assert!(!reply.expires_cookie());

    // Split across two Cookie headers (as HTTP/2 may send them).
    let reply = http
        .get(
            "/session",
            &[("cookie", &cookie(dead)), ("cookie", &cookie(&live))],
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    app.stop().await.unwrap();
}

#[tokio::test]
async fn keys_are_read_set_and_removed_one_at_a_time() {
    let app = spawn_app().await;
    let http = app.http();
    let id = create(&http, "{}").await;
    let c = cookie(&id);
    let read = [("cookie", c.as_str())];
    let write = [JSON, ("cookie", c.as_str())];

    let put = http
        .send(Method::PUT, "/session/keys/user%20name", &write, "\"yuan\"")
        .await;
    assert_eq!(put.status, StatusCode::NO_CONTENT);
    assert_eq!(put.etag(), Some("\"2\""));
    let got = http.get("/session/keys/user%20name", &read).await;
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!(got.text(), "\"yuan\"");
    assert_eq!(got.etag(), Some("\"2\""));
    let whole = http.get("/session", &read).await;
    assert_eq!(whole.json()["data"]["user name"], "yuan");

    let del = http
        .send(Method::DELETE, "/session/keys/user%20name", &write, "")
        .await;
    assert_eq!(del.status, StatusCode::NO_CONTENT);
    assert_eq!(del.etag(), Some("\"3\""));
    let gone = http.get("/session/keys/user%20name", &read).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    assert_eq!(gone.error(), "key_not_found");

    let bad_json = http
        .send(Method::PUT, "/session/keys/k", &write, "{not json")
        .await;
    assert_eq!(bad_json.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad_json.error(), "invalid_json");
    let bad_utf8 = http.get("/session/keys/%FF", &read).await;
    assert_eq!(bad_utf8.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad_utf8.error(), "invalid_key");
    let long = format!("/session/keys/{}", "k".repeat(257));
    let too_long = http.get(&long, &read).await;
    assert_eq!(too_long.status, StatusCode::BAD_REQUEST);
    assert_eq!(too_long.error(), "invalid_key");
    let control = http.get("/session/keys/a%0Ab", &read).await;
    assert_eq!(control.error(), "invalid_key");

    let no_session = http
        .send(Method::PUT, "/session/keys/k", &[JSON], "1")
        .await;
    assert_eq!(no_session.status, StatusCode::NOT_FOUND);
    assert_eq!(no_session.error(), "session_not_found");
    app.stop().await.unwrap();
}

#[tokio::test]
async fn merge_patch_removes_with_null_and_merges_nested_objects() {
    let app = spawn_app().await;
    let http = app.http();
    let id = create(
        &http,
        r#"{"cart": {"items": [1], "coupon": "X"}, "old": 1, "keep": true}"#,
    )
    .await;
    let reply = http
        .send(
            Method::PATCH,
            "/session",
            &[JSON, ("cookie", &cookie(&id))],
            r#"{"cart": {"coupon": null, "total": 3}, "old": null, "new": "n"}"#,
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert_eq!(
        reply.json()["data"],
        json!({"cart": {"items": [1], "total": 3}, "keep": true, "new": "n"})
    );
    assert_eq!(reply.etag(), Some("\"2\""));
    assert!(reply.set_cookie().is_some(), "activity rolls the cookie");

    for bad in ["[1]", "null", "", "{\"a\":"] {
        let refused = http
            .send(
                Method::PATCH,
                "/session",
                &[JSON, ("cookie", &cookie(&id))],
                bad,
            )
            .await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{bad}");
        assert_eq!(refused.error(), "invalid_body");
    }
    app.stop().await.unwrap();
}

#[tokio::test]
async fn concurrent_nested_merges_lose_no_write() {
    let app = spawn_app().await;
    let http = app.http();
    let id = create(&http, r#"{"cart": {}}"#).await;
    let writers: Vec<_> = (0..24)
        .map(|i| {
            let http = http.clone();
            let c = cookie(&id);
            tokio::spawn(async move {
                let body = format!(r#"{{"cart": {{"item{i}": {i}}}}}"#);
                http.send(Method::PATCH, "/session", &[JSON, ("cookie", &c)], &body)
                    .await
                    .status
            })
        })
        .collect();
    for w in writers {
        assert_eq!(w.await.unwrap(), StatusCode::OK);
    }
    let cart = get_session(&http, &id).await.json()["data"]["cart"].clone();
    assert_eq!(cart.as_object().unwrap().len(), 24, "{cart}");
    app.stop().await.unwrap();
}

#[tokio::test]
async fn if_match_guards_writes_with_the_etag() {
    let app = spawn_app().await;
    let http = app.http();
    let id = create(&http, r#"{"a": 1}"#).await;
    let c = cookie(&id);
    let etag = get_session(&http, &id).await.etag().unwrap().to_owned();
    assert_eq!(etag, "\"1\"");

    let stale = http
        .send(
            Method::PATCH,
            "/session",
            &[JSON, ("cookie", &c), ("if-match", "\"7\"")],
            r#"{"a": 2}"#,
        )
        .await;
    assert_eq!(stale.status, StatusCode::PRECONDITION_FAILED);
    assert_eq!(stale.error(), "precondition_failed");
    let fresh = http
        .send(
            Method::PATCH,
            "/session",
            &[JSON, ("cookie", &c), ("if-match", &etag)],
            r#"{"a": 2}"#,
        )
        .await;
    assert_eq!(fresh.status, StatusCode::OK);
    assert_eq!(fresh.etag(), Some("\"2\""));
    let nested = http
        .send(
            Method::PATCH,
            "/session",
            &[JSON, ("cookie", &c), ("if-match", "\"1\"")],
            r#"{"o": {"x": 1}}"#,
        )
        .await;
    assert_eq!(
        nested.status,
        StatusCode::PRECONDITION_FAILED,
        "merges honour If-Match too"
    );

    let put_stale = http
        .send(
            Method::PUT,
            "/session/keys/a",
            &[JSON, ("cookie", &c), ("if-match", "\"1\"")],
            "3",
        )
        .await;
    assert_eq!(put_stale.status, StatusCode::PRECONDITION_FAILED);
    let listed = http
        .send(
            Method::PUT,
            "/session/keys/a",
            &[JSON, ("cookie", &c), ("if-match", "\"9\", \"2\"")],
            "3",
        )
        .await;
    assert_eq!(listed.status, StatusCode::NO_CONTENT);
    let any = http
        .send(
            Method::DELETE,
            "/session/keys/a",
            &[JSON, ("cookie", &c), ("if-match", "*")],
            "",
        )
        .await;
    assert_eq!(any.status, StatusCode::NO_CONTENT);
    assert_eq!(any.etag(), Some("\"4\""));

    let no_session = http
        .send(
            Method::PATCH,
            "/session",
            &[JSON, ("if-match", "\"1\"")],
            "{}",
        )
        .await;
    assert_eq!(no_session.status, StatusCode::PRECONDITION_FAILED);
    assert!(no_session.issued("sessionid").is_none(), "nothing created");
    app.stop().await.unwrap();
}

#[tokio::test]
async fn rotate_issues_a_new_cookie_and_kills_the_old_id() {
    let app = spawn_app().await;
    let http = app.http();
    let old = create(&http, r#"{"username": "yuan"}"#).await;
    let rotated = http
        .send(
            Method::POST,
            "/session/rotate",
            &[JSON, ("cookie", &cookie(&old))],
            "",
        )
        .await;
    assert_eq!(rotated.status, StatusCode::NO_CONTENT);
    assert_eq!(rotated.etag(), Some("\"2\""));
    assert_eq!(rotated.header("cache-control"), Some("no-store"));
    let new = rotated.issued("sessionid").expect("a new cookie");
    assert_ne!(new, old);
    assert_eq!(
        get_session(&http, &new).await.json()["data"]["username"],
        "yuan"
    );
    assert_eq!(get_session(&http, &old).await.status, StatusCode::NOT_FOUND);
    let without = http
        .send(Method::POST, "/session/rotate", &[JSON], "")
        .await;
    assert_eq!(without.status, StatusCode::NOT_FOUND);
    app.stop().await.unwrap();
}

#[tokio::test]
async fn logout_without_a_session_still_expires_the_cookie() {
    let app = spawn_app().await;
    let reply = app
        .http()
        .send(
            Method::DELETE,
            "/session",
            &[JSON, ("cookie", "sessionid=junk")],
            "",
        )
        .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    assert!(reply.expires_cookie());
    app.stop().await.unwrap();
}

#[tokio::test]
async fn state_changes_need_json_and_an_allowed_origin() {
    let app = spawn_app_with(|c| c.allowed_origins = vec!["https://app.example.com".into()]).await;
    let http = app.http();
    for ct in [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
    ] {
        let forged = http
            .send(Method::POST, "/session", &[("content-type", ct)], "a=1")
            .await;
        assert_eq!(forged.status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{ct}");
        assert_eq!(forged.error(), "unsupported_media_type");
    }
    let id = create(&http, "{}").await;
    let c = cookie(&id);
    for (method, path) in [
        (Method::DELETE, "/session"),
        (Method::POST, "/session/rotate"),
        (Method::DELETE, "/session/keys/a"),
    ] {
        let bare = http.send(method, path, &[("cookie", &c)], "").await;
        assert_eq!(bare.status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{path}");
    }
    let evil = http
        .send(
            Method::PATCH,
            "/session",
            &[JSON, ("cookie", &c), ("origin", "https://evil.example")],
            "{}",
        )
        .await;
    assert_eq!(evil.status, StatusCode::FORBIDDEN);
    assert_eq!(evil.error(), "forbidden_origin");
    let null = http
        .send(Method::POST, "/session", &[JSON, ("origin", "null")], "")
        .await;
    assert_eq!(null.status, StatusCode::FORBIDDEN);
    let own = http
        .send(
            Method::PATCH,
            "/session",
            &[JSON, ("cookie", &c), ("origin", &http.origin())],
            "{}",
        )
        .await;
    assert_eq!(own.status, StatusCode::OK);
    let listed = http
        .send(
            Method::PATCH,
            "/session",
            &[JSON, ("cookie", &c), ("origin", "https://app.example.com")],
            "{}",
        )
        .await;
    assert_eq!(listed.status, StatusCode::OK);
    let read = http
        .get(
            "/session",
            &[("cookie", &c), ("origin", "https://evil.example")],
        )
        .await;
    assert_eq!(read.status, StatusCode::OK, "reads are not state changes");
    assert_eq!(app.store.len(), 1, "no refused request created a session");
    app.stop().await.unwrap();
}

#[tokio::test]
async fn unknown_routes_are_404_and_wrong_methods_405_with_allow() {
    let app = spawn_app().await;
    let http = app.http();
    for path in ["/", "/session/", "/sessions", "/session/keys/a/b", "/admin"] {
        let reply = http.get(path, &[]).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(reply.error(), "not_found");
    }
    let put = http.send(Method::PUT, "/session", &[JSON], "{}").await;
    assert_eq!(put.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(put.header("allow"), Some("GET, POST, PATCH, DELETE"));
    let get = http.get("/session/rotate", &[]).await;
    assert_eq!(get.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(get.header("allow"), Some("POST"));
    let options = http.send(Method::OPTIONS, "/session", &[], "").await;
    assert_eq!(
        options.status,
        StatusCode::METHOD_NOT_ALLOWED,
        "no CORS preflight is granted"
    );
    assert!(options.header("access-control-allow-origin").is_none());
    app.stop().await.unwrap();
}

#[tokio::test]
async fn limits_map_to_413_429_and_431() {
    let app = spawn_app_with(|c| {
        c.max_body_bytes = 2048;
        c.max_value_bytes = 100;
        c.max_session_bytes = 300;
        c.max_sessions = 2;
    })
    .await;
    let http = app.http();
    let big_body = format!(r#"{{"a": "{}"}}"#, "x".repeat(4096));
    let reply = http
        .send(Method::POST, "/session", &[JSON], &big_body)
        .await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(reply.error(), "body_too_large");

    let id = create(&http, "{}").await;
    let big_value = format!(r#""{}""#, "x".repeat(200));
    let reply = http
        .send(
            Method::PUT,
            "/session/keys/v",
            &[JSON, ("cookie", &cookie(&id))],
            &big_value,
        )
        .await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(reply.error(), "too_large");
    assert!(reply.json()["message"]
        .as_str()
        .unwrap()
        .contains("max-value-bytes"));
    let many = (0..5)
        .map(|i| format!(r#""k{i}": "{}""#, "y".repeat(80)))
        .collect::<Vec<_>>();
    let reply = http
        .send(
            Method::PATCH,
            "/session",
            &[JSON, ("cookie", &cookie(&id))],
            &format!("{{{}}}", many.join(",")),
        )
        .await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(reply.json()["message"]
        .as_str()
        .unwrap()
        .contains("max-session-bytes"));

    create(&http, "{}").await;
    let full = http.send(Method::POST, "/session", &[JSON], "").await;
    assert_eq!(full.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(full.error(), "too_many_sessions");

    let huge = "h".repeat(40 * 1024);
    let reply = http.get("/session", &[("x-padding", &huge)]).await;
    assert_eq!(reply.status, StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE);
    let still = get_session(&http, &id).await;
    assert_eq!(still.status, StatusCode::OK, "the server still serves");
    app.stop().await.unwrap();
}

#[tokio::test]
async fn a_session_written_over_grpc_is_read_over_http_and_back() {
    let mut app = spawn_app().await;
    let http = app.http();
    let created = app
        .client
        .create(pb::CreateRequest {
            data: HashMap::from([("username".to_string(), "\"yuan\"".to_string())]),
            idle_timeout: None,
        })
        .await
        .unwrap()
        .into_inner()
        .session
        .unwrap();
    let read = get_session(&http, &created.id).await;
    assert_eq!(read.status, StatusCode::OK);
    assert_eq!(read.json()["data"]["username"], "yuan");

    let patched = http
        .send(
            Method::PATCH,
            "/session",
            &[JSON, ("cookie", &cookie(&created.id))],
            r#"{"is_login": true}"#,
        )
        .await;
    assert_eq!(patched.status, StatusCode::OK);
    let back = app
        .client
        .get(pb::GetRequest {
            id: created.id.clone(),
            keys: vec![],
            no_touch: true,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(back.data["is_login"], "true");
    assert_eq!(back.data["username"], "\"yuan\"");
    assert_eq!(back.session.unwrap().version, 2);
    app.stop().await.unwrap();
}

#[tokio::test]
async fn forward_auth_answers_nginx_with_session_headers_or_401() {
    let app = spawn_app_with(|c| {
        c.auth_headers = vec![
            "username".into(),
            "is_login".into(),
            "bio".into(),
            "role".into(),
        ];
    })
    .await;
    let http = app.http();
    let id = create(
        &http,
        r#"{"username": "yuan", "is_login": true, "bio": "line\r\nX-Admin: 1", "secret": "s"}"#,
    )
    .await;
    // What nginx's auth_request sends: a GET with the original cookies.
    let nginx = [
        ("cookie", cookie(&id)),
        ("x-original-uri", "/admin/".to_string()),
        ("x-original-method", "POST".to_string()),
    ];
    let nginx: Vec<(&str, &str)> = nginx.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let ok = http.get("/auth", &nginx).await;
    assert_eq!(ok.status, StatusCode::OK);
    assert_eq!(ok.header("x-session-username"), Some("yuan"));
    assert_eq!(ok.header("x-session-is-login"), Some("true"));
    assert!(
        ok.header("x-session-bio").is_none(),
        "unsafe values are not exported"
    );
    assert!(ok.header("x-admin").is_none());
    assert!(
        ok.header("x-session-secret").is_none(),
        "only configured keys"
    );
    assert!(
        ok.header("x-session-role").is_none(),
        "absent keys are absent"
    );
    assert!(ok.body.is_empty());

    // Traefik forwards the original method; no CSRF applies to /auth.
    let post = http.send(Method::POST, "/auth", &nginx, "").await;
    assert_eq!(post.status, StatusCode::OK);

    let anonymous = http.get("/auth", &[]).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    assert_eq!(anonymous.error(), "unauthorized");
    let stale = http
        .get(
            "/auth",
            &[("cookie", "sessionid=abcdefghijklmnopqrstuvwxyz012345")],
        )
        .await;
    assert_eq!(stale.status, StatusCode::UNAUTHORIZED);
    app.stop().await.unwrap();
}

#[tokio::test]
async fn sessions_expire_on_the_clock_and_the_cookie_rolls_with_activity() {
    let app = spawn_app_with(|c| c.idle_timeout = Duration::from_secs(1800)).await;
    let http = app.http();
    let id = create(&http, "{}").await;
    app.clock.advance(Duration::from_secs(20 * 60));
    let active = get_session(&http, &id).await;
    assert_eq!(active.status, StatusCode::OK);
    assert!(active.set_cookie().unwrap().contains("Max-Age=1800"));
    app.clock.advance(Duration::from_secs(29 * 60));
    assert_eq!(
        get_session(&http, &id).await.status,
        StatusCode::OK,
        "activity slid it"
    );
    app.clock.advance(Duration::from_secs(31 * 60));
    let expired = get_session(&http, &id).await;
    assert_eq!(expired.status, StatusCode::NOT_FOUND);
    assert!(expired.expires_cookie());
    app.stop().await.unwrap();
}

#[tokio::test]
async fn host_prefixed_and_browser_session_cookies_work() {
    let app = spawn_app_with(|c| {
        c.cookie_name = "__Host-sid".into();
        c.cookie_browser_session = true;
    })
    .await;
    let http = app.http();
    let created = http
        .send(Method::POST, "/session", &[JSON], r#"{"a": 1}"#)
        .await;
    let set = created.set_cookie().unwrap();
    assert!(set.starts_with("__Host-sid="));
    assert!(set.contains("Secure") && set.contains("Path=/") && !set.contains("Domain"));
    assert!(!set.contains("Max-Age"), "{set}");
    let id = created.issued("__Host-sid").unwrap();
    let read = http
        .get("/session", &[("cookie", &format!("__Host-sid={id}"))])
        .await;
    assert_eq!(read.status, StatusCode::OK);
    assert!(
        read.set_cookie().is_none(),
        "browser-session cookies need no rolling"
    );
    let other = http.get("/session", &[("cookie", &cookie(&id))]).await;
    assert_eq!(
        other.status,
        StatusCode::NOT_FOUND,
        "only the configured name counts"
    );
    app.stop().await.unwrap();
}

#[tokio::test]
async fn h2c_clients_are_served_the_same_routes() {
    let app = spawn_app().await;
    let h2 = Http::h2c(app.http_addr);
    let created = h2
        .send(Method::POST, "/session", &[JSON], r#"{"a": 1}"#)
        .await;
    assert_eq!(created.status, StatusCode::CREATED);
    let id = created.issued("sessionid").unwrap();
    let read = h2.get("/session", &[("cookie", &cookie(&id))]).await;
    assert_eq!(read.json()["data"]["a"], 1);
    let own = h2
        .send(
            Method::PATCH,
            "/session",
            &[JSON, ("cookie", &cookie(&id)), ("origin", &h2.origin())],
            "{}",
        )
        .await;
    assert_eq!(
        own.status,
        StatusCode::OK,
        "the own origin is known over HTTP/2 too"
    );
    app.stop().await.unwrap();
}

#[tokio::test]
async fn requests_while_draining_get_503() {
    let app = spawn_app().await;
    app.lifecycle.start_draining();
    let reply = app.http().get("/session", &[]).await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(reply.error(), "unavailable");
    app.stop().await.unwrap();
}

/// Writes `head` and `part` of a body on a raw connection.
async fn raw_start(app: &TestApp, head: &str, part: &[u8]) -> TcpStream {
    let mut stream = TcpStream::connect(app.http_addr).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(part).await.unwrap();
    stream
}

#[tokio::test]
async fn shutdown_lets_an_in_flight_request_finish_then_stops_accepting() {
    let app = spawn_app().await;
    let id = create(&app.http(), "{}").await;
    let head = format!(
        "PUT /session/keys/k HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n\
         cookie: sessionid={id}\r\ncontent-length: 8\r\n\r\n"
    );
    let mut stream = raw_start(&app, &head, b"\"hal").await;
    // The request is in its handler, waiting for the rest of its body.
    let store = app.store.clone();
    let lifecycle = app.lifecycle.clone();
    let addr = app.http_addr;
    let stopping = tokio::spawn(app.stop());
    tokio::time::timeout(Duration::from_secs(5), async {
        while !lifecycle.is_draining() {
            tokio::task::yield_now().await;
        }
    })
    .await
    .expect("draining starts");
    stream.write_all(b"ves\"").await.unwrap();
    let mut response = String::new();
    tokio::time::timeout(Duration::from_secs(5), stream.read_to_string(&mut response))
        .await
        .expect("the in-flight request finishes")
        .unwrap();
    assert!(response.starts_with("HTTP/1.1 204"), "{response}");
    stopping.await.unwrap().unwrap();
    assert_eq!(
        store
            .get(
                &sessiond::session::SessionId::parse(&id).unwrap(),
                &["k".into()],
                false
            )
            .unwrap()
            .1["k"],
        "\"halves\""
    );
    assert!(
        TcpStream::connect(addr).await.is_err(),
        "no longer accepting"
    );
}

#[tokio::test]
async fn a_silent_or_slow_client_is_cut_off_after_the_read_timeout() {
    let app = spawn_app_with(|c| c.http_read_timeout = Duration::from_millis(200)).await;
    // Connects and says nothing.
    let mut silent = TcpStream::connect(app.http_addr).await.unwrap();
    let mut buf = Vec::new();
    let n = tokio::time::timeout(Duration::from_secs(5), silent.read_to_end(&mut buf))
        .await
        .expect("the server closes a silent connection");
    assert_eq!(n.unwrap_or(0), 0);

    // Sends half a body and stalls: 408.
    let head = "POST /session HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n";
    let mut slow = raw_start(&app, head, b"{\"a\":").await;
    let mut response = String::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), slow.read_to_string(&mut response))
        .await
        .expect("the server answers a stalled body");
    assert!(response.starts_with("HTTP/1.1 408"), "{response}");
    assert!(app.store.is_empty());
    app.stop().await.unwrap();
}

#[test]
fn the_binary_reads_gateway_settings_from_flags_and_environment() {
    let bin = env!("CARGO_BIN_EXE_sessiond");
    let help = std::process::Command::new(bin)
        .arg("--help")
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    for name in [
        "--http-addr",
        "SESSIOND_HTTP_ADDR",
        "--cookie-name",
        "--cookie-secure",
        "SESSIOND_COOKIE_DOMAIN",
        "--cookie-browser-session",
        "--allowed-origins",
        "--auth-headers",
        "--max-body-bytes",
    ] {
        assert!(help.contains(name), "{name} missing from --help");
    }
    // SESSIOND_COOKIE_SECURE=false is read: a __Host- name then is refused.
    let refused = std::process::Command::new(bin)
        .env("SESSIOND_COOKIE_SECURE", "false")
        .args([
            "--cookie-name",
            "__Host-sid",
            "--grpc-addr",
            "127.0.0.1:0",
            "--http-addr",
            "127.0.0.1:0",
        ])
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("__Host-") && stderr.lines().count() == 1,
        "{stderr}"
    );
}
