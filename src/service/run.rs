//! One run of one source, top to bottom: take the lease, crawl, classify
//! the outcome, then in one transaction record the next due time and the
//! health, and queue the curators' alert when the health changed. Every log
//! line of a run carries its source id and run id (the `run` span).

use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Utc};
use tracing::Instrument;

use super::Event;
use super::alert::{self, Alert};
use super::context::Ctx;
use super::health::{self, Health, RunFacts, RunOutcome};
use super::schedule::{self, Retry, Schedule};
use super::state::{self, Finished};
use crate::source::SourceDef;

/// What the scheduler needs back from a run.
#[derive(Debug)]
pub(super) struct RunEnd {
    pub source: String,
    pub next_due: Option<DateTime<Utc>>,
}

/// What the finishing transaction decided.
struct Decision {
    next_due: Option<DateTime<Utc>>,
    previous: Health,
    health: Health,
    alerts: usize,
}

/// Runs `def` once and returns when it is due next.
pub(super) async fn run_source(ctx: Arc<Ctx>, def: Arc<SourceDef>) -> RunEnd {
    let run_id = uuid::Uuid::new_v4().simple().to_string()[..12].to_string();
    let source = def.id.to_string();
    let span = tracing::info_span!("run", source = %source, run_id = %run_id);
    async move {
        let next_due = match run_inner(&ctx, &def, &run_id).await {
            Ok(next) => next,
            Err(e) => {
                // The run could not be recorded (database): try again after
                // the backoff rather than in a tight loop.
                tracing::error!("run not recorded: {e:#}");
                Some(ctx.now() + ctx.backoff_base())
            }
        };
        RunEnd { source, next_due }
    }
    .instrument(span)
    .await
}

async fn run_inner(
    ctx: &Arc<Ctx>,
    def: &Arc<SourceDef>,
    run_id: &str,
) -> anyhow::Result<Option<DateTime<Utc>>> {
    let _slot = ctx.crawl_slots.acquire().await?;
    let source = def.id.to_string();
    let (sid, rid, sched) = (source.clone(), run_id.to_string(), def.schedule.clone());
    let now = ctx.now();
    ctx.with_store(move |s| {
        state::start_run(s.conn(), &sid, &rid, now)?;
        // A first run also records the schedule it follows.
        s.conn().execute(
            "UPDATE service_sources SET schedule = ?2 WHERE source_id = ?1",
            rusqlite::params![sid, sched],
        )?;
        Ok(())
    })
    .await?;
    ctx.emit(Event::CrawlStarted {
        source: source.clone(),
        run_id: run_id.to_string(),
    });
    tracing::info!(url = %def.url, "run started");
    let started = Instant::now();
    let report = ctx.crawler.refresh_source(def).await;
    let facts = health::classify(&report);
    let seconds = started.elapsed().as_secs_f64();
    ctx.metrics.record_run(&source, &facts, report.new, seconds);

    let decision = {
        let ctx2 = Arc::clone(ctx);
        let def2 = Arc::clone(def);
        let facts2 = facts.clone();
        ctx.with_store(move |s| finish(&ctx2, &def2, &facts2, s))
            .await?
    };
    let error = match &facts.outcome {
        RunOutcome::Failed { code, message, .. } => {
            tracing::warn!(
                code = %code,
                error = %message,
                items = facts.items,
                next_due = ?decision.next_due,
                "run failed"
            );
            Some(message.clone())
        }
        _ => {
            tracing::info!(
                outcome = facts.outcome.as_str(),
                items = facts.items,
                new = report.new,
                updated = report.updated,
                duration_ms = started.elapsed().as_millis() as u64,
                next_due = ?decision.next_due,
                "run finished"
            );
            None
        }
    };
    if decision.health != decision.previous {
        tracing::warn!(
            from = %decision.previous,
            to = %decision.health,
            alerts = decision.alerts,
            "source health changed"
        );
        ctx.metrics
            .record_alert(&source, decision.health, decision.alerts);
        ctx.emit(Event::HealthChanged {
            source: source.clone(),
            from: decision.previous,
            to: decision.health,
            alerts: decision.alerts,
        });
        if decision.alerts > 0 {
            ctx.outbox_wake.notify_one();
        }
    }
    ctx.emit(Event::CrawlFinished {
        source,
        run_id: run_id.to_string(),
        outcome: facts.outcome.as_str().to_string(),
        error,
        items: facts.items,
        new: report.new,
        updated: report.updated,
        duration_ms: started.elapsed().as_millis() as u64,
        next_due: decision.next_due,
    });
    Ok(decision.next_due)
}

/// The finishing transaction: due time, health, alert.
fn finish(
    ctx: &Ctx,
    def: &SourceDef,
    facts: &RunFacts,
    store: &mut crate::store::Store,
) -> anyhow::Result<Decision> {
    let now = ctx.now();
    let id = def.id.as_str();
    let curators = &ctx.config.curators;
    let tx = store.conn().unchecked_transaction()?;
    let row = state::load(&tx, id)?
        .ok_or_else(|| anyhow::anyhow!("the schedule row of {id} vanished during its run"))?;
    let (failures, retry) = match &facts.outcome {
        RunOutcome::Failed { retry, .. } => (row.consecutive_failures.saturating_add(1), *retry),
        // Another process ran it: its count stands.
        RunOutcome::Skipped => (row.consecutive_failures, Retry::Transient),
        _ => (0, Retry::Transient),
    };
    let schedule = Schedule::for_source(&def.schedule, ctx.every)?;
    let next_due = schedule::next_due(
        &schedule,
        now,
        failures,
        retry,
        ctx.backoff_base(),
        ctx.backoff_max(),
    );
    // The crawl log already holds this run: a successful one is not part
    // of its own history.
    let mut history = state::items_history(&tx, id, curators.drop_window + 1)?;
    if facts.outcome == RunOutcome::Ok && !history.is_empty() {
        history.remove(0);
    }
    let health = health::assess(row.health, failures, facts, &history, curators);
    let alerted = alert::warrants_alert(row.alerted_health, health);
    let mut alerts = 0;
    if alerted && !curators.emails.is_empty() {
        let error = match &facts.outcome {
            RunOutcome::Failed { message, .. } => Some(message.as_str()),
            _ => None,
        };
        let definition = match &def.template {
            Some(row) => format!(
                "{} (modèle commun à plusieurs sources ; ses valeurs propres sont à la ligne {} de {})",
                def.path.display(),
                row.line,
                row.data.display()
            ),
            None => def.path.display().to_string(),
        };
        let email = alert::compose(&Alert {
            source_id: id,
            name: &def.name,
            definition: &definition,
            url: def.url.as_str(),
            from: row.alerted_health,
            to: health,
            failures,
            error,
            items: facts.items,
            usual: health::usual_items(&history, curators),
            last_good: alert::last_good_run(&tx, id)?,
        });
        alerts = alert::enqueue_alert(&tx, id, row.alerts + 1, &email, &ctx.config, now)?;
    }
    state::finish_run(
        &tx,
        &Finished {
            source_id: id,
            facts,
            now,
            next_due,
            failures,
            health,
            alerted,
        },
    )?;
    tx.commit()?;
    Ok(Decision {
        next_due,
        previous: row.health,
        health,
        alerts,
    })
}
