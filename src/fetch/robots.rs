//! robots.txt (RFC 9309): what a fetched robots.txt means for Vigie, and an
//! in-memory cache of that verdict per host (scheme, host, port) for the
//! fetcher's lifetime. The fetcher consults it before every page request;
//! the HTTP request for robots.txt itself is made by the client, through the
//! same politeness slots as any page.
//!
//! How each outcome of the robots.txt request is read:
//!
//! - 2xx: parsed with `texting_robots` for the user-agent token `Vigie`
//!   (falling back to `*` groups); unparseable content allows everything,
//!   since RFC 9309 asks parsers to be lenient. At most [`MAX_ROBOTS_BYTES`]
//!   are read (RFC 9309 §2.5 requires parsing at least 500 KiB).
//! - 4xx ("unavailable", RFC 9309 §2.3.1.3), including 404 and 410, and a
//!   redirect chain that does not end: everything is allowed.
//!   Exception: 429 is read as "unreachable", as Google does; a server asking
//!   us to slow down is not granting permission.
//! - 5xx or no answer at all (connection refused, timeout, DNS): the site is
//!   "unreachable" (RFC 9309 §2.3.1.4) and the crawler MUST assume complete
//!   disallow. We do so, and remember that verdict for only
//!   [`UNREACHABLE_TTL`], so that the next run asks again instead of the
//!   source staying blocked for the life of the daemon.
//!
//! Successful verdicts are kept [`ROBOTS_TTL`]: RFC 9309 §2.4 says a cached
//! robots.txt should not be used for more than 24 hours.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use texting_robots::Robot;
use tokio::time::Instant;

use super::address::Forbidden;
use super::politeness::HostKey;

/// The user-agent token matched against `User-agent:` lines.
pub const ROBOTS_AGENT: &str = "Vigie";
/// How much of a robots.txt is read; the rest is ignored.
pub const MAX_ROBOTS_BYTES: usize = 512 * 1024;
/// How long a fetched (or absent) robots.txt is trusted.
pub const ROBOTS_TTL: Duration = Duration::from_secs(24 * 3600);
/// How long an "unreachable, so disallow all" verdict is kept.
pub const UNREACHABLE_TTL: Duration = Duration::from_secs(10 * 60);

/// What robots.txt allows on one host.
#[derive(Debug)]
pub enum RobotsRules {
    /// No usable robots.txt: everything is allowed.
    AllowAll,
    /// robots.txt could not be fetched (5xx, 429 or no answer); `reason` says why.
    Unreachable { reason: String },
    /// The parsed rules for Vigie.
    Rules(Robot),
    /// robots.txt (or a redirect it led to) is at an address the guard
    /// refuses: nothing on the host may be fetched.
    Forbidden(Forbidden),
}

/// How the robots.txt request ended, as the client saw it.
#[derive(Debug)]
pub enum RobotsResponse {
    /// A final HTTP status (after redirects) and up to [`MAX_ROBOTS_BYTES`] of body.
    Status { status: u16, body: Vec<u8> },
    /// The redirect chain exceeded the limit.
    TooManyRedirects,
    /// No HTTP answer (connection, timeout, body error).
    Failed { reason: String },
    /// The address guard refused the connection.
    Forbidden(Forbidden),
}

impl RobotsRules {
    /// Reads a robots.txt response as described in the module doc.
    pub fn from_response(response: RobotsResponse) -> RobotsRules {
        match response {
            RobotsResponse::Status { status, body } => match status {
                200..=299 => match Robot::new(ROBOTS_AGENT, &body) {
                    Ok(robot) => RobotsRules::Rules(robot),
                    Err(error) => {
                        tracing::warn!(%error, "unparseable robots.txt, treated as allow-all");
                        RobotsRules::AllowAll
                    }
                },
                429 | 500.. => RobotsRules::Unreachable {
                    reason: format!("HTTP {status}"),
                },
                _ => RobotsRules::AllowAll,
            },
            RobotsResponse::TooManyRedirects => RobotsRules::AllowAll,
            RobotsResponse::Failed { reason } => RobotsRules::Unreachable { reason },
            RobotsResponse::Forbidden(forbidden) => RobotsRules::Forbidden(forbidden),
        }
    }

    /// Whether `url` may be fetched. `Unreachable` answers `false`.
    pub fn allows(&self, url: &str) -> bool {
        match self {
            RobotsRules::AllowAll => true,
            RobotsRules::Unreachable { .. } | RobotsRules::Forbidden(_) => false,
            RobotsRules::Rules(robot) => robot.allowed(url),
        }
    }

    /// The `Crawl-delay` in seconds, if robots.txt gave one.
    pub fn crawl_delay(&self) -> Option<f32> {
        match self {
            RobotsRules::Rules(robot) => robot.delay,
            _ => None,
        }
    }

    fn ttl(&self) -> Duration {
        match self {
            RobotsRules::Unreachable { .. } | RobotsRules::Forbidden(_) => UNREACHABLE_TTL,
            _ => ROBOTS_TTL,
        }
    }
}

/// robots.txt verdicts per host. Concurrent fetches for one host wait for a
/// single robots.txt request instead of each making their own.
#[derive(Debug, Default)]
pub struct RobotsCache {
    hosts: Mutex<HashMap<HostKey, Arc<tokio::sync::Mutex<Option<Cached>>>>>,
}

#[derive(Debug)]
struct Cached {
    rules: Arc<RobotsRules>,
    expires: Instant,
}

impl RobotsCache {
    /// The cached verdict for `host`, or the one `fetch` produces (then cached).
    pub async fn get_or_fetch<F, Fut>(&self, host: &HostKey, fetch: F) -> Arc<RobotsRules>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = RobotsRules>,
    {
        let entry = {
            let mut hosts = self.hosts.lock().unwrap_or_else(|e| e.into_inner());
            Arc::clone(hosts.entry(host.clone()).or_default())
        };
        let mut cached = entry.lock().await;
        if let Some(cached) = cached.as_ref().filter(|c| c.expires > Instant::now()) {
            return Arc::clone(&cached.rules);
        }
        let rules = Arc::new(fetch().await);
        *cached = Some(Cached {
            rules: Arc::clone(&rules),
            expires: Instant::now() + rules.ttl(),
        });
        rules
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(status: u16, body: &str) -> RobotsRules {
        RobotsRules::from_response(RobotsResponse::Status {
            status,
            body: body.as_bytes().to_vec(),
        })
    }

    #[test]
    fn vigie_group_is_used() {
        let rules = status(
            200,
            "User-agent: *\nDisallow: /\n\nUser-agent: Vigie\nDisallow: /private\nCrawl-delay: 2\n",
        );
        assert!(rules.allows("http://a.fr/aap"));
        assert!(!rules.allows("http://a.fr/private/x"));
        assert_eq!(rules.crawl_delay(), Some(2.0));
    }

    #[test]
    fn missing_robots_allows_all() {
        assert!(status(404, "").allows("http://a.fr/x"));
        assert!(status(410, "").allows("http://a.fr/x"));
        assert!(status(403, "").allows("http://a.fr/x"));
        assert!(
            RobotsRules::from_response(RobotsResponse::TooManyRedirects).allows("http://a.fr/x")
        );
    }

    #[test]
    fn unreachable_robots_disallows_all() {
        assert!(!status(503, "").allows("http://a.fr/x"));
        assert!(!status(500, "").allows("http://a.fr/x"));
        assert!(!status(429, "").allows("http://a.fr/x"));
        let failed = RobotsRules::from_response(RobotsResponse::Failed {
            reason: "refused".into(),
        });
        assert!(!failed.allows("http://a.fr/x"));
    }

    #[tokio::test]
    async fn a_verdict_is_fetched_once_per_host() {
        let cache = RobotsCache::default();
        let a = HostKey::of(&url::Url::parse("http://a.fr/").unwrap());
        let b = HostKey::of(&url::Url::parse("http://b.fr/").unwrap());
        let calls = std::sync::atomic::AtomicUsize::new(0);
        let fetch = || async {
            calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            RobotsRules::Unreachable {
                reason: "HTTP 503".into(),
            }
        };
        cache.get_or_fetch(&a, fetch).await;
        cache.get_or_fetch(&a, fetch).await;
        assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 1);
        cache.get_or_fetch(&b, fetch).await;
        assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 2);
    }
}
