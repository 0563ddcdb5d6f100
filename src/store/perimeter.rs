//! A call's perimeter as a curator set it (`vigie calls perimeter`): stored
//! beside the fields derived from sightings, and applied over them each
//! time they are recomputed, so a later crawl never undoes it.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, Transaction, params};

use super::{Store, merge, ts};
use crate::domain::{CallPerimeter, PerimeterSet};

/// The perimeter a curator set on `call_id`, if any. A stored value that
/// does not parse is an error naming the call, not a silent default.
pub(super) fn curator_perimeter(
    tx: &Transaction,
    call_id: i64,
) -> anyhow::Result<Option<CallPerimeter>> {
    let text: Option<String> = tx
        .prepare_cached("SELECT curator_perimeter FROM calls WHERE id = ?1")?
        .query_row([call_id], |r| r.get(0))
        .optional()?
        .flatten();
    text.map(|t| {
        t.parse::<CallPerimeter>()
            .map_err(|e| anyhow::anyhow!("call {call_id}: corrupt curator_perimeter `{t}`: {e}"))
    })
    .transpose()
}

impl Store {
    /// A curator sets where call `call` applies (one or several
    /// territories): it replaces whatever the sources said, now and at
    /// every later crawl, and a call that waited with an unresolved
    /// perimeter can reach digests. Returns the call's id (merges followed).
    pub fn set_perimeter(
        &mut self,
        call: i64,
        perimeter: PerimeterSet,
        now: DateTime<Utc>,
    ) -> anyhow::Result<i64> {
        let call = self
            .live_call_id(call)?
            .ok_or_else(|| anyhow::anyhow!("no call with id {call}: see `vigie calls`"))?;
        let now = ts(&now);
        let tx = self.conn.transaction()?;
        tx.execute(
            "UPDATE calls SET curator_perimeter = ?2 WHERE id = ?1",
            params![call, CallPerimeter::from(perimeter).to_string()],
        )?;
        // Recorded in `call_changes` like any other change of the field.
        merge::refresh_call(&tx, call, &now, None)?;
        tx.commit()?;
        Ok(call)
    }
}
