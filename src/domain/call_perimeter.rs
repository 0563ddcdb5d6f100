//! Where a call applies: one or several territories, or a label that no
//! map and no reference name could resolve yet.
//!
//! A call may target several territories ("Bretagne, Pays de la Loire",
//! "Hauts-de-France et Normandie"), so its perimeter is a set: a subscriber
//! fits when it lies in *any* member. A label nobody resolved is kept, as
//! written, in its own variant: it is neither an empty set (which would
//! silently mean "nowhere") nor the source's default (which widened a call
//! for "Région Occitanie" to all of France). Such a call stays out of
//! digests until a curator sets its perimeter.
//!
//! Text form (the `calls.perimeter` column, JSON, the CLI): the members'
//! text forms joined by commas, sorted (`region:52,region:53`), so a single
//! territory reads exactly as a [`Perimeter`] always did (`region:76`);
//! `unresolved:LABEL` for a label waiting for a curator.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::{InvalidPerimeter, Perimeter};

/// One or more territories, sorted, without repeats. Never empty: an empty
/// set cannot be built, so it cannot stand for "nowhere" or "everywhere".
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PerimeterSet(Vec<Perimeter>);

impl PerimeterSet {
    /// The set of `members`; `None` when there is none.
    pub fn new(members: impl IntoIterator<Item = Perimeter>) -> Option<PerimeterSet> {
        let mut v: Vec<Perimeter> = members.into_iter().collect();
        v.sort();
        v.dedup();
        (!v.is_empty()).then_some(PerimeterSet(v))
    }

    /// The set of one territory.
    pub fn one(p: Perimeter) -> PerimeterSet {
        PerimeterSet(vec![p])
    }

    /// The members, sorted.
    pub fn members(&self) -> &[Perimeter] {
        &self.0
    }

    /// The time zone its members share ([`Perimeter::time_zone`]);
    /// Europe/Paris when they do not share one.
    pub fn time_zone(&self) -> chrono_tz::Tz {
        let mut zones = self.0.iter().map(Perimeter::time_zone);
        let first = zones.next().unwrap_or(chrono_tz::Europe::Paris);
        if zones.all(|z| z == first) {
            first
        } else {
            chrono_tz::Europe::Paris
        }
    }
}

/// The longest unresolved label kept, in characters (labels are scraped).
pub const MAX_LABEL_CHARS: usize = 200;

/// A perimeter label as the source wrote it, that nothing resolved:
/// non-empty, one line, at most [`MAX_LABEL_CHARS`] characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UnresolvedLabel(String);

impl UnresolvedLabel {
    /// The label with its whitespace collapsed and cut to
    /// [`MAX_LABEL_CHARS`]; `None` when nothing is left.
    pub fn new(label: &str) -> Option<UnresolvedLabel> {
        let one_line: String = label
            .split(|c: char| c.is_whitespace() || c.is_control())
            .filter(|w| !w.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        let cut: String = one_line.chars().take(MAX_LABEL_CHARS).collect();
        // A cut that ends on a space keeps no trailing space: the text form
        // is read back trimmed.
        let cut = cut.trim_end();
        (!cut.is_empty()).then(|| UnresolvedLabel(cut.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Where a call applies.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CallPerimeter {
    /// The call applies within each of these territories.
    Within(PerimeterSet),
    /// The source's label could not be resolved: the call reaches no
    /// subscriber until a curator sets its perimeter.
    Unresolved(UnresolvedLabel),
}

const UNRESOLVED: &str = "unresolved:";

impl CallPerimeter {
    /// The territories, or `None` while unresolved.
    pub fn members(&self) -> Option<&[Perimeter]> {
        match self {
            CallPerimeter::Within(set) => Some(set.members()),
            CallPerimeter::Unresolved(_) => None,
        }
    }

    pub fn is_resolved(&self) -> bool {
        matches!(self, CallPerimeter::Within(_))
    }

    /// Whether any member satisfies `f`; false while unresolved.
    pub fn any(&self, f: impl FnMut(&Perimeter) -> bool) -> bool {
        self.members().is_some_and(|m| m.iter().any(f))
    }
}

impl From<Perimeter> for CallPerimeter {
    fn from(p: Perimeter) -> Self {
        CallPerimeter::Within(PerimeterSet::one(p))
    }
}

impl From<PerimeterSet> for CallPerimeter {
    fn from(s: PerimeterSet) -> Self {
        CallPerimeter::Within(s)
    }
}

/// A call perimeter text that is not one of the accepted forms.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidCallPerimeter {
    #[error(
        "empty perimeter: expected one or more perimeters separated by commas (`region:53,region:52`)"
    )]
    Empty,
    #[error("`unresolved:` without a label")]
    EmptyLabel,
    #[error("in `{text}`: {member}")]
    Member {
        text: String,
        member: InvalidPerimeter,
    },
}

impl FromStr for CallPerimeter {
    type Err = InvalidCallPerimeter;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        if let Some(label) = t
            .get(..UNRESOLVED.len())
            .filter(|p| p.eq_ignore_ascii_case(UNRESOLVED))
            .map(|_| &t[UNRESOLVED.len()..])
        {
            return UnresolvedLabel::new(label)
                .map(CallPerimeter::Unresolved)
                .ok_or(InvalidCallPerimeter::EmptyLabel);
        }
        t.parse::<PerimeterSet>().map(CallPerimeter::Within)
    }
}

/// `region:53,region:52`: one or more perimeters separated by commas.
impl FromStr for PerimeterSet {
    type Err = InvalidCallPerimeter;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        if t.is_empty() {
            return Err(InvalidCallPerimeter::Empty);
        }
        let members = t
            .split(',')
            .map(|m| {
                m.parse::<Perimeter>()
                    .map_err(|member| InvalidCallPerimeter::Member {
                        text: s.to_string(),
                        member,
                    })
            })
            .collect::<Result<Vec<_>, _>>()?;
        PerimeterSet::new(members).ok_or(InvalidCallPerimeter::Empty)
    }
}

impl fmt::Display for PerimeterSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.members().iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{p}")?;
        }
        Ok(())
    }
}

impl fmt::Display for CallPerimeter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CallPerimeter::Within(set) => write!(f, "{set}"),
            CallPerimeter::Unresolved(label) => write!(f, "{UNRESOLVED}{}", label.as_str()),
        }
    }
}

impl Serialize for CallPerimeter {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for CallPerimeter {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn overseas_territories_have_their_own_time_zone() {
        let zone = |text: &str| {
            text.parse::<CallPerimeter>()
                .unwrap()
                .members()
                .map(|m| PerimeterSet::new(m.iter().cloned()).unwrap().time_zone())
                .unwrap()
                .name()
        };
        assert_eq!(zone("region:03"), "America/Cayenne");
        assert_eq!(zone("department:973"), "America/Cayenne");
        assert_eq!(zone("commune:97302"), "America/Cayenne");
        assert_eq!(zone("department:974"), "Indian/Reunion");
        assert_eq!(zone("region:06,department:976"), "Indian/Mayotte");
        assert_eq!(zone("region:01"), "America/Guadeloupe");
        assert_eq!(zone("department:972"), "America/Martinique");
        // Mainland, national, an EPCI, and overseas territories that do not
        // share a zone: Europe/Paris.
        for paris in [
            "region:84",
            "department:2A",
            "france",
            "epci:200054781",
            "region:03,region:04",
        ] {
            assert_eq!(zone(paris), "Europe/Paris", "{paris}");
        }
    }

    #[test]
    fn a_single_perimeter_keeps_its_stored_text_form() {
        for text in [
            "europe",
            "france",
            "region:76",
            "department:2A",
            "commune:95127",
        ] {
            let p: CallPerimeter = text.parse().unwrap();
            assert_eq!(p.to_string(), text);
            assert_eq!(p, CallPerimeter::from(text.parse::<Perimeter>().unwrap()));
        }
    }

    #[test]
    fn a_set_is_sorted_and_without_repeats() {
        let p: CallPerimeter = " region:53 , region:52,region:53".parse().unwrap();
        assert_eq!(p.to_string(), "region:52,region:53");
        assert_eq!(p.members().map(<[_]>::len), Some(2));
    }

    #[test]
    fn unresolved_keeps_its_label_and_matches_nothing() {
        let p: CallPerimeter = "unresolved:Région Occitanie, Pays basque".parse().unwrap();
        assert_eq!(p.to_string(), "unresolved:Région Occitanie, Pays basque");
        assert!(!p.is_resolved());
        assert!(!p.any(|_| true));
    }

    #[test]
    fn a_label_cut_on_a_space_round_trips() {
        let label = format!("{} suite", "a".repeat(MAX_LABEL_CHARS - 1));
        let cut = UnresolvedLabel::new(&label).unwrap();
        assert_eq!(cut.as_str(), "a".repeat(MAX_LABEL_CHARS - 1));
        let p = CallPerimeter::Unresolved(cut);
        assert_eq!(p.to_string().parse::<CallPerimeter>().unwrap(), p);
    }

    #[test]
    fn a_corrupt_value_is_an_error_naming_the_bad_member() {
        for bad in [
            "",
            " ",
            "region:76,",
            "region:76,paris",
            "unresolved:",
            "unresolved:  ",
        ] {
            assert!(bad.parse::<CallPerimeter>().is_err(), "{bad:?}");
        }
        let err = "region:76,department:2C"
            .parse::<CallPerimeter>()
            .unwrap_err();
        assert!(err.to_string().contains("department:2C"), "{err}");
    }

    fn perimeter() -> impl Strategy<Value = Perimeter> {
        prop_oneof![
            Just(Perimeter::Europe),
            Just(Perimeter::France),
            "[0-9]{2}".prop_map(Perimeter::Region),
            prop_oneof!["[0-9]{2}", Just("2A".to_string()), "97[0-9]"]
                .prop_map(Perimeter::Department),
            "[0-9]{9}".prop_map(Perimeter::Epci),
            "[0-9]{5}".prop_map(Perimeter::Commune),
        ]
    }

    fn call_perimeter() -> impl Strategy<Value = CallPerimeter> {
        prop_oneof![
            prop::collection::vec(perimeter(), 1..5)
                .prop_filter_map("non-empty", |v| PerimeterSet::new(v)
                    .map(CallPerimeter::Within)),
            "\\PC{1,250}".prop_filter_map("a label", |l| UnresolvedLabel::new(&l)
                .map(CallPerimeter::Unresolved)),
        ]
    }

    proptest! {
        #[test]
        fn text_and_json_forms_round_trip(p in call_perimeter()) {
            let text = p.to_string();
            prop_assert_eq!(&text.parse::<CallPerimeter>().unwrap(), &p);
            let json = serde_json::to_string(&p).unwrap();
            prop_assert_eq!(serde_json::from_str::<CallPerimeter>(&json).unwrap(), p);
        }

        #[test]
        fn parsing_any_text_never_panics(text in "\\PC{0,80}") {
            if let Ok(p) = text.parse::<CallPerimeter>() {
                // Whatever parses prints to a text that parses to the same.
                prop_assert_eq!(p.to_string().parse::<CallPerimeter>().unwrap(), p);
            }
        }
    }
}
