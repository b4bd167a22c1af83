//! The Redis side of the comparison, driven by the `redis` crate: sessions
//! as `SETEX session:<id> <ttl> <value>` and reads as `GET`, over
//! multiplexed connections (many requests in flight per connection, as
//! HTTP/2 streams are for gRPC).

use std::sync::Arc;
use std::time::Instant;

use redis::aio::MultiplexedConnection;
use tokio::task::JoinHandle;

use crate::load::{bounded, XorShift};
use crate::report::{Control, Recorder};

pub async fn connect(url: &str) -> redis::RedisResult<MultiplexedConnection> {
    redis::Client::open(url)?
        .get_multiplexed_async_connection()
        .await
}

/// A key as a session store names one: a prefix and a 32-character id.
pub fn keys(n: usize, seed: u64) -> Vec<String> {
    let mut rng = XorShift::new(seed);
    (0..n)
        .map(|_| {
            let id: String = (0..32)
                .map(|_| char::from(b"abcdefghijklmnopqrstuvwxyz0123456789"[rng.below(36)]))
                .collect();
            format!("session:{id}")
        })
        .collect()
}

/// A value of `size` bytes.
pub fn value(size: usize) -> Vec<u8> {
    let mut rng = XorShift::new(3);
    (0..size).map(|_| b'a' + rng.below(26) as u8).collect()
}

/// `SETEX` every key in pipelines of 1000.
pub async fn fill(
    conn: &mut MultiplexedConnection,
    keys: &[String],
    value: &[u8],
    ttl_secs: u64,
) -> redis::RedisResult<()> {
    for chunk in keys.chunks(1000) {
        let mut pipe = redis::pipe();
        for key in chunk {
            pipe.cmd("SETEX").arg(key).arg(ttl_secs).arg(value).ignore();
        }
        pipe.query_async::<()>(conn).await?;
    }
    Ok(())
}

/// `INFO memory`'s `used_memory` and `used_memory_rss`, in bytes.
pub async fn memory(conn: &mut MultiplexedConnection) -> redis::RedisResult<(u64, u64)> {
    let info: String = redis::cmd("INFO").arg("memory").query_async(conn).await?;
    let field = |name: &str| {
        info.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0)
    };
    Ok((field("used_memory"), field("used_memory_rss")))
}

/// `per_conn` workers on each connection: `GET` (or `SET`, with `set`) of a
/// random key.
pub fn spawn_workers(
    conns: &[MultiplexedConnection],
    per_conn: usize,
    keys: Arc<Vec<String>>,
    set: Option<Arc<Vec<u8>>>,
    control: &Arc<Control>,
) -> Vec<JoinHandle<Recorder>> {
    let mut workers = Vec::new();
    for (c, conn) in conns.iter().enumerate() {
        for w in 0..per_conn {
            let mut conn = conn.clone();
            let keys = keys.clone();
            let set = set.clone();
            let mut recorder = Recorder::new(control.clone(), 1, 1);
            workers.push(tokio::spawn(async move {
                let mut rng = XorShift::new((c * per_conn + w + 1) as u64);
                while recorder.running() {
                    let key = &keys[rng.below(keys.len())];
                    let started = Instant::now();
                    let outcome = match &set {
                        None => bounded(
                            redis::cmd("GET")
                                .arg(key)
                                .query_async::<Option<Vec<u8>>>(&mut conn),
                        )
                        .await
                        .and_then(|v| v.map(drop).ok_or_else(|| "key not found".to_string())),
                        Some(value) => {
                            bounded(
                                redis::cmd("SET")
                                    .arg(key)
                                    .arg(value.as_slice())
                                    .query_async::<()>(&mut conn),
                            )
                            .await
                        }
                    };
                    recorder.record(0, started, outcome);
                }
                recorder
            }));
        }
    }
    workers
}
