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
//! Labels are checked against the bytes, since many are wrong:
//!
//! - a label saying UTF-16 over a body without a single NUL byte is
//!   ignored: UTF-16 writes every ASCII character (markup, spaces, digits)
//!   with a zero byte, so such a body cannot be UTF-16;
//! - a label saying UTF-8 over bytes that are not valid UTF-8: if most of
//!   the non-ASCII sequences are invalid, the page is in a legacy encoding
//!   (windows-1252 on French sites, whatever the CMS template claims); if most are valid, the page is genuinely mixed
//!   (text pasted from another page into a UTF-8 one) and keeps UTF-8, and
//!   the fetcher logs a warning ([`Decoded::garbled`]).
//!
//! One more correction applies to the labels of steps 2 and 3. Many French public
//! sites label pages `ISO-8859-1` (mapped to windows-1252, as the WHATWG
//! Encoding Standard and `encoding_rs` do, so `€`, `œ` and `’` come out right)
//! but actually serve UTF-8, because the CMS was upgraded and the server
//! configuration was not. If the label names a single-byte legacy encoding
//! *and* the body is valid UTF-8 containing non-ASCII bytes, we decode as
//! UTF-8: windows-1252 text with accented letters is practically never valid
//! UTF-8 by chance (`é` is `0xE9`, which UTF-8 only accepts as the lead of a
//! three-byte sequence), so validity is strong evidence that the label lies,
//! while the opposite mistake would turn every `é` into `Ã©`.

use encoding_rs::{Encoding, UTF_8, UTF_16BE, UTF_16LE, WINDOWS_1252};

/// How much of the body is scanned for `<meta>` and XML declarations. The
/// WHATWG prescan stops at 1024 bytes; some CMS emit long `<head>` preambles
/// (comments, inline scripts) before the `<meta>`, so we look a little further.
pub const PRESCAN_BYTES: usize = 4096;

/// A body decoded to text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    pub text: String,
    pub encoding: &'static Encoding,
    /// Set when the page declared UTF-8, is mostly valid UTF-8 but holds
    /// invalid sequences (which became U+FFFD): worth a warning.
    pub garbled: Option<Garbled>,
}

/// How much of a page declared UTF-8 was not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Garbled {
    /// Invalid byte sequences (each became one U+FFFD).
    pub invalid: usize,
    /// Valid non-ASCII characters.
    pub valid: usize,
}

/// Decodes `bytes` to text and names the encoding used (e.g. `windows-1252`).
/// `content_type` is the HTTP `Content-Type` header, if any. Never fails:
/// malformed sequences become U+FFFD.
pub fn decode(bytes: &[u8], content_type: Option<&str>) -> (String, &'static str) {
    let decoded = decode_body(bytes, content_type);
    (decoded.text, decoded.encoding.name())
}

/// [`decode`], telling also whether a UTF-8 page was partly garbled.
pub fn decode_body(bytes: &[u8], content_type: Option<&str>) -> Decoded {
    let (encoding, garbled) = choose(bytes, content_type);
    let bom_len = Encoding::for_bom(bytes).map_or(0, |(_, len)| len);
    let (text, _had_errors) = encoding.decode_without_bom_handling(&bytes[bom_len..]);
    Decoded {
        text: text.into_owned(),
        encoding,
        garbled,
    }
}

/// The encoding [`decode`] uses, following the order in the module doc.
pub fn choose_encoding(bytes: &[u8], content_type: Option<&str>) -> &'static Encoding {
    choose(bytes, content_type).0
}

fn choose(bytes: &[u8], content_type: Option<&str>) -> (&'static Encoding, Option<Garbled>) {
    if let Some((encoding, _)) = Encoding::for_bom(bytes) {
        return (encoding, None);
    }
    let declared = content_type
        .and_then(header_charset)
        .filter(|&encoding| could_be(encoding, bytes))
        .or_else(|| document_charset(bytes, content_type));
    match declared {
        Some(encoding) if encoding.is_single_byte() && is_utf8_with_non_ascii(bytes) => {
            (UTF_8, None)
        }
        Some(encoding) if encoding == UTF_8 => match utf8_census(bytes) {
            Garbled { invalid: 0, .. } => (UTF_8, None),
            Garbled { invalid, valid } if invalid >= valid => (legacy(), None),
            garbled => (UTF_8, Some(garbled)),
        },
        Some(encoding) => (encoding, None),
        None => (detect(bytes), None),
    }
}

/// Whether `bytes` (without a BOM) could be in `encoding`: only UTF-16 is
/// ruled out, by the absence of any NUL byte in the prescan window.
fn could_be(encoding: &'static Encoding, bytes: &[u8]) -> bool {
    if encoding == UTF_16LE || encoding == UTF_16BE {
        bytes[..bytes.len().min(PRESCAN_BYTES)].contains(&0)
    } else {
        true
    }
}

/// Counts the invalid sequences and the valid non-ASCII characters of
/// `bytes` read as UTF-8.
fn utf8_census(mut bytes: &[u8]) -> Garbled {
    // A UTF-8 lead byte (11xxxxxx) starts each non-ASCII character.
    let leads = |valid: &[u8]| valid.iter().filter(|&&b| b >= 0xC0).count();
    let mut census = Garbled {
        invalid: 0,
        valid: 0,
    };
    loop {
        match std::str::from_utf8(bytes) {
            Ok(_) => {
                census.valid += leads(bytes);
                return census;
            }
            Err(error) => {
                census.valid += leads(&bytes[..error.valid_up_to()]);
                census.invalid += 1;
                match error.error_len() {
                    Some(len) => bytes = &bytes[error.valid_up_to() + len..],
                    None => return census,
                }
            }
        }
    }
}

/// The legacy encoding of a body that claimed UTF-8 but is not:
/// windows-1252. Pages lying about UTF-8 on the sites Vigie follows are
/// French pages from a legacy CMS, and windows-1252 (the WHATWG reading of
/// ISO-8859-1) decodes every byte. `chardetng` is not asked here: on the
/// few accented letters of a short French text it confidently guesses
/// windows-1251 (`Éÿ` becomes `Йя`), while a wrong windows-1252 guess
/// on a non-French page would at worst swap letters, never lose bytes.
fn legacy() -> &'static Encoding {
    WINDOWS_1252
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
#[path = "charset_tests.rs"]
mod tests;
