//! `kind = "feed"`: RSS 0.9x/1.0/2.0 and Atom (and JSON Feed, which feed-rs
//! also reads), one item per entry, filtered by the `[feed]` include/exclude
//! keywords since many ministry feeds mix news and calls.
//!
//! Entries without an id/GUID get none (feed-rs would invent a hash): the
//! store then falls back to the canonical link, which is stabler.

use feed_rs::model::{Entry, Feed};
use scraper::Html;

use super::html::visible_text;
use super::{BodyShape, ExtractError, Extraction, Extractor, RawItem, non_empty};
use crate::fetch::page::{Page, PageRequest};
use crate::source::schema::FeedSpec;
use crate::source::{SourceDef, fold_label};

impl Extractor for FeedSpec {
    fn first_request(&self, source: &SourceDef) -> PageRequest {
        PageRequest::get(source.url.clone())
    }

    fn extract_page(
        &self,
        _source: &SourceDef,
        _request: &PageRequest,
        page: &Page,
        _page_index: u32,
    ) -> Result<Extraction, ExtractError> {
        let feed = parse(page)?;
        let mut out = Extraction::default();
        if feed.entries.is_empty() {
            out.warnings
                .push(format!("feed {} has no entries", page.url));
        }
        let include: Vec<String> = self
            .include
            .iter()
            .map(|k| fold_label(k))
            .filter(|k| !k.is_empty())
            .collect();
        let exclude: Vec<String> = self
            .exclude
            .iter()
            .map(|k| fold_label(k))
            .filter(|k| !k.is_empty())
            .collect();
        for entry in &feed.entries {
            let mut item = to_item(entry);
            let haystack = fold_label(&format!(
                "{} {}",
                item.title.as_deref().unwrap_or(""),
                item.summary.as_deref().map(plain_text).unwrap_or_default()
            ));
            if !include.is_empty() && !include.iter().any(|k| haystack.contains(k.as_str())) {
                continue;
            }
            if exclude.iter().any(|k| haystack.contains(k.as_str())) {
                continue;
            }
            item.base_url = Some(page.url.clone());
            out.items.push(item);
        }
        Ok(out)
    }
}

fn parser() -> feed_rs::parser::Parser {
    feed_rs::parser::Builder::new()
        .id_generator(|_, _, _| String::new())
        .build()
}

/// Parses the raw bytes (so the XML declaration's encoding is honoured);
/// if that fails, the decoded text, without its now-wrong encoding label.
fn parse(page: &Page) -> Result<Feed, ExtractError> {
    let shape = BodyShape::of(page);
    let not_a_feed = |message: String| ExtractError::NotAFeed {
        url: page.url.to_string(),
        message,
    };
    match shape {
        BodyShape::Html => {
            return Err(not_a_feed(format!(
                "expected RSS or Atom, got {}",
                shape.describe(page)
            )));
        }
        BodyShape::Empty | BodyShape::Text => {
            return Err(not_a_feed(format!(
                "expected RSS or Atom, got {}",
                shape.describe(page)
            )));
        }
        BodyShape::Xml | BodyShape::Json => {}
    }
    let first = match parser().parse(&page.bytes[..]) {
        Ok(feed) => return Ok(feed),
        Err(e) => e,
    };
    let text = drop_encoding_label(&page.text);
    parser().parse(text.as_bytes()).map_err(|_| {
        not_a_feed(format!(
            "expected RSS or Atom, got {} that does not parse: {}",
            shape.describe(page),
            first.to_string().lines().next().unwrap_or_default()
        ))
    })
}

/// `<?xml version="1.0" encoding="ISO-8859-1"?>` → `<?xml version="1.0"?>`:
/// the text is UTF-8 now, and the label would make the parser decode it again.
fn drop_encoding_label(text: &str) -> String {
    let body = text.trim_start_matches('\u{feff}').trim_start();
    if let Some(end) = body.find("?>")
        && body.starts_with("<?xml")
    {
        let decl = &body[..end];
        let kept: Vec<&str> = decl
            .split_whitespace()
            .filter(|part| !part.to_ascii_lowercase().starts_with("encoding="))
            .collect();
        return format!("{}{}", kept.join(" "), &body[end..]);
    }
    body.to_string()
}

fn to_item(entry: &Entry) -> RawItem {
    let title = entry
        .title
        .as_ref()
        .and_then(|t| non_empty(&plain_text(&t.content)));
    let summary = entry
        .summary
        .as_ref()
        .map(|t| t.content.trim().to_string())
        .filter(|s| !s.is_empty());
    let content = entry
        .content
        .as_ref()
        .and_then(|c| c.body.as_deref())
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string);
    let link = entry
        .links
        .iter()
        .find(|l| l.rel.as_deref().is_none_or(|r| r == "alternate"))
        .or_else(|| entry.links.first())
        .map(|l| l.href.trim().to_string())
        .filter(|h| !h.is_empty());
    let mut text = String::new();
    for part in [title.as_deref(), summary.as_deref(), content.as_deref()]
        .into_iter()
        .flatten()
    {
        text.push_str(&plain_text(part));
        text.push(' ');
    }
    RawItem {
        id: non_empty(&entry.id),
        title,
        link,
        summary: summary.or(content),
        published: entry.published.or(entry.updated).map(|d| d.to_rfc3339()),
        text: non_empty(&text),
        ..RawItem::default()
    }
}

/// Text of a possibly-HTML string.
fn plain_text(s: &str) -> String {
    if !s.contains('<') && !s.contains('&') {
        return s.to_string();
    }
    visible_text(Html::parse_fragment(s).root_element())
}
