//! The fetcher: one HTTP request with every manner applied, in this order —
//! robots.txt verdict, politeness slot (concurrency and spacing), request
//! with conditional headers, status handling, capped body read, charset
//! decoding — and the retry loop around it. [`Fetcher::fetch`] is the fetch
//! stage's entry point; it returns a [`Page`] for extract.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use anyhow::Context as _;
use futures::StreamExt as _;
use reqwest::header::{self, HeaderMap, HeaderName, HeaderValue};
use url::Url;

use super::charset;
use super::config::{FetchConfig, FetchOverrides};
use super::error::{FetchError, error_chain};
use super::page::Page;
use super::politeness::{HostKey, Politeness};
use super::request::ACCEPT_LANGUAGE;
pub use super::request::{
    ACCEPT_DOCUMENT, ACCEPT_FEED, ACCEPT_JSON, FetchOutcome, FetchRequest, Validators,
};
use super::retry::{backoff, parse_retry_after};
use super::robots::{MAX_ROBOTS_BYTES, RobotsCache, RobotsResponse, RobotsRules};
use crate::source::schema::HttpMethod;

/// The HTTP client with manners. Cheap to clone; clones share the
/// connection pool, the robots.txt cache and the politeness state.
#[derive(Debug, Clone)]
pub struct Fetcher {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    client: reqwest::Client,
    config: FetchConfig,
    politeness: Politeness,
    robots: RobotsCache,
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
struct Effective {
    min_spacing: Duration,
    timeout_secs: u64,
    max_body_bytes: u64,
}

impl Fetcher {
    /// Builds a fetcher; fails if the configuration cannot work.
    pub fn new(config: FetchConfig) -> anyhow::Result<Fetcher> {
        config.validate()?;
        let client = reqwest::Client::builder()
            .user_agent(config.effective_user_agent())
            .connect_timeout(Duration::from_secs(config.connect_timeout_secs))
            .timeout(Duration::from_secs(config.timeout_secs))
            .redirect(reqwest::redirect::Policy::limited(config.max_redirects))
            .gzip(true)
            .build()
            .context("could not build the HTTP client")?;
        Ok(Fetcher {
            inner: Arc::new(Inner {
                client,
                politeness: Politeness::new(config.total_concurrency, config.per_host_concurrency),
                robots: RobotsCache::default(),
                config,
            }),
        })
    }

    /// The settings this fetcher was built with.
    pub fn config(&self) -> &FetchConfig {
        &self.inner.config
    }

    /// Fetches `req` with all manners applied: robots.txt, politeness,
    /// conditional GET, timeouts, body cap, bounded redirects, retries for
    /// retryable failures (honouring `Retry-After`), charset decoding.
    pub async fn fetch(&self, req: &FetchRequest) -> Result<FetchOutcome, FetchError> {
        let url = &req.page.url;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(FetchError::InvalidRequest {
                url: url.clone(),
                message: "only http and https URLs with a host can be fetched".to_string(),
            });
        }
        let headers = self.request_headers(req)?;
        let settings = self.effective(&req.overrides);
        if req.overrides.robots.unwrap_or(self.inner.config.robots) {
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

    fn effective(&self, overrides: &FetchOverrides) -> Effective {
        let config = &self.inner.config;
        Effective {
            min_spacing: Duration::from_millis(
                overrides.min_spacing_ms.unwrap_or(config.min_spacing_ms),
            ),
            timeout_secs: overrides.timeout_secs.unwrap_or(config.timeout_secs).max(1),
            max_body_bytes: overrides.max_body_bytes.unwrap_or(config.max_body_bytes),
        }
    }

    /// Default headers, then the validators, then the source's headers.
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
        if is_post && req.page.body.is_some() {
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
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
            let value = HeaderValue::from_str(value)
                .map_err(|_| invalid(format!("the value of header {name} is not valid")))?;
            headers.insert(name, value);
        }
        Ok(headers)
    }

    /// Fails with `DisallowedByRobots` / `RobotsUnreachable` unless robots.txt
    /// lets Vigie fetch `url`. Only the requested URL is checked, not the
    /// targets of the redirects it leads to: reqwest follows those itself, and
    /// a site redirecting us somewhere has asked us to go there.
    async fn check_robots(&self, url: &Url, settings: &Effective) -> Result<(), FetchError> {
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
            RobotsRules::Unreachable { reason } => FetchError::RobotsUnreachable {
                url: url.clone(),
                reason: reason.clone(),
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
        tracing::debug!(url = %robots_url, "fetching robots.txt");
        let timeout = Duration::from_secs(settings.timeout_secs);
        let request = async {
            let response = self
                .inner
                .client
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
            Ok(Err(error)) if error.is_redirect() => RobotsResponse::TooManyRedirects,
            Ok(Err(error)) => RobotsResponse::Failed {
                reason: error_chain(&error),
            },
            Err(_) => RobotsResponse::Failed {
                reason: format!("no complete answer within {} s", settings.timeout_secs),
            },
        }
    }

    /// One attempt: politeness slot, request, status, body, decoding.
    async fn attempt(
        &self,
        req: &FetchRequest,
        headers: &HeaderMap,
        settings: &Effective,
    ) -> Result<FetchOutcome, Failure> {
        let url = &req.page.url;
        let _slot = self
            .inner
            .politeness
            .acquire(&HostKey::of(url), settings.min_spacing)
            .await;
        tracing::debug!(%url, "fetching");
        let timeout = Duration::from_secs(settings.timeout_secs);
        match tokio::time::timeout(timeout, self.send_and_read(req, headers, settings)).await {
            Ok(result) => result,
            Err(_) => Err(FetchError::Timeout {
                url: url.clone(),
                after_secs: settings.timeout_secs,
            }
            .into()),
        }
    }

    async fn send_and_read(
        &self,
        req: &FetchRequest,
        headers: &HeaderMap,
        settings: &Effective,
    ) -> Result<FetchOutcome, Failure> {
        let url = &req.page.url;
        let method = match req.page.method {
            HttpMethod::Get => reqwest::Method::GET,
            HttpMethod::Post => reqwest::Method::POST,
        };
        let mut builder = self
            .inner
            .client
            .request(method, url.clone())
            .headers(headers.clone())
            .timeout(Duration::from_secs(settings.timeout_secs));
        if let Some(body) = &req.page.body {
            builder = builder.body(body.clone());
        }
        let response = builder
            .send()
            .await
            .map_err(|error| self.send_error(url, settings, &error))?;

        let status = response.status().as_u16();
        if status == 304 {
            return Ok(FetchOutcome::NotModified);
        }
        if !response.status().is_success() {
            return Err(self.status_failure(url, &response));
        }
        let final_url = response.url().clone();
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
        let (text, encoding) = charset::decode(&bytes, content_type.as_deref());
        Ok(FetchOutcome::Fetched(Page {
            url: final_url,
            status,
            content_type,
            bytes: bytes.into(),
            text,
            encoding,
            etag,
            last_modified,
        }))
    }

    fn send_error(&self, url: &Url, settings: &Effective, error: &reqwest::Error) -> Failure {
        let url = url.clone();
        let error = if error.is_timeout() {
            FetchError::Timeout {
                url,
                after_secs: settings.timeout_secs,
            }
        } else if error.is_redirect() {
            FetchError::TooManyRedirects {
                url,
                limit: self.inner.config.max_redirects,
            }
        } else if error.is_connect() {
            FetchError::Connect {
                url,
                message: error_chain(error),
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
