//! The fetcher: one HTTP request with every manner applied, in this order —
//! address guard, robots.txt verdict, politeness slot (concurrency and
//! spacing), request with conditional headers, redirects (each hop through
//! the same gates), status handling, capped body read, charset decoding —
//! and the retry loop around it. [`Fetcher::fetch`] is the fetch stage's
//! entry point; it returns a [`Page`] for extract. robots.txt requests are
//! in [`super::robots_fetch`].

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use anyhow::Context as _;
use futures::StreamExt as _;
use reqwest::header::{self, HeaderMap, HeaderName, HeaderValue};
use url::Url;

use super::address::AllowList;
use super::body::RequestBody;
use super::charset;
use super::config::{FetchConfig, FetchOverrides};
use super::error::{FetchError, error_chain, forbidden_in, is_certificate_refusal};
use super::page::HttpMethod;
use super::page::Page;
use super::politeness::{HostKey, Politeness};
use super::redirect::{Hop, is_redirect};
use super::request::ACCEPT_LANGUAGE;
pub use super::request::{
    ACCEPT_DOCUMENT, ACCEPT_FEED, ACCEPT_JSON, FetchOutcome, FetchRequest, Validators,
};
use super::resolve::GuardedResolver;
use super::retry::{backoff, parse_retry_after};
use super::robots::RobotsCache;
use crate::redact;

/// The HTTP client with manners. Cheap to clone; clones share the
/// connection pool, the robots.txt cache and the politeness state.
#[derive(Debug, Clone)]
pub struct Fetcher {
    pub(super) inner: Arc<Inner>,
}

#[derive(Debug)]
pub(super) struct Inner {
    /// Follows no redirect: [`Fetcher::attempt`] does, hop by hop.
    client: reqwest::Client,
    /// For robots.txt, which follows redirects itself (see `robots_fetch`).
    pub(super) robots_client: reqwest::Client,
    pub(super) config: FetchConfig,
    pub(super) allow: Arc<AllowList>,
    pub(super) politeness: Politeness,
    pub(super) robots: RobotsCache,
}

/// A failed attempt, with the server's `Retry-After` if it gave one.
struct Failure {
    error: FetchError,
    retry_after: Option<Duration>,
}

impl From<FetchError> for Failure {
    fn from(error: FetchError) -> Self {
        Failure {
            error,
            retry_after: None,
        }
    }
}

/// The settings of one fetch, after the source's overrides.
pub(super) struct Effective {
    pub(super) min_spacing: Duration,
    pub(super) timeout_secs: u64,
    max_body_bytes: u64,
    robots: bool,
}

/// What one hop of a redirect chain gave.
enum Step {
    Done(FetchOutcome),
    Redirect(Hop),
}

impl Fetcher {
    /// Builds a fetcher; fails if the configuration cannot work.
    pub fn new(config: FetchConfig) -> anyhow::Result<Fetcher> {
        config.validate()?;
        let allow = Arc::new(config.allow_list().map_err(anyhow::Error::msg)?);
        let builder = || {
            reqwest::Client::builder()
                .user_agent(config.effective_user_agent())
                .connect_timeout(Duration::from_secs(config.connect_timeout_secs))
                .timeout(Duration::from_secs(config.timeout_secs))
                .gzip(true)
                // Every connection goes to an address the guard checked: a
                // proxy from the environment would resolve names itself.
                .no_proxy()
                .dns_resolver(Arc::new(GuardedResolver::new(Arc::clone(&allow))))
        };
        let client = builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .context("could not build the HTTP client")?;
        let robots_client = builder()
            .redirect(super::robots_fetch::redirect_policy(
                Arc::clone(&allow),
                config.max_redirects,
            ))
            .build()
            .context("could not build the HTTP client")?;
        Ok(Fetcher {
            inner: Arc::new(Inner {
                client,
                robots_client,
                politeness: Politeness::new(config.total_concurrency, config.per_host_concurrency),
                robots: RobotsCache::default(),
                allow,
                config,
            }),
        })
    }

    /// The settings this fetcher was built with.
    pub fn config(&self) -> &FetchConfig {
        &self.inner.config
    }

    /// Fetches `req` with all manners applied: address guard, robots.txt,
    /// politeness, conditional GET, timeouts, body cap, bounded redirects
    /// (each hop guarded and checked against its host's robots.txt), retries
    /// for retryable failures (honouring `Retry-After`), charset decoding.
    pub async fn fetch(&self, req: &FetchRequest) -> Result<FetchOutcome, FetchError> {
        let url = &req.page.url;
        self.check_destination(url)?;
        let headers = self.request_headers(req)?;
        let settings = self.effective(&req.overrides);
        if settings.robots {
            self.check_robots(url, &settings).await?;
        }
        let mut retry = 0;
        loop {
            let failure = match self.attempt(req, &headers, &settings).await {
                Ok(outcome) => return Ok(outcome),
                Err(failure) => failure,
            };
            if !failure.error.is_retryable() || retry >= self.inner.config.retries {
                return Err(failure.error);
            }
            let base = Duration::from_millis(self.inner.config.backoff_base_ms);
            let wait = failure.retry_after.unwrap_or_else(|| backoff(base, retry));
            tracing::info!(error = %failure.error, ?wait, retry = retry + 1, "retrying fetch");
            tokio::time::sleep(wait).await;
            retry += 1;
        }
    }

    /// Refuses what may not be requested at all: a scheme other than http(s),
    /// no host, or a host written as a non-public IP address. Host names are
    /// checked when resolved (`fetch::resolve`); IP literals must be checked
    /// here, because reqwest connects to them without resolving.
    pub(super) fn check_destination(&self, url: &Url) -> Result<(), FetchError> {
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(FetchError::InvalidRequest {
                url: url.clone(),
                message: "only http and https URLs with a host can be fetched".to_string(),
            });
        }
        self.inner
            .allow
            .check_url(url)
            .map_err(|forbidden| FetchError::ForbiddenAddress {
                url: url.clone(),
                addr: forbidden.addr,
                class: forbidden.class,
            })
    }

    fn effective(&self, overrides: &FetchOverrides) -> Effective {
        let config = &self.inner.config;
        Effective {
            min_spacing: Duration::from_millis(
                overrides.min_spacing_ms.unwrap_or(config.min_spacing_ms),
            ),
            timeout_secs: overrides.timeout_secs.unwrap_or(config.timeout_secs).max(1),
            max_body_bytes: overrides.max_body_bytes.unwrap_or(config.max_body_bytes),
            robots: overrides.robots.unwrap_or(config.robots),
        }
    }

    /// Default headers, then the validators, then the source's headers. The
    /// source's values are marked sensitive: they may hold a token read from
    /// the environment, and a sensitive value is never shown by `Debug`.
    fn request_headers(&self, req: &FetchRequest) -> Result<HeaderMap, FetchError> {
        let invalid = |message: String| FetchError::InvalidRequest {
            url: req.page.url.clone(),
            message,
        };
        let mut headers = HeaderMap::new();
        let is_post = req.page.method == HttpMethod::Post;
        let accept = if is_post {
            ACCEPT_JSON
        } else {
            ACCEPT_DOCUMENT
        };
        headers.insert(header::ACCEPT, HeaderValue::from_static(accept));
        headers.insert(
            header::ACCEPT_LANGUAGE,
            HeaderValue::from_static(ACCEPT_LANGUAGE),
        );
        if is_post && let Some(content_type) = req.page.body.as_ref().and_then(|b| b.content_type())
        {
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        }
        // Conditional requests only make sense for GET (RFC 9110 §13.1.1).
        if !is_post {
            let validators = [
                (header::IF_NONE_MATCH, &req.validators.etag),
                (header::IF_MODIFIED_SINCE, &req.validators.last_modified),
            ];
            for (name, value) in validators {
                if let Some(value) = value.as_deref().and_then(|v| HeaderValue::from_str(v).ok()) {
                    headers.insert(name, value);
                }
            }
        }
        for (name, value) in &req.headers {
            let name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| invalid(format!("{name:?} is not a valid header name")))?;
            if name == header::USER_AGENT || name == header::ACCEPT_ENCODING {
                return Err(invalid(format!(
                    "the source may not set {name}: the fetcher owns it"
                )));
            }
            let mut value = HeaderValue::from_str(value)
                .map_err(|_| invalid(format!("the value of header {name} is not valid")))?;
            value.set_sensitive(true);
            headers.insert(name, value);
        }
        Ok(headers)
    }

    /// One attempt: the request and the redirects it leads to, each hop
    /// through the address guard, robots.txt of its host (the first hop's
    /// was checked by [`Fetcher::fetch`]) and its host's politeness slot.
    async fn attempt(
        &self,
        req: &FetchRequest,
        headers: &HeaderMap,
        settings: &Effective,
    ) -> Result<FetchOutcome, Failure> {
        let mut hop = Hop {
            method: req.page.method,
            url: req.page.url.clone(),
            headers: headers.clone(),
            body: req.page.body.clone(),
        };
        for redirects in 0..=self.inner.config.max_redirects {
            if redirects > 0 {
                self.check_destination(&hop.url)?;
                if settings.robots {
                    self.check_robots(&hop.url, settings).await?;
                }
            }
            let _slot = self
                .inner
                .politeness
                .acquire(&HostKey::of(&hop.url), settings.min_spacing)
                .await;
            tracing::debug!(url = %redact::url(&hop.url), "fetching");
            let timeout = Duration::from_secs(settings.timeout_secs);
            match tokio::time::timeout(timeout, self.send_hop(&hop, settings)).await {
                Ok(Ok(Step::Done(outcome))) => return Ok(outcome),
                Ok(Ok(Step::Redirect(next))) => hop = next,
                Ok(Err(failure)) => return Err(failure),
                Err(_) => {
                    return Err(FetchError::Timeout {
                        url: hop.url.clone(),
                        after_secs: settings.timeout_secs,
                    }
                    .into());
                }
            }
        }
        Err(FetchError::TooManyRedirects {
            url: req.page.url.clone(),
            limit: self.inner.config.max_redirects,
        }
        .into())
    }

    /// One request of the chain: a redirect to follow, or the final answer.
    async fn send_hop(&self, hop: &Hop, settings: &Effective) -> Result<Step, Failure> {
        let url = &hop.url;
        let method = match hop.method {
            HttpMethod::Get => reqwest::Method::GET,
            HttpMethod::Post => reqwest::Method::POST,
        };
        let mut builder = self
            .inner
            .client
            .request(method, url.clone())
            .headers(hop.headers.clone())
            .timeout(Duration::from_secs(settings.timeout_secs));
        builder = match &hop.body {
            None => builder,
            Some(RequestBody::Json(bytes)) => builder.body(bytes.clone()),
            Some(RequestBody::UrlEncoded(pairs)) => builder.body(RequestBody::urlencoded(pairs)),
            // reqwest sets Content-Type with the boundary, and Content-Length.
            Some(RequestBody::Multipart(parts)) => builder.multipart(RequestBody::multipart(parts)),
        };
        let response = builder
            .send()
            .await
            .map_err(|error| self.send_error(url, settings, &error))?;

        let status = response.status().as_u16();
        if status == 304 {
            return Ok(Step::Done(FetchOutcome::NotModified));
        }
        if is_redirect(status)
            && let Some(location) = response.headers().get(header::LOCATION)
        {
            return Ok(Step::Redirect(hop.next(status, Some(location))?));
        }
        if !response.status().is_success() {
            return Err(self.status_failure(url, &response));
        }
        let header_text = |name| {
            response
                .headers()
                .get(name)
                .and_then(|v: &HeaderValue| v.to_str().ok())
                .map(str::to_string)
        };
        let content_type = header_text(header::CONTENT_TYPE);
        let etag = header_text(header::ETAG);
        let last_modified = header_text(header::LAST_MODIFIED);
        let bytes = read_body(response, url, settings).await?;
        let decoded = charset::decode_body(&bytes, content_type.as_deref());
        if let Some(garbled) = decoded.garbled {
            tracing::warn!(
                url = %redact::url(url),
                invalid = garbled.invalid,
                valid = garbled.valid,
                "page declared UTF-8 but holds invalid sequences among valid text: kept as UTF-8, invalid bytes replaced by U+FFFD"
            );
        }
        Ok(Step::Done(FetchOutcome::Fetched(Page {
            url: url.clone(),
            status,
            content_type,
            bytes: bytes.into(),
            text: decoded.text,
            encoding: decoded.encoding.name(),
            etag,
            last_modified,
        })))
    }

    fn send_error(&self, url: &Url, settings: &Effective, error: &reqwest::Error) -> Failure {
        let url = url.clone();
        let error = if let Some(forbidden) = forbidden_in(error) {
            FetchError::ForbiddenAddress {
                url,
                addr: forbidden.addr,
                class: forbidden.class,
            }
        } else if error.is_timeout() {
            FetchError::Timeout {
                url,
                after_secs: settings.timeout_secs,
            }
        } else if error.is_connect() {
            let message = error_chain(error);
            if is_certificate_refusal(&message) {
                FetchError::Certificate { url, message }
            } else {
                FetchError::Connect { url, message }
            }
        } else if error.is_builder() {
            FetchError::InvalidRequest {
                url,
                message: error_chain(error),
            }
        } else {
            FetchError::Transport {
                url,
                message: error_chain(error),
            }
        };
        error.into()
    }

    /// A non-2xx, non-304 status. For 429 and 503, a `Retry-After` sets the
    /// wait before the next attempt, or fails the fetch if it is too long.
    fn status_failure(&self, url: &Url, response: &reqwest::Response) -> Failure {
        let status = response.status().as_u16();
        let retry_after = if status == 429 || status == 503 {
            response
                .headers()
                .get(header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| parse_retry_after(v, SystemTime::now()))
        } else {
            None
        };
        let max = self.inner.config.max_retry_after_secs;
        if let Some(wait) = retry_after
            && wait > Duration::from_secs(max)
        {
            return FetchError::RetryAfterTooLong {
                url: url.clone(),
                secs: wait.as_secs(),
                max,
            }
            .into();
        }
        Failure {
            error: FetchError::Status {
                url: url.clone(),
                status,
            },
            retry_after,
        }
    }
}

/// Reads the body as a stream, enforcing the size cap while reading (and up
/// front from `Content-Length`), and noticing a body cut short.
async fn read_body(
    response: reqwest::Response,
    url: &Url,
    settings: &Effective,
) -> Result<Vec<u8>, FetchError> {
    let limit = settings.max_body_bytes;
    let too_large = || FetchError::BodyTooLarge {
        url: url.clone(),
        limit,
    };
    // The header, not `content_length()`: when reqwest decompresses a body it
    // drops `Content-Length`, which then no longer describes what we read.
    let expected = response
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if expected.is_some_and(|len| len > limit) {
        return Err(too_large());
    }
    let truncated = |received: usize, expected: u64| FetchError::Truncated {
        url: url.clone(),
        received: received as u64,
        expected,
    };
    let mut body = Vec::with_capacity(expected.unwrap_or(0).min(1 << 20) as usize);
    let mut stream = response.bytes_stream();
    while let Some(chunk) = stream.next().await {
        match chunk {
            Ok(chunk) => {
                if (body.len() + chunk.len()) as u64 > limit {
                    return Err(too_large());
                }
                body.extend_from_slice(&chunk);
            }
            Err(error) if error.is_timeout() => {
                return Err(FetchError::Timeout {
                    url: url.clone(),
                    after_secs: settings.timeout_secs,
                });
            }
            Err(error) => {
                return Err(match expected {
                    Some(expected) if (body.len() as u64) < expected => {
                        truncated(body.len(), expected)
                    }
                    _ => FetchError::Body {
                        url: url.clone(),
                        message: error_chain(&error),
                    },
                });
            }
        }
    }
    match expected {
        Some(expected) if (body.len() as u64) < expected => Err(truncated(body.len(), expected)),
        _ => Ok(body),
    }
}
