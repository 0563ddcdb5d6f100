use chrono::{TimeZone, Weekday};

use super::*;
use crate::domain::{Audience, Perimeter};
use crate::subscribers::{EmailAddress, Profile};

fn subscriber(frequency: Frequency, last: Option<DateTime<Utc>>) -> Subscriber {
    Subscriber {
        id: 1,
        profile: Profile {
            email: EmailAddress::parse("mairie@cergy.fr").unwrap(),
            name: "Cergy".into(),
            audience: Audience::Commune,
            territory: Perimeter::Commune("95127".into()),
            themes: vec![],
            keywords: vec![],
            frequency,
        },
        status: SubscriberStatus::Active,
        created_at: utc(2026, 1, 1, 0, 0),
        confirmed_at: None,
        bounce_count: 0,
        last_digest_at: last,
        paused_since: None,
    }
}

fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap()
}

#[test]
fn daily_is_due_from_the_send_hour_paris_time_once_a_day() {
    let s = subscriber(Frequency::Daily, None);
    // Winter: Paris = UTC+1. 05:59 UTC = 06:59 Paris.
    assert!(!is_due(&s, utc(2026, 1, 15, 5, 59), 7));
    assert!(is_due(&s, utc(2026, 1, 15, 6, 0), 7));
    // Already sent today (Paris), not again; tomorrow yes.
    let s = subscriber(Frequency::Daily, Some(utc(2026, 1, 15, 6, 0)));
    assert!(!is_due(&s, utc(2026, 1, 15, 20, 0), 7));
    assert!(is_due(&s, utc(2026, 1, 16, 6, 0), 7));
}

#[test]
fn the_paris_day_not_the_utc_day_decides() {
    // Sent at 23:30 UTC on the 15th = 00:30 Paris on the 16th: the 16th is done.
    let s = subscriber(Frequency::Daily, Some(utc(2026, 1, 15, 23, 30)));
    assert!(!is_due(&s, utc(2026, 1, 16, 10, 0), 7));
    assert_eq!(
        idempotency_key(1, utc(2026, 1, 15, 23, 30)),
        "digest:1:2026-01-16"
    );
}

#[test]
fn summer_time_moves_the_send_hour_in_utc() {
    let s = subscriber(Frequency::Daily, None);
    // Summer: Paris = UTC+2. 05:00 UTC = 07:00 Paris.
    assert!(is_due(&s, utc(2026, 7, 1, 5, 0), 7));
    assert!(!is_due(&s, utc(2026, 7, 1, 4, 59), 7));
    // DST change day (29 March 2026, 02:00 → 03:00): 05:00 UTC is 07:00.
    assert!(is_due(&s, utc(2026, 3, 29, 5, 0), 7));
    assert!(!is_due(&s, utc(2026, 3, 29, 4, 59), 7));
    // Back to winter (25 October 2026): 06:00 UTC is 07:00.
    assert!(!is_due(&s, utc(2026, 10, 25, 5, 30), 7));
    assert!(is_due(&s, utc(2026, 10, 25, 6, 0), 7));
}

#[test]
fn weekly_is_due_on_its_weekday_only() {
    // 2026-01-19 is a Monday.
    let s = subscriber(Frequency::Weekly(Weekday::Mon), None);
    assert!(is_due(&s, utc(2026, 1, 19, 8, 0), 7));
    assert!(!is_due(&s, utc(2026, 1, 20, 8, 0), 7));
    // Monday 00:30 Paris is Sunday 23:30 UTC: the Paris weekday decides.
    assert!(is_due(&s, utc(2026, 1, 18, 23, 30), 0));
    assert!(!is_due(&s, utc(2026, 1, 19, 23, 30), 0));
    let s = subscriber(
        Frequency::Weekly(Weekday::Mon),
        Some(utc(2026, 1, 19, 6, 0)),
    );
    assert!(!is_due(&s, utc(2026, 1, 19, 15, 0), 7));
    assert!(is_due(&s, utc(2026, 1, 26, 6, 0), 7));
}

#[test]
fn only_active_subscribers_are_due() {
    for status in [
        SubscriberStatus::Pending,
        SubscriberStatus::Unsubscribed,
        SubscriberStatus::Bouncing,
    ] {
        let mut s = subscriber(Frequency::Daily, None);
        s.status = status;
        assert!(!is_due(&s, utc(2026, 1, 15, 10, 0), 7), "{status}");
    }
}

/// An in-memory store with one call per perimeter, open until `deadline`.
fn store_with_calls(calls: &[(&str, &str)]) -> Store {
    let store = Store::open_in_memory().unwrap();
    for (perimeter, deadline) in calls {
        let ts_deadline = DateTime::parse_from_rfc3339(deadline).unwrap().timestamp();
        store
            .conn()
            .execute(
                "INSERT INTO calls (title, kind, perimeter, deadline, deadline_ts, deadlines,
                     recurrence, first_seen, updated, last_seen)
                 VALUES (?1, 'aap', ?2, ?3, ?4, json_array(?3), 'oneoff',
                     '2035-01-01T00:00:00+00:00', '2035-01-01T00:00:00+00:00',
                     '2035-01-01T00:00:00+00:00')",
                rusqlite::params![
                    format!("Appel {perimeter}"),
                    perimeter,
                    deadline,
                    ts_deadline
                ],
            )
            .unwrap();
    }
    store
}

fn add(store: &Store, s: &Subscriber) -> Subscriber {
    store
        .add_subscriber(&s.profile, SubscriberStatus::Active, utc(2035, 1, 1, 0, 0))
        .unwrap()
}

fn plan_now(store: &Store, s: &Subscriber, now: DateTime<Utc>) -> Option<Plan> {
    plan_with(store, s, &DigestConfig::default(), now)
}

fn plan_with(
    store: &Store,
    s: &Subscriber,
    config: &DigestConfig,
    now: DateTime<Utc>,
) -> Option<Plan> {
    let catalogue = Catalogue::load(store, now).unwrap();
    let history = History::load(store.conn(), s.id).unwrap();
    plan(&catalogue, s, &Matcher::new(s), &history, config, now).map(|p| {
        let token = crate::subscribers::model::new_token().unwrap();
        p.with_token(token, config)
    })
}

/// Plans, renders and records `s`'s digest as a run would; `None` when
/// there is nothing to send.
fn send_now(
    store: &Store,
    s: &Subscriber,
    config: &DigestConfig,
    now: DateTime<Utc>,
) -> Option<Plan> {
    let p = plan_with(store, s, config, now)?;
    let email = Renderer::new().unwrap().render(&p.view).unwrap();
    enqueue_digest(store, s, &p, &email, &MailConfig::default(), config, now)
        .unwrap()
        .unwrap();
    Some(p)
}

fn outbox_rows(store: &Store) -> i64 {
    store
        .conn()
        .query_row("SELECT count(*) FROM outbox", [], |r| r.get(0))
        .unwrap()
}

#[test]
fn a_call_is_new_once_and_reminded_once_before_its_deadline() {
    let store = store_with_calls(&[
        ("france", "2035-03-12T12:00:00+01:00"),
        ("region:84", "2035-06-30T23:59:59+02:00"),
    ]);
    let s = add(&store, &subscriber(Frequency::Daily, None));
    let renderer = Renderer::new().unwrap();
    let mail = MailConfig::default();
    let config = DigestConfig::default();

    let day1 = utc(2035, 2, 20, 8, 0);
    let p = plan_now(&store, &s, day1).unwrap();
    assert_eq!(
        p.call_ids(SectionKind::New),
        vec![1],
        "region 84 does not fit Cergy"
    );
    let email = renderer.render(&p.view).unwrap();
    assert!(
        enqueue_digest(&store, &s, &p, &email, &mail, &config, day1)
            .unwrap()
            .is_some()
    );
    // Same day: the key is taken, nothing more is written.
    assert!(
        enqueue_digest(&store, &s, &p, &email, &mail, &config, day1)
            .unwrap()
            .is_none()
    );
    assert_eq!(outbox_rows(&store), 1);

    // Day 2: deadline 20 days away, nothing to say.
    assert!(plan_now(&store, &s, utc(2035, 2, 21, 8, 0)).is_none());
    // 10 days before the deadline: one reminder, then nothing.
    let day = utc(2035, 3, 2, 8, 0);
    let p = plan_now(&store, &s, day).unwrap();
    assert_eq!(p.call_ids(SectionKind::ClosingSoon), vec![1]);
    let email = renderer.render(&p.view).unwrap();
    enqueue_digest(&store, &s, &p, &email, &mail, &config, day)
        .unwrap()
        .unwrap();
    assert!(plan_now(&store, &s, utc(2035, 3, 3, 8, 0)).is_none());
    let s = store.subscriber(s.id).unwrap().unwrap();
    assert_eq!(s.last_digest_at, Some(day));
}

#[test]
fn a_failure_while_recording_leaves_neither_the_email_nor_any_row() {
    let store = store_with_calls(&[("france", "2035-06-30T23:59:59+02:00")]);
    let s = add(&store, &subscriber(Frequency::Daily, None));
    let now = utc(2035, 2, 20, 8, 0);
    let p = plan_now(&store, &s, now).unwrap();
    let email = Renderer::new().unwrap().render(&p.view).unwrap();
    // Record the same call twice: the second row breaks the unique index
    // after the outbox row was written in the same transaction.
    let mut twice = p.clone();
    twice.items.push(twice.items[0]);
    let config = DigestConfig::default();
    let err = enqueue_digest(
        &store,
        &s,
        &twice,
        &email,
        &MailConfig::default(),
        &config,
        now,
    )
    .unwrap_err();
    assert!(format!("{err:#}").contains("UNIQUE"), "{err:#}");
    assert_eq!(outbox_rows(&store), 0);
    assert!(History::load(store.conn(), s.id).unwrap().new.is_empty());
    assert_eq!(
        store.subscriber(s.id).unwrap().unwrap().last_digest_at,
        None
    );
    // And the digest is still there to send.
    assert!(plan_now(&store, &s, now).is_some());
}

#[test]
fn an_extension_recorded_after_the_email_is_announced_once() {
    let store = store_with_calls(&[("france", "2035-06-30T12:00:00+02:00")]);
    let s = add(&store, &subscriber(Frequency::Daily, None));
    let (mail, config) = (MailConfig::default(), DigestConfig::default());
    let renderer = Renderer::new().unwrap();
    let send = |now| {
        let p = plan_now(&store, &s, now).unwrap();
        let email = renderer.render(&p.view).unwrap();
        enqueue_digest(&store, &s, &p, &email, &mail, &config, now)
            .unwrap()
            .unwrap();
        p
    };
    send(utc(2035, 2, 20, 8, 0));
    store
        .conn()
        .execute_batch(
            "UPDATE calls SET deadlines = json_array('2035-09-30T12:00:00+02:00'),
                 deadline = '2035-09-30T12:00:00+02:00', deadline_ts = 2074668000;
             INSERT INTO call_events (call_id, kind, old, new, at)
             VALUES (1, 'deadline_extended', '2035-06-30T12:00:00+02:00',
                     '2035-09-30T12:00:00+02:00', '2026-01-01T00:00:00+00:00');",
        )
        .unwrap();
    // The event's time (long ago, another clock) does not matter: its id does.
    let p = send(utc(2035, 2, 21, 8, 0));
    assert_eq!(p.call_ids(SectionKind::DeadlineExtended), vec![1]);
    let view = &p.view.sections[0].1[0];
    assert_eq!(
        view.previous_deadline.unwrap().to_rfc3339(),
        "2035-06-30T12:00:00+02:00"
    );
    assert!(plan_now(&store, &s, utc(2035, 2, 22, 8, 0)).is_none());

    // A subscriber who first hears of the call after the extension gets it
    // as new, and no extension later.
    let mut other = subscriber(Frequency::Daily, None);
    other.profile.email = EmailAddress::parse("autre@cergy.fr").unwrap();
    let other = add(&store, &other);
    let now = utc(2035, 2, 22, 8, 0);
    let p = plan_now(&store, &other, now).unwrap();
    assert_eq!(p.call_ids(SectionKind::New), vec![1]);
    let email = renderer.render(&p.view).unwrap();
    enqueue_digest(&store, &other, &p, &email, &mail, &config, now)
        .unwrap()
        .unwrap();
    assert!(plan_now(&store, &other, utc(2035, 2, 23, 8, 0)).is_none());
}

#[test]
fn the_cap_keeps_the_soonest_deadlines_and_leaves_the_rest_for_later() {
    let store = store_with_calls(&[
        ("france", "2035-06-30T12:00:00+02:00"),
        ("france", "2035-05-31T12:00:00+02:00"),
        ("france", "2035-07-31T12:00:00+02:00"),
    ]);
    let s = add(&store, &subscriber(Frequency::Daily, None));
    let config = DigestConfig {
        max_calls: 2,
        ..DigestConfig::default()
    };
    let send = |now| send_now(&store, &s, &config, now).map(|p| p.call_ids(SectionKind::New));
    assert_eq!(send(utc(2035, 2, 20, 8, 0)), Some(vec![2, 1]));
    assert_eq!(send(utc(2035, 2, 21, 8, 0)), Some(vec![3]));
    assert_eq!(send(utc(2035, 2, 22, 8, 0)), None);
}

#[test]
fn a_full_digest_still_announces_an_extension_of_a_later_call() {
    // The cap is reached by new calls before the extended one comes in
    // deadline order: it must still be found, and go first.
    let store = store_with_calls(&[("france", "2035-09-30T12:00:00+02:00")]);
    let s = add(&store, &subscriber(Frequency::Daily, None));
    let config = DigestConfig {
        max_calls: 2,
        ..DigestConfig::default()
    };
    let send = |now| send_now(&store, &s, &config, now);
    let p = send(utc(2035, 2, 20, 8, 0)).unwrap();
    assert_eq!(p.call_ids(SectionKind::New), vec![1]);
    for deadline in [
        "2035-05-31T12:00:00+02:00",
        "2035-04-30T12:00:00+02:00",
        "2035-06-30T12:00:00+02:00",
    ] {
        store
            .conn()
            .execute(
                "INSERT INTO calls (title, kind, perimeter, deadline, deadline_ts, deadlines,
                     recurrence, first_seen, updated, last_seen)
                 VALUES ('Appel', 'aap', 'france', ?1, ?2, json_array(?1), 'oneoff',
                     '2035-01-01T00:00:00+00:00', '2035-01-01T00:00:00+00:00',
                     '2035-01-01T00:00:00+00:00')",
                rusqlite::params![
                    deadline,
                    DateTime::parse_from_rfc3339(deadline).unwrap().timestamp()
                ],
            )
            .unwrap();
    }
    store
        .conn()
        .execute_batch(
            "UPDATE calls SET deadlines = json_array('2035-10-31T12:00:00+01:00'),
                 deadline = '2035-10-31T12:00:00+01:00', deadline_ts = 2077444800
             WHERE id = 1;
             INSERT INTO call_events (call_id, kind, old, new, at)
             VALUES (1, 'deadline_extended', '2035-09-30T12:00:00+02:00',
                     '2035-10-31T12:00:00+01:00', '2035-02-20T09:00:00+00:00');",
        )
        .unwrap();
    let p = send(utc(2035, 2, 21, 8, 0)).unwrap();
    assert_eq!(p.call_ids(SectionKind::DeadlineExtended), vec![1]);
    assert_eq!(
        p.call_ids(SectionKind::New),
        vec![3],
        "the soonest new call"
    );
    let p = send(utc(2035, 2, 22, 8, 0)).unwrap();
    assert_eq!(p.call_ids(SectionKind::New), vec![2, 4]);
}

#[test]
fn building_many_digests_at_once_gives_what_each_alone_gives() {
    // Enough subscribers for several threads and two batches, so that the
    // block caches and the overlap of building and writing are exercised.
    let store = store_with_calls(&[
        ("france", "2035-06-30T12:00:00+02:00"),
        ("region:11", "2035-05-31T12:00:00+02:00"),
        ("department:95", "2035-07-31T12:00:00+02:00"),
        ("commune:95127", "2035-04-30T12:00:00+02:00"),
        ("department:13", "2035-04-30T12:00:00+02:00"),
    ]);
    let territories = [
        "commune:95127",
        "department:95",
        "commune:13055",
        "epci:249500109",
    ];
    let subscribers: Vec<Subscriber> = (0..1100)
        .map(|i| {
            let mut s = subscriber(Frequency::Daily, None);
            s.profile.email = EmailAddress::parse(&format!("mairie{i}@cergy.fr")).unwrap();
            s.profile.name = format!("Commune n° {i}");
            s.profile.territory = territories[i % territories.len()].parse().unwrap();
            if i % 3 == 0 {
                s.profile.audience = Audience::Epci;
            }
            add(&store, &s)
        })
        .collect();
    let now = utc(2035, 2, 20, 8, 0);
    let renderer = Renderer::new().unwrap();
    let mut seen = 0;
    let stats = build_digests(
        &store,
        &renderer,
        &subscribers,
        &DigestConfig::default(),
        now,
        |s, p, email| {
            // The same digest, with this email's own token in its links.
            let alone = plan_now(&store, s, now)
                .unwrap()
                .with_token(p.manage_token.clone(), &DigestConfig::default());
            assert_eq!(p.manage_token.len(), 64, "a fresh token per email");
            assert_eq!(p.items, alone.items, "subscriber {}", s.id);
            assert_eq!(email, &renderer.render(&alone.view).unwrap());
            assert_eq!(subscribers[seen].id, s.id, "in order");
            seen += 1;
            Ok(())
        },
    )
    .unwrap();
    assert_eq!(
        stats.built,
        subscribers.len(),
        "every subscriber gets calls"
    );
    assert_eq!(seen, subscribers.len());
}

#[test]
fn histories_read_together_are_those_read_one_by_one() {
    let store = store_with_calls(&[
        ("france", "2035-03-12T12:00:00+01:00"),
        ("france", "2035-06-30T12:00:00+02:00"),
    ]);
    let a = add(&store, &subscriber(Frequency::Daily, None));
    let mut b = subscriber(Frequency::Daily, None);
    b.profile.email = EmailAddress::parse("autre@cergy.fr").unwrap();
    let b = add(&store, &b);
    let (renderer, mail, config) = (
        Renderer::new().unwrap(),
        MailConfig::default(),
        DigestConfig::default(),
    );
    let send = |s: &Subscriber, now| {
        let p = plan_now(&store, s, now).unwrap();
        let email = renderer.render(&p.view).unwrap();
        enqueue_digest(&store, s, &p, &email, &mail, &config, now)
            .unwrap()
            .unwrap();
    };
    send(&a, utc(2035, 2, 20, 8, 0));
    send(&a, utc(2035, 3, 2, 8, 0)); // a reminder for call 1
    send(&b, utc(2035, 3, 2, 8, 0));
    let ids = [a.id, b.id, a.id, 999];
    let together = History::load_many(store.conn(), &ids).unwrap();
    assert_eq!(together.len(), ids.len());
    for (id, h) in ids.iter().zip(&together) {
        let alone = History::load(store.conn(), *id).unwrap();
        assert_eq!(h.new, alone.new, "subscriber {id}");
        assert_eq!(h.closing, alone.closing, "subscriber {id}");
        assert_eq!(h.events, alone.events, "subscriber {id}");
    }
    assert_eq!(together[0].closing.len(), 1);
    assert!(together[1].closing.is_empty() && together[1].new.len() == 2);
    assert!(together[3].new.is_empty());
}

mod reminders;
