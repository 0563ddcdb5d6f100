//! Clean text from hostile markup. Scraped text is untrusted: titles become
//! plain text with entities decoded and whitespace collapsed; summaries are
//! sanitized with ammonia down to a few harmless tags, and a plain-text
//! version is kept for search, emails and feeds.

use std::collections::HashSet;
use std::sync::LazyLock;

/// Longest title kept, in characters; longer ones are cut at a word.
pub const MAX_TITLE_CHARS: usize = 300;
/// Longest summary kept, in characters of plain text.
pub const MAX_SUMMARY_CHARS: usize = 4000;

/// Collapses every run of whitespace (including non-breaking spaces) into
/// one space and trims.
pub fn collapse_whitespace(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for word in s.split(|c: char| c.is_whitespace() || c == '\u{a0}' || c == '\u{202f}') {
        if word.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// Plain text from something that may hold markup or entities: tags
/// removed, entities decoded, control characters dropped, whitespace
/// collapsed.
pub fn plain_text(s: &str) -> String {
    let stripped = if s.contains('<') {
        // Block-level boundaries become spaces so words do not run together.
        let spaced = s.replace("</", " </").replace("<br", " <br");
        ammonia::Builder::empty().clean(&spaced).to_string()
    } else {
        s.to_string()
    };
    let decoded = html_escape::decode_html_entities(&stripped);
    if !decoded
        .chars()
        .any(|c| c.is_control() && !c.is_whitespace())
    {
        // The common case: nothing to drop, no copy to make.
        return collapse_whitespace(&decoded);
    }
    let no_controls: String = decoded
        .chars()
        .filter(|c| !c.is_control() || c.is_whitespace())
        .collect();
    collapse_whitespace(&no_controls)
}

/// Cuts `s` to at most `max` characters, at a word boundary, adding `…`.
pub fn truncate_chars(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let cut: String = s.chars().take(max.saturating_sub(1)).collect();
    let at_word = cut
        .rfind(' ')
        .filter(|&i| i > cut.len() / 2)
        .map_or(cut.as_str(), |i| &cut[..i]);
    format!("{}…", at_word.trim_end())
}

static SANITIZER: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| {
    let tags: HashSet<&str> = ["p", "br", "ul", "ol", "li", "strong", "em", "b", "i", "a"]
        .into_iter()
        .collect();
    let mut b = ammonia::Builder::default();
    b.tags(tags)
        .url_schemes(["http", "https", "mailto"].into_iter().collect())
        .link_rel(Some("noopener noreferrer nofollow"))
        .strip_comments(true);
    b
});

/// A summary as safe HTML (few tags, no attributes but `href`) and as plain
/// text, both bounded in length.
pub fn clean_summary(raw: &str) -> (String, String) {
    let text = truncate_chars(&plain_text(raw), MAX_SUMMARY_CHARS);
    let html = if raw.chars().count() > MAX_SUMMARY_CHARS * 2 {
        // Too long to keep its markup safely cut: fall back to the text.
        html_escape::encode_text(&text).into_owned()
    } else if is_inert_text(raw) {
        // Nothing the sanitizer would change: skip its parse and serialization.
        raw.trim().to_string()
    } else {
        SANITIZER.clean(raw).to_string().trim().to_string()
    };
    (html, text)
}

/// Whether the sanitizer would give `raw` back unchanged: no markup, no
/// entity, none of the characters the HTML serializer escapes (`&`, `<`,
/// `>`, U+00A0), and none the tokenizer rewrites or drops (CR, NUL and the
/// other control characters but tab and line feed, the byte-order mark).
fn is_inert_text(raw: &str) -> bool {
    !raw.chars().any(|c| {
        matches!(c, '<' | '>' | '&' | '\u{a0}' | '\r' | '\u{feff}')
            || (c.is_control() && c != '\n' && c != '\t')
    })
}

/// A clean one-line title.
pub fn clean_title(raw: &str) -> String {
    truncate_chars(&plain_text(raw), MAX_TITLE_CHARS)
}

/// Lowercase ASCII folding used for keyword matching: `Clôture` → `cloture`.
pub fn fold(s: &str) -> String {
    deunicode::deunicode(s).to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn entities_are_decoded_and_space_collapsed() {
        assert_eq!(
            clean_title("  Appel&nbsp;à projets\n\t« Archivage &amp; numérique »  "),
            "Appel à projets « Archivage & numérique »"
        );
        assert_eq!(plain_text("<p>Un</p><p>Deux<br>Trois</p>"), "Un Deux Trois");
    }

    #[test]
    fn hostile_markup_is_removed_from_summaries() {
        let (html, text) = clean_summary(
            r#"<p onclick="x()">Dossier <script>alert(1)</script><a href="javascript:alert(2)">ici</a> <img src=x onerror=alert(3)><a href="https://a.fr/x">lien</a></p>"#,
        );
        assert!(
            !html.contains("script")
                && !html.contains("onclick")
                && !html.contains("javascript")
                && !html.contains("<img"),
            "{html}"
        );
        assert!(html.contains(r#"href="https://a.fr/x""#), "{html}");
        assert!(
            !text.contains('<') && text.contains("Dossier") && !text.contains("alert(1)"),
            "{text}"
        );
    }

    #[test]
    fn only_text_the_sanitizer_keeps_as_is_skips_it() {
        assert!(is_inert_text("Dotation : 50 000 €. L'appel « AMI » (2035)"));
        for raw in [
            "a &amp; b",
            "a > b",
            "<p>x</p>",
            "a\u{a0}b",
            "a\r\nb",
            "\u{feff}a",
            "a\0b",
        ] {
            assert!(!is_inert_text(raw), "{raw:?}");
        }
    }

    #[test]
    fn long_text_is_cut_at_a_word() {
        let t = truncate_chars("un deux trois quatre cinq", 12);
        assert_eq!(t, "un deux…");
        assert!(clean_title(&"mot ".repeat(500)).chars().count() <= MAX_TITLE_CHARS);
    }

    proptest! {
        #[test]
        fn inert_summaries_skip_the_sanitizer_unchanged(raw in "[ a-zA-Z0-9\\t\\n'\"=/.,;:!?«»()€éàçÉ\u{202f}\u{2003}\u{fffe}\u{ffff}😀]{0,80}") {
            prop_assume!(is_inert_text(&raw));
            let full = SANITIZER.clean(&raw).to_string().trim().to_string();
            prop_assert_eq!(clean_summary(&raw).0, full);
        }

        #[test]
        fn sanitized_summaries_never_carry_script(raw in "\\PC{0,300}") {
            let input = format!("{raw}<script>evil()</script><b onmouseover=evil()>x</b>");
            let (html, text) = clean_summary(&input);
            prop_assert!(!html.to_lowercase().contains("<script"));
            prop_assert!(!html.contains("onmouseover"));
            // The plain text is escaped wherever it is shown; it only has to
            // be free of the markup the sanitizer removed.
            prop_assert!(!text.contains("onmouseover"));
        }
    }
}
