//! The matching rules as a table, then keyword details and a scale check.

use chrono::{TimeZone, Utc};

use super::*;
use crate::subscribers::{EmailAddress, Frequency, SubscriberStatus};

const CERGY: &str = "95127";
const CERGY_EPCI: &str = "249500109";

fn subscriber(edit: impl FnOnce(&mut Profile)) -> Subscriber {
    let mut profile = Profile {
        email: EmailAddress::parse("mairie@cergy.fr").unwrap(),
        name: "Mairie de Cergy".into(),
        audience: Audience::Commune,
        territory: Perimeter::Commune(CERGY.into()),
        themes: vec![],
        keywords: vec![],
        frequency: Frequency::Daily,
    };
    edit(&mut profile);
    Subscriber {
        id: 1,
        profile,
        status: SubscriberStatus::Active,
        created_at: Utc.with_ymd_and_hms(2027, 1, 1, 0, 0, 0).unwrap(),
        confirmed_at: None,
        bounce_count: 0,
        last_digest_at: None,
        paused_since: None,
    }
}

fn call(edit: impl FnOnce(&mut Draft)) -> CallFacts {
    let mut d = Draft {
        visible: true,
        status: Status::Open,
        audiences: vec![Audience::Commune, Audience::Epci],
        perimeter: Perimeter::France,
        themes: vec![Theme::Numerique],
        text: "Appel à projets Numérique en territoires — Agence nationale".into(),
    };
    edit(&mut d);
    CallFacts::new(1, d.status, d.audiences, d.perimeter, d.themes, &d.text).with_visible(d.visible)
}

struct Draft {
    visible: bool,
    status: Status,
    audiences: Vec<Audience>,
    perimeter: Perimeter,
    themes: Vec<Theme>,
    text: String,
}

fn dep(c: &str) -> Perimeter {
    Perimeter::Department(c.into())
}

#[test]
fn the_rules_as_a_table() {
    use reason::*;
    type Row = (
        &'static str,
        Box<dyn Fn(&mut Draft)>,
        Box<dyn Fn(&mut Profile)>,
        Option<&'static str>,
    );
    let same = || -> Box<dyn Fn(&mut Profile)> { Box::new(|_| {}) };
    let rows: Vec<Row> = vec![
        ("national call", Box::new(|_| {}), same(), None),
        (
            "call for Val-d'Oise (95)",
            Box::new(|d| d.perimeter = dep("95")),
            same(),
            None,
        ),
        (
            "call for Île-de-France (region 11)",
            Box::new(|d| d.perimeter = Perimeter::Region("11".into())),
            same(),
            None,
        ),
        (
            "call for Europe",
            Box::new(|d| d.perimeter = Perimeter::Europe),
            same(),
            None,
        ),
        (
            "call for the commune's EPCI",
            Box::new(|d| d.perimeter = Perimeter::Epci(CERGY_EPCI.into())),
            same(),
            None,
        ),
        (
            "call for the commune itself",
            Box::new(|d| d.perimeter = Perimeter::Commune(CERGY.into())),
            same(),
            None,
        ),
        (
            "call for Yvelines (78)",
            Box::new(|d| d.perimeter = dep("78")),
            same(),
            Some(PERIMETER),
        ),
        (
            "call for another region (76)",
            Box::new(|d| d.perimeter = Perimeter::Region("76".into())),
            same(),
            Some(PERIMETER),
        ),
        (
            "call for another commune of the same EPCI (Pontoise)",
            Box::new(|d| d.perimeter = Perimeter::Commune("95500".into())),
            same(),
            Some(PERIMETER),
        ),
        (
            "call for a commune does not reach its department's subscriber",
            Box::new(|d| {
                d.perimeter = Perimeter::Commune(CERGY.into());
                d.audiences = vec![];
            }),
            Box::new(|p| {
                p.audience = Audience::Department;
                p.territory = dep("95");
            }),
            Some(PERIMETER),
        ),
        (
            "a department subscriber gets its region's calls",
            Box::new(|d| {
                d.perimeter = Perimeter::Region("11".into());
                d.audiences = vec![Audience::Department];
            }),
            Box::new(|p| {
                p.audience = Audience::Department;
                p.territory = dep("95");
            }),
            None,
        ),
        (
            "audience mismatch",
            Box::new(|d| d.audiences = vec![Audience::Region, Audience::Association]),
            same(),
            Some(AUDIENCE),
        ),
        (
            "empty audiences fit everyone",
            Box::new(|d| d.audiences = vec![]),
            same(),
            None,
        ),
        (
            "chosen theme shared",
            Box::new(|d| d.themes = vec![Theme::Archives, Theme::Numerique]),
            Box::new(|p| p.themes = vec![Theme::Numerique]),
            None,
        ),
        (
            "chosen theme not shared",
            Box::new(|d| d.themes = vec![Theme::Culture]),
            Box::new(|p| p.themes = vec![Theme::Numerique, Theme::Donnees]),
            Some(THEME),
        ),
        (
            "no theme chosen: any theme",
            Box::new(|d| d.themes = vec![Theme::Culture]),
            same(),
            None,
        ),
        (
            "call without themes vs chosen themes",
            Box::new(|d| d.themes = vec![]),
            Box::new(|p| p.themes = vec![Theme::Numerique]),
            Some(THEME),
        ),
        (
            "keyword without accent finds accented text",
            Box::new(|_| {}),
            Box::new(|p| p.keywords = vec!["numerique".into()]),
            None,
        ),
        (
            "keyword with accents and capitals",
            Box::new(|d| d.text = "Inclusion numerique des seniors".into()),
            Box::new(|p| p.keywords = vec!["NUMÉRIQUE".into()]),
            None,
        ),
        (
            "keyword is a whole word",
            Box::new(|d| d.text = "Services numériques".into()),
            Box::new(|p| p.keywords = vec!["numérique".into()]),
            Some(KEYWORD),
        ),
        (
            "keyword with * is a prefix",
            Box::new(|d| d.text = "Services numériques".into()),
            Box::new(|p| p.keywords = vec!["numériq*".into()]),
            None,
        ),
        (
            "any one keyword is enough",
            Box::new(|_| {}),
            Box::new(|p| p.keywords = vec!["archives".into(), "territoires".into()]),
            None,
        ),
        (
            "several words must follow each other",
            Box::new(|d| d.text = "Créer un tiers-lieu numérique".into()),
            Box::new(|p| p.keywords = vec!["tiers lieu".into()]),
            None,
        ),
        (
            "several words apart do not match",
            Box::new(|d| d.text = "Un lieu pour le tiers secteur".into()),
            Box::new(|p| p.keywords = vec!["tiers lieu".into()]),
            Some(KEYWORD),
        ),
        (
            "closed call",
            Box::new(|d| d.status = Status::Closed),
            same(),
            Some(CLOSED),
        ),
        (
            "upcoming call",
            Box::new(|d| d.status = Status::Upcoming),
            same(),
            None,
        ),
        (
            "invisible call",
            Box::new(|d| d.visible = false),
            same(),
            Some(HIDDEN),
        ),
        (
            "the first failing rule is reported",
            Box::new(|d| {
                d.status = Status::Closed;
                d.perimeter = dep("78");
            }),
            same(),
            Some(CLOSED),
        ),
    ];
    assert!(rows.len() >= 20);
    for (what, c, s, expected) in rows {
        let c = call(|d| c(d));
        let s = subscriber(|p| s(p));
        assert_eq!(why_not(&c, &s), expected, "{what}");
        assert_eq!(fits(&c, &s), expected.is_none(), "{what}");
        assert_eq!(Matcher::new(&s).fits(&c), expected.is_none(), "{what}");
    }
}

#[test]
fn call_facts_come_from_a_stored_call() {
    let fixed = chrono::FixedOffset::east_opt(3600).unwrap();
    let t = fixed.with_ymd_and_hms(2027, 1, 1, 0, 0, 0).unwrap();
    let record = CallRecord {
        id: 7,
        title: "Archivage électronique".into(),
        summary_html: String::new(),
        summary_text: "Pour les collectivités".into(),
        funder: Some("SIAF".into()),
        kind: crate::domain::CallKind::Aap,
        url: None,
        audiences: vec![Audience::Commune],
        perimeter: Perimeter::France.into(),
        themes: vec![Theme::Archives],
        opens_on: None,
        deadline: None,
        deadlines: vec![],
        recurrence: crate::domain::Recurrence::Oneoff,
        status: Status::Open,
        published: None,
        first_seen: t,
        updated: t,
        last_seen: t,
        sources: vec![],
        review: "approved".into(),
        unlisted: false,
        last_listed: None,
    };
    let facts = CallFacts::from_record(&record);
    assert_eq!(facts.id, 7);
    assert!(facts.visible);
    let pending = CallRecord {
        review: "pending".into(),
        ..record.clone()
    };
    assert!(
        !CallFacts::from_record(&pending).visible,
        "calls waiting for review reach nobody"
    );
    assert_eq!(
        facts.folded_text,
        "archivage electronique pour les collectivites siaf"
    );
    let s = subscriber(|p| p.keywords = vec!["siaf".into(), "archiv*".into()]);
    assert!(fits(&facts, &s));
}

#[test]
fn phrases_respect_word_boundaries() {
    assert!(contains_phrase("un tiers lieu ici", "tiers lieu", false));
    assert!(!contains_phrase("un tiers lieux ici", "tiers lieu", false));
    assert!(contains_phrase("un tiers lieux ici", "tiers lieu", true));
    assert!(!contains_phrase("untiers lieu", "tiers lieu", false));
    assert!(contains_phrase("tiers lieu", "tiers lieu", false));
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]

    /// The bit sets computed once per run give the rule's own answer, for
    /// keywords indexed or not, and whatever the other rules say.
    #[test]
    fn keyword_hits_agree_with_looking_keywords_up(
        texts in proptest::collection::vec("(tiers|lieu|lieux|numérique|numeriques|eau|potable|vélo|-| ){0,12}", 1..40),
        keywords in proptest::collection::vec("(tiers lieu\\*?|numeri\\*|numérique|eau potable|vélo\\*?|\\*| )", 0..4),
        indexed in proptest::collection::vec("(tiers lieu\\*?|numeri\\*|numérique|eau potable|vélo\\*?)", 0..4),
        themed in proptest::bool::ANY,
    ) {
        let calls: Vec<CallFacts> = texts
            .iter()
            .enumerate()
            .map(|(i, t)| call(|d| {
                d.text = t.clone();
                if i % 3 == 0 {
                    d.themes = vec![];
                }
            }))
            .collect();
        let s = subscriber(|p| {
            p.keywords = keywords.clone();
            if themed {
                p.themes = vec![Theme::Numerique];
            }
        });
        let m = Matcher::new(&s);
        let hits = KeywordHits::new(&calls, indexed.iter().map(String::as_str));
        let over = m.over(&calls, &hits);
        for (i, c) in calls.iter().enumerate() {
            proptest::prop_assert_eq!(over.fits(i), m.fits(c), "call {:?}", c.folded_text);
        }
        proptest::prop_assert!(!over.fits(calls.len()));
        // Hits computed from other calls are not used.
        let other = KeywordHits::new(&calls[..calls.len() - 1], keywords.iter().map(String::as_str));
        let over = m.over(&calls, &other);
        for (i, c) in calls.iter().enumerate() {
            proptest::prop_assert_eq!(over.fits(i), m.fits(c));
        }
    }
}
