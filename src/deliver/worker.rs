//! The delivery worker: [`drain_outbox`] sends every due outbox row and
//! records each outcome. The daemon calls it on a timer, `vigie deliver`
//! once, and the tests directly: one function for all three.
//!
//! `pool_size` slots run concurrently; each loops claim → send → record
//! until no row is due, so at most `pool_size` rows are `sending` at any
//! moment and a crash leaves at most that many in doubt.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::MailConfig;
use super::outbox::{self, Claimed};
use super::transport::{Outcome, Session, Transport};
use crate::store::Store;

/// What one drain did. Every claimed row appears in exactly one count.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DrainReport {
    /// Accepted by the server (or written to a file).
    pub sent: usize,
    /// Failed transiently, back to `pending` with a later attempt.
    pub rescheduled: usize,
    /// Rows found `sending` from a stopped worker and put back to `pending`
    /// (or `failed` when out of attempts) before this drain began.
    pub recovered: usize,
    /// 5xx: `failed`, never retried. The caller counts them per subscriber
    /// against `mail.bounce_threshold`.
    pub permanent_failures: Vec<Failure>,
    /// Transient failures that reached `mail.max_attempts`: `failed` too.
    pub exhausted: Vec<Failure>,
    /// Time from the server's acceptance to the `sent` commit.
    pub commit_window: CommitWindow,
}

/// A row that ended `failed` during this drain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Failure {
    pub outbox_id: i64,
    pub subscriber_id: Option<i64>,
    pub recipient: String,
    pub reason: String,
}

/// The at-least-once window, measured: from the moment the transport
/// returned the server's acceptance to the moment the `sent` row was
/// committed. A kill inside it resends one message.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct CommitWindow {
    pub count: u64,
    pub max_micros: u64,
    pub total_micros: u64,
}

impl CommitWindow {
    fn record(&mut self, d: Duration) {
        let micros = u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
        self.count += 1;
        self.max_micros = self.max_micros.max(micros);
        self.total_micros = self.total_micros.saturating_add(micros);
    }

    pub fn mean_micros(&self) -> u64 {
        self.total_micros.checked_div(self.count).unwrap_or(0)
    }

    fn merge(&mut self, other: CommitWindow) {
        self.count += other.count;
        self.max_micros = self.max_micros.max(other.max_micros);
        self.total_micros = self.total_micros.saturating_add(other.total_micros);
    }
}

impl DrainReport {
    fn merge(&mut self, other: DrainReport) {
        self.sent += other.sent;
        self.rescheduled += other.rescheduled;
        self.recovered += other.recovered;
        self.permanent_failures.extend(other.permanent_failures);
        self.exhausted.extend(other.exhausted);
        self.commit_window.merge(other.commit_window);
    }
}

/// Sends every due row: first recovers rows abandoned in `sending`, then
/// runs `pool_size` slots until nothing is due. `now_fn` is the clock
/// (tests pass a fake one to step over backoff delays).
pub async fn drain_outbox<F>(
    store: &Arc<Mutex<Store>>,
    transport: &Transport,
    config: &MailConfig,
    now_fn: F,
) -> anyhow::Result<DrainReport>
where
    F: Fn() -> DateTime<Utc>,
{
    let recovered = outbox::recover_abandoned(lock(store)?.conn(), config, now_fn())?;
    if recovered > 0 {
        tracing::warn!(
            recovered,
            "outbox rows abandoned in `sending` are due again"
        );
    }
    let slots = (0..config.pool_size.max(1)).map(|_| drain_slot(store, transport, config, &now_fn));
    let mut report = DrainReport {
        recovered,
        ..DrainReport::default()
    };
    for part in futures::future::try_join_all(slots).await? {
        report.merge(part);
    }
    tracing::info!(
        sent = report.sent,
        rescheduled = report.rescheduled,
        failed = report.permanent_failures.len() + report.exhausted.len(),
        "outbox drained"
    );
    Ok(report)
}

async fn drain_slot<F>(
    store: &Arc<Mutex<Store>>,
    transport: &Transport,
    config: &MailConfig,
    now_fn: &F,
) -> anyhow::Result<DrainReport>
where
    F: Fn() -> DateTime<Utc>,
{
    let mut report = DrainReport::default();
    let mut session = transport.session();
    let result = drain_with(&mut session, store, config, now_fn, &mut report).await;
    session.close().await;
    result.map(|()| report)
}

async fn drain_with<F>(
    session: &mut Session<'_>,
    store: &Arc<Mutex<Store>>,
    config: &MailConfig,
    now_fn: &F,
    report: &mut DrainReport,
) -> anyhow::Result<()>
where
    F: Fn() -> DateTime<Utc>,
{
    loop {
        // The claim commits before any byte is sent: a crash from here on
        // leaves the row `sending`, never lost.
        let Some(row) = outbox::claim_next(lock(store)?.conn(), now_fn())? else {
            return Ok(());
        };
        tracing::debug!(id = row.id, attempt = row.attempts, "claimed");
        let outcome = session.send(row.id, &row.recipient, &row.message).await;
        tracing::debug!(id = row.id, ?outcome, "send returned");
        match outcome {
            Outcome::Sent => {
                // The commit point. No await between the acceptance and this
                // commit, and the store is used in place rather than through
                // `spawn_blocking`, to keep the at-least-once window to one
                // indexed UPDATE (WAL, synchronous=NORMAL: no fsync).
                let accepted = Instant::now();
                outbox::mark_sent(lock(store)?.conn(), row.id, now_fn())?;
                report.commit_window.record(accepted.elapsed());
                tracing::debug!(id = row.id, "sent committed");
                report.sent += 1;
            }
            Outcome::Transient(reason) if row.attempts < config.max_attempts => {
                let delay = config.backoff(row.attempts);
                let next = now_fn() + delay;
                tracing::warn!(id = row.id, attempts = row.attempts, %reason, "will retry");
                outbox::reschedule(lock(store)?.conn(), row.id, &reason, next)?;
                report.rescheduled += 1;
            }
            Outcome::Transient(reason) => {
                let reason = format!("gave up after {} attempts: {reason}", row.attempts);
                tracing::warn!(id = row.id, %reason, "message failed");
                outbox::mark_failed(lock(store)?.conn(), row.id, &reason, now_fn())?;
                report.exhausted.push(failure(&row, reason));
            }
            Outcome::Permanent(reason) => {
                tracing::warn!(id = row.id, %reason, "message refused");
                outbox::mark_failed(lock(store)?.conn(), row.id, &reason, now_fn())?;
                report.permanent_failures.push(failure(&row, reason));
            }
        }
    }
}

fn failure(row: &Claimed, reason: String) -> Failure {
    Failure {
        outbox_id: row.id,
        subscriber_id: row.subscriber_id,
        recipient: row.recipient.clone(),
        reason,
    }
}

fn lock(store: &Arc<Mutex<Store>>) -> anyhow::Result<MutexGuard<'_, Store>> {
    store
        .lock()
        .map_err(|_| anyhow::anyhow!("the store lock is poisoned by an earlier panic"))
}
