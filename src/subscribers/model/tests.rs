//! Tests of `model`.

use super::*;

#[test]
fn emails_are_trimmed_and_their_domain_lowercased() {
    let e = EmailAddress::parse("  Jean.Dupont@Mairie-Cergy.FR ").unwrap();
    assert_eq!(e.as_str(), "Jean.Dupont@mairie-cergy.fr");
}

#[test]
fn bad_emails_say_why() {
    for (bad, why) in [
        ("", "empty"),
        ("mairie.fr", "no `@`"),
        ("a@b@c.fr", "more than one"),
        ("jean dupont@a.fr", "space"),
        ("jean@localhost", "domain"),
        ("jean@a..fr", "domain"),
        ("@a.fr", "before `@`"),
        ("a\u{7}@a.fr", "control"),
    ] {
        let err = EmailAddress::parse(bad).unwrap_err();
        assert_eq!(err.field, "email");
        assert!(err.message.contains(why), "{bad}: {err}");
    }
    let long = format!("{}@a.fr", "x".repeat(260));
    assert!(EmailAddress::parse(&long).is_err());
}

#[test]
fn weekdays_are_read_in_french_english_or_iso_numbers() {
    assert_eq!(parse_weekday("Lundi").unwrap(), Weekday::Mon);
    assert_eq!(parse_weekday("sunday").unwrap(), Weekday::Sun);
    assert_eq!(parse_weekday("5").unwrap(), Weekday::Fri);
    assert!(parse_weekday("8").is_err());
    assert!(parse_weekday("lun").is_err());
    assert_eq!(weekday_code(Weekday::Wed), "wednesday");
}

#[test]
fn frequency_defaults_to_daily_and_weekly_needs_a_day() {
    assert_eq!(Frequency::parse("", None).unwrap(), Frequency::Daily);
    assert_eq!(
        Frequency::parse("hebdomadaire", Some("mardi")).unwrap(),
        Frequency::Weekly(Weekday::Tue)
    );
    assert_eq!(
        Frequency::parse("weekly", None).unwrap_err().field,
        "weekday"
    );
    assert_eq!(
        Frequency::parse("daily", Some("1")).unwrap_err().field,
        "weekday"
    );
    assert_eq!(
        Frequency::parse("monthly", None).unwrap_err().field,
        "frequency"
    );
}

#[test]
fn territories_accept_codes_forms_and_labels() {
    let c = Audience::Commune;
    assert_eq!(
        parse_territory("commune:95127", c).unwrap(),
        Perimeter::Commune("95127".into())
    );
    assert_eq!(
        parse_territory("95127", c).unwrap(),
        Perimeter::Commune("95127".into())
    );
    assert_eq!(
        parse_territory("95", Audience::Department).unwrap(),
        Perimeter::Department("95".into())
    );
    assert_eq!(
        parse_territory("11", Audience::Region).unwrap(),
        Perimeter::Region("11".into())
    );
    assert_eq!(
        parse_territory("Val-d'Oise", c).unwrap(),
        Perimeter::Department("95".into())
    );
}

#[test]
fn unknown_territories_are_named_with_a_suggestion() {
    let err = parse_territory("commune:95999", Audience::Commune).unwrap_err();
    assert_eq!(err.field, "territory");
    assert!(err.message.contains("unknown commune INSEE code"), "{err}");
    let err = parse_territory("region:99", Audience::Region).unwrap_err();
    assert!(err.message.contains("region"), "{err}");
    let err = parse_territory("nowhere-land", Audience::Commune).unwrap_err();
    assert!(err.message.contains("commune:95127"), "{err}");
}

#[test]
fn keywords_allow_one_trailing_star() {
    assert_eq!(parse_keyword(" archiv* ").unwrap(), "archiv*");
    assert!(parse_keyword("ar*chiv").is_err());
    assert!(parse_keyword("***").is_err());
    assert!(parse_keyword("a|b").is_err());
    assert_eq!(
        parse_keywords(["Tiers-lieu", "tiers-lieu", " "]).unwrap(),
        vec!["Tiers-lieu".to_string()]
    );
}

#[test]
fn tokens_are_random_and_only_their_hash_is_kept() {
    let a = new_token().unwrap();
    let b = new_token().unwrap();
    assert_eq!(a.len(), 64);
    assert_ne!(a, b);
    assert_eq!(token_hash(&a), token_hash(&a));
    assert_ne!(token_hash(&a), a);
}

proptest::proptest! {
    /// The stored form reads back only as what wrote it: any other pair of
    /// columns is an error (never a default), and no input panics.
    #[test]
    fn stored_frequencies_read_back_exactly_or_not_at_all(
        code in "daily|weekly|hourly|Daily|\\PC{0,8}",
        weekday in proptest::option::of("monday|sunday|lundi|Monday|1|\\PC{0,8}"),
    ) {
        match Frequency::from_stored(&code, weekday.as_deref()) {
            Ok(f) => {
                proptest::prop_assert_eq!(f.code(), code.as_str());
                proptest::prop_assert_eq!(f.weekday().map(weekday_code), weekday.as_deref());
            }
            Err(e) => proptest::prop_assert!(!e.is_empty()),
        }
    }
}
