//! `vigie crawl` and `vigie sources check|list|status`: the commands that
//! load source definitions and, for some, run them.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use super::{CheckArgs, CrawlArgs, ListArgs};
use crate::config::Config;
use crate::crawl::{Crawler, Outcome};
use crate::fetch::Fetcher;
use crate::normalize::themes::ThemeRules;
use crate::report::{self, Format};
use crate::source::{self, SourceDef};
use crate::store::Store;

/// Loads the source folder, printing every invalid definition. Returns the
/// valid ones and whether any was invalid.
fn load_sources(dir: &Path) -> anyhow::Result<(Vec<SourceDef>, bool)> {
    anyhow::ensure!(
        dir.is_dir(),
        "the sources folder {} does not exist: run from the Vigie folder or pass --sources DIR",
        dir.display()
    );
    let (sources, errors) = source::load_dir(dir);
    for e in &errors {
        eprintln!("error: {e}");
    }
    Ok((sources, !errors.is_empty()))
}

/// A crawler over `store` with the configuration's fetcher and theme rules.
fn crawler(config: &Config, store: Store) -> anyhow::Result<Crawler> {
    Ok(Crawler {
        fetcher: Fetcher::new(config.fetch.clone())?,
        store: Arc::new(Mutex::new(store)),
        rules: Arc::new(ThemeRules::load(&config.crawl.themes)?),
        config: config.crawl.clone(),
    })
}

pub(super) fn crawl(args: CrawlArgs) -> anyhow::Result<ExitCode> {
    let config = args.common.load()?;
    let (all, invalid) = load_sources(&config.crawl.sources_dir)?;
    let sources: Vec<SourceDef> = if args.only.is_empty() {
        all.into_iter().filter(|s| s.enabled).collect()
    } else {
        for id in &args.only {
            anyhow::ensure!(
                all.iter().any(|s| s.id.as_str() == id),
                "no valid source with id `{id}` in {}",
                config.crawl.sources_dir.display()
            );
        }
        all.into_iter()
            .filter(|s| args.only.iter().any(|id| id == s.id.as_str()))
            .collect()
    };
    let crawler = crawler(&config, Store::open(&config.database.path)?)?;
    let progress = report::progress_bar(sources.len() as u64, std::io::stderr().is_terminal());
    let reports = crate::crawl::runtime()?
        .block_on(crawler.crawl_all(sources, |r| report::on_source_done(&progress, r)));
    progress.finish_and_clear();
    report::print_crawl_summary(&reports, args.format)?;
    // A source skipped because another crawl holds it is not a failure:
    // that crawl is doing the work.
    let failed = reports
        .iter()
        .any(|r| matches!(r.outcome, Outcome::Failed(_)));
    Ok(if failed || invalid {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

pub(super) fn check(args: CheckArgs) -> anyhow::Result<ExitCode> {
    let config = args.common.load()?;
    let dir = &config.crawl.sources_dir;
    let mut defs = Vec::new();
    let mut invalid = false;
    if args.targets.is_empty() {
        let (ok, bad) = load_sources(dir)?;
        defs = ok;
        invalid = bad;
    } else {
        for target in &args.targets {
            let (found, errors) = check_target(dir, target);
            for e in &errors {
                eprintln!("error: {e}");
            }
            invalid |= !errors.is_empty();
            defs.extend(found);
        }
    }
    if !args.fetch {
        for def in &defs {
            let row = def
                .template
                .as_ref()
                .map(|row| format!("; row {row}"))
                .unwrap_or_default();
            crate::outln!(
                "ok: {} ({}, {} source, {}{row})",
                def.path.display(),
                def.id,
                def.kind_name(),
                crate::redact::url(&def.url)
            )?;
        }
        return Ok(if invalid {
            ExitCode::FAILURE
        } else {
            ExitCode::SUCCESS
        });
    }
    // Fetching needs no database: a crawler over a throw-away in-memory store.
    let crawler = crawler(&config, Store::open_in_memory()?)?;
    let rt = crate::crawl::runtime()?;
    let mut failed = invalid;
    let mut previews = Vec::new();
    for def in &defs {
        let preview = rt.block_on(report::preview_source(&crawler, def));
        failed |= preview.error.is_some();
        previews.push(preview);
    }
    report::print_previews(&previews, args.format)?;
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// The definitions one `sources check` target names: a file (every source
/// of a template), `<id>` for `sources/<id>.toml`, or the expanded id of a
/// template row.
fn check_target(dir: &Path, target: &str) -> (Vec<SourceDef>, Vec<source::SourceError>) {
    let path = if target.ends_with(".toml") || Path::new(target).is_file() {
        PathBuf::from(target)
    } else {
        dir.join(format!("{target}.toml"))
    };
    if path.is_file() || target.ends_with(".toml") {
        return source::load_path(&path);
    }
    // Not a file: an id that a template expands to.
    let (all, errors) = source::load_dir(dir);
    if let Some(def) = all.into_iter().find(|d| d.id.as_str() == target) {
        return (vec![def], Vec::new());
    }
    let mut why = source::SourceError::file(
        &path,
        format!(
            "no source `{target}`: neither {} nor a row of a template in {} defines it",
            path.display(),
            dir.display()
        ),
    );
    if !errors.is_empty() {
        why = why.with_hint(format!(
            "{} file(s) of the folder do not load; `vigie sources check` lists them",
            errors.len()
        ));
    }
    (Vec::new(), vec![why])
}

pub(super) fn list_sources(args: ListArgs) -> anyhow::Result<ExitCode> {
    let config = args.common.load()?;
    let store = Store::open(&config.database.path)?;
    report::print_source_states(&store.source_states()?, args.format)?;
    Ok(ExitCode::SUCCESS)
}

pub(super) fn sources_status(args: ListArgs) -> anyhow::Result<ExitCode> {
    let config = args.common.load()?;
    let (defs, invalid) = load_sources(&config.crawl.sources_dir)?;
    let store = Store::open(&config.database.path)?;
    let rows = crate::service::status::load(&store, &defs)?;
    match args.format {
        Format::Table => crate::outln!("{}", crate::service::status::render_table(&rows))?,
        Format::Json => crate::outln!("{}", serde_json::to_string_pretty(&rows)?)?,
        Format::Csv => {
            anyhow::bail!("`sources status` has no CSV output: use --format table or json")
        }
    }
    Ok(if invalid {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
