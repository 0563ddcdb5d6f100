//! Whitespace rules every stage shares: scraped text and definition
//! values alike are collapsed the same way.

/// Whitespace runs to one space, trimmed (whitespace as `char::is_whitespace`).
/// One pass over the bytes: this runs on every field and item text.
pub fn collapse(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut word: Option<usize> = None;
    let mut at = 0;
    while at < s.len() {
        let byte = s.as_bytes()[at];
        let (space, width) = if byte.is_ascii() {
            // `char::is_whitespace` on ASCII: the five of
            // `u8::is_ascii_whitespace` plus vertical tab.
            (byte.is_ascii_whitespace() || byte == 0x0b, 1)
        } else {
            s[at..]
                .chars()
                .next()
                .map_or((false, 1), |c| (c.is_whitespace(), c.len_utf8()))
        };
        match (space, word) {
            (true, Some(start)) => {
                if !out.is_empty() {
                    out.push(' ');
                }
                out.push_str(&s[start..at]);
                word = None;
            }
            (false, None) => word = Some(at),
            _ => {}
        }
        at += width;
    }
    if let Some(start) = word {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(&s[start..]);
    }
    out
}

/// `Some` of the collapsed text unless it is empty.
pub fn non_empty(s: &str) -> Option<String> {
    let c = collapse(s);
    (!c.is_empty()).then_some(c)
}

#[cfg(test)]
mod tests {
    use super::collapse;

    proptest::proptest! {
        #[test]
        fn collapse_is_split_whitespace_joined(s in "[ a\\t\\n\\r\\x0b\\x0c\\u{85}\\u{a0}\\u{2003}\\u{3000}é€😀]{0,60}") {
            proptest::prop_assert_eq!(collapse(&s), s.split_whitespace().collect::<Vec<_>>().join(" "));
        }
    }
}
