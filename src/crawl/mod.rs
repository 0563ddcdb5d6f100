//! The crawl orchestrator: the one place where the whole ingestion flow of
//! a source reads top to bottom — lease → fetch → extract → (detail pages)
//! → normalize → store, page by page → listing — and where its outcome is
//! reported.
//!
//! A failure anywhere is recorded on the source (error, code, failure
//! count) and never closes or deletes what earlier crawls stored; the
//! pages stored before it are kept. Which calls a source no longer lists is
//! decided only after a complete, successful crawl of it.
//!
//! `pages` walks a source's listing pages (conditional GET per page),
//! `cpu` runs the CPU-bound stages (extract, normalize) on a pool of one
//! thread per core, `writer` stores each page's items as they come, and
//! `lease` makes sure one crawl of a source runs at a time.

mod auth;
mod cpu;
mod error;
mod lease;
mod order;
mod pages;
mod writer;

pub use error::{AuthError, CrawlError};
pub use lease::{HeldLease, LEASE_TTL, LeaseTake};

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::Utc;
use futures::StreamExt;
use serde::Serialize;
use sha2::{Digest, Sha256};
use tokio::sync::mpsc;

use self::pages::{Normalizer, PageDone, Walk};
use crate::config::CrawlConfig;
use crate::extract::RawItem;
use crate::fetch::page::PageRequest;
use crate::fetch::{FetchOverrides, FetchRequest, Fetcher, Validators};
use crate::normalize::item::NormalizedItem;
use crate::normalize::themes::ThemeRules;
use crate::source::SourceDef;
use crate::store::{CrawlRunRecord, Lease, Store};

/// Everything a crawl shares between sources.
#[derive(Clone)]
pub struct Crawler {
    pub fetcher: Fetcher,
    pub store: Arc<Mutex<Store>>,
    pub rules: Arc<ThemeRules>,
    pub config: CrawlConfig,
}

/// How one source's crawl ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Ok,
    /// Every page it fetched answered 304: nothing was parsed.
    NotModified,
    /// Another crawl (another process, or another task of this one) holds
    /// the source's lease: nothing was fetched.
    Skipped(Lease),
    Failed(CrawlError),
}

impl Outcome {
    pub fn as_str(&self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::NotModified => "not_modified",
            Outcome::Skipped(_) => "skipped",
            Outcome::Failed(_) => "failed",
        }
    }

    /// The error of a failed crawl.
    pub fn error(&self) -> Option<&CrawlError> {
        match self {
            Outcome::Failed(e) => Some(e),
            _ => None,
        }
    }
}

impl std::fmt::Display for Outcome {
    /// For people: `ok`, `not modified`, `skipped: another crawl holds it
    /// since …`, `FAILED: <error>`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Outcome::Ok => f.write_str("ok"),
            Outcome::NotModified => f.write_str("not modified"),
            Outcome::Skipped(lease) => write!(
                f,
                "skipped: another crawl holds it since {} (process {} on {})",
                crate::store::ts(&lease.since),
                lease.holder.pid,
                lease.holder.host
            ),
            Outcome::Failed(e) => write!(f, "FAILED: {e}"),
        }
    }
}

/// The summary of one source's crawl, as shown in the final table.
#[derive(Debug, Clone, Serialize)]
pub struct SourceReport {
    pub source: String,
    pub outcome: Outcome,
    /// Pages fetched (listing and detail pages).
    pub pages: u32,
    /// Listing pages that answered 304 (their stored items still count).
    pub pages_not_modified: u32,
    pub items: u32,
    pub new: u32,
    pub updated: u32,
    pub unchanged: u32,
    /// New sightings that joined a call already known (deduplication).
    pub merged: u32,
    /// Sightings of this source flagged unlisted by this crawl.
    pub unlisted: u32,
    pub errors: u32,
    pub warnings: Vec<String>,
    pub duration: Duration,
}

impl SourceReport {
    /// A report with nothing counted yet.
    fn empty(source: String) -> SourceReport {
        SourceReport {
            source,
            outcome: Outcome::Ok,
            pages: 0,
            pages_not_modified: 0,
            items: 0,
            new: 0,
            updated: 0,
            unchanged: 0,
            merged: 0,
            unlisted: 0,
            errors: 0,
            warnings: Vec::new(),
            duration: Duration::ZERO,
        }
    }

    fn failed(source: String, error: CrawlError) -> SourceReport {
        SourceReport {
            outcome: Outcome::Failed(error),
            errors: 1,
            ..SourceReport::empty(source)
        }
    }
}

/// A source's items ready for the store, with what came up on the way.
#[derive(Debug)]
pub struct Prepared {
    /// Pages, errors and warnings (its raw `items` are empty).
    pub collected: Collected,
    pub items: Vec<NormalizedItem>,
}

/// What a walk of a source's pages gathered.
#[derive(Debug, Default)]
pub struct Collected {
    /// Raw items, when the walk keeps them (`collect`).
    pub items: Vec<RawItem>,
    /// Pages fetched (listing and detail pages).
    pub pages: u32,
    /// Listing pages that answered 304 and were replayed.
    pub not_modified_pages: u32,
    /// Normalized items found on the pages fetched.
    pub items_found: u32,
    pub errors: u32,
    /// Fetch, extract and normalize warnings.
    pub warnings: Vec<String>,
    /// Listing items skipped for want of a title (see `Extraction::untitled`).
    pub untitled: u32,
    /// The error that stopped the walk, if any (pages before it are kept).
    pub fatal: Option<CrawlError>,
}

/// A fingerprint of a source's definition file (its URL if the file cannot
/// be read): page states recorded under another definition are dropped,
/// so that a curator's fix of the selectors re-reads every page.
fn definition_fingerprint(source: &SourceDef) -> String {
    let mut hash = Sha256::new();
    match std::fs::read(&source.path) {
        Ok(bytes) => hash.update(&bytes),
        Err(_) => hash.update(source.url.as_str().as_bytes()),
    }
    hex::encode(&hash.finalize()[..12])
}

impl Crawler {
    /// Crawls `sources`, at most `config.concurrency` at a time; calls
    /// `on_done` as each one finishes (for progress display).
    pub async fn crawl_all(
        &self,
        sources: Vec<SourceDef>,
        on_done: impl Fn(&SourceReport),
    ) -> Vec<SourceReport> {
        // Each source is its own task, so that the parsing and normalizing
        // of different sources run in parallel on the runtime's threads.
        // Hosts take turns, so that the sources in flight are not all
        // waiting on one host's politeness slots (see `order`).
        let sources = order::by_host(sources);
        let mut reports: Vec<SourceReport> = futures::stream::iter(sources)
            .map(|source| {
                let crawler = self.clone();
                let id = source.id.to_string();
                let source = Arc::new(source);
                async move {
                    let task = tokio::spawn(async move { crawler.refresh_source(&source).await });
                    task.await.unwrap_or_else(|e| {
                        SourceReport::failed(id, CrawlError::Internal(e.to_string()))
                    })
                }
            })
            .buffer_unordered(self.config.concurrency.max(1))
            .inspect(|r| on_done(r))
            .collect()
            .await;
        reports.sort_by(|a, b| a.source.cmp(&b.source));
        reports
    }

    /// The whole flow for one source, under its lease: a source another
    /// crawl holds is skipped (`Outcome::Skipped`), never fetched twice at
    /// once.
    pub async fn refresh_source(&self, source: &Arc<SourceDef>) -> SourceReport {
        let started = Instant::now();
        let started_at = Utc::now();
        let id = source.id.to_string();
        let report = SourceReport::empty(id.clone());

        let (sid, name, kind, url, priority) = (
            id.clone(),
            source.name.clone(),
            source.kind_name(),
            crate::redact::url(&source.url).to_string(),
            source.priority,
        );
        let review = source.review;
        if let Err(e) = self
            .with_store(move |store| store.upsert_source(&sid, &name, kind, &url, priority, review))
            .await
        {
            let error = CrawlError::database(&e);
            return self.finish(report, started, started_at, Some(error)).await;
        }
        let lease = match self.take_lease(&id).await {
            Ok(LeaseTake::Acquired(lease)) => lease,
            Ok(LeaseTake::Held(lease)) => {
                let report = SourceReport {
                    outcome: Outcome::Skipped(lease),
                    ..report
                };
                return self.finish(report, started, started_at, None).await;
            }
            Err(error) => return self.finish(report, started, started_at, Some(error)).await,
        };
        let (report, fatal) = self.crawl_leased(source, report).await;
        let report = self.finish(report, started, started_at, fatal).await;
        lease.release().await;
        report
    }

    /// Fetch → extract → normalize → store, page by page, then the listing
    /// update; the caller holds the source's lease.
    async fn crawl_leased(
        &self,
        source: &Arc<SourceDef>,
        mut report: SourceReport,
    ) -> (SourceReport, Option<CrawlError>) {
        let id = report.source.clone();
        let definition = definition_fingerprint(source);
        let (sid, def) = (id.clone(), definition.clone());
        let known = match self
            .with_store(move |store| store.page_states(&sid, &def))
            .await
        {
            Ok(known) => known,
            Err(e) => return (report, Some(CrawlError::database(&e))),
        };
        let (pages_tx, pages_rx) = mpsc::channel::<PageDone>(4);
        let writer = {
            let crawler = self.clone();
            let (id, definition) = (id.clone(), definition.clone());
            tokio::spawn(async move { crawler.write_pages(id, definition, pages_rx).await })
        };
        let walk = Walk::Normalize {
            normalizer: self.normalizer(),
            pages: pages_tx,
        };
        let collected = self.walk_pages(source, &known, walk).await;
        let written = match writer.await {
            Ok(written) => written,
            Err(e) => writer::Written {
                error: Some(CrawlError::Internal(e.to_string())),
                ..Default::default()
            },
        };
        report.pages = collected.pages;
        report.pages_not_modified = collected.not_modified_pages;
        report.errors = collected.errors;
        report.warnings = collected.warnings;
        report.items = written.listed.len() as u32;
        report.new = written.new;
        report.updated = written.updated;
        report.unchanged = written.unchanged;
        report.merged = written.merged;

        let mut fatal = written.error.or(collected.fatal);
        if fatal.is_none() && collected.pages == 0 && collected.not_modified_pages > 0 {
            report.outcome = Outcome::NotModified;
            return (report, None);
        }
        if fatal.is_none() && written.listed.is_empty() && !source.is_feed() {
            // A listing or API that suddenly yields nothing has almost always
            // changed its layout: fail loudly rather than report "0 new".
            fatal = Some(CrawlError::LayoutChanged);
        }
        // The crawl went through every page without error: the source's
        // sightings it did not list are no longer listed. Never after a
        // failed, partial, skipped or not-modified crawl, nor when it
        // listed nothing at all (an empty feed is more often a broken one
        // than a funder withdrawing every call at once).
        if fatal.is_none() && !written.listed.is_empty() {
            let listed = written.listed;
            match self
                .with_store(move |store| store.update_listing(&id, &listed, Utc::now()))
                .await
            {
                Ok(n) => report.unlisted = n as u32,
                Err(e) => fatal = Some(CrawlError::database(&e)),
            }
        }
        (report, fatal)
    }

    fn normalizer(&self) -> Normalizer {
        Normalizer {
            rules: Arc::clone(&self.rules),
            today: Utc::now()
                .with_timezone(&chrono_tz::Europe::Paris)
                .date_naive(),
        }
    }

    /// Fetch → extract → (detail pages) → normalize for one source, every
    /// page unconditionally, storing nothing. Used by the pipeline bench.
    pub async fn prepare(&self, source: &Arc<SourceDef>) -> Prepared {
        let (pages_tx, mut pages_rx) = mpsc::channel::<PageDone>(4);
        let gather = tokio::spawn(async move {
            let mut items = Vec::new();
            while let Some(page) = pages_rx.recv().await {
                if let PageDone::Fetched(page) = page {
                    items.extend(page.items);
                }
            }
            items
        });
        let walk = Walk::Normalize {
            normalizer: self.normalizer(),
            pages: pages_tx,
        };
        let collected = self.walk_pages(source, &HashMap::new(), walk).await;
        let items = gather.await.unwrap_or_default();
        Prepared { collected, items }
    }

    /// Fetches and extracts every page of a source (listing pagination, then
    /// detail pages), unconditionally, without normalizing or storing
    /// anything. Used by `vigie sources check --fetch`.
    pub async fn collect(&self, source: &SourceDef) -> Collected {
        let source = Arc::new(source.clone());
        self.walk_pages(&source, &HashMap::new(), Walk::Collect)
            .await
    }

    fn follows_details(&self, source: &SourceDef) -> bool {
        self.config.follow_details && source.has_detail()
    }

    fn fetch_request(
        &self,
        source: &SourceDef,
        page: PageRequest,
        validators: Validators,
    ) -> FetchRequest {
        FetchRequest {
            page,
            headers: source.headers.clone(),
            validators,
            overrides: FetchOverrides {
                min_spacing_ms: source.politeness.min_spacing_ms,
                timeout_secs: source.politeness.timeout_secs,
                max_body_bytes: source.politeness.max_body_bytes,
                robots: source.politeness.robots,
            },
        }
    }

    async fn finish(
        &self,
        mut report: SourceReport,
        started: Instant,
        started_at: chrono::DateTime<Utc>,
        fatal: Option<CrawlError>,
    ) -> SourceReport {
        if let Some(error) = fatal {
            report.outcome = Outcome::Failed(error);
            report.errors = report.errors.max(1);
        }
        report.duration = started.elapsed();
        let finished = Utc::now();
        let error = report.outcome.error();
        let run = CrawlRunRecord {
            source_id: report.source.clone(),
            started_at: crate::store::ts(&started_at),
            finished_at: crate::store::ts(&finished),
            outcome: report.outcome.as_str().to_string(),
            pages: report.pages,
            items: report.items,
            new: report.new,
            updated: report.updated,
            unchanged: report.unchanged,
            errors: report.errors,
            error: error.map(ToString::to_string),
            error_code: error.map(|e| e.code().into_owned()),
            warnings: report.warnings.clone(),
        };
        if let Err(e) = self
            .with_store(move |store| store.record_run(&run, finished))
            .await
        {
            tracing::error!(source = %report.source, "could not record the crawl run: {e:#}");
            if !matches!(report.outcome, Outcome::Failed(_)) {
                report.outcome = Outcome::Failed(CrawlError::database(&e));
            }
        }
        report
    }

    /// Runs a store operation on the blocking pool.
    async fn with_store<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Store) -> anyhow::Result<T> + Send + 'static,
    ) -> anyhow::Result<T> {
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || {
            let mut guard = store
                .lock()
                .map_err(|_| anyhow::anyhow!("the database lock was poisoned by a crash"))?;
            f(&mut guard)
        })
        .await?
    }
}

/// The Tokio runtime a crawl (or any command that fetches) runs on.
pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        // Store calls run on the blocking pool and wait for the one store
        // lock: more threads than this only wait, and each kept its own
        // allocator heap (the crawl's peak RSS went from 63–69 to 55 MiB).
        // DNS lookups share the pool; a few threads are plenty for them.
        .max_blocking_threads(8)
        .build()?)
}
