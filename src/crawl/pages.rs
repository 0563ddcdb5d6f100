//! The page walk of one source: fetch a listing page, hand it to the CPU
//! stage (extract, and normalize when nothing else must happen to the raw
//! items first), follow `next`, repeat. Part of the crawl orchestrator
//! (`crawl::Crawler::refresh_source` and `collect`).
//!
//! Parsing and normalizing are pure CPU work (and `scraper::Html` is not
//! `Send`), so each page's is done in one closure on [`CPU_POOL`], one
//! thread per core: as many pages are worked on at once as there are cores,
//! whatever the number of sources in flight. The runtime's workers stay
//! free for I/O, and only one page body per source is alive at a time.

use std::collections::HashSet;
use std::sync::{Arc, LazyLock};

use chrono::NaiveDate;

use super::{Collected, Crawler};
use crate::extract::{self, RawItem};
use crate::fetch::page::{Page, PageRequest};
use crate::fetch::{FetchError, FetchOutcome, Validators};
use crate::normalize::item::NormalizedItem;
use crate::normalize::themes::ThemeRules;
use crate::normalize::{NormalizeContext, Normalized, normalize_item};
use crate::source::SourceDef;

/// How much less CPU priority the pool threads take (a `nice` increment).
const POOL_NICENESS: i32 = 10;

/// Lowers the calling thread's CPU priority by [`POOL_NICENESS`].
///
/// Every source's items go through one store writer, a serial stage the
/// crawl waits on; at equal priority it competed with the pool's threads
/// for the cores and got about two thirds of one. Measured on the
/// `crawl_farm` bench (2 cores): the pool at `nice` +10 lets the process
/// use 181–185 % of one core instead of 163–172 %, for the same CPU per
/// page. Parsing is batch work: it also yields to anything more urgent on
/// the machine. Best effort: where the change is refused, the pool runs as
/// it is.
fn lower_priority() {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: plain system calls on the calling thread (on Linux,
        // `PRIO_PROCESS` with id 0 designates the calling thread only);
        // `errno` is reset first because -1 is also a valid priority.
        unsafe {
            *libc::__errno_location() = 0;
            let current = libc::getpriority(libc::PRIO_PROCESS, 0);
            if current != -1 || *libc::__errno_location() == 0 {
                libc::setpriority(libc::PRIO_PROCESS, 0, current + POOL_NICENESS);
            }
        }
    }
}

/// A CPU job: runs on a pool thread and sends its own result back.
type Job = Box<dyn FnOnce() + Send>;

/// A fixed pool of one thread per core for CPU-bound work (see the module
/// documentation). Fixed rather than tokio's blocking pool, which grows a
/// thread whenever none is idle at the instant a job arrives: every extra
/// thread keeps its own malloc arena and regex caches warm, which cost
/// tens of MiB of resident memory for no extra parallelism.
struct CpuPool {
    jobs: std::sync::mpsc::Sender<Job>,
}

static CPU_POOL: LazyLock<Option<CpuPool>> = LazyLock::new(|| {
    let (jobs, queue) = std::sync::mpsc::channel::<Job>();
    let queue = Arc::new(std::sync::Mutex::new(queue));
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let mut started = 0;
    for n in 0..threads {
        let queue = Arc::clone(&queue);
        let spawned = std::thread::Builder::new()
            .name(format!("vigie-cpu-{n}"))
            .spawn(move || {
                lower_priority();
                loop {
                    // Take one job and release the queue before running it.
                    let job = match queue.lock() {
                        Ok(queue) => queue.recv(),
                        Err(_) => return,
                    };
                    match job {
                        Ok(job) => job(),
                        Err(_) => return,
                    }
                }
            });
        started += usize::from(spawned.is_ok());
    }
    (started > 0).then_some(CpuPool { jobs })
});

/// Runs CPU-bound work on the CPU pool, in the order asked. A panic in `f`
/// is resumed here, as if `f` had run inline. Without a pool (no thread
/// could be started), `f` runs on the blocking pool instead.
pub(crate) async fn cpu<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    let (done, result) = tokio::sync::oneshot::channel();
    let job: Job = Box::new(move || {
        let _ = done.send(std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)));
    });
    let unsent = match CPU_POOL.as_ref() {
        Some(pool) => pool.jobs.send(job).err().map(|e| e.0),
        None => Some(job),
    };
    if let Some(job) = unsent {
        let _ = tokio::task::spawn_blocking(job).await;
    }
    match result.await {
        Ok(Ok(value)) => value,
        Ok(Err(panic)) => std::panic::resume_unwind(panic),
        // The job was dropped without running: only at process exit.
        Err(_) => std::panic::panic_any("CPU job dropped before it ran".to_string()),
    }
}

/// What normalizing needs, owned so that it can move to the blocking pool.
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
    /// Fetches every listing page of `source` and extracts it; with a
    /// `normalizer`, each page's items are normalized right away into the
    /// returned batch (and `Collected::items` stays empty).
    pub(crate) async fn walk_pages(
        &self,
        source: &Arc<SourceDef>,
        validators: Validators,
        normalizer: Option<Normalizer>,
    ) -> (Collected, NormalizedBatch) {
        let mut out = Collected::default();
        let mut normalized = NormalizedBatch::default();
        let mut request = Some(extract::first_request(source));
        let mut index = 0u32;
        // Pagination that loops back to a page already fetched stops there.
        let mut visited = HashSet::new();
        while let Some(page_request) = request.take() {
            if !visited.insert((page_request.url.to_string(), page_request.body.clone())) {
                out.warnings.push(format!(
                    "pagination loops back to {}: stopped there",
                    crate::redact::url(&page_request.url)
                ));
                break;
            }
            // Only the first page is conditional: later pages are fetched
            // only when the first one changed.
            let conditional = if index == 0 {
                validators.clone()
            } else {
                Validators::default()
            };
            let page = match self
                .fetcher
                .fetch(&self.fetch_request(source, page_request.clone(), conditional))
                .await
            {
                Ok(FetchOutcome::NotModified) if index == 0 => {
                    out.not_modified = true;
                    return (out, normalized);
                }
                Ok(FetchOutcome::NotModified) => break,
                Ok(FetchOutcome::Fetched(page)) => page,
                Err(e) => {
                    out.errors += 1;
                    out.fatal = Some(page_error(index, &e));
                    break;
                }
            };
            out.pages += 1;
            if index == 0 {
                out.validators = Some((page.etag.clone(), page.last_modified.clone()));
            }
            let (src, norm) = (Arc::clone(source), normalizer.clone());
            let work =
                cpu(move || work_page(&src, &page_request, &page, index, norm.as_ref())).await;
            normalized.items.extend(work.normalized.items);
            normalized.warnings.extend(work.normalized.warnings);
            match work.result {
                Ok(extraction) => {
                    out.items.extend(extraction.items);
                    out.warnings.extend(extraction.warnings);
                    request = extraction.next;
                }
                Err(e) => {
                    out.errors += 1;
                    out.fatal = Some(if index == 0 {
                        e.to_string()
                    } else {
                        format!("page {}: {e}", index + 1)
                    });
                }
            }
            index += 1;
        }
        (out, normalized)
    }
}

fn page_error(index: u32, e: &FetchError) -> String {
    if index == 0 {
        e.to_string()
    } else {
        format!("page {}: {e}", index + 1)
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    fn priority() -> i32 {
        // SAFETY: reads the calling thread's nice value.
        unsafe { libc::getpriority(libc::PRIO_PROCESS, 0) }
    }

    #[tokio::test]
    async fn pool_threads_yield_to_the_store_writer() {
        let here = priority();
        let pool = super::cpu(priority).await;
        assert_eq!(pool, (here + super::POOL_NICENESS).min(19));
    }
}
