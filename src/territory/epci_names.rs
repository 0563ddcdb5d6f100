//! EPCI names as people write them rather than as INSEE does: the kind
//! spelled out or after the name, the article left out ("Communauté
//! urbaine Grand Poitiers", "Grand Poitiers Communauté urbaine" and
//! "Agglomération du Grand Avignon" for `CU du Grand Poitiers` and `CA du
//! Grand Avignon (COGA)`). A label is read this way only when it says it
//! names an intercommunality (a kind word), so that "Pays basque" alone is
//! not taken for `CA du Pays Basque`.

use std::collections::HashMap;
use std::sync::LazyLock;

use super::Territory;
use super::label::{ARTICLES, canonical};
use crate::domain::Perimeter;

/// Kind words (canonical forms) before a name, longest first.
const KIND_BEFORE: &[&str] = &[
    "communaute d agglo ",
    "communaute de l agglomeration ",
    "agglomeration ",
    "metropole ",
    "agglo ",
    "cc ",
    "ca ",
    "cu ",
];
/// Kind words after a name.
const KIND_AFTER: &[&str] = &[
    " communaute de communes",
    " communaute d agglomeration",
    " communaute urbaine",
    " agglomeration",
    " metropole",
    " agglo",
    " cc",
    " ca",
    " cu",
];

/// `c` without its kind word, if it has one.
fn without_kind(c: &str) -> Option<&str> {
    KIND_BEFORE
        .iter()
        .find_map(|k| c.strip_prefix(k))
        .or_else(|| KIND_AFTER.iter().find_map(|k| c.strip_suffix(k)))
        .filter(|rest| !rest.is_empty())
}

/// `name` as written and without each article it may start with (`de la
/// rochelle` gives `la rochelle` and `rochelle`: the article may belong to
/// the name).
fn with_and_without_article(name: &str) -> impl Iterator<Item = &str> {
    std::iter::once(name).chain(
        ARTICLES
            .iter()
            .filter_map(move |a| name.strip_prefix(a))
            .filter(|rest| !rest.is_empty()),
    )
}

/// Bare names of every EPCI (with and without a trailing acronym, and
/// without a second kind word: `CA Lunel Agglo` is `lunel`).
static BARE: LazyLock<HashMap<String, Vec<&'static str>>> = LazyLock::new(|| {
    let mut out: HashMap<String, Vec<&'static str>> = HashMap::new();
    for e in &Territory::get().epcis {
        let whole = canonical(e.name);
        let short = e
            .name
            .rsplit_once(" (")
            .filter(|_| e.name.ends_with(')'))
            .map(|(short, _)| canonical(short));
        for name in std::iter::once(whole).chain(short) {
            let Some(rest) = without_kind(&name) else {
                continue;
            };
            // `CA Lunel Agglo` is also `lunel`.
            let names = std::iter::once(rest).chain(without_kind(rest));
            for n in names.flat_map(with_and_without_article) {
                let sirens = out.entry(n.to_string()).or_default();
                if !sirens.contains(&e.siren) {
                    sirens.push(e.siren);
                }
            }
        }
    }
    out
});

/// The one EPCI a canonical label names by its bare name, if the label has
/// a kind word and exactly one EPCI has that bare name (the name as
/// written first, then without its article).
pub(super) fn by_bare_name(c: &str) -> Option<Perimeter> {
    with_and_without_article(without_kind(c)?)
        .find_map(|name| BARE.get(name))
        .and_then(|sirens| match sirens.as_slice() {
            [siren] => Some(Perimeter::Epci(siren.to_string())),
            _ => None,
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::territory::from_label;

    #[test]
    fn kinds_spelled_out_before_or_after_and_articles_left_out() {
        for (label, siren) in [
            ("Communauté urbaine Grand Poitiers", "200069854"),
            ("Grand Poitiers Communauté urbaine", "200069854"),
            ("Communauté d'Agglomération Pays Basque", "200067106"),
            ("Agglomération du Grand Avignon", "248400251"),
            ("Lunel Agglo", "243400520"),
            ("Agglomération de Lunel", "243400520"),
            ("Aix-Marseille-Provence Métropole", "200054807"),
            ("Agglo La Rochelle", "241700434"),
            ("Communauté de communes Faucigny-Glières", "200000172"),
        ] {
            assert_eq!(
                from_label(label),
                Some(Perimeter::Epci(siren.into())),
                "{label}"
            );
        }
        // Without a kind word, a bare name is not an EPCI.
        for label in ["Pays Basque", "Grand Avignon", "Faucigny-Glières"] {
            assert_eq!(from_label(label), None, "{label}");
        }
    }

    /// Over the whole reference data: an EPCI written as "<name> Communauté"
    /// style is found, or not at all, never another EPCI.
    #[test]
    fn every_epci_written_another_way_is_itself_or_nothing() {
        let t = Territory::get();
        let mut found = 0;
        for e in &t.epcis {
            let name = canonical(e.name);
            let Some(rest) = without_kind(&name) else {
                continue;
            };
            for label in [
                format!("{rest} agglomeration"),
                format!("communaute de communes {rest}"),
            ] {
                match by_bare_name(&canonical(&label)) {
                    Some(Perimeter::Epci(s)) if s == e.siren => found += 1,
                    None => {}
                    other => panic!("{label}: {other:?} instead of {}", e.siren),
                }
            }
        }
        // Homonyms (two EPCIs with one bare name) are the only misses.
        assert!(found > 2 * t.epcis.len() * 95 / 100, "{found}");
    }
}
