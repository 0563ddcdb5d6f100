//! What every task of the daemon shares, built from one configuration. A
//! reload builds a new one (same store, same counters); tasks in progress
//! finish with the one they started with.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{Notify, Semaphore, broadcast};

use super::metrics::Metrics;
use super::{Clock, Event};
use crate::config::Config;
use crate::crawl::Crawler;
use crate::deliver::Transport;
use crate::digest::render::Renderer;
use crate::fetch::Fetcher;
use crate::normalize::themes::ThemeRules;
use crate::store::Store;

pub(super) struct Ctx {
    pub config: Config,
    pub store: Arc<Mutex<Store>>,
    pub crawler: Crawler,
    pub transport: Transport,
    pub renderer: Arc<Renderer>,
    /// Compressed schedules, if any.
    pub every: Option<Duration>,
    /// At most `crawl.concurrency` sources crawl at once.
    pub crawl_slots: Arc<Semaphore>,
    pub metrics: Metrics,
    pub events: broadcast::Sender<Event>,
    /// Wakes the outbox loop (after digests or alerts are queued).
    pub outbox_wake: Arc<Notify>,
    pub clock: Clock,
}

impl Ctx {
    pub fn new(
        config: Config,
        store: Arc<Mutex<Store>>,
        every: Option<Duration>,
        metrics: Metrics,
        events: broadcast::Sender<Event>,
        outbox_wake: Arc<Notify>,
        clock: Clock,
    ) -> anyhow::Result<Ctx> {
        config.service.validate()?;
        config.curators.validate()?;
        config.digest.validate()?;
        let crawler = Crawler {
            fetcher: Fetcher::new(config.fetch.clone())?,
            store: Arc::clone(&store),
            rules: Arc::new(ThemeRules::load(&config.crawl.themes)?),
            config: config.crawl.clone(),
        };
        Ok(Ctx {
            transport: Transport::from_config(&config.mail)?,
            renderer: Arc::new(Renderer::new()?),
            crawl_slots: Arc::new(Semaphore::new(config.crawl.concurrency.max(1))),
            config,
            store,
            crawler,
            every,
            metrics,
            events,
            outbox_wake,
            clock,
        })
    }

    /// Now, by the daemon's clock.
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        (self.clock)()
    }

    /// Sends an event; nobody listening is fine.
    pub fn emit(&self, event: Event) {
        let _ = self.events.send(event);
    }

    /// Runs a store operation on the blocking pool.
    pub async fn with_store<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Store) -> anyhow::Result<T> + Send + 'static,
    ) -> anyhow::Result<T> {
        let store = Arc::clone(&self.store);
        tokio::task::spawn_blocking(move || {
            let mut guard = store
                .lock()
                .map_err(|_| anyhow::anyhow!("the database lock was poisoned by a crash"))?;
            f(&mut guard)
        })
        .await?
    }

    pub fn backoff_base(&self) -> Duration {
        match self.every {
            Some(every) => every,
            None => Duration::from_secs(self.config.service.backoff_base_secs),
        }
    }

    pub fn backoff_max(&self) -> Duration {
        match self.every {
            // Compressed: a failing source is still retried within a minute.
            Some(every) => (every * 8).min(Duration::from_secs(60)).max(every),
            None => Duration::from_secs(self.config.service.backoff_max_secs),
        }
    }
}
