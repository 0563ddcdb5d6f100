//! The measurable pieces of the decision: title similarity, URL, perimeter,
//! funder and deadline comparisons. Every function here is symmetric.

use std::collections::BTreeSet;

use chrono::{DateTime, FixedOffset};

use super::title::{TitleKey, fold, is_generic};
use crate::domain::Perimeter;

/// Weight of a token in set similarity: generic domain words count half.
fn weight(token: &str) -> f32 {
    if is_generic(token) || token.bytes().all(|b| b.is_ascii_digit()) {
        0.5
    } else {
        1.0
    }
}

/// Acronym expansion: a token of one title (3 to 6 letters, absent from the
/// other) that spells the initials of consecutive words of the other title
/// ("ftap" for "fonds [pour la] transformation [de l'] action publique",
/// "pat" for "projets alimentaires territoriaux") stands for the content
/// tokens among those words.
fn expand_acronyms<'a>(own: &'a TitleKey, other: &'a TitleKey) -> Vec<&'a str> {
    let mut out = Vec::new();
    let words = &other.spelled;
    for t in &own.tokens {
        let n = t.len();
        let candidate = (3..=6).contains(&n)
            && t.bytes().all(|b| b.is_ascii_lowercase())
            && !other.tokens.contains(t);
        let found = if candidate {
            (0..(words.len() + 1).saturating_sub(n)).find(|&i| {
                words[i..i + n]
                    .iter()
                    .zip(t.bytes())
                    .all(|(w, c)| w.as_bytes().first() == Some(&c))
            })
        } else {
            None
        };
        let expansion: Vec<&str> = found
            .map(|i| {
                words[i..i + n]
                    .iter()
                    .filter(|w| other.tokens.contains(w))
                    .map(String::as_str)
                    .collect()
            })
            .unwrap_or_default();
        if expansion.is_empty() {
            out.push(t.as_str());
        } else {
            out.extend(expansion);
        }
    }
    out
}

/// The most a short title contained in a much longer one scores.
const SHORT_TITLE_CAP: f32 = 0.52;

/// Title similarity in [0, 1] on normalized tokens:
/// `0.45 · containment + 0.35 · Jaccard + 0.20 · Sørensen–Dice − divergence`.
///
/// - Containment and Jaccard are weighted token-set measures (generic
///   domain words weigh half); acronyms are expanded against the other
///   title first. Containment (shared weight over the lighter title's
///   weight) lets a short aggregator title match a long funder title; it is
///   damped when the lighter title weighs less than two plain words, so a
///   bare "Fonds vert" does not contain every Fonds vert measure.
/// - Dice compares the joined token strings by character bigrams, for
///   spelling and word-form variants.
/// - Divergence: when *both* titles have words of their own (two measures of
///   one programme: "Fonds vert : friches" / "Fonds vert : inondations"),
///   `0.5 · min(own weight) / lighter weight` is taken off, since
///   containment is only credible when one title (nearly) contains the other.
pub fn title_similarity(a: &TitleKey, b: &TitleKey) -> f32 {
    let sa: BTreeSet<&str> = expand_acronyms(a, b).into_iter().collect();
    let sb: BTreeSet<&str> = expand_acronyms(b, a).into_iter().collect();
    if sa.is_empty() || sb.is_empty() {
        return if sa.is_empty() && sb.is_empty() {
            1.0
        } else {
            0.0
        };
    }
    let wa: f32 = sa.iter().map(|t| weight(t)).sum();
    let wb: f32 = sb.iter().map(|t| weight(t)).sum();
    let inter: f32 = sa.intersection(&sb).map(|t| weight(t)).sum();
    let union = wa + wb - inter;
    let small = wa.min(wb);
    let large = wa.max(wb);
    let mut containment = inter / small;
    if small < 2.0 {
        containment *= 0.5 + small / 4.0;
    }
    let jaccard = if union > 0.0 { inter / union } else { 0.0 };
    let dice = strsim::sorensen_dice(&a.joined(), &b.joined()) as f32;
    let divergence = 0.5 * (wa - inter).min(wb - inter) / small;
    let t = (0.45 * containment + 0.35 * jaccard + 0.20 * dice - divergence).clamp(0.0, 1.0);
    // A short title inside one at least twice its weight ("Mobilité
    // douce" / "Développer la mobilité douce dans les territoires ruraux")
    // is weak evidence: the title alone cannot make the pair.
    if small <= 2.0 && large >= 2.0 * small {
        t.min(SHORT_TITLE_CAP)
    } else {
        t
    }
}

/// Whether each title has a distinctive word of its own (neither generic
/// nor a number, acronyms expanded): "… des mairies" / "… des écoles",
/// "moins de 50 000 €" / "plus de 50 000 €". Such titles name different
/// things unless the rest says otherwise strongly.
pub fn both_have_own_words(a: &TitleKey, b: &TitleKey) -> bool {
    let (x, y) = own_words(a, b, 1.0);
    x && y
}

/// Whether *either* title has a word the other lacks (generic ones too, not
/// numbers nor variants): "AMI Fabriques numériques de territoire"
/// qualifies "AMI Fabriques de territoire".
pub fn either_qualifies(a: &TitleKey, b: &TitleKey) -> bool {
    let (x, y) = own_words(a, b, 0.5);
    x || y
}

/// Whether `a`, and whether `b`, has a word of its own weighing at least
/// `min_weight`.
fn own_words(a: &TitleKey, b: &TitleKey, min_weight: f32) -> (bool, bool) {
    let sa: BTreeSet<&str> = expand_acronyms(a, b).into_iter().collect();
    let sb: BTreeSet<&str> = expand_acronyms(b, a).into_iter().collect();
    // A word of one's own is distinctive, and not a variant of a word of
    // the other ("ruralité" / "rurales": five letters in common).
    let variant = |t: &str, y: &BTreeSet<&str>| {
        y.iter().any(|u| {
            let common = t.bytes().zip(u.bytes()).take_while(|(p, q)| p == q).count();
            common >= 5
        })
    };
    let own = |x: &BTreeSet<&str>, y: &BTreeSet<&str>| {
        x.difference(y).any(|t| {
            weight(t) >= min_weight && !t.bytes().all(|b| b.is_ascii_digit()) && !variant(t, y)
        })
    };
    (own(&sa, &sb), own(&sb, &sa))
}

/// Whether a URL names a listing rather than one call: a site root, or a
/// path whose last segment is a listing word ("appels-a-projets",
/// "actualites", "aides"...). Such a URL shared by two items proves nothing.
pub fn is_listing_url(url: &str) -> bool {
    let key = url_key(url);
    let path = key.split_once('/').map(|(_, p)| p).unwrap_or("");
    let path = path.split(['?', '#']).next().unwrap_or("");
    let last = path.rsplit('/').next().unwrap_or("");
    const LISTINGS: &[&str] = &[
        "",
        "appels-a-projets",
        "appels-a-projet",
        "appel-a-projets",
        "aap",
        "ami",
        "actualites",
        "actualite",
        "actus",
        "news",
        "aides",
        "financements",
        "subventions",
        "appels",
        "appels-a-candidatures",
        "index.html",
        "index.php",
    ];
    LISTINGS.contains(&last)
}

/// A URL reduced for comparison: scheme, `www.`, trailing slash, fragment
/// and case dropped.
pub fn url_key(url: &str) -> String {
    let u = url.trim().to_ascii_lowercase();
    let u = u.split('#').next().unwrap_or("");
    let u = u
        .strip_prefix("https://")
        .or_else(|| u.strip_prefix("http://"))
        .unwrap_or(u);
    let u = u.strip_prefix("www.").unwrap_or(u);
    u.trim_end_matches('/').to_string()
}

/// The fragment of a URL (after `#`), if any.
pub fn fragment(url: Option<&str>) -> Option<&str> {
    url.and_then(|u| u.split_once('#')).map(|(_, f)| f)
}

/// The reason given for identical canonical URLs.
pub const SAME_URL: &str = "same url";

/// How the two sightings' URLs relate, if they do.
pub fn url_match(
    a_url: Option<&str>,
    a_origin: Option<&str>,
    b_url: Option<&str>,
    b_origin: Option<&str>,
) -> Option<&'static str> {
    let k = |u: Option<&str>| {
        u.filter(|u| !is_listing_url(u))
            .map(url_key)
            .filter(|k| !k.is_empty())
    };
    let (au, ao, bu, bo) = (k(a_url), k(a_origin), k(b_url), k(b_origin));
    let eq = |x: &Option<String>, y: &Option<String>| x.is_some() && x == y;
    if eq(&au, &bu) {
        Some(SAME_URL)
    } else if eq(&au, &bo) || eq(&ao, &bu) {
        Some("url is the other's origin url")
    } else if eq(&ao, &bo) {
        Some("same origin url")
    } else {
        None
    }
}

/// Deadline difference in hours (absolute), when both are known.
pub fn deadline_gap_hours(
    a: Option<&DateTime<FixedOffset>>,
    b: Option<&DateTime<FixedOffset>>,
) -> Option<i64> {
    let minutes = (*a? - *b?).num_minutes().abs();
    Some((minutes + 59) / 60)
}

/// Region names (folded) and their INSEE codes, to read a region from a
/// funder's name ("Région Occitanie") when the perimeter is not given.
const REGIONS: &[(&str, &str)] = &[
    ("auvergne rhone alpes", "84"),
    ("bourgogne franche comte", "27"),
    ("bretagne", "53"),
    ("centre val de loire", "24"),
    ("corse", "94"),
    ("grand est", "44"),
    ("hauts de france", "32"),
    ("ile de france", "11"),
    ("normandie", "28"),
    ("nouvelle aquitaine", "75"),
    ("occitanie", "76"),
    ("pays de la loire", "52"),
    ("provence alpes cote d azur", "93"),
    ("region sud", "93"),
    ("guadeloupe", "01"),
    ("martinique", "02"),
    ("guyane", "03"),
    ("la reunion", "04"),
    ("mayotte", "06"),
];

/// Departments by region (INSEE codes), to tell nested perimeters
/// (department:95 inside region:11) from disjoint ones.
const DEPARTMENTS: &[(&str, &[&str])] = &[
    (
        "84",
        &[
            "01", "03", "07", "15", "26", "38", "42", "43", "63", "69", "73", "74",
        ],
    ),
    ("27", &["21", "25", "39", "58", "70", "71", "89", "90"]),
    ("53", &["22", "29", "35", "56"]),
    ("24", &["18", "28", "36", "37", "41", "45"]),
    ("94", &["2A", "2B"]),
    (
        "44",
        &["08", "10", "51", "52", "54", "55", "57", "67", "68", "88"],
    ),
    ("32", &["02", "59", "60", "62", "80"]),
    ("11", &["75", "77", "78", "91", "92", "93", "94", "95"]),
    ("28", &["14", "27", "50", "61", "76"]),
    (
        "75",
        &[
            "16", "17", "19", "23", "24", "33", "40", "47", "64", "79", "86", "87",
        ],
    ),
    (
        "76",
        &[
            "09", "11", "12", "30", "31", "32", "34", "46", "48", "65", "66", "81", "82",
        ],
    ),
    ("52", &["44", "49", "53", "72", "85"]),
    ("93", &["04", "05", "06", "13", "83", "84"]),
    ("01", &["971"]),
    ("02", &["972"]),
    ("03", &["973"]),
    ("04", &["974"]),
    ("06", &["976"]),
];

fn region_of_department(dep: &str) -> Option<&'static str> {
    DEPARTMENTS
        .iter()
        .find(|(_, deps)| deps.contains(&dep))
        .map(|(r, _)| *r)
}

/// The region a funder's name refers to, when it names one.
pub fn region_in_text(text: &str) -> Option<Perimeter> {
    let f = format!(" {} ", fold(text));
    REGIONS
        .iter()
        .find(|(name, _)| f.contains(&format!(" {name} ")))
        .map(|(_, code)| Perimeter::Region((*code).to_string()))
}

/// The effective perimeter: the given one if it parses, else a region named
/// by the funder.
pub fn effective_perimeter(perimeter: Option<&str>, funder: Option<&str>) -> Option<Perimeter> {
    perimeter
        .and_then(|p| p.parse().ok())
        .or_else(|| funder.and_then(region_in_text))
}

/// Whether two local (non-national, non-European) perimeters are disjoint.
/// Nested perimeters (a department inside its region) are not; levels whose
/// nesting is unknown here (EPCI, commune) only conflict at the same level.
pub fn perimeters_disjoint(a: &Perimeter, b: &Perimeter) -> bool {
    use Perimeter::*;
    match (a, b) {
        (Europe | France, _) | (_, Europe | France) => false,
        (Region(x), Region(y)) | (Department(x), Department(y)) => x != y,
        (Epci(x), Epci(y)) | (Commune(x), Commune(y)) => x != y,
        (Region(r), Department(d)) | (Department(d), Region(r)) => {
            region_of_department(d).is_some_and(|rd| rd != r)
        }
        (Commune(c), Department(d)) | (Department(d), Commune(c)) => !c.starts_with(d.as_str()),
        _ => false,
    }
}

/// Funders compared on folded words: equal, or one's words all in the
/// other's ("Région Bretagne" / "Conseil régional de Bretagne" do not
/// qualify, "ANCT" / "ANCT" does).
pub fn same_funder(a: &str, b: &str) -> bool {
    let wa: BTreeSet<String> = fold(a).split(' ').map(str::to_string).collect();
    let wb: BTreeSet<String> = fold(b).split(' ').map(str::to_string).collect();
    let stop = ["de", "la", "le", "des", "du", "l", "d", "et", ""];
    let wa: BTreeSet<_> = wa
        .into_iter()
        .filter(|w| !stop.contains(&w.as_str()))
        .collect();
    let wb: BTreeSet<_> = wb
        .into_iter()
        .filter(|w| !stop.contains(&w.as_str()))
        .collect();
    !wa.is_empty() && !wb.is_empty() && (wa.is_subset(&wb) || wb.is_subset(&wa))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dedup::title::title_key;

    #[test]
    fn similar_titles_score_high_and_different_ones_low() {
        let a = title_key("AAP Archivage numérique en territoires 2020");
        let b = title_key("Appel à projets « Archivage numérique en territoires »");
        assert!(title_similarity(&a, &b) > 0.95);
        let c = title_key("Fonds vert — rénovation énergétique des bâtiments publics");
        let d = title_key("Fonds vert — recyclage des friches");
        assert!(
            title_similarity(&c, &d) < 0.4,
            "{}",
            title_similarity(&c, &d)
        );
    }

    #[test]
    fn perimeters_nest_or_conflict() {
        let p = |s: &str| s.parse::<Perimeter>().unwrap();
        assert!(perimeters_disjoint(&p("region:76"), &p("region:11")));
        assert!(!perimeters_disjoint(&p("region:11"), &p("department:95")));
        assert!(perimeters_disjoint(&p("region:76"), &p("department:95")));
        assert!(!perimeters_disjoint(&p("france"), &p("region:76")));
        assert_eq!(
            region_in_text("Région Occitanie / Pyrénées-Méditerranée"),
            Some(p("region:76"))
        );
    }

    #[test]
    fn acronyms_stand_for_their_words() {
        let a = title_key("FTAP : 6e appel à projets");
        let b = title_key("Fonds pour la transformation de l'action publique - 6e appel");
        assert!(
            title_similarity(&a, &b) > 0.75,
            "{}",
            title_similarity(&a, &b)
        );
    }

    #[test]
    fn listing_pages_do_not_identify_calls() {
        assert!(is_listing_url(
            "https://www.banquedesterritoires.fr/appels-a-projets"
        ));
        assert!(is_listing_url("https://www.example.fr/"));
        assert!(!is_listing_url("https://www.example.fr/aap-cloud"));
        assert_eq!(
            url_match(
                Some("https://a.fr/aides/"),
                None,
                Some("https://a.fr/aides"),
                None
            ),
            None
        );
    }

    #[test]
    fn urls_compare_loosely() {
        assert_eq!(
            url_match(
                Some("https://www.a.fr/x/"),
                None,
                Some("http://a.fr/x"),
                None
            ),
            Some("same url")
        );
        assert_eq!(
            url_match(
                Some("https://at.fr/aides/1"),
                Some("https://a.fr/x"),
                Some("https://a.fr/x"),
                None
            ),
            Some("url is the other's origin url")
        );
    }
}
