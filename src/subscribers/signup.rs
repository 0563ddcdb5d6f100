//! The state changes a subscriber makes by themselves from the public web:
//! confirming within the validity of their link, pausing and resuming,
//! changing their profile. Every change is one statement keyed by a token,
//! so two clicks racing each other cannot leave a half-written row.

use chrono::{DateTime, Duration, Utc};
use rusqlite::{OptionalExtension, params};

use super::model::{Profile, Subscriber, token_hash};
use super::store::{COLUMNS, SubscriberError, TOKEN_OWNER, by_id, from_row, update_profile};
use crate::store::{Store, ts};

/// How long a confirmation link stays valid; an older pending sign-up
/// is forgotten.
pub const CONFIRMATION_VALIDITY: Duration = Duration::days(7);

impl Store {
    /// The pending sign-up behind a confirmation link still valid at `now`
    /// (the page that shows the confirmation button reads it, writes
    /// nothing: a mail scanner fetching the link confirms nothing).
    pub fn pending_by_confirm_token(
        &self,
        token: &str,
        now: DateTime<Utc>,
    ) -> anyhow::Result<Option<Subscriber>> {
        Ok(self
            .conn()
            .query_row(
                &format!(
                    "SELECT {COLUMNS} FROM subscribers
                     WHERE confirm_token_hash = ?1 AND status = 'pending' AND updated_at >= ?2"
                ),
                params![token_hash(token), ts(&(now - CONFIRMATION_VALIDITY))],
                from_row,
            )
            .optional()?)
    }

    /// The confirmation button was pressed: pending → active, if the link
    /// is still valid. The token works once.
    pub fn confirm_signup(
        &self,
        token: &str,
        now: DateTime<Utc>,
    ) -> Result<Subscriber, SubscriberError> {
        self.conn()
            .query_row(
                &format!(
                    "UPDATE subscribers SET status = 'active', confirmed_at = ?2, updated_at = ?2,
                         confirm_token_hash = NULL, paused_since = NULL
                     WHERE confirm_token_hash = ?1 AND status = 'pending' AND updated_at >= ?3
                     RETURNING {COLUMNS}"
                ),
                params![
                    token_hash(token),
                    ts(&now),
                    ts(&(now - CONFIRMATION_VALIDITY))
                ],
                from_row,
            )
            .optional()?
            .ok_or(SubscriberError::InvalidToken)
    }

    /// Forgets sign-ups never confirmed within [`CONFIRMATION_VALIDITY`]
    /// (people who were never subscribed: nothing of theirs is kept).
    pub fn purge_expired_signups(&self, now: DateTime<Utc>) -> anyhow::Result<usize> {
        Ok(self.conn().execute(
            "DELETE FROM subscribers
             WHERE status = 'pending' AND confirmed_at IS NULL AND updated_at < ?1",
            [ts(&(now - CONFIRMATION_VALIDITY))],
        )?)
    }

    /// Pauses (`true`) or resumes the alert behind a manage link. Only an
    /// active or bouncing subscriber has an alert to pause.
    pub fn set_paused(
        &self,
        token: &str,
        paused: bool,
        now: DateTime<Utc>,
    ) -> Result<Subscriber, SubscriberError> {
        self.conn()
            .query_row(
                &format!(
                    "UPDATE subscribers
                     SET paused_since = CASE WHEN ?3 THEN coalesce(paused_since, ?2) ELSE NULL END,
                         updated_at = ?2
                     WHERE id = ({TOKEN_OWNER}) AND status IN ('active', 'bouncing')
                     RETURNING {COLUMNS}"
                ),
                params![token_hash(token), ts(&now), paused],
                from_row,
            )
            .optional()?
            .ok_or(SubscriberError::InvalidToken)
    }

    /// Replaces the profile behind a manage link, keeping the address
    /// (changing it would need a new confirmation). Unsubscribed people
    /// must sign up again.
    pub fn update_profile_by_token(
        &self,
        token: &str,
        profile: &Profile,
        now: DateTime<Utc>,
    ) -> Result<Subscriber, SubscriberError> {
        let tx = self.conn().unchecked_transaction()?;
        let Some(s) = tx
            .query_row(
                &format!("SELECT {COLUMNS} FROM subscribers WHERE id = ({TOKEN_OWNER})"),
                params![token_hash(token), ts(&now)],
                from_row,
            )
            .optional()?
        else {
            return Err(SubscriberError::InvalidToken);
        };
        if !matches!(
            s.status,
            super::SubscriberStatus::Active | super::SubscriberStatus::Bouncing
        ) {
            return Err(SubscriberError::InvalidToken);
        }
        let kept = Profile {
            email: s.profile.email.clone(),
            ..profile.clone()
        };
        update_profile(&tx, s.id, &kept, now)?;
        let s = by_id(&tx, s.id)?.ok_or(SubscriberError::InvalidToken)?;
        tx.commit()?;
        Ok(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Audience, Perimeter};
    use crate::subscribers::{EmailAddress, Frequency, SubscriberStatus};

    fn profile(email: &str) -> Profile {
        Profile {
            email: EmailAddress::parse(email).unwrap(),
            name: "Mairie de Cergy".into(),
            audience: Audience::Commune,
            territory: "commune:95127".parse::<Perimeter>().unwrap(),
            themes: vec![],
            keywords: vec![],
            frequency: Frequency::Daily,
        }
    }

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().to_utc()
    }

    #[test]
    fn a_confirmation_link_works_once_and_only_within_its_validity() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("v.db")).unwrap();
        let t0 = at("2026-03-01T10:00:00Z");
        let (_, token) = store.create_pending(&profile("a@cergy.fr"), t0).unwrap();
        let (_, late) = store.create_pending(&profile("b@cergy.fr"), t0).unwrap();
        let soon = t0 + Duration::days(6);
        assert!(
            store
                .pending_by_confirm_token(&token, soon)
                .unwrap()
                .is_some()
        );
        assert!(
            store
                .pending_by_confirm_token("nope", soon)
                .unwrap()
                .is_none()
        );
        let s = store.confirm_signup(&token, soon).unwrap();
        assert_eq!(s.status, SubscriberStatus::Active);
        assert!(matches!(
            store.confirm_signup(&token, soon),
            Err(SubscriberError::InvalidToken)
        ));
        let expired = t0 + Duration::days(8);
        assert!(
            store
                .pending_by_confirm_token(&late, expired)
                .unwrap()
                .is_none()
        );
        assert!(matches!(
            store.confirm_signup(&late, expired),
            Err(SubscriberError::InvalidToken)
        ));
        assert_eq!(store.purge_expired_signups(expired).unwrap(), 1);
        assert!(
            store
                .subscriber_by_email(&EmailAddress::parse("a@cergy.fr").unwrap())
                .unwrap()
                .is_some(),
            "a confirmed subscriber is never purged"
        );
    }

    #[test]
    fn pausing_resuming_and_changing_the_profile_go_through_the_manage_token() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("v.db")).unwrap();
        let t0 = at("2026-03-01T10:00:00Z");
        let (s, token) = store.create_pending(&profile("a@cergy.fr"), t0).unwrap();
        let manage = store.issue_token(s.id, t0).unwrap();
        assert!(
            store.set_paused(&manage, true, t0).is_err(),
            "a pending sign-up has nothing to pause"
        );
        store.confirm_signup(&token, t0).unwrap();
        let paused = store.set_paused(&manage, true, t0).unwrap();
        assert_eq!(paused.paused_since, Some(t0));
        let again = store
            .set_paused(&manage, true, t0 + Duration::days(1))
            .unwrap();
        assert_eq!(
            again.paused_since,
            Some(t0),
            "pausing twice keeps the first date"
        );
        let resumed = store.set_paused(&manage, false, t0).unwrap();
        assert_eq!(resumed.paused_since, None);
        let mut changed = profile("pirate@example.org");
        changed.frequency = Frequency::Weekly(chrono::Weekday::Mon);
        let s2 = store
            .update_profile_by_token(&manage, &changed, t0)
            .unwrap();
        assert_eq!(s2.profile.email.as_str(), "a@cergy.fr", "the address stays");
        assert_eq!(
            s2.profile.frequency,
            Frequency::Weekly(chrono::Weekday::Mon)
        );
        store.unsubscribe(&manage, t0).unwrap();
        assert!(
            store
                .update_profile_by_token(&manage, &changed, t0)
                .is_err()
        );
        assert!(store.set_paused(&manage, false, t0).is_err());
    }
}
