//! The calls a digest run can carry, read once ([`Catalogue`]), and what
//! earlier digests carried to one subscriber ([`History`]). Part of
//! [`super`] (building digests); [`super::plan`] reads both.

use std::collections::{HashMap, HashSet};

use anyhow::Context;
use chrono::{DateTime, FixedOffset, Utc};
use rusqlite::Connection;

use crate::domain::{Perimeter, Status};
use crate::matching::{CallFacts, CallsMatcher, KeywordHits, Matcher};
use crate::store::{CallFilter, CallRecord, Store};
use crate::subscribers::Subscriber;
use crate::territory;

/// A deadline extension of a call, from `call_events`.
#[derive(Debug, Clone)]
pub(super) struct Extension {
    pub(super) event_id: i64,
    pub(super) old: Option<DateTime<FixedOffset>>,
}

/// The calls digests can carry, read once per run: approved, open or
/// upcoming, with their matching facts and deadline extensions.
#[derive(Debug)]
pub struct Catalogue {
    pub(super) calls: Vec<CallRecord>,
    pub(super) facts: Vec<CallFacts>,
    /// Indices into `calls` by perimeter, ascending: a subscriber only
    /// checks the calls of the perimeters containing their territory
    /// (~1,600 of 5,000 for a commune) instead of every call.
    by_perimeter: HashMap<Perimeter, Vec<u32>>,
    /// Extensions by (surviving) call id, oldest first.
    extensions: HashMap<i64, Vec<Extension>>,
    /// Which calls hold the keywords of the subscribers of the run (empty
    /// until [`Catalogue::index_keywords`]).
    keyword_hits: KeywordHits,
}

impl Catalogue {
    pub fn load(store: &Store, now: DateTime<Utc>) -> anyhow::Result<Catalogue> {
        // An unlisted call (no source lists it any more: withdrawn,
        // cancelled or moved) is left out of digests altogether: neither
        // announced as new nor as extended, since its page may be gone.
        // If a source lists it again, it comes back like any other call.
        let filter = CallFilter {
            open: true,
            review: vec!["approved".to_string()],
            unlisted: Some(false),
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
            // An unreadable previous deadline is an error naming the row, not
            // an extension announced without its previous date.
            let old = old
                .map(|o| {
                    DateTime::parse_from_rfc3339(&o).map_err(|e| {
                        anyhow::anyhow!(
                            "call_events row {event_id}: column old = `{o}` is not an RFC 3339 \
                             time ({e}); fix or delete the row"
                        )
                    })
                })
                .transpose()?;
            extensions
                .entry(call_id)
                .or_default()
                .push(Extension { event_id, old });
        }
        let mut by_perimeter: HashMap<Perimeter, Vec<u32>> = HashMap::new();
        for (i, c) in calls.iter().enumerate() {
            let i = u32::try_from(i).context("more than 4 billion calls")?;
            // Under each member of its set; an unresolved perimeter fits
            // nobody, so it is under none.
            for p in c.perimeter.members().unwrap_or_default() {
                by_perimeter.entry(p.clone()).or_default().push(i);
            }
        }
        Ok(Catalogue {
            calls,
            facts,
            by_perimeter,
            extensions,
            keyword_hits: KeywordHits::default(),
        })
    }

    pub fn len(&self) -> usize {
        self.calls.len()
    }

    /// Looks up every distinct keyword of `subscribers` in every call, once,
    /// so that matching them reads one bit per call (optional: without it,
    /// keywords are looked up per subscriber, with the same result).
    pub fn index_keywords(&mut self, subscribers: &[Subscriber]) {
        self.keyword_hits = KeywordHits::new(
            &self.facts,
            subscribers
                .iter()
                .flat_map(|s| &s.profile.keywords)
                .map(String::as_str),
        );
    }

    /// `matcher` over these calls, with the keyword hits when indexed.
    pub(super) fn matcher<'a>(&'a self, matcher: &'a Matcher) -> CallsMatcher<'a> {
        matcher.over(&self.facts, &self.keyword_hits)
    }

    /// The indices of the calls whose perimeter contains `territory`, in
    /// catalogue (deadline) order. A merge of the per-perimeter lists (each
    /// ascending) that yields as it goes: a caller that has enough calls
    /// stops early, without sorting the ~1,600 candidates of a commune.
    pub(super) fn candidates(&self, territory: &Perimeter) -> Candidates<'_> {
        Candidates {
            lists: territory::ancestors(territory)
                .iter()
                .filter_map(|p| self.by_perimeter.get(p))
                .map(Vec::as_slice)
                .filter(|l| !l.is_empty())
                .collect(),
            last: None,
        }
    }

    pub(super) fn extensions_of(&self, call_id: i64) -> &[Extension] {
        self.extensions.get(&call_id).map_or(&[], Vec::as_slice)
    }

    /// The extensions of a call recorded after its `new` email was built
    /// (event id above `baseline`) and not yet announced.
    pub(super) fn unannounced<'a>(
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

/// Call indices from a few ascending lists, in ascending order (a k-way
/// merge; k is the number of perimeters above a territory, at most ~8).
/// A call listed under several of them (a perimeter set with two members
/// above the territory) comes out once.
pub(super) struct Candidates<'a> {
    lists: Vec<&'a [u32]>,
    last: Option<u32>,
}

impl Iterator for Candidates<'_> {
    type Item = usize;

    fn next(&mut self) -> Option<usize> {
        loop {
            let (at, _) = self
                .lists
                .iter()
                .enumerate()
                .min_by_key(|(_, list)| list.first())?;
            let (first, rest) = self.lists[at].split_first()?;
            if rest.is_empty() {
                self.lists.swap_remove(at);
            } else {
                self.lists[at] = rest;
            }
            if self.last != Some(*first) {
                self.last = Some(*first);
                return Some(*first as usize);
            }
        }
    }
}

/// What earlier digests carried to one subscriber (`digest_items`), with
/// merged calls followed to the call that survived.
#[derive(Debug, Default, Clone)]
pub struct History {
    /// Calls sent as new, with the latest extension event their email
    /// already reflected.
    pub new: HashMap<i64, Option<i64>>,
    /// When each call was first sent as new (its first `new` row's
    /// `sent_at`): a closing-soon reminder waits
    /// `digest.closing_soon_min_age_days` after it.
    pub new_at: HashMap<i64, DateTime<Utc>>,
    /// Calls already reminded as closing soon.
    pub closing: HashSet<i64>,
    /// Deadline events already announced.
    pub events: HashSet<i64>,
}

impl History {
    pub fn load(conn: &Connection, subscriber_id: i64) -> anyhow::Result<History> {
        let mut histories = History::load_many(conn, &[subscriber_id])?;
        Ok(histories.pop().unwrap_or_default())
    }

    /// The histories of `subscriber_ids`, in the same order, in one query: a
    /// digest run reads them by batches of hundreds, and one statement per
    /// subscriber cost more than the rows it returned.
    pub fn load_many(conn: &Connection, subscriber_ids: &[i64]) -> anyhow::Result<Vec<History>> {
        let mut out = vec![History::default(); subscriber_ids.len()];
        let mut at: HashMap<i64, Vec<usize>> = HashMap::with_capacity(subscriber_ids.len());
        for (i, id) in subscriber_ids.iter().enumerate() {
            at.entry(*id).or_default().push(i);
        }
        let ids = format!(
            "[{}]",
            at.keys().map(i64::to_string).collect::<Vec<_>>().join(",")
        );
        let mut stmt = conn.prepare_cached(
            "SELECT d.subscriber_id, coalesce(c.merged_into, d.call_id), d.section,
                    d.event_id, d.baseline_event_id, d.id, d.sent_at
             FROM digest_items d JOIN calls c ON c.id = d.call_id
             WHERE d.subscriber_id IN (SELECT value FROM json_each(?1))
               AND d.returned_at IS NULL",
        )?;
        let mut rows = stmt.query([ids])?;
        while let Some(r) = rows.next()? {
            let subscriber: i64 = r.get(0)?;
            let call: i64 = r.get(1)?;
            let section: String = r.get(2)?;
            let event: Option<i64> = r.get(3)?;
            let baseline: Option<i64> = r.get(4)?;
            let row_id: i64 = r.get(5)?;
            let sent_at: String = r.get(6)?;
            let sent_at = DateTime::parse_from_rfc3339(&sent_at)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|e| {
                    anyhow::anyhow!(
                        "digest_items row {row_id}: column sent_at `{sent_at}` is not an \
                         RFC 3339 time ({e}); fix or delete the row"
                    )
                })?;
            let item = Item {
                call,
                section: &section,
                event,
                baseline,
                sent_at,
            };
            for &i in at.get(&subscriber).map_or(&[][..], Vec::as_slice) {
                out[i].add(&item).map_err(|e| {
                    anyhow::anyhow!("digest_items row {row_id}: {e}; fix or delete the row")
                })?;
            }
        }
        Ok(out)
    }

    /// One `digest_items` row (its call followed to the surviving one).
    fn add(&mut self, item: &Item) -> anyhow::Result<()> {
        let call = item.call;
        match item.section {
            "new" => {
                // Two rows for one call (after a merge): the later baseline,
                // the earlier time.
                let entry = self.new.entry(call).or_insert(item.baseline);
                *entry = (*entry).max(item.baseline);
                let at = self.new_at.entry(call).or_insert(item.sent_at);
                *at = (*at).min(item.sent_at);
            }
            "closing_soon" => {
                self.closing.insert(call);
            }
            "deadline_extended" => {
                let event = item.event.ok_or_else(|| {
                    anyhow::anyhow!("column event_id is NULL for a deadline_extended row")
                })?;
                self.events.insert(event);
            }
            other => anyhow::bail!(
                "column section `{other}` is not one of new, deadline_extended, closing_soon"
            ),
        }
        Ok(())
    }
}

/// One `digest_items` row as [`History::add`] reads it.
struct Item<'a> {
    call: i64,
    section: &'a str,
    event: Option<i64>,
    baseline: Option<i64>,
    sent_at: DateTime<Utc>,
}
