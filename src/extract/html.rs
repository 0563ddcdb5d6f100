//! `kind = "html"`: items picked from a listing page with CSS selectors
//! (`[html]`), optionally completed from each item's detail page
//! (`[html.detail]`), and the next listing page found by `next_page`.
//!
//! Field selectors were compiled at load (`source::FieldSel`): `"css"` gives
//! the visible text of the first match, `"css @attr"` an attribute of the
//! first match, `"@attr"` an attribute of the item element itself.
//! `audiences` and `themes` give one label per match; `summary` keeps the
//! inner HTML of its match (normalize sanitizes it). A field may list
//! several selectors with transforms (`extract::transform`): text fields
//! take the first that gives a value, `deadline` joins the first match of
//! each selector, `audiences` and `themes` every match of each.
//! `[[html.filters]]` drop listing items before their fields are read.

use std::sync::LazyLock;

use scraper::{ElementRef, Html, Selector};
use url::Url;

use super::json::DEADLINE_JOIN;
use super::{BodyShape, ExtractError, Extraction, Extractor, RawItem, merge_detail};
use crate::fetch::page::{Page, PageRequest};
use crate::source::transform::FilterRun;
use crate::source::{CompiledFields, CompiledHtml, FieldSel, HtmlField, SourceDef};
use crate::text::{collapse, non_empty};

impl Extractor for CompiledHtml {
    fn first_request(&self, source: &SourceDef) -> PageRequest {
        PageRequest::get(source.url.clone())
    }

    fn extract_page(
        &self,
        source: &SourceDef,
        request: &PageRequest,
        page: &Page,
        page_index: u32,
    ) -> Result<Extraction, ExtractError> {
        let shape = BodyShape::of(page);
        if !matches!(shape, BodyShape::Html | BodyShape::Empty) {
            return Err(ExtractError::NotHtml {
                url: crate::redact::url(&page.url).to_string(),
                got: shape.describe(page),
            });
        }
        let doc = Html::parse_document(&page.text);
        let base = document_base(&doc, &page.url);
        let mut out = Extraction::default();
        let mut matched = 0usize;
        let mut filters = FilterRun::new(&self.filters);
        for element in doc.select(&self.item) {
            matched += 1;
            if !filters.keeps(|sel| all_values(sel, element)) {
                continue;
            }
            let mut item = read_fields(&self.fields, element);
            let Some(title) = item.title.clone() else {
                out.untitled += 1;
                out.warnings.push(format!(
                    "item {matched} on {} has no title (html.title `{}` matched nothing): skipped",
                    crate::redact::url(&page.url),
                    self.fields.title.as_ref().map_or("", |r| r.raw.as_str())
                ));
                continue;
            };
            if item.link.is_none() {
                out.warnings.push(format!(
                    "item `{title}` on {} has no link{}: kept without one",
                    crate::redact::url(&page.url),
                    self.fields
                        .link
                        .as_ref()
                        .map(|s| format!(" (html.link `{}` matched nothing)", s.raw))
                        .unwrap_or_else(|| " (no html.link selector)".into())
                ));
            }
            item.text = Some(visible_text(element)).filter(|t| !t.is_empty());
            item.base_url = Some(base.clone());
            out.items.push(item);
        }
        out.warnings
            .extend(filters.warnings(crate::redact::url(&page.url)));
        if matched == 0 {
            out.warnings.push(format!(
                "html.item `{}` matched nothing on {}: the page layout may have changed",
                self.item_raw,
                crate::redact::url(&page.url)
            ));
        }
        out.next = self.next_request(source, request, page, &doc, page_index, &mut out.warnings);
        Ok(out)
    }

    fn extract_detail(&self, _source: &SourceDef, page: &Page, item: &mut RawItem) -> Vec<String> {
        let Some(detail) = &self.detail else {
            return Vec::new();
        };
        let shape = BodyShape::of(page);
        if shape != BodyShape::Html {
            return vec![format!(
                "detail page {} is not HTML (got {}): item kept as listed",
                crate::redact::url(&page.url),
                shape.describe(page)
            )];
        }
        let doc = Html::parse_document(&page.text);
        let found = read_fields(detail, doc.root_element());
        let mut warnings = Vec::new();
        if found == RawItem::default() {
            warnings.push(format!(
                "html.detail selectors matched nothing on {}: the page layout may have changed",
                crate::redact::url(&page.url)
            ));
        }
        merge_detail(item, found);
        warnings
    }
}

impl CompiledHtml {
    /// The next listing page, unless `max_pages` is reached or the link
    /// leads back to a page of this crawl. Only the current, requested and
    /// first URLs are known here, so longer cycles end at `max_pages`.
    fn next_request(
        &self,
        source: &SourceDef,
        request: &PageRequest,
        page: &Page,
        doc: &Html,
        page_index: u32,
        warnings: &mut Vec<String>,
    ) -> Option<PageRequest> {
        let rule = self.next_page.as_ref()?;
        if page_index.saturating_add(1) >= self.max_pages {
            return None;
        }
        // The first link of each selector in turn: a link without its
        // attribute (DSFR's disabled "Page suivante") gives nothing.
        let href = rule.first(|sel| {
            let link = sel.css.as_ref().and_then(|css| doc.select(css).next());
            link.and_then(|l| l.attr(sel.attr.as_deref().unwrap_or("href")))
                .map(|h| h.trim().to_string())
        })?;
        let href = href.as_str();
        let base = document_base(doc, &page.url);
        let Some(next) = crate::fetch::web_link(Some(&base), href) else {
            warnings.push(format!(
                "html.next_page `{}` gave `{href}` on {}, which is not a public web link: pagination stopped",
                rule.raw,
                crate::redact::url(&page.url)
            ));
            return None;
        };
        let seen = [&page.url, &request.url, &source.url];
        if seen.iter().any(|u| same_page(u, &next)) {
            warnings.push(format!(
                "html.next_page `{}` on {} points back to {}, already visited: pagination stopped",
                rule.raw,
                crate::redact::url(&page.url),
                crate::redact::url(&next)
            ));
            return None;
        }
        Some(PageRequest::get(next))
    }
}

/// The URL a page's relative links are resolved against: its first
/// `<base href>` (itself resolved against the page's URL, as browsers do)
/// when that is a public web link, else the page's own URL.
fn document_base(doc: &Html, page_url: &Url) -> Url {
    static BASE: LazyLock<Selector> =
        LazyLock::new(|| Selector::parse("base[href]").expect("a valid selector"));
    doc.select(&BASE)
        .next()
        .and_then(|b| b.attr("href"))
        .and_then(|href| crate::fetch::web_link(Some(page_url), href))
        .unwrap_or_else(|| page_url.clone())
}

fn same_page(a: &Url, b: &Url) -> bool {
    let strip = |u: &Url| {
        let mut u = u.clone();
        u.set_fragment(None);
        u
    };
    strip(a) == strip(b)
}

/// Reads every field of `fields` inside `element`.
fn read_fields(fields: &CompiledFields, element: ElementRef<'_>) -> RawItem {
    let first = |sel: &FieldSel| first_value(sel, element);
    let text = |r: &Option<HtmlField>| r.as_ref().and_then(|r| r.first(first));
    let all = |r: &Option<HtmlField>| {
        r.as_ref()
            .map(|r| r.all(|sel| all_values(sel, element)))
            .unwrap_or_default()
    };
    RawItem {
        id: text(&fields.id),
        title: text(&fields.title),
        link: text(&fields.link),
        summary: fields
            .summary
            .as_ref()
            .and_then(|r| r.first(|sel| summary_value(sel, element))),
        deadline: fields
            .deadline
            .as_ref()
            .map(|r| r.all(first).join(DEADLINE_JOIN))
            .filter(|d| !d.is_empty()),
        opens: text(&fields.opens),
        published: text(&fields.published),
        funder: text(&fields.funder),
        kind: text(&fields.kind),
        audiences: all(&fields.audiences),
        perimeter: text(&fields.perimeter),
        themes: all(&fields.themes),
        text: None,
        base_url: None,
    }
}

/// The elements `sel` designates inside `element`, in document order.
fn matches<'a>(
    sel: &'a FieldSel,
    element: ElementRef<'a>,
) -> impl Iterator<Item = ElementRef<'a>> + 'a {
    let (found, itself) = match &sel.css {
        Some(css) => (Some(element.select(css)), None),
        None => (None, Some(element)),
    };
    found.into_iter().flatten().chain(itself)
}

fn value_of(sel: &FieldSel, element: ElementRef<'_>) -> Option<String> {
    match &sel.attr {
        Some(attr) => element.attr(attr).and_then(non_empty),
        // Already collapsed.
        None => Some(visible_text(element)).filter(|t| !t.is_empty()),
    }
}

/// The first match that has a value.
fn first_value(sel: &FieldSel, element: ElementRef<'_>) -> Option<String> {
    matches(sel, element).find_map(|m| value_of(sel, m))
}

fn all_values(sel: &FieldSel, element: ElementRef<'_>) -> Vec<String> {
    matches(sel, element)
        .filter_map(|m| value_of(sel, m))
        .collect()
}

/// The summary keeps its markup (links, lists); an attribute is plain text.
fn summary_value(sel: &FieldSel, element: ElementRef<'_>) -> Option<String> {
    if sel.attr.is_some() {
        return first_value(sel, element);
    }
    matches(sel, element)
        .find(|m| !visible_text(*m).is_empty())
        .map(|m| m.inner_html().trim().to_string())
}

/// Elements whose text is not shown to a reader.
fn is_hidden(name: &str) -> bool {
    matches!(name, "script" | "style" | "noscript" | "template" | "head")
}

/// Elements that break a line: their text must not glue to the next word.
/// A `match` rather than a list lookup: this runs on every element of every
/// item.
fn is_block(name: &str) -> bool {
    matches!(
        name,
        "address"
            | "article"
            | "aside"
            | "blockquote"
            | "br"
            | "dd"
            | "div"
            | "dl"
            | "dt"
            | "fieldset"
            | "figcaption"
            | "figure"
            | "footer"
            | "form"
            | "h1"
            | "h2"
            | "h3"
            | "h4"
            | "h5"
            | "h6"
            | "header"
            | "hr"
            | "li"
            | "main"
            | "nav"
            | "ol"
            | "p"
            | "pre"
            | "section"
            | "table"
            | "td"
            | "th"
            | "tr"
            | "ul"
    )
}

/// The text a reader sees in `element`, whitespace collapsed. Walks the
/// tree without recursion: a hostile page may nest elements very deeply.
pub(crate) fn visible_text(element: ElementRef<'_>) -> String {
    let root = *element;
    let mut out = String::new();
    let mut next = root.first_child();
    while let Some(node) = next {
        let mut descend = false;
        if let Some(text) = node.value().as_text() {
            out.push_str(text);
        } else if let Some(e) = node.value().as_element() {
            let name = e.name();
            if !is_hidden(name) {
                if is_block(name) {
                    out.push(' ');
                }
                descend = node.has_children();
            }
        }
        if descend {
            next = node.first_child();
            continue;
        }
        // Leave `node` and every ancestor that has no next sibling.
        let mut current = node;
        next = loop {
            if current
                .value()
                .as_element()
                .is_some_and(|e| is_block(e.name()))
            {
                out.push(' ');
            }
            if let Some(sibling) = current.next_sibling() {
                break Some(sibling);
            }
            match current.parent() {
                Some(parent) if parent != root => current = parent,
                _ => break None,
            }
        };
    }
    collapse(&out)
}

#[cfg(test)]
mod tests;
