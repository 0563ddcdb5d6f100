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
//! [`CallFacts`]) and the deadline extensions; then, per subscriber, one
//! [`Matcher`] and its [`History`] (the `digest_items` rows), and [`plan`]
//! puts each fitting call in at most one section:
//!
//! 1. **New**: never sent to this subscriber as new.
//! 2. **Deadline extended**: sent as new earlier, and a `deadline_extended`
//!    event recorded after that email was built (event id above the
//!    `baseline_event_id` stored with the `new` row: no clock involved) and
//!    not yet announced to them (several are announced together: previous
//!    deadline = the oldest one's `old`).
//! 3. **Closing soon**: sent earlier, open, deadline within
//!    `digest.closing_soon_days`, no reminder yet (a call announced as
//!    extended in the same digest is not also reminded).
//!
//! Nothing in any section: no email. At most `digest.max_calls` calls per
//! email (default 30; 0 = no limit), extensions first, then reminders, then
//! new calls by soonest deadline; calls left out are not recorded, so they
//! come in the next digests (a first digest against thousands of open calls
//! would otherwise be hundreds of calls long, and clipped by webmails).
//!
//! # Crash safety
//!
//! [`enqueue_digest`] writes the outbox row, the `digest_items` rows and the
//! subscriber's `last_digest_at` in one transaction: a crash before the
//! commit leaves nothing (the next run builds the digest again), after it
//! the outbox sends it as `deliver` guarantees.

use std::collections::{HashMap, HashSet};

use anyhow::Context;
use chrono::{DateTime, Datelike, Duration, FixedOffset, NaiveDate, Timelike, Utc};
use chrono_tz::Europe::Paris;
use rusqlite::{Connection, params};
use serde::Serialize;

use super::config::DigestConfig;
use super::render::{CallView, DigestView, RenderedEmail, Renderer, SectionKind};
use crate::deliver::{MailConfig, NewMessage, enqueue};
use crate::domain::{Perimeter, Status};
use crate::matching::{CallFacts, Matcher};
use crate::store::{CallFilter, CallRecord, Store, ts};
use crate::subscribers::{Frequency, Subscriber, SubscriberStatus};
use crate::territory;

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

/// A deadline extension of a call, from `call_events`.
#[derive(Debug, Clone)]
struct Extension {
    event_id: i64,
    old: Option<DateTime<FixedOffset>>,
}

/// The calls digests can carry, read once per run: approved, open or
/// upcoming, with their matching facts and deadline extensions.
#[derive(Debug)]
pub struct Catalogue {
    calls: Vec<CallRecord>,
    facts: Vec<CallFacts>,
    /// Indices into `calls` by perimeter, ascending: a subscriber only
    /// checks the calls of the perimeters containing their territory
    /// (~1,600 of 5,000 for a commune) instead of every call.
    by_perimeter: HashMap<Perimeter, Vec<u32>>,
    /// Extensions by (surviving) call id, oldest first.
    extensions: HashMap<i64, Vec<Extension>>,
}

impl Catalogue {
    pub fn load(store: &Store, now: DateTime<Utc>) -> anyhow::Result<Catalogue> {
        let filter = CallFilter {
            open: true,
            review: vec!["approved".to_string()],
            ..CallFilter::default()
        };
        let mut calls = store.list_calls(&filter, now)?;
        calls.retain(|c| c.status != Status::Closed);
        let facts: Vec<CallFacts> = calls.iter().map(CallFacts::from_record).collect();
        let ids: HashSet<i64> = calls.iter().map(|c| c.id).collect();
        let mut extensions: HashMap<i64, Vec<Extension>> = HashMap::new();
        let mut stmt = store.conn().prepare(
            "SELECT e.id, coalesce(c.merged_into, e.call_id), e.old
             FROM call_events e JOIN calls c ON c.id = e.call_id
             WHERE e.kind = 'deadline_extended' ORDER BY e.id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, Option<String>>(2)?,
            ))
        })?;
        for row in rows {
            let (event_id, call_id, old) = row?;
            if !ids.contains(&call_id) {
                continue;
            }
            let old = old.and_then(|o| DateTime::parse_from_rfc3339(&o).ok());
            extensions
                .entry(call_id)
                .or_default()
                .push(Extension { event_id, old });
        }
        let mut by_perimeter: HashMap<Perimeter, Vec<u32>> = HashMap::new();
        for (i, c) in calls.iter().enumerate() {
            by_perimeter
                .entry(c.perimeter.clone())
                .or_default()
                .push(u32::try_from(i).context("more than 4 billion calls")?);
        }
        Ok(Catalogue {
            calls,
            facts,
            by_perimeter,
            extensions,
        })
    }

    pub fn len(&self) -> usize {
        self.calls.len()
    }

    /// The indices of the calls whose perimeter contains `territory`, in
    /// catalogue (deadline) order.
    fn candidates(&self, territory: &Perimeter) -> Vec<u32> {
        let mut out: Vec<u32> = territory::ancestors(territory)
            .iter()
            .filter_map(|p| self.by_perimeter.get(p))
            .flatten()
            .copied()
            .collect();
        out.sort_unstable();
        out
    }

    fn extensions_of(&self, call_id: i64) -> &[Extension] {
        self.extensions.get(&call_id).map_or(&[], Vec::as_slice)
    }

    /// The extensions of a call recorded after its `new` email was built
    /// (event id above `baseline`) and not yet announced.
    fn unannounced<'a>(
        &'a self,
        call_id: i64,
        baseline: Option<i64>,
        history: &'a History,
    ) -> impl Iterator<Item = &'a Extension> {
        self.extensions_of(call_id).iter().filter(move |e| {
            baseline.is_none_or(|b| e.event_id > b) && !history.events.contains(&e.event_id)
        })
    }

    pub fn is_empty(&self) -> bool {
        self.calls.is_empty()
    }

    pub fn calls(&self) -> &[CallRecord] {
        &self.calls
    }

    pub fn facts(&self) -> &[CallFacts] {
        &self.facts
    }
}

/// What earlier digests carried to one subscriber (`digest_items`), with
/// merged calls followed to the call that survived.
#[derive(Debug, Default, Clone)]
pub struct History {
    /// Calls sent as new, with the latest extension event their email
    /// already reflected.
    pub new: HashMap<i64, Option<i64>>,
    /// Calls already reminded as closing soon.
    pub closing: HashSet<i64>,
    /// Deadline events already announced.
    pub events: HashSet<i64>,
}

impl History {
    pub fn load(conn: &Connection, subscriber_id: i64) -> anyhow::Result<History> {
        let mut stmt = conn.prepare_cached(
            "SELECT coalesce(c.merged_into, d.call_id), d.section, d.event_id,
                    d.baseline_event_id
             FROM digest_items d JOIN calls c ON c.id = d.call_id
             WHERE d.subscriber_id = ?1",
        )?;
        let mut rows = stmt.query([subscriber_id])?;
        let mut h = History::default();
        while let Some(r) = rows.next()? {
            let call: i64 = r.get(0)?;
            let section: String = r.get(1)?;
            match section.as_str() {
                "new" => {
                    // Two rows for one call (after a merge): the later baseline.
                    let baseline: Option<i64> = r.get(3)?;
                    let entry = h.new.entry(call).or_insert(baseline);
                    *entry = (*entry).max(baseline);
                }
                "closing_soon" => {
                    h.closing.insert(call);
                }
                _ => {
                    if let Some(e) = r.get::<_, Option<i64>>(2)? {
                        h.events.insert(e);
                    }
                }
            }
        }
        Ok(h)
    }
}

/// One `digest_items` row to write when the digest is enqueued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlannedItem {
    pub call_id: i64,
    pub section: SectionKind,
    /// The extension announced (`DeadlineExtended`), or the latest one the
    /// email already reflects (`New`, stored as `baseline_event_id`).
    pub event_id: Option<i64>,
}

/// A non-empty digest for one subscriber, before rendering.
#[derive(Debug, Clone)]
pub struct Plan {
    pub view: DigestView,
    pub items: Vec<PlannedItem>,
}

impl Plan {
    /// The calls of one section, by id.
    pub fn call_ids(&self, kind: SectionKind) -> Vec<i64> {
        self.view
            .sections
            .iter()
            .filter(|(k, _)| *k == kind)
            .flat_map(|(_, calls)| calls.iter().map(|c| c.id))
            .collect()
    }
}

fn section_code(kind: SectionKind) -> &'static str {
    match kind {
        SectionKind::New => "new",
        SectionKind::DeadlineExtended => "deadline_extended",
        SectionKind::ClosingSoon => "closing_soon",
    }
}

fn call_view(
    call: &CallRecord,
    previous_deadline: Option<DateTime<FixedOffset>>,
    config: &DigestConfig,
) -> CallView {
    CallView {
        id: call.id,
        title: call.title.clone(),
        funder: call.funder.clone(),
        kind: call.kind,
        deadline: call.deadline,
        previous_deadline,
        perimeter: call.perimeter.clone(),
        summary: call.summary_text.clone(),
        vigie_url: config.call_url(call.id),
        funder_url: call.url.clone(),
    }
}

/// What `subscriber` gets at `now`, or `None` when every section is empty.
/// Reads nothing but its arguments.
pub fn plan(
    catalogue: &Catalogue,
    subscriber: &Subscriber,
    matcher: &Matcher,
    history: &History,
    config: &DigestConfig,
    now: DateTime<Utc>,
) -> Option<Plan> {
    let horizon = now + Duration::days(i64::from(config.closing_soon_days));
    // First pass: indices only (no allocation per fitting call); the
    // catalogue is in deadline order, soonest first.
    let (mut new, mut extended, mut closing) = (Vec::new(), Vec::new(), Vec::new());
    for i in catalogue.candidates(&subscriber.profile.territory) {
        let i = i as usize;
        let (call, facts) = (&catalogue.calls[i], &catalogue.facts[i]);
        if !matcher.fits(facts) {
            continue;
        }
        let Some(baseline) = history.new.get(&call.id) else {
            new.push(i);
            continue;
        };
        if catalogue
            .unannounced(call.id, *baseline, history)
            .next()
            .is_some()
        {
            extended.push(i);
        } else if call.status == Status::Open
            && !history.closing.contains(&call.id)
            && call.deadline.is_some_and(|d| d >= now && d <= horizon)
        {
            closing.push(i);
        }
    }
    if new.is_empty() && extended.is_empty() && closing.is_empty() {
        return None;
    }
    // The cap: changes first (few), then reminders, then new calls; what is
    // left out is not recorded, so it comes in the next digests.
    if config.max_calls > 0 {
        let mut room = config.max_calls as usize;
        for list in [&mut extended, &mut closing, &mut new] {
            list.truncate(room);
            room -= list.len();
        }
    }
    let mut items = Vec::with_capacity(new.len() + extended.len() + closing.len());
    let mut sections = Vec::with_capacity(3);
    if !new.is_empty() {
        let views = new
            .iter()
            .map(|&i| {
                let call = &catalogue.calls[i];
                items.push(PlannedItem {
                    call_id: call.id,
                    section: SectionKind::New,
                    event_id: catalogue.extensions_of(call.id).last().map(|e| e.event_id),
                });
                call_view(call, None, config)
            })
            .collect();
        sections.push((SectionKind::New, views));
    }
    if !extended.is_empty() {
        let views = extended
            .iter()
            .map(|&i| {
                let call = &catalogue.calls[i];
                let baseline = history.new.get(&call.id).copied().flatten();
                let mut previous = None;
                for (n, e) in catalogue
                    .unannounced(call.id, baseline, history)
                    .enumerate()
                {
                    if n == 0 {
                        previous = e.old;
                    }
                    items.push(PlannedItem {
                        call_id: call.id,
                        section: SectionKind::DeadlineExtended,
                        event_id: Some(e.event_id),
                    });
                }
                call_view(call, previous, config)
            })
            .collect();
        sections.push((SectionKind::DeadlineExtended, views));
    }
    if !closing.is_empty() {
        let views = closing
            .iter()
            .map(|&i| {
                let call = &catalogue.calls[i];
                items.push(PlannedItem {
                    call_id: call.id,
                    section: SectionKind::ClosingSoon,
                    event_id: None,
                });
                call_view(call, None, config)
            })
            .collect();
        sections.push((SectionKind::ClosingSoon, views));
    }
    Some(Plan {
        view: DigestView {
            subscriber_name: subscriber.profile.name.clone(),
            sections,
            manage_url: config.manage_url(&subscriber.manage_token),
            unsubscribe_url: config.unsubscribe_url(&subscriber.manage_token),
            site_url: config.site().to_string(),
            generated_at: now,
            closing_soon_days: config.closing_soon_days,
        },
        items,
    })
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
        list_unsubscribe_url: config.unsubscribe_url(&subscriber.manage_token),
        list_unsubscribe_mailto: None,
    };
    let Some(outbox_id) = enqueue(&tx, &message, mail, now)? else {
        return Ok(None); // dropping `tx` rolls back (nothing was written)
    };
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

/// Subscribers handled per batch: histories are read for a batch, then its
/// digests are matched and rendered on every core, then handed to `each` in
/// order. Bounds the memory held at once (a batch of rendered emails).
const BATCH: usize = 512;

type Built = anyhow::Result<Option<(Plan, RenderedEmail)>>;

/// Builds and renders the digest of each of `subscribers` at `now`, calling
/// `each` for every non-empty one, in order, on the calling thread. The
/// catalogue is read once; matching and rendering (the costly part) run on
/// `std::thread::available_parallelism` threads.
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
    let catalogue = Catalogue::load(store, now)?;
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(16));
    let mut stats = BuildStats::default();
    for batch in subscribers.chunks(BATCH) {
        let histories = batch
            .iter()
            .map(|s| History::load(store.conn(), s.id))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let build_one = |(s, history): (&Subscriber, &History)| -> Built {
            let matcher = Matcher::new(s);
            let Some(plan) = plan(&catalogue, s, &matcher, history, config, now) else {
                return Ok(None);
            };
            let email = renderer
                .render(&plan.view)
                .with_context(|| format!("rendering the digest of subscriber {}", s.id))?;
            Ok(Some((plan, email)))
        };
        let built: Vec<Built> = if threads <= 1 || batch.len() < 2 * threads {
            batch.iter().zip(&histories).map(build_one).collect()
        } else {
            let per = batch.len().div_ceil(threads);
            std::thread::scope(|scope| {
                let handles: Vec<_> = batch
                    .chunks(per)
                    .zip(histories.chunks(per))
                    .map(|(subs, hist)| {
                        let build_one = &build_one;
                        scope.spawn(move || {
                            subs.iter().zip(hist).map(build_one).collect::<Vec<Built>>()
                        })
                    })
                    .collect();
                handles
                    .into_iter()
                    .flat_map(|h| h.join().expect("a digest builder thread panicked"))
                    .collect()
            })
        };
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
