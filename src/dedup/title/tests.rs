//! Tests of `title`.

use super::*;

#[test]
fn boilerplate_and_years_are_separated() {
    let a = title_key("AAP Archivage numérique en territoires 2020");
    let b = title_key("Appel à projets « Archivage numérique en territoires »");
    assert_eq!(a.tokens, b.tokens);
    assert_eq!(a.tokens, ["archivage", "numerique", "territoire"]);
    assert_eq!(a.years, [2020]);
    assert!(b.years.is_empty());
}

#[test]
fn lots_waves_and_ordinals_are_extracted() {
    assert_eq!(title_key("WIFI4EU – Lot n°2").lots, ["lot:2"]);
    assert_eq!(title_key("Volets 1 et 2 du plan").lots, ["lot:1", "lot:2"]);
    assert_eq!(title_key("France Services : 2e vague").lots, ["vague:2"]);
    assert_eq!(title_key("Deuxième appel à projets FAST").lots, ["vague:2"]);
    assert_eq!(title_key("Vague II - Fonds vert").lots, ["vague:2"]);
    assert_eq!(title_key("3e édition du Label").lots, ["edition:3"]);
    assert_eq!(title_key("1re relève 2021").years, [2021]);
}

#[test]
fn stated_kinds_are_read() {
    assert_eq!(title_key("AMI Fabriques de territoire").kinds, ["ami"]);
    assert_eq!(
        title_key("Appel à manifestation d'intérêt X").kinds,
        ["ami"]
    );
    assert_eq!(title_key("L'appel à projets est ouvert").kinds, ["aap"]);
    assert!(title_key("Fonds vert : friches").kinds.is_empty());
}

#[test]
fn programme_name_years_stay_tokens() {
    let k = title_key("France 2030 - Culture immersive 2022");
    assert_eq!(k.years, [2022]);
    assert!(k.tokens.contains(&"2030".to_string()));
}

#[test]
fn english_and_french_titles_read_alike() {
    let en = title_key("European Urban Initiative – Innovative Actions 3rd Call for Proposals");
    let fr = title_key(
        "Initiative urbaine européenne : troisième appel à propositions « Actions innovantes »",
    );
    assert_eq!(
        en.tokens.iter().collect::<BTreeSet<_>>(),
        fr.tokens.iter().collect::<BTreeSet<_>>()
    );
    assert_eq!(en.lots, ["vague:3"]);
    assert_eq!(fr.lots, ["vague:3"]);
}

#[test]
fn feminine_adjectives_take_the_masculine() {
    assert_eq!(
        title_key("Mobilités actives").tokens,
        title_key("mobilité actif").tokens
    );
    assert_eq!(
        title_key("urbaines européennes").tokens,
        ["urbain", "europeen"]
    );
    assert_eq!(
        title_key("actions culturelles").tokens,
        ["action", "culturel"]
    );
}

#[test]
fn a_moved_cut_off_is_status_not_content() {
    assert_eq!(
        title_key("AMI « Territoires intelligents » - report de la date limite").tokens,
        title_key("AMI Territoires intelligents").tokens
    );
    assert_eq!(
        title_key("Archivage numérique 2022 (prolongé)").tokens,
        ["archivage", "numerique"]
    );
}

#[test]
fn publisher_suffix_is_dropped() {
    let k = title_key("Fonds vert : recyclage des friches - Ministère de la Transition écologique");
    assert_eq!(k.tokens, ["fond", "vert", "recyclage", "friche"]);
}

#[test]
fn blocking_prefers_specific_tokens() {
    let b = blocking_tokens("AAP Archivage numérique en territoires 2020");
    assert_eq!(b, ["archivage", "territoire", "numerique"]);
}

/// The folding as first written (three passes over whole strings), the
/// reference that the one-pass `fold` must reproduce exactly.
fn fold_reference(text: &str) -> String {
    let pre: String = text
        .chars()
        .map(|c| match c {
            '°' | 'º' | '’' | '\'' | '«' | '»' => ' ',
            c => c,
        })
        .collect();
    let ascii = deunicode::deunicode(&pre).to_ascii_lowercase();
    let mut out = String::new();
    let mut space = true;
    for c in ascii.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c);
            space = false;
        } else if !space {
            out.push(' ');
            space = true;
        }
    }
    while out.ends_with(' ') {
        out.pop();
    }
    out
}

#[test]
fn fold_transliterates_and_collapses() {
    assert_eq!(
        fold("  Appel à projets « Numérique » n°2 — ŒUVRES d’art  "),
        "appel a projets numerique n 2 oeuvres d art"
    );
    assert_eq!(fold("Ελλάδα 北京 ✓"), fold_reference("Ελλάδα 北京 ✓"));
    assert_eq!(fold(""), "");
}

proptest::proptest! {
    #[test]
    fn fold_matches_the_reference(text in "\\PC{0,60}", extra in "[ «»°º’'a-zA-Zéèàçœ0-9\u{7f}\u{2028}-]{0,30}") {
        let text = format!("{text}{extra}");
        proptest::prop_assert_eq!(fold(&text), fold_reference(&text));
    }
}

/// Stated kinds as first written: phrases searched in the padded folded
/// title. Reading them from the word list must give the same answer.
fn stated_kinds_reference(folded: &str) -> Vec<String> {
    let padded = format!(" {folded} ");
    let aap = [
        " aap ",
        " appel a projets ",
        " appel a projet ",
        " appels a projets ",
    ];
    let ami = [
        " ami ",
        " appel a manifestation d interet ",
        " appel a manifestations d interet ",
    ];
    let mut kinds = Vec::new();
    if ami.iter().any(|p| padded.contains(p)) {
        kinds.push("ami".to_string());
    }
    if aap.iter().any(|p| padded.contains(p)) {
        kinds.push("aap".to_string());
    }
    kinds.sort();
    kinds
}

proptest::proptest! {
    #[test]
    fn stated_kinds_match_the_reference(
        words in proptest::collection::vec(
            "aap|ami|appels?|a|projets?|manifestations?|d|interet|x[a-z]{0,3}|2021",
            0..12,
        ),
        noise in "[ «»'’A-Za-zéà-]{0,12}",
    ) {
        let title = format!("{}{noise}", words.join(" "));
        let folded = fold(&title);
        let words: Vec<&str> = folded.split(' ').filter(|w| !w.is_empty()).collect();
        proptest::prop_assert_eq!(stated_kinds(&words), stated_kinds_reference(&folded));
    }
}

#[test]
fn stems_borrow_or_rewrite() {
    assert_eq!(stem("territoires"), "territoire");
    assert_eq!(stem("regionaux"), "regional");
    assert_eq!(stem("reseaux"), "reseau");
    assert_eq!(stem("classe"), "classe");
    assert_eq!(stem("lieux"), "lieu");
    assert!(matches!(stem("numerique"), Cow::Borrowed(_)));
}

#[test]
fn call_numbers_are_markers_not_years_or_words() {
    assert_eq!(
        title_key("Appel à projets connectivité mairies n°618").lots,
        ["numero:618"]
    );
    let k = title_key("Appel à projets « Connectivité » — édition 2035, lot n° 2017");
    assert_eq!(k.lots, ["lot:2017"]);
    assert_eq!(k.years, [2035]);
    let law = title_key("Loi n° 2034-217 du 21 février 2034 relative à la différenciation");
    assert_eq!(law.lots, ["numero:2034.217"]);
    assert_eq!(law.years, [2034]);
    assert!(!law.tokens.iter().any(|t| t == "217"), "{law:?}");
}

#[test]
fn a_deadline_written_in_a_title_is_not_words_of_it() {
    let short = title_key("Appel à projets « Transformation numérique des territoires »");
    let long = title_key(
        "Appel à projets « Transformation numérique des territoires » : candidatez avant le 13 janvier 2027",
    );
    assert!(
        !long.tokens.iter().any(|t| t == "13" || t == "janvier"),
        "{long:?}"
    );
    assert_eq!(long.years, [2027]);
    // The rarest words of the long title now include what both share, so
    // the short one is among its candidates whichever comes first.
    let blocking = blocking_tokens_of(&long);
    assert!(
        short.tokens.iter().filter(|t| blocking.contains(t)).count() >= 2,
        "{blocking:?}"
    );
    assert!(
        title_key("Mobilité 1er mars")
            .tokens
            .iter()
            .all(|t| t != "mars" && t != "1er")
    );
}
