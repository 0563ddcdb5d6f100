//! What a person types in a search box, made a safe FTS5 query.

/// Turns what a person types into a safe FTS5 query: every word becomes a
/// quoted prefix term (`"ecole"*`, so plurals match), all of them required.
/// Nothing typed is FTS5 syntax: quotes, parentheses, `*`, `-`, `^` are
/// separators; the operators `AND`, `OR`, `NOT`, `NEAR` in capitals and a
/// column name before `:` (`title:`) are dropped (every column is searched
/// anyway); so is a French elided article (`l'`, `d'`), which the title may
/// not have. Text is NFC-normalized first so that a decomposed accent
/// (`e` + U+0301, as some keyboards send it) stays inside its word. `None`
/// when the text holds no word.
pub fn fts_query(text: &str) -> Option<String> {
    use unicode_normalization::UnicodeNormalization;
    use unicode_normalization::char::is_combining_mark;

    const OPERATORS: [&str; 4] = ["AND", "OR", "NOT", "NEAR"];
    const COLUMNS: [&str; 4] = ["title", "summary", "summary_text", "funder"];
    const ELISIONS: [&str; 12] = [
        "l", "d", "j", "m", "n", "s", "t", "c", "qu", "jusqu", "lorsqu", "puisqu",
    ];
    let text: String = text.nfc().collect();
    let in_word = |c: char| c.is_alphanumeric() || is_combining_mark(c);
    let mut terms = Vec::new();
    let mut start = None;
    // A space after the end closes the last word.
    for (i, c) in text
        .char_indices()
        .chain(std::iter::once((text.len(), ' ')))
    {
        if in_word(c) {
            start.get_or_insert(i);
            continue;
        }
        let Some(s) = start.take() else { continue };
        let word = &text[s..i];
        let lower = word.to_lowercase();
        let noise = OPERATORS.contains(&word)
            || (c == ':' && COLUMNS.contains(&lower.as_str()))
            || (matches!(c, '\'' | '’') && ELISIONS.contains(&lower.as_str()));
        if !noise {
            terms.push(format!("\"{word}\"*"));
        }
    }
    (!terms.is_empty()).then(|| terms.join(" AND "))
}
