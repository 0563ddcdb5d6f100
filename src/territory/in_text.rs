//! The territory a call's title places it in: "Recyclage des friches en
//! Normandie", "Appel à projets tiers-lieux dans le Finistère", "AMI
//! mobilité à La Réunion", "… en Bretagne et en Pays de la Loire". National
//! funders list calls their regional offices run, and a call for one
//! region sent to every commune of France is wrong data for all the
//! others; two regional editions of one programme are two calls.
//!
//! Deliberately narrow: a region, a department or a group of them (a
//! former region, the overseas regions), right after a preposition ("en",
//! "dans le", "à la", "en région", "du département de"…) or the name of a
//! State office ("DRAC Bretagne", "préfecture de la Manche"), never a commune
//! or an intercommunality (too many common words and river names), and not
//! when a place-word follows ("dans le Nord de la France" is a direction).

use std::collections::HashSet;
use std::sync::LazyLock;

use super::label::LABELS;
use crate::domain::{Perimeter, PerimeterSet};

/// Words that place a call somewhere, canonical, longest first.
const PREPOSITIONS: &[&str] = &[
    "du departement de la",
    "du departement de l",
    "du departement des",
    "du departement du",
    "du departement de",
    "de la region des",
    "de la region",
    "dans la region",
    "en region",
    "dans le",
    "dans la",
    "dans les",
    "dans l",
    "a la",
    "en",
    "a",
    // The State's regional and departmental offices: "DRAC Bretagne",
    // "préfecture de la Manche".
    "prefecture de la region",
    "prefecture de region",
    "prefecture de la",
    "prefecture de l",
    "prefecture du",
    "prefecture des",
    "prefecture de",
    "drac",
    "dreal",
    "draaf",
    "dreets",
    "drajes",
    "ars",
    // "La Région des Hauts-de-France".
    "region des",
    "region",
    "departement de la",
    "departement de l",
    "departement du",
    "departement des",
    "departement de",
];

/// Compass words: "Nord" before one of them is a direction.
const DIRECTIONS: &[&str] = &["est", "ouest", "sud", "nord"];

/// The longest territory name a title may hold, in words.
const MAX_WORDS: usize = 6;

/// The regions and departments (or groups of them) `text` places its call
/// in, if it names at least one and nothing else after a preposition
/// resolves to another kind of place.
pub fn named_in_text(text: &str) -> Option<PerimeterSet> {
    named_in_folded(&deunicode::deunicode(text).to_lowercase())
}

/// [`named_in_text`] of a text already folded (ASCII, lowercase: the
/// normalize stage folds each title once).
pub fn named_in_folded(folded: &str) -> Option<PerimeterSet> {
    let words = words_of(folded);
    let mut found = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let Some(after) = preposition_at(&words, i) else {
            i += 1;
            continue;
        };
        let Some((members, mut next)) = territory_at(&words, after) else {
            i = after;
            continue;
        };
        found.extend(members);
        // A list under one preposition: "en Champagne-Ardenne et
        // Lorraine", "dans le Nord et le Pas-de-Calais".
        while let Some(start) = list_item_at(&words, next)
            && let Some((members, end)) = territory_at(&words, start)
        {
            found.extend(members);
            next = end;
        }
        i = next;
    }
    if found.is_empty() {
        found = last_segment(folded).unwrap_or_default();
    }
    PerimeterSet::new(found)
}

/// The words of folded text, `st`/`ste` spelled out.
fn words_of(folded: &str) -> Vec<&str> {
    super::label::canonical_words(folded).collect()
}

/// The territories of a title's last part after a spaced dash, when that
/// part is nothing else ("DETR 2018 - Lot", "Chaleur renouvelable — Bretagne",
/// "… - Hauts-de-France et Normandie"): how prefectures and aggregators
/// title a territory's edition of a programme.
fn last_segment(folded: &str) -> Option<Vec<Perimeter>> {
    // `–` folds to `-`, `—` to `--`.
    let (_, last) = folded
        .rsplit_once(" - ")
        .or_else(|| folded.rsplit_once(" -- "))?;
    let words = words_of(last);
    let (mut members, mut next) = territory_at(&words, 0)?;
    while let Some(start) = list_item_at(&words, next)
        && let Some((more, end)) = territory_at(&words, start)
    {
        members.extend(more);
        next = end;
    }
    (next == words.len()).then_some(members)
}

/// Where the next item of a list of places would start after `i` ("et",
/// "ou", then an optional article).
fn list_item_at(words: &[&str], i: usize) -> Option<usize> {
    if !matches!(words.get(i), Some(&("et" | "ou"))) {
        return None;
    }
    let at = i + 1;
    let article = matches!(words.get(at), Some(&("le" | "la" | "l" | "les")));
    Some(if article { at + 1 } else { at })
}

/// The prepositions, split into words once.
static SPLIT: LazyLock<Vec<Vec<&'static str>>> = LazyLock::new(|| {
    PREPOSITIONS
        .iter()
        .map(|p| p.split(' ').collect())
        .collect()
});

/// The first word of every preposition: most words of a title are not one.
static PREPOSITION_STARTS: LazyLock<HashSet<&'static str>> =
    LazyLock::new(|| SPLIT.iter().map(|p| p[0]).collect());

/// The index after the preposition that starts at `i`, if one does.
fn preposition_at(words: &[&str], i: usize) -> Option<usize> {
    if !PREPOSITION_STARTS.contains(words.get(i)?) {
        return None;
    }
    SPLIT
        .iter()
        .find_map(|p| (words.get(i..i + p.len())? == p.as_slice()).then_some(i + p.len()))
}

/// Every word a region's, a department's or a group's name starts with.
static FIRST_WORDS: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    let mut out: HashSet<&'static str> = super::groups::first_words().collect();
    for (name, places) in &LABELS.places {
        if places
            .iter()
            .any(|p| matches!(p, Perimeter::Region(_) | Perimeter::Department(_)))
            && let Some(first) = name.split(' ').next()
        {
            out.insert(first);
        }
    }
    out
});

/// The territory named from `start` (longest name first), and the index
/// after it.
fn territory_at(words: &[&str], start: usize) -> Option<(Vec<Perimeter>, usize)> {
    if !FIRST_WORDS.contains(words.get(start)?) {
        return None;
    }
    for end in (start + 1..=(start + MAX_WORDS).min(words.len())).rev() {
        // "dans le Nord de la France", "en Corse du Sud…": a direction or a
        // longer name, not this territory.
        if matches!(words.get(end), Some(&("de" | "du" | "des" | "d"))) {
            continue;
        }
        // "dans le Nord-Est", "dans le Nord Finistère", "Nord-Isère": a
        // direction, or the north of another place.
        if words[start] == "nord"
            && end == start + 1
            && words
                .get(end)
                .is_some_and(|w| DIRECTIONS.contains(w) || FIRST_WORDS.contains(w))
        {
            return None;
        }
        let name = words[start..end].join(" ");
        if let Some(set) = super::groups::canonical_group(&name) {
            return Some((set.members().to_vec(), end));
        }
        let Some(places) = LABELS.places.get(&name) else {
            continue;
        };
        let wide: Vec<Perimeter> = places
            .iter()
            .filter(|p| matches!(p, Perimeter::Region(_) | Perimeter::Department(_)))
            .cloned()
            .collect();
        if let Some(p) = super::label::the_one(&wide) {
            return Some((vec![p], end));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #[test]
        fn any_title_is_read_without_panic(title in "\\PC{0,80}") {
            if let Some(set) = named_in_text(&title) {
                prop_assert!(set.members().iter().all(|p| matches!(
                    p,
                    Perimeter::Region(_) | Perimeter::Department(_)
                )));
            }
        }

        #[test]
        fn titles_of_real_words_never_panic(
            parts in prop::collection::vec(
                prop_oneof![
                    Just("en"), Just("dans le"), Just("à la"), Just("Nord"), Just("de"),
                    Just("Réunion"), Just("Normandie"), Just("Bretagne et"), Just("DRAC"),
                    Just("Région"), Just("Île-de-France"), Just("Loire"), Just("d'"),
                ],
                0..10,
            ),
        ) {
            let _ = named_in_text(&parts.join(" "));
        }
    }

    fn codes(text: &str) -> Option<String> {
        named_in_text(text).map(|s| s.to_string())
    }

    #[test]
    fn a_title_that_places_its_call() {
        for (title, expected) in [
            (
                "Appel à projets Recyclage foncier des friches en Normandie - 3e édition",
                "region:28",
            ),
            ("AMI tiers-lieux dans le Finistère", "department:29"),
            ("Appel à projets mobilité à La Réunion", "region:04"),
            ("AAP Fonds vert en Île-de-France", "region:11"),
            ("AAP Fonds vert en Provence-Alpes-Côte d'Azur", "region:93"),
            ("Appel à projets dans l'Hérault : cantines", "department:34"),
            ("Appel à candidatures en région Occitanie", "region:76"),
            (
                "Appel à projets du département de la Haute-Garonne",
                "department:31",
            ),
            (
                "AMI friches en Bretagne et en Pays de la Loire",
                "region:52,region:53",
            ),
            ("AMI patrimoine en Alsace", "department:67,department:68"),
            (
                "Appel à projets numérique en outre-mer",
                "region:01,region:02,region:03,region:04,region:06",
            ),
            ("Plan vélo : appel à projets dans le Nord", "department:59"),
            ("Été culturel 2027 - DRAC Bretagne", "region:53"),
            ("Résidences d'artistes - DRAC Hauts-de-France", "region:32"),
            (
                "DETR 2027 : appel à projets de la préfecture de la Manche",
                "department:50",
            ),
            ("La Région Normandie lance un appel à projets", "region:28"),
            (
                "Dotation d'équipement des territoires ruraux 2018 - Lot",
                "department:46",
            ),
            (
                "Appel à projets régional « Chaleur renouvelable » — Bretagne",
                "region:53",
            ),
            (
                "AMI « Sobriété foncière » – Hauts-de-France et Normandie",
                "region:28,region:32",
            ),
            (
                "La Région des Hauts-de-France lance un appel à projets photovoltaïque",
                "region:32",
            ),
            // One preposition, a list of places.
            (
                "Label Vie, pour bien vieillir en Champagne-Ardenne et Lorraine",
                "department:08,department:10,department:51,department:52,\
                 department:54,department:55,department:57,department:88",
            ),
            (
                "Appel à projets dans le Nord et le Pas-de-Calais",
                "department:59,department:62",
            ),
            (
                "Mémoires du XXe siècle en région Rhône-Alpes - appel à projets",
                "department:01,department:07,department:26,department:38,\
                 department:42,department:69,department:73,department:74",
            ),
        ] {
            assert_eq!(codes(title).as_deref(), Some(expected), "{title}");
        }
    }

    #[test]
    fn titles_that_do_not_place_their_call() {
        for title in [
            "Appel à projets Fabriques de territoire",
            "Agence de l'eau Seine-Normandie : appel à projets",
            "Appel à projets en faveur de la renaturation des villes",
            "Appel à projets pour la mobilité dans les territoires ruraux",
            "Tiers-lieux : investir dans le Nord de la France",
            "Appel à projets en France et en Europe",
            "AMI Normandie Impulsion",
            "Appel à projets à Saint-Denis",
            "Appel à projets en Loire-Atlantique et à Nantes",
            "Appel à projets tourisme dans le Nord-Est",
            "Appel à projets mobilité dans le Nord Finistère",
            "Plan Loire Grandeur Nature : appel à projets",
            // The last part is not only a territory.
            "Appel à projets - Bretagne et Atlantide",
            "AAP Tiers-lieux - Normandie Impulsion",
            "Appel à projets Numérique - 2027",
        ] {
            let got = codes(title);
            assert!(
                got.is_none() || title.contains("Loire-Atlantique"),
                "{title}: {got:?}"
            );
        }
        // The city is not read; the department is.
        assert_eq!(
            codes("Appel à projets en Loire-Atlantique et à Nantes").as_deref(),
            Some("department:44")
        );
    }
}
