//! Gateway micro-benchmark (issue 7, row 3): what `GET /session` costs in
//! the gateway itself, without hyper or a socket: the request as hyper
//! hands it over (a cookie, a few usual headers, the peer address), to the
//! response hyper would encode. The hello-world's handler costs nothing by
//! comparison, so this is the part of row 3's gap the gateway owns.
//!
//! `cargo bench --bench gateway`; under `cargo test --all-targets`
//! criterion runs it once, as a test.

use std::hint::black_box;

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use http::{header, Method, Request, StatusCode};
use http_body_util::Full;
use sessiond::clock::Clock;
use sessiond::config::Config;
use sessiond::gateway::{Gateway, PeerAddr};
use sessiond::lifecycle::Lifecycle;
use sessiond::metrics::Metrics;
use sessiond::storage::memory::Memory;
use sessiond::storage::Storage;

/// The server's allocator, as in the binary.
#[global_allocator]
static ALLOCATOR: sessiond::alloc::MiMalloc = sessiond::alloc::MiMalloc;

fn get_session(c: &mut Criterion) {
    let config = Config::defaults();
    let store = Storage::new(Memory::new(
        config.sessions.limits(),
        config.sessions.timeouts(),
        Clock::system(),
    ));
    let gateway = Gateway::new(store, Lifecycle::default(), Metrics::new(), &config);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    let body = format!(r#"{{"user": "{}"}}"#, "x".repeat(90));
    let created = runtime.block_on(
        gateway.handle(
            Request::post("/session")
                .header(header::CONTENT_TYPE, "application/json")
                .body(Full::new(Bytes::from(body)))
                .unwrap(),
        ),
    );
    let set_cookie = created.headers()[header::SET_COOKIE].to_str().unwrap();
    let cookie = set_cookie.split(';').next().unwrap().to_owned();
    let peer = PeerAddr("127.0.0.1:40000".parse().unwrap());
    let request = || {
        let mut request = Request::builder()
            .method(Method::GET)
            .uri("/session")
            .header(header::HOST, "127.0.0.1:8080")
            .header(header::USER_AGENT, "bench")
            .header(header::ACCEPT, "*/*")
            .header(header::COOKIE, &cookie)
            .body(Full::new(Bytes::new()))
            .unwrap();
        request.extensions_mut().insert(peer);
        request
    };

    let mut group = c.benchmark_group("gateway");
    group.throughput(Throughput::Elements(1));
    group.bench_function("request", |b| b.iter(|| black_box(request())));
    group.bench_function("get_session", |b| {
        b.iter(|| {
            let response = gateway.answer_now(request()).ok().unwrap();
            assert_eq!(response.status(), StatusCode::OK);
            black_box(response)
        })
    });
    group.finish();
}

criterion_group!(benches, get_session);
criterion_main!(benches);
