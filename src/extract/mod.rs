//! Extract stage: bytes of a fetched page to raw items, by source kind
//! (`html`, `feed`, `json`). Nothing here interprets dates, URLs or codes:
//! that is `normalize`'s job. Pipeline: fetch → **extract** → normalize.
//!
//! Every kind implements [`Extractor`]; the three entry points below pick
//! the implementation from the source's [`KindSpec`], so the crawl loop is
//! the same for all kinds: `first_request`, then fetch and `extract_page`
//! while `Extraction::next` says there is more, then `extract_detail` for
//! sources that follow item links. No input makes these functions panic.

pub mod feed;
pub mod html;
pub mod json;

use url::Url;

use crate::fetch::page::{Page, PageRequest};
use crate::source::{KindSpec, SourceDef};

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

/// What one page gave.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Extraction {
    pub items: Vec<RawItem>,
    /// The next page to fetch, if pagination goes on. Already bounded by
    /// `max_pages`, and `None` when the link leads back to the current,
    /// requested or first URL; extract is stateless, so the crawl loop
    /// should also stop on any URL it has already fetched in this run.
    pub next: Option<PageRequest>,
    /// Things a curator should know about (selector matched nothing, item
    /// without title...). The page was still usable.
    pub warnings: Vec<String>,
    /// Items skipped because the title selector or path found nothing
    /// (each also has a warning).
    pub untitled: u32,
}

/// A page that cannot be read as the source's kind (`url` is the page's
/// final URL, as text). The crawl counts it as
/// a failure of the source (it never closes the source's calls).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExtractError {
    #[error("{url} is not an HTML page: got {got}")]
    NotHtml { url: String, got: String },
    #[error("{url} is not a feed: {message}")]
    NotAFeed { url: String, message: String },
    #[error("{url} is not JSON: {message}")]
    NotJson { url: String, message: String },
    #[error("json.items `{path}` not found in the response from {url}: {found}")]
    ItemsPathNotFound {
        url: String,
        path: String,
        /// What is there instead (the top-level keys present, or the type).
        found: String,
    },
}

/// The shape shared by every source kind.
pub trait Extractor {
    /// The first request of a crawl.
    fn first_request(&self, source: &SourceDef) -> PageRequest;

    /// Items of one listing page; `page_index` is 0 for the first page.
    fn extract_page(
        &self,
        source: &SourceDef,
        request: &PageRequest,
        page: &Page,
        page_index: u32,
    ) -> Result<Extraction, ExtractError>;

    /// Completes `item` from its detail page; returns warnings. Kinds
    /// without detail pages do nothing.
    fn extract_detail(
        &self,
        _source: &SourceDef,
        _page: &Page,
        _item: &mut RawItem,
    ) -> Vec<String> {
        Vec::new()
    }
}

fn extractor(spec: &KindSpec) -> &dyn Extractor {
    match spec {
        KindSpec::Html(html) => html.as_ref(),
        KindSpec::Feed(feed) => feed.as_ref(),
        KindSpec::Json(json) => json.as_ref(),
    }
}

/// The first request of a crawl of `source`: its URL (for json sources with
/// the query parameters, the first page parameter, and the POST body).
pub fn first_request(source: &SourceDef) -> PageRequest {
    extractor(&source.spec).first_request(source)
}

/// Items of one page of `source`, with the next request if any.
pub fn extract_page(
    source: &SourceDef,
    request: &PageRequest,
    page: &Page,
    page_index: u32,
) -> Result<Extraction, ExtractError> {
    extractor(&source.spec).extract_page(source, request, page, page_index)
}

/// Fills `item` from its detail page using `[html.detail]`. A detail value
/// fills a field only where the listing had none, except `deadline`, where
/// the detail page wins (it is usually more precise). Returns warnings.
pub fn extract_detail(source: &SourceDef, page: &Page, item: &mut RawItem) -> Vec<String> {
    extractor(&source.spec).extract_detail(source, page, item)
}

/// Merges `detail` into `item` by the rule of [`extract_detail`].
fn merge_detail(item: &mut RawItem, detail: RawItem) {
    fn fill(slot: &mut Option<String>, value: Option<String>) {
        if slot.is_none() {
            *slot = value;
        }
    }
    fill(&mut item.id, detail.id);
    fill(&mut item.title, detail.title);
    fill(&mut item.link, detail.link);
    fill(&mut item.summary, detail.summary);
    if detail.deadline.is_some() {
        item.deadline = detail.deadline;
    }
    fill(&mut item.opens, detail.opens);
    fill(&mut item.published, detail.published);
    fill(&mut item.funder, detail.funder);
    fill(&mut item.kind, detail.kind);
    fill(&mut item.perimeter, detail.perimeter);
    if item.audiences.is_empty() {
        item.audiences = detail.audiences;
    }
    if item.themes.is_empty() {
        item.themes = detail.themes;
    }
}

/// The name of the first element of a lowercased markup text, skipping
/// the XML declaration, processing instructions, comments and doctype.
fn root_element_name(head: &str) -> &str {
    let mut rest = head;
    loop {
        rest = rest.trim_start();
        let skip = if rest.starts_with("<!--") {
            rest.find("-->").map(|i| i + 3)
        } else if rest.starts_with("<?") || rest.starts_with("<!") {
            rest.find('>').map(|i| i + 1)
        } else {
            break;
        };
        match skip {
            Some(i) => rest = &rest[i..],
            None => return "",
        }
    }
    let name = rest.strip_prefix('<').unwrap_or("");
    let end = name
        .find(|c: char| c.is_whitespace() || c == '>' || c == '/')
        .unwrap_or(name.len());
    &name[..end]
}

/// What a body looks like, whatever its Content-Type claims.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BodyShape {
    Empty,
    Html,
    Xml,
    Json,
    Text,
}

impl BodyShape {
    pub(crate) fn of(page: &Page) -> BodyShape {
        let body = page.text.trim_start_matches('\u{feff}').trim_start();
        let head: String = body
            .chars()
            .take(2048)
            .collect::<String>()
            .to_ascii_lowercase();
        if body.is_empty() {
            BodyShape::Empty
        } else if head.starts_with('{') || head.starts_with('[') {
            BodyShape::Json
        } else if !head.starts_with('<') {
            BodyShape::Text
        } else {
            // Decide by the root element, not by words that may appear in
            // escaped or CDATA content further down.
            match root_element_name(&head) {
                "html" => BodyShape::Html,
                "rss" | "feed" | "rdf:rdf" => BodyShape::Xml,
                _ if head.starts_with("<!doctype html") => BodyShape::Html,
                _ if head.starts_with("<?xml") => BodyShape::Xml,
                // A bare fragment (`<div>...`) is still HTML to a browser.
                _ => BodyShape::Html,
            }
        }
    }

    /// "HTML (text/html; charset=utf-8)", for messages.
    pub(crate) fn describe(self, page: &Page) -> String {
        let what = match self {
            BodyShape::Empty => "an empty body",
            BodyShape::Html => "HTML",
            BodyShape::Xml => "XML",
            BodyShape::Json => "JSON",
            BodyShape::Text => "plain text",
        };
        match &page.content_type {
            Some(ct) => format!("{what} ({ct})"),
            None => what.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::testutil::page;
    use super::*;

    #[test]
    fn body_shape_goes_by_the_root_element() {
        let shape = |body: &str| BodyShape::of(&page("https://a.fr/", "text/plain", body));
        assert_eq!(
            shape("<!DOCTYPE html><html><body>x</body></html>"),
            BodyShape::Html
        );
        assert_eq!(shape("<div>fragment</div>"), BodyShape::Html);
        assert_eq!(
            shape("<?xml version=\"1.0\"?><!-- c --><rss><channel><description><![CDATA[<html>]]>"),
            BodyShape::Xml
        );
        assert_eq!(
            shape("<?xml version=\"1.0\"?><html xmlns=\"http://www.w3.org/1999/xhtml\">"),
            BodyShape::Html
        );
        assert_eq!(shape("\u{feff}  {\"a\": 1}"), BodyShape::Json);
        assert_eq!(shape("Service indisponible"), BodyShape::Text);
        assert_eq!(shape("   "), BodyShape::Empty);
    }

    #[test]
    fn detail_values_fill_gaps_but_the_detail_deadline_wins() {
        let mut item = RawItem {
            title: Some("Listing".into()),
            deadline: Some("mars".into()),
            audiences: vec!["Communes".into()],
            ..RawItem::default()
        };
        merge_detail(
            &mut item,
            RawItem {
                title: Some("Detail".into()),
                deadline: Some("15 mars 2027 à 12h".into()),
                funder: Some("SIAF".into()),
                audiences: vec!["EPCI".into()],
                themes: vec!["Archives".into()],
                ..RawItem::default()
            },
        );
        assert_eq!(item.title.as_deref(), Some("Listing"));
        assert_eq!(item.deadline.as_deref(), Some("15 mars 2027 à 12h"));
        assert_eq!(item.funder.as_deref(), Some("SIAF"));
        assert_eq!(item.audiences, vec!["Communes"]);
        assert_eq!(item.themes, vec!["Archives"]);
    }
}

#[cfg(test)]
pub(crate) mod testutil {
    //! Building sources and pages for the extract tests.

    use std::path::Path;

    use bytes::Bytes;
    use url::Url;

    use crate::fetch::page::Page;
    use crate::source::SourceDef;
    use crate::source::load::load_str;

    pub const HEAD: &str = "id = \"test-source\"\nname = \"Test\"\nschedule = \"0 6 * * *\"\n";

    /// A source from the TOML after the common header (`kind`, `url`, tables).
    pub fn source(rest: &str) -> SourceDef {
        let text = format!("{HEAD}{rest}");
        load_str(Path::new("sources/test.toml"), &text).unwrap_or_else(|e| panic!("{e}"))
    }

    pub fn page(url: &str, content_type: &str, body: &str) -> Page {
        Page {
            url: Url::parse(url).unwrap(),
            status: 200,
            content_type: Some(content_type.to_string()),
            bytes: Bytes::from(body.as_bytes().to_vec()),
            text: body.to_string(),
            encoding: "UTF-8",
            etag: None,
            last_modified: None,
        }
    }
}
