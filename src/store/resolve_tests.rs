//! Resolution is order independent and never chains distinct calls:
//! the same sightings ingested in any order and any batching give the
//! same calls, and distinct numbered calls of a generated farm stay apart.

use chrono::{DateTime, Duration, FixedOffset};
use proptest::prelude::*;

use super::dedup_tests::{item, now, paris};
use super::*;
use crate::domain::CallKind;
use crate::normalize::item::{ItemKey, NormalizedItem};

fn store_with(sources: &[&str]) -> Store {
    let store = Store::open_in_memory().unwrap();
    for s in sources {
        store
            .upsert_source(s, s, "html", "https://x.test/", 0, false)
            .unwrap();
    }
    store
}

fn at(url: &str, title: &str, deadline: DateTime<FixedOffset>) -> NormalizedItem {
    item(url, title, Some(deadline))
}

/// A set of sightings built to make single linkage and first-come
/// resolution disagree with themselves: two items of one source that an
/// aggregator copy resembles both, sibling calls of one funder, a call
/// seen by three sources, numbered calls, a cross-language pair.
fn tricky() -> Vec<(&'static str, NormalizedItem)> {
    let d = paris(2035, 6, 30, 12);
    let mut out = vec![
        (
            "siaf",
            at(
                "https://siaf.test/ae/mairies",
                "AMI Archivage électronique des mairies",
                d,
            ),
        ),
        (
            "siaf",
            at(
                "https://siaf.test/ae/ecoles",
                "AMI Archivage électronique des écoles",
                d,
            ),
        ),
        // Copies that each resemble both items of the funder.
        (
            "aides",
            at(
                "https://aides.test/1",
                "Archivage électronique : mairies et écoles (AMI)",
                d,
            ),
        ),
        (
            "relais",
            at(
                "https://relais.test/9",
                "AMI archivage électronique mairies écoles",
                d,
            ),
        ),
        (
            "aides",
            at(
                "https://aides.test/2",
                "Archivage électronique des mairies",
                d,
            ),
        ),
        // One call, three sources.
        (
            "siaf",
            at(
                "https://siaf.test/cyber",
                "Parcours cybersécurité des collectivités 2035",
                paris(2035, 9, 1, 12),
            ),
        ),
        (
            "aides",
            at(
                "https://aides.test/3",
                "AAP Parcours cybersécurité des collectivités",
                paris(2035, 9, 1, 23),
            ),
        ),
        (
            "relais",
            at(
                "https://relais.test/4",
                "Parcours de cybersécurité pour les collectivités (2035)",
                paris(2035, 9, 2, 12),
            ),
        ),
        // Numbered calls a few days apart.
        (
            "siaf",
            at(
                "https://siaf.test/618",
                "Appel à projets connectivité mairies n°618",
                paris(2035, 11, 3, 12),
            ),
        ),
        (
            "aides",
            at(
                "https://aides.test/2017",
                "Appel à projets mairies connectivité n°2017",
                paris(2035, 11, 6, 12),
            ),
        ),
        (
            "relais",
            at(
                "https://relais.test/618",
                "AAP n° 618 : connectivité des mairies",
                paris(2035, 11, 3, 12),
            ),
        ),
        // The same page in two languages, same deadline to the minute.
        (
            "siaf",
            at(
                "https://ec.test/wifi4eu/call-5",
                "WiFi4EU : 5e appel pour les communes",
                paris(2035, 6, 2, 17),
            ),
        ),
        (
            "relais",
            at(
                "https://ec.test/wifi4eu/call-5",
                "WiFi4EU: fifth call for municipalities",
                paris(2035, 6, 2, 17),
            ),
        ),
    ];
    out[4].1.kind = CallKind::Ami;
    out
}

/// The calls as sets of (source, item key), sorted: what must not depend
/// on the order of ingestion.
fn dump(store: &Store) -> Vec<Vec<(String, String)>> {
    let mut out: Vec<Vec<(String, String)>> = store
        .list_calls(&CallFilter::default(), now())
        .unwrap()
        .iter()
        .map(|c| {
            let mut keys: Vec<(String, String)> = store
                .call_sightings(c.id)
                .unwrap()
                .into_iter()
                .map(|s| (s.source_id, s.item_key))
                .collect();
            keys.sort();
            keys
        })
        .collect();
    out.sort();
    out
}

fn ingest_in(order: &[usize], cuts: &[usize], world: &[(&'static str, NormalizedItem)]) -> Store {
    let mut store = store_with(&["siaf", "aides", "relais"]);
    // Consecutive items of one source in the order form one batch, cut
    // where `cuts` says: a source's items arrive over several pages.
    let mut batch: Vec<NormalizedItem> = Vec::new();
    let mut source = "";
    for (n, &i) in order.iter().enumerate() {
        let (s, it) = &world[i];
        if (*s != source || cuts.contains(&n)) && !batch.is_empty() {
            store.ingest(source, &batch, now()).unwrap();
            batch.clear();
        }
        source = s;
        batch.push(it.clone());
    }
    if !batch.is_empty() {
        store.ingest(source, &batch, now()).unwrap();
    }
    store
}

#[test]
fn distinct_calls_stay_apart_and_copies_join_without_chaining() {
    let world = tricky();
    let store = ingest_in(&(0..world.len()).collect::<Vec<_>>(), &[], &world);
    let calls = dump(&store);
    let key = |i: usize| (world[i].0.to_string(), world[i].1.key.to_db());
    let call_of = |i: usize| calls.iter().position(|c| c.contains(&key(i))).unwrap();
    assert_ne!(
        call_of(0),
        call_of(1),
        "mairies and écoles are two calls: {calls:#?}"
    );
    assert_eq!(
        call_of(0),
        call_of(4),
        "the plain copy joins the mairies call: {calls:#?}"
    );
    assert_eq!(call_of(5), call_of(6));
    assert_eq!(
        call_of(5),
        call_of(7),
        "three sources, one call: {calls:#?}"
    );
    assert_ne!(
        call_of(8),
        call_of(9),
        "n°618 and n°2017 are two calls: {calls:#?}"
    );
    assert_eq!(call_of(8), call_of(10));
    assert_eq!(
        call_of(11),
        call_of(12),
        "same page, same minute: {calls:#?}"
    );
    for c in &calls {
        let mut sources: Vec<&str> = c.iter().map(|(s, _)| s.as_str()).collect();
        sources.dedup();
        assert_eq!(
            sources.len(),
            c.len(),
            "two items of one source in one call: {c:?}"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn any_order_and_batching_gives_the_same_calls(
        order in Just((0..13).collect::<Vec<usize>>()).prop_shuffle(),
        cuts in prop::collection::vec(0usize..13, 0..4),
    ) {
        let world = tricky();
        let reference = dump(&ingest_in(&(0..world.len()).collect::<Vec<_>>(), &[], &world));
        let mut store = ingest_in(&order, &cuts, &world);
        prop_assert_eq!(dump(&store), reference.clone());
        // Crawling everything again changes nothing.
        for (s, it) in &world {
            let out = store.ingest(s, std::slice::from_ref(it), now()).unwrap();
            prop_assert!(out.new.is_empty() && out.updated.is_empty());
        }
        prop_assert_eq!(dump(&store), reference);
    }
}

/// The crawl farm's pattern at a debug-friendly size: two sites of 1,000
/// distinct calls, numbered titles over four topics, deadlines spread over
/// two months, listed 20 to a page. Some numbers ("n°2017") read like years.
#[test]
fn numbered_calls_of_two_sites_never_merge() {
    const TOPICS: [&str; 4] = [
        "connectivité mairies",
        "archivage écoles",
        "cybersécurité communes",
        "mobilité rurale",
    ];
    let mut store = store_with(&["site-a", "site-b"]);
    for (s, source) in ["site-a", "site-b"].into_iter().enumerate() {
        let items: Vec<NormalizedItem> = (0..1000)
            .map(|i| {
                let n = if s == 0 { i } else { 1990 + i };
                let topic = TOPICS[i % 4];
                let url = format!("https://{source}.test/aap/{n}");
                let deadline = paris(2035, 3, 1, 12) + Duration::days((i * 7 % 60) as i64);
                let mut it = at(&url, &format!("Appel à projets {topic} n°{n}"), deadline);
                it.key = ItemKey::Id(format!("{source}-{n}"));
                it
            })
            .collect();
        for page in items.chunks(20) {
            store.ingest(source, page, now()).unwrap();
        }
    }
    assert_eq!(store.count_calls().unwrap(), 2000);
}
