//! Why a fetch failed, one variant per cause, and the single place that
//! decides which failures are worth retrying ([`FetchError::is_retryable`]).
//! The crawl orchestrator and the scheduler branch on these variants.

use std::error::Error as StdError;
use std::net::IpAddr;

use url::Url;

use super::address::{AddressClass, Forbidden};

/// A fetch that did not produce a page. Each message is one line saying what
/// happened and, where it helps, what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error(
        "robots.txt of {} disallows {} for Vigie; the page was not requested: drop it from the source or ask the site's owner", url.host_str().unwrap_or("the site"), crate::redact::url(url),
    )]
    DisallowedByRobots { url: Url },

    #[error(
        "{}/robots.txt could not be fetched ({reason}), so per RFC 9309 the whole site counts as disallowed and {} was not requested; the next run tries again", url.origin().ascii_serialization(), crate::redact::url(url),
    )]
    RobotsUnreachable { url: Url, reason: String },

    #[error("{} answered HTTP {status}{}", crate::redact::url(url), status_hint(*status))]
    Status { url: Url, status: u16 },

    #[error(
        "{} did not answer completely within {after_secs} s; raise timeout_secs for this source if the site is just slow",
        crate::redact::url(url)
    )]
    Timeout { url: Url, after_secs: u64 },

    #[error(
        "the body of {} is larger than the {limit}-byte cap; raise max_body_bytes for this source if the page is legitimately that big",
        crate::redact::url(url)
    )]
    BodyTooLarge { url: Url, limit: u64 },

    #[error(
        "{} redirected more than {limit} times (a redirect loop?); point the source at the final URL",
        crate::redact::url(url)
    )]
    TooManyRedirects { url: Url, limit: usize },

    #[error(
        "could not connect to {}: {message}; check the host name and that the site is up",
        crate::redact::url(url)
    )]
    Connect { url: Url, message: String },

    #[error(
        "the TLS certificate of {} was refused ({message}): the server may send an incomplete chain (a browser fetches a missing intermediate certificate by itself, Vigie does not), or the certificate is expired, self-signed or for another name; ask the site's owner to serve a complete, valid chain",
        url.host_str().unwrap_or("the site")
    )]
    Certificate { url: Url, message: String },

    #[error(
        "the body of {} stopped after {received} of the {expected} bytes announced by Content-Length (the server closed the connection early)",
        crate::redact::url(url)
    )]
    Truncated {
        url: Url,
        received: u64,
        expected: u64,
    },

    #[error("reading the body of {} failed: {message}", crate::redact::url(url))]
    Body { url: Url, message: String },

    #[error(
        "the request to {} failed before a response arrived: {message}",
        crate::redact::url(url)
    )]
    Transport { url: Url, message: String },

    #[error(
        "{} asked to wait {secs} s before retrying (Retry-After), more than max_retry_after_secs = {max}; gave up until the next run",
        crate::redact::url(url)
    )]
    RetryAfterTooLong { url: Url, secs: u64, max: u64 },

    #[error("cannot request {}: {message}", crate::redact::url(url))]
    InvalidRequest { url: Url, message: String },

    #[error(
        "refused to connect to {} at {addr}: a {class} address, and Vigie only reaches public addresses; fix the source (or the redirect that led here), or list the host in fetch.allow_hosts if it is meant to be reached",
        crate::redact::url(url)
    )]
    ForbiddenAddress {
        url: Url,
        addr: IpAddr,
        class: AddressClass,
    },
}

impl FetchError {
    /// Whether trying the same request again soon may succeed. This is the
    /// one place that decides it: the fetcher's retry loop and the scheduler
    /// both ask here.
    ///
    /// Retryable: timeouts, connection and transport failures, a body cut
    /// short, HTTP 5xx, 408 (Request Timeout) and 429 (Too Many Requests).
    /// Not retryable: other 4xx (the request itself is wrong), robots.txt
    /// refusals (the verdict is cached), a body over the cap, redirect loops,
    /// a `Retry-After` beyond the configured maximum, invalid requests, a
    /// forbidden address, a refused TLS certificate (it will not fix itself
    /// within a crawl).
    pub fn is_retryable(&self) -> bool {
        match self {
            FetchError::Timeout { .. }
            | FetchError::Connect { .. }
            | FetchError::Truncated { .. }
            | FetchError::Body { .. }
            | FetchError::Transport { .. } => true,
            FetchError::Status { status, .. } => *status >= 500 || *status == 408 || *status == 429,
            FetchError::DisallowedByRobots { .. }
            | FetchError::RobotsUnreachable { .. }
            | FetchError::BodyTooLarge { .. }
            | FetchError::TooManyRedirects { .. }
            | FetchError::RetryAfterTooLong { .. }
            | FetchError::InvalidRequest { .. }
            | FetchError::Certificate { .. }
            | FetchError::ForbiddenAddress { .. } => false,
        }
    }

    /// The URL the failed fetch was for.
    pub fn url(&self) -> &Url {
        match self {
            FetchError::DisallowedByRobots { url }
            | FetchError::RobotsUnreachable { url, .. }
            | FetchError::Status { url, .. }
            | FetchError::Timeout { url, .. }
            | FetchError::BodyTooLarge { url, .. }
            | FetchError::TooManyRedirects { url, .. }
            | FetchError::Connect { url, .. }
            | FetchError::Certificate { url, .. }
            | FetchError::Truncated { url, .. }
            | FetchError::Body { url, .. }
            | FetchError::Transport { url, .. }
            | FetchError::RetryAfterTooLong { url, .. }
            | FetchError::InvalidRequest { url, .. }
            | FetchError::ForbiddenAddress { url, .. } => url,
        }
    }
}

/// A short reason phrase and, for the statuses a curator can act on, advice.
fn status_hint(status: u16) -> &'static str {
    match status {
        401 | 403 => {
            " (access refused): the site blocks Vigie or needs credentials; check the source URL or ask the owner"
        }
        404 | 410 => " (not found): the page moved or was removed; update the source URL",
        405 => " (method not allowed): check the source's method",
        408 => " (request timeout): will be retried",
        429 => " (too many requests): will be retried later",
        400..=499 => " (client error): check the source URL, method and headers",
        500..=599 => " (server error): the site is failing; will be retried",
        _ => "",
    }
}

/// An error and its causes on one line (`a: b: c`), because reqwest's own
/// message ("error sending request") hides the cause that matters.
pub(crate) fn error_chain(error: &dyn StdError) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        source = cause.source();
    }
    crate::redact::text(&message)
}

/// Whether an error's causes (one line, [`error_chain`]) say the server's
/// certificate was refused: rustls reports "invalid peer certificate: …"
/// (`UnknownIssuer` for a chain it cannot complete, `Expired`,
/// `NotValidForName`…).
pub(crate) fn is_certificate_refusal(chain: &str) -> bool {
    chain.contains("invalid peer certificate")
}

/// The address guard's refusal, if it is somewhere in `error`'s causes
/// (reqwest wraps what the resolver returns).
pub(crate) fn forbidden_in(error: &(dyn StdError + 'static)) -> Option<Forbidden> {
    let mut cause = Some(error);
    while let Some(error) = cause {
        if let Some(forbidden) = error.downcast_ref::<Forbidden>() {
            return Some(*forbidden);
        }
        cause = error.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url() -> Url {
        Url::parse("https://example.fr/aap").unwrap()
    }

    #[test]
    fn retryable_statuses_are_5xx_408_and_429() {
        let status = |status| FetchError::Status { url: url(), status };
        assert!(status(500).is_retryable());
        assert!(status(503).is_retryable());
        assert!(status(408).is_retryable());
        assert!(status(429).is_retryable());
        assert!(!status(404).is_retryable());
        assert!(!status(403).is_retryable());
        assert!(!status(400).is_retryable());
    }

    #[test]
    fn messages_are_one_line() {
        let errors = [
            FetchError::Status {
                url: url(),
                status: 404,
            },
            FetchError::BodyTooLarge {
                url: url(),
                limit: 10,
            },
            FetchError::DisallowedByRobots { url: url() },
            FetchError::Truncated {
                url: url(),
                received: 1,
                expected: 2,
            },
        ];
        for error in errors {
            let message = error.to_string();
            assert!(!message.contains('\n'), "{message}");
            assert!(message.contains("https://example.fr/aap"), "{message}");
        }
    }
}
