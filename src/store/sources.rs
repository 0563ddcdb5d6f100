//! Per-source health (failures, last error), the log of crawl runs, and
//! which sightings a source still lists. A failed crawl only touches the
//! health and the log: calls and sightings of a broken source are never
//! closed, deleted or flagged unlisted. Validators live per page (`pages`).

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use super::{Store, ts};

/// A source's fetch health.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FetchState {
    pub consecutive_failures: u32,
}

/// One crawl of one source, as logged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CrawlRunRecord {
    pub source_id: String,
    pub started_at: String,
    pub finished_at: String,
    /// `ok`, `not_modified`, `skipped` or `failed`.
    pub outcome: String,
    pub pages: u32,
    pub items: u32,
    pub new: u32,
    pub updated: u32,
    pub unchanged: u32,
    pub errors: u32,
    pub error: Option<String>,
    /// The stable short code of `error` (`timeout`, `http_503`...).
    pub error_code: Option<String>,
    pub warnings: Vec<String>,
}

/// A source's health as curators see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SourceStateRecord {
    pub id: String,
    pub name: String,
    pub last_run_at: Option<String>,
    pub last_success_at: Option<String>,
    pub consecutive_failures: u32,
    pub last_error: Option<String>,
    pub calls: u32,
}

impl Store {
    /// Creates or refreshes the row describing a source (its definition may
    /// have changed since the last crawl). Fetch state is left alone.
    pub fn upsert_source(
        &self,
        id: &str,
        name: &str,
        kind: &str,
        url: &str,
        priority: i32,
        review: bool,
    ) -> anyhow::Result<()> {
        self.conn.execute(
            "INSERT INTO sources (id, name, kind, url, priority, review) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT(id) DO UPDATE SET name = ?2, kind = ?3, url = ?4, priority = ?5, review = ?6",
            params![id, name, kind, url, priority, review],
        )?;
        Ok(())
    }

    pub fn fetch_state(&self, id: &str) -> anyhow::Result<FetchState> {
        let state = self
            .conn
            .query_row(
                "SELECT consecutive_failures FROM sources WHERE id = ?1",
                [id],
                |r| {
                    Ok(FetchState {
                        consecutive_failures: r.get(0)?,
                    })
                },
            )
            .optional()?;
        Ok(state.unwrap_or_default())
    }

    /// Records a finished crawl: the run log row and the source's health
    /// (a skipped run leaves the health alone: the source was not fetched).
    pub fn record_run(&self, run: &CrawlRunRecord, finished: DateTime<Utc>) -> anyhow::Result<()> {
        let tx = self.conn.unchecked_transaction()?;
        tx.execute(
            "INSERT INTO crawl_runs (source_id, started_at, finished_at, outcome, pages, items, new,
               updated, unchanged, errors, error, warnings, error_code)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
            params![
                run.source_id,
                run.started_at,
                run.finished_at,
                run.outcome,
                run.pages,
                run.items,
                run.new,
                run.updated,
                run.unchanged,
                run.errors,
                run.error,
                serde_json::to_string(&run.warnings)?,
                run.error_code,
            ],
        )?;
        let now = ts(&finished);
        if run.outcome == "skipped" {
            // Another crawl holds the source: its health is that crawl's.
        } else if run.outcome == "failed" {
            tx.execute(
                "UPDATE sources SET last_run_at = ?2, last_error = ?3,
                   consecutive_failures = consecutive_failures + 1 WHERE id = ?1",
                params![run.source_id, now, run.error],
            )?;
        } else {
            tx.execute(
                "UPDATE sources SET last_run_at = ?2, last_success_at = ?2, last_error = NULL,
                   consecutive_failures = 0 WHERE id = ?1",
                params![run.source_id, now],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// The most recent runs, newest first.
    pub fn recent_runs(
        &self,
        source_id: Option<&str>,
        limit: u32,
    ) -> anyhow::Result<Vec<CrawlRunRecord>> {
        let mut stmt = self.conn.prepare(
            "SELECT source_id, started_at, finished_at, outcome, pages, items, new, updated,
                    unchanged, errors, error, warnings, id, error_code
             FROM crawl_runs WHERE ?1 IS NULL OR source_id = ?1
             ORDER BY id DESC LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![source_id, limit], |r| {
            let warnings: String = r.get(11)?;
            let id: i64 = r.get(12)?;
            // Unreadable warnings are an error naming the row, not "none".
            let warnings = serde_json::from_str(&warnings).map_err(|e| {
                rusqlite::Error::FromSqlConversionFailure(
                    11,
                    rusqlite::types::Type::Text,
                    format!("crawl_runs row {id}: column warnings = `{warnings}`: {e}").into(),
                )
            })?;
            Ok(CrawlRunRecord {
                source_id: r.get(0)?,
                started_at: r.get(1)?,
                finished_at: r.get(2)?,
                outcome: r.get(3)?,
                pages: r.get(4)?,
                items: r.get(5)?,
                new: r.get(6)?,
                updated: r.get(7)?,
                unchanged: r.get(8)?,
                errors: r.get(9)?,
                error: r.get(10)?,
                error_code: r.get(13)?,
                warnings,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// After a complete, successful crawl of `source_id` that listed the
    /// items `listed` (sighting item keys), flags the source's other
    /// sightings unlisted since `now` (those already flagged keep their
    /// date) and clears the flag of the listed ones. Nothing is deleted; a
    /// call is unlisted when every one of its sightings, from any source,
    /// is. Returns how many sightings became unlisted.
    pub fn update_listing(
        &self,
        source_id: &str,
        listed: &HashSet<String>,
        now: DateTime<Utc>,
    ) -> anyhow::Result<usize> {
        let now = ts(&now);
        let tx = self.conn.unchecked_transaction()?;
        let rows: Vec<(i64, String, bool)> = tx
            .prepare_cached(
                "SELECT id, item_key, unlisted_since IS NOT NULL FROM sightings WHERE source_id = ?1",
            )?
            .query_map([source_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<Result<_, _>>()?;
        let mut flagged = 0;
        {
            let mut flag =
                tx.prepare_cached("UPDATE sightings SET unlisted_since = ?2 WHERE id = ?1")?;
            let mut clear =
                tx.prepare_cached("UPDATE sightings SET unlisted_since = NULL WHERE id = ?1")?;
            for (id, key, unlisted) in rows {
                match (listed.contains(&key), unlisted) {
                    (false, false) => {
                        flag.execute(params![id, now])?;
                        flagged += 1;
                    }
                    (true, true) => {
                        clear.execute([id])?;
                    }
                    _ => {}
                }
            }
        }
        tx.commit()?;
        Ok(flagged)
    }

    /// Every known source with its health and number of calls.
    pub fn source_states(&self) -> anyhow::Result<Vec<SourceStateRecord>> {
        let mut stmt = self.conn.prepare(
            "SELECT s.id, s.name, s.last_run_at, s.last_success_at, s.consecutive_failures,
                    s.last_error, (SELECT count(*) FROM sightings g WHERE g.source_id = s.id)
             FROM sources s ORDER BY s.id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(SourceStateRecord {
                id: r.get(0)?,
                name: r.get(1)?,
                last_run_at: r.get(2)?,
                last_success_at: r.get(3)?,
                consecutive_failures: r.get(4)?,
                last_error: r.get(5)?,
                calls: r.get(6)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
