//! A seeded fuzz run against the gateway: a few hundred malformed requests,
//! through a real client and as raw bytes on the socket. No answer may be a
//! 5xx, nothing may panic, and the server must still serve afterwards.
//! The seed makes a failure reproducible; count and time are bounded.

mod common;

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::http_client::{Http, JSON};
use common::{spawn_app_with, TestApp};
use http::{HeaderName, HeaderValue, Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::task::JoinSet;

const SEED: u64 = 0x5e55_10d0;
const CLIENT_CASES: usize = 300;
const RAW_CASES: usize = 200;
/// Raw connections in flight at once: stalled ones wait out the read timeout.
const RAW_BATCH: usize = 25;
const MAX_BODY_BYTES: usize = 64 * 1024;

/// Panics anywhere in the process during the run, the server's included.
static PANICS: AtomicUsize = AtomicUsize::new(0);

fn count_panics() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        PANICS.fetch_add(1, Ordering::SeqCst);
        default(info);
    }));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_malformed_requests_never_get_a_5xx_or_crash_the_server() {
    count_panics();
    let app = spawn_app_with(|c| {
        c.gateway.http_read_timeout = Duration::from_millis(500);
        c.gateway.max_body_bytes = MAX_BODY_BYTES;
        c.gateway.auth_headers = vec!["username".into(), "role".into()];
    })
    .await;
    let http = app.http();
    let live = http
        .send(
            Method::POST,
            "/session",
            &[JSON],
            r#"{"username": "yuan", "cart": {"a": 1}}"#,
        )
        .await
        .issued("sessionid")
        .unwrap();
    let mut rng = StdRng::seed_from_u64(SEED);

    tokio::time::timeout(Duration::from_secs(120), async {
        client_cases(&app, &live, &mut rng).await;
        raw_cases(&app, &mut rng).await;
    })
    .await
    .expect("the fuzz run finishes in bounded time");

    // Still serving, and the session created first is intact.
    let read = http
        .get("/session", &[("cookie", &format!("sessionid={live}"))])
        .await;
    assert!(read.status == StatusCode::OK || read.status == StatusCode::NOT_FOUND);
    let fresh = http
        .send(Method::POST, "/session", &[JSON], r#"{"ok": true}"#)
        .await;
    assert_eq!(fresh.status, StatusCode::CREATED);
    assert_eq!(PANICS.load(Ordering::SeqCst), 0, "something panicked");
    app.stop().await.unwrap();
}

/// Well-framed HTTP with random methods, paths, headers and bodies.
async fn client_cases(app: &TestApp, live: &str, rng: &mut StdRng) {
    let mut seen = BTreeSet::new();
    let clients = [
        Client::builder(TokioExecutor::new()).build_http(),
        Client::builder(TokioExecutor::new())
            .http2_only(true)
            .build_http(),
    ];
    for case in 0..CLIENT_CASES {
        let method = random_method(rng);
        let path = random_path(rng);
        let mut request = Request::builder()
            .method(method.clone())
            .uri(format!("http://{}{}", app.http_addr, path));
        for _ in 0..rng.random_range(0..6) {
            let (name, value) = random_header(rng, live, app);
            request = request.header(name, value);
        }
        let body = random_body(rng);
        let oversized = body.len() > MAX_BODY_BYTES;
        let Ok(request) = request.body(Full::new(bytes::Bytes::from(body))) else {
            continue;
        };
        let client = &clients[case % 2];
        let response = match client.request(request).await {
            Ok(response) => response,
            // Refused with 413 before it was all sent: the server may close
            // while the client still writes, which the client sees as an error.
            Err(_) if oversized => continue,
            Err(e) => panic!("case {case} ({method} {path}): no answer: {e:?}"),
        };
        let status = response.status();
        let _ = response.into_body().collect().await;
        assert!(
            !status.is_server_error(),
            "case {case}: {method} {path} got {status}"
        );
        seen.insert(status.as_u16());
    }
    // The run reached the handlers, not only the front door.
    for expected in [200, 400, 404, 405, 415] {
        assert!(seen.contains(&expected), "no {expected} in {seen:?}");
    }
}

/// Raw bytes: garbage, mutated requests, broken framing, h2 junk.
async fn raw_cases(app: &TestApp, rng: &mut StdRng) {
    let mut answered = 0;
    let cases: Vec<Vec<u8>> = (0..RAW_CASES).map(|_| random_raw(rng)).collect();
    for batch in cases.chunks(RAW_BATCH) {
        let mut set = JoinSet::new();
        for bytes in batch.iter().cloned() {
            let addr = app.http_addr;
            set.spawn(async move {
                let mut stream = TcpStream::connect(addr).await.expect("still accepting");
                let _ = stream.write_all(&bytes).await;
                let first = first_line(&mut stream).await;
                (bytes, first)
            });
        }
        while let Some(done) = set.join_next().await {
            let (bytes, first) = done.unwrap();
            if let Some(code) = first.strip_prefix("HTTP/1.1 ").and_then(|l| l.get(..3)) {
                let code: u16 = code.parse().unwrap();
                answered += 1;
                assert!(
                    code < 500,
                    "{code} for raw bytes {:?}",
                    String::from_utf8_lossy(&bytes[..bytes.len().min(200)])
                );
            }
        }
    }
    assert!(
        answered > RAW_CASES / 4,
        "only {answered} raw cases got an answer"
    );
}

/// The status line, if the server sends one before closing or going quiet.
async fn first_line(stream: &mut TcpStream) -> String {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 512];
    let read = tokio::time::timeout(Duration::from_secs(3), async {
        while !buf.windows(2).any(|w| w == b"\r\n") {
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => break,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
    })
    .await;
    assert!(
        read.is_ok(),
        "the server neither answered nor closed in time"
    );
    String::from_utf8_lossy(&buf)
        .lines()
        .next()
        .unwrap_or("")
        .to_owned()
}

fn random_method(rng: &mut StdRng) -> Method {
    let names = [
        "GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD", "TRACE", "BREW", "X-Y",
    ];
    Method::from_bytes(names.choose(rng).unwrap().as_bytes()).unwrap()
}

fn random_path(rng: &mut StdRng) -> String {
    let mut path = match rng.random_range(0..8) {
        0 => "/session".to_string(),
        1 => "/session/rotate".to_string(),
        2 => "/auth".to_string(),
        3 | 4 => format!("/session/keys/{}", random_segment(rng)),
        5 => format!("/{}/{}", random_segment(rng), random_segment(rng)),
        6 => format!("/session/keys/{}", "k".repeat(rng.random_range(200..2000))),
        _ => "/session/keys/%zz%".to_string(),
    };
    if rng.random_bool(0.2) {
        path.push_str(&format!("?{}", random_segment(rng)));
    }
    path
}

/// A path segment of unreserved characters and percent-escapes of random
/// bytes (invalid UTF-8, control characters, `/`).
fn random_segment(rng: &mut StdRng) -> String {
    let plain = b"abcXYZ019-._~!$&'()*+,;=:@";
    (0..rng.random_range(0..24))
        .map(|_| {
            if rng.random_bool(0.4) {
                format!("%{:02X}", rng.random::<u8>())
            } else {
                char::from(*plain.choose(rng).unwrap()).to_string()
            }
        })
        .collect()
}

fn random_header(rng: &mut StdRng, live: &str, app: &TestApp) -> (HeaderName, HeaderValue) {
    let own = Http::new(app.http_addr).origin();
    let (name, value): (&str, String) = match rng.random_range(0..9) {
        0 => ("cookie", format!("sessionid={live}")),
        1 => ("cookie", random_cookie(rng, live)),
        2 => (
            "content-type",
            [
                "application/json",
                "application/merge-patch+json",
                "text/plain",
                "application/json; charset=\"x",
                "",
            ]
            .choose(rng)
            .unwrap()
            .to_string(),
        ),
        3 => (
            "origin",
            [
                own.as_str(),
                "null",
                "https://evil.example",
                "http://",
                "::::",
                "http://[::1",
            ]
            .choose(rng)
            .unwrap()
            .to_string(),
        ),
        4 => (
            "if-match",
            [
                "\"1\"",
                "*",
                "W/\"2\"",
                "\"99999999999999999999999\"",
                ",,,",
                "\"",
                "\"2\", \"x\"",
            ]
            .choose(rng)
            .unwrap()
            .to_string(),
        ),
        5 => ("host", random_printable(rng, 30)),
        6 => ("x-forwarded-for", random_printable(rng, 64)),
        7 => ("accept", random_printable(rng, 200)),
        _ => ("x-fuzz", random_printable(rng, 100)),
    };
    let value = HeaderValue::from_str(&value).unwrap_or(HeaderValue::from_static("x"));
    (HeaderName::from_static(name), value)
}

fn random_cookie(rng: &mut StdRng, live: &str) -> String {
    let pieces = [
        format!("sessionid=\"{live}\""),
        "sessionid=".to_string(),
        "sessionid=abcdefghijklmnopqrstuvwxyz012345".to_string(),
        format!("sessionid={}", random_printable(rng, 40)),
        ";;;".to_string(),
        "=".to_string(),
        "a=\"b".to_string(),
        random_printable(rng, 50),
    ];
    (0..rng.random_range(1..40))
        .map(|_| pieces.choose(rng).unwrap().clone())
        .collect::<Vec<_>>()
        .join("; ")
}

/// Printable ASCII: what a header value may carry.
fn random_printable(rng: &mut StdRng, max: usize) -> String {
    (0..rng.random_range(0..max))
        .map(|_| char::from(rng.random_range(b' '..=b'~')))
        .collect()
}

fn random_body(rng: &mut StdRng) -> Vec<u8> {
    match rng.random_range(0..10) {
        0 => Vec::new(),
        1 => br#"{"username": "x", "cart": {"a": null, "b": [1]}, "gone": null}"#.to_vec(),
        2 => "[".repeat(rng.random_range(100..20_000)).into_bytes(),
        3 => format!("{}1{}", "{\"a\":".repeat(200), "}".repeat(200)).into_bytes(),
        4 => (0..rng.random_range(0..512))
            .map(|_| rng.random())
            .collect(),
        5 => b"1e999999".to_vec(),
        6 => format!("\"{}\"", "x".repeat(rng.random_range(0..100_000))).into_bytes(),
        7 => br#"{"\ud800": "\udfff", "": 1}"#.to_vec(),
        8 => br#"{"a": 1, "a": null, "b": {"c": {"d": {}}}}"#.to_vec(),
        _ => random_printable(rng, 300).into_bytes(),
    }
}

fn random_raw(rng: &mut StdRng) -> Vec<u8> {
    let valid = b"PATCH /session HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 9\r\n\r\n{\"a\": 1}\n";
    match rng.random_range(0..8) {
        0 => (0..rng.random_range(1..2048)).map(|_| rng.random()).collect(),
        1 | 2 => {
            let mut bytes = valid.to_vec();
            for _ in 0..rng.random_range(1..6) {
                let at = rng.random_range(0..bytes.len());
                match rng.random_range(0..3) {
                    0 => bytes[at] = rng.random(),
                    1 => bytes.insert(at, rng.random()),
                    _ => {
                        bytes.remove(at);
                    }
                }
            }
            bytes
        }
        3 => b"POST /session HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n".to_vec(),
        4 => b"POST /session HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 2\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n".to_vec(),
        5 => {
            let mut head = b"GET /session HTTP/1.1\r\nhost: x\r\n".to_vec();
            for i in 0..rng.random_range(50..400) {
                head.extend_from_slice(format!("x-h{i}: {}\r\n", "v".repeat(300)).as_bytes());
            }
            head.extend_from_slice(b"\r\n");
            head
        }
        6 => {
            let mut h2 = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec();
            h2.extend((0..rng.random_range(0..512)).map(|_| rng.random::<u8>()));
            h2
        }
        _ => format!(
            "{} {} HTTP/1.{}\r\nhost: {}\r\n\r\n",
            ["GET", "DELETE", "\0", "G E T", "CONNECT"].choose(rng).unwrap(),
            ["/session", "*", "http://x/auth", "//", "/\u{7f}"].choose(rng).unwrap(),
            rng.random_range(0..3),
            random_printable(rng, 20)
        )
        .into_bytes(),
    }
}
