//! `kind = "feed"`: RSS 0.9x/1.0/2.0 and Atom (and JSON Feed, which feed-rs
//! also reads), one item per entry, filtered by the `[feed]` include/exclude
//! keywords since many ministry feeds mix news and calls.
//!
//! `[feed.fields]` read more of the call from parts of an entry (its
//! description, its categories...): see `fields`.
//!
//! Entries without an id/GUID get none (feed-rs would invent a hash): the
//! store then falls back to the canonical link, which is stabler.
//!
//! Old RSS shapes feed-rs reads as empty are repaired first (`variants`),
//! and a feed that holds `<item>`/`<entry>` elements but yields no entry
//! is an error of the source, never a silent "0 items".

mod fields;
mod variants;

use feed_rs::model::{Entry, Feed};
use scraper::Html;

use super::html::visible_text;
use super::{BodyShape, ExtractError, Extraction, Extractor, RawItem};
use crate::fetch::page::{Page, PageRequest};
use crate::source::{CompiledFeed, SourceDef, fold_label};
use crate::text::non_empty;

impl Extractor for CompiledFeed {
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
            let elements = variants::count_items(&page.bytes);
            if elements > 0 {
                return Err(ExtractError::NotAFeed {
                    url: crate::redact::url(&page.url).to_string(),
                    message: format!(
                        "it holds {elements} <item>/<entry> elements but none could be read as an entry \
                         (an RSS or Atom variant Vigie does not read): check it with a feed validator"
                    ),
                });
            }
            out.warnings.push(format!(
                "feed {} has no entries",
                crate::redact::url(&page.url)
            ));
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
            self.fields.read(entry, &mut item);
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
        url: crate::redact::url(&page.url).to_string(),
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
    if shape == BodyShape::Xml && xml_depth(&page.text) > MAX_XML_DEPTH {
        return Err(not_a_feed(format!(
            "expected RSS or Atom, got XML with elements nested more than {MAX_XML_DEPTH} deep"
        )));
    }
    let first = match parser().parse(&variants::normalize_root(&page.bytes)[..]) {
        Ok(feed) => return Ok(feed),
        Err(e) => e,
    };
    let text = drop_encoding_label(&page.text);
    parser()
        .parse(&variants::normalize_root(text.as_bytes())[..])
        .map_err(|_| {
            not_a_feed(format!(
                "expected RSS or Atom, got {} that does not parse: {}",
                shape.describe(page),
                first.to_string().lines().next().unwrap_or_default()
            ))
        })
}

/// Real feeds nest a few levels (plus some XHTML content); the XML parser
/// recurses per level, so a hostile document could exhaust the stack.
const MAX_XML_DEPTH: usize = 256;

/// The deepest element nesting of an XML text, by a quick scan that skips
/// comments, CDATA sections (escaped HTML lives there), declarations and
/// self-closing tags. Unbalanced input only makes the count larger.
fn xml_depth(text: &str) -> usize {
    let b = text.as_bytes();
    let (mut i, mut depth, mut max) = (0, 0usize, 0usize);
    let skip_to = |from: usize, end: &str| {
        text[from..]
            .find(end)
            .map_or(b.len(), |k| from + k + end.len())
    };
    while let Some(k) = text[i..].find('<') {
        let at = i + k;
        let rest = &text[at..];
        i = if rest.starts_with("<![CDATA[") {
            skip_to(at, "]]>")
        } else if rest.starts_with("<!--") {
            skip_to(at, "-->")
        } else if rest.starts_with("<!") || rest.starts_with("<?") {
            skip_to(at, ">")
        } else if rest.starts_with("</") {
            depth = depth.saturating_sub(1);
            skip_to(at, ">")
        } else {
            let end = skip_to(at, ">");
            if !text[at..end].ends_with("/>") {
                depth += 1;
                max = max.max(depth);
            }
            end
        };
    }
    max
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
        .filter(|h| !h.is_empty())
        // An RSS item may give its address only as its GUID (a permalink
        // unless `isPermaLink="false"`, a flag feed-rs does not keep): a
        // GUID that is a web address is then the item's link.
        .or_else(|| {
            let id = entry.id.trim();
            (id.starts_with("https://") || id.starts_with("http://")).then(|| id.to_string())
        });
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::testutil::{page, source};
    use crate::extract::{extract_page, first_request};

    const SRC: &str = "kind = \"feed\"\nurl = \"https://www.numerique.gouv.fr/rss\"\n";

    const RSS2: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>DINUM</title><link>https://www.numerique.gouv.fr/</link>
<item>
  <title>Appel à projets « Numérique responsable »</title>
  <link>https://www.numerique.gouv.fr/actualites/aap-nr/</link>
  <guid isPermaLink="false">nr-2027</guid>
  <description>&lt;p&gt;Candidatures jusqu'au &lt;b&gt;30 juin 2027&lt;/b&gt;.&lt;/p&gt;</description>
  <pubDate>Mon, 01 Mar 2027 09:00:00 +0100</pubDate>
</item>
<item>
  <title>Nomination du directeur</title>
  <link>https://www.numerique.gouv.fr/actualites/nomination/</link>
  <description>Communiqué.</description>
</item>
<item>
  <title>AMI Données territoriales</title>
  <link>https://www.numerique.gouv.fr/actualites/ami-donnees/</link>
  <description>Appel a manifestation d'interet (archive).</description>
</item>
</channel></rss>"#;

    fn run(spec: &str, content_type: &str, body: &str) -> Result<Extraction, ExtractError> {
        let src = source(spec);
        let p = page("https://www.numerique.gouv.fr/rss", content_type, body);
        extract_page(&src, &first_request(&src), &p, 0)
    }

    #[test]
    fn rss2_items_are_mapped() {
        let out = run(SRC, "application/rss+xml", RSS2).unwrap();
        assert_eq!(out.items.len(), 3);
        assert_eq!(out.next, None);
        let it = &out.items[0];
        assert_eq!(it.id.as_deref(), Some("nr-2027"));
        assert_eq!(
            it.title.as_deref(),
            Some("Appel à projets « Numérique responsable »")
        );
        assert_eq!(
            it.link.as_deref(),
            Some("https://www.numerique.gouv.fr/actualites/aap-nr/")
        );
        assert_eq!(
            it.summary.as_deref(),
            Some("<p>Candidatures jusqu'au <b>30 juin 2027</b>.</p>")
        );
        assert_eq!(it.published.as_deref(), Some("2027-03-01T08:00:00+00:00"));
        let text = it.text.as_deref().unwrap();
        assert!(
            text.contains("jusqu'au 30 juin 2027") && !text.contains("<b>"),
            "{text}"
        );
        // No GUID: no invented id, the link identifies the item.
        assert_eq!(out.items[1].id, None);
    }

    #[test]
    fn a_permalink_guid_is_the_link_of_an_item_without_one() {
        let body = r#"<?xml version="1.0"?>
<rss version="2.0"><channel><title>Aides</title><link>https://ex.fr/</link><description>d</description>
<item><title>AMI tiers-lieux</title>
  <guid isPermaLink="true">https://ex.fr/numerique/ami-tiers-lieux</guid></item>
<item><title>AAP sans lien</title><guid isPermaLink="false">aap-42</guid></item>
<item><title>AAP avec lien</title><link>https://ex.fr/aap-lien</link>
  <guid>https://ex.fr/autre-adresse</guid></item>
</channel></rss>"#;
        let out = run(SRC, "application/rss+xml", body).unwrap();
        let links: Vec<Option<&str>> = out.items.iter().map(|i| i.link.as_deref()).collect();
        assert_eq!(
            links,
            [
                Some("https://ex.fr/numerique/ami-tiers-lieux"),
                None,
                Some("https://ex.fr/aap-lien")
            ]
        );
    }

    #[test]
    fn rss1_rdf_is_read() {
        let rdf = r#"<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">
  <channel rdf:about="https://ex.gouv.fr/"><title>Ex</title><link>https://ex.gouv.fr/</link><description>d</description>
    <items><rdf:Seq><rdf:li rdf:resource="https://ex.gouv.fr/aap-1"/></rdf:Seq></items></channel>
  <item rdf:about="https://ex.gouv.fr/aap-1">
    <title>AAP Inclusion numérique</title><link>https://ex.gouv.fr/aap-1</link>
    <description>Date limite : 1er octobre 2027</description><dc:date>2027-02-01T10:00:00Z</dc:date>
  </item>
</rdf:RDF>"#;
        let out = run(SRC, "application/rdf+xml", rdf).unwrap();
        assert_eq!(out.items.len(), 1);
        let it = &out.items[0];
        assert_eq!(it.title.as_deref(), Some("AAP Inclusion numérique"));
        assert_eq!(it.link.as_deref(), Some("https://ex.gouv.fr/aap-1"));
        assert_eq!(
            it.summary.as_deref(),
            Some("Date limite : 1er octobre 2027")
        );
    }

    #[test]
    fn atom_entries_use_the_alternate_link_and_content() {
        let atom = r#"<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Europe</title><id>urn:x</id><updated>2027-01-01T00:00:00Z</updated>
  <entry>
    <id>urn:uuid:wifi4eu-5</id><title type="html">WiFi4EU &lt;em&gt;appel 5&lt;/em&gt;</title>
    <link rel="self" href="https://ex.eu/api/5"/>
    <link rel="alternate" type="text/html" href="https://ex.eu/wifi4eu/5"/>
    <updated>2027-01-05T12:00:00Z</updated>
    <content type="html">&lt;p&gt;Clôture le 15 mars 2027&lt;/p&gt;</content>
  </entry>
</feed>"#;
        let out = run(SRC, "application/atom+xml", atom).unwrap();
        let it = &out.items[0];
        assert_eq!(it.id.as_deref(), Some("urn:uuid:wifi4eu-5"));
        assert_eq!(it.title.as_deref(), Some("WiFi4EU appel 5"));
        assert_eq!(it.link.as_deref(), Some("https://ex.eu/wifi4eu/5"));
        assert_eq!(
            it.summary.as_deref(),
            Some("<p>Clôture le 15 mars 2027</p>")
        );
        assert_eq!(it.published.as_deref(), Some("2027-01-05T12:00:00+00:00"));
        assert!(
            it.text
                .as_deref()
                .unwrap()
                .contains("Clôture le 15 mars 2027")
        );
    }

    #[test]
    fn include_and_exclude_ignore_case_and_accents() {
        let spec = format!(
            "{SRC}[feed]\ninclude = [\"APPEL À PROJETS\", \"appel à manifestation\"]\nexclude = [\"Archivé\"]\n"
        );
        let out = run(&spec, "application/rss+xml", RSS2).unwrap();
        let titles: Vec<_> = out
            .items
            .iter()
            .filter_map(|i| i.title.as_deref())
            .collect();
        // The AMI matches the include but its summary says "archive".
        assert_eq!(titles, vec!["Appel à projets « Numérique responsable »"]);
    }

    #[test]
    fn html_where_a_feed_was_expected_is_not_a_feed() {
        let err = run(
            SRC,
            "text/html; charset=utf-8",
            "<!DOCTYPE html><html><body>Moved</body></html>",
        )
        .unwrap_err();
        assert!(matches!(err, ExtractError::NotAFeed { .. }));
        assert_eq!(
            err.to_string(),
            "https://www.numerique.gouv.fr/rss is not a feed: expected RSS or Atom, got HTML (text/html; charset=utf-8)"
        );
        let err = run(
            SRC,
            "application/xml",
            "<?xml version=\"1.0\"?><rss><channel><item>",
        )
        .unwrap_err();
        assert!(err.to_string().contains("does not parse"), "{err}");
    }

    #[test]
    fn a_feed_whose_bytes_lie_about_their_encoding_is_read_from_the_text() {
        let text = RSS2;
        // What a windows-1252 server sent under a UTF-8 label: é is one byte.
        let bytes: Vec<u8> = text
            .chars()
            .map(|c| {
                if c == 'é' {
                    0xE9
                } else if c.is_ascii() {
                    c as u8
                } else {
                    b'?'
                }
            })
            .collect();
        let src = source(SRC);
        let mut p = page(
            "https://www.numerique.gouv.fr/rss",
            "application/rss+xml",
            text,
        );
        p.bytes = bytes.into();
        let out = extract_page(&src, &first_request(&src), &p, 0).unwrap();
        assert_eq!(
            out.items[0].title.as_deref(),
            Some("Appel à projets « Numérique responsable »")
        );
        assert_eq!(
            drop_encoding_label("<?xml version=\"1.0\" encoding='ISO-8859-1'?><rss/>"),
            "<?xml version=\"1.0\"?><rss/>"
        );
    }

    #[test]
    fn absurdly_nested_xml_is_refused_before_parsing() {
        let body = format!(
            "<?xml version=\"1.0\"?><feed xmlns=\"http://www.w3.org/2005/Atom\"><entry><content type=\"xhtml\">{}x{}</content></entry></feed>",
            "<div>".repeat(50_000),
            "</div>".repeat(50_000)
        );
        let err = run(SRC, "application/atom+xml", &body).unwrap_err();
        assert!(
            err.to_string().contains("nested more than 256 deep"),
            "{err}"
        );
        assert_eq!(
            xml_depth("<a><b/><![CDATA[<p><br>]]><!-- <x> --><c></c></a>"),
            2
        );
    }

    proptest::proptest! {
        #[test]
        fn extract_page_never_panics_on_any_bytes(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..400), tagged in "(<[a-z/ :=\"]{0,12}>|[a-z ]{0,8}){0,40}") {
            let src = source(SRC);
            let req = first_request(&src);
            let mut p = page("https://www.numerique.gouv.fr/rss", "application/xml", &String::from_utf8_lossy(&bytes));
            p.bytes = bytes.into();
            let _ = extract_page(&src, &req, &p, 0);
            let p = page("https://www.numerique.gouv.fr/rss", "application/xml", &format!("<?xml version=\"1.0\"?><rss>{tagged}"));
            let _ = extract_page(&src, &req, &p, 0);
        }
    }
}
