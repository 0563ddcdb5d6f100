//! Assembling digests: who is due, what each one carries, and enqueueing it
//! together with the record of what it carried.
//!
//! # Due rule
//!
//! [`is_due`]: an `active` subscriber, once the Europe/Paris clock has
//! reached `digest.send_hour`, whose last digest was not today (Paris date);
//! a weekly subscriber only on their weekday. A day whose digest would be
//! empty sends nothing and does not count: a later run the same day (after a
//! crawl found something) may still send that day's digest. The outbox key
//! `digest:{subscriber_id}:{yyyy-mm-dd}` (Paris date) makes "one digest per
//! subscriber per day" hold even if two runs race.
//!
//! # What a digest carries
//!
//! [`Catalogue::load`] reads the approved open/upcoming calls once (with their
//! [`CallFacts`](crate::matching::CallFacts)) and the deadline extensions; then, per subscriber, one
//! [`Matcher`] and its [`History`] (the `digest_items` rows), and [`plan`]
//! puts each fitting call in at most one section:
//!
//! 1. **New**: never sent to this subscriber as new.
//! 2. **Deadline extended**: sent as new earlier, and a `deadline_extended`
//!    event recorded after that email was built (event id above the
//!    `baseline_event_id` stored with the `new` row: no clock involved) and
//!    not yet announced to them (several are announced together: previous
//!    deadline = the oldest one's `old`).
//! 3. **Closing soon**: first sent as new at least
//!    `digest.closing_soon_min_age_days` before (default 7: a call
//!    announced yesterday is not reminded today), open, deadline within
//!    `digest.closing_soon_days`, no reminder yet (a call announced as
//!    extended in the same digest is not also reminded).
//!
//! Nothing in any section: no email. At most `digest.max_calls` calls per
//! email (default 30; 0 = no limit), extensions first, then reminders, then
//! new calls by soonest deadline; calls left out are not recorded, so they
//! come in the next digests (a first digest against thousands of open calls
//! would otherwise be hundreds of calls long, and clipped by webmails).
//!
//! # Speed
//!
//! A first day compares ~35,000 subscribers with ~5,000 calls and renders
//! ~35,000 emails. [`build_digests`] reads the catalogue once; per
//! subscriber, [`plan`] walks only the calls of the perimeters above their
//! territory, in deadline order, and stops once the cap is full of new calls
//! and nothing sent earlier can come back (no history); rendering reuses each
//! call's block ([`BlockCache`]); matching and rendering run on every core
//! while the calling thread writes the previous batch to the outbox.
//!
//! # Crash safety
//!
//! [`enqueue_digest`] writes the outbox row, the `digest_items` rows and the
//! subscriber's `last_digest_at` in one transaction: a crash before the
//! commit leaves nothing (the next run builds the digest again), after it
//! the outbox sends it as `deliver` guarantees.

mod catalogue;
mod plan;

use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::Context;
use chrono::{DateTime, Datelike, NaiveDate, Timelike, Utc};
use chrono_tz::Europe::Paris;
use rusqlite::params;
use serde::Serialize;

pub use catalogue::{Catalogue, History};
pub use plan::{Plan, PlannedItem, plan};

use super::config::DigestConfig;
use super::render::{BlockCache, RenderedEmail, Renderer, SectionKind};
use crate::deliver::{MailConfig, NewMessage, enqueue};
use crate::matching::Matcher;
use crate::store::{Store, ts};
use crate::subscribers::{Frequency, Subscriber, SubscriberStatus};

/// The Europe/Paris date of `now`: the "day" of the due rule and of the
/// idempotency key.
pub fn paris_date(now: DateTime<Utc>) -> NaiveDate {
    now.with_timezone(&Paris).date_naive()
}

/// The outbox key of a subscriber's digest of the day.
pub fn idempotency_key(subscriber_id: i64, now: DateTime<Utc>) -> String {
    format!(
        "digest:{subscriber_id}:{}",
        paris_date(now).format("%Y-%m-%d")
    )
}

/// Whether `s` should get a digest at `now` (see the module documentation).
pub fn is_due(s: &Subscriber, now: DateTime<Utc>, send_hour: u32) -> bool {
    not_due_reason(s, now, send_hour).is_none()
}

/// Why `s` is not due at `now`, in words; `None` when due.
pub fn not_due_reason(s: &Subscriber, now: DateTime<Utc>, send_hour: u32) -> Option<String> {
    if s.status != SubscriberStatus::Active {
        return Some(format!("the subscriber is {}, not active", s.status));
    }
    if let Some(since) = s.paused_since {
        return Some(format!(
            "the subscriber paused their alert on {}",
            since.date_naive()
        ));
    }
    let local = now.with_timezone(&Paris);
    if local.hour() < send_hour {
        return Some(format!(
            "it is {:02}:{:02} in Paris, digests start at {send_hour:02}:00",
            local.hour(),
            local.minute()
        ));
    }
    if let Frequency::Weekly(day) = s.profile.frequency
        && local.weekday() != day
    {
        return Some(format!(
            "weekly digest on {}, today is {}",
            crate::subscribers::model::weekday_code(day),
            crate::subscribers::model::weekday_code(local.weekday())
        ));
    }
    if let Some(last) = s.last_digest_at
        && paris_date(last) == local.date_naive()
    {
        return Some(format!("today's digest was already built at {}", ts(&last)));
    }
    None
}

fn section_code(kind: SectionKind) -> &'static str {
    match kind {
        SectionKind::New => "new",
        SectionKind::DeadlineExtended => "deadline_extended",
        SectionKind::ClosingSoon => "closing_soon",
    }
}

/// The `To` mailbox: the collectivity's name, quoted as needed, and address.
fn mailbox(s: &Subscriber) -> String {
    match s.profile.email.as_str().parse() {
        Ok(address) => {
            lettre::message::Mailbox::new(Some(s.profile.name.clone()), address).to_string()
        }
        Err(_) => s.profile.email.to_string(),
    }
}

/// Enqueues one rendered digest, its `digest_items` rows and the
/// subscriber's `last_digest_at` in one transaction. `None` (and nothing
/// written) when that subscriber's digest of the day is already queued.
pub fn enqueue_digest(
    store: &Store,
    subscriber: &Subscriber,
    plan: &Plan,
    email: &RenderedEmail,
    mail: &MailConfig,
    config: &DigestConfig,
    now: DateTime<Utc>,
) -> anyhow::Result<Option<i64>> {
    let tx = store.conn().unchecked_transaction()?;
    let message = NewMessage {
        idempotency_key: idempotency_key(subscriber.id, now),
        subscriber_id: Some(subscriber.id),
        to: mailbox(subscriber),
        subject: email.subject.clone(),
        html: email.html.clone(),
        text: email.text.clone(),
        list_unsubscribe_url: config.unsubscribe_url(&plan.manage_token),
        list_unsubscribe_mailto: None,
    };
    let Some(outbox_id) = enqueue(&tx, &message, mail, now)? else {
        return Ok(None); // dropping `tx` rolls back (nothing was written)
    };
    crate::subscribers::store::record_token(&tx, subscriber.id, &plan.manage_token, now)?;
    {
        let mut insert = tx.prepare_cached(
            "INSERT INTO digest_items (subscriber_id, call_id, section, event_id,
                 baseline_event_id, outbox_id, sent_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )?;
        let at = ts(&now);
        for item in &plan.items {
            insert
                .execute(params![
                    subscriber.id,
                    item.call_id,
                    section_code(item.section),
                    item.event_id
                        .filter(|_| item.section == SectionKind::DeadlineExtended),
                    item.event_id.filter(|_| item.section == SectionKind::New),
                    outbox_id,
                    at
                ])
                .with_context(|| {
                    format!(
                        "recording call {} ({}) for subscriber {}",
                        item.call_id,
                        section_code(item.section),
                        subscriber.id
                    )
                })?;
        }
    }
    store.mark_digest_sent(subscriber.id, now)?;
    tx.commit()?;
    Ok(Some(outbox_id))
}

/// What building the digests of a set of subscribers found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct BuildStats {
    /// Subscribers looked at.
    pub subscribers: usize,
    /// Non-empty digests rendered.
    pub built: usize,
    /// Subscribers with nothing to send.
    pub empty: usize,
    /// `digest_items` rows across every rendered digest.
    pub calls: usize,
    /// Bytes of HTML and text rendered.
    pub bytes: usize,
}

/// Subscribers handled per batch: a batch's digests are matched and rendered
/// on every core while the calling thread hands the previous batch to `each`
/// and reads the histories of the next one. Bounds the memory held at once
/// (two batches of rendered emails).
const BATCH: usize = 512;

type Built = anyhow::Result<Option<(Plan, RenderedEmail)>>;

/// Matches and renders one subscriber's digest; `None` when it is empty.
struct Builder<'a> {
    catalogue: &'a Catalogue,
    renderer: &'a Renderer,
    config: &'a DigestConfig,
    now: DateTime<Utc>,
}

impl Builder<'_> {
    fn build(&self, s: &Subscriber, history: &History, cache: &mut BlockCache) -> Built {
        let matcher = Matcher::new(s);
        let Some(plan) = plan(self.catalogue, s, &matcher, history, self.config, self.now) else {
            return Ok(None);
        };
        let token = crate::subscribers::model::new_token()
            .context("reading random bytes for the email's manage token")?;
        let plan = plan.with_token(token, self.config);
        let email = self
            .renderer
            .render_cached(&plan.view, cache)
            .with_context(|| format!("rendering the digest of subscriber {}", s.id))?;
        Ok(Some((plan, email)))
    }

    /// The digests of `batch`, in order, on up to `caches.len()` threads
    /// (one block cache each, kept across batches).
    fn build_batch(
        &self,
        batch: &[Subscriber],
        histories: &[History],
        caches: &mut [BlockCache],
        deliver_previous: impl FnOnce() -> anyhow::Result<()>,
    ) -> anyhow::Result<Vec<Built>> {
        let threads = caches.len();
        if let Some(cache) = caches.first_mut()
            && (threads <= 1 || batch.len() < 2 * threads)
        {
            deliver_previous()?;
            return Ok(batch
                .iter()
                .zip(histories)
                .map(|(s, h)| self.build(s, h, cache))
                .collect());
        }
        // Each thread takes the next subscriber not yet taken: on a machine
        // shared with other work, a thread that gets less CPU builds fewer
        // digests instead of holding the whole batch up.
        let taken = AtomicUsize::new(0);
        std::thread::scope(|scope| {
            let handles: Vec<_> = caches
                .iter_mut()
                .map(|cache| {
                    let taken = &taken;
                    scope.spawn(move || {
                        let mut out = Vec::new();
                        loop {
                            let i = taken.fetch_add(1, Ordering::Relaxed);
                            let (Some(s), Some(h)) = (batch.get(i), histories.get(i)) else {
                                return out;
                            };
                            out.push((i, self.build(s, h, cache)));
                        }
                    })
                })
                .collect();
            // The calling thread writes the previous batch meanwhile; on an
            // error the scope still waits for the builders before returning.
            deliver_previous()?;
            let mut built: Vec<Option<Built>> = batch.iter().map(|_| None).collect();
            for handle in handles {
                let done = handle
                    .join()
                    .map_err(|_| anyhow::anyhow!("a digest builder thread panicked"))?;
                for (i, result) in done {
                    built[i] = Some(result);
                }
            }
            Ok(built
                .into_iter()
                .map(|b| b.unwrap_or_else(|| Err(anyhow::anyhow!("a digest was not built"))))
                .collect())
        })
    }
}

/// Builds and renders the digest of each of `subscribers` at `now`, calling
/// `each` for every non-empty one, in order, on the calling thread. The
/// catalogue is read once; matching and rendering (the costly part) run on
/// `std::thread::available_parallelism` threads, each call block is
/// rendered once per thread ([`BlockCache`]), and `each` (the outbox writes,
/// one transaction per digest) runs on the calling thread, as do the reads
/// of histories, while the next batch is being built.
pub fn build_digests<F>(
    store: &Store,
    renderer: &Renderer,
    subscribers: &[Subscriber],
    config: &DigestConfig,
    now: DateTime<Utc>,
    mut each: F,
) -> anyhow::Result<BuildStats>
where
    F: FnMut(&Subscriber, &Plan, &RenderedEmail) -> anyhow::Result<()>,
{
    let mut catalogue = Catalogue::load(store, now)?;
    catalogue.index_keywords(subscribers);
    let builder = Builder {
        catalogue: &catalogue,
        renderer,
        config,
        now,
    };
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(16));
    let mut caches: Vec<BlockCache> = (0..threads).map(|_| BlockCache::new()).collect();
    let mut stats = BuildStats::default();
    let mut deliver = |batch: &[Subscriber], built: Vec<Built>| -> anyhow::Result<()> {
        for (s, result) in batch.iter().zip(built) {
            stats.subscribers += 1;
            let Some((plan, email)) = result? else {
                stats.empty += 1;
                continue;
            };
            stats.built += 1;
            stats.calls += plan.items.len();
            stats.bytes += email.html.len() + email.text.len();
            each(s, &plan, &email)?;
        }
        Ok(())
    };
    let load = |batch: &[Subscriber]| -> anyhow::Result<Vec<History>> {
        let ids: Vec<i64> = batch.iter().map(|s| s.id).collect();
        History::load_many(store.conn(), &ids)
    };
    // While batch N is built, the calling thread writes batch N-1 and reads
    // the histories of batch N+1. A subscriber listed twice in a row could
    // thus be planned from a history read before their first digest was
    // written: the outbox key of the day refuses that second digest.
    let mut batches = subscribers.chunks(BATCH);
    let mut next = match batches.next() {
        Some(batch) => Some((batch, load(batch)?)),
        None => None,
    };
    let mut previous: Option<(&[Subscriber], Vec<Built>)> = None;
    while let Some((batch, histories)) = next.take() {
        let following = batches.next();
        let done = previous.take();
        let built = builder.build_batch(batch, &histories, &mut caches, || {
            if let Some((b, results)) = done {
                deliver(b, results)?;
            }
            if let Some(f) = following {
                next = Some((f, load(f)?));
            }
            Ok(())
        })?;
        previous = Some((batch, built));
    }
    if let Some((b, results)) = previous {
        deliver(b, results)?;
    }
    Ok(stats)
}

/// What `vigie digest run` did before draining the outbox.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RunSummary {
    /// Active subscribers.
    pub active: usize,
    /// Of them, due now.
    pub due: usize,
    /// Non-empty digests built (and, unless a dry run, enqueued).
    pub built: usize,
    /// Due subscribers with nothing to send.
    pub empty: usize,
    /// Digests whose key was already in the outbox: nothing written.
    pub already_queued: usize,
    /// Digests that could not be enqueued, with why.
    pub errors: Vec<String>,
}

/// Builds every due digest at `now` and, unless `dry_run`, enqueues each in
/// its own transaction ([`enqueue_digest`]). An error for one subscriber
/// (say, an address the mail library refuses) is reported and the others go
/// on.
pub fn enqueue_due_digests(
    store: &Store,
    renderer: &Renderer,
    config: &DigestConfig,
    mail: &MailConfig,
    now: DateTime<Utc>,
    dry_run: bool,
) -> anyhow::Result<RunSummary> {
    let mut active = store.list_subscribers(&[SubscriberStatus::Active])?;
    let mut summary = RunSummary {
        active: active.len(),
        ..RunSummary::default()
    };
    active.retain(|s| is_due(s, now, config.send_hour));
    summary.due = active.len();
    if active.is_empty() {
        // Nobody is due (the usual case for the daemon's runs every few
        // minutes): the catalogue is not read at all.
        return Ok(summary);
    }
    let mut queued = 0;
    let mut already = 0;
    let mut errors = Vec::new();
    let stats = build_digests(store, renderer, &active, config, now, |s, plan, email| {
        if dry_run {
            return Ok(());
        }
        match enqueue_digest(store, s, plan, email, mail, config, now) {
            Ok(Some(_)) => queued += 1,
            Ok(None) => already += 1,
            Err(e) => errors.push(format!("{}: {e:#}", s.profile.email)),
        }
        Ok(())
    })?;
    summary.built = if dry_run { stats.built } else { queued };
    summary.empty = stats.empty;
    summary.already_queued = already;
    summary.errors = errors;
    Ok(summary)
}

#[cfg(test)]
mod tests;
