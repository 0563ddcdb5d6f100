//! Subscriber storage and the double opt-in transitions.

use chrono::{Duration, TimeZone};

use super::*;
use crate::domain::{Audience, Perimeter, Theme};
use crate::subscribers::Frequency;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2027, 1, 10, 8, 0, 0).unwrap()
}

fn profile(email: &str) -> Profile {
    Profile {
        email: EmailAddress::parse(email).unwrap(),
        name: "Mairie de Cergy".into(),
        audience: Audience::Commune,
        territory: Perimeter::Commune("95127".into()),
        themes: vec![Theme::Numerique, Theme::Archives],
        keywords: vec!["tiers-lieu".into(), "archiv*".into()],
        frequency: Frequency::Weekly(chrono::Weekday::Mon),
    }
}

#[test]
fn a_subscriber_reads_back_as_written() {
    let store = Store::open_in_memory().unwrap();
    let s = store
        .add_subscriber(&profile("mairie@cergy.fr"), SubscriberStatus::Active, now())
        .unwrap();
    assert_eq!(s.profile, profile("mairie@cergy.fr"));
    assert_eq!(s.status, SubscriberStatus::Active);
    assert_eq!(s.confirmed_at, Some(now()));
    let token = store.issue_token(s.id, now()).unwrap();
    assert_eq!(token.len(), 64);
    assert_eq!(
        store.subscriber_by_token(&token, now()).unwrap(),
        Some(s.clone())
    );
    let stored: i64 = store
        .conn()
        .query_row(
            "SELECT count(*) FROM subscriber_tokens WHERE hash = ?1",
            [&token],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(stored, 0, "only the token's hash is stored");
    let late = now() + chrono::Duration::days(crate::store::TOKEN_VALIDITY_DAYS + 1);
    assert_eq!(
        store.subscriber_by_token(&token, late).unwrap(),
        None,
        "tokens expire"
    );
    assert_eq!(store.subscriber(s.id).unwrap().unwrap(), s);
    let upper = EmailAddress::parse("MAIRIE@cergy.fr").unwrap();
    assert_eq!(store.subscriber_by_email(&upper).unwrap().unwrap().id, s.id);
}

#[test]
fn the_same_email_cannot_be_added_twice_whatever_its_case() {
    let store = Store::open_in_memory().unwrap();
    store
        .add_subscriber(&profile("mairie@cergy.fr"), SubscriberStatus::Active, now())
        .unwrap();
    let err = store
        .add_subscriber(&profile("Mairie@Cergy.fr"), SubscriberStatus::Active, now())
        .unwrap_err();
    assert!(
        matches!(err, SubscriberError::AlreadySubscribed { .. }),
        "{err}"
    );
}

#[test]
fn double_opt_in_confirms_once_with_the_token() {
    let store = Store::open_in_memory().unwrap();
    let (s, token) = store.create_pending(&profile("a@a.fr"), now()).unwrap();
    assert_eq!(s.status, SubscriberStatus::Pending);
    assert_eq!(s.confirmed_at, None);
    // Only the hash is stored.
    let stored: String = store
        .conn()
        .query_row("SELECT confirm_token_hash FROM subscribers", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_ne!(stored, token);
    assert!(matches!(
        store.confirm_subscriber("wrong", now()),
        Err(SubscriberError::InvalidToken)
    ));
    let later = now() + Duration::hours(1);
    let s = store.confirm_subscriber(&token, later).unwrap();
    assert_eq!(s.status, SubscriberStatus::Active);
    assert_eq!(s.confirmed_at, Some(later));
    assert!(matches!(
        store.confirm_subscriber(&token, later),
        Err(SubscriberError::InvalidToken)
    ));
    // Signing up again while active is refused.
    assert!(matches!(
        store.create_pending(&profile("a@a.fr"), later),
        Err(SubscriberError::AlreadySubscribed { .. })
    ));
}

#[test]
fn signing_up_again_while_pending_replaces_the_token() {
    let store = Store::open_in_memory().unwrap();
    let (_, first) = store.create_pending(&profile("a@a.fr"), now()).unwrap();
    let (_, second) = store.create_pending(&profile("a@a.fr"), now()).unwrap();
    assert!(store.confirm_subscriber(&first, now()).is_err());
    assert!(store.confirm_subscriber(&second, now()).is_ok());
}

#[test]
fn unsubscribing_is_idempotent_and_needs_a_new_opt_in_to_come_back() {
    let store = Store::open_in_memory().unwrap();
    let s = store
        .add_subscriber(&profile("a@a.fr"), SubscriberStatus::Active, now())
        .unwrap();
    assert!(matches!(
        store.unsubscribe("nope", now()),
        Err(SubscriberError::InvalidToken)
    ));
    let token = store.issue_token(s.id, now()).unwrap();
    let u = store.unsubscribe(&token, now()).unwrap();
    assert_eq!(u.status, SubscriberStatus::Unsubscribed);
    assert_eq!(
        store.unsubscribe(&token, now()).unwrap().status,
        SubscriberStatus::Unsubscribed
    );
    assert!(matches!(
        store.reactivate_subscriber(s.id, now()),
        Err(SubscriberError::WrongStatus { .. })
    ));
    let (p, token) = store.create_pending(&profile("a@a.fr"), now()).unwrap();
    assert_eq!((p.id, p.status), (s.id, SubscriberStatus::Pending));
    assert!(store.confirm_subscriber(&token, now()).is_ok());
}

#[test]
fn bounces_past_the_threshold_make_a_subscriber_bouncing_until_reactivated() {
    let store = Store::open_in_memory().unwrap();
    let s = store
        .add_subscriber(&profile("a@a.fr"), SubscriberStatus::Active, now())
        .unwrap();
    let email = &s.profile.email;
    let b = store.mark_bounce(email, 3, now()).unwrap().unwrap();
    assert_eq!((b.bounce_count, b.status), (1, SubscriberStatus::Active));
    store.mark_bounce(email, 3, now()).unwrap();
    let b = store.mark_bounce(email, 3, now()).unwrap().unwrap();
    assert_eq!((b.bounce_count, b.status), (3, SubscriberStatus::Bouncing));
    let unknown = EmailAddress::parse("x@x.fr").unwrap();
    assert!(store.mark_bounce(&unknown, 3, now()).unwrap().is_none());
    let r = store.reactivate_subscriber(s.id, now()).unwrap();
    assert_eq!((r.bounce_count, r.status), (0, SubscriberStatus::Active));
}

#[test]
fn listing_filters_by_status_and_remove_deletes() {
    let store = Store::open_in_memory().unwrap();
    let a = store
        .add_subscriber(&profile("a@a.fr"), SubscriberStatus::Active, now())
        .unwrap();
    store.create_pending(&profile("b@b.fr"), now()).unwrap();
    assert_eq!(store.list_subscribers(&[]).unwrap().len(), 2);
    let pending = store
        .list_subscribers(&[SubscriberStatus::Pending])
        .unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].profile.email.as_str(), "b@b.fr");
    assert!(store.remove_subscriber(a.id).unwrap());
    assert!(!store.remove_subscriber(a.id).unwrap());
    assert!(store.subscriber(a.id).unwrap().is_none());
    store.mark_digest_sent(pending[0].id, now()).unwrap();
    assert_eq!(
        store
            .subscriber(pending[0].id)
            .unwrap()
            .unwrap()
            .last_digest_at,
        Some(now())
    );
}

#[test]
fn import_adds_updates_activates_and_never_brings_back_the_unsubscribed() {
    let store = Store::open_in_memory().unwrap();
    store
        .add_subscriber(&profile("active@a.fr"), SubscriberStatus::Active, now())
        .unwrap();
    store
        .create_pending(&profile("pending@a.fr"), now())
        .unwrap();
    let gone = store
        .add_subscriber(&profile("gone@a.fr"), SubscriberStatus::Active, now())
        .unwrap();
    store.unsubscribe_id(gone.id, now()).unwrap();

    let mut changed = profile("active@a.fr");
    changed.name = "Ville de Cergy".into();
    let input = vec![
        changed,
        profile("pending@a.fr"),
        profile("gone@a.fr"),
        profile("new@a.fr"),
    ];
    let summary = store.import_subscribers(&input, now()).unwrap();
    assert_eq!(
        summary,
        ImportSummary {
            added: 1,
            updated: 2,
            unchanged: 0,
            skipped_unsubscribed: vec!["gone@a.fr".into()],
        }
    );
    let again = store.import_subscribers(&input, now()).unwrap();
    assert_eq!((again.added, again.updated, again.unchanged), (0, 0, 3));
    let status = |e: &str| {
        let s = store
            .subscriber_by_email(&EmailAddress::parse(e).unwrap())
            .unwrap()
            .unwrap();
        (s.status, s.profile.name)
    };
    assert_eq!(
        status("active@a.fr"),
        (SubscriberStatus::Active, "Ville de Cergy".into())
    );
    assert_eq!(status("pending@a.fr").0, SubscriberStatus::Active);
    assert_eq!(status("gone@a.fr").0, SubscriberStatus::Unsubscribed);
    assert_eq!(status("new@a.fr").0, SubscriberStatus::Active);
}
