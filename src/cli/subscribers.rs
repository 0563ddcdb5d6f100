//! `vigie subscribers ...`: the operator's commands over the subscriber
//! list. Data errors (a bad field, an unknown subscriber, a bad CSV row)
//! print `error: ...` and exit with status 1; nothing is half-written.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Subcommand;
use comfy_table::{ContentArrangement, Table, presets::UTF8_BORDERS_ONLY};
use serde::Serialize;

use crate::config::Common;
use crate::config::Config;
use crate::report::Format;
use crate::store::{Store, ts};
use crate::subscribers::csv::{profile_from_fields, read_profiles, write_profiles};
use crate::subscribers::model::{Subscriber, SubscriberStatus, weekday_code};
use crate::territory;

#[derive(Debug, Subcommand)]
pub enum SubscribersCommand {
    /// Add one subscriber, active at once (an operator adds people who asked).
    Add {
        #[command(flatten)]
        common: Common,
        /// Email address the digests go to.
        email: String,
        /// The collectivity's name.
        #[arg(long)]
        name: String,
        /// Type of body: commune, epci, department, region, ...
        #[arg(long)]
        audience: String,
        /// commune:INSEE, epci:SIREN, department:CODE, region:CODE, a bare code or a name.
        #[arg(long)]
        territory: String,
        /// Theme code (repeatable; none = every theme).
        #[arg(long = "theme", value_name = "THEME")]
        themes: Vec<String>,
        /// Keyword, `*` at the end for a prefix (repeatable; none = no keyword filter).
        #[arg(long = "keyword", value_name = "WORDS")]
        keywords: Vec<String>,
        /// daily or weekly.
        #[arg(long, default_value = "daily")]
        frequency: String,
        /// Day of a weekly digest: lundi..dimanche, monday..sunday or 1-7.
        #[arg(long)]
        weekday: Option<String>,
    },
    /// List subscribers.
    List {
        #[command(flatten)]
        common: Common,
        /// Only subscribers with this status (repeatable).
        #[arg(long, value_name = "STATUS", value_parser = parse_status)]
        status: Vec<SubscriberStatus>,
        /// table, json, or csv (the import format).
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Show one subscriber.
    Show {
        #[command(flatten)]
        common: Common,
        /// Id or email.
        who: String,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Delete a subscriber for good (to keep them from being re-imported,
    /// let them unsubscribe instead).
    Remove {
        #[command(flatten)]
        common: Common,
        /// Id or email.
        who: String,
    },
    /// Stop sending digests to a subscriber. The row is kept, so that an
    /// import never adds them back; only they can subscribe again.
    Unsubscribe {
        #[command(flatten)]
        common: Common,
        /// Id or email.
        who: String,
    },
    /// Send digests again to a `bouncing` subscriber whose address works
    /// again; resets the bounce counter.
    Reactivate {
        #[command(flatten)]
        common: Common,
        /// Id or email.
        who: String,
    },
    /// Import a CSV list (header: email,name,audience,territory,themes,keywords,frequency,weekday).
    /// Imported subscribers count as confirmed; all rows are checked before any is stored.
    Import {
        #[command(flatten)]
        common: Common,
        file: PathBuf,
    },
    /// Export subscribers as CSV, in the import format.
    Export {
        #[command(flatten)]
        common: Common,
        /// Write to this file instead of standard output.
        #[arg(long, short)]
        output: Option<PathBuf>,
        /// Only subscribers with this status (repeatable; default: active).
        #[arg(long, value_name = "STATUS", value_parser = parse_status)]
        status: Vec<SubscriberStatus>,
    },
}

fn parse_status(s: &str) -> Result<SubscriberStatus, String> {
    s.parse()
        .map_err(|e: crate::domain::UnknownCode| e.to_string())
}

impl SubscribersCommand {
    /// The database and configuration options of whichever command it is.
    pub fn common(&self) -> &Common {
        match self {
            SubscribersCommand::Add { common, .. }
            | SubscribersCommand::List { common, .. }
            | SubscribersCommand::Show { common, .. }
            | SubscribersCommand::Remove { common, .. }
            | SubscribersCommand::Unsubscribe { common, .. }
            | SubscribersCommand::Reactivate { common, .. }
            | SubscribersCommand::Import { common, .. }
            | SubscribersCommand::Export { common, .. } => common,
        }
    }
}

/// A data error: printed, exit status 1.
fn fail(message: impl std::fmt::Display) -> anyhow::Result<ExitCode> {
    eprintln!("error: {message}");
    Ok(ExitCode::FAILURE)
}

pub fn run(cmd: SubscribersCommand, config: &Config) -> anyhow::Result<ExitCode> {
    let path = &config.database.path;
    let store = Store::open(path).with_context(|| format!("opening {}", path.display()))?;
    let now = chrono::Utc::now();
    match cmd {
        SubscribersCommand::Add {
            email,
            name,
            audience,
            territory,
            themes,
            keywords,
            frequency,
            weekday,
            ..
        } => {
            let themes = themes.join("|");
            let keywords = keywords.join("|");
            let weekday = weekday.unwrap_or_default();
            let get = |field: &str| -> &str {
                match field {
                    "email" => &email,
                    "name" => &name,
                    "audience" => &audience,
                    "territory" => &territory,
                    "themes" => &themes,
                    "keywords" => &keywords,
                    "frequency" => &frequency,
                    "weekday" => &weekday,
                    _ => "",
                }
            };
            let profile = match profile_from_fields(get) {
                Ok(p) => p,
                Err(e) => return fail(e),
            };
            match store.add_subscriber(&profile, SubscriberStatus::Active, now) {
                Ok(s) => {
                    crate::outln!("added subscriber {}: {}", s.id, s.profile.email)?;
                    Ok(ExitCode::SUCCESS)
                }
                Err(e @ crate::subscribers::SubscriberError::AlreadySubscribed { .. }) => fail(e),
                Err(e) => Err(e.into()),
            }
        }
        SubscribersCommand::List { status, format, .. } => {
            print_subscribers(&store.list_subscribers(&status)?, format)?;
            Ok(ExitCode::SUCCESS)
        }
        SubscribersCommand::Show { who, format, .. } => match find(&store, &who)? {
            Some(s) => {
                print_subscriber(&s, format)?;
                Ok(ExitCode::SUCCESS)
            }
            None => fail(format!("no subscriber `{who}` (give an id or an email)")),
        },
        SubscribersCommand::Remove { who, .. } => match find(&store, &who)? {
            Some(s) => {
                store.remove_subscriber(s.id)?;
                crate::outln!("removed subscriber {}: {}", s.id, s.profile.email)?;
                Ok(ExitCode::SUCCESS)
            }
            None => fail(format!("no subscriber `{who}` (give an id or an email)")),
        },
        SubscribersCommand::Unsubscribe { who, .. } => match find(&store, &who)? {
            Some(s) if s.status == SubscriberStatus::Unsubscribed => {
                crate::outln!(
                    "subscriber {} ({}) was already unsubscribed",
                    s.id,
                    s.profile.email
                )?;
                Ok(ExitCode::SUCCESS)
            }
            Some(s) => {
                let s = store.unsubscribe_id(s.id, now)?;
                crate::outln!(
                    "unsubscribed {}: {}; kept so that imports never add them back",
                    s.id,
                    s.profile.email
                )?;
                Ok(ExitCode::SUCCESS)
            }
            None => fail(format!("no subscriber `{who}` (give an id or an email)")),
        },
        SubscribersCommand::Reactivate { who, .. } => match find(&store, &who)? {
            Some(s)
                if matches!(
                    s.status,
                    SubscriberStatus::Unsubscribed | SubscriberStatus::Pending
                ) =>
            {
                fail(format!(
                    "subscriber {} ({}) is {}: Vigie cannot subscribe them again; a new confirmation is \
                 needed (they sign up again and follow the link of the confirmation email)",
                    s.id, s.profile.email, s.status
                ))
            }
            Some(s) => {
                let s = store.reactivate_subscriber(s.id, now)?;
                crate::outln!(
                    "reactivated {}: {} is active, bounce counter reset",
                    s.id,
                    s.profile.email
                )?;
                Ok(ExitCode::SUCCESS)
            }
            None => fail(format!("no subscriber `{who}` (give an id or an email)")),
        },
        SubscribersCommand::Import { file, .. } => {
            let bytes =
                std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            let text = match crate::subscribers::csv::decode(&bytes) {
                Ok(t) => t,
                Err(e) => return fail(format!("{}: {e}", file.display())),
            };
            let profiles = match read_profiles(&text) {
                Ok(p) => p,
                Err(e) => return fail(format!("{}: {e}", file.display())),
            };
            let summary = store.import_subscribers(&profiles, now)?;
            crate::outln!(
                "imported {}: {} added, {} updated, {} unchanged, {} skipped (unsubscribed)",
                file.display(),
                summary.added,
                summary.updated,
                summary.unchanged,
                summary.skipped_unsubscribed.len()
            )?;
            for email in &summary.skipped_unsubscribed {
                crate::outln!("skipped {email}: unsubscribed, only they can subscribe again")?;
            }
            Ok(ExitCode::SUCCESS)
        }
        SubscribersCommand::Export { output, status, .. } => {
            let status = if status.is_empty() {
                vec![SubscriberStatus::Active]
            } else {
                status
            };
            let subs = store.list_subscribers(&status)?;
            let profiles = subs.iter().map(|s| &s.profile);
            match &output {
                Some(path) => {
                    let file = std::fs::File::create(path)
                        .with_context(|| format!("creating {}", path.display()))?;
                    write_profiles(std::io::BufWriter::new(file), profiles)?;
                    eprintln!("exported {} subscribers to {}", subs.len(), path.display());
                }
                None => write_profiles(crate::report::out::stdout(), profiles)?,
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// By id when `who` is a number, else by email.
fn find(store: &Store, who: &str) -> anyhow::Result<Option<Subscriber>> {
    if let Ok(id) = who.trim().parse::<i64>() {
        return store.subscriber(id);
    }
    match crate::subscribers::EmailAddress::parse(who) {
        Ok(email) => Ok(store.subscriber_by_email(&email)?),
        Err(_) => Ok(None),
    }
}

/// What scripts get: everything but the tokens.
#[derive(Serialize)]
struct SubscriberJson<'a> {
    id: i64,
    email: &'a str,
    name: &'a str,
    audience: &'a str,
    territory: String,
    territory_name: Option<&'static str>,
    themes: Vec<&'static str>,
    keywords: &'a [String],
    frequency: &'static str,
    weekday: Option<&'static str>,
    status: SubscriberStatus,
    created_at: String,
    confirmed_at: Option<String>,
    bounce_count: u32,
    last_digest_at: Option<String>,
}

fn json(s: &Subscriber) -> SubscriberJson<'_> {
    let p = &s.profile;
    SubscriberJson {
        id: s.id,
        email: p.email.as_str(),
        name: &p.name,
        audience: p.audience.as_str(),
        territory: p.territory.to_string(),
        territory_name: territory_name(&p.territory),
        themes: p.themes.iter().map(|t| t.as_str()).collect(),
        keywords: &p.keywords,
        frequency: p.frequency.code(),
        weekday: p.frequency.weekday().map(weekday_code),
        status: s.status,
        created_at: ts(&s.created_at),
        confirmed_at: s.confirmed_at.as_ref().map(ts),
        bounce_count: s.bounce_count,
        last_digest_at: s.last_digest_at.as_ref().map(ts),
    }
}

fn territory_name(p: &crate::domain::Perimeter) -> Option<&'static str> {
    use crate::domain::Perimeter::*;
    match p {
        Europe | France => None,
        Region(c) => territory::region(c).map(|r| r.name),
        Department(c) => territory::department(c).map(|d| d.name),
        Epci(c) => territory::epci(c).map(|e| e.name),
        Commune(c) => territory::commune(c).map(|c| c.name),
    }
}

fn frequency_text(s: &Subscriber) -> String {
    match s.profile.frequency.weekday() {
        None => "daily".into(),
        Some(d) => format!("weekly ({})", weekday_code(d)),
    }
}

fn print_subscribers(subs: &[Subscriber], format: Format) -> anyhow::Result<()> {
    match format {
        Format::Json => crate::report::print_json(&subs.iter().map(json).collect::<Vec<_>>()),
        Format::Csv => write_profiles(
            crate::report::out::stdout(),
            subs.iter().map(|s| &s.profile),
        ),
        Format::Table => {
            let mut t = Table::new();
            t.load_style(UTF8_BORDERS_ONLY)
                .set_content_arrangement(ContentArrangement::Dynamic)
                .set_header(vec![
                    "id",
                    "email",
                    "name",
                    "audience",
                    "territory",
                    "themes",
                    "keywords",
                    "frequency",
                    "status",
                ]);
            for s in subs {
                let p = &s.profile;
                t.add_row(vec![
                    s.id.to_string(),
                    p.email.to_string(),
                    p.name.clone(),
                    p.audience.to_string(),
                    match territory_name(&p.territory) {
                        Some(n) => format!("{} ({n})", p.territory),
                        None => p.territory.to_string(),
                    },
                    p.themes
                        .iter()
                        .map(|t| t.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                    p.keywords.join(", "),
                    frequency_text(s),
                    s.status.to_string(),
                ]);
            }
            crate::outln!("{t}")?;
            crate::outln!(
                "{} subscriber{}",
                subs.len(),
                if subs.len() == 1 { "" } else { "s" }
            )?;
            Ok(())
        }
    }
}

fn print_subscriber(s: &Subscriber, format: Format) -> anyhow::Result<()> {
    if format != Format::Table {
        return crate::report::print_json(&json(s));
    }
    let j = json(s);
    let or_dash = |v: Option<String>| v.unwrap_or_else(|| "-".into());
    let rows: Vec<(&str, String)> = vec![
        ("id", j.id.to_string()),
        ("email", j.email.to_string()),
        ("name", j.name.to_string()),
        ("audience", j.audience.to_string()),
        (
            "territory",
            match j.territory_name {
                Some(n) => format!("{} ({n})", j.territory),
                None => j.territory.clone(),
            },
        ),
        (
            "themes",
            or_dash((!j.themes.is_empty()).then(|| j.themes.join(", "))),
        ),
        (
            "keywords",
            or_dash((!j.keywords.is_empty()).then(|| j.keywords.join(", "))),
        ),
        ("frequency", frequency_text(s)),
        ("status", j.status.to_string()),
        ("created", j.created_at.clone()),
        ("confirmed", or_dash(j.confirmed_at.clone())),
        ("bounces", j.bounce_count.to_string()),
        ("last digest", or_dash(j.last_digest_at.clone())),
    ];
    let mut t = Table::new();
    t.load_style(UTF8_BORDERS_ONLY)
        .set_content_arrangement(ContentArrangement::Dynamic);
    for (k, v) in rows {
        t.add_row(vec![k.to_string(), v]);
    }
    crate::outln!("{t}")?;
    Ok(())
}
