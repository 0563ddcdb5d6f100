//! After a drain: each refused digest (5xx) counts as a bounce of its
//! subscriber, who becomes `bouncing` at `mail.bounce_threshold` and then
//! gets no more digests until reactivated. A library function so that
//! `vigie digest run` and the daemon count bounces the same way.

use chrono::{DateTime, Utc};

use crate::deliver::DrainReport;
use crate::store::Store;
use crate::subscribers::{EmailAddress, Subscriber, SubscriberStatus};

/// Counts the permanent failures of `report` (one statement each, so two
/// processes never lose a bounce) and returns the subscribers that became
/// or stay `bouncing`. Recipients that are no subscriber's address are
/// skipped.
pub fn record_bounces(
    store: &Store,
    report: &DrainReport,
    threshold: u32,
    now: DateTime<Utc>,
) -> anyhow::Result<Vec<Subscriber>> {
    let mut bouncing = Vec::new();
    for f in &report.permanent_failures {
        let Ok(email) = EmailAddress::parse(&f.recipient) else {
            continue;
        };
        if let Some(s) = store.mark_bounce(&email, threshold, now)?
            && s.status == SubscriberStatus::Bouncing
        {
            bouncing.push(s);
        }
    }
    Ok(bouncing)
}
