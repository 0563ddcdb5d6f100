//! Why a source's crawl failed, kept typed until it is printed: the
//! scheduler backs off on [`CrawlError::is_transient`], metrics and alerts
//! count [`CrawlError::code`], and people read the `Display` message (the
//! same text the crawl printed before this type existed).

use std::borrow::Cow;
use std::sync::Arc;

use serde::{Serialize, Serializer};
use url::Url;

use crate::extract::ExtractError;
use crate::fetch::FetchError;

/// What stopped a source's crawl. Items stored before the failure are kept.
#[derive(Debug, Clone, thiserror::Error)]
pub enum CrawlError {
    /// A listing page could not be fetched (`page` is 0-based).
    #[error("{}{error}", page_prefix(*page))]
    Fetch { page: u32, error: Arc<FetchError> },

    /// A listing page could not be read as the source's kind.
    #[error("{}{error}", page_prefix(*page))]
    Extract { page: u32, error: ExtractError },

    /// The API's token could not be obtained, or the API refused it.
    #[error("{}authentication: {error}", page_prefix(*page))]
    Auth { page: u32, error: AuthError },

    /// Every page was read and none held an item: the selectors or paths
    /// match nothing, almost always because the site changed its layout.
    #[error("no items found: the selectors or paths match nothing (has the page layout changed?)")]
    LayoutChanged,

    /// The database refused a read or a write.
    #[error("database: {0}")]
    Database(String),

    /// The crawl task itself failed (a bug: please report it).
    #[error("internal error: {0}")]
    Internal(String),
}

fn page_prefix(page: u32) -> String {
    if page == 0 {
        String::new()
    } else {
        format!("page {}: ", page + 1)
    }
}

impl CrawlError {
    /// A database error, with its cause chain on one line.
    pub fn database(e: &anyhow::Error) -> CrawlError {
        CrawlError::Database(format!("{e:#}"))
    }

    /// Whether the next scheduled try may well succeed without anyone
    /// changing anything: the fetch error's own verdict
    /// ([`FetchError::is_retryable`]), and database errors (a lock held too
    /// long). A page that does not parse or a layout change needs a
    /// curator, so backing off harder is right.
    pub fn is_transient(&self) -> bool {
        match self {
            CrawlError::Fetch { error, .. } => error.is_retryable(),
            CrawlError::Auth { error, .. } => error.is_transient(),
            CrawlError::Database(_) => true,
            CrawlError::Extract { .. } | CrawlError::LayoutChanged | CrawlError::Internal(_) => {
                false
            }
        }
    }

    /// A stable short code for metrics, alerts and the `crawl_runs` table:
    /// `timeout`, `http_503`, `robots`, `layout_changed`...
    pub fn code(&self) -> Cow<'static, str> {
        match self {
            CrawlError::Fetch { error, .. } => fetch_code(error),
            CrawlError::Extract { error, .. } => Cow::Borrowed(match error {
                ExtractError::NotHtml { .. } => "not_html",
                ExtractError::NotAFeed { .. } => "not_a_feed",
                ExtractError::NotJson { .. } => "not_json",
                ExtractError::ItemsPathNotFound { .. } => "layout_changed",
            }),
            CrawlError::Auth { error, .. } => Cow::Borrowed(error.code()),
            CrawlError::LayoutChanged => Cow::Borrowed("layout_changed"),
            CrawlError::Database(_) => Cow::Borrowed("database"),
            CrawlError::Internal(_) => Cow::Borrowed("internal"),
        }
    }

    /// The fetch error, when a fetch is what failed.
    pub fn fetch_error(&self) -> Option<&FetchError> {
        match self {
            CrawlError::Fetch { error, .. } => Some(error),
            _ => None,
        }
    }
}

/// Why a source with `[auth]` has no usable token. No message holds the
/// key or a token: only the endpoint, the status and the variable's name.
#[derive(Debug, Clone, thiserror::Error)]
pub enum AuthError {
    /// The token endpoint answered 401 or 403 to the key.
    #[error(
        "the token endpoint {} refused the key read from {vars} (HTTP {status}): check that the key is the one the API gave and that it was not revoked",
        crate::redact::url(url)
    )]
    KeyRefused { url: Url, status: u16, vars: String },

    /// The token endpoint could not be reached or failed.
    #[error("could not obtain a token: {0}")]
    Exchange(Arc<FetchError>),

    /// The token endpoint answered, but not with a token where `[auth]`
    /// says it is.
    #[error(
        "the token endpoint {} answered without a token at `{path}` ({why}); check auth.token_path",
        crate::redact::url(url)
    )]
    NoToken { url: Url, path: String, why: String },

    /// The API answered 401 to a token obtained just before.
    #[error(
        "{} refused a freshly obtained token (HTTP 401 twice): the key may not give access to this API, or auth.header/auth.prefix are not what it expects",
        crate::redact::url(url)
    )]
    TokenRefused { url: Url },
}

impl AuthError {
    /// A stable short code (see [`CrawlError::code`]).
    pub fn code(&self) -> &'static str {
        match self {
            AuthError::KeyRefused { .. } => "auth_key_refused",
            AuthError::Exchange(_) => "auth_unreachable",
            AuthError::NoToken { .. } => "auth_no_token",
            AuthError::TokenRefused { .. } => "auth_token_refused",
        }
    }

    /// Only an endpoint that failed may answer next time; a refusal needs
    /// someone to change the key or the definition.
    pub fn is_transient(&self) -> bool {
        matches!(self, AuthError::Exchange(e) if e.is_retryable())
    }
}

fn fetch_code(error: &FetchError) -> Cow<'static, str> {
    Cow::Borrowed(match error {
        FetchError::Status { status, .. } => return Cow::Owned(format!("http_{status}")),
        FetchError::DisallowedByRobots { .. } => "robots",
        FetchError::RobotsUnreachable { .. } => "robots_unreachable",
        FetchError::Timeout { .. } => "timeout",
        FetchError::BodyTooLarge { .. } => "body_too_large",
        FetchError::TooManyRedirects { .. } => "too_many_redirects",
        FetchError::Connect { .. } => "connect",
        FetchError::Certificate { .. } => "certificate",
        FetchError::Truncated { .. } => "truncated",
        FetchError::Body { .. } => "body",
        FetchError::Transport { .. } => "transport",
        FetchError::RetryAfterTooLong { .. } => "retry_after_too_long",
        FetchError::InvalidRequest { .. } => "invalid_request",
        FetchError::ForbiddenAddress { .. } => "forbidden_address",
    })
}

/// Two errors are equal when they say the same thing with the same code
/// (`FetchError` itself has no equality).
impl PartialEq for CrawlError {
    fn eq(&self, other: &Self) -> bool {
        self.code() == other.code() && self.to_string() == other.to_string()
    }
}

impl Eq for CrawlError {}

/// As `{"code": "http_503", "transient": true, "message": "..."}`.
impl Serialize for CrawlError {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut s = serializer.serialize_struct("CrawlError", 3)?;
        s.serialize_field("code", &self.code())?;
        s.serialize_field("transient", &self.is_transient())?;
        s.serialize_field("message", &self.to_string())?;
        s.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url() -> url::Url {
        url::Url::parse("http://example.test/aap").unwrap()
    }

    #[test]
    fn codes_and_transience_follow_the_fetch_error() {
        let cases = [
            (
                FetchError::Status {
                    url: url(),
                    status: 503,
                },
                "http_503",
                true,
            ),
            (
                FetchError::Status {
                    url: url(),
                    status: 404,
                },
                "http_404",
                false,
            ),
            (
                FetchError::Timeout {
                    url: url(),
                    after_secs: 5,
                },
                "timeout",
                true,
            ),
            (
                FetchError::DisallowedByRobots { url: url() },
                "robots",
                false,
            ),
        ];
        for (error, code, transient) in cases {
            let e = CrawlError::Fetch {
                page: 0,
                error: Arc::new(error),
            };
            assert_eq!(e.code(), code);
            assert_eq!(e.is_transient(), transient, "{code}");
        }
        assert_eq!(CrawlError::LayoutChanged.code(), "layout_changed");
        assert!(!CrawlError::LayoutChanged.is_transient());
    }

    #[test]
    fn messages_read_as_before_with_the_page_number_after_the_first() {
        let error = Arc::new(FetchError::Status {
            url: url(),
            status: 500,
        });
        let first = CrawlError::Fetch {
            page: 0,
            error: Arc::clone(&error),
        };
        let third = CrawlError::Fetch { page: 2, error };
        assert!(
            first
                .to_string()
                .starts_with("http://example.test/aap answered HTTP 500")
        );
        assert!(
            third
                .to_string()
                .starts_with("page 3: http://example.test/aap answered HTTP 500")
        );
        let json = serde_json::to_value(&third).unwrap();
        assert_eq!(json["code"], "http_500");
        assert_eq!(json["transient"], true);
    }
}
