//! `kind = "html"`: items picked from a listing page with CSS selectors
//! (`[html]`), optionally completed from each item's detail page
//! (`[html.detail]`), and the next listing page found by `next_page`.
//!
//! Field selectors were compiled at load (`source::FieldSel`): `"css"` gives
//! the visible text of the first match, `"css @attr"` an attribute of the
//! first match, `"@attr"` an attribute of the item element itself.
//! `audiences` and `themes` give one label per match; `summary` keeps the
//! inner HTML of its match (normalize sanitizes it).

use scraper::{ElementRef, Html};
use url::Url;

use super::{
    BodyShape, ExtractError, Extraction, Extractor, RawItem, collapse, merge_detail, non_empty,
};
use crate::fetch::page::{Page, PageRequest};
use crate::source::{CompiledFields, CompiledHtml, FieldSel, SourceDef};

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
                url: page.url.to_string(),
                got: shape.describe(page),
            });
        }
        let doc = Html::parse_document(&page.text);
        let mut out = Extraction::default();
        let mut matched = 0usize;
        for element in doc.select(&self.item) {
            matched += 1;
            let mut item = read_fields(&self.fields, element);
            let Some(title) = item.title.clone() else {
                out.warnings.push(format!(
                    "item {matched} on {} has no title (html.title `{}` matched nothing): skipped",
                    page.url,
                    self.fields.title.as_ref().map_or("", |s| s.raw.as_str())
                ));
                continue;
            };
            if item.link.is_none() {
                out.warnings.push(format!(
                    "item `{title}` on {} has no link{}: kept without one",
                    page.url,
                    self.fields
                        .link
                        .as_ref()
                        .map(|s| format!(" (html.link `{}` matched nothing)", s.raw))
                        .unwrap_or_else(|| " (no html.link selector)".into())
                ));
            }
            item.text = non_empty(&visible_text(element));
            item.base_url = Some(page.url.clone());
            out.items.push(item);
        }
        if matched == 0 {
            out.warnings.push(format!(
                "html.item `{}` matched nothing on {}: the page layout may have changed",
                self.item_raw, page.url
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
                page.url,
                shape.describe(page)
            )];
        }
        let doc = Html::parse_document(&page.text);
        let found = read_fields(detail, doc.root_element());
        let mut warnings = Vec::new();
        if found == RawItem::default() {
            warnings.push(format!(
                "html.detail selectors matched nothing on {}: the page layout may have changed",
                page.url
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
        let sel = self.next_page.as_ref()?;
        if page_index.saturating_add(1) >= self.max_pages {
            return None;
        }
        let css = sel.css.as_ref()?;
        let link = doc.select(css).next()?;
        let href = link.attr(sel.attr.as_deref().unwrap_or("href"))?.trim();
        let next = match page.url.join(href) {
            Ok(u) if matches!(u.scheme(), "http" | "https") => u,
            _ => {
                warnings.push(format!(
                    "html.next_page `{}` gave `{href}` on {}, which is not a web link: pagination stopped",
                    sel.raw, page.url
                ));
                return None;
            }
        };
        let seen = [&page.url, &request.url, &source.url];
        if seen.iter().any(|u| same_page(u, &next)) {
            warnings.push(format!(
                "html.next_page `{}` on {} points back to {next}, already visited: pagination stopped",
                sel.raw, page.url
            ));
            return None;
        }
        Some(PageRequest::get(next))
    }
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
    let text = |sel: &Option<FieldSel>| sel.as_ref().and_then(|s| first_value(s, element));
    RawItem {
        id: text(&fields.id),
        title: text(&fields.title),
        link: text(&fields.link),
        summary: fields
            .summary
            .as_ref()
            .and_then(|s| summary_value(s, element)),
        deadline: text(&fields.deadline),
        opens: text(&fields.opens),
        published: text(&fields.published),
        funder: text(&fields.funder),
        kind: text(&fields.kind),
        audiences: fields
            .audiences
            .as_ref()
            .map(|s| all_values(s, element))
            .unwrap_or_default(),
        perimeter: text(&fields.perimeter),
        themes: fields
            .themes
            .as_ref()
            .map(|s| all_values(s, element))
            .unwrap_or_default(),
        text: None,
        base_url: None,
    }
}

fn matches<'a>(sel: &FieldSel, element: ElementRef<'a>) -> Vec<ElementRef<'a>> {
    match &sel.css {
        Some(css) => element.select(css).collect(),
        None => vec![element],
    }
}

fn value_of(sel: &FieldSel, element: ElementRef<'_>) -> Option<String> {
    match &sel.attr {
        Some(attr) => element.attr(attr).and_then(non_empty),
        None => non_empty(&visible_text(element)),
    }
}

/// The first match that has a value.
fn first_value(sel: &FieldSel, element: ElementRef<'_>) -> Option<String> {
    matches(sel, element)
        .into_iter()
        .find_map(|m| value_of(sel, m))
}

fn all_values(sel: &FieldSel, element: ElementRef<'_>) -> Vec<String> {
    matches(sel, element)
        .into_iter()
        .filter_map(|m| value_of(sel, m))
        .collect()
}

/// The summary keeps its markup (links, lists); an attribute is plain text.
fn summary_value(sel: &FieldSel, element: ElementRef<'_>) -> Option<String> {
    if sel.attr.is_some() {
        return first_value(sel, element);
    }
    matches(sel, element)
        .into_iter()
        .find(|m| !collapse(&visible_text(*m)).is_empty())
        .map(|m| m.inner_html().trim().to_string())
}

/// Elements whose text is not shown to a reader.
const HIDDEN: &[&str] = &["script", "style", "noscript", "template", "head"];

/// Elements that break a line: their text must not glue to the next word.
const BLOCK: &[&str] = &[
    "address",
    "article",
    "aside",
    "blockquote",
    "br",
    "dd",
    "div",
    "dl",
    "dt",
    "fieldset",
    "figcaption",
    "figure",
    "footer",
    "form",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hr",
    "li",
    "main",
    "nav",
    "ol",
    "p",
    "pre",
    "section",
    "table",
    "td",
    "th",
    "tr",
    "ul",
];

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
            if !HIDDEN.contains(&name) {
                if BLOCK.contains(&name) {
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
                .is_some_and(|e| BLOCK.contains(&e.name()))
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
mod tests {
    use super::*;
    use crate::extract::testutil::{page, source};
    use crate::extract::{extract_detail, extract_page, first_request};

    const SPEC: &str = r##"kind = "html"
url = "https://example.gouv.fr/appels?page=1"

[html]
item = "article.fr-card"
id = "@data-id"
title = ".fr-card__title"
link = ".fr-card__title a @href"
summary = ".fr-card__desc"
deadline = ".fr-card__end"
audiences = "ul.publics li"
themes = ".tag @data-theme"
next_page = "a[rel=next] @href"
max_pages = 3

[html.detail]
deadline = ".date-limite"
summary = "#description"
funder = ".porteur"
"##;

    const LISTING: &str = r#"<!DOCTYPE html><html><head><title>AAP</title>
<script>var x = "not text";</script></head><body>
<article class="fr-card" data-id="aap-42">
  <h3 class="fr-card__title"><a href="/appels/archives-2027">Archivage   numérique
     en territoires</a></h3>
  <p class="fr-card__desc">Un <strong>appel</strong> pour les <em>communes</em>.</p>
  <p class="fr-card__end">Clôture le 15&nbsp;mars 2027</p>
  <ul class="publics"><li>Communes</li><li> EPCI </li><li></li></ul>
  <span class="tag" data-theme="Archives"></span><span class="tag" data-theme="Numérique"></span>
  <style>.x { color: red }</style>
</article>
<article class="fr-card" data-id="aap-43">
  <h3 class="fr-card__title">Sans lien</h3>
</article>
<article class="fr-card"><p>Pas de titre</p></article>
<nav><a rel="next" href="?page=2">Suivant</a></nav>
</body></html>"#;

    #[test]
    fn listing_fields_come_from_text_attr_and_item_attr_selectors() {
        let src = source(SPEC);
        let req = first_request(&src);
        assert_eq!(req.url.as_str(), "https://example.gouv.fr/appels?page=1");
        let p = page(
            "https://example.gouv.fr/appels?page=1",
            "text/html",
            LISTING,
        );
        let out = extract_page(&src, &req, &p, 0).unwrap();
        assert_eq!(out.items.len(), 2, "{out:?}");
        let first = &out.items[0];
        assert_eq!(first.id.as_deref(), Some("aap-42"));
        assert_eq!(
            first.title.as_deref(),
            Some("Archivage numérique en territoires")
        );
        assert_eq!(first.link.as_deref(), Some("/appels/archives-2027"));
        assert_eq!(
            first.summary.as_deref(),
            Some("Un <strong>appel</strong> pour les <em>communes</em>.")
        );
        assert_eq!(first.deadline.as_deref(), Some("Clôture le 15 mars 2027"));
        assert_eq!(first.audiences, vec!["Communes", "EPCI"]);
        assert_eq!(first.themes, vec!["Archives", "Numérique"]);
        assert_eq!(
            first.base_url.as_ref().map(Url::as_str),
            Some(p.url.as_str())
        );
        let text = first.text.as_deref().unwrap();
        assert!(
            text.starts_with("Archivage numérique en territoires Un appel"),
            "{text}"
        );
        assert!(!text.contains("color: red"), "{text}");

        assert_eq!(out.items[1].link, None);
        assert_eq!(out.warnings.len(), 2, "{:?}", out.warnings);
        assert!(
            out.warnings
                .iter()
                .any(|w| w.contains("has no title") && w.contains("item 3"))
        );
        assert!(
            out.warnings
                .iter()
                .any(|w| w.contains("`Sans lien`") && w.contains("no link"))
        );
    }

    #[test]
    fn next_page_is_resolved_and_bounded_by_max_pages() {
        let src = source(SPEC);
        let req = first_request(&src);
        let p = page(
            "https://example.gouv.fr/appels?page=1",
            "text/html",
            LISTING,
        );
        let next = extract_page(&src, &req, &p, 0).unwrap().next.unwrap();
        assert_eq!(next.url.as_str(), "https://example.gouv.fr/appels?page=2");
        let p2 = page(
            next.url.as_str(),
            "text/html",
            &LISTING.replace("?page=2", "?page=3"),
        );
        let next2 = extract_page(&src, &next, &p2, 1).unwrap().next.unwrap();
        assert_eq!(next2.url.as_str(), "https://example.gouv.fr/appels?page=3");
        // Third page of max_pages = 3: stop.
        let p3 = page(
            next2.url.as_str(),
            "text/html",
            &LISTING.replace("?page=2", "?page=4"),
        );
        assert_eq!(extract_page(&src, &next2, &p3, 2).unwrap().next, None);
    }

    #[test]
    fn a_next_link_back_to_a_visited_page_stops_pagination() {
        let src = source(SPEC);
        let req = first_request(&src);
        let p = page(
            "https://example.gouv.fr/appels?page=2",
            "text/html",
            &LISTING.replace("?page=2", "?page=1"),
        );
        let out = extract_page(&src, &req, &p, 1).unwrap();
        assert_eq!(out.next, None);
        assert!(
            out.warnings.iter().any(|w| w.contains("already visited")),
            "{:?}",
            out.warnings
        );
        let selfloop = page(
            "https://example.gouv.fr/appels?page=2",
            "text/html",
            LISTING,
        );
        assert_eq!(extract_page(&src, &req, &selfloop, 1).unwrap().next, None);
    }

    #[test]
    fn an_item_selector_that_matches_nothing_is_a_warning() {
        let src = source(SPEC);
        let p = page(
            "https://example.gouv.fr/appels",
            "text/html",
            "<html><body><div>refonte</div></body></html>",
        );
        let out = extract_page(&src, &first_request(&src), &p, 0).unwrap();
        assert!(out.items.is_empty());
        assert_eq!(
            out.warnings[0],
            "html.item `article.fr-card` matched nothing on https://example.gouv.fr/appels: the page layout may have changed"
        );
    }

    #[test]
    fn json_or_xml_where_html_was_expected_is_an_error() {
        let src = source(SPEC);
        let req = first_request(&src);
        let json = page(
            "https://example.gouv.fr/appels",
            "application/json",
            r#"{"a": 1}"#,
        );
        let err = extract_page(&src, &req, &json, 0).unwrap_err();
        assert!(matches!(err, ExtractError::NotHtml { .. }));
        assert_eq!(
            err.to_string(),
            "https://example.gouv.fr/appels is not an HTML page: got JSON (application/json)"
        );
        let xml = page(
            "https://example.gouv.fr/appels",
            "application/xml",
            "<?xml version=\"1.0\"?><rss></rss>",
        );
        assert!(matches!(
            extract_page(&src, &req, &xml, 0),
            Err(ExtractError::NotHtml { .. })
        ));
    }

    #[test]
    fn detail_fills_gaps_and_its_deadline_wins() {
        let src = source(SPEC);
        let p = page(
            "https://example.gouv.fr/appels?page=1",
            "text/html",
            LISTING,
        );
        let mut item = extract_page(&src, &first_request(&src), &p, 0)
            .unwrap()
            .items
            .remove(0);
        let detail = page(
            "https://example.gouv.fr/appels/archives-2027",
            "text/html",
            r#"<html><body><div id="description"><p>Long texte</p></div>
            <p class="date-limite">Date limite : 15 mars 2027 à 12h</p>
            <p class="porteur">SIAF</p></body></html>"#,
        );
        let warnings = extract_detail(&src, &detail, &mut item);
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(
            item.deadline.as_deref(),
            Some("Date limite : 15 mars 2027 à 12h")
        );
        assert_eq!(item.funder.as_deref(), Some("SIAF"));
        // The listing had a summary: it stays.
        assert!(item.summary.as_deref().unwrap().starts_with("Un <strong>"));

        let blank = page(
            "https://example.gouv.fr/x",
            "text/html",
            "<html><body></body></html>",
        );
        let before = item.clone();
        let warnings = extract_detail(&src, &blank, &mut item);
        assert_eq!(item, before);
        assert!(
            warnings[0].contains("html.detail selectors matched nothing"),
            "{warnings:?}"
        );
    }

    #[test]
    fn a_source_without_detail_selectors_leaves_items_alone() {
        let src = source(&SPEC[..SPEC.find("[html.detail]").unwrap()]);
        let mut item = RawItem::default();
        let p = page(
            "https://example.gouv.fr/x",
            "text/html",
            "<p class=date-limite>1 mai</p>",
        );
        assert!(extract_detail(&src, &p, &mut item).is_empty());
        assert_eq!(item, RawItem::default());
    }

    #[test]
    fn deeply_nested_pages_do_not_overflow_the_stack() {
        // A small stack stands in for a much deeper page on a normal one.
        let run = || {
            let src = source(
                "kind = \"html\"\nurl = \"https://a.fr/\"\n[html]\nitem = \"article\"\ntitle = \"h2\"\nsummary = \"div\"\n",
            );
            let body = format!(
                "<article><h2>t</h2>{}x{}</article>",
                "<div>".repeat(5_000),
                "</div>".repeat(5_000)
            );
            let p = page("https://a.fr/", "text/html", &body);
            let out = extract_page(&src, &first_request(&src), &p, 0).unwrap();
            out.items[0].text.clone()
        };
        let text = std::thread::Builder::new()
            .stack_size(256 * 1024)
            .spawn(run)
            .unwrap()
            .join()
            .unwrap();
        assert_eq!(text.as_deref(), Some("t x"));
    }

    proptest::proptest! {
        #[test]
        fn extract_page_never_panics_on_any_text(body in ".{0,400}", tagged in "(<[a-z/ =\"@.]{0,12}>|[a-zé ]{0,8}){0,40}") {
            let src = source(SPEC);
            let req = first_request(&src);
            for b in [body, tagged] {
                let p = page("https://example.gouv.fr/appels", "text/html", &b);
                let _ = extract_page(&src, &req, &p, 0);
                let mut item = RawItem::default();
                let _ = extract_detail(&src, &p, &mut item);
            }
        }
    }
}
