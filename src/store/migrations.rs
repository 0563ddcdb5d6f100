//! Versioned schema migrations, applied in order at open.
//!
//! `PRAGMA user_version` records how many migrations ran. Each migration is
//! one SQL batch applied in its own transaction together with the version
//! bump, so a crash leaves the database at a whole version. Never edit a
//! migration that has shipped: add a new one.

use anyhow::Context;
use rusqlite::Connection;

/// The migrations, in order: one SQL file each under `migrations/`.
/// Index + 1 is the schema version after it.
const MIGRATIONS: &[&str] = &[
    include_str!("migrations/001_catalogue.sql"),
    include_str!("migrations/002_dedup.sql"),
    include_str!("migrations/003_subscribers.sql"),
    include_str!("migrations/004_outbox.sql"),
    include_str!("migrations/005_digests.sql"),
    include_str!("migrations/006_resolution_index.sql"),
    include_str!("migrations/007_merged_into_index.sql"),
    include_str!("migrations/008_drop_sightings_url_index.sql"),
    include_str!("migrations/009_crawl_pages_leases.sql"),
    include_str!("migrations/010_delivery_hardening.sql"),
    include_str!("migrations/011_curator_perimeter.sql"),
    include_str!("migrations/012_service.sql"),
    include_str!("migrations/013_components.sql"),
    include_str!("migrations/014_signup.sql"),
    include_str!("migrations/015_listing_order_indexes.sql"),
    include_str!("migrations/016_auth_tokens.sql"),
    include_str!("migrations/017_published.sql"),
    // Add new migrations here, one line each, in order.
];

/// The schema version this binary writes.
pub const LATEST: usize = MIGRATIONS.len();

/// The migration after which manage tokens are stored hashed.
const TOKENS_HASHED: usize = 14;

/// Before version 14 each subscriber's manage token was stored as is: its
/// hash moves to `subscriber_tokens` (links in emails already sent keep
/// working until they expire) and the column is overwritten with a random
/// value that nothing reads any more.
fn hash_legacy_tokens(tx: &rusqlite::Transaction) -> anyhow::Result<()> {
    let legacy: Vec<(i64, String)> = tx
        .prepare("SELECT id, manage_token FROM subscribers")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    use sha2::{Digest, Sha256};
    let now = chrono::Utc::now();
    let expires = now + chrono::Duration::days(super::TOKEN_VALIDITY_DAYS);
    for (id, token) in legacy {
        tx.execute(
            "INSERT OR IGNORE INTO subscriber_tokens (hash, subscriber_id, created_at, expires_at)
             VALUES (?1, ?2, ?3, ?4)",
            rusqlite::params![
                hex::encode(Sha256::digest(token.trim().as_bytes())),
                id,
                super::ts(&now),
                super::ts(&expires)
            ],
        )?;
    }
    tx.execute(
        "UPDATE subscribers SET manage_token = 'retired:' || lower(hex(randomblob(16)))",
        [],
    )?;
    Ok(())
}

/// Brings the database up to [`LATEST`]. Refuses a database written by a
/// newer Vigie rather than guessing.
/// Returns the version the database was at before.
pub fn migrate(conn: &mut Connection) -> anyhow::Result<usize> {
    let current: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let current = usize::try_from(current).unwrap_or(usize::MAX);
    anyhow::ensure!(
        current <= LATEST,
        "the database is at schema version {current} but this Vigie only knows up to {LATEST}: \
         upgrade Vigie or use another database file"
    );
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(current) {
        let version = index + 1;
        let tx = conn.transaction()?;
        tx.execute_batch(sql)
            .with_context(|| format!("applying migration {version}"))?;
        if version == TOKENS_HASHED {
            hash_legacy_tokens(&tx).context("applying migration 14 (hashing manage tokens)")?;
        }
        tx.pragma_update(None, "user_version", version as i64)?;
        tx.commit()?;
    }
    Ok(current)
}

#[cfg(test)]
mod token_tests {
    use super::*;

    #[test]
    fn manage_tokens_stored_in_clear_before_version_14_keep_working_hashed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v13.db");
        let mut conn = Connection::open(&path).unwrap();
        for sql in &MIGRATIONS[..TOKENS_HASHED - 1] {
            conn.execute_batch(sql).unwrap();
        }
        conn.pragma_update(None, "user_version", (TOKENS_HASHED - 1) as i64)
            .unwrap();
        let legacy = "ab".repeat(32);
        conn.execute(
            "INSERT INTO subscribers (email, name, audience, territory, frequency, status,
                 created_at, updated_at, manage_token)
             VALUES ('a@cergy.fr', 'Cergy', 'commune', 'commune:95127', 'daily', 'active',
                 '2026-01-01T00:00:00+00:00', '2026-01-01T00:00:00+00:00', ?1)",
            [&legacy],
        )
        .unwrap();
        assert_eq!(migrate(&mut conn).unwrap(), TOKENS_HASHED - 1);
        let column: String = conn
            .query_row("SELECT manage_token FROM subscribers", [], |r| r.get(0))
            .unwrap();
        assert!(column.starts_with("retired:"), "{column}");
        drop(conn);
        let store = crate::store::Store::open(&path).unwrap();
        let s = store
            .subscriber_by_token(&legacy, chrono::Utc::now())
            .unwrap()
            .expect("the link of an email sent before the upgrade still works");
        assert_eq!(s.profile.name, "Cergy");
    }
}
