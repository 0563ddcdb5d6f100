//! What one subscriber's digest carries: [`plan`] puts each fitting call of
//! the [`Catalogue`] in at most one section (see [`super`] for the rules)
//! and lists the `digest_items` rows to write with it.

use chrono::{DateTime, Duration, FixedOffset, Utc};

use super::catalogue::{Catalogue, History};
use crate::digest::config::DigestConfig;
use crate::digest::render::{CallView, DigestView, SectionKind};
use crate::domain::Status;
use crate::matching::Matcher;
use crate::store::CallRecord;
use crate::subscribers::Subscriber;

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
    /// The token of this email's manage and unsubscribe links (see
    /// [`Plan::with_token`]); stored hashed when the email is queued.
    pub manage_token: String,
}

impl Plan {
    /// Puts `token` in the email's manage and unsubscribe links. Each
    /// email gets its own token: the database keeps only hashes, so the
    /// links of a message cannot be rebuilt from it.
    pub fn with_token(mut self, token: String, config: &DigestConfig) -> Plan {
        self.view.manage_url = config.manage_url(&token);
        self.view.unsubscribe_url = config.unsubscribe_url(&token);
        self.manage_token = token;
        self
    }

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
    // Clamped to the accepted range: a config built in code skips the check.
    let days = config
        .closing_soon_days
        .min(DigestConfig::CLOSING_SOON_DAYS.max);
    let horizon = now + Duration::days(i64::from(days));
    // A call first sent as new after this is too recent to be reminded.
    let min_age = config
        .closing_soon_min_age_days
        .min(DigestConfig::CLOSING_SOON_DAYS.max);
    let announced_by = now - Duration::days(i64::from(min_age));
    // First pass: indices only (no allocation per fitting call); candidates
    // come in catalogue order, soonest deadline first.
    let cap = config.max_calls as usize; // 0 = no limit
    let (mut new, mut extended, mut closing) = (Vec::new(), Vec::new(), Vec::new());
    let matcher = catalogue.matcher(matcher);
    for i in catalogue.candidates(&subscriber.profile.territory) {
        let call = &catalogue.calls[i];
        let sent = history.new.get(&call.id);
        // Once `cap` new calls are found, a later new call would be cut by
        // the cap below: only calls sent earlier (extensions, reminders) may
        // still come in. The first digest, with no history, stops here.
        if cap > 0 && new.len() >= cap && sent.is_none() {
            if history.new.is_empty() {
                break;
            }
            continue;
        }
        if !matcher.fits(i) {
            continue;
        }
        let Some(baseline) = sent else {
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
            && history
                .new_at
                .get(&call.id)
                .is_some_and(|at| *at <= announced_by)
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
            // Set by `with_token` once the digest is known not to be empty.
            manage_url: config.manage_url(""),
            unsubscribe_url: config.unsubscribe_url(""),
            site_url: config.site().to_string(),
            generated_at: now,
            closing_soon_days: config.closing_soon_days,
        },
        items,
        manage_token: String::new(),
    })
}
