//! Old RSS shapes that feed-rs reads as an empty feed, rewritten before
//! parsing, and the cheap count that tells an empty feed from a feed whose
//! items could not be read. Part of the `feed` extractor.
//!
//! Two real-world shapes give zero entries with feed-rs 3:
//! - an `<rss>` root without a `version` attribute (hand-written or
//!   CMS-made RSS 0.91/0.92/2.0 feeds that forgot it);
//! - RSS 2.0 in the Radio UserLand namespace
//!   (`<rss version="2.0" xmlns="http://backend.userland.com/rss2">`): every
//!   element is then namespaced and feed-rs ignores them.
//!
//! Both are repaired on the root start tag only (the rest of the document
//! is left byte for byte): a missing version becomes `version="2.0"` (the
//! elements of 0.91–2.0 are a superset chain, so the 2.0 reader reads them
//! all) and the UserLand default namespace is dropped. Working on bytes
//! keeps the document's own encoding declaration valid.

use std::borrow::Cow;

/// The UserLand RSS 2.0 namespace some early RSS 2.0 feeds declared.
const USERLAND_RSS2: &[u8] = b"http://backend.userland.com/rss2";

/// The document with its `<rss>` root made readable by feed-rs, or as it
/// was when nothing needs rewriting.
pub(super) fn normalize_root(bytes: &[u8]) -> Cow<'_, [u8]> {
    let Some((start, end)) = root_start_tag(bytes) else {
        return Cow::Borrowed(bytes);
    };
    let tag = &bytes[start..end];
    if !(tag.starts_with(b"<rss")
        && tag
            .get(4)
            .is_some_and(|b| is_space(*b) || *b == b'>' || *b == b'/'))
    {
        return Cow::Borrowed(bytes);
    }
    let mut attrs = attributes(&tag[4..]);
    let had_version = attrs.iter().any(|a| a.name == b"version");
    let before = attrs.len();
    attrs.retain(|a| !(a.name == b"xmlns" && a.value == USERLAND_RSS2));
    if had_version && attrs.len() == before {
        return Cow::Borrowed(bytes);
    }
    let mut out = Vec::with_capacity(bytes.len() + 16);
    out.extend_from_slice(&bytes[..start]);
    out.extend_from_slice(b"<rss");
    if !had_version {
        out.extend_from_slice(b" version=\"2.0\"");
    }
    for a in &attrs {
        out.push(b' ');
        out.extend_from_slice(a.raw);
    }
    out.extend_from_slice(if tag.ends_with(b"/>") { b"/>" } else { b">" });
    out.extend_from_slice(&bytes[end..]);
    Cow::Owned(out)
}

/// How many `<item>` (RSS) and `<entry>` (Atom) elements the document
/// holds, by a scan that skips comments and CDATA sections (where escaped
/// HTML lives). Prefixed names (`<rss:item>`) count too.
pub(super) fn count_items(bytes: &[u8]) -> usize {
    let mut count = 0;
    let mut i = 0;
    while let Some(k) = find(&bytes[i..], b"<") {
        let at = i + k;
        let rest = &bytes[at..];
        if rest.starts_with(b"<![CDATA[") {
            i = find(&rest[9..], b"]]>").map_or(bytes.len(), |e| at + 9 + e + 3);
            continue;
        }
        if rest.starts_with(b"<!--") {
            i = find(&rest[4..], b"-->").map_or(bytes.len(), |e| at + 4 + e + 3);
            continue;
        }
        let name_end = rest[1..]
            .iter()
            .position(|b| is_space(*b) || *b == b'>' || *b == b'/')
            .map_or(rest.len(), |p| p + 1);
        let name = &rest[1..name_end];
        let local = name.rsplit(|b| *b == b':').next().unwrap_or(name);
        if !name.is_empty() && (local == b"item" || local == b"entry") {
            count += 1;
        }
        i = at + 1;
    }
    count
}

/// The byte range of the root element's start tag: after the BOM, the XML
/// declaration, processing instructions, comments, the doctype and spaces.
fn root_start_tag(bytes: &[u8]) -> Option<(usize, usize)> {
    let mut i = if bytes.starts_with(b"\xEF\xBB\xBF") {
        3
    } else {
        0
    };
    loop {
        while i < bytes.len() && is_space(bytes[i]) {
            i += 1;
        }
        let rest = bytes.get(i..)?;
        if rest.starts_with(b"<?") {
            i += find(rest, b"?>")? + 2;
        } else if rest.starts_with(b"<!--") {
            i += find(rest, b"-->")? + 3;
        } else if rest.starts_with(b"<!") {
            i += find(rest, b">")? + 1;
        } else if rest.starts_with(b"<") {
            return Some((i, i + tag_end(rest)?));
        } else {
            return None;
        }
    }
}

/// The length of the start tag at the beginning of `s`, quotes respected.
fn tag_end(s: &[u8]) -> Option<usize> {
    let mut quote = None;
    for (i, &b) in s.iter().enumerate() {
        match quote {
            Some(q) if b == q => quote = None,
            Some(_) => {}
            None if b == b'"' || b == b'\'' => quote = Some(b),
            None if b == b'>' => return Some(i + 1),
            None => {}
        }
    }
    None
}

struct Attribute<'a> {
    name: &'a [u8],
    value: &'a [u8],
    /// `name="value"` as written.
    raw: &'a [u8],
}

/// The attributes of a start tag, `s` being what follows the element name.
fn attributes(s: &[u8]) -> Vec<Attribute<'_>> {
    let mut out = Vec::new();
    let mut i = 0;
    loop {
        while i < s.len() && is_space(s[i]) {
            i += 1;
        }
        let start = i;
        while i < s.len() && !is_space(s[i]) && !matches!(s[i], b'=' | b'>' | b'/') {
            i += 1;
        }
        if i == start {
            return out;
        }
        let name = &s[start..i];
        while i < s.len() && is_space(s[i]) {
            i += 1;
        }
        if s.get(i) != Some(&b'=') {
            // An attribute without a value (not XML): kept as written.
            out.push(Attribute {
                name,
                value: b"",
                raw: name,
            });
            continue;
        }
        i += 1;
        while i < s.len() && is_space(s[i]) {
            i += 1;
        }
        let (value, after) = match s.get(i) {
            Some(&q) if q == b'"' || q == b'\'' => {
                let close = s[i + 1..]
                    .iter()
                    .position(|b| *b == q)
                    .map_or(s.len(), |p| i + 1 + p);
                (&s[(i + 1).min(close)..close], (close + 1).min(s.len()))
            }
            _ => {
                let end = s[i..]
                    .iter()
                    .position(|b| is_space(*b) || *b == b'>')
                    .map_or(s.len(), |p| i + p);
                (&s[i..end], end)
            }
        };
        out.push(Attribute {
            name,
            value,
            raw: &s[start..after],
        });
        i = after;
    }
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(b: &[u8]) -> &str {
        std::str::from_utf8(b).unwrap()
    }

    #[test]
    fn a_root_without_version_gets_one() {
        let doc = b"<?xml version=\"1.0\"?>\n<!-- made by hand -->\n<rss><channel/></rss>";
        assert_eq!(
            text(&normalize_root(doc)),
            "<?xml version=\"1.0\"?>\n<!-- made by hand -->\n<rss version=\"2.0\"><channel/></rss>"
        );
    }

    #[test]
    fn the_userland_namespace_is_dropped_and_other_attributes_kept() {
        let doc = b"<rss version='2.0' xmlns=\"http://backend.userland.com/rss2\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\"><channel/></rss>";
        assert_eq!(
            text(&normalize_root(doc)),
            "<rss version='2.0' xmlns:dc=\"http://purl.org/dc/elements/1.1/\"><channel/></rss>"
        );
    }

    #[test]
    fn readable_roots_are_left_alone() {
        for doc in [
            &b"<rss version=\"2.0\"><channel/></rss>"[..],
            b"<feed xmlns=\"http://www.w3.org/2005/Atom\"/>",
            b"<rdf:RDF><channel/></rdf:RDF>",
            b"<rssfeed/>",
            b"",
            b"<rss",
        ] {
            assert!(matches!(normalize_root(doc), Cow::Borrowed(_)), "{doc:?}");
        }
    }

    #[test]
    fn items_are_counted_outside_comments_and_cdata() {
        let doc = b"<rss><channel><item><title>a</title></item><rss:item/>\
            <!-- <item> --><description><![CDATA[<item>]]></description><items/><entry x='1'>";
        assert_eq!(count_items(doc), 3);
    }

    /// The extractor on a fixture of `tests/fixtures/feeds/`.
    fn extract_fixture(
        name: &str,
    ) -> Result<crate::extract::Extraction, crate::extract::ExtractError> {
        use crate::extract::testutil::{page, source};
        let path = format!("{}/tests/fixtures/feeds/{name}", env!("CARGO_MANIFEST_DIR"));
        let body = std::fs::read_to_string(path).unwrap();
        let src = source("kind = \"feed\"\nurl = \"http://127.0.0.1/rss\"\n");
        let p = page("http://127.0.0.1/rss", "application/rss+xml", &body);
        crate::extract::extract_page(&src, &crate::extract::first_request(&src), &p, 0)
    }

    #[test]
    fn an_rss_root_without_version_is_read() {
        let out = extract_fixture("rss-without-version.xml").unwrap();
        let titles: Vec<_> = out.items.iter().map(|i| i.title.clone().unwrap()).collect();
        assert_eq!(
            titles,
            [
                "Appel à projets Archives numériques 2035",
                "AMI Tiers-lieux numériques"
            ]
        );
    }

    #[test]
    fn rss2_in_the_userland_namespace_is_read() {
        let out = extract_fixture("userland-rss2.xml").unwrap();
        assert_eq!(out.items.len(), 2);
        assert_eq!(out.items[0].id.as_deref(), Some("inclusion-2035"));
        assert_eq!(
            out.items[1].link.as_deref(),
            Some("http://127.0.0.1/ami/donnees-2035.html")
        );
    }

    #[test]
    fn items_that_read_as_no_entry_are_an_error_not_an_empty_feed() {
        let err = extract_fixture("unreadable-namespace.xml").unwrap_err();
        assert!(
            err.to_string()
                .contains("1 <item>/<entry> elements but none could be read"),
            "{err}"
        );
    }

    proptest::proptest! {
        #[test]
        fn never_panics_and_keeps_the_body_after_the_root(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..300)) {
            let out = normalize_root(&bytes);
            let _ = count_items(&bytes);
            if let Some((_, end)) = root_start_tag(&bytes) {
                proptest::prop_assert!(out.ends_with(&bytes[end..]));
            }
        }
    }
}
