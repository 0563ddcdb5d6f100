//! Deduplication benchmark: a generated catalogue of sightings (default
//! 100,000, ~20 % of them duplicates of a call already published by another
//! source, across 300 sources) resolved by the real store into an on-disk
//! SQLite file, then 1,000 new sightings resolved against it, then the
//! time a fresh `Store` takes to build its in-memory candidate index, and
//! last the write floor: the same rows written by plain SQL inserts in one
//! transaction into a fresh file, without any resolution (see
//! [`write_floor`]).
//!
//! Run: `cargo bench --bench dedup` (environment: `DEDUP_SIGHTINGS`,
//! `DEDUP_SOURCES`, `DEDUP_NEW`, `DEDUP_BATCHES`). Prints the timings, the number of calls
//! found against the number generated, and the peak RSS of the process.

#[allow(dead_code)]
mod common;

use common::{env, peak_rss_mib, process_cpu, rss_mib};

use std::time::Instant;

use chrono::{DateTime, Duration, FixedOffset, TimeZone, Utc};
use vigie::domain::{CallKind, Perimeter, Recurrence};
use vigie::normalize::item::{ItemKey, NormalizedItem};
use vigie::store::Store;

const KINDS: &[&str] = &[
    "Appel à projets",
    "AMI",
    "Appel à candidatures",
    "Appel à manifestation d'intérêt",
];
const TOPICS: &[&str] = &[
    "archivage numérique",
    "inclusion numérique",
    "tiers-lieux",
    "cybersécurité",
    "données ouvertes",
    "France services",
    "conseillers numériques",
    "fibre optique",
    "couverture mobile",
    "WiFi public",
    "rénovation énergétique des écoles",
    "mobilités douces",
    "revitalisation des centres-bourgs",
    "friches industrielles",
    "cantines scolaires",
    "lecture publique",
    "médiathèques",
    "patrimoine rural",
    "sobriété foncière",
    "eau potable",
    "biodiversité urbaine",
    "santé mentale",
    "démarches en ligne",
    "intelligence artificielle",
    "jumeau numérique",
    "cloud souverain",
    "logiciels libres",
    "télémédecine",
    "espaces de coworking",
    "mobilier urbain connecté",
    "éclairage public",
    "vélo du quotidien",
];
const PLACES: &[&str] = &[
    "en Occitanie",
    "en Bretagne",
    "en Normandie",
    "dans le Grand Est",
    "en Île-de-France",
    "en Corse",
    "dans les Hauts-de-France",
    "en Nouvelle-Aquitaine",
    "en Auvergne-Rhône-Alpes",
    "en Bourgogne-Franche-Comté",
    "dans les territoires ruraux",
    "dans les quartiers prioritaires",
    "en outre-mer",
    "dans les petites villes",
    "dans les communes de montagne",
    "sur le littoral",
    "",
];
const REGIONS: &[&str] = &["76", "53", "28", "44", "11", "94", "32", "75", "84", "27"];

/// A tiny deterministic generator (SplitMix64) so runs are comparable.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn paris(day: i64) -> DateTime<FixedOffset> {
    FixedOffset::east_opt(3600)
        .unwrap()
        .with_ymd_and_hms(2035, 1, 1, 12, 0, 0)
        .unwrap()
        + Duration::days(day)
}

/// One unique call: title, perimeter, deadline.
struct Call {
    title: String,
    perimeter: Perimeter,
    deadline: DateTime<FixedOffset>,
}

fn unique_call(i: usize, rng: &mut Rng) -> Call {
    let topic = TOPICS[rng.below(TOPICS.len())];
    let place = PLACES[rng.below(PLACES.len())];
    let year = 2030 + rng.below(10);
    // A programme number keeps generated calls distinct, as real catalogues are.
    let title = format!(
        "{} « {topic} {place} » n° {i} {year}",
        KINDS[rng.below(KINDS.len())]
    );
    let perimeter = if rng.below(3) == 0 {
        Perimeter::Region(REGIONS[rng.below(REGIONS.len())].into())
    } else {
        Perimeter::France
    };
    Call {
        title,
        perimeter,
        deadline: paris(rng.below(2000) as i64),
    }
}

fn sighting(call: &Call, source: usize, n: usize, relay: bool, rng: &mut Rng) -> NormalizedItem {
    let url = format!("https://source{source}.example.fr/appels/{n}");
    let (title, deadline) = if relay {
        let t = match rng.below(3) {
            0 => format!("AAP - {}", call.title),
            1 => format!("{} (relais)", call.title),
            _ => call.title.replace(['«', '»'], "\""),
        };
        (t, call.deadline + Duration::hours(rng.below(30) as i64))
    } else {
        (call.title.clone(), call.deadline)
    };
    NormalizedItem {
        key: ItemKey::Url(url.clone()),
        title,
        url: Some(url),
        summary_html: String::new(),
        summary_text: "Les collectivités peuvent déposer un dossier.".into(),
        funder: None,
        kind: CallKind::Aap,
        audiences: vec![],
        perimeter: call.perimeter.clone().into(),
        themes: vec![],
        opens_on: None,
        deadlines: vec![deadline],
        recurrence: Recurrence::Oneoff,
        published: None,
    }
}

/// A fresh catalogue at `path` with the generated sources `source-0`…
fn catalogue(path: &std::path::Path, sources: usize) -> anyhow::Result<Store> {
    let store = Store::open(path)?;
    for s in 0..sources {
        store.upsert_source(
            &format!("source-{s}"),
            "Source",
            "html",
            "https://example.fr/",
            0,
            false,
        )?;
    }
    Ok(store)
}

/// The SQL floor of a full resolution: the rows the store writes for these
/// sightings (one call per original, one sighting per item, the full-text
/// rows), written with plain prepared inserts in one transaction into a
/// fresh catalogue, with no resolution at all and the JSON serialized
/// beforehand. Any implementation that stores the same rows pays at least
/// this. Returns the wall time and the process CPU it took.
fn write_floor(
    dir: &std::path::Path,
    per_source: &[Vec<NormalizedItem>],
    call_of: &[Vec<usize>],
) -> anyhow::Result<(std::time::Duration, f64)> {
    let mut store = catalogue(&dir.join("floor.db"), per_source.len())?;
    let rows: Vec<(String, &NormalizedItem, usize, String)> = per_source
        .iter()
        .zip(call_of)
        .enumerate()
        .flat_map(|(s, (items, calls))| {
            items
                .iter()
                .zip(calls)
                .map(move |(i, &c)| (format!("source-{s}"), i, c))
        })
        .map(|(s, i, c)| Ok((s, i, c, serde_json::to_string(i)?)))
        .collect::<anyhow::Result<_>>()?;
    let mut call_ids = std::collections::HashMap::new();
    let stamp = |d: &DateTime<FixedOffset>| d.to_rfc3339();
    let now = vigie::store::ts(&Utc::now());
    let started = Instant::now();
    let cpu = process_cpu();
    let conn = store.conn_mut();
    let tx = conn.transaction()?;
    tx.execute("UPDATE calls_fts_deferred SET above = 0 WHERE id = 1", [])?;
    {
        let mut call = tx.prepare(
            "INSERT INTO calls (title, summary_html, summary_text, funder, kind, url, audiences, perimeter,
               themes, opens_on, deadline, deadline_ts, deadlines, recurrence, first_seen, updated, last_seen)
             VALUES (?1, ?2, ?3, NULL, 'aap', ?4, '[]', ?5, '[]', NULL, ?6, ?7, ?8, 'oneoff', ?9, ?9, ?9)",
        )?;
        let mut sighting = tx.prepare(
            "INSERT INTO sightings (source_id, item_key, call_id, content_hash, data, first_seen, last_seen,
               url, title, funder, deadline, perimeter, kind, resolution)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, ?7, ?8, NULL, ?9, ?10, 'aap', '{\"method\":\"new\"}')",
        )?;
        for (source, item, generated, data) in &rows {
            let deadline = item.deadlines.last().map(stamp);
            let perimeter = item.perimeter.to_string();
            let call_id = match call_ids.get(generated) {
                Some(&id) => id,
                None => {
                    call.execute(rusqlite::params![
                        item.title,
                        item.summary_html,
                        item.summary_text,
                        item.url,
                        perimeter,
                        deadline,
                        item.deadlines.last().map(|d| d.timestamp()),
                        format!("[\"{}\"]", deadline.as_deref().unwrap_or("")),
                        now,
                    ])?;
                    call_ids.insert(*generated, tx.last_insert_rowid());
                    tx.last_insert_rowid()
                }
            };
            sighting.execute(rusqlite::params![
                source,
                item.key.to_db(),
                call_id,
                "0123456789abcdef0123456789abcdef",
                data,
                now,
                item.url,
                item.title,
                deadline,
                perimeter,
            ])?;
        }
    }
    tx.execute(
        "INSERT INTO calls_fts(rowid, title, summary_text, funder)
         SELECT id, title, summary_text, coalesce(funder, '') FROM calls ORDER BY id",
        [],
    )?;
    tx.execute(
        "UPDATE calls_fts_deferred SET above = NULL WHERE id = 1",
        [],
    )?;
    tx.commit()?;
    Ok((started.elapsed(), process_cpu() - cpu))
}

fn main() -> anyhow::Result<()> {
    // The allocator set up as the `vigie` binary sets it up.
    vigie::alloc::configure();
    let total = env("DEDUP_SIGHTINGS", 100_000);
    let sources = env("DEDUP_SOURCES", 300);
    let new = env("DEDUP_NEW", 1_000);
    let batches = env("DEDUP_BATCHES", 5).max(1);
    let mut rng = Rng(42);

    // 80 % originals, 20 % relays of an original by another source.
    let originals = total * 4 / 5;
    let calls: Vec<Call> = (0..originals + new * batches)
        .map(|i| unique_call(i, &mut rng))
        .collect();
    let mut per_source: Vec<Vec<NormalizedItem>> = vec![Vec::new(); sources];
    // For each item, the generated call it is a sighting of.
    let mut call_of: Vec<Vec<usize>> = vec![Vec::new(); sources];
    for (i, call) in calls[..originals].iter().enumerate() {
        per_source[i % sources].push(sighting(call, i % sources, i, false, &mut rng));
        call_of[i % sources].push(i);
    }
    for n in 0..total - originals {
        let i = rng.below(originals);
        let source = (i % sources + 1 + rng.below(sources - 1)) % sources;
        per_source[source].push(sighting(&calls[i], source, originals + n, true, &mut rng));
        call_of[source].push(i);
    }

    let dir = tempfile::tempdir()?;
    let mut store = catalogue(&dir.path().join("bench.db"), sources)?;
    let now = Utc::now();
    let started = Instant::now();
    let cpu = process_cpu();
    for (s, items) in per_source.iter().enumerate() {
        store.ingest(&format!("source-{s}"), items, now)?;
    }
    let full = started.elapsed();
    let full_cpu = process_cpu() - cpu;
    let found = store.count_calls()?;
    // Commits leave checkpoints to a background thread, which may still be
    // copying the bulk load: the new sightings start from a settled file.
    let started = Instant::now();
    store.checkpoint()?;
    let settle = started.elapsed();

    // Batches of new sightings, each resolved against everything stored
    // before it: half new calls, half relays of existing ones. The first
    // batch is the figure of record; the others show its spread.
    let mut times = Vec::new();
    let mut first = None;
    for b in 0..batches {
        let calls_offset = originals + b * new;
        let mut batch = Vec::new();
        for n in 0..new {
            let item = if n % 2 == 0 {
                sighting(
                    &calls[calls_offset + n],
                    0,
                    total + b * new + n,
                    false,
                    &mut rng,
                )
            } else {
                sighting(
                    &calls[rng.below(originals)],
                    1,
                    total + b * new + n,
                    true,
                    &mut rng,
                )
            };
            batch.push(item);
        }
        let started = Instant::now();
        let cpu = process_cpu();
        let out = store.ingest("source-2", &batch, now)?;
        let elapsed = started.elapsed();
        let used = process_cpu() - cpu;
        times.push(elapsed.as_secs_f64() * 1000.0);
        first.get_or_insert((elapsed, used, out));
    }
    let (incremental, incremental_cpu, out) = first.expect("at least one batch");
    drop(store);

    // The in-memory candidate index, built from the table by a fresh open.
    let mut store = Store::open(&dir.path().join("bench.db"))?;
    let rss_before = rss_mib();
    let started = Instant::now();
    let cpu = process_cpu();
    let indexed = store.load_resolution_index()?;
    let index_mib = rss_mib() - rss_before;
    let index_estimate = store.resolution_index_bytes().unwrap_or(0) as f64 / 1048576.0;
    let load = started.elapsed();
    let load_cpu = process_cpu() - cpu;
    drop(store);
    // Before the floor, which holds every item's JSON at once.
    let peak = peak_rss_mib();
    let (floor, floor_cpu) = write_floor(dir.path(), &per_source, &call_of)?;

    println!(
        "dedup benchmark: {total} sightings ({originals} distinct calls) from {sources} sources"
    );
    println!(
        "  full resolution:        {:>8.2} s  ({:.0} sightings/s; CPU {full_cpu:.2} s)",
        full.as_secs_f64(),
        total as f64 / full.as_secs_f64()
    );
    println!("  calls found:            {found} (expected {originals})");
    println!(
        "  write floor:            {:>8.2} s  (the same rows by plain inserts in one transaction, \
         no resolution; CPU {floor_cpu:.2} s)",
        floor.as_secs_f64()
    );
    println!(
        "  settling checkpoint:    {:>8.1} ms  (the WAL left by the full resolution)",
        settle.as_secs_f64() * 1000.0
    );
    println!(
        "  {new} new sightings:    {:>8.1} ms  ({} new calls, {} joined existing ones; CPU {:.0} ms)",
        incremental.as_secs_f64() * 1000.0,
        out.new.len(),
        new - out.new.len(),
        incremental_cpu * 1000.0
    );
    println!(
        "  index load (fresh open): {:>7.1} ms  ({indexed} sightings; CPU {:.0} ms; RSS +{index_mib:.1} MiB, \
         estimated {index_estimate:.1} MiB)",
        load.as_secs_f64() * 1000.0,
        load_cpu * 1000.0
    );
    times.sort_by(f64::total_cmp);
    println!(
        "  {batches} batches of {new} new: median {:.1} ms, min {:.1} ms, max {:.1} ms",
        times[times.len() / 2],
        times[0],
        times[times.len() - 1]
    );
    println!("  peak RSS:               {peak:>8.1} MiB  (before the write floor)");
    Ok(())
}
