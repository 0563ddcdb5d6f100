//! Subscribers in SQLite (`subscribers` table, migration 3): add, look up,
//! list, remove, import, and the double opt-in transitions.
//!
//! - Remove deletes the row (the right to erasure); to stop digests while
//!   remembering that someone left, use [`Store::unsubscribe`].
//! - The confirmation token is returned once by [`Store::create_pending`]
//!   and only its SHA-256 is stored. The manage token is stored as is: it
//!   must be written into the manage/unsubscribe link of every email.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};

use super::model::{
    EmailAddress, Profile, Subscriber, SubscriberStatus, new_token, token_hash, weekday_code,
};
use crate::store::{Store, ts};

/// What callers (CLI, web) branch on.
#[derive(Debug, thiserror::Error)]
pub enum SubscriberError {
    #[error("{email} is already subscribed (id {id}, {status})")]
    AlreadySubscribed {
        email: EmailAddress,
        id: i64,
        status: SubscriberStatus,
    },
    #[error("this link is not valid (anymore): sign up again or ask for a new link")]
    InvalidToken,
    #[error("no subscriber {0}")]
    NotFound(String),
    #[error("subscriber {id} is {status}: cannot {action}")]
    WrongStatus {
        id: i64,
        status: SubscriberStatus,
        action: &'static str,
    },
    #[error("reading random bytes for a token: {0}")]
    Random(#[from] std::io::Error),
    #[error(transparent)]
    Store(#[from] rusqlite::Error),
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ImportSummary {
    /// New subscribers, active.
    pub added: usize,
    /// Known subscribers whose profile the file replaced.
    pub updated: usize,
    /// Known subscribers whose row already said what the file says.
    pub unchanged: usize,
    /// Emails of subscribers who had unsubscribed: left untouched.
    pub skipped_unsubscribed: Vec<String>,
}

/// The subscriber id owning the token whose hash is `?1`, if the token is
/// still valid at `?2`.
pub(super) const TOKEN_OWNER: &str =
    "SELECT subscriber_id FROM subscriber_tokens WHERE hash = ?1 AND expires_at > ?2";

/// Stores the hash of `token`, valid [`crate::store::TOKEN_VALIDITY_DAYS`]
/// from `now`, for subscriber `id` (inside the caller's transaction).
pub fn record_token(
    conn: &Connection,
    id: i64,
    token: &str,
    now: DateTime<Utc>,
) -> rusqlite::Result<()> {
    let expires = now + chrono::Duration::days(crate::store::TOKEN_VALIDITY_DAYS);
    conn.execute(
        "INSERT INTO subscriber_tokens (hash, subscriber_id, created_at, expires_at)
         VALUES (?1, ?2, ?3, ?4)",
        params![token_hash(token), id, ts(&now), ts(&expires)],
    )?;
    Ok(())
}

fn themes_json(p: &Profile) -> String {
    serde_json::to_string(&p.themes.iter().map(|t| t.as_str()).collect::<Vec<_>>())
        .expect("codes serialize")
}

fn keywords_json(p: &Profile) -> String {
    serde_json::to_string(&p.keywords).expect("strings serialize")
}

fn insert(
    conn: &Connection,
    p: &Profile,
    status: SubscriberStatus,
    confirm_hash: Option<&str>,
    now: DateTime<Utc>,
) -> Result<i64, SubscriberError> {
    let confirmed = (status != SubscriberStatus::Pending).then(|| ts(&now));
    conn.execute(
        "INSERT INTO subscribers (email, name, audience, territory, themes, keywords, frequency,
             weekday, status, created_at, confirmed_at, updated_at, confirm_token_hash,
             manage_token)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?10, ?12, ?13)",
        params![
            p.email.as_str(),
            p.name,
            p.audience.as_str(),
            p.territory.to_string(),
            themes_json(p),
            keywords_json(p),
            p.frequency.code(),
            p.frequency.weekday().map(weekday_code),
            status.as_str(),
            ts(&now),
            confirmed,
            confirm_hash,
            // Unused since manage tokens are per email and stored hashed
            // (`subscriber_tokens`); kept unique for the column's constraint.
            format!("unused:{}", new_token()?),
        ],
    )?;
    Ok(conn.last_insert_rowid())
}

pub(super) fn update_profile(
    conn: &Connection,
    id: i64,
    p: &Profile,
    now: DateTime<Utc>,
) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE subscribers SET email = ?2, name = ?3, audience = ?4, territory = ?5, themes = ?6,
             keywords = ?7, frequency = ?8, weekday = ?9, updated_at = ?10
         WHERE id = ?1",
        params![
            id,
            p.email.as_str(),
            p.name,
            p.audience.as_str(),
            p.territory.to_string(),
            themes_json(p),
            keywords_json(p),
            p.frequency.code(),
            p.frequency.weekday().map(weekday_code),
            ts(&now),
        ],
    )?;
    Ok(())
}

fn set_status(
    conn: &Connection,
    id: i64,
    status: SubscriberStatus,
    now: DateTime<Utc>,
) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE subscribers SET status = ?2, updated_at = ?3 WHERE id = ?1",
        params![id, status.as_str(), ts(&now)],
    )?;
    Ok(())
}

impl Store {
    /// Adds a subscriber with the given status (`active` for an operator's
    /// add: confirmed now). An email already known is an error.
    pub fn add_subscriber(
        &self,
        profile: &Profile,
        status: SubscriberStatus,
        now: DateTime<Utc>,
    ) -> Result<Subscriber, SubscriberError> {
        let tx = Transaction::new_unchecked(self.conn(), TransactionBehavior::Immediate)?;
        if let Some(s) = by(&tx, "email = ?1", profile.email.as_str())? {
            return Err(SubscriberError::AlreadySubscribed {
                email: s.profile.email,
                id: s.id,
                status: s.status,
            });
        }
        let id = insert(&tx, profile, status, None, now)?;
        let s = by_id(&tx, id)?.ok_or_else(|| SubscriberError::NotFound(id.to_string()))?;
        tx.commit()?;
        Ok(s)
    }

    /// A sign-up waiting for its confirmation: returns the subscriber and
    /// the confirmation token to send (stored only as a hash). Signing up
    /// again while pending, or after unsubscribing, replaces the profile
    /// and issues a new token; an active or bouncing subscriber is
    /// [`SubscriberError::AlreadySubscribed`].
    pub fn create_pending(
        &self,
        profile: &Profile,
        now: DateTime<Utc>,
    ) -> Result<(Subscriber, String), SubscriberError> {
        let token = new_token()?;
        let hash = token_hash(&token);
        // IMMEDIATE: the read below and the writes after it see the same row
        // even when another process writes it meanwhile.
        let tx = Transaction::new_unchecked(self.conn(), TransactionBehavior::Immediate)?;
        let id = match by(&tx, "email = ?1", profile.email.as_str())? {
            None => insert(&tx, profile, SubscriberStatus::Pending, Some(&hash), now)?,
            Some(s) => match s.status {
                SubscriberStatus::Pending | SubscriberStatus::Unsubscribed => {
                    update_profile(&tx, s.id, profile, now)?;
                    tx.execute(
                        "UPDATE subscribers SET status = 'pending', confirm_token_hash = ?2,
                             confirmed_at = NULL WHERE id = ?1",
                        params![s.id, hash],
                    )?;
                    s.id
                }
                SubscriberStatus::Active | SubscriberStatus::Bouncing => {
                    return Err(SubscriberError::AlreadySubscribed {
                        email: s.profile.email,
                        id: s.id,
                        status: s.status,
                    });
                }
            },
        };
        let s = by_id(&tx, id)?.ok_or_else(|| SubscriberError::NotFound(id.to_string()))?;
        tx.commit()?;
        Ok((s, token))
    }

    /// The confirmation link was followed: pending → active. The token
    /// works once.
    pub fn confirm_subscriber(
        &self,
        token: &str,
        now: DateTime<Utc>,
    ) -> Result<Subscriber, SubscriberError> {
        // One statement: the token works once even when two requests race,
        // and the row returned is the one written.
        self.conn()
            .query_row(
                &format!(
                    "UPDATE subscribers SET status = 'active', confirmed_at = ?2, updated_at = ?2,
                         confirm_token_hash = NULL
                     WHERE confirm_token_hash = ?1
                     RETURNING {COLUMNS}"
                ),
                params![token_hash(token), ts(&now)],
                from_row,
            )
            .optional()?
            .ok_or(SubscriberError::InvalidToken)
    }

    /// The subscriber behind a manage/unsubscribe link's token, while the
    /// token is valid.
    pub fn subscriber_by_token(
        &self,
        token: &str,
        now: DateTime<Utc>,
    ) -> anyhow::Result<Option<Subscriber>> {
        Ok(self
            .conn()
            .query_row(
                &format!("SELECT {COLUMNS} FROM subscribers WHERE id = ({TOKEN_OWNER})"),
                params![token_hash(token), ts(&now)],
                from_row,
            )
            .optional()?)
    }

    /// A new token for the manage and unsubscribe links of one email to
    /// subscriber `id`; only its hash is stored.
    pub fn issue_token(&self, id: i64, now: DateTime<Utc>) -> Result<String, SubscriberError> {
        let token = new_token()?;
        record_token(self.conn(), id, &token, now)?;
        Ok(token)
    }

    /// The unsubscribe link was followed: any status → unsubscribed
    /// (idempotent). The row is kept so an import never re-adds them.
    pub fn unsubscribe(
        &self,
        token: &str,
        now: DateTime<Utc>,
    ) -> Result<Subscriber, SubscriberError> {
        self.unsubscribe_where(
            &format!("id = ({TOKEN_OWNER})"),
            params![token_hash(token), ts(&now)],
            now,
        )
    }

    /// An operator unsubscribes subscriber `id` (same effect as the link).
    pub fn unsubscribe_id(
        &self,
        id: i64,
        now: DateTime<Utc>,
    ) -> Result<Subscriber, SubscriberError> {
        self.unsubscribe_where("id = ?1", params![id, ts(&now)], now)
    }

    /// `clause` uses `?1` (and `?2`, the time); `?3` is `now`.
    fn unsubscribe_where(
        &self,
        clause: &str,
        args: &[&dyn rusqlite::ToSql],
        now: DateTime<Utc>,
    ) -> Result<Subscriber, SubscriberError> {
        // One statement: a row another process deletes meanwhile is simply
        // not found, never a panic. Idempotent: `updated_at` only moves on
        // the first unsubscription.
        self.conn()
            .query_row(
                &format!(
                    "UPDATE subscribers SET status = 'unsubscribed', confirm_token_hash = NULL,
                         updated_at = CASE WHEN status = 'unsubscribed' THEN updated_at ELSE ?3 END
                     WHERE {clause}
                     RETURNING {COLUMNS}"
                ),
                [args[0], args[1], &ts(&now) as &dyn rusqlite::ToSql],
                from_row,
            )
            .optional()?
            .ok_or(SubscriberError::InvalidToken)
    }

    /// A digest to `email` bounced: counts it, and an active subscriber
    /// with `threshold` bounces or more becomes bouncing. `None` when the
    /// address is unknown.
    pub fn mark_bounce(
        &self,
        email: &EmailAddress,
        threshold: u32,
        now: DateTime<Utc>,
    ) -> Result<Option<Subscriber>, SubscriberError> {
        // One statement: two processes counting bounces at once both count
        // (a read-then-write lost one of them).
        Ok(self
            .conn()
            .query_row(
                &format!(
                    "UPDATE subscribers SET bounce_count = bounce_count + 1,
                         status = CASE WHEN status = 'active' AND bounce_count + 1 >= ?2
                                       THEN 'bouncing' ELSE status END,
                         updated_at = ?3
                     WHERE email = ?1
                     RETURNING {COLUMNS}"
                ),
                params![email.as_str(), threshold, ts(&now)],
                from_row,
            )
            .optional()?)
    }

    /// An operator fixed a bouncing address: bouncing (or active) → active
    /// with the bounce count reset. Pending and unsubscribed people must opt
    /// in themselves, so they are [`SubscriberError::WrongStatus`].
    pub fn reactivate_subscriber(
        &self,
        id: i64,
        now: DateTime<Utc>,
    ) -> Result<Subscriber, SubscriberError> {
        let updated = self
            .conn()
            .query_row(
                &format!(
                    "UPDATE subscribers SET status = 'active', bounce_count = 0, updated_at = ?2
                     WHERE id = ?1 AND status IN ('bouncing', 'active')
                     RETURNING {COLUMNS}"
                ),
                params![id, ts(&now)],
                from_row,
            )
            .optional()?;
        if let Some(s) = updated {
            return Ok(s);
        }
        // Nothing written: say why from the row as it is now.
        match by_id(self.conn(), id)? {
            None => Err(SubscriberError::NotFound(id.to_string())),
            Some(s) => Err(SubscriberError::WrongStatus {
                id,
                status: s.status,
                action: "reactivate (they must sign up again)",
            }),
        }
    }

    /// Records that a digest went out (used by delivery).
    pub fn mark_digest_sent(&self, id: i64, at: DateTime<Utc>) -> anyhow::Result<()> {
        self.conn().execute(
            "UPDATE subscribers SET last_digest_at = ?2 WHERE id = ?1",
            params![id, ts(&at)],
        )?;
        Ok(())
    }

    pub fn subscriber(&self, id: i64) -> anyhow::Result<Option<Subscriber>> {
        Ok(by_id(self.conn(), id)?)
    }

    /// Case-insensitive on the whole address.
    pub fn subscriber_by_email(
        &self,
        email: &EmailAddress,
    ) -> rusqlite::Result<Option<Subscriber>> {
        by(self.conn(), "email = ?1", email.as_str())
    }

    /// Subscribers with one of `statuses` (all when empty), by id.
    pub fn list_subscribers(
        &self,
        statuses: &[SubscriberStatus],
    ) -> anyhow::Result<Vec<Subscriber>> {
        let mut stmt = self
            .conn()
            .prepare(&format!("SELECT {COLUMNS} FROM subscribers ORDER BY id"))?;
        let rows = stmt.query_map([], from_row)?;
        let mut out = Vec::new();
        for s in rows {
            let s = s?;
            if statuses.is_empty() || statuses.contains(&s.status) {
                out.push(s);
            }
        }
        Ok(out)
    }

    /// Deletes the subscriber's row; false when there was none.
    pub fn remove_subscriber(&self, id: i64) -> anyhow::Result<bool> {
        Ok(self
            .conn()
            .execute("DELETE FROM subscribers WHERE id = ?1", [id])?
            > 0)
    }

    /// Imports validated profiles in one transaction (all or nothing). An
    /// imported list counts as confirmed: new emails become active,
    /// confirmed now. Known emails get the file's profile (a row that
    /// already has it is counted unchanged and left alone); pending ones
    /// become active; bouncing ones stay bouncing; unsubscribed ones are
    /// left untouched and listed in the summary. Profiles must have
    /// distinct emails (the CSV reader checks it).
    pub fn import_subscribers(
        &self,
        profiles: &[Profile],
        now: DateTime<Utc>,
    ) -> Result<ImportSummary, SubscriberError> {
        let tx = Transaction::new_unchecked(self.conn(), TransactionBehavior::Immediate)?;
        let mut summary = ImportSummary::default();
        for p in profiles {
            match by(&tx, "email = ?1", p.email.as_str())? {
                None => {
                    insert(&tx, p, SubscriberStatus::Active, None, now)?;
                    summary.added += 1;
                }
                Some(s) if s.status == SubscriberStatus::Unsubscribed => {
                    summary
                        .skipped_unsubscribed
                        .push(s.profile.email.to_string());
                }
                Some(s) if s.profile == *p && s.status != SubscriberStatus::Pending => {
                    summary.unchanged += 1;
                }
                Some(s) => {
                    update_profile(&tx, s.id, p, now)?;
                    if s.status == SubscriberStatus::Pending {
                        tx.execute(
                            "UPDATE subscribers SET confirmed_at = ?2, confirm_token_hash = NULL
                             WHERE id = ?1",
                            params![s.id, ts(&now)],
                        )?;
                        set_status(&tx, s.id, SubscriberStatus::Active, now)?;
                    }
                    summary.updated += 1;
                }
            }
        }
        tx.commit()?;
        Ok(summary)
    }
}

mod rows;

pub(super) use rows::{COLUMNS, by, by_id, from_row};

#[cfg(test)]
mod tests;

#[cfg(test)]
mod race_tests;
