//! Resolving a new sighting to the call it belongs to, at ingest time.
//!
//! Candidates come from a bounded set, never from all pairs: sightings with
//! the same URL and sightings sharing at least two of the title's rarest
//! distinctive tokens, both read from the in-memory [`BlockingIndex`]
//! (whose too-common postings are never read). Candidates that a hard
//! conflict surely keeps apart are skipped; each other one is read from
//! `sightings` and compared with [`dedup::decide`].
//!
//! Sightings linked by "same call" decisions form a *component* (a column
//! of `sightings`). A call never holds two sightings that `decide` keeps
//! apart (complete linkage: a sighting joins a call only if it is
//! compatible with every sighting in it), so a component may hold several
//! calls. When a new sighting links into components, their union is
//! partitioned again by [`cluster::partition`], in the canonical order of
//! (source, item key) and from the pairwise decisions alone; stored
//! sightings may move between the component's calls. The calls therefore
//! depend on the set of sightings and not on the order or the batches in
//! which they arrived, as long as every pair `decide` calls the same is
//! found among the candidates of the later one (blocking is bounded, see
//! `index`). Components a curator touched are never partitioned again: a
//! new sighting joins the best call it fits, and curator decisions hold.
//! Call ids are not part of that guarantee: a call keeps its id when it
//! keeps most of its sightings, and a call left empty leads to the one
//! that took them.

use std::collections::{BTreeMap, HashMap};

use rusqlite::Transaction;
use serde::Serialize;

use super::index::{self, BlockingIndex};
use crate::dedup::{self, Signals, TitleKey, cluster};
use crate::normalize::item::NormalizedItem;

/// Why a sighting belongs to its call, stored as JSON on the sighting.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct Resolution {
    /// `new` (first sighting of its call), `url` or `similar` (dedup),
    /// `curator` (moved by a merge or split).
    pub method: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub score: Option<f32>,
    /// The sighting it was found to match.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub matched_sighting: Option<i64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reasons: Vec<String>,
}

impl Resolution {
    pub fn new_call() -> Resolution {
        Resolution {
            method: "new".into(),
            score: None,
            matched_sighting: None,
            reasons: Vec::new(),
        }
    }

    pub fn curator(action: &str) -> Resolution {
        Resolution {
            method: "curator".into(),
            score: None,
            matched_sighting: None,
            reasons: vec![action.into()],
        }
    }
}

/// One call matched by a new sighting.
#[derive(Debug, Clone)]
pub struct CallMatch {
    pub call_id: i64,
    pub resolution: Resolution,
}

/// The decision inputs of a normalized item.
pub fn signals(source_id: &str, item: &NormalizedItem) -> Signals {
    Signals {
        source_id: source_id.to_string(),
        title: item.title.clone(),
        funder: item.funder.clone(),
        url: item.url.clone(),
        origin_url: None,
        deadline: item.deadlines.last().copied(),
        perimeter: Some(item.perimeter.to_string()),
        kind: Some(item.kind.to_string()),
    }
}

/// Past this many sightings in one component, a new sighting only joins
/// the best call it fits (no partition again): see the module docs.
pub const MAX_COMPONENT: usize = 48;

/// A new sighting being resolved.
pub(crate) struct NewSighting<'a> {
    pub item_key: &'a str,
    pub signals: &'a Signals,
    pub key: &'a TitleKey,
    /// `dedup::blocking_tokens_of(key)`.
    pub tokens: &'a [String],
}

/// Where a sighting goes: an existing call, or the `n`-th call to create.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Target {
    Call(i64),
    Fresh(usize),
}

/// The sighting a placed one was found to be the same call as.
#[derive(Debug, Clone)]
pub(crate) enum Partner {
    /// The new sighting itself (its id is known once it is stored).
    New,
    Stored(i64),
}

/// Why a sighting is where it is: its best "same call" link in its call.
#[derive(Debug, Clone)]
pub(crate) struct Link {
    pub partner: Partner,
    pub decision: dedup::Decision,
}

impl Link {
    pub fn resolution(&self, new_id: i64) -> Resolution {
        let method = if self.decision.reasons.iter().any(|r| r.contains("url")) {
            "url"
        } else {
            "similar"
        };
        Resolution {
            method: method.into(),
            score: Some(self.decision.score),
            matched_sighting: Some(match self.partner {
                Partner::New => new_id,
                Partner::Stored(id) => id,
            }),
            reasons: self.decision.reasons.clone(),
        }
    }
}

/// A stored sighting that changes call.
#[derive(Debug, Clone)]
pub(crate) struct Move {
    pub sighting: i64,
    pub from: i64,
    pub to: Target,
    pub link: Option<Link>,
}

/// What resolving a new sighting decided.
#[derive(Debug, Clone)]
pub(crate) struct Placement {
    /// The component label of the new sighting and every member.
    pub component: i64,
    /// Labels of the components it joined (all relabelled `component`).
    pub joined: Vec<i64>,
    /// How many calls to create.
    pub fresh: usize,
    pub target: Target,
    /// Why the new sighting goes there (`None`: it starts a call).
    pub link: Option<Link>,
    pub moves: Vec<Move>,
    /// Calls left without sightings, and the call each now leads to.
    pub retired: Vec<(i64, Target)>,
}

/// A member of a component, as resolution compares it.
struct Member {
    /// `None` for the new sighting.
    id: Option<i64>,
    call_id: Option<i64>,
    source_id: String,
    item_key: String,
    signals: Signals,
    curated: bool,
}

/// Resolves a new sighting: `None` when it is the same call as no stored
/// sighting (a new call and a new component), else where it and the
/// members of the components it links go.
///
/// Candidates come from the index; the stored sightings it is the same
/// call as name the components it joins. The union of those components
/// and the new sighting is partitioned again by [`cluster::partition`] in
/// the canonical order (source, item key), so the calls depend on the set
/// of sightings, not on their arrival. Components a curator touched, or
/// larger than [`MAX_COMPONENT`], are not partitioned again: the new
/// sighting joins the best call it is compatible with in full, and
/// curator "apart" verdicts hold.
pub(crate) fn place(
    tx: &Transaction,
    index: &BlockingIndex,
    new: &NewSighting,
) -> anyhow::Result<Option<Placement>> {
    let probe = index.probe(new.signals, new.key);
    let mut decided: HashMap<i64, dedup::Decision> = HashMap::new();
    let mut joined: Vec<i64> = Vec::new();
    for (sighting_id, slot) in index.candidates(new.signals.url.as_deref(), new.tokens) {
        if index.surely_apart(&probe, slot) {
            continue;
        }
        let candidate = index::read_sighting(tx, sighting_id)?;
        let candidate_key = dedup::title_key(&candidate.signals.title);
        let decision =
            dedup::decide_keyed(new.signals, new.key, &candidate.signals, &candidate_key);
        if decision.same {
            joined.push(candidate.component.unwrap_or(candidate.call_id));
        }
        decided.insert(sighting_id, decision);
    }
    if joined.is_empty() {
        return Ok(None);
    }
    joined.sort_unstable();
    joined.dedup();
    let mut members = read_components(tx, &joined)?;
    let component = joined[0];
    members.push(Member {
        id: None,
        call_id: None,
        source_id: new.signals.source_id.clone(),
        item_key: new.item_key.to_string(),
        signals: new.signals.clone(),
        curated: false,
    });
    members.sort_by(|a, b| (&a.source_id, &a.item_key).cmp(&(&b.source_id, &b.item_key)));
    let keys: Vec<TitleKey> = members
        .iter()
        .map(|m| match m.id {
            None => new.key.clone(),
            Some(_) => dedup::title_key(&m.signals.title),
        })
        .collect();
    let decide = |i: usize, j: usize| -> dedup::Decision {
        let (a, b) = (&members[i], &members[j]);
        let cached = match (a.id, b.id) {
            (None, Some(id)) | (Some(id), None) => decided.get(&id).cloned(),
            _ => None,
        };
        cached.unwrap_or_else(|| dedup::decide_keyed(&a.signals, &keys[i], &b.signals, &keys[j]))
    };
    let frozen = members.len() > MAX_COMPONENT || members.iter().any(|m| m.curated);
    let mut placement = if frozen {
        join_best(&members, decide)
    } else {
        partition_again(&members, decide)
    };
    placement.component = component;
    placement.joined = joined;
    Ok(Some(placement))
}

/// Every sighting of the components labelled `labels`.
fn read_components(tx: &Transaction, labels: &[i64]) -> anyhow::Result<Vec<Member>> {
    let mut stmt = tx.prepare_cached(&format!(
        "SELECT {}, item_key, json_extract(resolution, '$.method') = 'curator'
         FROM sightings WHERE component = ?1",
        index::COLUMNS
    ))?;
    let mut out = Vec::new();
    for &label in labels {
        let rows = stmt.query_map([label], |r| {
            let row = index::row(r)?;
            Ok(Member {
                id: Some(row.id),
                call_id: Some(row.call_id),
                source_id: row.signals.source_id.clone(),
                item_key: r.get(10)?,
                signals: row.signals,
                curated: r.get::<_, Option<bool>>(11)?.unwrap_or(false),
            })
        })?;
        for m in rows {
            out.push(m?);
        }
    }
    Ok(out)
}

/// The best "same call" link of member `x` among `others`.
fn best_link(
    members: &[Member],
    x: usize,
    others: impl Iterator<Item = usize>,
    decide: &impl Fn(usize, usize) -> dedup::Decision,
) -> Option<Link> {
    let mut best: Option<(usize, dedup::Decision)> = None;
    for y in others.filter(|&y| y != x) {
        let d = decide(x.min(y), x.max(y));
        if d.same && best.as_ref().is_none_or(|(_, b)| d.score > b.score) {
            best = Some((y, d));
        }
    }
    best.map(|(y, decision)| Link {
        partner: match members[y].id {
            None => Partner::New,
            Some(id) => Partner::Stored(id),
        },
        decision,
    })
}

/// The component partitioned again from scratch; calls keep their ids
/// where they keep most of their sightings.
fn partition_again(
    members: &[Member],
    decide: impl Fn(usize, usize) -> dedup::Decision,
) -> Placement {
    let clusters = cluster::partition(members.len(), |i, j| {
        let d = decide(i, j);
        cluster::Link {
            same: d.same,
            compatible: d.compatible,
            score: d.score,
        }
    });
    // Each cluster takes the call that holds most of its members (the
    // oldest among equals) unless an earlier cluster took it.
    let mut taken: BTreeMap<i64, usize> = BTreeMap::new();
    let mut fresh = 0;
    let mut targets: Vec<Target> = Vec::with_capacity(clusters.len());
    for (k, c) in clusters.iter().enumerate() {
        let mut counts: BTreeMap<i64, usize> = BTreeMap::new();
        for &m in c {
            if let Some(call) = members[m].call_id {
                *counts.entry(call).or_default() += 1;
            }
        }
        let mut ranked: Vec<(usize, i64)> = counts.into_iter().map(|(call, n)| (n, call)).collect();
        ranked.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        match ranked.iter().find(|(_, call)| !taken.contains_key(call)) {
            Some(&(_, call)) => {
                taken.insert(call, k);
                targets.push(Target::Call(call));
            }
            None => {
                targets.push(Target::Fresh(fresh));
                fresh += 1;
            }
        }
    }
    let cluster_of = |m: usize| clusters.iter().position(|c| c.contains(&m)).unwrap_or(0);
    let new_at = members.iter().position(|m| m.id.is_none()).unwrap_or(0);
    let home = cluster_of(new_at);
    let mut moves = Vec::new();
    let mut old_calls: BTreeMap<i64, BTreeMap<usize, usize>> = BTreeMap::new();
    for (m, member) in members.iter().enumerate() {
        let (Some(id), Some(call)) = (member.id, member.call_id) else {
            continue;
        };
        let k = cluster_of(m);
        *old_calls.entry(call).or_default().entry(k).or_default() += 1;
        if targets[k] != Target::Call(call) {
            moves.push(Move {
                sighting: id,
                from: call,
                to: targets[k],
                link: best_link(members, m, clusters[k].iter().copied(), &decide),
            });
        }
    }
    // A call none of the clusters kept leads to the one that took most of
    // its sightings.
    let retired = old_calls
        .into_iter()
        .filter(|(call, _)| !taken.contains_key(call))
        .map(|(call, by_cluster)| {
            let k = by_cluster
                .iter()
                .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
                .map_or(home, |(&k, _)| k);
            (call, targets[k])
        })
        .collect();
    Placement {
        component: 0,
        joined: Vec::new(),
        fresh,
        target: targets[home],
        link: best_link(members, new_at, clusters[home].iter().copied(), &decide),
        moves,
        retired,
    }
}

/// For components a curator touched (or too large): the new sighting joins
/// the call of its best match whose every sighting it is compatible with
/// and that no curator kept apart from it; nothing else moves.
fn join_best(members: &[Member], decide: impl Fn(usize, usize) -> dedup::Decision) -> Placement {
    let new_at = members.iter().position(|m| m.id.is_none()).unwrap_or(0);
    let mut ranked: Vec<(f32, i64)> = Vec::new();
    let mut incompatible: Vec<i64> = Vec::new();
    for (m, member) in members.iter().enumerate() {
        let Some(call) = member.call_id else { continue };
        let d = decide(new_at.min(m), new_at.max(m));
        if !d.compatible {
            incompatible.push(call);
        } else if d.same {
            ranked.push((d.score, call));
        }
    }
    ranked.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    let mut target = Target::Fresh(0);
    for &(_, call) in &ranked {
        if !incompatible.contains(&call) {
            target = Target::Call(call);
            break;
        }
    }
    let (fresh, link) = match target {
        Target::Call(call) => {
            let in_call = members
                .iter()
                .enumerate()
                .filter(|(_, m)| m.call_id == Some(call))
                .map(|(i, _)| i);
            (0, best_link(members, new_at, in_call, &decide))
        }
        Target::Fresh(_) => (1, None),
    };
    // No call is merged here, so no curator "apart" verdict between two
    // calls can be bridged.
    Placement {
        component: 0,
        joined: Vec::new(),
        fresh,
        target,
        link,
        moves: Vec::new(),
        retired: Vec::new(),
    }
}
