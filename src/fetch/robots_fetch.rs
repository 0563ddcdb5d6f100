//! The fetcher's robots.txt requests and verdicts: [`Fetcher::check_robots`]
//! is asked before every hop of every fetch (the first URL and each
//! redirect target), for the host that hop goes to. A site redirecting us to
//! another host does not speak for that host: its robots.txt decides.
//!
//! robots.txt itself follows redirects (RFC 9309 §2.3.1.2) through reqwest,
//! with a policy that applies the address guard to every hop.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt as _;
use reqwest::header;
use url::Url;

use super::address::AllowList;
use super::client::{Effective, Fetcher};
use super::error::{FetchError, error_chain, forbidden_in, is_certificate_refusal};
use super::politeness::HostKey;
use super::robots::{MAX_ROBOTS_BYTES, RobotsResponse, RobotsRules};
use crate::redact;

/// The redirect policy of robots.txt requests: at most `limit` hops, each to
/// an http(s) URL whose IP literal, if any, the guard accepts (host names
/// are checked by the resolver).
pub(super) fn redirect_policy(allow: Arc<AllowList>, limit: usize) -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(move |attempt| {
        if attempt.previous().len() > limit {
            return attempt.error(TooManyRedirects);
        }
        if !matches!(attempt.url().scheme(), "http" | "https") {
            return attempt.stop();
        }
        match allow.check_url(attempt.url()) {
            Ok(()) => attempt.follow(),
            Err(forbidden) => attempt.error(forbidden),
        }
    })
}

#[derive(Debug, thiserror::Error)]
#[error("too many redirects")]
struct TooManyRedirects;

impl Fetcher {
    /// Fails with `DisallowedByRobots` / `RobotsUnreachable` (or
    /// `ForbiddenAddress`, when robots.txt itself leads to one) unless
    /// robots.txt of `url`'s host lets Vigie fetch `url`.
    pub(super) async fn check_robots(
        &self,
        url: &Url,
        settings: &Effective,
    ) -> Result<(), FetchError> {
        let host = HostKey::of(url);
        let rules = self
            .inner
            .robots
            .get_or_fetch(&host, || async {
                let rules = RobotsRules::from_response(self.fetch_robots(url, settings).await);
                if let Some(delay) = rules.crawl_delay() {
                    self.inner.politeness.set_crawl_delay(&host, delay);
                }
                rules
            })
            .await;
        if rules.allows(url.as_str()) {
            return Ok(());
        }
        Err(match &*rules {
            // The page would meet the same certificate: name the cause.
            RobotsRules::Unreachable { reason } if is_certificate_refusal(reason) => {
                FetchError::Certificate {
                    url: url.clone(),
                    message: reason.clone(),
                }
            }
            RobotsRules::Unreachable { reason } => FetchError::RobotsUnreachable {
                url: url.clone(),
                reason: reason.clone(),
            },
            RobotsRules::Forbidden(forbidden) => FetchError::ForbiddenAddress {
                url: url.clone(),
                addr: forbidden.addr,
                class: forbidden.class,
            },
            _ => FetchError::DisallowedByRobots { url: url.clone() },
        })
    }

    /// One request for robots.txt, through the host's politeness slot.
    async fn fetch_robots(&self, url: &Url, settings: &Effective) -> RobotsResponse {
        let robots_url = robots_url(url);
        let _slot = self
            .inner
            .politeness
            .acquire(&HostKey::of(url), settings.min_spacing)
            .await;
        tracing::debug!(url = %redact::url(&robots_url), "fetching robots.txt");
        let timeout = Duration::from_secs(settings.timeout_secs);
        let request = async {
            let response = self
                .inner
                .robots_client
                .get(robots_url.clone())
                .header(header::ACCEPT, "text/plain")
                .timeout(timeout)
                .send()
                .await?;
            let status = response.status().as_u16();
            let mut body = Vec::new();
            if response.status().is_success() {
                let mut stream = response.bytes_stream();
                while let Some(chunk) = stream.next().await {
                    body.extend_from_slice(&chunk?);
                    if body.len() >= MAX_ROBOTS_BYTES {
                        body.truncate(MAX_ROBOTS_BYTES);
                        break;
                    }
                }
            }
            Ok::<_, reqwest::Error>(RobotsResponse::Status { status, body })
        };
        match tokio::time::timeout(timeout, request).await {
            Ok(Ok(response)) => response,
            Ok(Err(error)) => match forbidden_in(&error) {
                Some(forbidden) => RobotsResponse::Forbidden(forbidden),
                None if error.is_redirect() => RobotsResponse::TooManyRedirects,
                None => RobotsResponse::Failed {
                    reason: error_chain(&error),
                },
            },
            Err(_) => RobotsResponse::Failed {
                reason: format!("no complete answer within {} s", settings.timeout_secs),
            },
        }
    }
}

/// `/robots.txt` at the root of `url`'s scheme, host and port.
fn robots_url(url: &Url) -> Url {
    let mut robots = url.clone();
    robots.set_path("/robots.txt");
    robots.set_query(None);
    robots.set_fragment(None);
    let _ = robots.set_username("");
    let _ = robots.set_password(None);
    robots
}
