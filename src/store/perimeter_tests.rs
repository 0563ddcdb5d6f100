//! Unresolved and curator-set perimeters in the store: listed for
//! curators, set by them, kept by later crawls, filled by a better sighting.

use chrono::{DateTime, FixedOffset, TimeZone, Utc};

use super::*;
use crate::domain::{
    Audience, CallKind, CallPerimeter, Perimeter, PerimeterSet, Recurrence, Theme, UnresolvedLabel,
};
use crate::normalize::item::{ItemKey, NormalizedItem};

fn item(key: &str, perimeter: CallPerimeter) -> NormalizedItem {
    let deadline: DateTime<FixedOffset> = FixedOffset::east_opt(3600)
        .unwrap()
        .with_ymd_and_hms(2027, 3, 15, 12, 0, 0)
        .unwrap();
    NormalizedItem {
        key: ItemKey::Url(format!("https://a.fr/{key}")),
        title: "Numérique en Occitanie".into(),
        url: Some(format!("https://a.fr/{key}")),
        summary_html: String::new(),
        summary_text: String::new(),
        funder: Some("Région".into()),
        kind: CallKind::Aap,
        audiences: vec![Audience::Commune],
        perimeter,
        themes: vec![Theme::Numerique],
        opens_on: None,
        deadlines: vec![deadline],
        recurrence: Recurrence::Oneoff,
        published: None,
    }
}

fn unresolved(label: &str) -> CallPerimeter {
    CallPerimeter::Unresolved(UnresolvedLabel::new(label).unwrap())
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2027, 1, 10, 8, 0, 0).unwrap()
}

fn store() -> Store {
    let store = Store::open_in_memory().unwrap();
    store
        .upsert_source("reg", "Région", "html", "https://a.fr/", 0, false)
        .unwrap();
    store
}

fn waiting(store: &Store) -> Vec<i64> {
    let filter = CallFilter {
        unresolved_perimeter: true,
        ..Default::default()
    };
    store
        .list_calls(&filter, now())
        .unwrap()
        .iter()
        .map(|c| c.id)
        .collect()
}

#[test]
fn a_curator_sets_an_unresolved_perimeter_and_crawls_keep_it() {
    let mut store = store();
    let items = vec![item("a", unresolved("Région Atlantide"))];
    let id = store.ingest("reg", &items, now()).unwrap().new[0];
    let call = store.get_call(id, now()).unwrap().unwrap();
    assert_eq!(call.perimeter.to_string(), "unresolved:Région Atlantide");
    assert_eq!(waiting(&store), [id]);

    let set = PerimeterSet::new([
        Perimeter::Region("76".into()),
        Perimeter::Department("31".into()),
    ])
    .unwrap();
    store.set_perimeter(id, set, now()).unwrap();
    let call = store.get_call(id, now()).unwrap().unwrap();
    assert_eq!(call.perimeter.to_string(), "region:76,department:31");
    assert!(waiting(&store).is_empty());
    let history = store.call_history(id).unwrap();
    assert!(
        history
            .iter()
            .any(|c| c.field == "perimeter" && c.new.as_deref() == Some("region:76,department:31")),
        "{history:?}"
    );

    // The source changes its text: the call is recomputed, the curator's
    // perimeter stays.
    let mut changed = items[0].clone();
    changed.summary_text = "Nouveau texte".into();
    store
        .ingest("reg", &[changed], now() + chrono::Duration::hours(1))
        .unwrap();
    let call = store.get_call(id, now()).unwrap().unwrap();
    assert_eq!(call.perimeter.to_string(), "region:76,department:31");

    // A member filter finds it through its set.
    let by_member = CallFilter {
        perimeters: vec![Perimeter::Department("31".into())],
        ..Default::default()
    };
    assert_eq!(store.list_calls(&by_member, now()).unwrap().len(), 1);
    let other = CallFilter {
        perimeters: vec![Perimeter::Department("3".repeat(2))],
        ..Default::default()
    };
    assert!(store.list_calls(&other, now()).unwrap().is_empty());
}

#[test]
fn a_corrupt_perimeter_column_is_an_error_naming_the_value() {
    let mut store = store();
    let id = store
        .ingest("reg", &[item("a", Perimeter::France.into())], now())
        .unwrap()
        .new[0];
    store
        .conn
        .execute(
            "UPDATE calls SET perimeter = 'region:76,paris' WHERE id = ?1",
            [id],
        )
        .unwrap();
    let err = store.get_call(id, now()).unwrap_err();
    assert!(format!("{err:#}").contains("paris"), "{err:#}");
}
