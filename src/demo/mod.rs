//! `vigie demo`: the whole flow on a laptop, with no network and no
//! configuration. Four fixture funder sites (`sites`, served by `server` on
//! 127.0.0.1) and their source definitions go into a fresh folder with its
//! own database; the daemon ([`crate::service`]) runs on them with
//! compressed schedules: it crawls through the real fetch path and, once
//! every source has been crawled and the three sample subscribers
//! (`samples`) have joined, builds digests and writes them as `.eml` files
//! to the folder's outbox. `narrate` turns the daemon's events into
//! plain words (`summary`) saying what happened and where to look.
//!
//! The folder is kept when the demo stops (its path is printed), so that
//! the `.eml` files and the database (`vigie calls --db …`) can be looked
//! at; `--clean` removes it instead.
//!
//! Like the daemon, [`run`] takes its shutdown signal as a future: the CLI
//! passes Ctrl-C, tests their own.

pub mod cli;
mod narrate;
pub mod samples;
pub mod server;
pub mod sites;
pub mod summary;

use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use chrono::Utc;
use chrono_tz::Europe::Paris;
use tokio::sync::broadcast;

use self::narrate::Narrator;
use self::sites::Bases;
use crate::config::Config;
use crate::service::{self, Event, RunOptions};
use crate::store::Store;

/// How to run the demo.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    /// The daemon's listener (`/healthz`, `/metrics`, and the web pages
    /// once they exist), also the digests' `site_url`; `None`: a free port
    /// on 127.0.0.1.
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
            every: Duration::from_secs(10),
            parent: None,
        }
    }
}

/// Runs the demo until `shutdown` resolves; `say` prints one line.
pub async fn run(
    options: DemoOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
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
    shutdown: impl Future<Output = ()> + Send + 'static,
    say: &impl Fn(&str),
) -> anyhow::Result<()> {
    // The sites: listeners first, so that pages can link to each other.
    let [culture, dinum, aides, occitanie] = [
        server::bind().await?,
        server::bind().await?,
        server::bind().await?,
        server::bind().await?,
    ];
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

    let bind = match options.bind {
        Some(addr) => addr,
        None => free_loopback_port()?,
    };
    let config = demo_config(dir, bind);
    samples::write_sources(&config.crawl.sources_dir, &bases)?;
    let (sources, errors) = crate::source::load_dir(&config.crawl.sources_dir);
    if let Some(e) = errors.first() {
        anyhow::bail!("a demo source definition is invalid (a bug in Vigie): {e}");
    }
    // Created (and migrated) now, so that the subscribers added later go
    // into a database the daemon already uses.
    drop(Store::open(&config.database.path)?);
    let db = config.database.path.clone();

    say(&format!(
        "Vigie demo in {}: {} fixture funder sites served on 127.0.0.1.",
        dir.display(),
        sources.len(),
    ));
    let (events, mut received) = broadcast::channel(1024);
    let web = crate::web::WebState::new(
        db.clone(),
        std::sync::Arc::new(config.clone()),
        std::sync::Arc::new(Utc::now),
    )?;
    let run_options = RunOptions {
        bind: Some(bind),
        every: Some(options.every),
        events: Some(events),
        routes: Some(crate::web::router(web)),
        ..RunOptions::default()
    };
    let mut narrator = Narrator::new(
        sources.len(),
        config.database.path.clone(),
        config.mail.outbox_dir.clone(),
    );
    let handle = service::start(config, run_options, shutdown, futures::stream::pending()).await?;
    say(&format!(
        "The daemon runs every source, the digests and the outbox every {} s \
         (compressed schedules); health and metrics at http://{}/metrics. Stop with Ctrl-C.",
        options.every.as_secs(),
        handle.local_addr()
    ));
    say(&format!(
        "The public web: http://{addr}/appels (the catalogue and each call's page, where \
         the digests' links lead), http://{addr}/abonnement (sign up for alerts; the \
         confirmation email lands in the outbox folder), feeds at http://{addr}/flux.atom, \
         deadlines at http://{addr}/agenda.ics, the API at http://{addr}/api/v1/calls.",
        addr = handle.local_addr()
    ));
    let mut subscribed = false;
    loop {
        match received.recv().await {
            Ok(Event::Stopping) => {
                say("Stopping.");
                break;
            }
            Ok(event) => {
                for line in narrator.hear(&event)? {
                    say(&line);
                }
                // The sample subscribers join once every source has been
                // crawled: a digest built earlier would miss calls, and
                // each subscriber gets one digest a day.
                if !subscribed && narrator.rounds() > 0 {
                    samples::add_subscribers(&Store::open(&db)?, Utc::now())?;
                    subscribed = true;
                    say(&format!(
                        "Subscribed {} sample collectivities (Cergy, Val-d'Oise, Occitanie): \
                         their digests are built at the next digest run.",
                        samples::SUBSCRIBERS.len()
                    ));
                }
            }
            Err(broadcast::error::RecvError::Lagged(_)) => {}
            Err(broadcast::error::RecvError::Closed) => break,
        }
    }
    handle.wait().await
}

/// A free port on 127.0.0.1 for the daemon's listener, picked now so that
/// the digests' links (`site_url`) can name it.
fn free_loopback_port() -> std::io::Result<SocketAddr> {
    std::net::TcpListener::bind(("127.0.0.1", 0))?.local_addr()
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
fn demo_config(dir: &Path, bind: SocketAddr) -> Config {
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
    // The fixture sites are on loopback, which the fetch guard refuses
    // unless allow-listed: the demo opens it for them alone.
    config.fetch.allow_hosts = vec!["127.0.0.1".to_string()];
    // Digests are due as soon as the demo starts, whatever the hour.
    config.digest.send_hour = 0;
    config.digest.site_url = format!("http://{bind}");
    // New sources run at once rather than spread over minutes.
    config.service.catch_up_spread_secs = 0;
    config
}
