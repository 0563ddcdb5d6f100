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

fn no_replacement(text: &str) {
    assert!(!text.contains('\u{FFFD}'), "U+FFFD in {text:?}");
}

#[test]
fn header_utf8_over_windows_1252_bytes_is_decoded_as_windows_1252() {
    let mut body = b"<html><body><p>".to_vec();
    body.extend_from_slice(W1252);
    body.extend_from_slice(b"</p></body></html>");
    let decoded = decode_body(&body, Some("text/html; charset=utf-8"));
    no_replacement(&decoded.text);
    assert!(decoded.text.contains(EXPECTED), "{}", decoded.text);
    assert_eq!(decoded.encoding.name(), "windows-1252");
    assert_eq!(decoded.garbled, None);
}

#[test]
fn meta_utf8_over_latin1_bytes_is_decoded_as_windows_1252() {
    // Latin-1 proper: only letters below 0x100, no C1 punctuation.
    let mut body = b"<html><head><meta charset=\"utf-8\"></head><body>".to_vec();
    body.extend_from_slice(
        b"D\xE9p\xF4t des candidatures avant le 30 ao\xFBt, \xE0 la pr\xE9fecture",
    );
    let decoded = decode_body(&body, Some("text/html"));
    no_replacement(&decoded.text);
    assert!(
        decoded
            .text
            .ends_with("Dépôt des candidatures avant le 30 août, à la préfecture"),
        "{}",
        decoded.text
    );
}

#[test]
fn header_utf16_over_utf8_bytes_is_ignored() {
    let body = "<p>Été : cœur à 5 € l’unité</p>".as_bytes();
    let decoded = decode_body(body, Some("text/html; charset=utf-16"));
    assert_eq!(decoded.text, "<p>Été : cœur à 5 € l’unité</p>");
    assert_eq!(decoded.encoding.name(), "UTF-8");
    // …and a body that is really UTF-16 without a BOM still honours it.
    let utf16: Vec<u8> = "<p>été</p>"
        .encode_utf16()
        .flat_map(u16::to_le_bytes)
        .collect();
    let decoded = decode_body(&utf16, Some("text/html; charset=utf-16le"));
    assert_eq!(decoded.text, "<p>été</p>");
}

#[test]
fn header_utf16_over_windows_1252_bytes_falls_back_to_the_meta() {
    let mut body = b"<meta charset=\"windows-1252\">".to_vec();
    body.extend_from_slice(W1252);
    let decoded = decode_body(&body, Some("text/html; charset=utf-16"));
    assert!(decoded.text.ends_with(EXPECTED), "{}", decoded.text);
}

#[test]
fn boms_win_over_every_label() {
    let utf16be = b"\xFE\xFF\x00\xE9\x00t\x00\xE9";
    assert_eq!(
        decode(utf16be, Some("text/html; charset=utf-8")),
        ("été".to_string(), "UTF-16BE")
    );
    let utf8 = b"\xEF\xBB\xBF<meta charset=\"windows-1252\">\xC3\xA9t\xC3\xA9";
    assert_eq!(
        decode(utf8, Some("text/html; charset=utf-16")),
        ("<meta charset=\"windows-1252\">été".to_string(), "UTF-8")
    );
}

#[test]
fn a_mixed_page_keeps_its_declared_utf8_and_is_reported() {
    // Valid UTF-8 text with one stray windows-1252 "é" pasted in.
    let mut body = "<p>Été : cœur à 5 € l’unité, ".as_bytes().to_vec();
    body.extend_from_slice(b"d\xE9p\xF4t");
    body.extend_from_slice("</p>".as_bytes());
    let decoded = decode_body(&body, Some("text/html; charset=utf-8"));
    assert_eq!(decoded.encoding.name(), "UTF-8");
    assert!(
        decoded.text.starts_with("<p>Été : cœur à 5 € l’unité, "),
        "{}",
        decoded.text
    );
    assert_eq!(
        decoded.garbled,
        Some(Garbled {
            invalid: 2,
            valid: 7
        })
    );
    // A clean page is not reported.
    assert_eq!(
        decode_body("<p>été</p>".as_bytes(), Some("text/html; charset=utf-8")).garbled,
        None
    );
}

/// Words of French prose whose windows-1252 bytes are (almost always) not
/// valid UTF-8: lowercase letters with accents, capitals at word starts,
/// and the punctuation French typography uses.
fn french_text() -> impl Strategy<Value = String> {
    let word = "[A-ZÉÀÇ]?[a-zàâçéèêëîïôûùüÿœæ]{1,12}[’]?";
    let separator = prop::sample::select(vec![
        " ", " ", " ", ", ", " : ", " « ", " » ", " – ", " … ", " 5 € ",
    ]);
    prop::collection::vec((word, separator), 1..40)
        .prop_map(|parts| parts.into_iter().map(|(w, s)| format!("{w}{s}")).collect())
}

proptest! {
    #[test]
    fn windows_1252_french_served_as_utf8_decodes_back_exactly(text in french_text(), meta in any::<bool>()) {
        let (bytes, _, unmappable) = encoding_rs::WINDOWS_1252.encode(&text);
        prop_assert!(!unmappable);
        // Bytes that happen to be valid UTF-8 cannot be told from UTF-8.
        prop_assume!(std::str::from_utf8(&bytes).is_err());
        let (body, content_type) = if meta {
            let mut body = b"<meta charset=\"utf-8\"><p>".to_vec();
            body.extend_from_slice(&bytes);
            (body, Some("text/html"))
        } else {
            (bytes.into_owned(), Some("text/html; charset=UTF-8"))
        };
        let decoded = decode_body(&body, content_type);
        prop_assert!(decoded.text.ends_with(&text), "{:?} decoded as {:?} ({})", text, decoded.text, decoded.encoding.name());
    }

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
