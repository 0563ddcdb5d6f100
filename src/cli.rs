//! The `vigie` command line: argument definitions and dispatch. Each
//! command loads the configuration layers, applies its flags on top, and
//! calls the library; output formatting lives in `report`.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use anyhow::Context;
use clap::{Args, Parser, Subcommand, ValueEnum};

pub use crate::config::Common;
use crate::config::Config;
use crate::crawl::{Crawler, Outcome};
use crate::domain::{Audience, Perimeter, Status, Theme};
use crate::fetch::Fetcher;
use crate::normalize::themes::ThemeRules;
use crate::report;
pub use crate::report::Format;
use crate::source::{self, SourceDef};
use crate::store::{CallFilter, Store};
use crate::subscribers::cli::SubscribersCommand;

#[derive(Debug, Parser)]
#[command(
    name = "vigie",
    version,
    about = "Calls for projects (AAP/AMI) for French local governments: crawl, store, deliver"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// Log lines on stderr: `text` (colours only on a terminal) or `json`
    /// (one object per line). The level comes from VIGIE_LOG (e.g. `debug`).
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the whole flow on built-in fixture sites and sample subscribers,
    /// with no network and no configuration: start here.
    Demo(crate::demo::cli::DemoArgs),
    /// Fetch every enabled source, extract, normalize and store its calls.
    Crawl(CrawlArgs),
    /// Work with source definitions.
    #[command(subcommand)]
    Sources(SourcesCommand),
    /// List stored calls, show one, merge or split them.
    Calls(CallsArgs),
    /// Send the due messages of the outbox once (the daemon does it on a timer).
    #[command(hide = true)]
    Deliver(crate::deliver::cli::DeliverArgs),
    /// The queue of calls waiting for a curator (sources with `review = true`).
    #[command(subcommand)]
    Review(ReviewCommand),
    /// Manage the collectivities that receive digests.
    #[command(subcommand)]
    Subscribers(SubscribersCommand),
    /// Build, preview and send the subscribers' digests.
    #[command(subcommand)]
    Digest(crate::digest::cli::DigestCommand),
    /// Inspect the configuration.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Copy the live database to FILE (consistent even while a daemon or a
    /// crawl writes), then check the copy.
    Backup(BackupArgs),
    /// The daemon: crawl each source on its schedule, send digests, alert
    /// curators, serve /healthz and /metrics. Stops on SIGTERM/SIGINT, reloads on SIGHUP.
    Run(crate::service::cli::RunArgs),
    /// The queue of emails: list it, put failed messages back.
    #[command(subcommand)]
    Outbox(crate::deliver::cli::OutboxCommand),
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print the effective configuration, each value with the layer it
    /// comes from (default, file, env, flag); secrets are masked.
    Show {
        #[command(flatten)]
        common: Common,
    },
}

#[derive(Debug, Args)]
pub struct BackupArgs {
    #[command(flatten)]
    pub common: Common,
    /// Where to write the copy.
    pub file: PathBuf,
    /// Replace FILE if it exists.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Subcommand)]
pub enum ReviewCommand {
    /// Calls waiting for approval.
    List {
        #[command(flatten)]
        common: Common,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Publish a call: it reaches feeds and subscribers.
    Approve {
        id: i64,
        #[command(flatten)]
        common: Common,
    },
    /// Hide a call for good: later crawls recognise it and keep it hidden.
    Reject {
        id: i64,
        #[command(flatten)]
        common: Common,
    },
}

#[derive(Debug, Args)]
pub struct CrawlArgs {
    #[command(flatten)]
    pub common: Common,
    /// Only crawl these sources (repeatable); disabled sources named here are crawled too.
    #[arg(long = "source", value_name = "ID")]
    pub only: Vec<String>,
    /// Print the summary as JSON instead of a table.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

#[derive(Debug, Subcommand)]
pub enum SourcesCommand {
    /// Validate definitions without touching the database; with --fetch,
    /// show what would be extracted.
    Check(CheckArgs),
    /// List the sources with their health from the last crawls.
    List(ListArgs),
    /// The daemon's view of each source: health, next run, failures, items per run.
    Status(ListArgs),
    /// Write a commented skeleton `sources/<id>.toml` for URL; for html, guess
    /// the selectors of a DSFR listing (cards, tiles, pagination).
    New(crate::scaffold::NewArgs),
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub common: Common,
    /// Files or source ids to check (default: every file in the sources folder).
    pub targets: Vec<String>,
    /// Fetch each source and show, item by item, what would be stored and
    /// which fields are missing, with a count per field and the warnings.
    #[arg(long)]
    pub fetch: bool,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub common: Common,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct CallsArgs {
    #[command(subcommand)]
    pub action: Option<CallsAction>,
    #[command(flatten)]
    pub common: Common,
    /// Only calls whose deadline has not passed (open or upcoming).
    #[arg(long)]
    pub open: bool,
    /// Only calls with this derived status (repeatable).
    #[arg(long, value_name = "STATUS", value_parser = parse_code::<Status>)]
    pub status: Vec<Status>,
    /// Only calls seen on this source (repeatable).
    #[arg(long = "source", id = "source_ids", value_name = "ID")]
    pub source_ids: Vec<String>,
    /// Only calls with this theme (repeatable: any of them).
    #[arg(long, value_name = "THEME", value_parser = parse_code::<Theme>)]
    pub theme: Vec<Theme>,
    /// Only calls open to this audience (repeatable: any of them).
    #[arg(long, value_name = "AUDIENCE", value_parser = parse_code::<Audience>)]
    pub audience: Vec<Audience>,
    /// Only calls with this perimeter among theirs (`france`, `region:76`, `department:95`...;
    /// exact codes, not containment).
    #[arg(long, value_name = "PERIMETER", value_parser = parse_code::<Perimeter>)]
    pub perimeter: Vec<Perimeter>,
    /// Only calls in this review state (pending, approved, rejected; repeatable).
    #[arg(long, value_name = "STATE")]
    pub review: Vec<String>,
    /// Full-text search in title, summary and funder (accents ignored).
    #[arg(long, value_name = "WORDS")]
    pub text: Option<String>,
    /// Only calls no source lists any more (flagged `unlisted`).
    #[arg(long, conflicts_with = "listed")]
    pub unlisted: bool,
    /// Only calls at least one source still lists.
    #[arg(long)]
    pub listed: bool,
    /// At most this many calls.
    #[arg(long)]
    pub limit: Option<u32>,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

#[derive(Debug, Subcommand)]
pub enum CallsAction {
    /// Show one call in full: every field, its sources and its change history.
    Show {
        /// The call's id (as listed by `vigie calls`).
        id: i64,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Merge call B into call A (a curator's decision, never undone by a crawl).
    Merge { a: i64, b: i64 },
    /// Set where a call applies (one or several territories), replacing what its sources said;
    /// later crawls keep it. E.g. `vigie calls perimeter 12 region:76 department:31`.
    Perimeter {
        /// The call's id.
        id: i64,
        /// `france`, `europe`, `region:CODE`, `department:CODE`, `epci:SIREN`, `commune:INSEE`
        /// (several: the call applies in each).
        #[arg(required = true, value_name = "PERIMETER", value_parser = parse_code::<Perimeter>)]
        perimeters: Vec<Perimeter>,
    },
    /// Move one sighting out of its call into a call of its own, and keep them apart.
    Split {
        /// The call.
        id: i64,
        /// The sighting to take out (ids are listed by `vigie calls show ID`).
        #[arg(long, value_name = "SIGHTING")]
        sighting: i64,
    },
}

fn parse_code<T: std::str::FromStr>(s: &str) -> Result<T, String>
where
    T::Err: std::fmt::Display,
{
    s.parse().map_err(|e: T::Err| e.to_string())
}

/// Runs the parsed command; the exit code says whether everything worked.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Demo(args) => crate::demo::cli::run(args),
        Command::Crawl(args) => crawl(args),
        Command::Sources(SourcesCommand::Check(args)) => check(args),
        Command::Sources(SourcesCommand::List(args)) => list_sources(args),
        Command::Calls(args) => calls(args),
        Command::Review(cmd) => review(cmd),
        Command::Subscribers(cmd) => {
            let config = cmd.common().load()?;
            crate::subscribers::cli::run(cmd, &config)
        }
        Command::Deliver(args) => crate::deliver::cli::run(args),
        Command::Digest(cmd) => crate::digest::cli::run(cmd),
        Command::Config(ConfigCommand::Show { common }) => {
            common.load()?;
            let flags = [
                ("database.path", "--db", &common.db),
                ("crawl.sources_dir", "--sources", &common.sources),
            ];
            let values = Config::explain(common.config.as_deref(), &flags)?;
            crate::report::out::write_text(&crate::config::render_shown(&values))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Backup(args) => {
            let config = args.common.load()?;
            let report =
                crate::store::backup::backup(&config.database.path, &args.file, args.force)?;
            crate::outln!("{report}")?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Run(args) => crate::service::cli::run(args),
        Command::Sources(SourcesCommand::Status(args)) => sources_status(args),
        Command::Sources(SourcesCommand::New(args)) => crate::scaffold::run(args),
        Command::Outbox(cmd) => crate::deliver::cli::outbox_command(cmd),
    }
}

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

fn crawler(config: &Config) -> anyhow::Result<Crawler> {
    let store = Store::open(&config.database.path)?;
    Ok(Crawler {
        fetcher: Fetcher::new(config.fetch.clone())?,
        store: Arc::new(Mutex::new(store)),
        rules: Arc::new(ThemeRules::load(&config.crawl.themes)?),
        config: config.crawl.clone(),
    })
}

fn crawl(args: CrawlArgs) -> anyhow::Result<ExitCode> {
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
    let crawler = crawler(&config)?;
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

fn check(args: CheckArgs) -> anyhow::Result<ExitCode> {
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
    let crawler = Crawler {
        fetcher: Fetcher::new(config.fetch.clone())?,
        store: Arc::new(Mutex::new(Store::open_in_memory()?)),
        rules: Arc::new(ThemeRules::load(&config.crawl.themes)?),
        config: config.crawl.clone(),
    };
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

fn list_sources(args: ListArgs) -> anyhow::Result<ExitCode> {
    let config = args.common.load()?;
    let store = Store::open(&config.database.path)?;
    report::print_source_states(&store.source_states()?, args.format)?;
    Ok(ExitCode::SUCCESS)
}

fn sources_status(args: ListArgs) -> anyhow::Result<ExitCode> {
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

fn calls(args: CallsArgs) -> anyhow::Result<ExitCode> {
    let config = args.common.load()?;
    let mut store = open_existing(&config)?;
    let now = chrono::Utc::now();
    match args.action {
        Some(CallsAction::Show { id, format }) => {
            let call = store
                .get_call(id, now)?
                .with_context(|| format!("no call with id {id}"))?;
            if call.id != id {
                eprintln!("call {id} was merged into call {}", call.id);
            }
            let history = store.call_history(call.id)?;
            let sightings = store.call_sightings(call.id)?;
            let events = store.call_events(Some(call.id))?;
            report::print_call(&call, &sightings, &history, &events, format)?;
            return Ok(ExitCode::SUCCESS);
        }
        Some(CallsAction::Merge { a, b }) => {
            let survivor = store.merge_calls(a, b, now)?;
            crate::outln!("merged call {b} into call {survivor}")?;
            return Ok(ExitCode::SUCCESS);
        }
        Some(CallsAction::Perimeter { id, perimeters }) => {
            for p in &perimeters {
                if let Err(e) = crate::territory::validate(p) {
                    anyhow::bail!("{e}");
                }
            }
            let set = crate::domain::PerimeterSet::new(perimeters)
                .context("give at least one perimeter")?;
            let shown = crate::domain::CallPerimeter::from(set.clone()).to_string();
            let call = store.set_perimeter(id, set, now)?;
            crate::outln!("call {call} now applies to {shown}; later crawls keep it")?;
            return Ok(ExitCode::SUCCESS);
        }
        Some(CallsAction::Split { id, sighting }) => {
            let new = store.split_call(id, sighting, now)?;
            crate::outln!(
                "sighting {sighting} now forms call {new}; it will stay apart from call {id}"
            )?;
            return Ok(ExitCode::SUCCESS);
        }
        None => {}
    }
    for state in &args.review {
        anyhow::ensure!(
            crate::store::REVIEW_STATES.contains(&state.as_str()),
            "unknown review state `{state}`: expected one of {}",
            crate::store::REVIEW_STATES.join(", ")
        );
    }
    let filter = CallFilter {
        open: args.open,
        status: args.status,
        sources: args.source_ids,
        themes: args.theme,
        audiences: args.audience,
        perimeters: args.perimeter,
        unresolved_perimeter: false,
        text: args.text,
        review: args.review,
        unlisted: match (args.unlisted, args.listed) {
            (true, _) => Some(true),
            (_, true) => Some(false),
            _ => None,
        },
        limit: args.limit,
        ..CallFilter::default()
    };
    report::print_calls(&store.list_calls(&filter, now)?, args.format)?;
    Ok(ExitCode::SUCCESS)
}

fn open_existing(config: &Config) -> anyhow::Result<Store> {
    let path = &config.database.path;
    anyhow::ensure!(
        path.exists(),
        "no database at {}: run `vigie crawl` first or pass --db PATH",
        path.display()
    );
    Store::open(path)
}

fn review(cmd: ReviewCommand) -> anyhow::Result<ExitCode> {
    let now = chrono::Utc::now();
    match cmd {
        ReviewCommand::List { common, format } => {
            let store = open_existing(&common.load()?)?;
            let filter = CallFilter {
                review: vec!["pending".into()],
                ..Default::default()
            };
            let pending = store.list_calls(&filter, now)?;
            // Calls a curator must place before they reach anyone.
            let unplaced = CallFilter {
                unresolved_perimeter: true,
                ..Default::default()
            };
            let unplaced = store.list_calls(&unplaced, now)?;
            if format == Format::Table {
                report::print_calls(&pending, format)?;
                if !unplaced.is_empty() {
                    crate::outln!(
                        "\n{} call(s) wait for a perimeter and are kept out of digests: \
                         set it with `vigie calls perimeter ID region:76 …`",
                        unplaced.len()
                    )?;
                    report::print_calls(&unplaced, format)?;
                }
            } else {
                // One document: the pending calls, then the unplaced others.
                let mut all = pending;
                for c in unplaced {
                    if !all.iter().any(|p| p.id == c.id) {
                        all.push(c);
                    }
                }
                report::print_calls(&all, format)?;
            }
        }
        ReviewCommand::Approve { id, common } => {
            let id = open_existing(&common.load()?)?.set_review(id, "approved", now)?;
            crate::outln!("call {id} approved")?;
        }
        ReviewCommand::Reject { id, common } => {
            let id = open_existing(&common.load()?)?.set_review(id, "rejected", now)?;
            crate::outln!("call {id} rejected: later crawls will keep it hidden")?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn the_command_line_definition_is_consistent() {
        super::Cli::command().debug_assert();
    }
}
