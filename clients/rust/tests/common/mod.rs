//! A real sessiond for the client's tests, started in this process on
//! 127.0.0.1:0, and what they ask of it.

#![allow(dead_code)] // each test file uses some of these

use std::collections::HashMap;
use std::time::Duration;

use sessiond::app::Application;
use sessiond::config::Config;
use sessiond::metrics::Metrics;
use sessiond_client::{pb, Client};
use tokio::sync::oneshot;

pub struct Server {
    pub url: String,
    pub metrics: Metrics,
    pub stop: Option<oneshot::Sender<()>>,
    pub done: tokio::task::JoinHandle<std::io::Result<()>>,
}

pub async fn serve(configure: impl FnOnce(&mut Config)) -> Server {
    let mut config = Config::defaults();
    config.listeners.grpc_addr = "127.0.0.1:0".parse().unwrap();
    config.listeners.admin_addr = "127.0.0.1:0".parse().unwrap();
    config.listeners.http_addr = "127.0.0.1:0".parse().unwrap();
    config.listeners.drain_delay = Duration::ZERO;
    configure(&mut config);
    let app = Application::build(config).await.unwrap();
    let url = format!("http://{}", app.grpc_addr());
    let metrics = app.metrics();
    let mut phases = app.lifecycle().subscribe();
    let (stop, stopped) = oneshot::channel::<()>();
    let done = tokio::spawn(app.run_until_stopped(async {
        let _ = stopped.await;
    }));
    phases
        .wait_for(|p| *p == sessiond::lifecycle::Phase::Serving)
        .await
        .unwrap();
    Server {
        url,
        metrics,
        stop: Some(stop),
        done,
    }
}

pub async fn create(client: &Client) -> String {
    let request = client.request(pb::CreateRequest {
        data: HashMap::from([("user".into(), "\"yuan\"".into())]),
        idle_timeout: None,
        user: None,
    });
    let created = client.raw().create(request).await.unwrap();
    created.into_inner().session.unwrap().id
}

pub fn requests(metrics: &Metrics, method: &str) -> u64 {
    let text = metrics.render(Default::default(), 1);
    let prefix =
        format!(r#"sessiond_requests_total{{api="grpc",method="{method}",outcome="OK"}} "#);
    text.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .map_or(0, |n| n.parse().unwrap())
}
