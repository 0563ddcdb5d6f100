//! French territory reference data and perimeter containment.
//!
//! The 18 regions, 101 departments, 1,255 EPCIs and ~34,900 communes of
//! `data/territory/*.tsv` (an extract of INSEE's Code officiel géographique
//! 2026 via `@etalab/decoupage-administratif` 6.0.0, see its README) are
//! embedded in the binary and parsed once, on first use, into indexes whose
//! strings borrow from the embedded text.
//!
//! - [`region`], [`department`], [`commune`], [`epci`]: look-ups by code.
//! - [`validate`]: is this perimeter known? If not, say what and suggest.
//! - [`ancestors`], [`contains`]: which perimeters contain which; `contains`
//!   is the matching hot path (no allocation, one array index per commune).
//! - [`from_label`]: a perimeter from a label as aggregators write it.
//!
//! Perimeters are expected in their canonical form (as
//! [`Perimeter::from_str`](std::str::FromStr) builds them: `2A`, not `2a`).
//! Overseas collectivities without department (975, 977, 978, 984, 986–989)
//! are not in the data: they are only reachable as `france`/`europe`.

use std::collections::HashMap;
use std::fmt;
use std::sync::LazyLock;

use crate::domain::Perimeter;

const REGIONS_TSV: &str = include_str!("../data/territory/regions.tsv");
const DEPARTMENTS_TSV: &str = include_str!("../data/territory/departments.tsv");
const EPCIS_TSV: &str = include_str!("../data/territory/epcis.tsv");
const COMMUNES_TSV: &str = include_str!("../data/territory/communes.tsv");

/// Which edition of the Code officiel géographique the data reflects.
pub const MILLESIME: u16 = 2026;

/// A region (code `11`, `76`, `94` for Corsica, `01`–`06` overseas).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegionInfo {
    pub code: &'static str,
    pub name: &'static str,
    /// Codes of its departments, sorted.
    pub departments: Vec<&'static str>,
}

/// A department (code `01`–`95`, `2A`, `2B`, `971`–`974`, `976`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DepartmentInfo {
    pub code: &'static str,
    pub name: &'static str,
    /// Code of its region.
    pub region: &'static str,
}

/// A commune (`commune-actuelle`; municipal arrondissements are not communes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommuneInfo {
    /// INSEE code (`95127`, `2A004`), not the postal code.
    pub insee: &'static str,
    pub name: &'static str,
    pub department: &'static str,
    pub region: &'static str,
    /// SIREN of its EPCI; `None` for the few island communes outside any.
    pub epci: Option<&'static str>,
    /// Legal population (0 when unknown).
    pub population: u32,
    former: &'static str,
}

impl CommuneInfo {
    /// Outdated INSEE codes that now designate this commune (merged
    /// communes, renumbered communes).
    pub fn former_codes(&self) -> impl Iterator<Item = &'static str> {
        self.former.split(',').filter(|c| !c.is_empty())
    }
}

/// An EPCI à fiscalité propre (CC, CA, CU, métropole, Métropole de Lyon).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EpciInfo {
    pub siren: &'static str,
    /// `CC`, `CA`, `CU`, `METRO` or `MET69`.
    pub kind: &'static str,
    pub name: &'static str,
    /// Departments its communes belong to, sorted (several for some EPCIs).
    pub departments: Vec<&'static str>,
    /// Regions its communes belong to, sorted.
    pub regions: Vec<&'static str>,
    /// INSEE codes of its member communes, sorted.
    pub members: Vec<&'static str>,
    /// Sum of its members' legal populations.
    pub population: u64,
}

/// The whole reference data, built once (see [`Territory::get`]).
#[derive(Debug)]
pub struct Territory {
    regions: Vec<RegionInfo>,
    departments: Vec<DepartmentInfo>,
    epcis: Vec<EpciInfo>,
    communes: Vec<CommuneInfo>,
    region_index: HashMap<&'static str, u32>,
    department_index: HashMap<&'static str, u32>,
    epci_index: HashMap<&'static str, u32>,
    /// Dense index by [`commune_slot`]: commune position or `u32::MAX`.
    commune_slots: Vec<u32>,
    /// Outdated commune code → current commune position.
    former_index: HashMap<&'static str, u32>,
}

static DATA: LazyLock<Territory> = LazyLock::new(|| match Territory::parse() {
    Ok(t) => t,
    Err(e) => panic!("embedded territory data (data/territory) is invalid: {e}"),
});

const NONE: u32 = u32::MAX;
/// Commune slots: department part 0–101 (`2A` = 100, `2B` = 101) × 1,000.
const COMMUNE_SLOTS: usize = 102_000;

/// Maps an INSEE commune code to a dense slot without hashing: the first two
/// characters (`00`–`99`, `2A`, `2B`) times 1,000 plus the last three digits.
/// Overseas codes (`97411`) fit too: their department part is `97`.
fn commune_slot(code: &str) -> Option<usize> {
    let b = code.as_bytes();
    if b.len() != 5 {
        return None;
    }
    let head = match (b[0], b[1]) {
        (b'2', b'A' | b'a') => 100,
        (b'2', b'B' | b'b') => 101,
        (x, y) if x.is_ascii_digit() && y.is_ascii_digit() => {
            usize::from(x - b'0') * 10 + usize::from(y - b'0')
        }
        _ => return None,
    };
    let mut tail = 0;
    for &d in &b[2..] {
        if !d.is_ascii_digit() {
            return None;
        }
        tail = tail * 10 + usize::from(d - b'0');
    }
    Some(head * 1000 + tail)
}

/// Splits a TSV table after checking its header; yields (line number, fields).
fn rows<const N: usize>(
    file: &'static str,
    text: &'static str,
    header: [&str; N],
) -> Result<Vec<(usize, [&'static str; N])>, String> {
    let mut lines = text.lines();
    let first = lines.next().unwrap_or_default();
    if first.split('\t').ne(header) {
        return Err(format!(
            "{file}: header `{first}` is not `{}`",
            header.join("\t")
        ));
    }
    lines
        .enumerate()
        .map(|(i, line)| {
            let mut fields = [""; N];
            let mut parts = line.split('\t');
            for f in &mut fields {
                *f = parts
                    .next()
                    .ok_or_else(|| format!("{file}:{}: expected {N} fields", i + 2))?;
            }
            if parts.next().is_some() {
                return Err(format!("{file}:{}: more than {N} fields", i + 2));
            }
            Ok((i + 2, fields))
        })
        .collect()
}

impl Territory {
    /// The reference data, parsed on first use.
    pub fn get() -> &'static Territory {
        &DATA
    }

    fn parse() -> Result<Territory, String> {
        let mut regions = Vec::new();
        let mut region_index = HashMap::new();
        for (line, [code, name]) in rows("regions.tsv", REGIONS_TSV, ["code", "name"])? {
            if region_index.insert(code, regions.len() as u32).is_some() {
                return Err(format!("regions.tsv:{line}: duplicate region {code}"));
            }
            regions.push(RegionInfo {
                code,
                name,
                departments: Vec::new(),
            });
        }

        let mut departments = Vec::new();
        let mut department_index = HashMap::new();
        for (line, [code, region, name]) in rows(
            "departments.tsv",
            DEPARTMENTS_TSV,
            ["code", "region", "name"],
        )? {
            let Some(&r) = region_index.get(region) else {
                return Err(format!("departments.tsv:{line}: unknown region {region}"));
            };
            if department_index
                .insert(code, departments.len() as u32)
                .is_some()
            {
                return Err(format!(
                    "departments.tsv:{line}: duplicate department {code}"
                ));
            }
            regions[r as usize].departments.push(code);
            departments.push(DepartmentInfo { code, name, region });
        }

        let mut epcis = Vec::new();
        let mut epci_index = HashMap::new();
        for (line, [siren, kind, name]) in rows("epcis.tsv", EPCIS_TSV, ["siren", "kind", "name"])?
        {
            if epci_index.insert(siren, epcis.len() as u32).is_some() {
                return Err(format!("epcis.tsv:{line}: duplicate EPCI {siren}"));
            }
            epcis.push(EpciInfo {
                siren,
                kind,
                name,
                departments: Vec::new(),
                regions: Vec::new(),
                members: Vec::new(),
                population: 0,
            });
        }

        let mut communes = Vec::new();
        let mut commune_slots = vec![NONE; COMMUNE_SLOTS];
        for (line, [insee, dep, epci, population, name, former]) in rows(
            "communes.tsv",
            COMMUNES_TSV,
            [
                "insee",
                "department",
                "epci",
                "population",
                "name",
                "former",
            ],
        )? {
            let at = |what: &str| format!("communes.tsv:{line}: {what}");
            let slot = commune_slot(insee).ok_or_else(|| at("bad INSEE code"))?;
            if commune_slots[slot] != NONE {
                return Err(at("duplicate commune"));
            }
            let Some(&d) = department_index.get(dep) else {
                return Err(at("unknown department"));
            };
            let population: u32 = if population.is_empty() {
                0
            } else {
                population.parse().map_err(|_| at("bad population"))?
            };
            let epci = if epci.is_empty() {
                None
            } else {
                let &e = epci_index.get(epci).ok_or_else(|| at("unknown EPCI"))?;
                let e = &mut epcis[e as usize];
                e.members.push(insee);
                e.population += u64::from(population);
                Some(e.siren)
            };
            commune_slots[slot] = communes.len() as u32;
            communes.push(CommuneInfo {
                insee,
                name,
                department: dep,
                region: departments[d as usize].region,
                epci,
                population,
                former,
            });
        }

        let mut former_index = HashMap::new();
        for (i, c) in communes.iter().enumerate() {
            for old in c.former_codes() {
                former_index.insert(old, i as u32);
            }
        }

        for e in &mut epcis {
            if e.members.is_empty() {
                return Err(format!("EPCI {} has no member commune", e.siren));
            }
            e.members.sort_unstable();
            for m in &e.members {
                let c = &communes[commune_slots[commune_slot(m).unwrap_or_default()] as usize];
                e.departments.push(c.department);
                e.regions.push(c.region);
            }
            e.departments.sort_unstable();
            e.departments.dedup();
            e.regions.sort_unstable();
            e.regions.dedup();
        }
        for r in &mut regions {
            r.departments.sort_unstable();
        }

        Ok(Territory {
            regions,
            departments,
            epcis,
            communes,
            region_index,
            department_index,
            epci_index,
            commune_slots,
            former_index,
        })
    }

    pub fn regions(&self) -> &[RegionInfo] {
        &self.regions
    }

    pub fn departments(&self) -> &[DepartmentInfo] {
        &self.departments
    }

    pub fn epcis(&self) -> &[EpciInfo] {
        &self.epcis
    }

    pub fn communes(&self) -> &[CommuneInfo] {
        &self.communes
    }

    pub fn region(&self, code: &str) -> Option<&RegionInfo> {
        self.region_index
            .get(code)
            .map(|&i| &self.regions[i as usize])
    }

    pub fn department(&self, code: &str) -> Option<&DepartmentInfo> {
        self.department_index
            .get(code)
            .map(|&i| &self.departments[i as usize])
    }

    pub fn epci(&self, siren: &str) -> Option<&EpciInfo> {
        self.epci_index.get(siren).map(|&i| &self.epcis[i as usize])
    }

    pub fn commune(&self, insee: &str) -> Option<&CommuneInfo> {
        let i = *self.commune_slots.get(commune_slot(insee)?)?;
        self.communes.get(i as usize)
    }

    /// The current commune an outdated INSEE code leads to.
    pub fn commune_by_former_code(&self, code: &str) -> Option<&CommuneInfo> {
        self.former_index
            .get(code)
            .map(|&i| &self.communes[i as usize])
    }
}

/// Every region, sorted by code.
pub fn regions() -> &'static [RegionInfo] {
    DATA.regions()
}

/// Every department, sorted by code.
pub fn departments() -> &'static [DepartmentInfo] {
    DATA.departments()
}

/// Every EPCI, sorted by SIREN.
pub fn epcis() -> &'static [EpciInfo] {
    DATA.epcis()
}

/// Every commune, sorted by INSEE code.
pub fn communes() -> &'static [CommuneInfo] {
    DATA.communes()
}

pub fn region(code: &str) -> Option<&'static RegionInfo> {
    DATA.region(code)
}

pub fn department(code: &str) -> Option<&'static DepartmentInfo> {
    DATA.department(code)
}

/// A commune by INSEE code (not postal code; see [`validate`] for hints).
pub fn commune(insee: &str) -> Option<&'static CommuneInfo> {
    DATA.commune(insee)
}

pub fn epci(siren: &str) -> Option<&'static EpciInfo> {
    DATA.epci(siren)
}

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

/// Every perimeter that contains `p`, from `p` itself up to Europe:
/// a commune, its EPCI, its department, its region, France, Europe; an EPCI,
/// every department and region its communes belong to, France, Europe.
/// A code unknown to the reference data only gets France and Europe.
pub fn ancestors(p: &Perimeter) -> Vec<Perimeter> {
    let t = Territory::get();
    let mut out = vec![p.clone()];
    match p {
        Perimeter::Europe => return out,
        Perimeter::France => {}
        Perimeter::Region(_) => {}
        Perimeter::Department(code) => {
            if let Some(d) = t.department(code) {
                out.push(Perimeter::Region(d.region.to_string()));
            }
        }
        Perimeter::Epci(code) => {
            if let Some(e) = t.epci(code) {
                out.extend(
                    e.departments
                        .iter()
                        .map(|d| Perimeter::Department(d.to_string())),
                );
                out.extend(e.regions.iter().map(|r| Perimeter::Region(r.to_string())));
            }
        }
        Perimeter::Commune(code) => {
            if let Some(c) = t.commune(code) {
                out.extend(c.epci.map(|e| Perimeter::Epci(e.to_string())));
                out.push(Perimeter::Department(c.department.to_string()));
                out.push(Perimeter::Region(c.region.to_string()));
            }
        }
    }
    if *p != Perimeter::France {
        out.push(Perimeter::France);
    }
    out.push(Perimeter::Europe);
    out
}

/// Whether a call whose perimeter is `call` applies to a subscriber located
/// at `subscriber`, that is whether `call` is one of `ancestors(subscriber)`:
/// a call for Île-de-France fits a commune of Val-d'Oise, a call for a
/// commune does not fit its whole department.
///
/// No allocation: a commune is found by arithmetic on its code, then codes
/// are compared; an EPCI or department costs one hash look-up.
pub fn contains(call: &Perimeter, subscriber: &Perimeter) -> bool {
    use Perimeter::*;
    match (call, subscriber) {
        (Europe, _) => true,
        (France, Europe) => false,
        (France, _) => true,
        (_, Europe | France) => false,
        (Region(r), Region(s)) => r == s,
        (Region(r), Department(d)) => department(d).is_some_and(|d| d.region == r),
        (Region(r), Epci(e)) => epci(e).is_some_and(|e| e.regions.iter().any(|x| x == r)),
        (Region(r), Commune(c)) => commune(c).is_some_and(|c| c.region == r),
        (Department(a), Department(b)) => a == b,
        (Department(d), Epci(e)) => epci(e).is_some_and(|e| e.departments.iter().any(|x| x == d)),
        (Department(d), Commune(c)) => commune(c).is_some_and(|c| c.department == d),
        (Epci(a), Epci(b)) => a == b,
        (Epci(e), Commune(c)) => commune(c).is_some_and(|c| c.epci == Some(e.as_str())),
        (Commune(a), Commune(b)) => a == b,
        (Department(_) | Epci(_) | Commune(_), Region(_))
        | (Epci(_) | Commune(_), Department(_))
        | (Commune(_), Epci(_)) => false,
    }
}

// ---------------------------------------------------------------------------
// Labels

/// Canonical form of a label for look-ups: ASCII, lowercase, words of
/// letters and digits separated by one space, `st`/`ste` spelled out, and
/// EPCI kinds contracted (`communauté d'agglomération` → `ca`).
fn canonical(s: &str) -> String {
    let ascii = deunicode::deunicode(s).to_ascii_lowercase();
    let mut out = String::with_capacity(ascii.len());
    for word in ascii
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(match word {
            "st" => "saint",
            "ste" => "sainte",
            w => w,
        });
    }
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
struct Labels {
    places: HashMap<String, Vec<Perimeter>>,
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

static LABELS: LazyLock<Labels> = LazyLock::new(|| {
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
    Some(match text {
        "france"
        | "national"
        | "nationale"
        | "france entiere"
        | "toute la france"
        | "territoire national"
        | "niveau national"
        | "france metropolitaine"
        | "metropole"
        | "hexagone"
        | "france hexagonale" => Some(Perimeter::France),
        "europe"
        | "ue"
        | "eu"
        | "europe ue"
        | "union europeenne"
        | "union europeenne ue"
        | "european union" => Some(Perimeter::Europe),
        "outre mer"
        | "outremer"
        | "outre mer francais"
        | "dom"
        | "drom"
        | "dom tom"
        | "drom com"
        | "territoires ultramarins"
        | "ultramarin"
        | "collectivites d outre mer" => None,
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
    ("commune ", Level::Commune),
    ("ville ", Level::Commune),
    ("mairie ", Level::Commune),
];
const ARTICLES: &[&str] = &["de la ", "de l ", "du ", "des ", "de ", "d "];

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
///   part of a current region.
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
    None
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
    match found.as_slice() {
        [] => None,
        [p] => Some(p.clone()),
        // An overseas region and its only department share their name.
        [a, b] => match (a, b) {
            (Perimeter::Region(r), Perimeter::Department(d))
            | (Perimeter::Department(d), Perimeter::Region(r))
                if t.region(r)
                    .is_some_and(|r| r.departments.as_slice() == [d.as_str()]) =>
            {
                Some(Perimeter::Region(r.clone()))
            }
            _ => None,
        },
        _ => None,
    }
}

#[cfg(test)]
mod tests;
