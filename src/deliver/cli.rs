//! `vigie deliver` (hidden): drains the outbox once with the configured
//! transport and prints what happened. Operators use it to flush the queue
//! by hand; the crash test kills it mid-drain.

use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use clap::Args;

use super::{Transport, drain_outbox};
use crate::cli::Common;
use crate::store::Store;

#[derive(Debug, Args)]
pub struct DeliverArgs {
    #[command(flatten)]
    pub common: Common,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Drains once. Exits with failure when a message ended `failed`.
pub fn run(args: DeliverArgs) -> anyhow::Result<ExitCode> {
    let config = args.common.load()?;
    let store = Arc::new(Mutex::new(Store::open(&config.database.path)?));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let report = runtime.block_on(async {
        let transport = Transport::from_config(&config.mail)?;
        drain_outbox(&store, &transport, &config.mail, chrono::Utc::now).await
    })?;
    if args.json {
        crate::outln!("{}", serde_json::to_string(&report)?)?;
    } else {
        crate::outln!(
            "sent {}, rescheduled {}, recovered {}, failed {} (commit window: max {} µs, mean {} µs)",
            report.sent,
            report.rescheduled,
            report.recovered,
            report.permanent_failures.len() + report.exhausted.len(),
            report.commit_window.max_micros,
            report.commit_window.mean_micros(),
        )?;
        for f in report.permanent_failures.iter().chain(&report.exhausted) {
            crate::outln!("failed: #{} to {}: {}", f.outbox_id, f.recipient, f.reason)?;
        }
    }
    let failed = !report.permanent_failures.is_empty() || !report.exhausted.is_empty();
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
