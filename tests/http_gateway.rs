//! The HTTP gateway over a real socket with a real client: the session
//! routes and their semantics (merge patch, ETags, rotation, expiry, gRPC
//! interplay). The edges (cookies, CSRF, limits, forward-auth, transport,
//! shutdown) are in `http_edges.rs`.

mod common;

use std::collections::HashMap;
use std::time::Duration;

use common::http_client::{cookie, create, get_session, JSON};
use common::{spawn_app, spawn_app_with};
use http::{Method, StatusCode};
use serde_json::json;
use sessiond::grpc::pb;

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
async fn a_session_written_over_grpc_is_read_over_http_and_back() {
    let mut app = spawn_app().await;
    let http = app.http();
    let created = app
        .client
        .create(pb::CreateRequest {
            data: HashMap::from([("username".to_string(), "\"yuan\"".to_string())]),
            idle_timeout: None,
            user: None,
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
async fn sessions_expire_on_the_clock_and_the_cookie_rolls_with_activity() {
    let app = spawn_app_with(|c| c.sessions.idle_timeout = Duration::from_secs(1800)).await;
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
