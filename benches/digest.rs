//! Digest benchmark: one subscriber per French commune (~35,000; mostly
//! communes, some EPCIs and departments; 0–3 themes; 20 % with keywords;
//! daily or weekly) against 5,000 open calls (national, regional,
//! departmental and a few communal perimeters; random themes and audiences)
//! in an on-disk SQLite file.
//!
//! 1. Matching only: the catalogue read once, then a `Matcher`, the history
//!    and the plan of every subscriber.
//! 2. Matching + rendering of every digest (nothing recorded, no SMTP), the
//!    work of a `vigie digest run` first day. Targets: < 15 s, peak RSS
//!    < 512 MiB (VmHWM).
//! 3. Delivery: `DIGEST_SEND` (default 2,000) of those digests enqueued with
//!    their `digest_items`, then drained over SMTP (`deliver::drain_outbox`,
//!    one connection per slot) into the local aiosmtpd sink
//!    (`tests/smtp_sink.py`, a child process). Target: ≥ 200 messages/s.
//!    `DIGEST_POOL` (default 4, the `mail.pool_size` default) sets the
//!    number of connections, `DIGEST_SINK_WORKERS` (default 2) the sink's
//!    processes: one Python process saturates near 150–200 messages/s, a
//!    limit of the sink, not of Vigie.
//!
//! 4. With `DIGEST_FULL_RUN=1`: the whole `vigie digest run` before SMTP
//!    ([`enqueue_due_digests`]: every due subscriber's digest built, rendered
//!    and enqueued with its `digest_items`, one transaction each) on a copy
//!    of the database. Off by default: it writes ~1.5 GB of email into it.
//!
//! Every call is new to every subscriber: the first day, the worst case.
//! `DIGEST_MAX_CALLS` (default 30, the `digest.max_calls` default) bounds
//! each email; 5 approximates an ordinary day's digest.
//!
//! Run: `cargo bench --bench digest` (environment: `DIGEST_SUBSCRIBERS`,
//! `DIGEST_CALLS`, `DIGEST_SEND`, `DIGEST_POOL`, `DIGEST_SINK_WORKERS`, `DIGEST_MAX_CALLS`,
//! `DIGEST_FULL_RUN`).

#[allow(dead_code)]
mod common;

use common::{env, peak_rss_mib, process_cpu};

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use chrono::{DateTime, Duration, FixedOffset, TimeZone, Utc, Weekday};
use vigie::deliver::{MailConfig, SmtpSecurity, Transport, drain_outbox};
use vigie::digest::DigestConfig;
use vigie::digest::build::{
    Catalogue, History, build_digests, enqueue_digest, enqueue_due_digests, plan,
};
use vigie::digest::render::Renderer;
use vigie::domain::{Audience, Perimeter, Theme};
use vigie::matching::Matcher;
use vigie::store::Store;
use vigie::subscribers::{EmailAddress, Frequency, Profile, Subscriber, SubscriberStatus};
use vigie::territory;

const KINDS: &[(&str, &str)] = &[
    ("aap", "Appel à projets"),
    ("ami", "Appel à manifestation d'intérêt"),
    ("appel_candidatures", "Appel à candidatures"),
    ("prix", "Prix"),
];
const TOPICS: &[&str] = &[
    "archivage numérique",
    "inclusion numérique",
    "tiers-lieux",
    "cybersécurité des collectivités",
    "données ouvertes",
    "France services",
    "conseillers numériques",
    "couverture mobile",
    "rénovation énergétique des écoles",
    "mobilités douces",
    "revitalisation des centres-bourgs",
    "friches industrielles",
    "cantines scolaires",
    "lecture publique",
    "patrimoine rural",
    "sobriété foncière",
    "eau potable",
    "biodiversité urbaine",
    "santé mentale",
    "démarches en ligne",
    "intelligence artificielle",
    "logiciels libres",
    "éclairage public",
    "vélo du quotidien",
];
const FUNDERS: &[&str] = &[
    "Agence nationale de la cohésion des territoires",
    "Banque des Territoires",
    "ADEME",
    "Région",
    "Conseil départemental",
    "Ministère de la Culture",
    "Agence du numérique en santé",
];
const KEYWORDS: &[&str] = &[
    "numeri*",
    "tiers lieu*",
    "archiv*",
    "école",
    "vélo",
    "eau potable",
    "cyber*",
    "patrimoine",
];
const AUDIENCES: &[Audience] = &[
    Audience::Commune,
    Audience::Epci,
    Audience::Department,
    Audience::Region,
    Audience::Association,
];

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
}

fn themes(rng: &mut Rng, max: usize) -> Vec<Theme> {
    let mut t: Vec<Theme> = (0..rng.below(max + 1))
        .map(|_| Theme::ALL[rng.below(Theme::ALL.len())])
        .collect();
    t.sort();
    t.dedup();
    t
}

fn json<T: AsRef<str>>(items: impl IntoIterator<Item = T>) -> String {
    serde_json::to_string(
        &items
            .into_iter()
            .map(|s| s.as_ref().to_string())
            .collect::<Vec<_>>(),
    )
    .unwrap()
}

fn insert_calls(store: &mut Store, n: usize, now: DateTime<Utc>, rng: &mut Rng) {
    let regions = territory::regions();
    let departments = territory::departments();
    let communes = territory::communes();
    let paris: FixedOffset = FixedOffset::east_opt(3600).unwrap();
    let tx = store.conn_mut().transaction().unwrap();
    {
        let mut stmt = tx
            .prepare(
                "INSERT INTO calls (title, summary_text, funder, kind, url, audiences, perimeter,
                     themes, deadline, deadline_ts, deadlines, recurrence, first_seen, updated,
                     last_seen)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, json_array(?9), 'oneoff',
                     ?11, ?11, ?11)",
            )
            .unwrap();
        for i in 0..n {
            let (kind, kind_label) = KINDS[rng.below(KINDS.len())];
            let topic = TOPICS[rng.below(TOPICS.len())];
            let perimeter = match rng.below(100) {
                0..30 => Perimeter::France,
                30..60 => Perimeter::Region(regions[rng.below(regions.len())].code.into()),
                60..95 => {
                    Perimeter::Department(departments[rng.below(departments.len())].code.into())
                }
                _ => Perimeter::Commune(communes[rng.below(communes.len())].insee.into()),
            };
            let audiences: Vec<&str> = match rng.below(100) {
                0..60 => vec!["commune", "epci"],
                60..75 => vec![],
                _ => (0..1 + rng.below(2))
                    .map(|_| AUDIENCES[rng.below(AUDIENCES.len())].as_str())
                    .collect(),
            };
            let title = format!("{kind_label} « {topic} » {} n° {i}", 2035);
            let summary = format!(
                "Cet appel soutient les projets des collectivités en matière de {topic} : \
                 études, investissements et accompagnement. Les dossiers sont déposés en \
                 ligne ; un webinaire de présentation est organisé pour les porteurs de projets."
            );
            let deadline = (now + Duration::days(1 + rng.below(180) as i64))
                .with_timezone(&paris)
                .date_naive()
                .and_hms_opt(12, 0, 0)
                .unwrap()
                .and_local_timezone(paris)
                .unwrap();
            stmt.execute(rusqlite::params![
                title,
                summary,
                FUNDERS[rng.below(FUNDERS.len())],
                kind,
                format!("https://financeur.example/appels/{i}"),
                json(audiences),
                perimeter.to_string(),
                json(themes(rng, 2).iter().map(|t| t.as_str())),
                deadline.to_rfc3339(),
                deadline.timestamp(),
                "2035-01-01T00:00:00+00:00",
            ])
            .unwrap();
        }
    }
    tx.commit().unwrap();
}

fn profiles(n: usize, rng: &mut Rng) -> Vec<Profile> {
    const WEEKDAYS: [Weekday; 5] = [
        Weekday::Mon,
        Weekday::Tue,
        Weekday::Wed,
        Weekday::Thu,
        Weekday::Fri,
    ];
    territory::communes()
        .iter()
        .take(n)
        .map(|c| {
            let (audience, territory) = match rng.below(100) {
                0..85 => (Audience::Commune, Perimeter::Commune(c.insee.into())),
                85..95 if c.epci.is_some() => {
                    (Audience::Epci, Perimeter::Epci(c.epci.unwrap().into()))
                }
                _ => (
                    Audience::Department,
                    Perimeter::Department(c.department.into()),
                ),
            };
            let keywords = if rng.chance(20) {
                (0..1 + rng.below(2))
                    .map(|_| KEYWORDS[rng.below(KEYWORDS.len())].to_string())
                    .collect()
            } else {
                vec![]
            };
            Profile {
                email: EmailAddress::parse(&format!("mairie-{}@commune.example", c.insee)).unwrap(),
                name: format!("Mairie de {}", c.name),
                audience,
                territory,
                themes: themes(rng, 3),
                keywords,
                frequency: if rng.chance(70) {
                    Frequency::Daily
                } else {
                    Frequency::Weekly(WEEKDAYS[rng.below(WEEKDAYS.len())])
                },
            }
        })
        .collect()
}

fn main() -> anyhow::Result<()> {
    // The allocator set up as the `vigie` binary sets it up.
    vigie::alloc::configure();
    let n_subscribers = env("DIGEST_SUBSCRIBERS", 35_000);
    let n_calls = env("DIGEST_CALLS", 5_000);
    let n_send = env("DIGEST_SEND", 2_000);
    let pool = env("DIGEST_POOL", 4);
    let sink_workers = env("DIGEST_SINK_WORKERS", 2);
    let mut rng = Rng(0x005e_edd1_6e57);
    let now = Utc.with_ymd_and_hms(2035, 3, 5, 7, 0, 0).unwrap();
    let dir = tempfile::tempdir()?;
    let mut store = Store::open(&dir.path().join("bench.db"))?;

    let t = Instant::now();
    insert_calls(&mut store, n_calls, now, &mut rng);
    let profiles = profiles(n_subscribers, &mut rng);
    store.import_subscribers(&profiles, now)?;
    drop(profiles);
    let subscribers: Vec<Subscriber> = store.list_subscribers(&[SubscriberStatus::Active])?;
    let setup = t.elapsed();
    let rss_setup = peak_rss_mib();

    let config = DigestConfig {
        max_calls: env("DIGEST_MAX_CALLS", 30) as u32,
        ..DigestConfig::default()
    };
    let renderer = Renderer::new()?;

    // 1. Matching only.
    let t = Instant::now();
    let cpu = process_cpu();
    let mut catalogue = Catalogue::load(&store, now)?;
    catalogue.index_keywords(&subscribers);
    let mut fitting = 0usize;
    let mut empty = 0usize;
    let mut max_calls = 0usize;
    // Histories by batches of 512, in one query each, as a run reads them.
    for batch in subscribers.chunks(512) {
        let ids: Vec<i64> = batch.iter().map(|s| s.id).collect();
        let histories = History::load_many(store.conn(), &ids)?;
        for (s, history) in batch.iter().zip(&histories) {
            let matcher = Matcher::new(s);
            match plan(&catalogue, s, &matcher, history, &config, now) {
                Some(p) => {
                    fitting += p.items.len();
                    max_calls = max_calls.max(p.items.len());
                }
                None => empty += 1,
            }
        }
    }
    drop(catalogue);
    let matching = t.elapsed();
    let matching_cpu = process_cpu() - cpu;

    // 2. Matching + rendering of every digest.
    let t = Instant::now();
    let cpu = process_cpu();
    let stats = build_digests(&store, &renderer, &subscribers, &config, now, |_, _, _| {
        Ok(())
    })?;
    let rendering = t.elapsed();
    let rendering_cpu = process_cpu() - cpu;
    let rss_render = peak_rss_mib();

    let sink_dir = dir.path().join("received");
    let mail = |port: u16| MailConfig {
        from: "Vigie <veille@vigie.example>".into(),
        smtp_host: "127.0.0.1".into(),
        smtp_port: port,
        smtp_security: SmtpSecurity::None,
        pool_size: pool as u32,
        ..MailConfig::default()
    };

    // 4. (optional, before 3 leaves rows behind) The whole run on a copy.
    let full_run = if env("DIGEST_FULL_RUN", 0) == 1 {
        let copy = dir.path().join("full-run.db");
        store
            .conn()
            .execute("VACUUM INTO ?1", [copy.to_string_lossy()])?;
        let copy = Store::open(&copy)?;
        let t = Instant::now();
        let cpu = process_cpu();
        let summary = enqueue_due_digests(&copy, &renderer, &config, &mail(25), now, false)?;
        Some((summary, t.elapsed(), process_cpu() - cpu, peak_rss_mib()))
    } else {
        None
    };

    // 3. Delivery through pooled SMTP into the aiosmtpd sink.
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/smtp_sink.py");
    let mut child = Command::new("python3")
        .arg(&script)
        .arg(&sink_dir)
        .args(["--workers", &sink_workers.to_string()])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()?;
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("piped")).read_line(&mut line)?;
    let port: u16 = line
        .trim()
        .strip_prefix("PORT ")
        .and_then(|p| p.parse().ok())
        .ok_or_else(|| anyhow::anyhow!("the SMTP sink did not start: {line:?}"))?;
    let mail = mail(port);
    let t = Instant::now();
    let mut enqueued = 0usize;
    let senders: Vec<Subscriber> = subscribers.iter().take(n_send * 2).cloned().collect();
    build_digests(&store, &renderer, &senders, &config, now, |s, p, e| {
        if enqueued < n_send && enqueue_digest(&store, s, p, e, &mail, &config, now)?.is_some() {
            enqueued += 1;
        }
        Ok(())
    })?;
    let enqueue_time = t.elapsed();
    let store = Arc::new(Mutex::new(store));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let t = Instant::now();
    let report = runtime.block_on(async {
        let transport = Transport::from_config(&mail)?;
        drain_outbox(&store, &transport, &mail, move || now).await
    })?;
    let sending = t.elapsed();
    let _ = child.kill();
    let _ = child.wait();
    let received = std::fs::read_dir(&sink_dir)?
        .filter(|e| {
            e.as_ref()
                .is_ok_and(|e| e.path().extension().is_some_and(|x| x == "eml"))
        })
        .count();
    let rate = report.sent as f64 / sending.as_secs_f64();

    println!();
    println!(
        "Digest benchmark: {} subscribers × {n_calls} open calls, max {} calls per email, \
         {} threads, SQLite on disk",
        subscribers.len(),
        config.max_calls,
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    println!("{:-<78}", "");
    println!("{:<46} {:>14} {:>14}", "step", "result", "target");
    println!("{:-<78}", "");
    println!(
        "{:<46} {:>12.2} s {:>14}",
        "setup (calls + subscribers import)",
        setup.as_secs_f64(),
        ""
    );
    println!(
        "{:<46} {:>12.2} s {:>14}",
        "matching only (catalogue, history, plan)",
        matching.as_secs_f64(),
        ""
    );
    println!(
        "{:<46} {:>12.2} s {:>14}",
        "  CPU time (user + system, all threads)", matching_cpu, ""
    );
    println!(
        "{:<46} {:>12.2} s {:>14}",
        "matching + rendering every digest",
        rendering.as_secs_f64(),
        "< 15 s"
    );
    println!(
        "{:<46} {:>12.2} s {:>14}",
        "  CPU time (user + system, all threads)", rendering_cpu, ""
    );
    println!(
        "{:<46} {:>14} {:>14}",
        "digests built / empty",
        format!("{} / {}", stats.built, stats.empty),
        ""
    );
    println!(
        "{:<46} {:>14} {:>14}",
        "calls per digest, capped (mean / max)",
        format!(
            "{:.1} / {max_calls}",
            fitting as f64 / (subscribers.len() - empty).max(1) as f64
        ),
        ""
    );
    println!(
        "{:<46} {:>12.1} MB {:>14}",
        "rendered (HTML + text)",
        stats.bytes as f64 / 1e6,
        ""
    );
    println!(
        "{:<46} {:>10.0} MiB {:>14}",
        "peak RSS after setup (VmHWM)", rss_setup, ""
    );
    println!(
        "{:<46} {:>10.0} MiB {:>14}",
        "peak RSS after rendering (VmHWM)", rss_render, "< 512 MiB"
    );
    println!(
        "{:<46} {:>12.2} s {:>14}",
        format!("build + enqueue {enqueued} digests (1 tx each)"),
        enqueue_time.as_secs_f64(),
        ""
    );
    println!(
        "{:<46} {:>12.2} s {:>14}",
        format!(
            "SMTP drain, pool {pool}, sink x{sink_workers}: sent {} / received {received}",
            report.sent
        ),
        sending.as_secs_f64(),
        ""
    );
    println!(
        "{:<46} {:>10.0} msg/s {:>12}",
        "delivery rate", rate, "≥ 200/s"
    );
    if let Some((summary, elapsed, cpu, rss)) = &full_run {
        println!(
            "{:<46} {:>12.2} s {:>14}",
            format!(
                "full run: {} due, {} enqueued, {} empty",
                summary.due, summary.built, summary.empty
            ),
            elapsed.as_secs_f64(),
            format!("CPU {cpu:.2} s")
        );
        println!(
            "{:<46} {:>10.0} MiB {:>14}",
            "peak RSS after the full run (VmHWM)", rss, "< 512 MiB"
        );
    }
    println!("{:-<78}", "");
    let failed = report.permanent_failures.len() + report.exhausted.len();
    anyhow::ensure!(failed == 0, "{failed} messages failed");
    Ok(())
}
