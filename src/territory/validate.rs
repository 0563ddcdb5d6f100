//! Validation of perimeters against the reference data, with suggestions
//! for the usual mistakes (old region codes, postal codes, typos).

use super::*;

/// A perimeter whose code is not in the reference data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct UnknownTerritory {
    pub perimeter: Perimeter,
    /// A hint in words, with the perimeter probably meant when there is one.
    pub suggestion: Option<String>,
}

impl fmt::Display for UnknownTerritory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match &self.perimeter {
            Perimeter::Region(_) => "region code",
            Perimeter::Department(_) => "department code",
            Perimeter::Epci(_) => "EPCI SIREN",
            Perimeter::Commune(_) => "commune INSEE code",
            Perimeter::Europe | Perimeter::France => "perimeter",
        };
        write!(
            f,
            "unknown {what} in `{}`: not in the Code officiel géographique {MILLESIME}",
            self.perimeter
        )?;
        match &self.suggestion {
            Some(s) => write!(f, "; {s}"),
            None => Ok(()),
        }
    }
}

/// Region codes before the 2016 merger, with the region that absorbed them.
const FORMER_REGIONS: &[(&str, &str, &str)] = &[
    ("21", "Champagne-Ardenne", "44"),
    ("22", "Picardie", "32"),
    ("23", "Haute-Normandie", "28"),
    ("25", "Basse-Normandie", "28"),
    ("26", "Bourgogne", "27"),
    ("31", "Nord-Pas-de-Calais", "32"),
    ("41", "Lorraine", "44"),
    ("42", "Alsace", "44"),
    ("43", "Franche-Comté", "27"),
    ("54", "Poitou-Charentes", "75"),
    ("72", "Aquitaine", "75"),
    ("73", "Midi-Pyrénées", "76"),
    ("74", "Limousin", "75"),
    ("82", "Rhône-Alpes", "84"),
    ("83", "Auvergne", "84"),
    ("91", "Languedoc-Roussillon", "76"),
];

/// Overseas collectivities that have an INSEE code but no department.
const COLLECTIVITIES: &[(&str, &str)] = &[
    ("975", "Saint-Pierre-et-Miquelon"),
    ("977", "Saint-Barthélemy"),
    ("978", "Saint-Martin"),
];

/// Checks that a perimeter's code exists in the reference data.
pub fn validate(p: &Perimeter) -> Result<(), UnknownTerritory> {
    let t = Territory::get();
    let known = match p {
        Perimeter::Europe | Perimeter::France => true,
        Perimeter::Region(c) => t.region(c).is_some(),
        Perimeter::Department(c) => t.department(c).is_some(),
        Perimeter::Epci(c) => t.epci(c).is_some(),
        Perimeter::Commune(c) => t.commune(c).is_some(),
    };
    if known {
        return Ok(());
    }
    Err(UnknownTerritory {
        perimeter: p.clone(),
        suggestion: suggest(t, p),
    })
}

/// The candidate at edit distance 1 from `code` (a typo: one character
/// changed, added, removed or two swapped) with the highest weight.
fn closest<'a>(code: &str, candidates: impl Iterator<Item = (&'a str, u64)>) -> Option<&'a str> {
    candidates
        .filter(|(c, _)| strsim::osa_distance(code, c) == 1)
        .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(a.0)))
        .map(|(c, _)| c)
}

fn suggest(t: &Territory, p: &Perimeter) -> Option<String> {
    match p {
        Perimeter::Europe | Perimeter::France => None,
        Perimeter::Region(code) => {
            if let Some((_, old, new)) = FORMER_REGIONS.iter().find(|(c, ..)| c == code) {
                let r = t.region(new)?;
                return Some(format!(
                    "{old} merged into region:{new} ({}) in 2016",
                    r.name
                ));
            }
            if let Some(d) = t.department(code) {
                return Some(format!(
                    "{code} is a department code: did you mean department:{code} ({}), in region:{}?",
                    d.name, d.region
                ));
            }
            let c = closest(code, t.regions.iter().map(|r| (r.code, 0)))?;
            Some(format!("did you mean region:{c} ({})?", t.region(c)?.name))
        }
        Perimeter::Department(code) => {
            if code == "20" {
                return Some(
                    "Corsica is split into department:2A (Corse-du-Sud) and department:2B (Haute-Corse)"
                        .to_string(),
                );
            }
            if let Some((_, name)) = COLLECTIVITIES.iter().find(|(c, _)| c == code) {
                return Some(format!(
                    "{name} is an overseas collectivity without department: use `france`"
                ));
            }
            let c = closest(code, t.departments.iter().map(|d| (d.code, 0)))?;
            Some(format!(
                "did you mean department:{c} ({})?",
                t.department(c)?.name
            ))
        }
        Perimeter::Epci(code) => {
            let c = closest(code, t.epcis.iter().map(|e| (e.siren, e.population)))?;
            Some(format!("did you mean epci:{c} ({})?", t.epci(c)?.name))
        }
        Perimeter::Commune(code) => {
            if let Some(c) = t.commune_by_former_code(code) {
                return Some(format!(
                    "{code} is an outdated code of commune:{} ({}, department {})",
                    c.insee, c.name, c.department
                ));
            }
            if let Some(rest) = code.strip_prefix("20") {
                let found: Vec<_> = ["2A", "2B"]
                    .iter()
                    .filter_map(|d| t.commune(&format!("{d}{rest}")))
                    .map(|c| format!("commune:{} ({})", c.insee, c.name))
                    .collect();
                if !found.is_empty() {
                    return Some(format!(
                        "Corsican codes start with 2A or 2B: did you mean {}?",
                        found.join(" or ")
                    ));
                }
            }
            if let Some(c) = COLLECTIVITIES.iter().find(|(c, _)| code.starts_with(c)) {
                return Some(format!(
                    "{} is an overseas collectivity without department: use `france`",
                    c.1
                ));
            }
            if code.ends_with("000") || (code.ends_with("00") && code.starts_with("97")) {
                return Some(
                    "this looks like a postal code; communes are identified by their INSEE code \
                     (Cergy: 95127, postal code 95000)"
                        .to_string(),
                );
            }
            let c = closest(
                code,
                t.communes
                    .iter()
                    .map(|c| (c.insee, u64::from(c.population))),
            )?;
            let c = t.commune(c)?;
            Some(format!(
                "did you mean commune:{} ({}, department {})?",
                c.insee, c.name, c.department
            ))
        }
    }
}
