//! The daemon's HTTP side: [`router`] serves `GET /healthz` and `GET
//! /metrics`; the web module merges its own routes beside them (see
//! [`RunOptions::routes`](super::RunOptions::routes)).
//!
//! Both endpoints read through their own read-only SQLite connection, so a
//! long crawl transaction (WAL) never delays a health check.

use std::path::Path;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use rusqlite::{Connection, OpenFlags};
use serde::Serialize;

use super::metrics::{CONTENT_TYPE, Metrics};

/// When the scheduler last woke up, shared with `/healthz` and `/metrics`.
#[derive(Debug, Default)]
pub struct Heartbeat(AtomicI64);

impl Heartbeat {
    pub fn beat(&self, now: DateTime<Utc>) {
        self.0.store(now.timestamp_millis(), Ordering::Relaxed);
    }

    pub fn last(&self) -> Option<DateTime<Utc>> {
        match self.0.load(Ordering::Relaxed) {
            0 => None,
            ms => DateTime::from_timestamp_millis(ms),
        }
    }
}

/// What the handlers share.
#[derive(Clone)]
pub struct AppState {
    db: Arc<Mutex<Connection>>,
    pub metrics: Metrics,
    pub heartbeat: Arc<Heartbeat>,
    /// A tick older than this makes `/healthz` answer 503.
    pub stale_after: Duration,
}

impl AppState {
    /// Opens a read-only connection to the (already migrated) database.
    pub fn open(
        db: &Path,
        metrics: Metrics,
        heartbeat: Arc<Heartbeat>,
        stale_after: Duration,
    ) -> anyhow::Result<AppState> {
        let conn = Connection::open_with_flags(
            db,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| anyhow::anyhow!("opening {} for /healthz: {e}", db.display()))?;
        conn.busy_timeout(Duration::from_secs(2))?;
        Ok(AppState {
            db: Arc::new(Mutex::new(conn)),
            metrics,
            heartbeat,
            stale_after,
        })
    }

    async fn with_db<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> anyhow::Result<T> + Send + 'static,
    ) -> anyhow::Result<T> {
        let db = Arc::clone(&self.db);
        tokio::task::spawn_blocking(move || {
            let conn = db
                .lock()
                .map_err(|_| anyhow::anyhow!("the health connection's lock was poisoned"))?;
            f(&conn)
        })
        .await?
    }
}

/// The daemon's routes: `/healthz` and `/metrics`.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .with_state(state)
}

/// The `/healthz` body.
#[derive(Debug, Serialize)]
struct Healthz {
    /// `ok` or `unhealthy`.
    status: &'static str,
    /// `ok`, or the error that made the query fail.
    database: String,
    last_tick: Option<DateTime<Utc>>,
    seconds_since_tick: Option<i64>,
    version: &'static str,
}

async fn healthz(State(state): State<AppState>) -> Response {
    let database = match state
        .with_db(|c| {
            Ok(
                c.query_row("SELECT count(*) FROM service_sources", [], |r| {
                    r.get::<_, i64>(0)
                })?,
            )
        })
        .await
    {
        Ok(_) => "ok".to_string(),
        Err(e) => format!("{e:#}"),
    };
    let last_tick = state.heartbeat.last();
    let age = last_tick.map(|t| (Utc::now() - t).num_seconds());
    let fresh = age.is_some_and(|a| a <= state.stale_after.as_secs() as i64);
    let ok = database == "ok" && fresh;
    let body = Healthz {
        status: if ok { "ok" } else { "unhealthy" },
        database,
        last_tick,
        seconds_since_tick: age,
        version: env!("CARGO_PKG_VERSION"),
    };
    if !ok {
        tracing::warn!(database = %body.database, ?age, "health check failed");
    }
    let code = if ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (code, Json(body)).into_response()
}

async fn metrics(State(state): State<AppState>) -> Response {
    let tick = state.heartbeat.last().map_or(0, |t| t.timestamp());
    let metrics = state.metrics.clone();
    match state.with_db(move |c| metrics.encode(c, tick)).await {
        Ok(body) => ([(header::CONTENT_TYPE, CONTENT_TYPE)], body).into_response(),
        Err(e) => {
            tracing::error!("/metrics: {e:#}");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "metrics unavailable: the database could not be read (see the daemon's log)\n",
            )
                .into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    async fn serve(state: AppState) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, router(state)).await.unwrap() });
        format!("http://{addr}")
    }

    async fn healthz_of(base: &str) -> (u16, serde_json::Value) {
        let r = reqwest::get(format!("{base}/healthz")).await.unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap())
    }

    #[tokio::test]
    async fn healthz_answers_503_while_the_scheduler_does_not_tick() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("v.db");
        drop(Store::open(&db).unwrap());
        let heartbeat = Arc::new(Heartbeat::default());
        heartbeat.beat(Utc::now() - chrono::Duration::seconds(120));
        let state = AppState::open(
            &db,
            Metrics::default(),
            Arc::clone(&heartbeat),
            Duration::from_secs(60),
        )
        .unwrap();
        let base = serve(state).await;
        let (status, body) = healthz_of(&base).await;
        assert_eq!(status, 503, "{body}");
        assert_eq!(body["status"], "unhealthy");
        assert_eq!(body["database"], "ok");
        heartbeat.beat(Utc::now());
        let (status, body) = healthz_of(&base).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["status"], "ok");
    }

    #[tokio::test]
    async fn healthz_answers_503_when_the_database_cannot_be_read() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("v.db");
        std::fs::write(&db, b"this is not a SQLite database, not even close....").unwrap();
        let heartbeat = Arc::new(Heartbeat::default());
        heartbeat.beat(Utc::now());
        let state =
            AppState::open(&db, Metrics::default(), heartbeat, Duration::from_secs(60)).unwrap();
        let base = serve(state).await;
        let (status, body) = healthz_of(&base).await;
        assert_eq!(status, 503, "{body}");
        assert_ne!(body["database"], "ok");
        let metrics = reqwest::get(format!("{base}/metrics")).await.unwrap();
        assert_eq!(metrics.status().as_u16(), 503);
    }
}
