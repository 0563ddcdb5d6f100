//! The `outbox` table: enqueue inside the caller's transaction, claim one
//! due row at a time, record each outcome in its own short transaction.
//!
//! Row life: `pending` → (claim) `sending` → `sent`, or back to `pending`
//! with a later `next_attempt_at` after a transient failure, or `failed`
//! (with `last_error`) after a permanent one or after `max_attempts`. A row
//! that becomes `failed` gives its calls back to the next digest in the same
//! transaction ([`super::carried`]). A row left in `sending` by a worker
//! that died is put back to `pending` by the next drain: at once when its
//! holder is seen gone on this host ([`super::holder`]), else once
//! `claim_lease_secs` have passed (see [`recover_abandoned`]).

use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};

use super::MailConfig;
use super::carried::give_back;
use super::holder::{Holder, Liveness};
use super::message::{NewMessage, build_message};

/// Where a row is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutboxStatus {
    Pending,
    Sending,
    Sent,
    Failed,
}

impl OutboxStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            OutboxStatus::Pending => "pending",
            OutboxStatus::Sending => "sending",
            OutboxStatus::Sent => "sent",
            OutboxStatus::Failed => "failed",
        }
    }

    pub const ALL: [OutboxStatus; 4] = [
        OutboxStatus::Pending,
        OutboxStatus::Sending,
        OutboxStatus::Sent,
        OutboxStatus::Failed,
    ];
}

impl std::fmt::Display for OutboxStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for OutboxStatus {
    type Err = String;

    fn from_str(s: &str) -> Result<OutboxStatus, String> {
        OutboxStatus::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| {
                format!("unknown outbox status `{s}`: expected pending, sending, sent or failed")
            })
    }
}

/// One outbox row without its message bytes, for reports and tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxRow {
    pub id: i64,
    pub idempotency_key: String,
    pub subscriber_id: Option<i64>,
    pub recipient: String,
    pub message_id: String,
    pub status: OutboxStatus,
    pub attempts: u32,
    pub next_attempt_at: String,
    pub last_error: Option<String>,
    pub created_at: String,
    pub claimed_at: Option<String>,
    pub sent_at: Option<String>,
    /// The process holding a `sending` claim (the last holder otherwise).
    pub holder: Option<Holder>,
}

/// A row claimed for sending: everything the transport needs.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub id: i64,
    pub subscriber_id: Option<i64>,
    pub recipient: String,
    pub message: Vec<u8>,
    /// Attempts including this one.
    pub attempts: u32,
}

/// Outbox timestamps: UTC, milliseconds, so that text order is time order
/// and a lease of a second is measured precisely.
pub(crate) fn ts_ms(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Builds the message for `msg` and stores it, inside the caller's
/// transaction, so that building a digest and recording which calls it
/// carries commit together. Returns the new row's id, or `None` when a row
/// with the same idempotency key exists (the first message is kept as is).
pub fn enqueue(
    tx: &Transaction,
    msg: &NewMessage,
    mail: &MailConfig,
    now: DateTime<Utc>,
) -> anyhow::Result<Option<i64>> {
    let exists: bool = tx.query_row(
        "SELECT EXISTS (SELECT 1 FROM outbox WHERE idempotency_key = ?1)",
        [&msg.idempotency_key],
        |r| r.get(0),
    )?;
    if exists {
        return Ok(None);
    }
    let built = build_message(msg, mail, now)
        .with_context(|| format!("building the message `{}`", msg.idempotency_key))?;
    let at = ts_ms(now);
    // ON CONFLICT DO NOTHING covers another process enqueueing the same key
    // between the check above and this insert.
    let inserted = tx.execute(
        "INSERT INTO outbox (idempotency_key, subscriber_id, recipient, message, message_id,
                             status, attempts, next_attempt_at, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, 'pending', 0, ?6, ?6)
         ON CONFLICT (idempotency_key) DO NOTHING",
        params![
            msg.idempotency_key,
            msg.subscriber_id,
            built.recipient,
            built.bytes,
            built.message_id,
            at
        ],
    )?;
    Ok((inserted == 1).then(|| tx.last_insert_rowid()))
}

/// Puts rows left in `sending` by a stopped worker back to `pending`:
/// at once when their holder is seen gone on this host (a crash, a kill),
/// else once `claim_lease_secs` have passed since the claim (a holder on
/// another host, or one that left no checkable identity). Whether the server
/// accepted them is unknown, so they are sent again (same bytes, same
/// Message-ID). The interrupted attempt counts, so a message that crashes
/// the worker every time still ends `failed`, and then gives its calls back.
/// One `BEGIN IMMEDIATE` transaction: two processes starting together do
/// not both reclaim a row. Returns how many rows.
pub fn recover_abandoned(
    conn: &Connection,
    mail: &MailConfig,
    now: DateTime<Utc>,
) -> anyhow::Result<usize> {
    // Clamped to the accepted range: a config built in code skips the check.
    let lease = mail.claim_lease_secs.min(MailConfig::CLAIM_LEASE_SECS.max);
    let cutoff = ts_ms(now - Duration::from_secs(lease));
    let tx = Transaction::new_unchecked(conn, TransactionBehavior::Immediate)?;
    let claims: Vec<(i64, Option<String>, u32, Option<Holder>)> = {
        let mut stmt = tx.prepare(
            "SELECT id, claimed_at, attempts, holder_host, holder_pid, holder_start
               FROM outbox WHERE status = 'sending'",
        )?;
        stmt.query_map([], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, holder_of(r, 3)?))
        })?
        .collect::<Result<_, _>>()?
    };
    let mut recovered = 0;
    for (id, claimed_at, attempts, holder) in claims {
        let expired = claimed_at.as_deref().is_none_or(|at| at <= cutoff.as_str());
        let why = match holder.as_ref().map(Holder::liveness) {
            Some(Liveness::Gone(why)) => why,
            _ if expired => format!("the claim is older than {} s", mail.claim_lease_secs),
            _ => continue,
        };
        let reason = format!(
            "the worker stopped while sending ({why}); acceptance unknown, \
             sent again with the same Message-ID"
        );
        if attempts >= mail.max_attempts {
            tx.execute(
                "UPDATE outbox SET status = 'failed', last_error = ?2
                 WHERE id = ?1 AND status = 'sending'",
                params![id, format!("gave up after {attempts} attempts: {reason}")],
            )?;
            give_back(&tx, id, now)?;
        } else {
            tx.execute(
                "UPDATE outbox SET status = 'pending', last_error = ?2, next_attempt_at = ?3
                 WHERE id = ?1 AND status = 'sending'",
                params![id, reason, ts_ms(now)],
            )?;
        }
        tracing::warn!(id, %why, "reclaimed an outbox row left `sending`");
        recovered += 1;
    }
    tx.commit()?;
    Ok(recovered)
}

fn holder_of(r: &rusqlite::Row, at: usize) -> rusqlite::Result<Option<Holder>> {
    let host: Option<String> = r.get(at)?;
    let pid: Option<u32> = r.get(at + 1)?;
    let start: Option<String> = r.get(at + 2)?;
    Ok(match (host, pid, start) {
        (Some(host), Some(pid), Some(start)) => Some(Holder { host, pid, start }),
        _ => None,
    })
}

/// Claims the next due row: one statement, so two workers (or two
/// processes) never claim the same row. The claim commits before any byte
/// is sent.
pub fn claim_next(conn: &Connection, now: DateTime<Utc>) -> anyhow::Result<Option<Claimed>> {
    let at = ts_ms(now);
    let me = Holder::current();
    conn.prepare_cached(
        "UPDATE outbox
            SET status = 'sending', claimed_at = ?1, attempts = attempts + 1,
                holder_host = ?2, holder_pid = ?3, holder_start = ?4
          WHERE id = (SELECT id FROM outbox
                       WHERE status = 'pending' AND next_attempt_at <= ?1
                       ORDER BY next_attempt_at, id LIMIT 1)
          RETURNING id, subscriber_id, recipient, message, attempts",
    )?
    .query_row(params![at, me.host, me.pid, me.start], |r| {
        Ok(Claimed {
            id: r.get(0)?,
            subscriber_id: r.get(1)?,
            recipient: r.get(2)?,
            message: r.get(3)?,
            attempts: r.get(4)?,
        })
    })
    .optional()
    .context("claiming the next outbox row")
}

/// Records the server's acceptance. Guarded on `sending` so that a late
/// outcome never overwrites a row another worker recovered.
pub fn mark_sent(conn: &Connection, id: i64, now: DateTime<Utc>) -> anyhow::Result<()> {
    conn.execute(
        "UPDATE outbox SET status = 'sent', sent_at = ?2, last_error = NULL
         WHERE id = ?1 AND status = 'sending'",
        params![id, ts_ms(now)],
    )?;
    Ok(())
}

/// Back to `pending`, due at `next`.
pub fn reschedule(
    conn: &Connection,
    id: i64,
    reason: &str,
    next: DateTime<Utc>,
) -> anyhow::Result<()> {
    conn.execute(
        "UPDATE outbox SET status = 'pending', last_error = ?2, next_attempt_at = ?3
         WHERE id = ?1 AND status = 'sending'",
        params![id, reason, ts_ms(next)],
    )?;
    Ok(())
}

/// Final failure, with its reason: in the same transaction, the row's
/// calls are given back to the next digest ([`give_back`]).
pub fn mark_failed(
    conn: &Connection,
    id: i64,
    reason: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let tx = Transaction::new_unchecked(conn, TransactionBehavior::Immediate)?;
    let failed = tx.execute(
        "UPDATE outbox SET status = 'failed', last_error = ?2
         WHERE id = ?1 AND status = 'sending'",
        params![id, reason],
    )?;
    if failed == 1 {
        give_back(&tx, id, now)?;
    }
    tx.commit()?;
    Ok(())
}

/// One row by id.
pub fn get(conn: &Connection, id: i64) -> anyhow::Result<Option<OutboxRow>> {
    let rows = query(conn, "WHERE id = ?1", [id])?;
    Ok(rows.into_iter().next())
}

/// Every row, oldest first.
pub fn list(conn: &Connection) -> anyhow::Result<Vec<OutboxRow>> {
    query(conn, "", [])
}

/// The rows in `status`, oldest first.
pub fn list_with_status(conn: &Connection, status: OutboxStatus) -> anyhow::Result<Vec<OutboxRow>> {
    query(conn, "WHERE status = ?1", [status.as_str()])
}

/// Rows waiting for a later attempt after a transient failure: `pending`
/// with at least one attempt made.
pub fn waiting_for_retry(conn: &Connection) -> anyhow::Result<Vec<OutboxRow>> {
    query(conn, "WHERE status = 'pending' AND attempts > 0", [])
}

fn query(
    conn: &Connection,
    filter: &str,
    params: impl rusqlite::Params,
) -> anyhow::Result<Vec<OutboxRow>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT id, idempotency_key, subscriber_id, recipient, message_id, status, attempts,
                next_attempt_at, last_error, created_at, claimed_at, sent_at,
                holder_host, holder_pid, holder_start
           FROM outbox {filter} ORDER BY id"
    ))?;
    let rows = stmt.query_map(params, |r| {
        Ok((
            OutboxRow {
                id: r.get(0)?,
                idempotency_key: r.get(1)?,
                subscriber_id: r.get(2)?,
                recipient: r.get(3)?,
                message_id: r.get(4)?,
                status: OutboxStatus::Pending,
                attempts: r.get(6)?,
                next_attempt_at: r.get(7)?,
                last_error: r.get(8)?,
                created_at: r.get(9)?,
                claimed_at: r.get(10)?,
                sent_at: r.get(11)?,
                holder: holder_of(r, 12)?,
            },
            r.get::<_, String>(5)?,
        ))
    })?;
    rows.map(|row| {
        let (mut row, status) = row?;
        row.status = status
            .parse()
            .map_err(|e| anyhow::anyhow!("outbox row #{}: column status: {e}", row.id))?;
        Ok(row)
    })
    .collect()
}
