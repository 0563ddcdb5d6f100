//! One crawl of a source at a time, across processes: the crawl of a
//! source runs under a lease row of the database (see `store::lease`),
//! taken by [`Crawler::refresh_source`] before the first request, renewed
//! while the crawl runs and released when it ends. Every caller of
//! `refresh_source` or `crawl_all` (the CLI, the daemon) gets it.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;

use super::{CrawlError, Crawler};
use crate::store::{Lease, LeaseAttempt, LeaseHolder, Store};

/// How long a lease lasts without renewal: a crawl that vanished without
/// releasing it (killed on another host) blocks its source this long.
pub const LEASE_TTL: Duration = Duration::from_secs(120);

/// How often a running crawl pushes its lease's expiry forward.
const RENEW_EVERY: Duration = Duration::from_secs(30);

/// A lease this process holds; renewed in the background until released
/// (or dropped: a cancelled crawl gives it back if the store is free, and
/// otherwise it expires).
pub struct HeldLease {
    source_id: String,
    token: String,
    store: Arc<Mutex<Store>>,
    renewer: tokio::task::JoinHandle<()>,
    released: bool,
}

/// What asking for a source's lease gave.
pub enum LeaseTake {
    Acquired(HeldLease),
    /// Another live crawl holds the source: skip it.
    Held(Lease),
}

fn ttl() -> chrono::Duration {
    chrono::Duration::from_std(LEASE_TTL).unwrap_or(chrono::Duration::MAX)
}

impl Crawler {
    /// Takes the lease of `source_id` for this crawl, or says who holds it.
    pub async fn take_lease(&self, source_id: &str) -> Result<LeaseTake, CrawlError> {
        let holder = LeaseHolder::this_process();
        let (id, me) = (source_id.to_string(), holder.clone());
        let attempt = self
            .with_store(move |store| store.try_acquire_lease(&id, &me, Utc::now(), ttl()))
            .await
            .map_err(|e| CrawlError::database(&e))?;
        match attempt {
            LeaseAttempt::Held(lease) => Ok(LeaseTake::Held(lease)),
            LeaseAttempt::Acquired { .. } => {
                let store = Arc::clone(&self.store);
                let (id, token) = (source_id.to_string(), holder.token.clone());
                let renewer = tokio::spawn(async move {
                    let mut tick = tokio::time::interval(RENEW_EVERY);
                    tick.tick().await;
                    loop {
                        tick.tick().await;
                        let (store, source, token) =
                            (Arc::clone(&store), id.clone(), token.clone());
                        let renewed = tokio::task::spawn_blocking(move || {
                            let store = store.lock().map_err(|_| anyhow::anyhow!("poisoned"))?;
                            store.renew_lease(&source, &token, Utc::now(), ttl())
                        })
                        .await;
                        match renewed {
                            Ok(Ok(true)) => {}
                            Ok(Ok(false)) => {
                                tracing::warn!(source = %id, "the crawl lease was lost (it had expired and another crawl took it)");
                                return;
                            }
                            Ok(Err(e)) => {
                                tracing::warn!(source = %id, "could not renew the crawl lease: {e:#}")
                            }
                            Err(_) => return,
                        }
                    }
                });
                Ok(LeaseTake::Acquired(HeldLease {
                    source_id: source_id.to_string(),
                    token: holder.token,
                    store: Arc::clone(&self.store),
                    renewer,
                    released: false,
                }))
            }
        }
    }
}

impl HeldLease {
    /// Stops renewing and gives the lease back.
    pub async fn release(mut self) {
        self.renewer.abort();
        self.released = true;
        let (store, id, token) = (
            Arc::clone(&self.store),
            self.source_id.clone(),
            self.token.clone(),
        );
        let released = tokio::task::spawn_blocking(move || {
            let store = store.lock().map_err(|_| anyhow::anyhow!("poisoned"))?;
            store.release_lease(&id, &token)
        })
        .await;
        if !matches!(released, Ok(Ok(()))) {
            tracing::warn!(source = %self.source_id, "could not release the crawl lease; it expires on its own");
        }
    }
}

impl Drop for HeldLease {
    fn drop(&mut self) {
        self.renewer.abort();
        if !self.released {
            // Cancelled mid-crawl: give the lease back if the store is
            // free right now; never block here (the expiry covers the rest).
            if let Ok(store) = self.store.try_lock() {
                let _ = store.release_lease(&self.source_id, &self.token);
            }
        }
    }
}
