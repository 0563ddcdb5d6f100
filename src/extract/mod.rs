//! Extract stage: bytes of a fetched page to raw items, by source kind
//! (`html`, `feed`, `json`). Nothing here interprets dates, URLs or codes:
//! that is `normalize`'s job. Pipeline: fetch → **extract** → normalize.

use url::Url;

/// One item as found on a source, before normalization. Every field is the
/// text as the source gave it (trimmed), or `None`/empty when absent.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct RawItem {
    /// The source's own identifier (feed GUID, API id, `data-id`...).
    pub id: Option<String>,
    pub title: Option<String>,
    /// As found: may be relative to `base_url`.
    pub link: Option<String>,
    /// May contain HTML markup (sanitized later).
    pub summary: Option<String>,
    /// Free text that should contain the deadline ("Clôture le 15 mars 2027").
    pub deadline: Option<String>,
    pub opens: Option<String>,
    pub published: Option<String>,
    pub funder: Option<String>,
    pub kind: Option<String>,
    /// Labels, mapped to codes by normalize through the source's maps.
    pub audiences: Vec<String>,
    pub perimeter: Option<String>,
    pub themes: Vec<String>,
    /// All the item's visible text, where a deadline is searched for when no
    /// deadline field gave one.
    pub text: Option<String>,
    /// The URL of the page the item came from.
    pub base_url: Option<Url>,
}
