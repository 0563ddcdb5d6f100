//! The page walk of one source: fetch a listing page (conditionally, with
//! the validators stored for that very page), hand it to the CPU stage
//! (extract, detail pages, normalize), pass what it gave on, follow `next`,
//! repeat. Part of the crawl orchestrator (`crawl::Crawler::refresh_source`,
//! `prepare` and `collect`).
//!
//! Conditional GET is per page, and a page that answers 304 is *replayed*
//! from its stored state (see `store::pages`): the walk goes on to the
//! request that page led to last time, so a change on page 50 is seen
//! even when page 1 did not change. Only one page body per source is alive
//! at a time; each page's items go to the store writer (`writer`) as soon
//! as they are normalized, so a crawl killed midway keeps them.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use chrono::NaiveDate;
use tokio::sync::mpsc;

use super::auth::AuthSession;
use super::cpu::cpu;
use super::{Collected, CrawlError, Crawler};
use crate::extract::{self, RawItem};
use crate::fetch::page::{Page, PageRequest};
use crate::fetch::{FetchOutcome, Validators};
use crate::normalize::item::NormalizedItem;
use crate::normalize::themes::ThemeRules;
use crate::normalize::{NormalizeContext, Normalized, normalize_item};
use crate::source::SourceDef;
use crate::store::{PageKey, PageState};

/// What normalizing needs, owned so that it can move to the CPU pool.
#[derive(Clone)]
pub(crate) struct Normalizer {
    pub rules: Arc<ThemeRules>,
    pub today: NaiveDate,
}

/// Normalized items and what normalization said about them.
#[derive(Debug, Default)]
pub(crate) struct NormalizedBatch {
    pub items: Vec<NormalizedItem>,
    pub warnings: Vec<String>,
}

impl Normalizer {
    /// Normalizes `raw` items of `source`; skipped items become warnings.
    pub fn run(&self, raw: &[RawItem], source: &SourceDef, out: &mut NormalizedBatch) {
        let ctx = NormalizeContext {
            rules: &self.rules,
            today: self.today,
        };
        out.items.reserve(raw.len());
        for item in raw {
            match normalize_item(item, source, &ctx) {
                Ok(Normalized { item, warnings }) => {
                    out.warnings.extend(warnings);
                    out.items.push(item);
                }
                Err(skip) => out.warnings.push(format!("skipped: {skip}")),
            }
        }
    }
}

/// One listing page done, on its way to the store writer.
#[derive(Debug)]
pub(crate) enum PageDone {
    /// Fetched and normalized.
    Fetched(Box<FetchedPage>),
    /// Answered 304: the items it listed last time are still listed.
    Replayed { item_keys: Vec<String> },
}

/// A fetched listing page: its items, and the state to record once they
/// are stored.
#[derive(Debug)]
pub(crate) struct FetchedPage {
    pub key: PageKey,
    pub state: PageState,
    pub items: Vec<NormalizedItem>,
}

/// What the walk does with each page.
pub(crate) enum Walk {
    /// Keep the raw items (with their detail pages) in `Collected::items`:
    /// `sources check --fetch`.
    Collect,
    /// Normalize each page and send it on.
    Normalize {
        normalizer: Normalizer,
        pages: mpsc::Sender<PageDone>,
    },
}

/// What the CPU stage made of one page.
struct PageWork {
    result: Result<extract::Extraction, extract::ExtractError>,
    normalized: NormalizedBatch,
}

fn work_page(
    source: &SourceDef,
    request: &PageRequest,
    page: &Page,
    index: u32,
    normalizer: Option<&Normalizer>,
) -> PageWork {
    let mut normalized = NormalizedBatch::default();
    let mut result = extract::extract_page(source, request, page, index);
    if let (Some(normalizer), Ok(extraction)) = (normalizer, &mut result) {
        normalizer.run(&extraction.items, source, &mut normalized);
        // The raw items are not needed any more: free them now.
        extraction.items = Vec::new();
    }
    PageWork { result, normalized }
}

impl Crawler {
    /// Walks every listing page of `source`. `known` holds the stored state
    /// of its pages (empty: every page is fetched unconditionally).
    pub(crate) async fn walk_pages(
        &self,
        source: &Arc<SourceDef>,
        known: &HashMap<PageKey, PageState>,
        walk: Walk,
    ) -> Collected {
        let mut out = Collected::default();
        let mut request = Some(extract::first_request(source));
        let mut index = 0u32;
        let mut details_fetched = 0usize;
        let mut details_skipped = 0usize;
        let with_details = self.follows_details(source);
        // Pagination that loops back to a page already fetched stops there.
        let mut visited = HashSet::new();
        // The API token of a source with `[auth]`, shared by its pages.
        let mut auth = AuthSession::default();
        while let Some(page_request) = request.take() {
            if !visited.insert((page_request.url.to_string(), page_request.body.clone())) {
                out.warnings.push(format!(
                    "pagination loops back to {}: stopped there",
                    crate::redact::url(&page_request.url)
                ));
                break;
            }
            let key = PageKey::of(&page_request);
            // With detail pages, a listing page is always fetched in full:
            // its items' links are needed to fetch their detail pages
            // (which hold fields the listing does not, and change on their
            // own), and a 304 carries none. Those sources fetch every
            // detail page on every crawl anyway, so little is lost.
            let stored = known.get(&key).filter(|_| !with_details);
            let conditional = stored.map(|s| s.validators.clone()).unwrap_or_default();
            let page = match self
                .fetch_listing(source, &page_request, conditional, &mut auth, index)
                .await
            {
                Ok(FetchOutcome::NotModified) => {
                    let Some(stored) = stored else {
                        // A 304 to an unconditional request: nothing to
                        // replay, so nothing is known past this page.
                        out.warnings.push(format!(
                            "{} answered 304 to an unconditional request: stopped there",
                            page_request.url
                        ));
                        break;
                    };
                    out.not_modified_pages += 1;
                    if let Walk::Normalize { pages, .. } = &walk {
                        let replay = PageDone::Replayed {
                            item_keys: stored.item_keys.clone(),
                        };
                        if pages.send(replay).await.is_err() {
                            // The writer stopped (and says why).
                            break;
                        }
                    }
                    request = stored.next.clone();
                    index += 1;
                    continue;
                }
                Ok(FetchOutcome::Fetched(page)) => page,
                Err(e) => {
                    out.errors += 1;
                    out.fatal = Some(e);
                    break;
                }
            };
            out.pages += 1;
            let validators = Validators {
                etag: page.etag.clone(),
                last_modified: page.last_modified.clone(),
            };
            // Without detail pages, normalize in the same CPU job as the
            // extraction: raw items and page bodies never pile up.
            let early = match &walk {
                Walk::Normalize { normalizer, .. } if !with_details => Some(normalizer.clone()),
                _ => None,
            };
            let src = Arc::clone(source);
            let req = page_request.clone();
            let work = cpu(move || work_page(&src, &req, &page, index, early.as_ref())).await;
            let mut extraction = match work.result {
                Ok(extraction) => extraction,
                Err(e) => {
                    out.errors += 1;
                    out.fatal = Some(CrawlError::Extract {
                        page: index,
                        error: e,
                    });
                    break;
                }
            };
            out.warnings.append(&mut extraction.warnings);
            out.untitled += extraction.untitled;
            out.warnings.extend(work.normalized.warnings);
            let mut raw = std::mem::take(&mut extraction.items);
            if with_details {
                let limit = self.config.max_details;
                for item in raw.iter_mut() {
                    if details_fetched >= limit {
                        details_skipped += usize::from(item.link.is_some());
                        continue;
                    }
                    if self.complete_from_detail(source, item, &mut out).await {
                        details_fetched += 1;
                    }
                }
            }
            match &walk {
                Walk::Collect => out.items.extend(raw),
                Walk::Normalize { normalizer, pages } => {
                    let items = if with_details {
                        let (src, normalizer) = (Arc::clone(source), normalizer.clone());
                        let batch = cpu(move || {
                            let mut batch = NormalizedBatch::default();
                            normalizer.run(&raw, &src, &mut batch);
                            batch
                        })
                        .await;
                        out.warnings.extend(batch.warnings);
                        batch.items
                    } else {
                        work.normalized.items
                    };
                    out.items_found += items.len() as u32;
                    let state = PageState {
                        validators,
                        next: extraction.next.clone(),
                        item_keys: items.iter().map(|i| i.key.to_db()).collect(),
                    };
                    let done = PageDone::Fetched(Box::new(FetchedPage { key, state, items }));
                    if pages.send(done).await.is_err() {
                        break;
                    }
                }
            }
            request = extraction.next;
            index += 1;
        }
        if details_skipped > 0 {
            out.warnings.push(format!(
                "{details_skipped} detail pages not fetched (crawl.max_details = {})",
                self.config.max_details
            ));
        }
        out
    }

    /// Fetches `item`'s detail page and completes it. Returns whether a
    /// request was made (it counts against `crawl.max_details`).
    async fn complete_from_detail(
        &self,
        source: &Arc<SourceDef>,
        item: &mut RawItem,
        out: &mut Collected,
    ) -> bool {
        let Some(url) = item
            .link
            .as_deref()
            .and_then(|l| crate::normalize::url::canonical_url(item.base_url.as_ref(), l))
        else {
            return false;
        };
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
        true
    }
}
