//! The daemon's two timers besides the sources: the digest run (the digest
//! module decides who is due: daily subscribers from `digest.send_hour`,
//! weekly ones on their weekday; asking every few minutes is enough) and
//! the outbox drain (on a timer, and at once when something was queued).
//!
//! Both run once at start (a restart after the send hour still sends, and
//! messages left by a stopped process go out), then on their interval.
//! Neither is cut mid-way by a stop: a drain in progress finishes its sends
//! (within the grace time), so no row is left `sending`.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use super::Event;
use super::context::Ctx;
use crate::deliver::drain_outbox;
use crate::digest::build::enqueue_due_digests;
use crate::subscribers::EmailAddress;

/// Waits for `d`, or returns `false` as soon as a stop is asked.
async fn pause(stop: &mut watch::Receiver<bool>, d: Duration) -> bool {
    tokio::select! {
        _ = stop.wait_for(|s| *s) => false,
        _ = tokio::time::sleep(d) => true,
    }
}

pub(super) async fn digest_loop(ctx: watch::Receiver<Arc<Ctx>>, mut stop: watch::Receiver<bool>) {
    loop {
        if *stop.borrow() {
            return;
        }
        let current = Arc::clone(&ctx.borrow());
        let interval = current.every.unwrap_or(Duration::from_secs(
            current.config.service.digest_interval_secs,
        ));
        run_digests(&current).await;
        drop(current);
        if !pause(&mut stop, interval).await {
            return;
        }
    }
}

async fn run_digests(ctx: &Arc<Ctx>) {
    let c = Arc::clone(ctx);
    let result = ctx
        .with_store(move |store| {
            enqueue_due_digests(
                store,
                &c.renderer,
                &c.config.digest,
                &c.config.mail,
                c.now(),
                false,
            )
        })
        .await;
    match result {
        Ok(summary) => {
            for e in &summary.errors {
                tracing::warn!(error = %e, "digest not queued");
            }
            if summary.due > 0 {
                tracing::info!(
                    due = summary.due,
                    built = summary.built,
                    empty = summary.empty,
                    "digests queued"
                );
            }
            ctx.metrics.record_digests(summary.built);
            ctx.emit(Event::DigestsQueued {
                due: summary.due,
                built: summary.built,
            });
            if summary.built > 0 {
                ctx.outbox_wake.notify_one();
            }
        }
        Err(e) => tracing::error!("digest run failed: {e:#}"),
    }
}

pub(super) async fn outbox_loop(ctx: watch::Receiver<Arc<Ctx>>, mut stop: watch::Receiver<bool>) {
    loop {
        if *stop.borrow() {
            return;
        }
        let current = Arc::clone(&ctx.borrow());
        drain(&current).await;
        let interval = current.every.unwrap_or(Duration::from_secs(
            current.config.service.outbox_interval_secs,
        ));
        let wake = Arc::clone(&current.outbox_wake);
        drop(current);
        tokio::select! {
            _ = stop.wait_for(|s| *s) => return,
            _ = tokio::time::sleep(interval) => {}
            _ = wake.notified() => {}
        }
    }
}

async fn drain(ctx: &Arc<Ctx>) {
    let clock = Arc::clone(&ctx.clock);
    let report = match drain_outbox(&ctx.store, &ctx.transport, &ctx.config.mail, || clock()).await
    {
        Ok(report) => report,
        Err(e) => {
            tracing::error!("outbox drain failed: {e:#}");
            return;
        }
    };
    let failed = report.permanent_failures.len() + report.exhausted.len();
    ctx.metrics
        .record_drain(report.sent, report.rescheduled, failed);
    if report.sent + report.rescheduled + failed + report.recovered == 0 {
        return;
    }
    ctx.emit(Event::OutboxDrained {
        sent: report.sent,
        rescheduled: report.rescheduled,
        failed,
    });
    // Permanent refusals count against the subscriber, as `vigie digest run` does.
    let bounces: Vec<String> = report
        .permanent_failures
        .iter()
        .filter(|f| f.subscriber_id.is_some())
        .map(|f| f.recipient.clone())
        .collect();
    if bounces.is_empty() {
        return;
    }
    let threshold = ctx.config.mail.bounce_threshold;
    let now = ctx.now();
    let result = ctx
        .with_store(move |store| {
            for recipient in bounces {
                if let Ok(email) = EmailAddress::parse(&recipient) {
                    store.mark_bounce(&email, threshold, now)?;
                }
            }
            Ok(())
        })
        .await;
    if let Err(e) = result {
        tracing::error!("recording bounces failed: {e:#}");
    }
}
