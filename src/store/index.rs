//! The in-memory blocking index that resolution reads instead of SQL: for
//! every sighting, its blocking tokens (postings), its URL, and the few
//! features that let most candidates be ruled out without reading their row.
//!
//! It is derived data: built from the `sightings` table when a `Store`
//! first resolves something, kept up to date by `ingest` as it writes, and
//! rebuilt whenever the table may have changed behind its back (another
//! process's writes, a failed transaction). The table stays the source of
//! truth; a crash loses nothing but the index, which the next open rebuilds.
//!
//! Candidate retrieval is the same as the former SQL inverted index (the
//! four rarest of the title's blocking tokens with at most
//! [`MAX_POSTINGS`] postings, sightings sharing two of them, the 20 sharing
//! most, newest first; plus up to 20 sightings with the same URL); only the
//! way it is computed changed.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};

use rusqlite::Transaction;

use crate::dedup::{self, Signals, TitleKey, similarity};

mod postings;
mod rows;

pub(super) use rows::{COLUMNS, row};
pub use rows::{read_sighting, table_revision};

use crate::domain::Perimeter;
use postings::{insert_sorted, top_shared};

/// How many sightings each retrieval path may return.
const URL_CANDIDATES: usize = 20;
const TITLE_CANDIDATES: usize = 20;
/// How many of the title's rarest tokens are looked up.
const RARE_TOKENS: usize = 4;
/// Postings longer than this are not read: a token that common does not
/// tell calls apart, and reading it would make resolution cost grow with
/// the catalogue.
pub const MAX_POSTINGS: usize = 5_000;
/// `dedup::decide` splits deadlines more than 240 h apart; an hour of margin
/// covers sub-second parts that the stored text dropped.
const SURELY_APART_SECONDS: i64 = 241 * 3600;

/// What the index keeps of one sighting (about 70 bytes, plus its postings
/// and URL entry: ~205 bytes a sighting in all for the dedup bench).
struct Entry {
    id: i64,
    source: u32,
    /// Index into `perimeters`, when the effective perimeter is known.
    perimeter: Option<u32>,
    /// Last cut-off, Unix seconds.
    deadline: Option<i64>,
    /// Hash of the URL as `dedup` compares it (listing pages excluded).
    url_key: Option<u64>,
    years: Box<[u16]>,
    /// Hashes of the call numbers the title names ("n° 618"), sorted.
    numbers: Box<[u64]>,
    /// The kind the title states, when it states exactly one.
    stated_kind: Option<u8>,
}

/// The features of a sighting being resolved, in the index's terms.
pub struct Probe {
    source: Option<u32>,
    perimeter: Option<Perimeter>,
    deadline: Option<i64>,
    url_key: Option<u64>,
    origin_key: Option<u64>,
    years: Vec<u16>,
    numbers: Box<[u64]>,
    stated_kind: Option<u8>,
}

/// Sightings by slot; slots follow sighting ids in ascending order.
#[derive(Default)]
pub struct BlockingIndex {
    entries: Vec<Entry>,
    tokens: HashMap<Box<str>, u32>,
    postings: Vec<Vec<u32>>,
    /// Raw URL hash → slots, ascending (the first one inline, the rare
    /// further ones in `more_urls`).
    urls: HashMap<u64, u32>,
    more_urls: HashMap<u64, Vec<u32>>,
    sources: HashMap<Box<str>, u32>,
    perimeters: Vec<Perimeter>,
    perimeter_ids: HashMap<String, u32>,
    /// `sightings_revision.n` when the index was last known to match the table.
    pub revision: i64,
}

fn hash_of(text: &str) -> u64 {
    let mut h = DefaultHasher::new();
    text.hash(&mut h);
    h.finish()
}

/// The URL key `dedup::similarity::url_match` compares, hashed.
fn url_key_hash(url: Option<&str>) -> Option<u64> {
    url.filter(|u| !similarity::is_listing_url(u))
        .map(similarity::url_key)
        .filter(|k| !k.is_empty())
        .map(|k| hash_of(&k))
}

/// The call numbers of a title (`numero:` markers), hashed and sorted.
fn numbers(key: &TitleKey) -> Box<[u64]> {
    let mut out: Vec<u64> = key
        .lots
        .iter()
        .filter(|m| m.starts_with("numero:"))
        .map(|m| hash_of(m))
        .collect();
    out.sort_unstable();
    out.into_boxed_slice()
}

fn stated_kind(key: &TitleKey) -> Option<u8> {
    match key.kinds.as_slice() {
        [k] if k == "aap" => Some(0),
        [k] if k == "ami" => Some(1),
        [_] => Some(2),
        _ => None,
    }
}

impl BlockingIndex {
    /// Builds the index from every stored sighting.
    pub fn load(tx: &Transaction) -> anyhow::Result<BlockingIndex> {
        let mut index = BlockingIndex {
            revision: table_revision(tx)?,
            ..BlockingIndex::default()
        };
        index.catch_up(tx)?;
        Ok(index)
    }

    /// Adds the sightings stored after the newest one indexed (written by
    /// another connection; ids only grow since nothing is deleted).
    pub fn catch_up(&mut self, tx: &Transaction) -> anyhow::Result<usize> {
        let after = self.max_id().unwrap_or(i64::MIN);
        let mut stmt = tx.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM sightings WHERE id > ?1 ORDER BY id"
        ))?;
        let mut added = 0;
        for r in stmt.query_map([after], row)? {
            let r = r?;
            let key = dedup::title_key(&r.signals.title);
            self.add(r.id, &r.signals, &key)?;
            added += 1;
        }
        Ok(added)
    }

    /// The newest sighting indexed.
    pub fn max_id(&self) -> Option<i64> {
        self.entries.last().map(|e| e.id)
    }

    /// How many sightings are indexed.
    pub fn sighting_count(&self) -> usize {
        self.entries.len()
    }

    /// An estimate of the heap the index holds, in bytes: element sizes
    /// times capacities, plus one word of hash-table control per entry;
    /// allocator overhead not counted.
    pub fn approx_bytes(&self) -> usize {
        use std::mem::size_of;
        let entries = self.entries.capacity() * size_of::<Entry>()
            + self
                .entries
                .iter()
                .map(|e| e.years.len() * 2 + e.numbers.len() * 8)
                .sum::<usize>();
        let postings = self.postings.capacity() * size_of::<Vec<u32>>()
            + self
                .postings
                .iter()
                .map(|p| p.capacity() * 4)
                .sum::<usize>();
        let tokens = self
            .tokens
            .keys()
            .map(|t| t.len() + size_of::<(Box<str>, u32)>() + 8)
            .sum::<usize>();
        let urls = self.urls.capacity() * (size_of::<(u64, u32)>() + 8)
            + self
                .more_urls
                .values()
                .map(|v| v.capacity() * 4 + size_of::<(u64, Vec<u32>)>() + 8)
                .sum::<usize>();
        entries + postings + tokens + urls
    }

    fn perimeter_id(&mut self, p: Perimeter) -> u32 {
        let text = p.to_string();
        if let Some(&id) = self.perimeter_ids.get(&text) {
            return id;
        }
        let id = self.perimeters.len() as u32;
        self.perimeters.push(p);
        self.perimeter_ids.insert(text, id);
        id
    }

    fn token_id(&mut self, token: &str) -> u32 {
        if let Some(&id) = self.tokens.get(token) {
            return id;
        }
        let id = self.postings.len() as u32;
        self.postings.push(Vec::new());
        self.tokens.insert(token.into(), id);
        id
    }

    /// Indexes a sighting. Its id must be above every indexed one (rows are
    /// never deleted, so new ids only grow); otherwise the caller rebuilds.
    pub fn add(&mut self, id: i64, s: &Signals, key: &TitleKey) -> anyhow::Result<()> {
        self.add_with_tokens(id, s, key, dedup::blocking_tokens_of(key))
    }

    /// [`BlockingIndex::add`] with `dedup::blocking_tokens_of(key)` already
    /// computed.
    pub fn add_with_tokens(
        &mut self,
        id: i64,
        s: &Signals,
        key: &TitleKey,
        tokens: Vec<String>,
    ) -> anyhow::Result<()> {
        anyhow::ensure!(
            self.max_id().is_none_or(|m| m < id),
            "sighting {id} is older than the newest indexed one: the index must be rebuilt"
        );
        let slot = u32::try_from(self.entries.len())?;
        let source = match self.sources.get(s.source_id.as_str()) {
            Some(&n) => n,
            None => {
                let n = self.sources.len() as u32;
                self.sources.insert(s.source_id.as_str().into(), n);
                n
            }
        };
        let perimeter =
            similarity::effective_perimeter(s.perimeter.as_deref(), s.funder.as_deref())
                .map(|p| self.perimeter_id(p));
        self.entries.push(Entry {
            id,
            source,
            perimeter,
            deadline: s.deadline.map(|d| d.timestamp()),
            url_key: url_key_hash(s.url.as_deref()),
            years: key.years.clone().into_boxed_slice(),
            numbers: numbers(key),
            stated_kind: stated_kind(key),
        });
        self.link(slot, s.url.as_deref(), tokens);
        Ok(())
    }

    /// Records a changed sighting (its title, URL or other compared field).
    pub fn update(
        &mut self,
        id: i64,
        old: &Signals,
        new: &Signals,
        new_key: &TitleKey,
    ) -> anyhow::Result<()> {
        let slot = self
            .entries
            .binary_search_by_key(&id, |e| e.id)
            .map_err(|_| anyhow::anyhow!("sighting {id} is not indexed"))?;
        let slot = u32::try_from(slot)?;
        self.unlink(slot, old.url.as_deref(), &dedup::title_key(&old.title));
        let perimeter =
            similarity::effective_perimeter(new.perimeter.as_deref(), new.funder.as_deref())
                .map(|p| self.perimeter_id(p));
        let e = &mut self.entries[slot as usize];
        e.perimeter = perimeter;
        e.deadline = new.deadline.map(|d| d.timestamp());
        e.url_key = url_key_hash(new.url.as_deref());
        e.years = new_key.years.clone().into_boxed_slice();
        e.numbers = numbers(new_key);
        e.stated_kind = stated_kind(new_key);
        self.link(slot, new.url.as_deref(), dedup::blocking_tokens_of(new_key));
        Ok(())
    }

    fn link(&mut self, slot: u32, url: Option<&str>, mut tokens: Vec<String>) {
        tokens.sort();
        tokens.dedup();
        for t in tokens {
            let id = self.token_id(&t);
            insert_sorted(&mut self.postings[id as usize], slot);
        }
        if let Some(url) = url {
            let h = hash_of(url);
            match self.urls.get_mut(&h) {
                None => {
                    self.urls.insert(h, slot);
                }
                Some(first) if slot < *first => {
                    let old = std::mem::replace(first, slot);
                    insert_sorted(self.more_urls.entry(h).or_default(), old);
                }
                Some(_) => insert_sorted(self.more_urls.entry(h).or_default(), slot),
            }
        }
    }

    fn unlink(&mut self, slot: u32, url: Option<&str>, key: &TitleKey) {
        for t in dedup::blocking_tokens_of(key) {
            if let Some(&id) = self.tokens.get(t.as_str()) {
                let list = &mut self.postings[id as usize];
                if let Ok(i) = list.binary_search(&slot) {
                    list.remove(i);
                }
            }
        }
        if let Some(url) = url {
            let h = hash_of(url);
            if self.urls.get(&h) == Some(&slot) {
                match self.more_urls.get_mut(&h) {
                    Some(more) if !more.is_empty() => {
                        let next = more.remove(0);
                        self.urls.insert(h, next);
                    }
                    _ => {
                        self.urls.remove(&h);
                    }
                }
            } else if let Some(more) = self.more_urls.get_mut(&h)
                && let Ok(i) = more.binary_search(&slot)
            {
                more.remove(i);
            }
        }
    }

    /// The features of a sighting being resolved.
    pub fn probe(&self, s: &Signals, key: &TitleKey) -> Probe {
        Probe {
            source: self.sources.get(s.source_id.as_str()).copied(),
            perimeter: similarity::effective_perimeter(s.perimeter.as_deref(), s.funder.as_deref()),
            deadline: s.deadline.map(|d| d.timestamp()),
            url_key: url_key_hash(s.url.as_deref()),
            origin_key: url_key_hash(s.origin_url.as_deref()),
            years: key.years.clone(),
            numbers: numbers(key),
            stated_kind: stated_kind(key),
        }
    }

    /// Ids of the sightings worth comparing with a new one, ascending: up to
    /// 20 with the same URL and up to 20 sharing the most rare title tokens
    /// (`tokens` is `dedup::blocking_tokens_of` of its title key).
    pub fn candidates(&self, url: Option<&str>, tokens: &[String]) -> Vec<(i64, u32)> {
        let mut slots = self.title_candidates(tokens);
        if let Some(url) = url {
            let h = hash_of(url);
            if let Some(&first) = self.urls.get(&h) {
                slots.push(first);
                if let Some(more) = self.more_urls.get(&h) {
                    slots.extend(more.iter().take(URL_CANDIDATES - 1));
                }
            }
        }
        slots.sort_unstable();
        slots.dedup();
        slots
            .into_iter()
            .map(|s| (self.entries[s as usize].id, s))
            .collect()
    }

    /// Sightings sharing at least two of the title's rarest blocking tokens
    /// (one, when the title has a single token): the 20 sharing most, the
    /// newest first among equals.
    fn title_candidates(&self, tokens: &[String]) -> Vec<u32> {
        let needed = if tokens.len() >= 2 { 2 } else { 1 };
        let mut ranked: Vec<(usize, &str, &[u32])> = tokens
            .iter()
            .map(|t| {
                let list = self
                    .tokens
                    .get(t.as_str())
                    .map(|&id| self.postings[id as usize].as_slice())
                    .unwrap_or(&[]);
                (list.len(), t.as_str(), list)
            })
            .collect();
        ranked.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
        let mut rare: Vec<(&str, &[u32])> = ranked
            .into_iter()
            .filter(|(n, _, _)| *n <= MAX_POSTINGS)
            .take(RARE_TOKENS)
            .map(|(_, t, l)| (t, l))
            .collect();
        if rare.len() < needed {
            return Vec::new();
        }
        // A token named twice counts once, as `token IN (...)` did.
        rare.dedup_by_key(|(t, _)| *t);
        let lists: Vec<&[u32]> = rare.into_iter().map(|(_, l)| l).collect();
        top_shared(&lists, needed, TITLE_CANDIDATES)
    }

    /// Whether the decision rule would certainly keep `slot` apart from the
    /// probed sighting: a hard conflict that no shared URL can lift. Only a
    /// sure "no" skips `dedup::decide`; anything else is decided in full.
    pub fn surely_apart(&self, p: &Probe, slot: u32) -> bool {
        let e = &self.entries[slot as usize];
        if dedup::years_conflict(&p.years, &e.years) {
            return true;
        }
        // Titles that both name call numbers and not the same ones.
        if !p.numbers.is_empty() && !e.numbers.is_empty() && p.numbers != e.numbers {
            return true;
        }
        if let (Some(a), Some(b)) = (p.stated_kind, e.stated_kind)
            && a != b
        {
            return true;
        }
        let url_possible = e
            .url_key
            .is_some_and(|k| p.url_key == Some(k) || p.origin_key == Some(k));
        if url_possible {
            return false;
        }
        if p.source == Some(e.source) {
            return true;
        }
        if let (Some(a), Some(b)) = (p.deadline, e.deadline)
            && (a - b).abs() > SURELY_APART_SECONDS
        {
            return true;
        }
        if let (Some(a), Some(b)) = (&p.perimeter, e.perimeter)
            && similarity::perimeters_disjoint(a, &self.perimeters[b as usize])
        {
            return true;
        }
        false
    }
}

/// Makes `slot` hold an index that matches the table as `tx` sees it:
/// built if absent, rebuilt if another connection changed a compared
/// column, caught up if it only added sightings.
pub fn sync(slot: &mut Option<BlockingIndex>, tx: &Transaction) -> anyhow::Result<()> {
    match slot {
        Some(index) if index.revision == table_revision(tx)? => {
            index.catch_up(tx)?;
        }
        _ => *slot = Some(BlockingIndex::load(tx)?),
    }
    Ok(())
}

#[cfg(test)]
mod tests;
