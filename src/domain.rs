//! The vocabulary of Vigie (see DESIGN.md): small, validated domain types
//! shared by every pipeline stage, the database and the API.
//!
//! Strings scraped from the web are parsed into these types at the edge
//! (normalize) and parsed again when read back from SQLite, so a value of one
//! of these types is always valid.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Declares a closed set of lowercase codes with `as_str`, `FromStr`,
/// `Display`, serde and an `ALL` list, so every enum below reads and writes
/// its code in exactly one way.
macro_rules! code_enum {
    ($(#[$meta:meta])* $name:ident, $what:literal { $($variant:ident => $code:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $code),+ }
            }
        }

        impl FromStr for $name {
            type Err = UnknownCode;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s.trim() {
                    $($code => Ok($name::$variant),)+
                    other => Err(UnknownCode {
                        what: $what,
                        got: other.to_string(),
                        expected: &[$($code),+],
                    }),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}
pub(crate) use code_enum;

/// French month names, lowercase, January first: what dates are parsed
/// from and written in.
pub const FRENCH_MONTHS: [&str; 12] = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
];

/// A code that is not part of a closed vocabulary.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} `{got}`: expected one of {}", expected.join(", "))]
pub struct UnknownCode {
    pub what: &'static str,
    pub got: String,
    pub expected: &'static [&'static str],
}

code_enum!(
    /// What sort of call it is.
    CallKind, "call kind" {
        Aap => "aap",
        Ami => "ami",
        AppelCandidatures => "appel_candidatures",
        Prix => "prix",
        Autre => "autre",
    }
);

code_enum!(
    /// Who may apply: the audience codes of Aides-territoires.
    Audience, "audience" {
        Commune => "commune",
        Epci => "epci",
        Department => "department",
        Region => "region",
        Special => "special",
        PublicOrg => "public_org",
        PublicCies => "public_cies",
        Association => "association",
        PrivateSector => "private_sector",
        Researcher => "researcher",
        PrivatePerson => "private_person",
        Farmer => "farmer",
    }
);

code_enum!(
    /// Whether a call happens once, comes back, or is always open.
    Recurrence, "recurrence" {
        Oneoff => "oneoff",
        Recurring => "recurring",
        Ongoing => "ongoing",
    }
);

code_enum!(
    /// Derived from the dates, never guessed.
    Status, "status" {
        Upcoming => "upcoming",
        Open => "open",
        Closed => "closed",
    }
);

code_enum!(
    /// The fixed theme taxonomy. French labels live in [`Theme::label`].
    Theme, "theme" {
        Numerique => "numerique",
        Archives => "archives",
        Connectivite => "connectivite",
        Donnees => "donnees",
        Cybersecurite => "cybersecurite",
        InclusionNumerique => "inclusion_numerique",
        Innovation => "innovation",
        Formation => "formation",
        Urbanisme => "urbanisme",
        Transition => "transition_ecologique",
        Mobilite => "mobilite",
        Culture => "culture",
        Sante => "sante",
        Education => "education",
        ServicesPublics => "services_publics",
        Economie => "developpement_economique",
    }
);

impl Theme {
    /// The French label shown to collectivities.
    pub fn label(self) -> &'static str {
        match self {
            Theme::Numerique => "Numérique",
            Theme::Archives => "Archives",
            Theme::Connectivite => "Connectivité",
            Theme::Donnees => "Données",
            Theme::Cybersecurite => "Cybersécurité",
            Theme::InclusionNumerique => "Inclusion numérique",
            Theme::Innovation => "Innovation",
            Theme::Formation => "Formation",
            Theme::Urbanisme => "Urbanisme",
            Theme::Transition => "Transition écologique",
            Theme::Mobilite => "Mobilité",
            Theme::Culture => "Culture",
            Theme::Sante => "Santé",
            Theme::Education => "Éducation",
            Theme::ServicesPublics => "Services publics",
            Theme::Economie => "Développement économique",
        }
    }
}

/// Where a call applies: `europe`, `france`, or an INSEE/SIREN code with its
/// level. Stored as the text form `europe`, `france`, `region:76`,
/// `department:95`, `epci:200054781`, `commune:95127`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Perimeter {
    Europe,
    France,
    Region(String),
    Department(String),
    Epci(String),
    Commune(String),
}

impl Perimeter {
    /// The time zone in which a funder of this territory writes its dates:
    /// the overseas regions' and departments' own (and their communes'),
    /// Europe/Paris for every other territory. An EPCI's SIREN does not
    /// say where it is: Europe/Paris.
    pub fn time_zone(&self) -> chrono_tz::Tz {
        use chrono_tz::{America, Europe, Indian};
        let code = match self {
            Perimeter::Region(c) => match c.as_str() {
                "01" => "971",
                "02" => "972",
                "03" => "973",
                "04" => "974",
                "06" => "976",
                _ => return Europe::Paris,
            },
            Perimeter::Department(c) => c.as_str(),
            Perimeter::Commune(c) => c.get(..3).unwrap_or(""),
            Perimeter::Europe | Perimeter::France | Perimeter::Epci(_) => return Europe::Paris,
        };
        match code {
            "971" => America::Guadeloupe,
            "972" => America::Martinique,
            "973" => America::Cayenne,
            "974" => Indian::Reunion,
            "975" => America::Miquelon,
            "976" => Indian::Mayotte,
            _ => Europe::Paris,
        }
    }
}

/// A perimeter text that is not one of the accepted forms.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid perimeter `{0}`: expected `europe`, `france`, `region:CODE` (2 digits), \
     `department:CODE` (e.g. 95, 2A, 971), `epci:SIREN` (9 digits) or `commune:INSEE` (5 characters)"
)]
pub struct InvalidPerimeter(pub String);

impl FromStr for Perimeter {
    type Err = InvalidPerimeter;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        let bad = || InvalidPerimeter(s.to_string());
        let lower = t.to_ascii_lowercase();
        match lower.as_str() {
            "europe" | "ue" | "eu" => return Ok(Perimeter::Europe),
            "france" | "national" | "nationale" => return Ok(Perimeter::France),
            _ => {}
        }
        let (level, code) = t.split_once(':').ok_or_else(bad)?;
        let code = code.trim().to_ascii_uppercase();
        let digits = |n: usize| code.len() == n && code.bytes().all(|b| b.is_ascii_digit());
        match level.trim().to_ascii_lowercase().as_str() {
            "region" if digits(2) => Ok(Perimeter::Region(code)),
            "department" if is_department_code(&code) => Ok(Perimeter::Department(code)),
            "epci" if digits(9) => Ok(Perimeter::Epci(code)),
            "commune" if is_commune_code(&code) => Ok(Perimeter::Commune(code)),
            _ => Err(bad()),
        }
    }
}

fn is_department_code(code: &str) -> bool {
    let b = code.as_bytes();
    match b.len() {
        2 => (b[0].is_ascii_digit() && b[1].is_ascii_digit()) || code == "2A" || code == "2B",
        3 => b.iter().all(u8::is_ascii_digit) && code.starts_with("97"),
        _ => false,
    }
}

fn is_commune_code(code: &str) -> bool {
    let b = code.as_bytes();
    b.len() == 5
        && (b.iter().all(u8::is_ascii_digit)
            || (code.starts_with("2A") || code.starts_with("2B"))
                && b[2..].iter().all(u8::is_ascii_digit))
}

impl fmt::Display for Perimeter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Perimeter::Europe => f.write_str("europe"),
            Perimeter::France => f.write_str("france"),
            Perimeter::Region(c) => write!(f, "region:{c}"),
            Perimeter::Department(c) => write!(f, "department:{c}"),
            Perimeter::Epci(c) => write!(f, "epci:{c}"),
            Perimeter::Commune(c) => write!(f, "commune:{c}"),
        }
    }
}

impl Serialize for Perimeter {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Perimeter {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

mod call_perimeter;
mod deadline;
pub use call_perimeter::{
    CallPerimeter, InvalidCallPerimeter, MAX_LABEL_CHARS, PerimeterSet, UnresolvedLabel,
};
pub use deadline::current_deadline;

/// A source identifier: lowercase ASCII letters, digits and `-`, 2 to 64
/// characters, so it is safe in file names, URLs and log lines.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct SourceId(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid source id `{0}`: expected 2 to 64 characters among a-z, 0-9 and `-`, starting with a letter"
)]
pub struct InvalidSourceId(pub String);

impl SourceId {
    pub fn parse(s: &str) -> Result<Self, InvalidSourceId> {
        let ok = (2..=64).contains(&s.len())
            && s.starts_with(|c: char| c.is_ascii_lowercase())
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if ok {
            Ok(SourceId(s.to_string()))
        } else {
            Err(InvalidSourceId(s.to_string()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SourceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for SourceId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        SourceId::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_through_text() {
        for k in CallKind::ALL {
            assert_eq!(k.as_str().parse::<CallKind>().unwrap(), *k);
        }
        for a in Audience::ALL {
            assert_eq!(a.as_str().parse::<Audience>().unwrap(), *a);
        }
        for t in Theme::ALL {
            assert_eq!(t.as_str().parse::<Theme>().unwrap(), *t);
        }
    }

    #[test]
    fn unknown_code_lists_what_is_expected() {
        let err = "communes".parse::<Audience>().unwrap_err().to_string();
        assert!(
            err.contains("`communes`") && err.contains("commune, epci"),
            "{err}"
        );
    }

    #[test]
    fn perimeters_parse_and_print() {
        for text in [
            "europe",
            "france",
            "region:76",
            "department:95",
            "department:2A",
            "department:971",
            "epci:200054781",
            "commune:95127",
            "commune:2A004",
        ] {
            let p: Perimeter = text.parse().unwrap();
            assert_eq!(p.to_string(), text);
        }
        for bad in [
            "",
            "region:7",
            "department:2C",
            "department:981x",
            "epci:12",
            "commune:1234",
            "paris",
        ] {
            assert!(
                bad.parse::<Perimeter>().is_err(),
                "{bad} should be rejected"
            );
        }
    }

    #[test]
    fn source_ids_are_restricted() {
        assert!(SourceId::parse("siaf-archives").is_ok());
        assert!(SourceId::parse("Siaf").is_err());
        assert!(SourceId::parse("a").is_err());
        assert!(SourceId::parse("../etc").is_err());
    }
}
