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
    // Add new migrations here, one line each, in order.
];

/// The schema version this binary writes.
pub const LATEST: usize = MIGRATIONS.len();

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
        tx.pragma_update(None, "user_version", version as i64)?;
        tx.commit()?;
    }
    Ok(current)
}
