//! Clean text from hostile markup. Scraped text is untrusted: titles become
//! plain text with entities decoded and whitespace collapsed; summaries are
//! sanitized with ammonia down to a few harmless tags, and a plain-text
//! version is kept for search, emails and feeds.
//!
//! Both lose the Unicode bidirectional controls (embeddings, overrides,
//! isolates and the LRM/RLM marks): French text never needs them, and an
//! override in a scraped title can make an email or a page show text in an
//! order other than the one stored ("Trojan Source"-style spoofing).

use std::borrow::Cow;
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

/// Whether `c` is a bidirectional control: LRM/RLM (U+200E, U+200F), the
/// embeddings and overrides (U+202A–U+202E), the isolates (U+2066–U+2069)
/// or the Arabic letter mark (U+061C).
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{061c}')
}

/// `s` without its bidirectional controls (no copy when it has none).
pub fn strip_bidi(s: &str) -> Cow<'_, str> {
    if s.chars().any(is_bidi_control) {
        Cow::Owned(s.chars().filter(|c| !is_bidi_control(*c)).collect())
    } else {
        Cow::Borrowed(s)
    }
}

/// Plain text from something that may hold markup or entities: tags
/// removed, entities decoded, control characters and bidirectional
/// controls dropped, whitespace collapsed.
pub fn plain_text(s: &str) -> String {
    // Entities may spell the controls too (`&#x202E;`): strip after decoding.
    let decoded = plain_text_keeping_bidi(s);
    match strip_bidi(&decoded) {
        Cow::Borrowed(_) => decoded,
        // Removing a control may leave two spaces side by side.
        Cow::Owned(stripped) => collapse_whitespace(&stripped),
    }
}

fn plain_text_keeping_bidi(s: &str) -> String {
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
    cut_chars(s, max).0
}

/// [`truncate_chars`], saying whether it cut. The cut falls at the last
/// space when that keeps more than half of the text (a single giant "word"
/// is cut inside), and punctuation left dangling before the `…` goes.
fn cut_chars(s: &str, max: usize) -> (String, bool) {
    if s.chars().count() <= max {
        return (s.to_string(), false);
    }
    let cut: String = s.chars().take(max.saturating_sub(1)).collect();
    let at_word = cut
        .rfind(' ')
        .filter(|&i| i > cut.len() / 2)
        .map_or(cut.as_str(), |i| &cut[..i]);
    let at_word = at_word.trim_end_matches([' ', ',', ';', ':', '-', '\u{2013}']);
    (format!("{at_word}…"), true)
}

/// A cleaned summary (see [`clean_summary`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CleanSummary {
    /// Sanitized HTML.
    pub html: String,
    /// Plain text, at most [`MAX_SUMMARY_CHARS`] characters.
    pub text: String,
    /// The summary was longer than [`MAX_SUMMARY_CHARS`] and was cut at a
    /// word, ending in `…` (the HTML is then that cut text, escaped).
    pub cut: bool,
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
/// text, both bounded in length and free of bidirectional controls.
pub fn clean_summary(raw: &str) -> CleanSummary {
    let raw = strip_bidi(raw);
    let raw = raw.as_ref();
    let (text, cut) = cut_chars(&plain_text(raw), MAX_SUMMARY_CHARS);
    let html = if cut || raw.chars().count() > MAX_SUMMARY_CHARS * 2 {
        // Markup cannot be cut safely in the middle: a cut summary is shown
        // as its cut text, so the HTML ends with the same `…` as the text.
        html_escape::encode_text(&text).into_owned()
    } else if is_inert_text(raw) {
        // Nothing the sanitizer would change: skip its parse and serialization.
        raw.trim().to_string()
    } else {
        // Entities may spell bidirectional controls (`&#x202E;`): the
        // serializer writes them back as characters.
        strip_bidi(SANITIZER.clean(raw).to_string().trim()).into_owned()
    };
    CleanSummary { html, text, cut }
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

/// A clean one-line title, and whether it was cut (at a word, with `…`)
/// for being longer than [`MAX_TITLE_CHARS`].
pub fn clean_title(raw: &str) -> (String, bool) {
    cut_chars(&plain_text(raw), MAX_TITLE_CHARS)
}

/// Lowercase ASCII folding used for keyword matching: `Clôture` → `cloture`.
pub fn fold(s: &str) -> String {
    deunicode::deunicode(s).to_lowercase()
}

/// The words of already folded text: runs of ASCII letters and digits.
pub fn words(folded: &str) -> impl Iterator<Item = &str> {
    folded
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn entities_are_decoded_and_space_collapsed() {
        assert_eq!(
            clean_title("  Appel&nbsp;à projets\n\t« Archivage &amp; numérique »  ").0,
            "Appel à projets « Archivage & numérique »"
        );
        assert_eq!(plain_text("<p>Un</p><p>Deux<br>Trois</p>"), "Un Deux Trois");
    }

    #[test]
    fn hostile_markup_is_removed_from_summaries() {
        let CleanSummary { html, text, .. } = clean_summary(
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
        assert!(clean_title(&"mot ".repeat(500)).0.chars().count() <= MAX_TITLE_CHARS);
    }

    #[test]
    fn a_cut_summary_says_so_and_ends_with_an_ellipsis_at_a_word() {
        let full = "Les communes rurales, ".repeat(400);
        let s = clean_summary(&format!("<p>{full}</p>"));
        assert!(s.cut);
        assert!(s.text.chars().count() <= MAX_SUMMARY_CHARS);
        // Cut at a word: what is kept is a prefix of the text that ends
        // where a word ends, then the ellipsis.
        let kept = s.text.strip_suffix('…').expect("ends with an ellipsis");
        assert!(full.starts_with(kept), "{kept}");
        assert!(kept.ends_with(|c: char| c.is_alphabetic()), "{kept}");
        assert!(full[kept.len()..].starts_with([' ', ',']), "{kept}");
        // The HTML is cut the same way, not left whole beside a cut text.
        assert_eq!(s.html, s.text);

        let short = clean_summary("<p>Les communes rurales.</p>");
        assert!(!short.cut);
        assert_eq!(short.text, "Les communes rurales.");
        let (title, cut) = clean_title(&"Appel ".repeat(80));
        assert!(cut && title.ends_with("Appel…"), "{title}");
        assert!(!clean_title("Appel à projets").1);
    }

    #[test]
    fn bidirectional_controls_are_dropped_from_titles_and_summaries() {
        // U+202E would show "3202 sram 13" reversed in a mail client.
        let raw = "Date\u{202e} limite\u{202c} : \u{2066}31 mars\u{2069}\u{200f} 2026\u{200e}";
        assert_eq!(clean_title(raw).0, "Date limite : 31 mars 2026");
        let s = clean_summary(&format!("<p>{raw}</p>"));
        assert_eq!(s.text, "Date limite : 31 mars 2026");
        assert_eq!(s.html, "<p>Date limite : 31 mars 2026</p>");
        // Spelled as entities, they are decoded and then dropped too.
        let s = clean_summary("<p>a&#x202E;b &#8238;c</p>");
        assert_eq!(s.text, "ab c");
        assert_eq!(s.html, "<p>ab c</p>");
        // Inert text (no markup) takes the fast path and loses them as well.
        assert_eq!(clean_summary("a\u{202d}b").html, "ab");
    }

    proptest! {
        #[test]
        fn inert_summaries_skip_the_sanitizer_unchanged(raw in "[ a-zA-Z0-9\\t\\n'\"=/.,;:!?«»()€éàçÉ\u{202f}\u{2003}\u{fffe}\u{ffff}😀]{0,80}") {
            prop_assume!(is_inert_text(&raw));
            let full = SANITIZER.clean(&raw).to_string().trim().to_string();
            prop_assert_eq!(clean_summary(&raw).html, full);
        }

        #[test]
        fn sanitized_summaries_never_carry_script(raw in "\\PC{0,300}") {
            let input = format!("{raw}<script>evil()</script><b onmouseover=evil()>x</b>");
            let CleanSummary { html, text, .. } = clean_summary(&input);
            prop_assert!(!html.to_lowercase().contains("<script"));
            prop_assert!(!html.contains("onmouseover"));
            // The plain text is escaped wherever it is shown; it only has to
            // be free of the markup the sanitizer removed.
            prop_assert!(!text.contains("onmouseover"));
        }

        #[test]
        fn no_cleaned_text_holds_a_bidirectional_control(
            raw in "([a-zé <>/&#;x0-9p]|\u{200e}|\u{200f}|[\u{202a}-\u{202e}]|[\u{2066}-\u{2069}]|&#x202[a-e];|&#820[2-6];|&#x206[6-9];){0,60}",
        ) {
            let (title, _) = clean_title(&raw);
            let summary = clean_summary(&raw);
            for out in [&title, &summary.text, &summary.html, &plain_text(&raw)] {
                prop_assert!(!out.chars().any(is_bidi_control), "{:?} -> {:?}", raw, out);
            }
        }
    }
}
