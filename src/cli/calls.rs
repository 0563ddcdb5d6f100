//! `vigie calls` and `vigie review`: the curator's view of the catalogue.

use std::process::ExitCode;

use anyhow::Context;

use super::{CallsAction, CallsArgs, ReviewCommand};
use crate::config::Config;
use crate::report::{self, Format};
use crate::store::{CallFilter, Store};

pub(super) fn calls(args: CallsArgs) -> anyhow::Result<ExitCode> {
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

pub(super) fn review(cmd: ReviewCommand) -> anyhow::Result<ExitCode> {
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
