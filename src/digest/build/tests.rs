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
        manage_token: "t".into(),
        bounce_count: 0,
        last_digest_at: last,
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
