//! Per-source fetch state (validators, failures, last error) and the log of
//! crawl runs. A failed crawl only touches these rows: calls and sightings
//! of a broken source are never closed or deleted.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use super::{Store, ts};

/// What the next conditional GET of a source needs, and its health.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FetchState {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub consecutive_failures: u32,
}

/// One crawl of one source, as logged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CrawlRunRecord {
    pub source_id: String,
    pub started_at: String,
    pub finished_at: String,
    /// `ok`, `not_modified` or `failed`.
    pub outcome: String,
    pub pages: u32,
    pub items: u32,
    pub new: u32,
    pub updated: u32,
    pub unchanged: u32,
    pub errors: u32,
    pub error: Option<String>,
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
             ON CONFLICT(id) DO UPDATE SET name = ?2, kind = ?3, url = ?4, priority = ?5, review = ?6,
               -- validators belong to the old URL: forget them when it changes
               etag = CASE WHEN url = ?4 THEN etag END,
               last_modified = CASE WHEN url = ?4 THEN last_modified END",
            params![id, name, kind, url, priority, review],
        )?;
        Ok(())
    }

    pub fn fetch_state(&self, id: &str) -> anyhow::Result<FetchState> {
        let state = self
            .conn
            .query_row(
                "SELECT etag, last_modified, consecutive_failures FROM sources WHERE id = ?1",
                [id],
                |r| {
                    Ok(FetchState {
                        etag: r.get(0)?,
                        last_modified: r.get(1)?,
                        consecutive_failures: r.get(2)?,
                    })
                },
            )
            .optional()?;
        Ok(state.unwrap_or_default())
    }

    /// Records a finished crawl: the run log row and the source's health.
    /// `validators` are stored only on success, so that a failed or partial
    /// crawl is retried in full next time.
    pub fn record_run(
        &self,
        run: &CrawlRunRecord,
        validators: Option<(Option<String>, Option<String>)>,
        finished: DateTime<Utc>,
    ) -> anyhow::Result<()> {
        let tx = self.conn.unchecked_transaction()?;
        tx.execute(
            "INSERT INTO crawl_runs (source_id, started_at, finished_at, outcome, pages, items, new,
               updated, unchanged, errors, error, warnings)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
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
            ],
        )?;
        let now = ts(&finished);
        if run.outcome == "failed" {
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
            if let Some((etag, last_modified)) = validators {
                tx.execute(
                    "UPDATE sources SET etag = ?2, last_modified = ?3 WHERE id = ?1",
                    params![run.source_id, etag, last_modified],
                )?;
            }
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
                    unchanged, errors, error, warnings, id
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
                warnings,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
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
