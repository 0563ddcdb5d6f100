//! The in-memory candidate index against the table it is built from: what
//! another process writes is seen, a rolled-back batch leaves no trace, and
//! calls created in a batch are searchable once it commits.

use super::dedup_tests::{self, now};
use super::*;
use crate::normalize::item::{ItemKey, NormalizedItem};

/// The items of these tests all share one deadline.
fn item(url: &str, title: &str) -> NormalizedItem {
    dedup_tests::item(url, title, Some(dedup_tests::paris(2034, 3, 31, 12)))
}

fn open(path: &std::path::Path) -> Store {
    let store = Store::open(path).unwrap();
    for id in ["a", "b", "c"] {
        store
            .upsert_source(id, id, "html", "https://x.test/", 0, false)
            .unwrap();
    }
    store
}

fn search(store: &Store, text: &str) -> Vec<String> {
    store
        .list_calls(
            &CallFilter {
                text: Some(text.into()),
                ..Default::default()
            },
            now(),
        )
        .unwrap()
        .into_iter()
        .map(|c| c.title)
        .collect()
}

#[test]
fn sightings_written_by_another_connection_are_candidates() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v.db");
    let mut first = open(&path);
    let mut second = open(&path);
    // The second store builds its index before the first one writes.
    assert_eq!(second.load_resolution_index().unwrap(), 0);
    let title = "Appel à projets archivage électronique des communes rurales";
    let out = first
        .ingest("a", &[item("https://a.test/1", title)], now())
        .unwrap();
    let relay = second
        .ingest(
            "b",
            &[item("https://b.test/9", &format!("AAP - {title}"))],
            now(),
        )
        .unwrap();
    assert!(
        relay.new.is_empty(),
        "the relay must join call {:?}",
        out.new
    );

    // A title changed by the first store is what the second one compares.
    let retitled = "Appel à projets tiers-lieux numériques en montagne";
    first
        .ingest("a", &[item("https://a.test/1", retitled)], now())
        .unwrap();
    let relay = second
        .ingest(
            "c",
            &[item("https://c.test/4", &format!("{retitled} (relais)"))],
            now(),
        )
        .unwrap();
    assert!(
        relay.new.is_empty(),
        "the relay must join the retitled call"
    );
    // The relay of the old title does not fit the retitled item any more:
    // once the new relay links into their component, it is partitioned
    // again and the old relay keeps a call of its own.
    assert_eq!(first.count_calls().unwrap(), 2);
    let joined = first.get_call(out.new[0], now()).unwrap().unwrap();
    assert_eq!(joined.sources, vec!["a", "c"]);
}

#[test]
fn calls_created_by_a_batch_are_searchable_and_retitles_are_reindexed() {
    let mut store = open(std::path::Path::new(":memory:"));
    store
        .ingest(
            "a",
            &[
                item("https://a.test/1", "Rénovation énergétique des écoles"),
                item("https://a.test/2", "Cantines scolaires durables"),
            ],
            now(),
        )
        .unwrap();
    assert_eq!(
        search(&store, "ecoles"),
        vec!["Rénovation énergétique des écoles"]
    );
    store
        .ingest(
            "a",
            &[item("https://a.test/2", "Cantines scolaires bio")],
            now(),
        )
        .unwrap();
    assert_eq!(search(&store, "bio"), vec!["Cantines scolaires bio"]);
    assert!(search(&store, "durables").is_empty());
    // A second item of the same page completes a call created in the same
    // batch: the call is indexed once, with its final fields.
    let first = item("https://b.test/1", "Médiathèques numériques en Corse");
    let mut second = item("https://b.test/1", "Médiathèques numériques (Corse)");
    second.key = ItemKey::Id("second".into());
    second.summary_text = "Prêt de liseuses".into();
    store.ingest("b", &[first, second], now()).unwrap();
    assert_eq!(search(&store, "corse").len(), 1);
    assert_eq!(search(&store, "liseuses").len(), 1);
    store
        .conn()
        .execute(
            "INSERT INTO calls_fts(calls_fts) VALUES ('integrity-check')",
            [],
        )
        .unwrap();
}

#[test]
fn a_failed_ingest_leaves_an_index_that_still_matches_the_table() {
    let mut store = open(std::path::Path::new(":memory:"));
    let title = "Appel à projets lecture publique dans les petites villes";
    store
        .ingest("a", &[item("https://a.test/1", title)], now())
        .unwrap();
    // An unknown source breaks the foreign key: the batch is rolled back.
    let relay = item("https://z.test/1", &format!("AAP - {title}"));
    assert!(store.ingest("unknown", &[relay], now()).is_err());
    let relay = item("https://b.test/1", &format!("{title} (relais)"));
    let out = store.ingest("b", &[relay], now()).unwrap();
    assert!(out.new.is_empty(), "the relay must join the first call");
    assert_eq!(store.count_calls().unwrap(), 1);
    assert_eq!(store.load_resolution_index().unwrap(), 2);
}

proptest::proptest! {
    /// The index's shortcut never skips a pair that `decide` would merge:
    /// call numbers, years, sources, URLs and deadlines mixed at random.
    #[test]
    fn surely_apart_never_hides_a_same_call(
        n in proptest::collection::vec(0u32..2200, 2),
        forms in proptest::collection::vec(0usize..5, 2),
        days in 0i64..14,
        same_source: bool,
        same_url: bool,
    ) {
        use crate::dedup::{Signals, decide, title_key};
        let title = |k: usize| match forms[k] {
            0 => format!("Appel à projets connectivité mairies n°{}", n[k]),
            1 => format!("AAP n° {} : connectivité des mairies", n[k]),
            2 => format!("Connectivité des mairies — édition 2035, lot n° {}", n[k]),
            3 => format!("Connectivité des mairies {}", n[k]),
            _ => "Appel à projets connectivité des mairies".to_string(),
        };
        let signals = |k: usize| Signals {
            source_id: if same_source || k == 0 { "a".into() } else { "b".into() },
            title: title(k),
            funder: None,
            url: Some(if same_url { "https://x.test/aap".into() } else { format!("https://x.test/{k}") }),
            origin_url: None,
            deadline: Some(dedup_tests::paris(2035, 3, 1, 12) + chrono::Duration::days(days * k as i64)),
            perimeter: Some("france".into()),
            kind: Some("aap".into()),
        };
        let (a, b) = (signals(0), signals(1));
        let mut index = super::index::BlockingIndex::default();
        index.add(1, &a, &title_key(&a.title)).unwrap();
        let probe = index.probe(&b, &title_key(&b.title));
        if index.surely_apart(&probe, 0) {
            let d = decide(&a, &b);
            proptest::prop_assert!(!d.same, "{:?} / {:?}: {:?}", a.title, b.title, d);
        }
    }
}
