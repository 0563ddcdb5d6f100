//! `vigie digest preview|run`.
//!
//! Both take `--now` (or the `VIGIE_NOW` environment variable): the instant
//! to act at, RFC 3339 (`2035-03-02T08:00:00+01:00`) or a Paris local time
//! (`2035-03-02T08:00`). Tests and operators use it to replay a day; without
//! it, the clock.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use anyhow::Context;
use chrono_tz::Europe::Paris;
use clap::{Args, Subcommand};

use super::deliver::{exit_code, print_outcome};
use crate::config::Common;
use crate::deliver::outbox;
use crate::deliver::{Transport, drain_outbox};
use crate::digest::bounces::record_bounces;
use crate::digest::build::{
    self, Catalogue, History, enqueue_due_digests, not_due_reason, paris_date,
};
use crate::digest::render::{Renderer, SectionKind};
use crate::matching::Matcher;
use crate::store::Store;
use crate::subscribers::EmailAddress;

#[derive(Debug, Subcommand)]
pub enum DigestCommand {
    /// Show what a subscriber would receive now: subject and text part.
    /// Sends nothing and records nothing.
    Preview(PreviewArgs),
    /// Build and enqueue every due digest, then send the outbox.
    Run(RunArgs),
}

pub use super::deliver::Clock;

#[derive(Debug, Args)]
pub struct PreviewArgs {
    #[command(flatten)]
    pub common: Common,
    #[command(flatten)]
    pub clock: Clock,
    /// The subscriber's email address.
    pub email: String,
    /// Write the HTML part to this file.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// Print the text part only (no subject, no status lines).
    #[arg(long)]
    pub text: bool,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub common: Common,
    #[command(flatten)]
    pub clock: Clock,
    /// Build and render every due digest, but record and send nothing.
    #[arg(long)]
    pub dry_run: bool,
}

pub fn run(cmd: DigestCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        DigestCommand::Preview(args) => preview(args),
        DigestCommand::Run(args) => run_digests(args),
    }
}

/// How many open calls `preview` explains when nothing fits.
const WHY_NOT_SHOWN: usize = 10;

fn preview(args: PreviewArgs) -> anyhow::Result<ExitCode> {
    let config = args.common.load()?;
    config.digest.validate()?;
    let now = args.clock.now();
    let store = Store::open(&config.database.path)?;
    let email = EmailAddress::parse(&args.email)?;
    let Some(subscriber) = store.subscriber_by_email(&email)? else {
        eprintln!("error: no subscriber {email}");
        return Ok(ExitCode::FAILURE);
    };
    let renderer = Renderer::new()?;
    let catalogue = Catalogue::load(&store, now)?;
    let history = History::load(store.conn(), subscriber.id)?;
    let matcher = Matcher::new(&subscriber);
    let plan = build::plan(
        &catalogue,
        &subscriber,
        &matcher,
        &history,
        &config.digest,
        now,
    )
    // Nothing is recorded: the preview's links carry no working token.
    .map(|p| p.with_token("apercu".into(), &config.digest));
    let due = not_due_reason(&subscriber, now, config.digest.send_hour);
    if !args.text {
        crate::outln!(
            "Preview for {} <{}> at {} (Paris), nothing sent or recorded",
            subscriber.profile.name,
            subscriber.profile.email,
            now.with_timezone(&Paris).format("%Y-%m-%d %H:%M")
        )?;
        match &due {
            None => crate::outln!("Due now: yes")?,
            Some(why) => crate::outln!("Due now: no ({why})")?,
        }
    }
    let Some(plan) = plan else {
        crate::outln!(
            "Nothing to send: no new call, extension or closing-soon reminder for this subscriber \
             among {} open calls.",
            catalogue.len()
        )?;
        for (call, facts) in catalogue
            .calls()
            .iter()
            .zip(catalogue.facts())
            .take(WHY_NOT_SHOWN)
        {
            let why = match matcher.check(facts) {
                Err(reason) => reason.to_string(),
                Ok(()) if history.new.contains_key(&call.id) => {
                    "fits, already sent as new".to_string()
                }
                Ok(()) => "fits".to_string(),
            };
            crate::outln!("  #{} {}: {why}", call.id, call.title)?;
        }
        return Ok(ExitCode::SUCCESS);
    };
    let email = renderer.render(&plan.view)?;
    if let Some(path) = &args.html {
        std::fs::write(path, &email.html)
            .with_context(|| format!("writing the HTML part to {}", path.display()))?;
    }
    if args.text {
        crate::report::out::write_text(&email.text)?;
        return Ok(ExitCode::SUCCESS);
    }
    for kind in SectionKind::ALL {
        let ids = plan.call_ids(kind);
        if !ids.is_empty() {
            crate::outln!("{}: {} call(s) {:?}", kind.title(), ids.len(), ids)?;
        }
    }
    crate::outln!("Subject: {}", email.subject)?;
    crate::outln!()?;
    crate::report::out::write_text(&email.text)?;
    if let Some(path) = &args.html {
        eprintln!("HTML part written to {}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}

fn run_digests(args: RunArgs) -> anyhow::Result<ExitCode> {
    let config = args.common.load()?;
    config.digest.validate()?;
    let now = args.clock.now();
    let store = Store::open(&config.database.path)?;
    let renderer = Renderer::new()?;
    let summary = enqueue_due_digests(
        &store,
        &renderer,
        &config.digest,
        &config.mail,
        now,
        args.dry_run,
    )?;
    crate::outln!(
        "digest run for {} (Europe/Paris){}",
        paris_date(now),
        if args.dry_run {
            ", dry run: nothing recorded or sent"
        } else {
            ""
        }
    )?;
    crate::outln!(
        "subscribers due: {} (of {} active)",
        summary.due,
        summary.active
    )?;
    crate::outln!("digests built: {}", summary.built)?;
    crate::outln!("empty, skipped: {}", summary.empty)?;
    if summary.already_queued > 0 {
        crate::outln!("already queued today: {}", summary.already_queued)?;
    }
    for e in &summary.errors {
        crate::outln!("error: {e}")?;
    }
    if args.dry_run {
        return Ok(if summary.errors.is_empty() {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        });
    }
    // The outbox clock runs from `now` (so that messages enqueued "at" a
    // --now in the future are due) and keeps flowing for backoffs.
    let clock = args.clock.flowing();
    let store = Arc::new(Mutex::new(store));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let report = runtime.block_on(async {
        let transport = Transport::from_config(&config.mail)?;
        drain_outbox(&store, &transport, &config.mail, clock.clone()).await
    })?;
    let (bouncing, waiting) = {
        let store = store
            .lock()
            .map_err(|_| anyhow::anyhow!("store lock poisoned"))?;
        let bouncing = record_bounces(&store, &report, config.mail.bounce_threshold, clock())?;
        (bouncing, outbox::waiting_for_retry(store.conn())?)
    };
    let failed = report.permanent_failures.len() + report.exhausted.len();
    crate::outln!("sent: {}", report.sent)?;
    crate::outln!("failed: {failed}")?;
    if report.rescheduled > 0 {
        crate::outln!("retry later: {}", report.rescheduled)?;
    }
    if report.recovered > 0 {
        crate::outln!(
            "reclaimed: {} (left `sending` by a stopped run, sent again)",
            report.recovered
        )?;
    }
    print_outcome(&report, &waiting)?;
    for s in &bouncing {
        crate::outln!(
            "bouncing: {} (no more digests until reactivated)",
            s.profile.email
        )?;
    }
    Ok(exit_code(&report, &waiting, summary.errors.is_empty()))
}
