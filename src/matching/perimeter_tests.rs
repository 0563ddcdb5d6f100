//! The perimeter rule of matching with perimeter sets: a subscriber fits a
//! set when it fits one of its members, and an unresolved perimeter fits
//! nobody.

use proptest::prelude::*;

use super::*;
use crate::domain::{PerimeterSet, UnresolvedLabel};
use crate::subscribers::{EmailAddress, Frequency, Profile};

fn profile(territory: Perimeter) -> Profile {
    Profile {
        email: EmailAddress::parse("mairie@example.fr").unwrap(),
        name: "Mairie".into(),
        audience: Audience::Commune,
        territory,
        themes: Vec::new(),
        keywords: Vec::new(),
        frequency: Frequency::Daily,
    }
}

fn call(p: impl Into<CallPerimeter>) -> CallFacts {
    CallFacts::new(1, Status::Open, Vec::new(), p, Vec::new(), "Appel")
}

fn set(items: &[&str]) -> CallPerimeter {
    PerimeterSet::new(items.iter().map(|p| p.parse::<Perimeter>().unwrap()))
        .unwrap()
        .into()
}

#[test]
fn a_subscriber_in_any_member_fits_a_set() {
    // Toulouse (31555) lies in Occitanie (76), not in Brittany (53).
    let toulouse = Matcher::for_profile(&profile(Perimeter::Commune("31555".into())));
    assert!(toulouse.fits(&call(set(&["region:53", "region:76"]))));
    assert!(toulouse.fits(&call(set(&["department:29", "department:31"]))));
    assert_eq!(
        toulouse.check(&call(set(&["region:53", "region:52"]))),
        Err(reason::PERIMETER)
    );
}

#[test]
fn an_unresolved_perimeter_fits_nobody_and_says_why() {
    let label = UnresolvedLabel::new("Région Occitanie et Pays basque").unwrap();
    let c = call(CallPerimeter::Unresolved(label));
    for territory in [Perimeter::France, Perimeter::Commune("31555".into())] {
        let m = Matcher::for_profile(&profile(territory));
        assert_eq!(m.check(&c), Err(reason::PERIMETER_UNRESOLVED));
    }
}

fn perimeter() -> impl Strategy<Value = Perimeter> {
    let regions: Vec<&str> = crate::territory::regions().iter().map(|r| r.code).collect();
    let departments: Vec<&str> = crate::territory::departments()
        .iter()
        .map(|d| d.code)
        .collect();
    let communes: Vec<&str> = [
        "31555", "95127", "29019", "35238", "59350", "97411", "2A004",
    ]
    .to_vec();
    prop_oneof![
        Just(Perimeter::Europe),
        Just(Perimeter::France),
        prop::sample::select(regions).prop_map(|c| Perimeter::Region(c.into())),
        prop::sample::select(departments).prop_map(|c| Perimeter::Department(c.into())),
        prop::sample::select(communes).prop_map(|c| Perimeter::Commune(c.into())),
    ]
}

proptest! {
    #[test]
    fn a_subscriber_fits_a_set_iff_it_fits_some_member(
        members in prop::collection::vec(perimeter(), 1..5),
        territory in perimeter(),
    ) {
        let m = Matcher::for_profile(&profile(territory));
        let whole = m.fits(&call(PerimeterSet::new(members.clone()).unwrap()));
        let some = members.iter().any(|p| m.fits(&call(p.clone())));
        prop_assert_eq!(whole, some);
    }
}
