//! The store writer of one source's crawl: it receives each listing page
//! as the walk finishes it (`pages::PageDone`) and stores its items, so
//! that a crawl killed midway keeps every page it got through. Part of the
//! crawl orchestrator.
//!
//! Pages are written as they come, but never one transaction per page
//! when the writer falls behind: whatever pages have queued up while the
//! previous write ran go into the next one (group commit, at most
//! [`MAX_PAGES_PER_WRITE`]). A fast walk thus pays few transactions, and a
//! slow one (waiting on the network) has each page committed at once.
//!
//! A page's state (validators, next request, item keys) is recorded after
//! its items are committed: a crash in between only costs a full fetch of
//! that page next time, never a replay of items that were not stored.

use std::collections::HashSet;

use chrono::Utc;
use tokio::sync::mpsc;

use super::pages::{FetchedPage, PageDone};
use super::{CrawlError, Crawler};
use crate::store::{IngestOutcome, PageKey, PageState};

/// At most this many pages in one write transaction.
const MAX_PAGES_PER_WRITE: usize = 16;

/// What the writer stored, and what the crawl listed.
#[derive(Debug, Default)]
pub(crate) struct Written {
    pub new: u32,
    pub updated: u32,
    pub unchanged: u32,
    pub merged: u32,
    /// Item keys listed by the crawl: on pages fetched or replayed.
    pub listed: HashSet<String>,
    /// The error that stopped the writer (it then stops the walk).
    pub error: Option<CrawlError>,
}

impl Crawler {
    /// Stores the pages received on `pages` until the walk ends.
    pub(crate) async fn write_pages(
        &self,
        source_id: String,
        definition: String,
        mut pages: mpsc::Receiver<PageDone>,
    ) -> Written {
        let mut written = Written::default();
        while let Some(first) = pages.recv().await {
            let mut batch = vec![first];
            while batch.len() < MAX_PAGES_PER_WRITE {
                match pages.try_recv() {
                    Ok(page) => batch.push(page),
                    Err(_) => break,
                }
            }
            let mut items = Vec::new();
            let mut states: Vec<(PageKey, PageState)> = Vec::new();
            for page in batch {
                match page {
                    PageDone::Replayed { item_keys } => written.listed.extend(item_keys),
                    PageDone::Fetched(page) => {
                        let FetchedPage {
                            key,
                            state,
                            items: page_items,
                        } = *page;
                        // An item listed on two pages (the listing moved
                        // while it was walked) keeps its first version, as
                        // when a whole crawl was one batch.
                        for item in page_items {
                            if written.listed.insert(item.key.to_db()) {
                                items.push(item);
                            }
                        }
                        states.push((key, state));
                    }
                }
            }
            if items.is_empty() && states.is_empty() {
                continue;
            }
            let (id, def) = (source_id.clone(), definition.clone());
            let result = self
                .with_store(move |store| {
                    let now = Utc::now();
                    let out = if items.is_empty() {
                        IngestOutcome::default()
                    } else {
                        store.ingest(&id, &items, now)?
                    };
                    store.save_page_states(&id, &def, &states, now)?;
                    Ok(out)
                })
                .await;
            match result {
                Ok(out) => {
                    written.new += out.new.len() as u32;
                    written.updated += out.updated.len() as u32;
                    written.unchanged += out.unchanged;
                    written.merged += out.merged;
                }
                Err(e) => {
                    written.error = Some(CrawlError::database(&e));
                    // Dropping the receiver stops the walk at its next page.
                    break;
                }
            }
        }
        written
    }
}
