//! What the fetch stage hands to the extract stage: a request to make and
//! the decoded page it returned. Shared by `fetch` and `extract` so that
//! neither depends on the other's internals.

use bytes::Bytes;
use url::Url;

use super::body::RequestBody;

/// The methods a source's request may use: a JSON API may want a POST.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum HttpMethod {
    #[default]
    Get,
    Post,
}

/// One HTTP request a source asks for (listing page, API page, detail page).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    pub method: HttpMethod,
    pub url: Url,
    /// The body of a POST request.
    pub body: Option<RequestBody>,
}

impl PageRequest {
    pub fn get(url: Url) -> Self {
        PageRequest {
            method: HttpMethod::Get,
            url,
            body: None,
        }
    }
}

/// A successfully fetched response, body decoded to UTF-8 text.
#[derive(Debug, Clone)]
pub struct Page {
    /// The final URL, after redirects: relative links resolve against it.
    pub url: Url,
    pub status: u16,
    /// The `Content-Type` header, if any (e.g. `text/html; charset=utf-8`).
    pub content_type: Option<String>,
    /// The raw body, as received (after content-encoding was removed).
    pub bytes: Bytes,
    /// The body decoded to text using header, BOM, `<meta>`/XML declaration,
    /// then a detector (see `fetch::charset`).
    pub text: String,
    /// The encoding that was used to decode `text` (e.g. `windows-1252`).
    pub encoding: &'static str,
    /// Validators for the next conditional GET.
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}
