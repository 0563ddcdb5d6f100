//! Resolving a new sighting to the call it belongs to, at ingest time.
//!
//! Candidates come from a bounded set, never from all pairs: sightings with
//! the same canonical URL (an index) and sightings sharing at least two of
//! the title's rarest distinctive tokens (`sighting_tokens`, an inverted
//! index whose too-common postings are never read). Each candidate is
//! compared with [`dedup::decide`]; every call that has a matching sighting
//! is a match (single linkage), so the clusters are the connected
//! components of the pairwise "same call" relation, whatever the order in
//! which sightings arrive. A curator's "apart" decision between two calls
//! is never bridged by a new sighting.

use std::collections::BTreeMap;

use chrono::DateTime;
use rusqlite::{OptionalExtension, Transaction, params};
use serde::Serialize;

use crate::dedup::{self, Signals};
use crate::normalize::item::NormalizedItem;

/// How many sightings each retrieval path may return.
const URL_CANDIDATES: usize = 20;
const TITLE_CANDIDATES: usize = 20;

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
pub fn matching_calls(
    tx: &Transaction,
    new: &Signals,
    keys: &mut KeyCache,
) -> anyhow::Result<Vec<CallMatch>> {
    let new_key = dedup::title_key(&new.title);
    let mut best: BTreeMap<i64, CallMatch> = BTreeMap::new();
    for (sighting_id, call_id, candidate) in candidates(tx, new, &new_key)? {
        let candidate_key = keys.get(sighting_id, &candidate.title);
        let decision = dedup::decide_keyed(new, &new_key, &candidate, candidate_key);
        if !decision.same {
            continue;
        }
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

/// Title keys of sightings already compared during one ingest: the same
/// candidates come back for many items of a batch.
#[derive(Default)]
pub struct KeyCache(std::collections::HashMap<i64, dedup::TitleKey>);

impl KeyCache {
    fn get(&mut self, sighting_id: i64, title: &str) -> &dedup::TitleKey {
        if self.0.len() > 100_000 {
            self.0.clear();
        }
        self.0
            .entry(sighting_id)
            .or_insert_with(|| dedup::title_key(title))
    }
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

/// Postings longer than this are not read: a token that common does not
/// tell calls apart, and reading it would make resolution cost grow with
/// the catalogue.
const MAX_POSTINGS: i64 = 5_000;

/// Records the blocking tokens of a sighting's title.
pub fn index_tokens(tx: &Transaction, sighting_id: i64, title: &str) -> anyhow::Result<()> {
    for token in dedup::blocking_tokens(title) {
        let inserted = tx
            .prepare_cached(
                "INSERT OR IGNORE INTO sighting_tokens (token, sighting_id) VALUES (?1, ?2)",
            )?
            .execute(params![token, sighting_id])?;
        if inserted > 0 {
            tx.prepare_cached(
                "INSERT INTO token_df (token, n) VALUES (?1, 1) ON CONFLICT(token) DO UPDATE SET n = n + 1",
            )?
            .execute([&token])?;
        }
    }
    Ok(())
}

/// Forgets the blocking tokens of a sighting (before its title changes).
pub fn unindex_tokens(tx: &Transaction, sighting_id: i64) -> anyhow::Result<()> {
    let tokens: Vec<String> = tx
        .prepare_cached("SELECT token FROM sighting_tokens WHERE sighting_id = ?1")?
        .query_map([sighting_id], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    for token in tokens {
        tx.prepare_cached("UPDATE token_df SET n = n - 1 WHERE token = ?1")?
            .execute([&token])?;
    }
    tx.prepare_cached("DELETE FROM sighting_tokens WHERE sighting_id = ?1")?
        .execute([sighting_id])?;
    Ok(())
}

/// Sightings sharing at least two of the title's rarest blocking tokens
/// (one, when the title has a single token), most shared first.
fn title_candidates(tx: &Transaction, key: &dedup::TitleKey) -> anyhow::Result<Vec<i64>> {
    let mut tokens: Vec<(i64, String)> = Vec::new();
    for token in dedup::blocking_tokens_of(key) {
        let n: Option<i64> = tx
            .prepare_cached("SELECT n FROM token_df WHERE token = ?1")?
            .query_row([&token], |r| r.get(0))
            .optional()?;
        tokens.push((n.unwrap_or(0), token));
    }
    let needed = if tokens.len() >= 2 { 2 } else { 1 };
    tokens.sort();
    let rare: Vec<String> = tokens
        .into_iter()
        .filter(|(n, _)| *n <= MAX_POSTINGS)
        .take(4)
        .map(|(_, t)| t)
        .collect();
    if rare.len() < needed {
        return Ok(Vec::new());
    }
    let marks = vec!["?"; rare.len()].join(",");
    let mut stmt = tx.prepare_cached(&format!(
        "SELECT sighting_id FROM sighting_tokens WHERE token IN ({marks})
         GROUP BY sighting_id HAVING count(*) >= {needed}
         ORDER BY count(*) DESC, sighting_id DESC LIMIT {TITLE_CANDIDATES}"
    ))?;
    let ids = stmt.query_map(rusqlite::params_from_iter(rare.iter()), |r| r.get(0))?;
    Ok(ids.collect::<Result<_, _>>()?)
}

/// Sightings worth comparing with `new`: same URL, then best title matches.
fn candidates(
    tx: &Transaction,
    new: &Signals,
    key: &dedup::TitleKey,
) -> anyhow::Result<Vec<(i64, i64, Signals)>> {
    let mut found: BTreeMap<i64, (i64, Signals)> = BTreeMap::new();
    let row = |r: &rusqlite::Row| -> rusqlite::Result<(i64, i64, Signals)> {
        let deadline: Option<String> = r.get(7)?;
        Ok((
            r.get(0)?,
            r.get(1)?,
            Signals {
                source_id: r.get(2)?,
                title: r.get(3)?,
                url: r.get(4)?,
                funder: r.get(5)?,
                perimeter: r.get(6)?,
                deadline: deadline.and_then(|d| DateTime::parse_from_rfc3339(&d).ok()),
                kind: r.get(8)?,
                origin_url: None,
            },
        ))
    };
    const COLUMNS: &str =
        "s.id, s.call_id, s.source_id, s.title, s.url, s.funder, s.perimeter, s.deadline, s.kind";
    if let Some(url) = &new.url {
        let mut stmt = tx.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM sightings s WHERE s.url = ?1 LIMIT ?2"
        ))?;
        for c in stmt.query_map(params![url, URL_CANDIDATES as i64], row)? {
            let (id, call, signals) = c?;
            found.insert(id, (call, signals));
        }
    }
    let ids = title_candidates(tx, key)?;
    if !ids.is_empty() {
        let marks = vec!["?"; ids.len()].join(",");
        let mut stmt = tx.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM sightings s WHERE s.id IN ({marks})"
        ))?;
        for c in stmt.query_map(rusqlite::params_from_iter(ids.iter()), row)? {
            let (id, call, signals) = c?;
            found.insert(id, (call, signals));
        }
    }
    Ok(found
        .into_iter()
        .map(|(id, (call, s))| (id, call, s))
        .collect())
}
