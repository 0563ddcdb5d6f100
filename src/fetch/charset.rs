//! Charset detection: turns a response body into UTF-8 text. Used by the
//! fetcher right after the body is read, before the page reaches extract.
//!
//! The order, first match wins:
//!
//! 1. a byte-order mark (UTF-8, UTF-16LE, UTF-16BE): it cannot be there by
//!    accident, and the WHATWG Encoding Standard lets it override every label;
//! 2. the HTTP `Content-Type` charset: the WHATWG HTML standard and RFC 7303
//!    (XML media types) both let the transport label win over the document;
//! 3. the document's own declaration: the XML declaration for XML bodies,
//!    otherwise a `<meta charset>` / `<meta http-equiv="Content-Type">` in the
//!    first [`PRESCAN_BYTES`] bytes;
//! 4. `chardetng`, the detector Firefox uses for unlabelled pages.
//!
//! One correction applies to the labels of steps 2 and 3. Many French public
//! sites label pages `ISO-8859-1` (mapped to windows-1252, as the WHATWG
//! Encoding Standard and `encoding_rs` do, so `€`, `œ` and `’` come out right)
//! but actually serve UTF-8, because the CMS was upgraded and the server
//! configuration was not. If the label names a single-byte legacy encoding
//! *and* the body is valid UTF-8 containing non-ASCII bytes, we decode as
//! UTF-8: windows-1252 text with accented letters is practically never valid
//! UTF-8 by chance (`é` is `0xE9`, which UTF-8 only accepts as the lead of a
//! three-byte sequence), so validity is strong evidence that the label lies,
//! while the opposite mistake would turn every `é` into `Ã©`.

use encoding_rs::{Encoding, UTF_8, UTF_16BE, UTF_16LE};

/// How much of the body is scanned for `<meta>` and XML declarations. The
/// WHATWG prescan stops at 1024 bytes; some CMS emit long `<head>` preambles
/// (comments, inline scripts) before the `<meta>`, so we look a little further.
pub const PRESCAN_BYTES: usize = 4096;

/// Decodes `bytes` to text and names the encoding used (e.g. `windows-1252`).
/// `content_type` is the HTTP `Content-Type` header, if any. Never fails:
/// malformed sequences become U+FFFD.
pub fn decode(bytes: &[u8], content_type: Option<&str>) -> (String, &'static str) {
    let encoding = choose_encoding(bytes, content_type);
    let bom_len = Encoding::for_bom(bytes).map_or(0, |(_, len)| len);
    let (text, _had_errors) = encoding.decode_without_bom_handling(&bytes[bom_len..]);
    (text.into_owned(), encoding.name())
}

/// The encoding [`decode`] uses, following the order in the module doc.
pub fn choose_encoding(bytes: &[u8], content_type: Option<&str>) -> &'static Encoding {
    if let Some((encoding, _)) = Encoding::for_bom(bytes) {
        return encoding;
    }
    let declared = content_type
        .and_then(header_charset)
        .or_else(|| document_charset(bytes, content_type));
    match declared {
        Some(encoding) if encoding.is_single_byte() && is_utf8_with_non_ascii(bytes) => UTF_8,
        // Without a BOM, UTF-16 cannot be what a page that declared it in
        // ASCII actually uses (WHATWG: such a `<meta>` means UTF-8); a header
        // saying UTF-16 is trusted.
        Some(encoding) => encoding,
        None => detect(bytes),
    }
}

/// The `charset` parameter of a `Content-Type` value, if it names an
/// encoding `encoding_rs` knows.
fn header_charset(content_type: &str) -> Option<&'static Encoding> {
    content_type.split(';').skip(1).find_map(|param| {
        let (name, value) = param.split_once('=')?;
        if !name.trim().eq_ignore_ascii_case("charset") {
            return None;
        }
        Encoding::for_label(value.trim().trim_matches(['"', '\'']).as_bytes())
    })
}

/// The encoding the document declares about itself, in its first
/// [`PRESCAN_BYTES`] bytes.
fn document_charset(bytes: &[u8], content_type: Option<&str>) -> Option<&'static Encoding> {
    let head = &bytes[..bytes.len().min(PRESCAN_BYTES)];
    let is_xml = content_type.is_some_and(|ct| ct.to_ascii_lowercase().contains("xml"))
        || head.trim_ascii_start().starts_with(b"<?xml");
    let found = if is_xml {
        xml_declaration_charset(head).or_else(|| meta_charset(head))
    } else {
        meta_charset(head)
    };
    // A declaration written in ASCII bytes cannot truthfully say UTF-16.
    found.map(|e| {
        if e == UTF_16LE || e == UTF_16BE {
            UTF_8
        } else {
            e
        }
    })
}

/// `encoding="..."` from `<?xml version="1.0" encoding="..."?>`.
fn xml_declaration_charset(head: &[u8]) -> Option<&'static Encoding> {
    let start = head.trim_ascii_start();
    let decl = start.strip_prefix(b"<?xml")?;
    let end = find(decl, b"?>")?;
    let decl = &decl[..end];
    let at = find(decl, b"encoding")?;
    let rest = decl[at + b"encoding".len()..].trim_ascii_start();
    let rest = rest.strip_prefix(b"=")?.trim_ascii_start();
    let quote = *rest.first()?;
    if quote != b'"' && quote != b'\'' {
        return None;
    }
    let value = &rest[1..];
    let close = value.iter().position(|&b| b == quote)?;
    Encoding::for_label(&value[..close])
}

/// A simplified WHATWG prescan: the first `<meta>` (outside comments) with
/// `charset=...`, or with `http-equiv="content-type"` and a `content` whose
/// value holds `charset=...`.
fn meta_charset(head: &[u8]) -> Option<&'static Encoding> {
    let lower = head.to_ascii_lowercase();
    let mut i = 0;
    while i < lower.len() {
        let rest = &lower[i..];
        if rest.starts_with(b"<!--") {
            i += find(&rest[4..], b"-->").map_or(lower.len(), |end| end + 7);
        } else if rest.starts_with(b"<meta")
            && rest
                .get(5)
                .is_some_and(|b| b.is_ascii_whitespace() || *b == b'/')
        {
            let tag_end = rest.iter().position(|&b| b == b'>').unwrap_or(rest.len());
            if let Some(encoding) = meta_tag_charset(&rest[5..tag_end]) {
                return Some(encoding);
            }
            i += tag_end;
        } else {
            i += 1;
        }
    }
    None
}

/// The charset one `<meta ...>` tag declares, given its lowercased attributes.
fn meta_tag_charset(attributes: &[u8]) -> Option<&'static Encoding> {
    let mut is_pragma = false;
    let mut content_charset = None;
    for (name, value) in parse_attributes(attributes) {
        match name {
            b"charset" => return Encoding::for_label(value),
            b"http-equiv" => is_pragma = value == b"content-type",
            b"content" => content_charset = charset_in_content(value),
            _ => {}
        }
    }
    if is_pragma { content_charset } else { None }
}

/// `charset=...` inside `text/html; charset=...`.
fn charset_in_content(value: &[u8]) -> Option<&'static Encoding> {
    let at = find(value, b"charset")?;
    let rest = value[at + b"charset".len()..].trim_ascii_start();
    let rest = rest.strip_prefix(b"=")?.trim_ascii_start();
    let rest = rest
        .strip_prefix(b"\"")
        .or(rest.strip_prefix(b"'"))
        .unwrap_or(rest);
    let end = rest
        .iter()
        .position(|&b| b == b';' || b == b'"' || b == b'\'' || b.is_ascii_whitespace())
        .unwrap_or(rest.len());
    Encoding::for_label(&rest[..end])
}

/// Splits `name="value" name2=value2 flag` into (name, value) pairs.
fn parse_attributes(mut s: &[u8]) -> Vec<(&[u8], &[u8])> {
    let mut attributes = Vec::new();
    loop {
        s = s.trim_ascii_start();
        while let Some(rest) = s.strip_prefix(b"/") {
            s = rest.trim_ascii_start();
        }
        if s.is_empty() {
            return attributes;
        }
        let name_end = s
            .iter()
            .position(|&b| b == b'=' || b == b'/' || b.is_ascii_whitespace())
            .unwrap_or(s.len())
            .max(1);
        let name = &s[..name_end];
        s = s[name_end..].trim_ascii_start();
        let Some(rest) = s.strip_prefix(b"=") else {
            attributes.push((name, &b""[..]));
            continue;
        };
        s = rest.trim_ascii_start();
        let value;
        match s.first() {
            Some(&quote @ (b'"' | b'\'')) => {
                let end = s[1..]
                    .iter()
                    .position(|&b| b == quote)
                    .map_or(s.len(), |p| p + 1);
                value = &s[1..end];
                s = s.get(end + 1..).unwrap_or_default();
            }
            _ => {
                let end = s
                    .iter()
                    .position(|b| b.is_ascii_whitespace())
                    .unwrap_or(s.len());
                value = &s[..end];
                s = &s[end..];
            }
        }
        attributes.push((name, value));
    }
}

/// Guesses the encoding of an unlabelled body.
fn detect(bytes: &[u8]) -> &'static Encoding {
    if std::str::from_utf8(bytes).is_ok() {
        return UTF_8;
    }
    let mut detector = chardetng::EncodingDetector::new();
    detector.feed(bytes, true);
    // The `fr` hint favours windows-1252 over other Latin encodings when in doubt.
    detector.guess(Some(b"fr"), true)
}

fn is_utf8_with_non_ascii(bytes: &[u8]) -> bool {
    !bytes.is_ascii() && std::str::from_utf8(bytes).is_ok()
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// "Été : cœur à 5 € l’unité" in windows-1252.
    const W1252: &[u8] = b"\xC9t\xE9 : c\x9Cur \xE0 5 \x80 l\x92unit\xE9";
    const EXPECTED: &str = "Été : cœur à 5 € l’unité";

    #[test]
    fn iso_8859_1_header_decodes_windows_1252_bytes() {
        let (text, encoding) = decode(W1252, Some("text/html; charset=ISO-8859-1"));
        assert_eq!(text, EXPECTED);
        assert_eq!(encoding, "windows-1252");
    }

    #[test]
    fn latin1_label_in_meta_decodes_windows_1252_bytes() {
        let mut body = b"<html><head><meta charset=\"latin1\"></head><body>".to_vec();
        body.extend_from_slice(W1252);
        let (text, encoding) = decode(&body, Some("text/html"));
        assert!(text.ends_with(EXPECTED), "{text}");
        assert_eq!(encoding, "windows-1252");
    }

    #[test]
    fn http_equiv_meta_is_read() {
        let mut body =
            b"<HTML><HEAD><META HTTP-EQUIV=\"Content-Type\" CONTENT=\"text/html; charset=iso-8859-1\"></HEAD>"
                .to_vec();
        body.extend_from_slice(W1252);
        let (text, encoding) = decode(&body, None);
        assert!(text.ends_with(EXPECTED), "{text}");
        assert_eq!(encoding, "windows-1252");
    }

    #[test]
    fn meta_inside_a_comment_is_ignored() {
        let body = b"<!-- <meta charset=\"koi8-r\"> --><meta charset=\"windows-1252\">\xE9";
        assert_eq!(
            decode(body, None),
            (
                "<!-- <meta charset=\"koi8-r\"> --><meta charset=\"windows-1252\">é".to_string(),
                "windows-1252"
            )
        );
    }

    #[test]
    fn xml_declaration_is_read_for_feeds() {
        let mut body = b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><rss>".to_vec();
        body.extend_from_slice(W1252);
        let (text, encoding) = decode(&body, Some("application/rss+xml"));
        assert!(text.ends_with(EXPECTED), "{text}");
        assert_eq!(encoding, "windows-1252");
    }

    #[test]
    fn header_charset_wins_over_the_document_declaration() {
        let body = b"<meta charset=\"utf-8\"><p>\xE9t\xE9</p>";
        let (text, encoding) = decode(body, Some("text/html; charset=windows-1252"));
        assert_eq!(text, "<meta charset=\"utf-8\"><p>été</p>");
        assert_eq!(encoding, "windows-1252");
    }

    #[test]
    fn utf8_body_declared_iso_8859_1_is_decoded_as_utf8() {
        let body = "<p>Été : cœur à 5 € l’unité</p>".as_bytes();
        let (text, encoding) = decode(body, Some("text/html; charset=ISO-8859-1"));
        assert_eq!(text, "<p>Été : cœur à 5 € l’unité</p>");
        assert_eq!(encoding, "UTF-8");
    }

    #[test]
    fn ascii_body_keeps_its_declared_encoding() {
        let (_, encoding) = decode(b"plain", Some("text/plain; charset=iso-8859-1"));
        assert_eq!(encoding, "windows-1252");
    }

    #[test]
    fn utf8_bom_wins_over_the_header_and_is_removed() {
        let body = b"\xEF\xBB\xBF\xC3\xA9t\xC3\xA9";
        assert_eq!(
            decode(body, Some("text/html; charset=windows-1252")),
            ("été".to_string(), "UTF-8")
        );
    }

    #[test]
    fn utf16le_bom_is_decoded() {
        let body = b"\xFF\xFE\xE9\x00t\x00\xE9\x00\x53\x01";
        assert_eq!(
            decode(body, Some("text/html; charset=utf-8")),
            ("étéœ".to_string(), "UTF-16LE")
        );
    }

    #[test]
    fn unlabelled_windows_1252_is_detected() {
        let body = "Appel à projets pour les collectivités : numérique, données et sécurité. \
                    Date limite de dépôt des candidatures : été prochain."
            .as_bytes();
        let (legacy, _, _) = encoding_rs::WINDOWS_1252.encode(std::str::from_utf8(body).unwrap());
        let (text, encoding) = decode(&legacy, None);
        assert_eq!(text.as_bytes(), body);
        assert_eq!(encoding, "windows-1252");
    }

    #[test]
    fn unlabelled_utf8_is_utf8() {
        assert_eq!(
            decode("déjà".as_bytes(), None),
            ("déjà".to_string(), "UTF-8")
        );
    }

    #[test]
    fn unknown_header_label_falls_back_to_the_document() {
        let body = b"<meta charset=windows-1252>\x80";
        assert_eq!(
            decode(body, Some("text/html; charset=bogus")).0,
            "<meta charset=windows-1252>€"
        );
    }

    proptest! {
        #[test]
        fn decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..2048), ct in proptest::option::of(".{0,60}")) {
            let _ = decode(&bytes, ct.as_deref());
        }

        #[test]
        fn decode_never_panics_on_meta_like_input(tail in "[ a-zA-Z=\"'<>/;!-]{0,200}", bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let mut body = format!("<meta {tail}").into_bytes();
            body.extend(bytes);
            let _ = decode(&body, None);
        }
    }
}
