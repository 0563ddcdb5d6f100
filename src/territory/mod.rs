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
//! - [`from_label`]: a perimeter from a label as aggregators write it;
//!   [`from_label_list`]: the set of territories a label lists.
//!
//! Perimeters are expected in their canonical form (as
//! [`Perimeter::from_str`](std::str::FromStr) builds them: `2A`, not `2a`).
//! Overseas collectivities without department (975, 977, 978, 984, 986–989)
//! are not in the data: they are only reachable as `france`/`europe`.

use std::collections::HashMap;
use std::fmt;
use std::sync::LazyLock;

use crate::domain::Perimeter;

const REGIONS_TSV: &str = include_str!("../../data/territory/regions.tsv");
const DEPARTMENTS_TSV: &str = include_str!("../../data/territory/departments.tsv");
const EPCIS_TSV: &str = include_str!("../../data/territory/epcis.tsv");
const COMMUNES_TSV: &str = include_str!("../../data/territory/communes.tsv");

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

mod epci_names;
mod groups;
mod in_text;
mod label;
mod labels;
mod validate;

pub use in_text::{named_in_folded, named_in_text};
pub use label::from_label;
pub use labels::from_label_list;
pub use validate::{UnknownTerritory, validate};

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

#[cfg(test)]
mod tests;
