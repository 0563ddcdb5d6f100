//! The calls an outbox row carries, as `digest_items` records them (their
//! `outbox_id`), and what happens to that record when the row fails for
//! good or an operator retries it.
//!
//! - [`give_back`]: the row failed for good, so its calls never reached the
//!   subscriber. Its `digest_items` rows get `returned_at`; the digest
//!   history ignores them, so the next digest carries those calls again.
//!   Called inside the transaction that marks the row `failed`.
//! - [`retry`]: an operator puts a failed row back to `pending`. Its calls
//!   are recorded as carried again in the same transaction — unless a later
//!   digest has meanwhile carried one of them: the stored message would then
//!   bring that call a second time, so the retry is refused and the row
//!   stays `failed` (its calls are not lost: the later digests have them or
//!   will).

use chrono::{DateTime, Utc};
use rusqlite::{Connection, TransactionBehavior, params};
use serde::Serialize;

use super::outbox::{OutboxStatus, get, ts_ms};

/// Gives back the calls of outbox row `outbox_id` (see the module
/// documentation). Returns how many `digest_items` rows. Run it in the
/// transaction that marks the row failed.
pub fn give_back(conn: &Connection, outbox_id: i64, now: DateTime<Utc>) -> rusqlite::Result<usize> {
    conn.prepare_cached(
        "UPDATE digest_items SET returned_at = ?2 WHERE outbox_id = ?1 AND returned_at IS NULL",
    )?
    .execute(params![outbox_id, ts_ms(now)])
}

/// Why a retry was refused.
#[derive(Debug, thiserror::Error)]
pub enum RetryError {
    #[error("no outbox row #{0}: see `vigie outbox list`")]
    NotFound(i64),
    #[error("outbox row #{id} is {status}, not failed: only failed rows can be retried")]
    NotFailed { id: i64, status: &'static str },
    #[error(
        "outbox row #{id} carries calls that later digests carried meanwhile ({}): sending \
         it again would bring them twice, so it stays failed; its other calls come in the \
         next digest",
        .conflicts.iter().map(|c| format!("call {} in row #{}", c.call_id, c.outbox_id))
            .collect::<Vec<_>>().join(", ")
    )]
    CarriedLater { id: i64, conflicts: Vec<Conflict> },
    #[error(transparent)]
    Store(#[from] rusqlite::Error),
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

/// A call of the failed row that a later row carried.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Conflict {
    pub call_id: i64,
    /// The later outbox row that carries it.
    pub outbox_id: i64,
}

/// What a successful retry did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Retried {
    pub outbox_id: i64,
    /// `digest_items` rows recorded as carried again.
    pub calls: usize,
}

/// Puts failed row `id` back to `pending` (attempts reset, due now) and
/// records its calls as carried again, in one `BEGIN IMMEDIATE`
/// transaction: no other process can carry one of its calls between the
/// check and the writes.
pub fn retry(conn: &Connection, id: i64, now: DateTime<Utc>) -> Result<Retried, RetryError> {
    let tx = rusqlite::Transaction::new_unchecked(conn, TransactionBehavior::Immediate)?;
    let row = get(&tx, id)?.ok_or(RetryError::NotFound(id))?;
    if row.status != OutboxStatus::Failed {
        return Err(RetryError::NotFailed {
            id,
            status: row.status.as_str(),
        });
    }
    // A given-back call of this row that another row (not given back)
    // carries in the same way, merged calls followed on both sides.
    let conflicts: Vec<Conflict> = {
        let mut stmt = tx.prepare(
            "SELECT DISTINCT coalesce(ca.merged_into, a.call_id), b.outbox_id
               FROM digest_items a
               JOIN calls ca ON ca.id = a.call_id
               JOIN digest_items b ON b.subscriber_id = a.subscriber_id
                    AND b.returned_at IS NULL AND b.outbox_id <> a.outbox_id
               JOIN calls cb ON cb.id = b.call_id
              WHERE a.outbox_id = ?1 AND a.returned_at IS NOT NULL
                AND ((a.section = 'deadline_extended' AND b.section = 'deadline_extended'
                      AND b.event_id = a.event_id)
                  OR (a.section <> 'deadline_extended' AND b.section = a.section
                      AND coalesce(cb.merged_into, b.call_id)
                          = coalesce(ca.merged_into, a.call_id)))
              ORDER BY 1, 2",
        )?;
        stmt.query_map([id], |r| {
            Ok(Conflict {
                call_id: r.get(0)?,
                outbox_id: r.get(1)?,
            })
        })?
        .collect::<Result<_, _>>()?
    };
    if !conflicts.is_empty() {
        return Err(RetryError::CarriedLater { id, conflicts });
    }
    let calls = tx.execute(
        "UPDATE digest_items SET returned_at = NULL WHERE outbox_id = ?1",
        [id],
    )?;
    tx.execute(
        "UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = ?2,
                claimed_at = NULL, holder_host = NULL, holder_pid = NULL, holder_start = NULL
          WHERE id = ?1 AND status = 'failed'",
        params![id, ts_ms(now)],
    )?;
    tx.commit()?;
    Ok(Retried {
        outbox_id: id,
        calls,
    })
}
