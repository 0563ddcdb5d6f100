//! What a caller asks the fetcher for and what it gets back: the request
//! with its validators and overrides, the outcome, and the `Accept`
//! headers by kind of source. The fetcher itself is in [`super::client`].

use url::Url;

use super::config::FetchOverrides;
use super::page::{Page, PageRequest};

/// `Accept` for a GET when the source does not say: documents of any kind
/// Vigie extracts (HTML first, then feeds and JSON).
pub const ACCEPT_DOCUMENT: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,\
application/rss+xml;q=0.9,application/atom+xml;q=0.9,application/json;q=0.8,*/*;q=0.5";
/// `Accept` for feed sources.
pub const ACCEPT_FEED: &str =
    "application/rss+xml,application/atom+xml,application/xml;q=0.9,text/xml;q=0.9,*/*;q=0.5";
/// `Accept` for JSON API sources, and the default for POST (whose body is JSON).
pub const ACCEPT_JSON: &str = "application/json,*/*;q=0.5";
/// Most calls Vigie follows are in French.
pub(crate) const ACCEPT_LANGUAGE: &str = "fr-FR,fr;q=0.9,en;q=0.5";

/// Stored validators from the previous fetch of the same URL, for a
/// conditional GET (RFC 9110 §13).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Validators {
    /// Sent as `If-None-Match`.
    pub etag: Option<String>,
    /// Sent as `If-Modified-Since`.
    pub last_modified: Option<String>,
}

/// One fetch: the request, the source's extra headers, the validators and
/// the source's overrides of the fetch settings.
#[derive(Debug, Clone)]
pub struct FetchRequest {
    pub page: PageRequest,
    /// Extra headers from the source (e.g. `Accept`, an API key). They replace
    /// the fetcher's defaults, except `User-Agent` and `Accept-Encoding`,
    /// which the fetcher owns and which are refused here.
    pub headers: Vec<(String, String)>,
    pub validators: Validators,
    pub overrides: FetchOverrides,
}

impl FetchRequest {
    /// A request with no extra headers, validators or overrides.
    pub fn new(page: PageRequest) -> FetchRequest {
        FetchRequest {
            page,
            headers: Vec::new(),
            validators: Validators::default(),
            overrides: FetchOverrides::default(),
        }
    }

    /// A plain GET of `url`.
    pub fn get(url: Url) -> FetchRequest {
        FetchRequest::new(PageRequest::get(url))
    }
}

/// What a successful fetch gives.
// Returned once per fetch and unpacked at once: boxing the page would only
// add an allocation.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum FetchOutcome {
    /// HTTP 304: the page did not change since the validators were stored.
    NotModified,
    /// A 2xx response, read and decoded.
    Fetched(Page),
}
