//! sessiond on a Redis Cluster (`--redis-cluster`): three masters with a
//! replica each on loopback, and a master that dies, replaced by its
//! replica, with nothing that was replicated lost.

mod common;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use common::redis_server::RedisCluster;
use common::{becomes_ready, spawn_app_with, TestApp};
use sessiond::config::BackendKind;
use sessiond::grpc::pb;
use tonic::Code;

async fn on_cluster(cluster: &RedisCluster) -> TestApp {
    let seeds = cluster.seeds();
    let app = spawn_app_with(move |c| {
        c.storage.backend = BackendKind::Redis;
        c.storage.redis_cluster = seeds;
        c.storage.redis_timeout = Duration::from_millis(500);
    })
    .await;
    assert!(becomes_ready(&app).await, "ready once the cluster answers");
    app
}

fn get(id: &str) -> pb::GetRequest {
    pb::GetRequest {
        id: id.into(),
        keys: vec![],
        no_touch: false,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_master_failover_loses_no_replicated_session_and_rotate_still_crosses_slots() {
    let mut cluster = RedisCluster::start_with_replicas(1);
    let mut app = on_cluster(&cluster).await;
    let mut sessions = Vec::new();
    for n in 0..30 {
        let data = HashMap::from([("n".to_string(), n.to_string())]);
        let request = pb::CreateRequest {
            data,
            idle_timeout: None,
            user: None,
        };
        let reply = app.client.create(request).await.unwrap().into_inner();
        sessions.push((reply.session.unwrap().id, n.to_string()));
    }
    cluster.wait_replicated();

    let victim = cluster.masters()[0];
    cluster.nodes[victim].kill();
    let started = Instant::now();
    // Until the replica takes over, a third of the slots do not answer:
    // those requests fail fast with UNAVAILABLE, never hang.
    let mut unavailable = 0;
    let mut all_back = false;
    while started.elapsed() < Duration::from_secs(30) {
        let mut ok = 0;
        for (id, _) in &sessions {
            let t = Instant::now();
            match app.client.get(get(id)).await {
                Ok(_) => ok += 1,
                Err(status) => {
                    assert_eq!(status.code(), Code::Unavailable, "{status:?}");
                    assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
                    unavailable += 1;
                }
            }
        }
        if ok == sessions.len() {
            all_back = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(all_back, "every session readable after the failover");
    assert!(
        unavailable > 0,
        "the dead master's slots were unavailable for a while"
    );

    for (id, n) in &sessions {
        let got = app.client.get(get(id)).await.unwrap().into_inner();
        assert_eq!(got.data["n"], *n);
        let rotated = app
            .client
            .rotate(pb::RotateRequest { id: id.clone() })
            .await;
        let new_id = rotated.unwrap().into_inner().session.unwrap().id;
        assert_eq!(
            app.client.get(get(id)).await.unwrap_err().code(),
            Code::NotFound
        );
        let moved = app.client.get(get(&new_id)).await.unwrap().into_inner();
        assert_eq!(moved.data["n"], *n);
    }
    app.stop().await.unwrap();
}
