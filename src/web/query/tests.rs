use super::*;
use proptest::prelude::*;

fn parse(raw: &str) -> Result<SearchQuery, QueryError> {
    SearchQuery::parse(raw, &[]).map(|p| p.query)
}

#[test]
fn an_empty_query_is_the_open_and_upcoming_catalogue() {
    let q = parse("").unwrap();
    assert_eq!(q, SearchQuery::default());
    let f = q.to_filter();
    assert_eq!(f.status, vec![Status::Open, Status::Upcoming]);
    assert!(
        f.public_only,
        "the public never sees pending or rejected calls"
    );
    assert_eq!(q.to_query_string(), "");
}

#[test]
fn every_parameter_is_read_and_written_back_canonically() {
    let q = parse(
        "tri=recent&type=ami&theme=numerique,donnees&public=commune&public=epci\
         &q=archives+num%C3%A9riques&departement=35&statut=clos&cloture_apres=2027-01-01\
         &cloture_avant=2027-06-30",
    )
    .unwrap();
    assert_eq!(q.text.as_deref(), Some("archives numériques"));
    assert_eq!(q.audiences, vec![Audience::Commune, Audience::Epci]);
    assert_eq!(q.themes.len(), 2);
    assert_eq!(q.kinds, vec![CallKind::Ami]);
    assert_eq!(q.department.as_deref(), Some("35"));
    assert_eq!(q.statuses, vec![Status::Closed]);
    assert_eq!(q.order, CallOrder::Newest);
    // Fixed order, so the same search always gives the same string.
    let qs = q.to_query_string();
    assert!(
        qs.starts_with("q=archives+num%C3%A9riques&public=commune&public=epci&departement=35"),
        "{qs}"
    );
    assert!(
        qs.ends_with("statut=clos&cloture_apres=2027-01-01&cloture_avant=2027-06-30&tri=recent"),
        "{qs}"
    );
    assert_eq!(
        parse(&qs).unwrap(),
        q,
        "the canonical string parses back to the same search"
    );
}

#[test]
fn a_commune_brings_its_whole_hierarchy_like_the_digests() {
    let q = parse("commune=Rennes").unwrap();
    assert_eq!(q.commune.as_deref(), Some("35238"));
    let perimeters = q.to_filter().perimeters;
    for p in ["commune:35238", "department:35", "region:53", "france"] {
        assert!(
            perimeters.iter().any(|x| x.to_string() == p),
            "{p} missing from {perimeters:?}"
        );
    }
    // By INSEE code, and an accent- and case-insensitive name.
    assert_eq!(
        parse("commune=35238").unwrap().commune.as_deref(),
        Some("35238")
    );
    assert_eq!(
        parse("commune=saint-malo").unwrap().commune.as_deref(),
        Some("35288")
    );
}

#[test]
fn an_ambiguous_commune_name_asks_for_the_department() {
    let e = parse("commune=Saint-Denis").unwrap_err();
    assert_eq!(e.parameter, "commune");
    assert!(e.message.contains("précisez le département"), "{e}");
    assert!(
        e.accepted.len() > 1,
        "the candidates are listed: {:?}",
        e.accepted
    );
    let q = parse("commune=Saint-Denis&departement=93").unwrap();
    assert_eq!(q.commune.as_deref(), Some("93066"));
}

#[test]
fn bad_parameters_are_named_with_what_is_accepted() {
    let cases = [
        ("foo=1", "foo", "paramètre inconnu"),
        ("theme=jardinage", "theme", "valeur inconnue"),
        ("public=martiens", "public", "valeur inconnue"),
        ("statut=ferme", "statut", "statut inconnu"),
        ("region=99", "region", "région inconnue"),
        ("departement=00", "departement", "département inconnu"),
        ("commune=Atlantide", "commune", "commune inconnue"),
        ("cloture_apres=31/03/2027", "cloture_apres", "date invalide"),
        (
            "cloture_apres=2027-05-01&cloture_avant=2027-04-01",
            "cloture_avant",
            "précède",
        ),
        ("tri=hasard", "tri", "tri inconnu"),
        ("q=%22%28%29*", "q", "aucun mot"),
        ("region=53&region=52", "region", "plusieurs fois"),
    ];
    for (raw, param, words) in cases {
        let e = parse(raw).unwrap_err();
        assert_eq!(e.parameter, param, "{raw}: {e}");
        assert!(e.message.contains(words), "{raw}: {e}");
    }
    let e = parse("theme=jardinage").unwrap_err();
    assert!(
        e.accepted.iter().any(|a| a == "numerique"),
        "{:?}",
        e.accepted
    );
    let e = parse("statut=ferme").unwrap_err();
    assert!(e.accepted.iter().any(|a| a == "tous"), "{:?}", e.accepted);
}

#[test]
fn the_callers_own_parameters_come_back_and_are_not_unknown() {
    let p = SearchQuery::parse("page=3&theme=numerique", &["page"]).unwrap();
    assert_eq!(p.extra.get("page").map(String::as_str), Some("3"));
    assert!(SearchQuery::parse("page=3", &[]).is_err());
    let e = SearchQuery::parse("page=3&page=4", &["page"]).unwrap_err();
    assert_eq!(e.parameter, "page");
}

#[test]
fn tous_gives_every_status_and_empty_form_fields_are_ignored() {
    let q = parse("statut=tous&q=&region=&theme=").unwrap();
    assert_eq!(q.effective_statuses().len(), 3);
    assert_eq!(q.text, None);
    assert_eq!(
        q.to_query_string(),
        "statut=ouvert&statut=a_venir&statut=clos"
    );
}

#[test]
fn the_deadline_window_is_whole_paris_days() {
    let f = parse("cloture_apres=2027-03-31&cloture_avant=2027-07-14")
        .unwrap()
        .to_filter();
    // 31 March 2027 00:00 in Paris is 30 March 22:00 UTC (summer time).
    assert_eq!(
        f.deadline_after.unwrap().to_rfc3339(),
        "2027-03-30T22:00:00+00:00"
    );
    assert_eq!(
        f.deadline_before.unwrap().to_rfc3339(),
        "2027-07-14T21:59:59+00:00"
    );
}

#[test]
fn an_overlong_text_is_refused() {
    let raw = format!("q={}", "a".repeat(MAX_TEXT_CHARS + 1));
    assert_eq!(parse(&raw).unwrap_err().parameter, "q");
}

proptest! {
    /// Any query string either parses or gives an error naming a
    /// parameter; it never panics, and what parses writes back to a
    /// string that parses to the same search.
    #[test]
    fn any_query_string_parses_or_names_a_parameter(raw in "[a-z_=&%0-9A-F,+é ]{0,80}") {
        match parse(&raw) {
            Ok(q) => prop_assert_eq!(parse(&q.to_query_string()).unwrap(), q),
            Err(e) => prop_assert!(!e.parameter.is_empty()),
        }
    }
}
