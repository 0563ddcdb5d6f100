//! The `vigie` command line: argument definitions and dispatch. Each
//! command loads the configuration layers, applies its flags on top, and
//! calls the library; output formatting lives in `report`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::config::Common;
use crate::config::Config;
use crate::domain::{Audience, Perimeter, Status, Theme};
use crate::report::Format;
use subscribers::SubscribersCommand;

mod calls;
mod deliver;
mod digest;
mod sources;
mod subscribers;

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
    Deliver(deliver::DeliverArgs),
    /// The queue of calls waiting for a curator (sources with `review = true`).
    #[command(subcommand)]
    Review(ReviewCommand),
    /// Manage the collectivities that receive digests.
    #[command(subcommand)]
    Subscribers(SubscribersCommand),
    /// Build, preview and send the subscribers' digests.
    #[command(subcommand)]
    Digest(digest::DigestCommand),
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
    Outbox(deliver::OutboxCommand),
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
        Command::Crawl(args) => sources::crawl(args),
        Command::Sources(SourcesCommand::Check(args)) => sources::check(args),
        Command::Sources(SourcesCommand::List(args)) => sources::list_sources(args),
        Command::Calls(args) => calls::calls(args),
        Command::Review(cmd) => calls::review(cmd),
        Command::Subscribers(cmd) => {
            let config = cmd.common().load()?;
            subscribers::run(cmd, &config)
        }
        Command::Deliver(args) => deliver::run(args),
        Command::Digest(cmd) => digest::run(cmd),
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
        Command::Sources(SourcesCommand::Status(args)) => sources::sources_status(args),
        Command::Sources(SourcesCommand::New(args)) => crate::scaffold::run(args),
        Command::Outbox(cmd) => deliver::outbox_command(cmd),
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn the_command_line_definition_is_consistent() {
        super::Cli::command().debug_assert();
    }
}
