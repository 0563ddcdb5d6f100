//! The daemon (`vigie run`): runs each source on its schedule, digests when
//! they are due, drains the outbox, watches each source's health and alerts
//! curators, and serves `/healthz` and `/metrics`. Pipeline: this is the
//! **schedule** box in front of fetch → … → deliver.
//!
//! - [`schedule`]: when a source is next due (5-field cron in
//!   Europe/Paris, or a fixed interval), backoff after failures, catch-up
//!   jitter.
//! - [`state`]: the `service_sources` table (migration 13): next due time,
//!   running lease, last outcome, health. A restart neither skips nor
//!   repeats a run: the due time only moves when a run finishes.
//! - [`health`]: what a run says of a source (failing, zero-match, sudden
//!   drop) and [`alert`]: the French email to curators, enqueued through
//!   the outbox in the same transaction as the health change (once per
//!   change of state, crash-safe).
//! - `scheduler` (one task per running source), `jobs` (digest and
//!   outbox loops), `reload` (SIGHUP).
//! - [`http`]: the axum [`router`](http::router) with `/healthz` and
//!   `/metrics` ([`metrics`]); other modules can merge their routes.
//! - [`status`]: the health table of `vigie sources status`.
//!
//! Only `main`/the CLI touch OS signals: [`start`] takes a shutdown future
//! and a reload stream, so tests and `vigie demo` drive the daemon the same
//! way SIGTERM and SIGHUP do.
//!
//! ```no_run
//! # async fn demo(config: vigie::config::Config) -> anyhow::Result<()> {
//! use std::time::Duration;
//! use vigie::service::{Event, RunOptions};
//!
//! let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
//! let options = RunOptions {
//!     bind: Some("127.0.0.1:0".parse()?),
//!     every: Some(Duration::from_secs(5)), // compressed schedules
//!     ..RunOptions::default()
//! };
//! let handle = vigie::service::start(
//!     config,
//!     options,
//!     async { let _ = stop_rx.await; },
//!     futures::stream::pending(),
//! )
//! .await?;
//! println!("listening on http://{}", handle.local_addr());
//! let mut events = handle.subscribe();
//! while let Ok(event) = events.recv().await {
//!     if let Event::CrawlFinished { source, new, .. } = &event {
//!         println!("crawl of {source} finished: {new} new");
//!         break;
//!     }
//! }
//! let _ = stop_tx.send(());
//! handle.wait().await?;
//! # Ok(()) }
//! ```

pub mod alert;
pub mod cli;
mod context;
pub mod health;
pub mod http;
mod jobs;
pub mod metrics;
mod reload;
mod run;
pub mod schedule;
mod scheduler;
pub mod state;
pub mod status;
#[cfg(test)]
mod tests;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::Stream;
use serde::Serialize;
use tokio::sync::broadcast;

pub use crate::config::{CuratorsConfig, ServiceConfig};
pub use health::Health;

use crate::config::Config;

/// The daemon's clock: UTC now. It must run at real speed (sleeps are
/// real); an offset lets a demo pretend it is 07:00 in Paris.
pub type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// Re-reads the configuration on reload (SIGHUP), with the same layers and
/// flags as at start. Returns the new configuration or why it is invalid.
pub type ConfigLoader = Arc<dyn Fn() -> anyhow::Result<Config> + Send + Sync>;

/// How to run the daemon, on top of the configuration.
#[derive(Clone, Default)]
pub struct RunOptions {
    /// Listener address; `None` means `service.bind`. Port 0 picks a free
    /// port: read it back with [`RunHandle::local_addr`].
    pub bind: Option<SocketAddr>,
    /// Compressed schedules: every source, the digest run and the outbox
    /// run every this often (overrides `service.schedule_override_secs`).
    pub every: Option<Duration>,
    /// Where events go. Pass a sender and subscribe to it *before* `start`
    /// to see every event; otherwise [`RunHandle::subscribe`] sees the
    /// events from the moment it is called.
    pub events: Option<broadcast::Sender<Event>>,
    /// Re-reads the configuration on reload. `None`: a reload keeps the
    /// configuration and re-reads the source definitions only.
    pub reload_config: Option<ConfigLoader>,
    /// The clock for schedules, digests and the outbox; `None`: the system
    /// clock.
    pub clock: Option<Clock>,
    /// More routes served by the same listener (the web module's pages),
    /// merged with [`http::router`].
    pub routes: Option<axum::Router>,
}

/// What the daemon did, as it happens: for `vigie demo`, tests and logs.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Event {
    /// The HTTP listener is bound.
    Listening { addr: SocketAddr },
    /// A source's run began.
    CrawlStarted { source: String, run_id: String },
    /// A source's run ended (whatever its outcome).
    CrawlFinished {
        source: String,
        run_id: String,
        /// `ok`, `not_modified` or `failed`.
        outcome: String,
        /// Why it failed, when it did.
        error: Option<String>,
        items: u32,
        new: u32,
        updated: u32,
        duration_ms: u64,
        /// When the source runs next (its schedule, or a backoff retry);
        /// `None` when its schedule never matches again.
        next_due: Option<DateTime<Utc>>,
    },
    /// A source's health changed; `alerts` emails were queued for curators.
    HealthChanged {
        source: String,
        from: Health,
        to: Health,
        alerts: usize,
    },
    /// A digest run ended: `built` digests were queued for `due` subscribers.
    DigestsQueued { due: usize, built: usize },
    /// The outbox was drained.
    OutboxDrained {
        sent: usize,
        rescheduled: usize,
        failed: usize,
    },
    /// Source definitions (and configuration) were reloaded.
    Reloaded {
        added: Vec<String>,
        removed: Vec<String>,
        changed: Vec<String>,
        /// Files that failed to load: their previous definition is kept.
        errors: Vec<String>,
    },
    /// Shutdown began: no new work is started.
    Stopping,
}

/// A running daemon.
pub struct RunHandle {
    addr: SocketAddr,
    events: broadcast::Sender<Event>,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl RunHandle {
    /// The address the HTTP listener is bound to.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// A receiver of the events from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.events.subscribe()
    }

    /// Waits until the daemon has stopped (after the shutdown future
    /// resolved, work in progress finished or the grace time ran out, and
    /// the database was checkpointed and closed).
    pub async fn wait(self) -> anyhow::Result<()> {
        self.task
            .await
            .map_err(|e| anyhow::anyhow!("the daemon task failed: {e}"))?
    }
}

/// Opens the database, binds the listener and starts scheduling; returns
/// once the listener is bound. The daemon stops when `shutdown` resolves;
/// each item of `reload` re-reads the source definitions (and, with
/// [`RunOptions::reload_config`], the configuration).
pub async fn start(
    config: Config,
    options: RunOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
    reload: impl Stream<Item = ()> + Send + Unpin + 'static,
) -> anyhow::Result<RunHandle> {
    scheduler::start(config, options, shutdown, reload).await
}

/// [`start`], then [`RunHandle::wait`].
pub async fn run(
    config: Config,
    options: RunOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
    reload: impl Stream<Item = ()> + Send + Unpin + 'static,
) -> anyhow::Result<()> {
    start(config, options, shutdown, reload).await?.wait().await
}
