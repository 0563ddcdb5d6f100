//! `vigie calls --text`: what a person types is words. Quotes, FTS5
//! operators, parentheses, `title:`, `*`, `-` and decomposed accents never
//! make an FTS5 syntax error nor hide a call whose title has the word.

use chrono::{DateTime, TimeZone, Utc};
use proptest::prelude::*;
use unicode_normalization::UnicodeNormalization;

use super::*;
use crate::domain::{Audience, CallKind, Perimeter, Recurrence, Theme};
use crate::normalize::item::{ItemKey, NormalizedItem};

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2027, 1, 10, 8, 0, 0).unwrap()
}

fn store_with(titles: &[String]) -> Store {
    let mut store = Store::open_in_memory().unwrap();
    store
        .upsert_source("siaf", "SIAF", "html", "https://a.fr/", 0, false)
        .unwrap();
    let items: Vec<NormalizedItem> = titles
        .iter()
        .enumerate()
        .map(|(i, title)| NormalizedItem {
            key: ItemKey::Url(format!("https://a.fr/{i}")),
            title: title.clone(),
            url: Some(format!("https://a.fr/{i}")),
            summary_html: String::new(),
            summary_text: String::new(),
            funder: None,
            kind: CallKind::Aap,
            audiences: vec![Audience::Commune],
            perimeter: Perimeter::France.into(),
            themes: vec![Theme::Archives],
            opens_on: None,
            deadlines: vec![],
            recurrence: Recurrence::Oneoff,
            published: None,
        })
        .collect();
    store.ingest("siaf", &items, now()).unwrap();
    store
}

fn search(store: &Store, text: &str) -> anyhow::Result<Vec<String>> {
    let filter = CallFilter {
        text: Some(text.into()),
        ..Default::default()
    };
    Ok(store
        .list_calls(&filter, now())?
        .into_iter()
        .map(|c| c.title)
        .collect())
}

#[test]
fn typed_syntax_is_read_as_words() {
    let titles = vec![
        "Appel à projets école numérique".to_string(),
        "Rénovation énergétique des bâtiments".to_string(),
    ];
    let store = store_with(&titles);
    for typed in [
        "\"école",
        "école AND (",
        "NEAR(école",
        "title:école",
        "école*",
        "-école",
        "école)",
        "((école",
        "e\u{301}cole",
        "ÉCOLE numérique",
        "école^",
        "'école'",
    ] {
        let found = search(&store, typed).unwrap_or_else(|e| panic!("{typed}: {e:#}"));
        assert_eq!(found, vec![titles[0].clone()], "{typed}");
    }
    let err = search(&store, "*** ( ) \"").unwrap_err().to_string();
    assert!(err.contains("no word"), "{err}");
}

#[test]
fn marks_and_letters_the_tokenizer_does_not_know_are_not_errors() {
    let store = store_with(&["Appel à projets".to_string()]);
    // A lone combining accent; Adlam (Unicode 9, after unicode61's 6.1);
    // a private-use character; an emoji between words.
    for typed in [
        "\u{301}",
        "\u{1E900}\u{1E901}",
        "\u{E000}",
        "appel \u{1F600} projets",
    ] {
        if let Err(e) = search(&store, typed) {
            let shown = format!("{e:#}");
            assert!(shown.contains("contains no word"), "{typed:?}: {shown}");
        }
    }
    assert_eq!(search(&store, "appel \u{1F600} projets").unwrap().len(), 1);
}

#[test]
fn a_very_long_text_is_not_an_error() {
    let store = store_with(&["Appel à projets école".to_string()]);
    let long = "école ".repeat(5000);
    assert_eq!(search(&store, &long).unwrap().len(), 1);
}

/// Letters and digits of French text (unicode61 knows all of them).
const WORD: &str = "[a-zA-Z0-9àâäçéèêëîïôöùûüÿœæÀÂÇÉÈÊËÎÏÔÙÛÜŒ]{1,10}";

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn no_typed_text_is_an_fts_error(text in "\\PC{0,60}") {
        let store = store_with(&["Appel à projets".to_string()]);
        if let Err(e) = search(&store, &text) {
            let shown = format!("{e:#}");
            prop_assert!(shown.contains("contains no word to look for"), "{text:?}: {shown}");
        }
    }

    #[test]
    fn a_word_of_a_title_typed_with_any_decoration_finds_it(
        words in proptest::collection::vec(WORD, 1..6),
        which in any::<prop::sample::Index>(),
        before in prop::sample::select(vec!["", "\"", "(", "-", "+", "*", "title:", "AND ", "NEAR(", "^", "'", "l'"]),
        after in prop::sample::select(vec!["", "\"", ")", "*", "-", ":", " OR", " AND (", "'", "…", "?"]),
        decomposed in any::<bool>(),
        upper in any::<bool>(),
    ) {
        let title = words.join(" ");
        let store = store_with(std::slice::from_ref(&title));
        let word = which.get(&words);
        let word = if upper { word.to_uppercase() } else { word.clone() };
        let word: String = if decomposed { word.nfd().collect() } else { word };
        // A word that is itself what the search drops is not a word to
        // find: an operator in capitals (`AND`), or one letter before an
        // apostrophe (`L'`, an elided article).
        prop_assume!(!["AND", "OR", "NOT", "NEAR"].contains(&word.as_str()));
        prop_assume!(!(word.chars().count() == 1 && after == "'"));
        let typed = format!("{before}{word}{after}");
        let found = search(&store, &typed).map_err(|e| TestCaseError::fail(format!("{typed:?}: {e:#}")))?;
        prop_assert_eq!(found, vec![title.clone()], "{:?}", typed);
    }
}
