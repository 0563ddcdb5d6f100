//! Perimeters from labels that may name several territories ("Bretagne,
//! Pays de la Loire", "Hauts-de-France et Normandie", "Régions Bretagne et
//! Normandie"), on top of [`from_label`] for one name.

use super::from_label;
use super::groups::{region_group, whole_country};
use crate::domain::{Perimeter, PerimeterSet};

/// Separators that always split a list of territories.
const HARD: &[&str] = &[",", ";", "/", "&", "+", "|", "\n"];
/// The same, and spaced dashes, which a single label also uses between a
/// name and its code ("95 - Val-d'Oise"): tried second.
const HARD_OR_DASHES: &[&str] = &[",", ";", "/", "&", "+", "|", "\n", " - ", " – ", " — "];

/// Words that introduce the level of every member of a list, as written
/// before the first one ("Régions Bretagne et Normandie").
const LIST_LEVELS: &[(&str, &str)] = &[
    ("regions ", "Région "),
    ("region ", "Région "),
    ("departements ", "Département "),
    ("departement ", "Département "),
];

/// The territories a label names: a group (mainland France, the overseas
/// regions, a region as it was before 2016, see [`groups`](super::groups)),
/// one ([`from_label`]) or several, separated by commas, semicolons,
/// slashes, `&`, ` et ` or, when every part is a territory, spaced dashes
/// ("Ain - Isère - Savoie"). A name that itself holds ` et ` ("Ille et
/// Vilaine", "Saint-Pierre-et-Miquelon") is tried whole before being split.
/// `None` when any part is unknown: a list is resolved entirely or not at
/// all, so that a call is never narrowed to the part we happened to
/// recognise. A list that names every region is the country.
pub fn from_label_list(label: &str) -> Option<PerimeterSet> {
    if let Some(group) = region_group(label) {
        return Some(group);
    }
    if let Some(p) = from_label(label) {
        return Some(PerimeterSet::one(p));
    }
    list(label, HARD)
        .or_else(|| list(label, HARD_OR_DASHES))
        .map(whole_country)
}

/// `label` as a list split on `separators` (and ` et `), if it has more
/// than one member and every part resolves.
fn list(label: &str, separators: &[&str]) -> Option<PerimeterSet> {
    let level = list_level(label);
    let mut members = Vec::new();
    let mut parts = vec![label];
    for sep in separators {
        parts = parts.iter().flat_map(|p| p.split(sep)).collect();
    }
    for part in parts.into_iter().map(str::trim).filter(|p| !p.is_empty()) {
        members.extend(split_on_et(part, level)?);
    }
    // One part only means the label was not a list: `from_label` said no.
    (members.len() > 1)
        .then(|| PerimeterSet::new(members))
        .flatten()
}

/// The level prefix of a list ("Régions …"), to lend to its other members.
fn list_level(label: &str) -> Option<&'static str> {
    let folded = deunicode::deunicode(label.trim()).to_ascii_lowercase();
    LIST_LEVELS
        .iter()
        .find(|(word, _)| folded.starts_with(word))
        .map(|(_, prefix)| *prefix)
}

/// One part of a list, which may still hold ` et `: the longest runs of
/// words between ` et ` that resolve, left to right.
fn split_on_et(part: &str, level: Option<&str>) -> Option<Vec<Perimeter>> {
    let pieces: Vec<&str> = split_keep(part, " et ");
    let mut out = Vec::new();
    let mut i = 0;
    while i < pieces.len() {
        let mut found = None;
        for j in (i + 1..=pieces.len()).rev() {
            let name = pieces[i..j].join(" et ");
            if let Some(p) = resolve_member(&name, level) {
                found = Some((p, j));
                break;
            }
        }
        let (p, next) = found?;
        out.extend(p);
        i = next;
    }
    Some(out)
}

/// A member on its own or a group ("France métropolitaine et Outre-mer"),
/// else with the list's level word ("Normandie" in "Régions Bretagne et
/// Normandie" as "Région Normandie"), else without the plural level word
/// the first member carries ("Régions Bretagne").
fn resolve_member(name: &str, level: Option<&str>) -> Option<Vec<Perimeter>> {
    let one = |label: &str| from_label(label).map(|p| vec![p]);
    region_group(name)
        .map(|set| set.members().to_vec())
        .or_else(|| one(name))
        .or_else(|| level.and_then(|l| one(&format!("{l}{name}"))))
        .or_else(|| {
            let folded = deunicode::deunicode(name).to_ascii_lowercase();
            ["regions ", "departements "]
                .iter()
                .find(|w| folded.starts_with(*w))
                .and_then(|w| name.get(w.len()..))
                .and_then(|rest| resolve_member(rest, level))
        })
}

/// `s` split on `sep`, ignoring case, with empty pieces dropped.
fn split_keep<'a>(s: &'a str, sep: &str) -> Vec<&'a str> {
    let lower = s.to_ascii_lowercase();
    let mut out = Vec::new();
    let mut start = 0;
    while let Some(at) = lower[start..].find(sep) {
        out.push(s[start..start + at].trim());
        start += at + sep.len();
    }
    out.push(s[start..].trim());
    out.retain(|p| !p.is_empty());
    out
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn codes(label: &str) -> Option<String> {
        from_label_list(label).map(|s| {
            s.members()
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(",")
        })
    }

    #[test]
    fn names_resolve_whatever_their_spelling() {
        for (label, expected) in [
            ("Région Occitanie", "region:76"),
            ("REGION OCCITANIE", "region:76"),
            ("la Région Occitanie", "region:76"),
            ("Occitanie", "region:76"),
            ("Département de la Haute-Garonne", "department:31"),
            ("Département du Nord", "department:59"),
            ("Département des Hautes-Alpes", "department:05"),
            ("le Nord", "department:59"),
            ("l'Aude", "department:11"),
            ("Ille et Vilaine", "department:35"),
            ("ille-et-vilaine", "department:35"),
            ("Cotes d'Armor", "department:22"),
            ("Provence Alpes Cote d Azur", "region:93"),
            ("St-Étienne", "commune:42218"),
        ] {
            assert_eq!(codes(label).as_deref(), Some(expected), "{label}");
        }
    }

    #[test]
    fn lists_of_territories_give_a_set() {
        for (label, expected) in [
            ("Bretagne, Pays de la Loire", "region:52,region:53"),
            ("Hauts-de-France et Normandie", "region:28,region:32"),
            ("Régions Bretagne et Normandie", "region:28,region:53"),
            ("Ille-et-Vilaine et Morbihan", "department:35,department:56"),
            ("Ille et Vilaine et Morbihan", "department:35,department:56"),
            (
                "Finistère ; Morbihan / Côtes-d'Armor",
                "department:22,department:29,department:56",
            ),
            ("Bretagne, Bretagne", "region:53"),
        ] {
            assert_eq!(codes(label).as_deref(), Some(expected), "{label}");
        }
    }

    #[test]
    fn mainland_france_and_the_overseas_regions_are_groups_of_regions() {
        let mainland = "region:11,region:24,region:27,region:28,region:32,region:44,\
                        region:52,region:53,region:75,region:76,region:84,region:93,region:94";
        let overseas = "region:01,region:02,region:03,region:04,region:06";
        for (label, expected) in [
            ("France métropolitaine", mainland),
            ("FRANCE METROPOLITAINE", mainland),
            ("Hexagone", mainland),
            ("Outre-mer", overseas),
            ("DOM-TOM", overseas),
            ("Départements d'outre-mer", overseas),
            ("DROM", overseas),
        ] {
            assert_eq!(codes(label).as_deref(), Some(expected), "{label}");
        }
        // The whole country stays the whole country.
        assert_eq!(codes("France entière").as_deref(), Some("france"));
        assert_eq!(codes("Territoire national").as_deref(), Some("france"));
    }

    #[test]
    fn former_regions_give_their_departments() {
        for (label, expected) in [
            ("Alsace", "department:67,department:68"),
            ("Région Alsace", "department:67,department:68"),
            (
                "Collectivité européenne d'Alsace",
                "department:67,department:68",
            ),
            (
                "ex-région Limousin",
                "department:19,department:23,department:87",
            ),
            (
                "Ancienne région Auvergne",
                "department:03,department:15,department:43,department:63",
            ),
            ("Nord-Pas-de-Calais", "department:59,department:62"),
            ("Occitanie, Alsace", "region:76,department:67,department:68"),
            (
                "Grand Est et Bourgogne",
                "region:44,department:21,department:58,department:71,department:89",
            ),
        ] {
            assert_eq!(codes(label).as_deref(), Some(expected), "{label}");
        }
        // Alone, a former region is not one perimeter.
        assert_eq!(from_label("Alsace"), None);
    }

    #[test]
    fn groups_join_lists_and_every_region_is_the_country() {
        for label in [
            "France métropolitaine et Outre-mer",
            "Métropole et DOM",
            "Hexagone, Outre-mer",
        ] {
            assert_eq!(codes(label).as_deref(), Some("france"), "{label}");
        }
        assert_eq!(
            codes("Bretagne et Outre-mer").as_deref(),
            Some("region:01,region:02,region:03,region:04,region:06,region:53")
        );
    }

    #[test]
    fn spaced_dashes_split_a_list_only_when_every_part_is_a_territory() {
        assert_eq!(
            codes("Ain - Isère - Savoie").as_deref(),
            Some("department:01,department:38,department:73")
        );
        // A name and its code stay one territory.
        assert_eq!(codes("95 - Val-d'Oise").as_deref(), Some("department:95"));
        assert_eq!(codes("Val-d'Oise - 95").as_deref(), Some("department:95"));
    }

    #[test]
    fn a_department_or_region_may_be_written_by_its_code() {
        for (label, expected) in [
            ("Département 33", "department:33"),
            ("Dept 33", "department:33"),
            ("Dpt. 2A", "department:2A"),
            ("Région 76", "region:76"),
        ] {
            assert_eq!(codes(label).as_deref(), Some(expected), "{label}");
        }
        assert_eq!(codes("Région 99"), None);
        assert_eq!(codes("Département 76000"), None);
    }

    #[test]
    fn a_list_with_an_unknown_part_is_not_resolved() {
        for label in [
            "Bretagne et Atlantide",
            "Pays basque",
            "Occitanie, Atlantide",
            "Ain - Atlantide",
            "Région Atlantide",
            "et",
            ", ,",
        ] {
            assert_eq!(codes(label), None, "{label}");
        }
    }

    proptest! {
        #[test]
        fn resolution_never_panics(label in "\\PC{0,60}") {
            let _ = from_label_list(&label);
        }

        #[test]
        fn lists_of_real_names_never_panic(
            parts in prop::collection::vec(
                prop_oneof![
                    Just("Bretagne"), Just("Région Normandie"), Just("Ille-et-Vilaine"),
                    Just("la Réunion"), Just("Saint-Denis"), Just("et"), Just(","),
                    Just("Département du"), Just("(95)"), Just("Régions"), Just("É"),
                ],
                0..6,
            ),
        ) {
            let label = parts.join(" ");
            if let Some(set) = from_label_list(&label) {
                prop_assert!(!set.members().is_empty());
            }
        }
    }
}
