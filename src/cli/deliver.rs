//! `vigie deliver` (hidden) drains the outbox once with the configured
//! transport and prints what happened; operators use it to flush the queue
//! by hand, the crash test kills it mid-drain. `vigie outbox list|retry`
//! shows the queue and puts failed messages back.
//!
//! Exit codes of the commands that send (`deliver`, `digest run`): 0 when
//! everything due was sent, 1 when a message failed for good (or anything
//! else went wrong), [`EXIT_WAITING`] (75, `EX_TEMPFAIL`) when nothing
//! failed but messages wait for a retry.

use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, NaiveDateTime, Utc};
use chrono_tz::Europe::Paris;
use clap::{Args, Subcommand};
use comfy_table::{ContentArrangement, Table, presets::UTF8_BORDERS_ONLY};

use crate::config::Common;
use crate::deliver::carried::{self, RetryError};
use crate::deliver::outbox::{self, OutboxRow, OutboxStatus};
use crate::deliver::{DrainReport, Transport, drain_outbox};
use crate::report::Format;
use crate::store::Store;

/// Exit code of a run that failed nothing but left messages waiting for a
/// retry (sysexits' `EX_TEMPFAIL`).
pub const EXIT_WAITING: u8 = 75;

#[derive(Debug, Clone, Args)]
pub struct Clock {
    /// Act as if it were this instant: RFC 3339, or a Paris local time
    /// `YYYY-MM-DDTHH:MM` (for tests and replays).
    #[arg(long, env = "VIGIE_NOW", value_name = "TIME", value_parser = parse_now)]
    pub now: Option<DateTime<Utc>>,
}

impl Clock {
    pub fn now(&self) -> DateTime<Utc> {
        self.now.unwrap_or_else(Utc::now)
    }

    /// A clock that starts at [`Clock::now`] and keeps flowing (backoffs
    /// and leases are measured on it).
    pub fn flowing(&self) -> impl Fn() -> DateTime<Utc> + Clone + Send + Sync + 'static {
        let offset = self.now() - Utc::now();
        move || Utc::now() + offset
    }
}

pub fn parse_now(s: &str) -> Result<DateTime<Utc>, String> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s.trim()) {
        return Ok(t.with_timezone(&Utc));
    }
    for format in ["%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"] {
        if let Ok(local) = NaiveDateTime::parse_from_str(s.trim(), format) {
            return local
                .and_local_timezone(Paris)
                .earliest()
                .map(|t| t.with_timezone(&Utc))
                .ok_or_else(|| format!("`{s}` does not exist in Paris (DST gap)"));
        }
    }
    Err(format!(
        "`{s}` is not a time: expected RFC 3339 (2035-03-02T08:00:00+01:00) or a Paris \
         local time (2035-03-02T08:00)"
    ))
}

#[derive(Debug, Args)]
pub struct DeliverArgs {
    #[command(flatten)]
    pub common: Common,
    #[command(flatten)]
    pub clock: Clock,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Drains once; see the module documentation for the exit code.
pub fn run(args: DeliverArgs) -> anyhow::Result<ExitCode> {
    let config = args.common.load()?;
    let store = Arc::new(Mutex::new(Store::open(&config.database.path)?));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let clock = args.clock.flowing();
    let report = runtime.block_on(async {
        let transport = Transport::from_config(&config.mail)?;
        drain_outbox(&store, &transport, &config.mail, clock).await
    })?;
    let waiting = {
        let store = store
            .lock()
            .map_err(|_| anyhow::anyhow!("store lock poisoned"))?;
        outbox::waiting_for_retry(store.conn())?
    };
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
        print_outcome(&report, &waiting)?;
    }
    Ok(exit_code(&report, &waiting, true))
}

/// The lines every sending command prints after its counts: each failure,
/// and what waits for a retry.
pub fn print_outcome(report: &DrainReport, waiting: &[OutboxRow]) -> std::io::Result<()> {
    for f in report.permanent_failures.iter().chain(&report.exhausted) {
        crate::outln!(
            "failed: #{} to {}: {} (its calls go back to the next digest; \
             `vigie outbox retry {}` sends it again instead)",
            f.outbox_id,
            f.recipient,
            f.reason,
            f.outbox_id
        )?;
    }
    if let Some(next) = waiting.iter().map(|r| r.next_attempt_at.as_str()).min() {
        crate::outln!(
            "waiting for retry: {} message(s), next attempt at {next}: run `vigie deliver` \
             then (the daemon does it), `vigie outbox list --status pending` lists them",
            waiting.len()
        )?;
    }
    Ok(())
}

/// 1 when a message failed or `ok` is false, [`EXIT_WAITING`] when messages
/// wait for a retry, else 0.
pub fn exit_code(report: &DrainReport, waiting: &[OutboxRow], ok: bool) -> ExitCode {
    let failed = !report.permanent_failures.is_empty() || !report.exhausted.is_empty();
    if failed || !ok {
        ExitCode::FAILURE
    } else if !waiting.is_empty() {
        ExitCode::from(EXIT_WAITING)
    } else {
        ExitCode::SUCCESS
    }
}

#[derive(Debug, Subcommand)]
pub enum OutboxCommand {
    /// The messages of the outbox, oldest first.
    List(ListArgs),
    /// Put a failed message back in the queue (attempts reset) and record
    /// its calls as carried again. Refused when a later digest carried one
    /// of its calls meanwhile: no call is sent twice.
    Retry(RetryArgs),
}

#[derive(Debug, Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub common: Common,
    /// Only the messages in this state: pending, sending, sent or failed.
    #[arg(long, value_name = "STATUS")]
    pub status: Option<OutboxStatus>,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("which").required(true).args(["id", "all_failed"]))]
pub struct RetryArgs {
    #[command(flatten)]
    pub common: Common,
    #[command(flatten)]
    pub clock: Clock,
    /// The outbox row (`vigie outbox list --status failed`).
    pub id: Option<i64>,
    /// Every failed row (each on its own; refused ones are listed).
    #[arg(long)]
    pub all_failed: bool,
}

pub fn outbox_command(cmd: OutboxCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        OutboxCommand::List(args) => list(args),
        OutboxCommand::Retry(args) => retry(args),
    }
}

fn list(args: ListArgs) -> anyhow::Result<ExitCode> {
    let config = args.common.load()?;
    let store = Store::open(&config.database.path)?;
    let rows = match args.status {
        Some(status) => outbox::list_with_status(store.conn(), status)?,
        None => outbox::list(store.conn())?,
    };
    match args.format {
        Format::Json => {
            let json: Vec<serde_json::Value> = rows.iter().map(row_json).collect();
            crate::outln!("{}", serde_json::to_string_pretty(&json)?)?;
        }
        Format::Csv => anyhow::bail!("`vigie outbox list` prints table or json, not csv"),
        Format::Table => {
            let mut t = Table::new();
            t.load_style(UTF8_BORDERS_ONLY)
                .set_content_arrangement(ContentArrangement::Dynamic)
                .set_header(vec![
                    "id",
                    "status",
                    "attempts",
                    "recipient",
                    "created",
                    "next attempt / sent",
                    "last error",
                ]);
            for r in &rows {
                let when = match r.status {
                    OutboxStatus::Sent => r.sent_at.clone().unwrap_or_default(),
                    OutboxStatus::Pending => r.next_attempt_at.clone(),
                    OutboxStatus::Sending => r.claimed_at.clone().unwrap_or_default(),
                    OutboxStatus::Failed => String::new(),
                };
                t.add_row(vec![
                    r.id.to_string(),
                    r.status.to_string(),
                    r.attempts.to_string(),
                    r.recipient.clone(),
                    r.created_at.clone(),
                    when,
                    r.last_error.clone().unwrap_or_default(),
                ]);
            }
            crate::outln!("{t}")?;
            crate::outln!("{} message(s)", rows.len())?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn row_json(r: &OutboxRow) -> serde_json::Value {
    serde_json::json!({
        "id": r.id,
        "idempotency_key": r.idempotency_key,
        "subscriber_id": r.subscriber_id,
        "recipient": r.recipient,
        "message_id": r.message_id,
        "status": r.status.as_str(),
        "attempts": r.attempts,
        "next_attempt_at": r.next_attempt_at,
        "last_error": r.last_error,
        "created_at": r.created_at,
        "claimed_at": r.claimed_at,
        "sent_at": r.sent_at,
        "holder": r.holder.as_ref().map(|h| serde_json::json!({"host": h.host, "pid": h.pid})),
    })
}

fn retry(args: RetryArgs) -> anyhow::Result<ExitCode> {
    let config = args.common.load()?;
    let store = Store::open(&config.database.path)?;
    let now = args.clock.now();
    let ids: Vec<i64> = match args.id {
        Some(id) => vec![id],
        None => outbox::list_with_status(store.conn(), OutboxStatus::Failed)?
            .iter()
            .map(|r| r.id)
            .collect(),
    };
    if ids.is_empty() {
        crate::outln!("no failed message")?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut refused = 0;
    for id in ids {
        match carried::retry(store.conn(), id, now) {
            Ok(done) => crate::outln!(
                "#{id}: back in the queue, {} call record(s) restored; `vigie deliver` sends it",
                done.calls
            )?,
            Err(e @ (RetryError::Store(_) | RetryError::Other(_))) => return Err(e.into()),
            Err(e) => {
                refused += 1;
                crate::outln!("#{id}: not retried: {e}")?;
            }
        }
    }
    Ok(if refused == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
