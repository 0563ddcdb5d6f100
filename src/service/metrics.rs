//! `/metrics`: counters the daemon keeps as it works (per-source runs,
//! items, errors and durations; digests; outbox drains; alerts) and gauges
//! read from the database at each scrape (outbox depth by status, digests
//! by status, subscribers by status, source health), encoded by
//! `prometheus-client` in the OpenMetrics text format, which Prometheus
//! scrapes natively.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::Registry;
use rusqlite::Connection;

use super::health::{Health, RunFacts};

/// The content type of [`Metrics::encode`]'s output.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SourceLabels {
    source: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RunLabels {
    source: String,
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StatusLabels {
    status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HealthLabels {
    source: String,
    health: String,
}

type DurationFamily = Family<SourceLabels, Histogram, fn() -> Histogram>;

fn duration_histogram() -> Histogram {
    // 0.1 s to ~7 min.
    Histogram::new(exponential_buckets(0.1, 2.0, 13))
}

/// The daemon's counters; cheap to update from any task.
#[derive(Clone)]
pub struct Metrics {
    runs: Family<RunLabels, Counter>,
    items: Family<SourceLabels, Counter>,
    new_calls: Family<SourceLabels, Counter>,
    errors: Family<SourceLabels, Counter>,
    duration: DurationFamily,
    alerts: Family<HealthLabels, Counter>,
    digests_built: Counter,
    digest_runs: Counter,
    sent: Counter,
    failed: Counter,
    rescheduled: Counter,
    reloads: Counter,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            runs: Family::default(),
            items: Family::default(),
            new_calls: Family::default(),
            errors: Family::default(),
            duration: Family::new_with_constructor(duration_histogram),
            alerts: Family::default(),
            digests_built: Counter::default(),
            digest_runs: Counter::default(),
            sent: Counter::default(),
            failed: Counter::default(),
            rescheduled: Counter::default(),
            reloads: Counter::default(),
        }
    }
}

impl Metrics {
    pub fn record_run(&self, source: &str, facts: &RunFacts, new: u32, seconds: f64) {
        let s = SourceLabels {
            source: source.to_string(),
        };
        self.runs
            .get_or_create(&RunLabels {
                source: source.to_string(),
                outcome: facts.outcome.as_str().to_string(),
            })
            .inc();
        self.items.get_or_create(&s).inc_by(u64::from(facts.items));
        self.new_calls.get_or_create(&s).inc_by(u64::from(new));
        if facts.outcome.is_failure() {
            self.errors.get_or_create(&s).inc();
        }
        self.duration.get_or_create(&s).observe(seconds);
    }

    pub fn record_alert(&self, source: &str, health: Health, n: usize) {
        self.alerts
            .get_or_create(&HealthLabels {
                source: source.to_string(),
                health: health.as_str().to_string(),
            })
            .inc_by(n as u64);
    }

    pub fn record_digests(&self, built: usize) {
        self.digest_runs.inc();
        self.digests_built.inc_by(built as u64);
    }

    pub fn record_drain(&self, sent: usize, rescheduled: usize, failed: usize) {
        self.sent.inc_by(sent as u64);
        self.rescheduled.inc_by(rescheduled as u64);
        self.failed.inc_by(failed as u64);
    }

    pub fn record_reload(&self) {
        self.reloads.inc();
    }

    /// Every metric, with the database gauges read now from `conn`.
    pub fn encode(&self, conn: &Connection, last_tick_unix: i64) -> anyhow::Result<String> {
        let mut r = Registry::default();
        r.register(
            "vigie_build",
            "Version of this Vigie",
            Info::new(vec![("version", env!("CARGO_PKG_VERSION"))]),
        );
        r.register(
            "vigie_crawl_runs",
            "Runs of each source by outcome (ok, not_modified, failed)",
            self.runs.clone(),
        );
        r.register(
            "vigie_crawl_items",
            "Items extracted, per source",
            self.items.clone(),
        );
        r.register(
            "vigie_crawl_new_calls",
            "New sightings stored, per source",
            self.new_calls.clone(),
        );
        r.register(
            "vigie_crawl_errors",
            "Failed runs, per source",
            self.errors.clone(),
        );
        r.register(
            "vigie_crawl_duration_seconds",
            "Duration of each run, per source",
            self.duration.clone(),
        );
        r.register(
            "vigie_curator_alerts",
            "Alert emails queued for curators, per source and new health",
            self.alerts.clone(),
        );
        r.register(
            "vigie_digest_runs",
            "Digest runs (who is due, build, queue)",
            self.digest_runs.clone(),
        );
        r.register(
            "vigie_digests_built",
            "Digests built and queued in the outbox",
            self.digests_built.clone(),
        );
        r.register(
            "vigie_outbox_sent",
            "Messages accepted by the mail server (or written to files)",
            self.sent.clone(),
        );
        r.register(
            "vigie_outbox_failed",
            "Messages that ended failed",
            self.failed.clone(),
        );
        r.register(
            "vigie_outbox_rescheduled",
            "Transient send failures, retried later",
            self.rescheduled.clone(),
        );
        r.register("vigie_reloads", "Reloads (SIGHUP)", self.reloads.clone());
        let tick: Gauge = Gauge::default();
        tick.set(last_tick_unix);
        r.register(
            "vigie_scheduler_last_tick_timestamp_seconds",
            "When the scheduler last woke up (Unix time)",
            tick,
        );
        r.register(
            "vigie_outbox_messages",
            "Outbox rows by status",
            by_status(
                conn,
                "SELECT status, count(*) FROM outbox GROUP BY status",
                OUTBOX_STATUSES,
            )?,
        );
        r.register(
            "vigie_digests",
            "Digest emails in the outbox by status (sent, failed, pending, sending)",
            by_status(
                conn,
                "SELECT status, count(*) FROM outbox WHERE idempotency_key LIKE 'digest:%' GROUP BY status",
                OUTBOX_STATUSES,
            )?,
        );
        r.register(
            "vigie_subscribers",
            "Subscribers by status",
            by_status(
                conn,
                "SELECT status, count(*) FROM subscribers GROUP BY status",
                SUBSCRIBER_STATUSES,
            )?,
        );
        let health: Family<HealthLabels, Gauge> = Family::default();
        let mut stmt = conn.prepare_cached(
            "SELECT source_id, health, consecutive_failures FROM service_sources",
        )?;
        let failures: Family<SourceLabels, Gauge> = Family::default();
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
            ))
        })?;
        for row in rows {
            let (source, h, n) = row?;
            health
                .get_or_create(&HealthLabels {
                    source: source.clone(),
                    health: h,
                })
                .set(1);
            failures.get_or_create(&SourceLabels { source }).set(n);
        }
        r.register(
            "vigie_source_health",
            "1 for each source's current health",
            health,
        );
        r.register(
            "vigie_source_consecutive_failures",
            "Consecutive failed runs, per source",
            failures,
        );
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &r)?;
        Ok(out)
    }
}

/// Statuses listed at 0 when no row has them, so that dashboards see them.
const OUTBOX_STATUSES: &[&str] = &["pending", "sending", "sent", "failed"];
const SUBSCRIBER_STATUSES: &[&str] = &["pending", "active", "unsubscribed", "bouncing"];

fn by_status(
    conn: &Connection,
    sql: &str,
    known: &[&str],
) -> anyhow::Result<Family<StatusLabels, Gauge>> {
    let family: Family<StatusLabels, Gauge> = Family::default();
    for status in known {
        family
            .get_or_create(&StatusLabels {
                status: status.to_string(),
            })
            .set(0);
    }
    let mut stmt = conn.prepare_cached(sql)?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
    for row in rows {
        let (status, n) = row?;
        family.get_or_create(&StatusLabels { status }).set(n);
    }
    Ok(family)
}
