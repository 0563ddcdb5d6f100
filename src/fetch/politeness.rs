//! Politeness: how many requests run at once, overall and per host, and the
//! minimum delay between two request starts to the same host. Every request
//! the fetcher makes, robots.txt included, first takes a [`Slot`] here.
//!
//! Built on tokio primitives only, without busy waiting: a per-host
//! semaphore bounds per-host concurrency, a per-host async mutex holds the
//! earliest instant the next request may start, and a global semaphore
//! bounds total concurrency.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;
use url::Url;

/// A `Crawl-delay` above this is clamped: a site asking for an hour between
/// requests would otherwise stall a whole crawl run on one source.
pub const MAX_CRAWL_DELAY: Duration = Duration::from_secs(60);

/// Identifies a host for politeness and robots.txt: scheme, host and port
/// (RFC 9309 §2.3: robots.txt applies per scheme, host and port).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct HostKey(String);

impl HostKey {
    pub fn of(url: &Url) -> HostKey {
        HostKey(format!(
            "{}://{}:{}",
            url.scheme(),
            url.host_str().unwrap_or_default(),
            url.port_or_known_default().unwrap_or_default()
        ))
    }
}

/// Per-host and total concurrency limits plus per-host spacing.
#[derive(Debug)]
pub struct Politeness {
    total: Arc<Semaphore>,
    per_host_concurrency: usize,
    hosts: Mutex<HashMap<HostKey, Arc<Host>>>,
}

#[derive(Debug)]
struct Host {
    concurrency: Arc<Semaphore>,
    /// The earliest instant the next request to this host may start. Held
    /// (asynchronously) while waiting for it, so starts are strictly ordered.
    next_start: tokio::sync::Mutex<Instant>,
    /// The robots.txt `Crawl-delay`, once known.
    crawl_delay: Mutex<Option<Duration>>,
}

/// Permission to run one request; dropping it frees the concurrency slots.
#[derive(Debug)]
pub struct Slot {
    _host: OwnedSemaphorePermit,
    _total: OwnedSemaphorePermit,
}

impl Politeness {
    pub fn new(total_concurrency: usize, per_host_concurrency: usize) -> Politeness {
        Politeness {
            total: Arc::new(Semaphore::new(total_concurrency)),
            per_host_concurrency,
            hosts: Mutex::new(HashMap::new()),
        }
    }

    /// Waits until a request to `host` may start: a per-host slot, then the
    /// spacing (`min_spacing`, raised to the host's `Crawl-delay`), then a
    /// global slot. The spacing lock is held while waiting for the global slot
    /// so that the recorded start is the real one.
    pub async fn acquire(&self, host: &HostKey, min_spacing: Duration) -> Slot {
        let host = self.host(host);
        let host_permit = Arc::clone(&host.concurrency)
            .acquire_owned()
            .await
            .expect("host semaphores are never closed");
        let mut next_start = host.next_start.lock().await;
        tokio::time::sleep_until(*next_start).await;
        let total_permit = Arc::clone(&self.total)
            .acquire_owned()
            .await
            .expect("the total semaphore is never closed");
        let crawl_delay = host.crawl_delay().unwrap_or_default();
        *next_start = Instant::now() + min_spacing.max(crawl_delay);
        Slot {
            _host: host_permit,
            _total: total_permit,
        }
    }

    /// Records a robots.txt `Crawl-delay` (seconds) for `host`; it raises the
    /// spacing of every later request to that host.
    pub fn set_crawl_delay(&self, host: &HostKey, secs: f32) {
        if !(secs.is_finite() && secs > 0.0) {
            return;
        }
        let delay = Duration::from_secs_f32(secs.min(MAX_CRAWL_DELAY.as_secs_f32()));
        *self
            .host(host)
            .crawl_delay
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = Some(delay);
    }

    fn host(&self, key: &HostKey) -> Arc<Host> {
        let mut hosts = self.hosts.lock().unwrap_or_else(|e| e.into_inner());
        let host = hosts.entry(key.clone()).or_insert_with(|| {
            Arc::new(Host {
                concurrency: Arc::new(Semaphore::new(self.per_host_concurrency)),
                next_start: tokio::sync::Mutex::new(Instant::now()),
                crawl_delay: Mutex::new(None),
            })
        });
        Arc::clone(host)
    }
}

impl Host {
    fn crawl_delay(&self) -> Option<Duration> {
        *self.crawl_delay.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_key_includes_scheme_and_port() {
        let key = |s| HostKey::of(&Url::parse(s).unwrap());
        assert_eq!(key("https://a.fr/x"), key("https://a.fr:443/y"));
        assert_ne!(key("https://a.fr/"), key("http://a.fr/"));
        assert_ne!(key("http://a.fr/"), key("http://a.fr:8080/"));
    }

    #[tokio::test]
    async fn starts_to_one_host_are_spaced() {
        let politeness = Politeness::new(8, 4);
        let host = HostKey::of(&Url::parse("http://a.fr/").unwrap());
        let start = Instant::now();
        let mut starts = Vec::new();
        for _ in 0..3 {
            let _slot = politeness.acquire(&host, Duration::from_millis(50)).await;
            starts.push(Instant::now() - start);
        }
        assert!(starts[1] >= Duration::from_millis(50), "{starts:?}");
        assert!(starts[2] >= Duration::from_millis(100), "{starts:?}");
    }

    #[tokio::test]
    async fn crawl_delay_raises_the_spacing() {
        let politeness = Politeness::new(8, 4);
        let host = HostKey::of(&Url::parse("http://a.fr/").unwrap());
        politeness.set_crawl_delay(&host, 0.2);
        let start = Instant::now();
        drop(politeness.acquire(&host, Duration::from_millis(10)).await);
        drop(politeness.acquire(&host, Duration::from_millis(10)).await);
        assert!(Instant::now() - start >= Duration::from_millis(200));
    }

    #[tokio::test]
    async fn per_host_concurrency_is_bounded_but_other_hosts_proceed() {
        let politeness = Politeness::new(8, 1);
        let host = HostKey::of(&Url::parse("http://a.fr/").unwrap());
        let first = politeness.acquire(&host, Duration::ZERO).await;
        let second = tokio::time::timeout(
            Duration::from_millis(100),
            politeness.acquire(&host, Duration::ZERO),
        );
        assert!(
            second.await.is_err(),
            "a second slot was granted while the first is held"
        );
        let other = HostKey::of(&Url::parse("http://b.fr/").unwrap());
        let _b = politeness.acquire(&other, Duration::ZERO).await;
        drop(first);
        let _again = politeness.acquire(&host, Duration::ZERO).await;
    }
}
