//! The library API as `vigie demo` uses it: in process, port 0, an event
//! channel, a shutdown future and a clock of its own.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;

use super::{Event, RunOptions, start};
use crate::config::Config;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_daemon_runs_in_process_reports_events_and_stops_on_its_future() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("sources")).unwrap();
    let mut config = Config::embedded();
    config.database.path = dir.path().join("v.db");
    config.crawl.sources_dir = dir.path().join("sources");
    config.mail.outbox_dir = dir.path().join("outbox");
    let (events, mut rx) = tokio::sync::broadcast::channel(64);
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let options = RunOptions {
        bind: Some("127.0.0.1:0".parse().unwrap()),
        every: Some(Duration::from_secs(1)),
        events: Some(events),
        // A demo's clock: an hour ahead.
        clock: Some(Arc::new(|| Utc::now() + chrono::Duration::hours(1))),
        ..RunOptions::default()
    };
    let handle = start(
        config,
        options,
        async {
            let _ = stop_rx.await;
        },
        futures::stream::pending(),
    )
    .await
    .unwrap();
    let addr = handle.local_addr();
    assert_ne!(addr.port(), 0);
    let body = reqwest::get(format!("http://{addr}/healthz"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(body.contains("\"status\":\"ok\""), "{body}");
    let mut seen = Vec::new();
    while seen.len() < 3 {
        let event = tokio::time::timeout(Duration::from_secs(10), rx.recv())
            .await
            .expect("events keep coming")
            .unwrap();
        if matches!(event, Event::Listening { .. } | Event::DigestsQueued { .. }) {
            seen.push(event);
        }
    }
    assert_eq!(seen[0], Event::Listening { addr });
    assert!(matches!(seen[1], Event::DigestsQueued { due: 0, built: 0 }));
    stop_tx.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(10), handle.wait())
        .await
        .expect("stops")
        .unwrap();
    let mut stopping = false;
    while let Ok(event) = rx.try_recv() {
        stopping |= event == Event::Stopping;
    }
    assert!(stopping);
}
