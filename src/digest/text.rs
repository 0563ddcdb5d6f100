//! Plain-text helpers for digests: one-line cleaning of scraped strings,
//! shortening at a word, and wrapping for the text part of an email.
//!
//! All of it counts characters (Unicode scalar values), not bytes, so that
//! "é" is one column and a cut never splits a character.

/// Collapses every run of whitespace and control characters (CR, LF, tab,
/// NUL, the Unicode line/paragraph separators…) into one space and trims.
/// The result is a single line: safe in a mail header once encoded, and it
/// cannot break the layout of the text part.
pub fn one_line(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut pending_space = false;
    for c in s.chars() {
        if c.is_whitespace() || c.is_control() || matches!(c, '\u{200B}' | '\u{FEFF}') {
            pending_space = !out.is_empty();
        } else {
            if pending_space {
                out.push(' ');
                pending_space = false;
            }
            out.push(c);
        }
    }
    out
}

/// At most `max` characters: the text itself if it fits, else cut at the
/// last word boundary that leaves room for "…" (or mid-word when a single
/// word is longer than `max`). Trailing punctuation before the cut is
/// dropped so it does not read "projets,…".
pub fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    if max == 0 {
        return String::new();
    }
    let keep: String = s.chars().take(max - 1).collect();
    // Cut at a word only if the next character starts a new word.
    let next_is_space = s.chars().nth(max - 1).is_some_and(char::is_whitespace);
    let cut = if next_is_space {
        keep.as_str()
    } else {
        match keep.rfind(char::is_whitespace) {
            Some(i) if i > 0 => &keep[..i],
            _ => keep.as_str(),
        }
    };
    let cut = cut.trim_end_matches(|c: char| c.is_whitespace() || ",;:-–—".contains(c));
    format!("{cut}…")
}

/// Wraps one paragraph to `width` columns, the first line starting with
/// `first` (a bullet, say) and the others with `indent`. Words longer than the width (URLs) stay whole on their own line,
/// so a link is never broken.
pub fn wrap(s: &str, width: usize, first: &str, indent: &str) -> String {
    let indent_len = indent.chars().count();
    let mut out = String::new();
    let mut line_len = 0;
    for word in s.split_whitespace() {
        let len = word.chars().count();
        if line_len == 0 {
            out.push_str(first);
            out.push_str(word);
            line_len = first.chars().count() + len;
        } else if line_len + 1 + len <= width {
            out.push(' ');
            out.push_str(word);
            line_len += 1 + len;
        } else {
            out.push('\n');
            out.push_str(indent);
            out.push_str(word);
            line_len = indent_len + len;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn one_line_removes_breaks_and_controls() {
        assert_eq!(
            one_line("  Appel\r\nà\tprojets\u{0}\u{2028}2027  "),
            "Appel à projets 2027"
        );
        assert_eq!(one_line("\r\n"), "");
    }

    #[test]
    fn shorten_cuts_at_a_word() {
        assert_eq!(shorten("court", 300), "court");
        assert_eq!(shorten("un deux trois quatre", 12), "un deux…");
        assert_eq!(shorten("un deux, trois", 10), "un deux…");
        assert_eq!(shorten("un deux trois", 8), "un deux…");
        assert_eq!(shorten("anticonstitutionnellement", 10), "anticonst…");
        assert_eq!(shorten("éééé éééé", 6), "éééé…");
    }

    #[test]
    fn wrap_keeps_long_words_whole() {
        let url = "https://example.org/a/very/long/path/that/does/not/fit/in/the/width";
        let wrapped = wrap(&format!("Voir {url} pour tout savoir"), 30, "- ", "  ");
        assert_eq!(wrapped, format!("- Voir\n  {url}\n  pour tout savoir"));
    }

    proptest! {
        #[test]
        fn shorten_respects_the_limit(s in "\\PC{0,400}", max in 1usize..320) {
            let short = shorten(&s, max);
            prop_assert!(short.chars().count() <= max);
        }

        #[test]
        fn wrapped_lines_fit_unless_a_word_is_too_long(s in "[a-zé ]{0,300}") {
            for line in wrap(&s, 20, "  ", "  ").lines() {
                let words = line.split_whitespace().count();
                prop_assert!(line.chars().count() <= 20 || words == 1, "{:?}", line);
            }
        }
    }
}
