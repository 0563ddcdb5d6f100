//! The crawl orchestrator: the one place where the whole ingestion flow of
//! a source reads top to bottom — fetch → extract → (detail pages) →
//! normalize → store — and where its outcome is reported.
//!
//! A failure anywhere is recorded on the source (error, failure count) and
//! never closes or deletes what earlier crawls stored.
//!
//! `pages` walks a source's listing pages and runs the CPU-bound stages
//! (extract, normalize) on a pool of one thread per core, page by page.

mod pages;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::Utc;
use futures::StreamExt;
use serde::Serialize;

use self::pages::{NormalizedBatch, Normalizer, cpu};
use crate::config::CrawlConfig;
use crate::extract::{self, RawItem};
use crate::fetch::page::PageRequest;
use crate::fetch::{FetchOutcome, FetchOverrides, FetchRequest, Fetcher, Validators};
use crate::normalize::item::NormalizedItem;
use crate::normalize::themes::ThemeRules;
use crate::source::SourceDef;
use crate::store::{CrawlRunRecord, Store};

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
    /// The first page answered 304: nothing was parsed.
    NotModified,
    Failed(String),
}

impl Outcome {
    pub fn as_str(&self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::NotModified => "not_modified",
            Outcome::Failed(_) => "failed",
        }
    }
}

/// The summary of one source's crawl, as shown in the final table.
#[derive(Debug, Clone, Serialize)]
pub struct SourceReport {
    pub source: String,
    pub outcome: Outcome,
    pub pages: u32,
    pub items: u32,
    pub new: u32,
    pub updated: u32,
    pub unchanged: u32,
    /// New sightings that joined a call already known (deduplication).
    pub merged: u32,
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
            items: 0,
            new: 0,
            updated: 0,
            unchanged: 0,
            merged: 0,
            errors: 0,
            warnings: Vec::new(),
            duration: Duration::ZERO,
        }
    }

    fn failed(source: String, error: String) -> SourceReport {
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
    /// Pages, errors, validators and fetch/extract warnings; its `items`
    /// (raw) are empty once normalized.
    pub collected: Collected,
    pub items: Vec<NormalizedItem>,
    /// What normalization said (unmapped labels, skipped items...).
    pub warnings: Vec<String>,
}

/// Raw items gathered from a source's pages (and detail pages).
#[derive(Debug, Default)]
pub struct Collected {
    pub items: Vec<RawItem>,
    pub pages: u32,
    pub errors: u32,
    pub warnings: Vec<String>,
    /// Validators of the first page, to store after a successful crawl.
    pub validators: Option<(Option<String>, Option<String>)>,
    /// Set when the first page was not modified.
    pub not_modified: bool,
    /// The error that stopped the crawl, if any (items before it are kept).
    pub fatal: Option<String>,
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
        let mut reports: Vec<SourceReport> = futures::stream::iter(sources)
            .map(|source| {
                let crawler = self.clone();
                let id = source.id.to_string();
                let source = Arc::new(source);
                async move {
                    let task = tokio::spawn(async move { crawler.refresh_source(&source).await });
                    task.await.unwrap_or_else(|e| {
                        SourceReport::failed(id, format!("internal error: {e}"))
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

    /// The whole flow for one source.
    pub async fn refresh_source(&self, source: &Arc<SourceDef>) -> SourceReport {
        let started = Instant::now();
        let started_at = Utc::now();
        let id = source.id.to_string();
        let mut report = SourceReport::empty(id.clone());

        let (sid, name, kind, url, priority) = (
            id.clone(),
            source.name.clone(),
            source.kind_name(),
            crate::redact::url(&source.url).to_string(),
            source.priority,
        );
        let review = source.review;
        let state = self
            .with_store(move |store| {
                store.upsert_source(&sid, &name, kind, &url, priority, review)?;
                store.fetch_state(&sid)
            })
            .await;
        let validators = match state {
            Ok(s) => Validators {
                etag: s.etag,
                last_modified: s.last_modified,
            },
            Err(e) => {
                return self
                    .finish(
                        report,
                        started,
                        started_at,
                        None,
                        Some(format!("database: {e:#}")),
                    )
                    .await;
            }
        };

        let Prepared {
            collected,
            items,
            warnings,
        } = self.prepare(source, validators).await;
        report.pages = collected.pages;
        report.errors = collected.errors;
        report.warnings = collected.warnings;
        if collected.not_modified {
            report.outcome = Outcome::NotModified;
            return self.finish(report, started, started_at, None, None).await;
        }
        report.warnings.extend(warnings);
        report.items = items.len() as u32;

        let mut fatal = collected.fatal;
        if fatal.is_none() && items.is_empty() && !source.is_feed() {
            // A listing or API that suddenly yields nothing has almost always
            // changed its layout: fail loudly rather than report "0 new".
            fatal = Some(
                "no items found: the selectors or paths match nothing (has the page layout changed?)".into(),
            );
        }
        if !items.is_empty() {
            let id2 = id.clone();
            match self
                .with_store(move |store| store.ingest(&id2, &items, Utc::now()))
                .await
            {
                Ok(out) => {
                    report.new = out.new.len() as u32;
                    report.updated = out.updated.len() as u32;
                    report.unchanged = out.unchanged;
                    report.merged = out.merged;
                }
                Err(e) => fatal = Some(format!("database: {e:#}")),
            }
        }
        let validators = if fatal.is_none() {
            collected.validators
        } else {
            None
        };
        self.finish(report, started, started_at, validators, fatal)
            .await
    }

    /// Fetch → extract → (detail pages) → normalize for one source, storing
    /// nothing: what `refresh_source` hands to the store.
    pub async fn prepare(&self, source: &Arc<SourceDef>, validators: Validators) -> Prepared {
        let normalizer = Normalizer {
            rules: Arc::clone(&self.rules),
            today: Utc::now()
                .with_timezone(&chrono_tz::Europe::Paris)
                .date_naive(),
        };
        let (collected, normalized) = if self.follows_details(source) {
            // Detail pages complete the raw items: normalize after them.
            let collected = self.collect_arc(source, validators).await;
            let (src, raw) = (Arc::clone(source), collected.items);
            let normalized = cpu(move || {
                let mut batch = NormalizedBatch::default();
                normalizer.run(&raw, &src, &mut batch);
                batch
            })
            .await;
            let collected = Collected {
                items: Vec::new(),
                ..collected
            };
            (collected, normalized)
        } else {
            // Each page is normalized as soon as it is extracted: raw
            // items and page bodies never pile up.
            self.walk_pages(source, validators, Some(normalizer)).await
        };
        Prepared {
            collected,
            items: normalized.items,
            warnings: normalized.warnings,
        }
    }

    /// Fetches and extracts every page of a source (listing pagination, then
    /// detail pages), without normalizing or storing anything. Used by
    /// `vigie sources check --fetch`.
    pub async fn collect(&self, source: &SourceDef, validators: Validators) -> Collected {
        self.collect_arc(&Arc::new(source.clone()), validators)
            .await
    }

    async fn collect_arc(&self, source: &Arc<SourceDef>, validators: Validators) -> Collected {
        let (mut out, _) = self.walk_pages(source, validators, None).await;
        if self.follows_details(source) {
            self.collect_details(source, &mut out).await;
        }
        out
    }

    fn follows_details(&self, source: &SourceDef) -> bool {
        self.config.follow_details && source.has_detail()
    }

    async fn collect_details(&self, source: &Arc<SourceDef>, out: &mut Collected) {
        let limit = self.config.max_details;
        let mut skipped = 0;
        for (n, item) in out.items.iter_mut().enumerate() {
            let Some(url) = item
                .link
                .as_deref()
                .and_then(|l| crate::normalize::url::canonical_url(item.base_url.as_ref(), l))
            else {
                continue;
            };
            if n >= limit {
                skipped += 1;
                continue;
            }
            let request =
                self.fetch_request(source, PageRequest::get(url.clone()), Validators::default());
            match self.fetcher.fetch(&request).await {
                Ok(FetchOutcome::Fetched(page)) => {
                    out.pages += 1;
                    let (src, mut raw) = (Arc::clone(source), std::mem::take(item));
                    let (raw, warnings) = cpu(move || {
                        let warnings = extract::extract_detail(&src, &page, &mut raw);
                        (raw, warnings)
                    })
                    .await;
                    *item = raw;
                    out.warnings.extend(warnings);
                }
                Ok(FetchOutcome::NotModified) => {}
                Err(e) => {
                    // The listing's data is kept: a dead detail page only
                    // costs the fields it would have added.
                    out.errors += 1;
                    out.warnings.push(format!("detail page {url}: {e}"));
                }
            }
        }
        if skipped > 0 {
            out.warnings.push(format!(
                "{skipped} detail pages not fetched (crawl.max_details = {limit})"
            ));
        }
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
        validators: Option<(Option<String>, Option<String>)>,
        fatal: Option<String>,
    ) -> SourceReport {
        if let Some(error) = fatal {
            report.outcome = Outcome::Failed(error);
            report.errors = report.errors.max(1);
        }
        report.duration = started.elapsed();
        let finished = Utc::now();
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
            error: match &report.outcome {
                Outcome::Failed(e) => Some(e.clone()),
                _ => None,
            },
            warnings: report.warnings.clone(),
        };
        if let Err(e) = self
            .with_store(move |store| store.record_run(&run, validators, finished))
            .await
        {
            tracing::error!(source = %report.source, "could not record the crawl run: {e:#}");
            if !matches!(report.outcome, Outcome::Failed(_)) {
                report.outcome = Outcome::Failed(format!("database: {e:#}"));
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
