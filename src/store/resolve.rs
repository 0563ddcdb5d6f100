//! Resolving a new sighting to the call it belongs to, at ingest time.
//!
//! Candidates come from a bounded set, never from all pairs: sightings with
//! the same URL and sightings sharing at least two of the title's rarest
//! distinctive tokens, both read from the in-memory [`BlockingIndex`]
//! (whose too-common postings are never read). Candidates that a hard
//! conflict surely keeps apart are skipped; each other one is read from
//! `sightings` and compared with [`dedup::decide`]; every call that has a matching sighting
//! is a match (single linkage), so the clusters are the connected
//! components of the pairwise "same call" relation, whatever the order in
//! which sightings arrive. A curator's "apart" decision between two calls
//! is never bridged by a new sighting.

use std::collections::BTreeMap;

use rusqlite::{Transaction, params};
use serde::Serialize;

use super::index::{self, BlockingIndex};
use crate::dedup::{self, Signals, TitleKey};
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

/// The calls a new sighting matches, best first, with curator "apart"
/// decisions respected: a call kept apart from a better match is dropped.
/// `new_key` is `dedup::title_key(&new.title)`, `new_tokens` its
/// `dedup::blocking_tokens_of`.
pub(crate) fn matching_calls(
    tx: &Transaction,
    index: &BlockingIndex,
    new: &Signals,
    new_key: &TitleKey,
    new_tokens: &[String],
) -> anyhow::Result<Vec<CallMatch>> {
    let probe = index.probe(new, new_key);
    let mut best: BTreeMap<i64, CallMatch> = BTreeMap::new();
    for (sighting_id, slot) in index.candidates(new.url.as_deref(), new_tokens) {
        if index.surely_apart(&probe, slot) {
            continue;
        }
        let candidate = index::read_sighting(tx, sighting_id)?;
        let candidate_key = dedup::title_key(&candidate.signals.title);
        let decision = dedup::decide_keyed(new, new_key, &candidate.signals, &candidate_key);
        if !decision.same {
            continue;
        }
        let call_id = candidate.call_id;
        let method = if decision.reasons.iter().any(|r| r.contains("url")) {
            "url"
        } else {
            "similar"
        };
        let better = best
            .get(&call_id)
            .is_none_or(|m| m.resolution.score.unwrap_or(0.0) < decision.score);
        if better {
            best.insert(
                call_id,
                CallMatch {
                    call_id,
                    resolution: Resolution {
                        method: method.into(),
                        score: Some(decision.score),
                        matched_sighting: Some(sighting_id),
                        reasons: decision.reasons,
                    },
                },
            );
        }
    }
    let mut ranked: Vec<CallMatch> = best.into_values().collect();
    ranked.sort_by(|a, b| {
        b.resolution
            .score
            .unwrap_or(0.0)
            .total_cmp(&a.resolution.score.unwrap_or(0.0))
            .then(a.call_id.cmp(&b.call_id))
    });
    let mut kept: Vec<CallMatch> = Vec::new();
    for m in ranked {
        let mut apart = false;
        for k in &kept {
            apart |= calls_kept_apart(tx, k.call_id, m.call_id)?;
        }
        if !apart {
            kept.push(m);
        }
    }
    Ok(kept)
}

/// Whether a curator decided that some sighting of `a` and some sighting of
/// `b` are different calls.
pub fn calls_kept_apart(tx: &Transaction, a: i64, b: i64) -> anyhow::Result<bool> {
    Ok(tx
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM curator_links l
               JOIN sightings x ON x.id = l.a JOIN sightings y ON y.id = l.b
               WHERE l.verdict = 'apart'
                 AND ((x.call_id = ?1 AND y.call_id = ?2) OR (x.call_id = ?2 AND y.call_id = ?1)))",
        )?
        .query_row(params![a, b], |r| r.get(0))?)
}
