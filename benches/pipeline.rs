//! The crawl pipeline without the store: fetch → extract → normalize over
//! the `crawl_farm` fixture farm, in process.
//!
//! ```sh
//! cargo bench --bench pipeline
//! FARM_HOSTS=4 PIPELINE_PASSES=3 cargo bench --bench pipeline
//! ```
//!
//! Two measurements, on the same generated pages as `crawl_farm`:
//!
//! 1. `cpu, one thread` — every page extracted (`extract::extract_page`) and
//!    its items normalized (`normalize::normalize_item`) on this thread,
//!    from memory, no network: the CPU cost per page, split between the two
//!    stages (thread CPU clock). Repeated `PIPELINE_PASSES` times [1].
//! 2. `pipeline, HTTP` — the farm served on `127.0.0.x` by a server thread
//!    of this process, and every source run through `Crawler::prepare`
//!    (the fetch → extract → normalize part of `refresh_source`) as its own
//!    task, `FARM_CRAWL_CONCURRENCY` at a time, on a default multi-thread
//!    runtime: pages/s and the pipeline's CPU per page (process CPU minus
//!    the server thread's).
//!
//! The HTTP run also reports how much the process's peak RSS grew during
//! it (the farm is generated before). `others cpu` is what the rest of the
//! machine took meanwhile
//! (`/proc/stat`). Parameters as `crawl_farm`: `FARM_HOSTS` [20],
//! `FARM_SOURCES_PER_HOST` [25], `FARM_PAGES` [5], `FARM_ITEMS` [20],
//! `FARM_PAGE_KB` [50], `FARM_CRAWL_CONCURRENCY` [32],
//! `FARM_TOTAL_CONCURRENCY` [32], `FARM_PER_HOST_CONCURRENCY` [4].
//! Exits with status 1 if a page or an item is missing.

#[allow(dead_code)]
mod common;
#[path = "common/farm.rs"]
#[allow(dead_code)]
mod farm;

use std::net::SocketAddr;
use std::path::Path;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use futures::StreamExt;
use url::Url;
use vigie::config::CrawlConfig;
use vigie::crawl::Crawler;
use vigie::extract;
use vigie::fetch::{FetchConfig, Fetcher, Page, PageRequest};
use vigie::normalize::themes::ThemeRules;
use vigie::normalize::{NormalizeContext, normalize_item};
use vigie::source::SourceDef;
use vigie::source::load::load_str;
use vigie::store::Store;

/// CPU seconds of the calling thread.
fn thread_cpu() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime only writes the struct it is given.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    ts.tv_sec as f64 + ts.tv_nsec as f64 / 1e9
}

/// CPU seconds of this process's live threads whose name starts with `prefix`.
fn threads_cpu(prefix: &str) -> f64 {
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return f64::NAN;
    };
    let mut total = 0.0;
    for task in tasks.flatten() {
        let comm = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
        if !comm.starts_with(prefix) {
            continue;
        }
        let stat = std::fs::read_to_string(task.path().join("stat")).unwrap_or_default();
        // Fields after the parenthesized name: state is field 3, utime 14, stime 15.
        let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
        let fields: Vec<f64> = after
            .split_whitespace()
            .map(|f| f.parse().unwrap_or(0.0))
            .collect();
        total += fields.get(11).unwrap_or(&0.0) + fields.get(12).unwrap_or(&0.0);
    }
    total / hz
}

fn shape() -> farm::Shape {
    farm::Shape {
        hosts: common::env("FARM_HOSTS", 20),
        sources_per_host: common::env("FARM_SOURCES_PER_HOST", 25),
        pages: common::env("FARM_PAGES", 5).clamp(1, 100),
        items: common::env("FARM_ITEMS", 20),
        page_kb: common::env("FARM_PAGE_KB", 50),
    }
}

fn source(h: usize, s: usize, addr: SocketAddr, pages: usize) -> Result<SourceDef, String> {
    let path = format!("sources/{}.toml", farm::source_id(h, s));
    load_str(Path::new(&path), &farm::source_toml(h, s, addr, pages)).map_err(|e| e.to_string())
}

fn rules() -> Result<ThemeRules, String> {
    ThemeRules::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("config/themes.toml"))
        .map_err(|e| format!("{e:#}"))
}

/// Measurement 1: extract + normalize on one thread, from memory.
fn cpu_one_thread(shape: &farm::Shape, passes: usize) -> Result<bool, String> {
    let rules = rules()?;
    let today = chrono::Utc::now()
        .with_timezone(&chrono_tz::Europe::Paris)
        .date_naive();
    let ctx = NormalizeContext {
        rules: &rules,
        today,
    };
    let addr: SocketAddr = "127.0.0.2:80".parse().map_err(|e| format!("{e}"))?;
    let (mut extract_s, mut normalize_s, mut pages, mut items, mut bytes) = (0.0, 0.0, 0, 0, 0);
    let mut parse_s = 0.0;
    let machine = farm::machine_busy();
    let (process, wall) = (common::process_cpu(), Instant::now());
    for _ in 0..passes {
        for h in 0..shape.hosts {
            for s in 0..shape.sources_per_host {
                let def = source(h, s, addr, shape.pages)?;
                for p in 0..shape.pages {
                    let body = farm::page_html(shape, h, s, p);
                    let url = Url::parse(&format!("http://{addr}{}", farm::page_path(s, p)))
                        .map_err(|e| e.to_string())?;
                    bytes += body.len();
                    let page = Page {
                        url: url.clone(),
                        status: 200,
                        content_type: Some("text/html; charset=utf-8".into()),
                        bytes: bytes::Bytes::new(),
                        text: body,
                        encoding: "UTF-8",
                        etag: None,
                        last_modified: None,
                    };
                    // The parse alone (what `extract_page` starts with), timed
                    // apart: the floor of any extraction built on `scraper`.
                    let tp = thread_cpu();
                    drop(std::hint::black_box(scraper::Html::parse_document(
                        std::hint::black_box(&page.text),
                    )));
                    parse_s += thread_cpu() - tp;
                    let t0 = thread_cpu();
                    let extraction =
                        extract::extract_page(&def, &PageRequest::get(url), &page, p as u32)
                            .map_err(|e| e.to_string())?;
                    let t1 = thread_cpu();
                    for raw in &extraction.items {
                        if normalize_item(raw, &def, &ctx).is_ok() {
                            items += 1;
                        }
                    }
                    let t2 = thread_cpu();
                    extract_s += t1 - t0;
                    normalize_s += t2 - t1;
                    pages += 1;
                }
            }
        }
    }
    let others = (farm::machine_busy() - machine) - (common::process_cpu() - process);
    let expected = passes * shape.total_pages();
    let ms = |s: f64| s * 1e3 / pages.max(1) as f64;
    println!(
        "cpu, one thread: {pages} pages ({:.1} KB avg), {items} items; per page: extract {:.3} ms (of which the HTML parse alone: {:.3} ms) + normalize {:.3} ms = {:.3} ms ({:.1} µs per item); {:.0} pages/s on one core; wall {:.2} s, others cpu {:.2} s",
        bytes as f64 / pages.max(1) as f64 / 1024.0,
        ms(extract_s),
        ms(parse_s),
        ms(normalize_s),
        ms(extract_s + normalize_s),
        (extract_s + normalize_s) * 1e6 / items.max(1) as f64,
        pages as f64 / (extract_s + normalize_s),
        wall.elapsed().as_secs_f64(),
        others,
    );
    Ok(pages == expected && items == expected * shape.items)
}

/// Measurement 2: `Crawler::prepare` for every source, over HTTP.
fn pipeline_http(shape: &farm::Shape) -> Result<bool, String> {
    let concurrency = common::env("FARM_CRAWL_CONCURRENCY", 32).max(1);
    let (sites, _) = farm::generate(shape);
    let server = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("farm-server")
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let counters = Arc::new(farm::Counters::default());
    let addrs = server.block_on(farm::start_server(sites, Arc::clone(&counters)))?;
    let mut sources = Vec::new();
    for (h, addr) in addrs.iter().enumerate() {
        for s in 0..shape.sources_per_host {
            sources.push(Arc::new(source(h, s, *addr, shape.pages)?));
        }
    }
    let fetch = FetchConfig {
        per_host_concurrency: common::env("FARM_PER_HOST_CONCURRENCY", 4),
        total_concurrency: common::env("FARM_TOTAL_CONCURRENCY", 32),
        min_spacing_ms: 0,
        retries: 0,
        allow_hosts: vec!["127.0.0.0/8".into()],
        ..FetchConfig::default()
    };
    let crawler = Crawler {
        fetcher: Fetcher::new(fetch).map_err(|e| format!("{e:#}"))?,
        store: Arc::new(Mutex::new(
            Store::open_in_memory().map_err(|e| format!("{e:#}"))?,
        )),
        rules: Arc::new(rules()?),
        config: CrawlConfig {
            sources_dir: ".".into(),
            concurrency,
            follow_details: false,
            max_details: 0,
            themes: "config/themes.toml".into(),
        },
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .thread_name("vigie-pipeline")
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let rss_before = common::rss_mib();
    let machine = farm::machine_busy();
    let (process, server_cpu) = (common::process_cpu(), threads_cpu("farm-server"));
    let wall = Instant::now();
    let results: Vec<(u32, usize, bool)> = runtime.block_on(async {
        futures::stream::iter(sources)
            .map(|source| {
                let crawler = crawler.clone();
                async move {
                    let task = tokio::spawn(async move {
                        let p = crawler.prepare(&source).await;
                        (
                            p.collected.pages,
                            p.items.len(),
                            p.collected.fatal.is_none(),
                        )
                    });
                    task.await.unwrap_or((0, 0, false))
                }
            })
            .buffer_unordered(concurrency)
            .collect()
            .await
    });
    let wall = wall.elapsed().as_secs_f64();
    let server = threads_cpu("farm-server") - server_cpu;
    let cpu = common::process_cpu() - process - server;
    let others = (farm::machine_busy() - machine) - (cpu + server);
    let pages: u32 = results.iter().map(|r| r.0).sum();
    let items: usize = results.iter().map(|r| r.1).sum();
    let failed = results.iter().filter(|r| !r.2).count();
    // The farm is generated (and resident) before the run: what the peak
    // grew by during the run is at most what the pipeline held at once.
    let growth = (common::peak_rss_mib() - rss_before).max(0.0);
    println!(
        "pipeline, HTTP: peak RSS grew by at most {growth:.1} MiB during the run (over {:.1} MiB with the farm)",
        rss_before
    );
    println!(
        "pipeline, HTTP: {pages} pages, {items} items in {wall:.2} s = {:.0} pages/s; pipeline cpu {cpu:.2} s = {:.3} ms per page ({:.0} % of one core), server cpu {server:.2} s, others cpu {others:.2} s, {failed} sources failed",
        pages as f64 / wall,
        cpu * 1e3 / f64::from(pages.max(1)),
        cpu / wall * 100.0,
    );
    Ok(failed == 0
        && pages as usize == shape.total_pages()
        && items == shape.total_pages() * shape.items)
}

fn main() -> ExitCode {
    // The allocator set up as the `vigie` binary sets it up.
    vigie::alloc::configure();
    let shape = shape();
    let passes = common::env("PIPELINE_PASSES", 1).max(1);
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!(
        "pipeline bench: {} hosts × {} sources × {} pages × {} items, ~{} KB pages; load {}",
        shape.hosts,
        shape.sources_per_host,
        shape.pages,
        shape.items,
        shape.page_kb,
        load.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    );
    let only = std::env::var("PIPELINE_ONLY").unwrap_or_default();
    let mut ok = true;
    for (name, run) in [
        (
            "cpu",
            &(|| cpu_one_thread(&shape, passes)) as &dyn Fn() -> Result<bool, String>,
        ),
        ("http", &|| pipeline_http(&shape)),
    ] {
        if !only.is_empty() && only != name {
            continue;
        }
        match run() {
            Ok(true) => {}
            Ok(false) => {
                eprintln!("{name}: pages or items missing");
                ok = false;
            }
            Err(e) => {
                eprintln!("{name}: {e}");
                ok = false;
            }
        }
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
