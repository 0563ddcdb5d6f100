//! Perimeters from French labels as aggregators write them
//! ("Occitanie (Région)", "Val-d'Oise (95)", EPCI names...).

use super::groups::{Group, group_of};
use super::*;

// ---------------------------------------------------------------------------
// Labels

/// The words of ASCII lowercase text: runs of letters and digits, `st` and
/// `ste` spelled out.
pub(super) fn canonical_words(ascii: &str) -> impl Iterator<Item = &str> {
    ascii
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| match w {
            "st" => "saint",
            "ste" => "sainte",
            w => w,
        })
}

/// Canonical form of a label for look-ups: ASCII, lowercase, words of
/// letters and digits separated by one space, `st`/`ste` spelled out, and
/// EPCI kinds contracted (`communauté d'agglomération` → `ca`).
pub(super) fn canonical(s: &str) -> String {
    let ascii = deunicode::deunicode(s).to_ascii_lowercase();
    let mut out = canonical_words(&ascii).collect::<Vec<_>>().join(" ");
    for (long, short) in [
        ("communaute de communes ", "cc "),
        ("communaute d agglomeration ", "ca "),
        ("communaute urbaine ", "cu "),
    ] {
        if let Some(rest) = out.strip_prefix(long) {
            out = format!("{short}{rest}");
        }
    }
    out
}

/// Names and aliases of regions, departments and EPCIs, and names of
/// communes, by canonical form.
pub(super) struct Labels {
    pub(super) places: HashMap<String, Vec<Perimeter>>,
    communes: HashMap<String, Vec<u32>>,
}

/// Extra names of regions (canonical form → region code).
const REGION_ALIASES: &[(&str, &str)] = &[
    ("idf", "11"),
    ("ile de france", "11"),
    ("centre", "24"),
    ("centre val de loire", "24"),
    ("bfc", "27"),
    ("bourgogne franche comte", "27"),
    ("pays de loire", "52"),
    ("occitanie pyrenees mediterranee", "76"),
    ("aura", "84"),
    ("paca", "93"),
    ("region sud", "93"),
    ("region sud provence alpes cote d azur", "93"),
    ("sud provence alpes cote d azur", "93"),
    ("collectivite de corse", "94"),
    ("reunion", "04"),
    ("ile de la reunion", "04"),
    ("guyane francaise", "03"),
    ("collectivite territoriale de guyane", "03"),
    ("collectivite territoriale de martinique", "02"),
];

/// Extra names of EPCIs (canonical form → SIREN).
const EPCI_ALIASES: &[(&str, &str)] = &[
    ("grand lyon", "200046977"),
    ("metropole de lyon", "200046977"),
    ("metropole aix marseille provence", "200054807"),
    ("mgp", "200054781"),
];

pub(super) static LABELS: LazyLock<Labels> = LazyLock::new(|| {
    let t = Territory::get();
    let mut places: HashMap<String, Vec<Perimeter>> = HashMap::new();
    let mut add = |name: &str, p: Perimeter| {
        let v = places.entry(canonical(name)).or_default();
        if !v.contains(&p) {
            v.push(p);
        }
    };
    for r in &t.regions {
        add(r.name, Perimeter::Region(r.code.to_string()));
    }
    for (alias, code) in REGION_ALIASES {
        add(alias, Perimeter::Region(code.to_string()));
    }
    for d in &t.departments {
        add(d.name, Perimeter::Department(d.code.to_string()));
    }
    add("reunion", Perimeter::Department("974".to_string()));
    for e in &t.epcis {
        add(e.name, Perimeter::Epci(e.siren.to_string()));
        // Without a trailing acronym: `CC de l'Est Lyonnais (CCEL)`.
        if let Some((short, _)) = e.name.rsplit_once(" (")
            && e.name.ends_with(')')
        {
            add(short, Perimeter::Epci(e.siren.to_string()));
        }
    }
    for (alias, siren) in EPCI_ALIASES {
        add(alias, Perimeter::Epci(siren.to_string()));
    }
    let mut communes: HashMap<String, Vec<u32>> = HashMap::new();
    for (i, c) in t.communes.iter().enumerate() {
        communes
            .entry(canonical(c.name))
            .or_default()
            .push(i as u32);
    }
    Labels { places, communes }
});

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Level {
    Region,
    Department,
    Epci,
    Commune,
}

fn level_of(p: &Perimeter) -> Option<Level> {
    match p {
        Perimeter::Region(_) => Some(Level::Region),
        Perimeter::Department(_) => Some(Level::Department),
        Perimeter::Epci(_) => Some(Level::Epci),
        Perimeter::Commune(_) => Some(Level::Commune),
        Perimeter::Europe | Perimeter::France => None,
    }
}

/// What a label says besides the name: a level (`(Région)`, `Département
/// du …`) and places the result must lie within (`(95)`, `95 - …`,
/// `Saint-Denis (La Réunion)`): any one of them.
#[derive(Debug, Default)]
struct Hints {
    level: Option<Level>,
    within: Vec<Vec<Perimeter>>,
}

/// Labels meaning the whole country or Europe, or no single perimeter.
fn keyword(text: &str) -> Option<Option<Perimeter>> {
    match group_of(text) {
        // One perimeter for a group of regions: the country for mainland
        // France (a subscriber's own territory), none for the overseas.
        Some(Group::Mainland) => return Some(Some(Perimeter::France)),
        Some(Group::Overseas | Group::Former(_) | Group::Basin(_)) => return Some(None),
        None => {}
    }
    Some(match text {
        "france"
        | "national"
        | "nationale"
        | "france entiere"
        | "toute la france"
        | "territoire national"
        | "niveau national" => Some(Perimeter::France),
        "europe"
        | "ue"
        | "eu"
        | "europe ue"
        | "union europeenne"
        | "union europeenne ue"
        | "european union" => Some(Perimeter::Europe),
        "collectivites d outre mer" => None,
        _ => return None,
    })
}

/// A department or region code as written in a label (`95`, `2A`, `974`).
fn code_hint(text: &str) -> Option<Vec<Perimeter>> {
    let code = text.trim().to_ascii_uppercase();
    let t = Territory::get();
    let mut out = Vec::new();
    if t.department(&code).is_some() {
        out.push(Perimeter::Department(code.clone()));
    }
    if t.region(&code).is_some() {
        out.push(Perimeter::Region(code));
    }
    (!out.is_empty()).then_some(out)
}

/// Reads a parenthesised or dash-separated part of a label into `hints`;
/// false when it means nothing we know.
fn read_hint(part: &str, hints: &mut Hints) -> bool {
    let c = canonical(part);
    let level = match c.as_str() {
        "region" | "reg" | "conseil regional" => Some(Level::Region),
        "departement" | "dept" | "dep" | "conseil departemental" => Some(Level::Department),
        "epci" | "intercommunalite" | "interco" => Some(Level::Epci),
        "commune" | "ville" | "mairie" => Some(Level::Commune),
        "france" | "national" | "nationale" => return true,
        _ => None,
    };
    if let Some(level) = level {
        hints.level = Some(level);
        return true;
    }
    if let Some(codes) = code_hint(part) {
        hints.within.push(codes);
        return true;
    }
    if let Some(p) = resolve(&c, &Hints::default()) {
        hints.within.push(vec![p]);
        return true;
    }
    false
}

/// Words that introduce a level, then articles, in a label.
const LEVEL_PREFIXES: &[(&str, Level)] = &[
    ("conseil regional ", Level::Region),
    ("region ", Level::Region),
    ("conseil departemental ", Level::Department),
    ("conseil general ", Level::Department),
    ("departement ", Level::Department),
    ("dept ", Level::Department),
    ("dpt ", Level::Department),
    ("commune ", Level::Commune),
    ("ville ", Level::Commune),
    ("mairie ", Level::Commune),
];
pub(super) const ARTICLES: &[&str] = &["de la ", "de l ", "du ", "des ", "de ", "d "];

/// Finds a perimeter from a French label as aggregators write it:
/// `Occitanie (Région)`, `Val-d'Oise`, `Val d'Oise (95)`, `95 - Val-d'Oise`,
/// `Région Île-de-France`, `Département du Nord`, `Métropole de Lyon`,
/// `CA de Cergy-Pontoise`, `Commune de Cergy`, `Saint-Denis (La Réunion)`,
/// `France`, `Europe`, or a perimeter's text form (`department:95`).
/// Accents, case, hyphens and apostrophes do not matter.
///
/// - `France métropolitaine` (and `Hexagone`) give `france`: there is no
///   mainland-only perimeter, and a call shown to an overseas subscriber it
///   does not fit is better than a missed call.
/// - `Outre-mer`, `DOM`, `DROM` give `None`: they span several regions.
/// - A name shared by an overseas region and its department (`Guadeloupe`,
///   `La Réunion`) gives the region, which contains the department.
/// - Former regions (`Alsace`, `Midi-Pyrénées`) give `None`: they are only
///   part of a current region ([`from_label_list`](super::from_label_list)
///   gives their departments, and the regions of `Outre-mer`).
/// - A commune name alone is accepted only when unique in France; a
///   department name wins over a homonymous commune (`Paris` → department
///   75, `Ville de Paris` → commune 75056).
///
/// Returns `None` when the label is unknown or ambiguous.
pub fn from_label(label: &str) -> Option<Perimeter> {
    let mut text = label.trim();
    if let Ok(p) = text.parse::<Perimeter>() {
        return validate(&p).is_ok().then_some(p);
    }
    // Names that hold parentheses: `CC de l'Est Lyonnais (CCEL)`.
    let whole = canonical(text);
    if LABELS.places.contains_key(&whole) {
        return pick(&whole, &Hints::default());
    }
    let mut hints = Hints::default();
    // Trailing parentheses: `Val d'Oise (95)`, `Occitanie (Région)`.
    while text.ends_with(')') {
        let open = text.rfind('(')?;
        let name = canonical(text);
        if LABELS.communes.contains_key(&name) {
            // `Château-Chinon (Ville)` is a commune's whole name.
            break;
        }
        if !read_hint(&text[open + 1..text.len() - 1], &mut hints) {
            // Part of the name (`Bors (Canton de Charente-Sud)`), or unknown.
            break;
        }
        text = text[..open].trim_end();
    }
    // A code before or after a dash: `95 - Val-d'Oise`, `Val-d'Oise - 95`.
    for dash in [" - ", " – ", " — ", " : "] {
        if let Some((left, right)) = text.split_once(dash) {
            if let Some(codes) = code_hint(left) {
                hints.within.push(codes);
                text = right.trim();
            } else if let Some(codes) = code_hint(right) {
                hints.within.push(codes);
                text = left.trim();
            }
        }
    }
    let c = canonical(text);
    if c.is_empty() {
        // Only a code: `(95)`.
        let [codes] = hints.within.as_slice() else {
            return None;
        };
        let level = hints.level.unwrap_or(Level::Department);
        return codes.iter().find(|p| level_of(p) == Some(level)).cloned();
    }
    if hints.within.is_empty()
        && hints.level.is_none()
        && let Some(k) = keyword(&c)
    {
        return k;
    }
    if let Some(codes) = code_hint(&c)
        && hints.within.is_empty()
    {
        let level = hints.level.unwrap_or(Level::Department);
        return codes.into_iter().find(|p| level_of(p) == Some(level));
    }
    resolve(&c, &hints)
}

/// Resolves a canonical name with its hints: first as written, then without
/// a level prefix and article (`departement du nord` → `nord`).
fn resolve(c: &str, hints: &Hints) -> Option<Perimeter> {
    if let Some(p) = pick(c, hints) {
        return Some(p);
    }
    for (prefix, level) in LEVEL_PREFIXES {
        if let Some(rest) = c.strip_prefix(prefix) {
            if hints.level.is_some_and(|l| l != *level) {
                return None;
            }
            let hints = Hints {
                level: Some(*level),
                within: hints.within.clone(),
            };
            // `Département 33`, `Dept 33`, `Région 76`.
            if let Some(codes) = code_hint(rest) {
                return codes.into_iter().find(|p| level_of(p) == Some(*level));
            }
            let rest = ARTICLES
                .iter()
                .find_map(|a| rest.strip_prefix(a))
                .unwrap_or(rest);
            return pick(rest, &hints).or_else(|| {
                // `Département de la Réunion` → `la reunion`.
                let with_article = c[prefix.len()..].trim_start_matches("de ");
                pick(with_article, &hints)
            });
        }
    }
    if let Some(p) = super::epci_names::by_bare_name(c)
        && hints.level.is_none_or(|l| l == Level::Epci)
        && hints
            .within
            .iter()
            .all(|alts| alts.iter().any(|w| contains(w, &p)))
    {
        return Some(p);
    }
    // `la Région Occitanie`, `le Nord`, `les Hautes-Alpes`, `l'Aude`.
    ["la ", "le ", "les ", "l "]
        .iter()
        .find_map(|a| c.strip_prefix(a))
        .and_then(|rest| resolve(rest, hints))
}

/// The one perimeter named `c` that satisfies the hints, if exactly one.
fn pick(c: &str, hints: &Hints) -> Option<Perimeter> {
    let labels = &*LABELS;
    let t = Territory::get();
    // With `strict`, a code hint (`(04)`) means only its department, not
    // the region with the same code.
    let candidates = |strict: bool| -> Vec<Perimeter> {
        let fits = |p: &Perimeter| {
            hints.level.is_none_or(|l| level_of(p) == Some(l))
                && hints.within.iter().all(|alts| {
                    let alts = if strict { &alts[..1] } else { &alts[..] };
                    alts.iter().any(|w| contains(w, p))
                })
        };
        let places: Vec<Perimeter> = labels
            .places
            .get(c)
            .into_iter()
            .flatten()
            .filter(|p| fits(p))
            .cloned()
            .collect();
        if !places.is_empty() {
            return places;
        }
        labels
            .communes
            .get(c)
            .into_iter()
            .flatten()
            .map(|&i| Perimeter::Commune(t.communes[i as usize].insee.to_string()))
            .filter(|p| fits(p))
            .collect()
    };
    let mut found = candidates(false);
    if found.len() > 1 && hints.within.iter().any(|alts| alts.len() > 1) {
        let strict = candidates(true);
        if !strict.is_empty() {
            found = strict;
        }
    }
    the_one(&found)
}

/// The one perimeter of `found`: a single one, or an overseas region and
/// its only department, which share their name (the region, which contains
/// the department). `None` when there is none or they are ambiguous.
pub(super) fn the_one(found: &[Perimeter]) -> Option<Perimeter> {
    match found {
        [p] => Some(p.clone()),
        [Perimeter::Region(r), Perimeter::Department(d)]
        | [Perimeter::Department(d), Perimeter::Region(r)]
            if region(r).is_some_and(|r| r.departments.as_slice() == [d.as_str()]) =>
        {
            Some(Perimeter::Region(r.clone()))
        }
        _ => None,
    }
}
