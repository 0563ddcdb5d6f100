//! Labels that name a group of territories rather than one: mainland
//! France, the overseas regions, and the regions as they were before the
//! 2016 merger ("Alsace", "Midi-Pyrénées"), still written in programme
//! names, funders' pages and aggregators' labels.

use super::label::canonical;
use crate::domain::{Perimeter, PerimeterSet};

/// A group of territories a label names.
pub(super) enum Group {
    /// The thirteen regions of mainland France, Corsica included.
    Mainland,
    /// The five overseas regions.
    Overseas,
    /// A former region: its departments.
    Former(&'static [&'static str]),
    /// A water agency's basin: the territories that hold it (perimeters'
    /// text forms).
    Basin(&'static str),
}

/// The regions of mainland France (Corsica included).
pub(super) const MAINLAND_REGIONS: [&str; 13] = [
    "11", "24", "27", "28", "32", "44", "52", "53", "75", "76", "84", "93", "94",
];
/// The overseas regions (each also a department): Guadeloupe, Martinique,
/// Guyane, La Réunion, Mayotte.
pub(super) const OVERSEAS_REGIONS: [&str; 5] = ["01", "02", "03", "04", "06"];

/// The regions before 2016 (canonical names) and their departments. The
/// European Collectivity of Alsace (2021) covers the same two departments
/// as the former region.
pub(super) const FORMER_REGIONS: &[(&str, &[&str])] = &[
    ("alsace", &["67", "68"]),
    ("collectivite europeenne d alsace", &["67", "68"]),
    ("lorraine", &["54", "55", "57", "88"]),
    ("champagne ardenne", &["08", "10", "51", "52"]),
    ("picardie", &["02", "60", "80"]),
    ("nord pas de calais", &["59", "62"]),
    ("haute normandie", &["27", "76"]),
    ("basse normandie", &["14", "50", "61"]),
    ("bourgogne", &["21", "58", "71", "89"]),
    ("franche comte", &["25", "39", "70", "90"]),
    ("poitou charentes", &["16", "17", "79", "86"]),
    ("aquitaine", &["24", "33", "40", "47", "64"]),
    ("limousin", &["19", "23", "87"]),
    (
        "midi pyrenees",
        &["09", "12", "31", "32", "46", "65", "81", "82"],
    ),
    ("languedoc roussillon", &["11", "30", "34", "48", "66"]),
    (
        "rhone alpes",
        &["01", "07", "26", "38", "42", "69", "73", "74"],
    ),
    ("auvergne", &["03", "15", "43", "63"]),
];

/// The basins of the six mainland water agencies (canonical names, as
/// Aides-territoires names its basin perimeters, with and without Corsica
/// for the Rhône-Méditerranée agency, which also serves it) and the
/// regions and departments that hold them, a little wider than the basins
/// (a basin does not follow administrative borders; a call shown to a
/// subscriber just outside is better than a call missed). The agencies'
/// own source definitions use the same sets (a test checks it).
pub(super) const BASINS: &[(&str, &str)] = &[
    ("artois picardie", "region:32"),
    ("rhin meuse", "region:44"),
    (
        "seine normandie",
        "region:11,region:28,department:02,department:08,department:10,department:51,\
         department:52,department:55,department:60,department:80,department:21,department:58,\
         department:89,department:28,department:45",
    ),
    (
        "loire bretagne",
        "region:53,region:52,region:24,department:16,department:17,department:23,department:79,\
         department:86,department:87,department:03,department:15,department:42,department:43,\
         department:63,department:58,department:71,department:61,department:50,department:48",
    ),
    ("adour garonne", "region:75,region:76,department:15"),
    (
        "rhone mediterranee",
        "region:84,region:27,region:93,region:76,region:44",
    ),
    (
        "rhone mediterranee corse",
        "region:84,region:27,region:93,region:76,region:44,region:94",
    ),
];
/// Words that may stand before a basin's name.
const BASIN_PREFIXES: &[&str] = &[
    "bassin hydrographique ",
    "circonscription de bassin ",
    "agence de l eau ",
    "bassin ",
];

/// Words that may stand before a former region's name.
const FORMER_PREFIXES: &[&str] = &["ancienne region ", "ex region ", "region ", "l ex ", "ex "];

/// Names of mainland France (canonical).
const MAINLAND_NAMES: &[&str] = &[
    "france metropolitaine",
    "metropole",
    "hexagone",
    "france hexagonale",
];
/// Names of the overseas regions as a group (canonical).
const OVERSEAS_NAMES: &[&str] = &[
    "outre mer",
    "outremer",
    "outre mer francais",
    "dom",
    "drom",
    "dom tom",
    "drom com",
    "territoires ultramarins",
    "ultramarin",
    "departements d outre mer",
    "regions d outre mer",
    "departements et regions d outre mer",
];

/// Every word a group's name (or the word before it) may start with: a
/// cheap test before the look-ups of [`group_of`].
pub(super) fn first_words() -> impl Iterator<Item = &'static str> {
    fn first(s: &&'static str) -> &'static str {
        s.split(' ').next().unwrap_or_default()
    }
    MAINLAND_NAMES
        .iter()
        .chain(OVERSEAS_NAMES)
        .chain(FORMER_PREFIXES)
        .chain(BASIN_PREFIXES)
        .map(first)
        .chain(FORMER_REGIONS.iter().map(|(n, _)| first(n)))
        .chain(BASINS.iter().map(|(n, _)| first(n)))
}

/// The group a canonical label names.
pub(super) fn group_of(text: &str) -> Option<Group> {
    if MAINLAND_NAMES.contains(&text) {
        return Some(Group::Mainland);
    }
    if OVERSEAS_NAMES.contains(&text) {
        return Some(Group::Overseas);
    }
    let basin = BASIN_PREFIXES
        .iter()
        .find_map(|p| text.strip_prefix(p))
        .unwrap_or(text);
    if let Some((_, set)) = BASINS.iter().find(|(n, _)| *n == basin) {
        return Some(Group::Basin(set));
    }
    let name = FORMER_PREFIXES
        .iter()
        .find_map(|p| text.strip_prefix(p))
        .unwrap_or(text);
    FORMER_REGIONS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, departments)| Group::Former(departments))
}

/// The territories of a label that names a group (see [`Group`]). Mainland
/// France is not all of France (a call for "France métropolitaine" must not
/// reach Guyane). The overseas collectivities (Saint-Pierre-et-Miquelon,
/// Polynesia…) are not in the territory data, so "DOM-TOM" means the five
/// overseas regions here.
pub(super) fn region_group(label: &str) -> Option<PerimeterSet> {
    canonical_group(&canonical(label))
}

/// [`region_group`] of a label already in canonical form.
pub(super) fn canonical_group(c: &str) -> Option<PerimeterSet> {
    match group_of(c)? {
        Group::Mainland => regions(&MAINLAND_REGIONS),
        Group::Overseas => regions(&OVERSEAS_REGIONS),
        Group::Former(departments) => PerimeterSet::new(
            departments
                .iter()
                .map(|d| Perimeter::Department(d.to_string())),
        ),
        Group::Basin(set) => set.parse().ok(),
    }
}

fn regions(codes: &[&str]) -> Option<PerimeterSet> {
    PerimeterSet::new(codes.iter().map(|c| Perimeter::Region(c.to_string())))
}

/// A set that names every region, mainland and overseas, is the country.
pub(super) fn whole_country(set: PerimeterSet) -> PerimeterSet {
    let every = MAINLAND_REGIONS
        .iter()
        .chain(&OVERSEAS_REGIONS)
        .all(|code| {
            set.members()
                .iter()
                .any(|p| matches!(p, Perimeter::Region(r) if r == code))
        });
    if every {
        PerimeterSet::one(Perimeter::France)
    } else {
        set
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::territory::{department, region};

    #[test]
    fn former_regions_are_whole_departments_of_the_region_that_absorbed_them() {
        // Each merged region is exactly the union of its former regions.
        let mut covered: Vec<(&str, Vec<&str>)> = Vec::new();
        for (name, departments) in FORMER_REGIONS {
            if name.starts_with("collectivite") {
                continue;
            }
            let regions: Vec<&str> = departments
                .iter()
                .map(|d| department(d).unwrap_or_else(|| panic!("{d}")).region)
                .collect();
            let new = regions[0];
            assert!(regions.iter().all(|r| *r == new), "{name}: {regions:?}");
            match covered.iter_mut().find(|(r, _)| *r == new) {
                Some((_, ds)) => ds.extend(departments.iter().copied()),
                None => covered.push((new, departments.to_vec())),
            }
        }
        // The seven merged regions, from sixteen former ones.
        let mut codes: Vec<&str> = covered.iter().map(|(c, _)| *c).collect();
        codes.sort_unstable();
        assert_eq!(codes, ["27", "28", "32", "44", "75", "76", "84"]);
        for (code, mut departments) in covered {
            departments.sort_unstable();
            let region = region(code).unwrap();
            let mut expected = region.departments.clone();
            expected.sort_unstable();
            assert_eq!(departments, expected, "region {code}");
        }
    }

    #[test]
    fn basins_are_the_sets_the_water_agencies_declare() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("sources");
        for (file, basin) in [
            ("agence-eau-artois-picardie", "Artois-Picardie"),
            ("agence-eau-rhin-meuse", "Bassin Rhin-Meuse"),
            ("agence-eau-seine-normandie", "Seine-Normandie"),
            ("agence-eau-loire-bretagne", "Bassin Loire-Bretagne"),
            ("agence-eau-adour-garonne", "Adour-Garonne"),
            ("agence-eau-rmc", "Agence de l'eau Rhône-Méditerranée-Corse"),
        ] {
            let text = std::fs::read_to_string(dir.join(format!("{file}.toml"))).unwrap();
            let declared = text
                .lines()
                .find_map(|l| l.strip_prefix("perimeter = \""))
                .and_then(|l| l.strip_suffix('"'))
                .unwrap_or_else(|| panic!("{file}: no default perimeter"));
            let declared: PerimeterSet = declared.parse().unwrap();
            assert_eq!(region_group(basin), Some(declared), "{basin}");
        }
        // Without Corsica, the Rhône-Méditerranée basin alone.
        let rm = region_group("Rhône-Méditerranée").unwrap();
        assert!(!rm.members().contains(&Perimeter::Region("94".into())));
        // Every basin's set is valid reference data.
        for (name, set) in BASINS {
            let set: PerimeterSet = set.parse().unwrap();
            for p in set.members() {
                assert!(crate::territory::validate(p).is_ok(), "{name}: {p}");
            }
        }
    }

    #[test]
    fn a_list_of_every_region_is_the_country() {
        let all = MAINLAND_REGIONS
            .iter()
            .chain(&OVERSEAS_REGIONS)
            .map(|c| Perimeter::Region(c.to_string()));
        let set = PerimeterSet::new(all).unwrap();
        assert_eq!(whole_country(set).to_string(), "france");
        let mainland = regions(&MAINLAND_REGIONS).unwrap();
        assert_eq!(whole_country(mainland.clone()), mainland);
    }
}
