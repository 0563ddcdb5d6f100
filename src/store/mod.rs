//! Store stage: the SQLite catalogue. Opens the file (WAL, foreign keys,
//! migrations), records sightings and the calls they resolve to, keeps the
//! history of every change, the fetch state of each source and a log of
//! crawl runs. Pipeline: normalize → **store** → match → deliver.
//!
//! The store is synchronous (rusqlite); async callers hand it work through
//! `spawn_blocking`. A crawl stores its items page by page (or a few pages
//! per transaction), so a crash keeps what was fetched; each transaction is
//! whole, and a page's state is written after its items (see `pages`).

mod auth_tokens;
pub mod backup;
mod calls;
mod checkpoint;
mod curate;
mod index;
mod ingest;
mod lease;
mod merge;
mod migrations;
mod pages;
mod perimeter;
mod public;
pub mod resolve;
mod sources;

use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use rusqlite::Connection;
use rusqlite::config::DbConfig;

pub use auth_tokens::StoredToken;
pub use calls::{CallFilter, CallOrder, CallPage, CallRecord, ChangeRecord, Keyset, fts_query};
pub use curate::{EventRecord, REVIEW_STATES, SightingRecord};
pub use ingest::IngestOutcome;
pub use lease::{Lease, LeaseAttempt, LeaseHolder};
pub use pages::{PageKey, PageState};
pub use public::SeenOn;
pub use sources::{CrawlRunRecord, FetchState, SourceStateRecord};

/// `PRAGMA application_id` of a Vigie database: ASCII "VGIE".
pub const APPLICATION_ID: i32 = 0x5647_4945;

/// An open catalogue.
pub struct Store {
    conn: Connection,
    /// Resolution's candidate index, built on first use (see `index`);
    /// `None` until then, and again whenever it may be stale.
    index: Option<index::BlockingIndex>,
    /// The thread that checkpoints `conn`'s WAL (file databases only).
    _checkpointer: Option<checkpoint::Checkpointer>,
}

impl Store {
    /// Opens (creating if needed) the SQLite file at `path` and migrates it.
    pub fn open(path: &Path) -> anyhow::Result<Store> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).with_context(|| {
                format!("creating the folder of the database {}", path.display())
            })?;
        }
        let conn = Connection::open(path)
            .with_context(|| format!("opening the database {}", path.display()))?;
        let mut store = Self::setup(conn)
            .with_context(|| format!("preparing the database {}", path.display()))?;
        store._checkpointer = checkpoint::Checkpointer::attach(&mut store.conn, path)
            .with_context(|| format!("starting the checkpointer of {}", path.display()))?;
        Ok(store)
    }

    /// Opens an existing database for reading only, as the web server does
    /// for every request: no migration, no checkpointer, no write. Fails
    /// with a clear message when the file is missing, is not Vigie's, or
    /// was not migrated to this version (the daemon migrates it at start).
    pub fn open_read_only(path: &Path) -> anyhow::Result<Store> {
        let conn = Connection::open_with_flags(
            path,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .with_context(|| format!("opening the database {} for reading", path.display()))?;
        conn.busy_timeout(Duration::from_secs(5))?;
        conn.set_prepared_statement_cache_capacity(64);
        let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        anyhow::ensure!(
            version == migrations::LATEST as i64,
            "the database {} is at schema version {version}, this Vigie expects {}: \
             start `vigie run` (or any command that writes) once to migrate it",
            path.display(),
            migrations::LATEST
        );
        Ok(Store {
            conn,
            index: None,
            _checkpointer: None,
        })
    }

    /// An in-memory catalogue, for tests and benchmarks.
    pub fn open_in_memory() -> anyhow::Result<Store> {
        Self::setup(Connection::open_in_memory()?)
    }

    fn setup(mut conn: Connection) -> anyhow::Result<Store> {
        // Before anything writes to the file (even the WAL switch).
        claim(&conn)?;
        // WAL lets the web server read while a crawl writes; NORMAL sync is
        // durable across application crashes (only an OS crash can lose the
        // last transactions), which is the usual trade-off with WAL.
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.busy_timeout(Duration::from_secs(10))?;
        // Ingest and merge use a few dozen distinct statements; the default
        // cache of 16 made them re-prepare on every item.
        conn.set_prepared_statement_cache_capacity(128);
        // Plans must not depend on bound values: otherwise SQLite re-prepares
        // a cached statement whenever a parameter it looked at changes
        // (measured: the sightings-of-a-call query of every ingested item).
        conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
        migrations::migrate(&mut conn)?;
        Ok(Store {
            conn,
            index: None,
            _checkpointer: None,
        })
    }

    /// Builds resolution's in-memory candidate index now rather than at the
    /// first ingest (a crawl pays it once per process). Returns how many
    /// sightings it holds.
    pub fn load_resolution_index(&mut self) -> anyhow::Result<usize> {
        let tx = self.conn.transaction()?;
        index::sync(&mut self.index, &tx)?;
        let n = self
            .index
            .as_ref()
            .map_or(0, index::BlockingIndex::sighting_count);
        tx.commit()?;
        Ok(n)
    }

    /// An estimate of the memory resolution's candidate index holds, in
    /// bytes, once built.
    pub fn resolution_index_bytes(&self) -> Option<usize> {
        self.index.as_ref().map(index::BlockingIndex::approx_bytes)
    }

    /// Copies every committed page into the database file and empties the
    /// WAL, waiting for readers if needed (a `TRUNCATE` checkpoint): after
    /// a bulk load or at shutdown, so that what follows starts from a
    /// settled file. The store's checkpointer thread may be in a checkpoint
    /// of its own, which SQLite answers "busy" at once, without its busy
    /// handler: this retries for up to five seconds.
    pub fn checkpoint(&self) -> anyhow::Result<()> {
        let mut tries = 0;
        loop {
            match self
                .conn
                .wal_checkpoint_v2(Some("main"), rusqlite::wal::CheckpointMode::TRUNCATE)
            {
                Ok(_) => return Ok(()),
                Err(e) if tries < 100 && is_busy(&e) => {
                    tries += 1;
                    std::thread::sleep(std::time::Duration::from_millis(50));
                }
                Err(e) => return Err(e).context("checkpointing the database"),
            }
        }
    }

    /// The underlying connection, for modules that own their own tables.
    pub fn conn(&self) -> &Connection {
        &self.conn
    }

    /// The connection for callers that open their own transactions (the
    /// digest builder enqueues its email in the transaction that records
    /// which calls it carries).
    pub fn conn_mut(&mut self) -> &mut Connection {
        &mut self.conn
    }
}

/// Makes sure the file is Vigie's before anything is written to it: a file
/// marked with [`APPLICATION_ID`] is; a new or empty one is marked now; a
/// Vigie database from before the mark (Vigie's `calls` table, a schema
/// version) is adopted and marked. Anything else belongs to another
/// application and is refused, so that Vigie never adds its tables to it.
fn claim(conn: &Connection) -> anyhow::Result<()> {
    let id: i32 = conn
        .query_row("PRAGMA application_id", [], |r| r.get(0))
        .context("reading the file's header: is it an SQLite database?")?;
    if id == APPLICATION_ID {
        return Ok(());
    }
    let other = "it is not a Vigie database: pass --db with a new file name (Vigie creates it), or the path of Vigie's own database";
    anyhow::ensure!(
        id == 0,
        "the file belongs to another application (application_id {id:#010x}); {other}"
    );
    let objects: i64 = conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0))?;
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let has_calls: bool = conn.query_row(
        "SELECT count(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = 'calls'",
        [],
        |r| r.get(0),
    )?;
    let empty = objects == 0 && version == 0;
    let older_vigie = has_calls && version > 0;
    anyhow::ensure!(
        empty || older_vigie,
        "the file holds {objects} tables or indexes of another application; {other}"
    );
    conn.pragma_update(None, "application_id", APPLICATION_ID)?;
    Ok(())
}

/// Formats an instant the way every timestamp column stores it.
/// How long the token of an email's manage and unsubscribe links works
/// (a year and a month: last year's digest can still unsubscribe).
pub const TOKEN_VALIDITY_DAYS: i64 = 400;

pub fn ts<Tz: chrono::TimeZone>(t: &chrono::DateTime<Tz>) -> String
where
    Tz::Offset: std::fmt::Display,
{
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod dedup_tests;

#[cfg(test)]
mod index_tests;

#[cfg(test)]
mod merge_tests;

#[cfg(test)]
mod perimeter_tests;

#[cfg(test)]
mod open_tests;

#[cfg(test)]
mod search_tests;

#[cfg(test)]
mod resolve_tests;

/// SQLite's "busy" or "locked": another connection holds what is needed.
fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    )
}
