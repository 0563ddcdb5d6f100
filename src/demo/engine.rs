//! The demo's own timer, until it runs on the daemon: every `every`, crawl
//! every demo source, build the due digests and drain the outbox to `.eml`
//! files — the same library calls `vigie crawl` and `vigie digest run`
//! make, in the same order.

use std::sync::{Arc, Mutex};

use chrono::Utc;

use crate::config::Config;
use crate::crawl::{Crawler, SourceReport};
use crate::deliver::{DrainReport, Transport, drain_outbox};
use crate::digest::build::{RunSummary, enqueue_due_digests};
use crate::digest::render::Renderer;
use crate::fetch::Fetcher;
use crate::normalize::themes::ThemeRules;
use crate::source::SourceDef;
use crate::store::Store;

/// What one cycle did.
pub struct Cycle {
    pub crawl: Vec<SourceReport>,
    pub digests: RunSummary,
    pub drained: DrainReport,
}

/// Everything a cycle needs, built once.
pub struct Engine {
    crawler: Crawler,
    sources: Vec<SourceDef>,
    config: Config,
    renderer: Renderer,
    transport: Transport,
}

impl Engine {
    pub fn new(
        config: Config,
        store: Arc<Mutex<Store>>,
        sources: Vec<SourceDef>,
    ) -> anyhow::Result<Engine> {
        Ok(Engine {
            crawler: Crawler {
                fetcher: Fetcher::new(config.fetch.clone())?,
                store,
                rules: Arc::new(ThemeRules::load(&config.crawl.themes)?),
                config: config.crawl.clone(),
            },
            sources,
            renderer: Renderer::new()?,
            transport: Transport::from_config(&config.mail)?,
            config,
        })
    }

    pub fn store(&self) -> &Arc<Mutex<Store>> {
        &self.crawler.store
    }

    /// Crawl, digests, outbox.
    pub async fn cycle(&self) -> anyhow::Result<Cycle> {
        let crawl = self.crawler.crawl_all(self.sources.clone(), |_| {}).await;
        let digests = tokio::task::block_in_place(|| {
            let store = self.lock()?;
            enqueue_due_digests(
                &store,
                &self.renderer,
                &self.config.digest,
                &self.config.mail,
                Utc::now(),
                false,
            )
        })?;
        let drained =
            drain_outbox(self.store(), &self.transport, &self.config.mail, Utc::now).await?;
        Ok(Cycle {
            crawl,
            digests,
            drained,
        })
    }

    fn lock(&self) -> anyhow::Result<std::sync::MutexGuard<'_, Store>> {
        self.store()
            .lock()
            .map_err(|_| anyhow::anyhow!("store lock poisoned"))
    }
}
