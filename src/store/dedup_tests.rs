//! Cross-source deduplication, lifecycle and review, through the store's
//! public operations: one call however many sources publish it, stable ids,
//! explainable and reversible merges, curator decisions that survive crawls.

use chrono::{DateTime, Duration, FixedOffset, TimeZone, Utc};
use proptest::prelude::*;

use super::*;
use crate::domain::{Audience, CallKind, Perimeter, Recurrence, Theme};
use crate::normalize::item::{ItemKey, NormalizedItem};

pub(super) fn paris(y: i32, m: u32, d: u32, h: u32) -> DateTime<FixedOffset> {
    FixedOffset::east_opt(3600)
        .unwrap()
        .with_ymd_and_hms(y, m, d, h, 0, 0)
        .unwrap()
}

pub(super) fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2034, 1, 10, 8, 0, 0).unwrap()
}

/// A minimal item of a national call for projects (shared with `index_tests`).
pub(super) fn item(
    url: &str,
    title: &str,
    deadline: Option<DateTime<FixedOffset>>,
) -> NormalizedItem {
    NormalizedItem {
        key: ItemKey::Url(url.to_string()),
        title: title.to_string(),
        url: Some(url.to_string()),
        summary_html: String::new(),
        summary_text: String::new(),
        funder: None,
        kind: CallKind::Aap,
        audiences: vec![],
        perimeter: Perimeter::France.into(),
        themes: vec![],
        opens_on: None,
        deadlines: deadline.into_iter().collect(),
        recurrence: Recurrence::Oneoff,
        published: None,
    }
}

/// Three sources of increasing authority: aggregator, ministry, funder.
fn store() -> Store {
    let store = Store::open_in_memory().unwrap();
    store
        .upsert_source(
            "aides",
            "Aides-territoires",
            "json",
            "https://a.test/",
            0,
            false,
        )
        .unwrap();
    store
        .upsert_source(
            "ministere",
            "Ministère",
            "feed",
            "https://m.test/",
            5,
            false,
        )
        .unwrap();
    store
        .upsert_source("siaf", "SIAF", "html", "https://s.test/", 10, false)
        .unwrap();
    store
        .upsert_source(
            "nouveau",
            "Nouvelle source",
            "html",
            "https://n.test/",
            0,
            true,
        )
        .unwrap();
    store
}

fn funder_item() -> NormalizedItem {
    let mut i = item(
        "https://siaf.test/archivage-2035",
        "Appel à projets « Archivage numérique en territoires » 2035",
        Some(paris(2035, 3, 15, 12)),
    );
    i.funder = Some("Service interministériel des Archives de France".into());
    i.summary_text = "Le SIAF soutient les collectivités.".into();
    i.themes = vec![Theme::Archives];
    i
}

fn relay_item() -> NormalizedItem {
    let mut i = item(
        "https://aides.test/aides/archivage-numerique",
        "AAP Archivage numérique en territoires 2035",
        Some(paris(2035, 3, 15, 23)),
    );
    i.audiences = vec![Audience::Commune, Audience::Epci];
    i.themes = vec![Theme::Numerique];
    i
}

fn next_edition() -> NormalizedItem {
    item(
        "https://siaf.test/archivage-2036",
        "Appel à projets « Archivage numérique en territoires » 2036",
        Some(paris(2036, 3, 15, 12)),
    )
}

#[test]
fn the_same_call_from_three_sources_is_one_call_with_the_funders_fields() {
    let mut store = store();
    let a = store.ingest("aides", &[relay_item()], now()).unwrap();
    let mut feed = item(
        "https://ministere.test/actus/archivage",
        "Archivage numérique en territoires : l'appel à projets 2035 est ouvert",
        Some(paris(2035, 3, 15, 12)),
    );
    feed.funder = Some("Ministère de la Culture".into());
    let m = store.ingest("ministere", &[feed], now()).unwrap();
    let s = store.ingest("siaf", &[funder_item()], now()).unwrap();
    assert_eq!(a.new.len(), 1);
    assert!(
        m.new.is_empty() && s.new.is_empty(),
        "later sightings join the first call: {m:?} {s:?}"
    );

    let calls = store.list_calls(&CallFilter::default(), now()).unwrap();
    assert_eq!(calls.len(), 1, "{calls:#?}");
    let call = &calls[0];
    assert_eq!(call.id, a.new[0], "the call keeps its first id");
    assert_eq!(
        call.title,
        funder_item().title,
        "the funder's own page is the most authoritative"
    );
    assert_eq!(
        call.url.as_deref(),
        Some("https://siaf.test/archivage-2035")
    );
    assert_eq!(
        call.funder.as_deref(),
        Some("Service interministériel des Archives de France")
    );
    assert_eq!(
        call.audiences,
        vec![Audience::Commune, Audience::Epci],
        "gaps are filled from relays"
    );
    assert_eq!(
        call.themes,
        vec![Theme::Numerique, Theme::Archives],
        "themes are the union"
    );
    assert_eq!(call.sources, vec!["aides", "ministere", "siaf"]);

    let sightings = store.call_sightings(call.id).unwrap();
    assert_eq!(sightings.len(), 3);
    assert_eq!(sightings[0].resolution.method, "new");
    for s in &sightings[1..] {
        assert!(
            s.resolution.score.unwrap() >= crate::dedup::THRESHOLD,
            "{s:?}"
        );
        assert!(
            !s.resolution.reasons.is_empty(),
            "merges are explained: {s:?}"
        );
    }
}

#[test]
fn different_editions_stay_apart() {
    let mut store = store();
    store.ingest("siaf", &[funder_item()], now()).unwrap();
    store.ingest("aides", &[next_edition()], now()).unwrap();
    assert_eq!(store.count_calls().unwrap(), 2);
}

#[test]
fn a_merged_away_id_points_to_the_survivor() {
    let mut store = store();
    let first = store.ingest("siaf", &[funder_item()], now()).unwrap().new[0];
    let second = store.ingest("aides", &[next_edition()], now()).unwrap().new[0];
    let survivor = store.merge_calls(first, second, now()).unwrap();
    assert_eq!(survivor, first);
    assert_eq!(store.get_call(second, now()).unwrap().unwrap().id, first);
    assert_eq!(store.count_calls().unwrap(), 1);
    // A crawl of the same items changes nothing: the curator's merge holds.
    store.ingest("siaf", &[funder_item()], now()).unwrap();
    store.ingest("aides", &[next_edition()], now()).unwrap();
    assert_eq!(store.count_calls().unwrap(), 1);
}

#[test]
fn a_split_is_never_undone_by_later_crawls() {
    let mut store = store();
    let call = store.ingest("siaf", &[funder_item()], now()).unwrap().new[0];
    store.ingest("aides", &[relay_item()], now()).unwrap();
    let relay = store
        .call_sightings(call)
        .unwrap()
        .into_iter()
        .find(|s| s.source_id == "aides")
        .unwrap();
    let new_call = store.split_call(call, relay.id, now()).unwrap();
    assert_eq!(store.count_calls().unwrap(), 2);

    // Re-crawls, and a third source that matches both, keep them apart.
    store
        .ingest("aides", &[relay_item()], now() + Duration::days(1))
        .unwrap();
    store
        .ingest("siaf", &[funder_item()], now() + Duration::days(1))
        .unwrap();
    let mut feed = funder_item();
    feed.key = ItemKey::Url("https://ministere.test/archivage".into());
    feed.url = Some("https://ministere.test/archivage".into());
    store
        .ingest("ministere", &[feed], now() + Duration::days(1))
        .unwrap();
    assert_eq!(store.count_calls().unwrap(), 2);
    assert_eq!(store.call_sightings(new_call).unwrap().len(), 1);
    let moved = &store.call_sightings(new_call).unwrap()[0];
    assert_eq!(moved.resolution.method, "curator");
}

#[test]
fn splitting_needs_a_sighting_of_that_call() {
    let mut store = store();
    let call = store.ingest("siaf", &[funder_item()], now()).unwrap().new[0];
    let only = store.call_sightings(call).unwrap()[0].id;
    let err = store.split_call(call, only, now()).unwrap_err().to_string();
    assert!(err.contains("only this sighting"), "{err}");
    let err = store.split_call(call, 999, now()).unwrap_err().to_string();
    assert!(err.contains("not a sighting of call"), "{err}");
}

#[test]
fn a_deadline_change_is_an_event_and_multi_stage_calls_keep_every_cut_off() {
    let mut store = store();
    let mut waves = funder_item();
    waves.deadlines = vec![paris(2034, 1, 5, 12), paris(2034, 6, 5, 12)];
    let call = store.ingest("siaf", &[waves.clone()], now()).unwrap().new[0];
    let record = store.get_call(call, now()).unwrap().unwrap();
    assert_eq!(
        record.deadline,
        Some(paris(2034, 6, 5, 12)),
        "the next cut-off is the deadline"
    );
    assert_eq!(record.deadlines.len(), 2);
    assert_eq!(record.status, crate::domain::Status::Open);

    waves.deadlines = vec![paris(2034, 1, 5, 12), paris(2034, 7, 1, 12)];
    store.ingest("siaf", &[waves], now()).unwrap();
    let events = store.call_events(Some(call)).unwrap();
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0].kind, "deadline_extended");
    let later = now() + Duration::days(365);
    assert_eq!(
        store.get_call(call, later).unwrap().unwrap().status,
        crate::domain::Status::Closed
    );
}

#[test]
fn a_vanished_item_is_flagged_unlisted_not_closed() {
    let mut store = store();
    let call = store.ingest("siaf", &[funder_item()], now()).unwrap().new[0];
    let later = now() + Duration::days(2);
    store.ingest("siaf", &[next_edition()], later).unwrap();
    // The crawl's complete listing now holds only the next edition.
    let listed: std::collections::HashSet<String> = store
        .conn()
        .prepare("SELECT item_key FROM sightings WHERE call_id != ?1")
        .unwrap()
        .query_map([call], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(store.update_listing("siaf", &listed, later).unwrap(), 1);
    let record = store.get_call(call, later).unwrap().unwrap();
    assert!(record.unlisted);
    assert_eq!(
        record.status,
        crate::domain::Status::Open,
        "an unlisted call is not closed"
    );
    // Listed again: the flag goes away.
    store
        .ingest("siaf", &[funder_item()], later + Duration::days(1))
        .unwrap();
    assert!(!store.get_call(call, later).unwrap().unwrap().unlisted);
}

#[test]
fn calls_of_a_review_source_wait_and_rejected_ones_stay_hidden() {
    let mut store = store();
    let call = store
        .ingest("nouveau", &[funder_item()], now())
        .unwrap()
        .new[0];
    let pending = CallFilter {
        review: vec!["pending".into()],
        ..Default::default()
    };
    assert_eq!(store.list_calls(&pending, now()).unwrap().len(), 1);
    store.set_review(call, "rejected", now()).unwrap();
    store
        .ingest("nouveau", &[funder_item()], now() + Duration::days(1))
        .unwrap();
    assert!(
        store.list_calls(&pending, now()).unwrap().is_empty(),
        "a rejected call does not come back"
    );
    let approved = CallFilter {
        review: vec!["approved".into()],
        ..Default::default()
    };
    assert!(store.list_calls(&approved, now()).unwrap().is_empty());
    assert!(store.set_review(call, "maybe", now()).is_err());
}

/// Sightings of a small world: the same call seen by several sources,
/// its next edition, and an unrelated call.
fn world() -> Vec<(&'static str, NormalizedItem)> {
    let mut cyber = item(
        "https://anssi.test/parcours",
        "Parcours de cybersécurité pour les collectivités",
        Some(paris(2035, 6, 30, 23)),
    );
    cyber.kind = CallKind::Ami;
    let mut cyber_relay = cyber.clone();
    cyber_relay.key = ItemKey::Url("https://aides.test/parcours-cyber".into());
    cyber_relay.url = Some("https://aides.test/parcours-cyber".into());
    cyber_relay.title = "AMI Parcours de cybersécurité — collectivités".into();
    let mut feed = funder_item();
    feed.key = ItemKey::Url("https://ministere.test/archivage".into());
    feed.url = Some("https://ministere.test/archivage".into());
    vec![
        ("siaf", funder_item()),
        ("aides", relay_item()),
        ("ministere", feed),
        ("siaf", next_edition()),
        ("ministere", cyber),
        ("aides", cyber_relay),
    ]
}

/// The partition of sightings into calls, by item key.
fn clusters(store: &Store) -> Vec<Vec<String>> {
    let mut out: Vec<Vec<String>> = store
        .list_calls(&CallFilter::default(), now())
        .unwrap()
        .iter()
        .map(|c| {
            let mut keys: Vec<String> = store
                .call_sightings(c.id)
                .unwrap()
                .into_iter()
                .map(|s| s.item_key)
                .collect();
            keys.sort();
            keys
        })
        .collect();
    out.sort();
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn merging_is_order_independent_and_idempotent(order in Just((0..6).collect::<Vec<usize>>()).prop_shuffle()) {
        let world = world();
        let mut reference = store();
        for (source, item) in &world {
            reference.ingest(source, std::slice::from_ref(item), now()).unwrap();
        }
        let mut shuffled = store();
        for &i in &order {
            let (source, item) = &world[i];
            shuffled.ingest(source, std::slice::from_ref(item), now()).unwrap();
        }
        prop_assert_eq!(clusters(&shuffled), clusters(&reference));
        prop_assert_eq!(clusters(&reference).len(), 3);

        // Re-ingesting everything changes nothing.
        let before = clusters(&shuffled);
        for (source, item) in &world {
            let out = shuffled.ingest(source, std::slice::from_ref(item), now()).unwrap();
            prop_assert!(out.new.is_empty() && out.updated.is_empty());
        }
        prop_assert_eq!(clusters(&shuffled), before);
    }

    #[test]
    fn curator_decisions_survive_recrawls(order in Just((0..6).collect::<Vec<usize>>()).prop_shuffle()) {
        let world = world();
        let mut store = store();
        for (source, item) in &world {
            store.ingest(source, std::slice::from_ref(item), now()).unwrap();
        }
        // Split the relay off the archives call; merge the two editions.
        let archives = store.list_calls(&CallFilter { text: Some("2035 archivage".into()), ..Default::default() }, now()).unwrap();
        let call = archives.iter().find(|c| c.sources.len() == 3).unwrap().id;
        let relay = store.call_sightings(call).unwrap().into_iter().find(|s| s.source_id == "aides").unwrap();
        store.split_call(call, relay.id, now()).unwrap();
        let next = store.list_calls(&CallFilter { text: Some("2036".into()), ..Default::default() }, now()).unwrap()[0].id;
        store.merge_calls(call, next, now()).unwrap();
        let decided = clusters(&store);
        for &i in &order {
            let (source, item) = &world[i];
            store.ingest(source, std::slice::from_ref(item), now() + Duration::days(1)).unwrap();
        }
        prop_assert_eq!(clusters(&store), decided);
    }
}
