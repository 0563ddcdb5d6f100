//! The API tokens of sources with `[auth]` (see `crawl::auth`): one per
//! source, with the fingerprint of the key it was obtained with and when
//! it ends. A token stays in this table only; it is never printed.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};

use super::{Store, ts};

/// A stored token.
#[derive(Clone)]
pub struct StoredToken {
    pub token: String,
    pub obtained_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

impl std::fmt::Debug for StoredToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredToken")
            .field("token", &crate::redact::MASK)
            .field("obtained_at", &self.obtained_at)
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

fn parse(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

impl Store {
    /// The token stored for `source` if it was obtained with the key of
    /// `fingerprint` (a token of another key is not returned).
    pub fn auth_token(
        &self,
        source: &str,
        fingerprint: &str,
    ) -> anyhow::Result<Option<StoredToken>> {
        let row: Option<(String, String, String)> = self
            .conn
            .query_row(
                "SELECT token, obtained_at, expires_at FROM auth_tokens
                 WHERE source_id = ?1 AND key_fingerprint = ?2",
                params![source, fingerprint],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        Ok(row.and_then(|(token, obtained, expires)| {
            Some(StoredToken {
                token,
                obtained_at: parse(&obtained)?,
                expires_at: parse(&expires)?,
            })
        }))
    }

    /// Stores `token` as `source`'s, replacing any other.
    pub fn save_auth_token(
        &self,
        source: &str,
        fingerprint: &str,
        token: &StoredToken,
    ) -> anyhow::Result<()> {
        self.conn.execute(
            "INSERT INTO auth_tokens (source_id, key_fingerprint, token, obtained_at, expires_at)
             VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT(source_id) DO UPDATE SET key_fingerprint = excluded.key_fingerprint,
                 token = excluded.token, obtained_at = excluded.obtained_at,
                 expires_at = excluded.expires_at",
            params![
                source,
                fingerprint,
                token.token,
                ts(&token.obtained_at),
                ts(&token.expires_at)
            ],
        )?;
        Ok(())
    }

    /// Forgets `source`'s token (the API refused it).
    pub fn forget_auth_token(&self, source: &str) -> anyhow::Result<()> {
        self.conn
            .execute("DELETE FROM auth_tokens WHERE source_id = ?1", [source])?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_found_only_with_the_key_it_was_obtained_with() {
        let store = Store::open_in_memory().unwrap();
        assert!(store.auth_token("at", "k1").unwrap().is_none());
        let now = Utc::now();
        let token = StoredToken {
            token: "tok-1".into(),
            obtained_at: now,
            expires_at: now + chrono::Duration::hours(24),
        };
        store.save_auth_token("at", "k1", &token).unwrap();
        let got = store.auth_token("at", "k1").unwrap().unwrap();
        assert_eq!(got.token, "tok-1");
        assert_eq!(ts(&got.expires_at), ts(&token.expires_at));
        assert!(
            store.auth_token("at", "k2").unwrap().is_none(),
            "another key"
        );
        assert!(store.auth_token("other", "k1").unwrap().is_none());
        assert!(!format!("{got:?}").contains("tok-1"));

        let renewed = StoredToken {
            token: "tok-2".into(),
            ..token
        };
        store.save_auth_token("at", "k2", &renewed).unwrap();
        assert!(store.auth_token("at", "k1").unwrap().is_none(), "replaced");
        assert_eq!(
            store.auth_token("at", "k2").unwrap().unwrap().token,
            "tok-2"
        );
        store.forget_auth_token("at").unwrap();
        assert!(store.auth_token("at", "k2").unwrap().is_none());
    }
}
