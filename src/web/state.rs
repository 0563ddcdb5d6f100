//! What every handler shares: the database path and a pool of read-only
//! connections, the configuration, and the clock.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};

use super::render::Templates;
use crate::config::Config;
use crate::store::Store;

/// The time source ("now"): the system clock in production, a fixed or
/// compressed one in tests and the demo.
pub type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// (normalized search, minute, catalogue version).
type CountKey = (String, i64, i64);

/// How many idle read connections are kept for reuse.
const POOL_SIZE: usize = 8;

/// Shared by every handler; cheap to clone.
#[derive(Clone)]
pub struct WebState {
    inner: Arc<Inner>,
}

struct Inner {
    db: PathBuf,
    config: Arc<Config>,
    clock: Clock,
    idle: Mutex<Vec<Store>>,
    templates: Templates,
    signup: super::signup::Limits,
    feeds: super::feeds::FeedCache,
    /// Match counts by (normalized search, minute, catalogue version):
    /// one cell per key, so that concurrent requests wait for one count
    /// instead of each scanning the catalogue.
    counts: Mutex<std::collections::HashMap<CountKey, Arc<tokio::sync::OnceCell<u64>>>>,
}

/// Why a handler could not answer: the caller turns it into a 500 page or
/// JSON body; the details go to the log, never to the visitor.
#[derive(Debug, thiserror::Error)]
#[error("{0:#}")]
pub struct WebError(#[from] pub anyhow::Error);

impl WebState {
    /// `db` must already be migrated (the daemon and the demo do it at
    /// start); `config` gives `digest.site_url`, the public base of links.
    /// Fails only when an embedded template does not compile (a bug).
    pub fn new(db: PathBuf, config: Arc<Config>, clock: Clock) -> anyhow::Result<WebState> {
        let templates = Templates::new()?;
        Ok(WebState {
            inner: Arc::new(Inner {
                db,
                config,
                clock,
                idle: Mutex::new(Vec::new()),
                templates,
                signup: super::signup::Limits::default(),
                feeds: super::feeds::FeedCache::default(),
                counts: Mutex::new(std::collections::HashMap::new()),
            }),
        })
    }

    pub fn templates(&self) -> &Templates {
        &self.inner.templates
    }

    pub(super) fn signup_limits(&self) -> &super::signup::Limits {
        &self.inner.signup
    }

    pub(super) fn feeds(&self) -> &super::feeds::FeedCache {
        &self.inner.feeds
    }

    /// The SQLite file the catalogue is read from.
    pub fn db_path(&self) -> &std::path::Path {
        &self.inner.db
    }

    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    pub fn now(&self) -> DateTime<Utc> {
        (self.inner.clock)()
    }

    /// The public base of every absolute link, without a trailing slash.
    pub fn site_url(&self) -> &str {
        self.inner.config.digest.site()
    }

    /// The calls of one page of `filter` (its `limit`, `offset`, `after`)
    /// and how many calls match `search` in all. Counting is the costly
    /// part of a listing (every matching row, where a page stops after 20
    /// in index order): a count is kept until the catalogue changes
    /// (SQLite's `data_version`) or the minute turns (a deadline passing
    /// moves calls between statuses without any write).
    pub async fn page(
        &self,
        search: String,
        filter: crate::store::CallFilter,
    ) -> Result<crate::store::CallPage, WebError> {
        let now = self.now();
        let version = self.feeds().version(self)?;
        let minute = now.timestamp() / 60;
        let cell = {
            let mut m = self
                .inner
                .counts
                .lock()
                .map_err(|_| anyhow::anyhow!("the count cache's lock is poisoned"))?;
            if m.len() >= 4096 {
                // Older versions and minutes are never asked again.
                m.retain(|(_, mi, v), _| *mi == minute && *v == version);
            }
            Arc::clone(m.entry((search, minute, version)).or_default())
        };
        let whole = crate::store::CallFilter {
            after: None,
            limit: Some(0),
            offset: 0,
            ..filter.clone()
        };
        let total = *cell
            .get_or_try_init(|| async {
                self.read(move |store| Ok(store.list_calls_page(&whole, now)?.total))
                    .await
            })
            .await?;
        let calls = self
            .read(move |store| store.list_calls(&filter, now))
            .await?;
        Ok(crate::store::CallPage { calls, total })
    }

    /// Runs `f` on a read-only connection, off the async runtime.
    pub async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Store) -> anyhow::Result<T> + Send + 'static,
    ) -> Result<T, WebError> {
        let inner = Arc::clone(&self.inner);
        tokio::task::spawn_blocking(move || {
            let pooled = inner.idle.lock().ok().and_then(|mut idle| idle.pop());
            let store = match pooled {
                Some(store) => store,
                None => Store::open_read_only(&inner.db)?,
            };
            let out = f(&store);
            if let Ok(mut idle) = inner.idle.lock()
                && idle.len() < POOL_SIZE
            {
                idle.push(store);
            }
            out
        })
        .await
        .map_err(|e| anyhow::anyhow!("a web read task failed: {e}"))?
        .map_err(WebError)
    }

    /// Runs `f` on a read-write connection (sign-ups, confirmations,
    /// unsubscriptions), off the async runtime. Writes are rare: each one
    /// opens its own connection, and SQLite serializes them with the crawl.
    pub async fn write<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Store) -> anyhow::Result<T> + Send + 'static,
    ) -> Result<T, WebError> {
        let db = self.inner.db.clone();
        tokio::task::spawn_blocking(move || {
            let mut store = Store::open(&db)?;
            f(&mut store)
        })
        .await
        .map_err(|e| anyhow::anyhow!("a web write task failed: {e}"))?
        .map_err(WebError)
    }
}
