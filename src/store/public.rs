//! What the public web reads besides the catalogue queries: where a call
//! was seen (its sightings with their sources), whether it may be shown,
//! and whether anything changed since a cached answer was built.

use serde::Serialize;

use super::Store;

/// One source that lists (or listed) a call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SeenOn {
    pub source_id: String,
    pub source_name: String,
    /// The item's own page on that source, as stored (check it before
    /// making a link of it).
    pub url: Option<String>,
    pub first_seen: String,
    pub last_seen: String,
    /// The source no longer lists it.
    pub unlisted: bool,
}

impl Store {
    /// The sightings of call `id`, first seen first.
    pub fn seen_on(&self, id: i64) -> anyhow::Result<Vec<SeenOn>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT s.source_id, coalesce(src.name, s.source_id), s.url, s.first_seen,
                    s.last_seen, s.unlisted_since IS NOT NULL
             FROM sightings s LEFT JOIN sources src ON src.id = s.source_id
             WHERE s.call_id = ?1 ORDER BY s.first_seen, s.id",
        )?;
        let rows = stmt.query_map([id], |r| {
            Ok(SeenOn {
                source_id: r.get(0)?,
                source_name: r.get(1)?,
                url: r.get(2)?,
                first_seen: r.get(3)?,
                last_seen: r.get(4)?,
                unlisted: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// SQLite's `data_version` for this connection: it changes whenever
    /// another connection commits (a crawl, a curator's decision), so a
    /// cache kept beside one long-lived connection knows when to rebuild.
    pub fn data_version(&self) -> anyhow::Result<i64> {
        Ok(self
            .conn
            .query_row("PRAGMA data_version", [], |r| r.get(0))?)
    }

    /// Call `id` as the public may see it: following merges to the call
    /// kept (compare its id with `id` to redirect), `None` when unknown or
    /// not approved (waiting for a curator, or rejected).
    pub fn get_public_call(
        &self,
        id: i64,
        now: chrono::DateTime<chrono::Utc>,
    ) -> anyhow::Result<Option<super::CallRecord>> {
        match self.get_call(id, now)? {
            Some(call) if self.is_public(call.id)? => Ok(Some(call)),
            _ => Ok(None),
        }
    }

    /// Whether a curator approved call `id` (what the public may see).
    fn is_public(&self, id: i64) -> anyhow::Result<bool> {
        Ok(self
            .conn
            .prepare_cached("SELECT review = 'approved' FROM calls WHERE id = ?1")?
            .query_row([id], |r| r.get(0))?)
    }
}
