//! The daemon's main loop: start-up (open, bind, load the sources and their
//! schedule state), then wake when the next source is due (or at least
//! every `service.tick_secs`), start each due source as its own task (never
//! two runs of one source at once), apply reloads, and on shutdown stop
//! taking work, give work in progress the grace time, checkpoint and close.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, Utc};
use futures::{Stream, StreamExt};
use tokio::sync::{Notify, broadcast, watch};
use tokio::task::JoinSet;

use super::context::Ctx;
use super::http::{self, AppState, Heartbeat};
use super::metrics::Metrics;
use super::reload::{self, SourceSet};
use super::run::{RunEnd, run_source};
use super::schedule::{self, Schedule};
use super::{Event, RunHandle, RunOptions, jobs, state};
use crate::config::Config;
use crate::store::Store;

pub(super) async fn start(
    config: Config,
    options: RunOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
    reload: impl Stream<Item = ()> + Send + Unpin + 'static,
) -> anyhow::Result<RunHandle> {
    let every = options.every.or(config.service.every());
    let bind = options.bind.unwrap_or(config.service.bind);
    let path = config.database.path.clone();
    let store = tokio::task::spawn_blocking(move || Store::open(&path)).await??;
    let store = Arc::new(Mutex::new(store));
    let metrics = Metrics::default();
    let heartbeat = Arc::new(Heartbeat::default());
    heartbeat.beat(Utc::now());
    let events = options
        .events
        .clone()
        .unwrap_or_else(|| broadcast::channel(1024).0);
    let ctx = Arc::new(Ctx::new(
        config,
        Arc::clone(&store),
        every,
        metrics.clone(),
        events.clone(),
        Arc::new(Notify::new()),
        options.clock.clone().unwrap_or_else(|| Arc::new(Utc::now)),
    )?);

    let tick = tick(&ctx);
    let app = AppState::open(
        &ctx.config.database.path,
        metrics,
        Arc::clone(&heartbeat),
        tick * 3 + Duration::from_secs(10),
    )?;
    let mut router = http::router(app);
    if let Some(routes) = options.routes.clone() {
        router = router.merge(routes);
    }
    let listener = tokio::net::TcpListener::bind(bind).await.with_context(|| {
        format!("binding {bind}: is another Vigie running there? Pass --bind ADDRESS:PORT")
    })?;
    let addr = listener.local_addr()?;
    tracing::info!(%addr, "listening");
    ctx.emit(Event::Listening { addr });

    let (stop_tx, stop_rx) = watch::channel(false);
    let mut server_stop = stop_rx.clone();
    let server = tokio::spawn(async move {
        let stopped = async move {
            let _ = server_stop.wait_for(|s| *s).await;
        };
        if let Err(e) = axum::serve(
            listener,
            router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .with_graceful_shutdown(stopped)
        .await
        {
            tracing::error!("HTTP server: {e}");
        }
    });

    let (sources, changes) = reload::load(&ctx.config.crawl.sources_dir, &SourceSet::default());
    for e in &changes.errors {
        tracing::error!(error = %e, "invalid source definition: not scheduled");
    }
    tracing::info!(
        sources = sources.by_id.len(),
        every = ?every,
        "scheduler started"
    );
    let (ctx_tx, ctx_rx) = watch::channel(Arc::clone(&ctx));
    let digests = tokio::spawn(jobs::digest_loop(ctx_rx.clone(), stop_rx.clone()));
    let outbox = tokio::spawn(jobs::outbox_loop(ctx_rx, stop_rx));

    let mut scheduler = Scheduler {
        ctx,
        ctx_tx,
        sources,
        due: HashMap::new(),
        running: JoinSet::new(),
        running_ids: HashMap::new(),
        heartbeat,
        options,
    };
    scheduler.init_due().await?;
    let task = tokio::spawn(async move {
        scheduler.run(shutdown, reload).await;
        scheduler.stop(stop_tx, server, digests, outbox).await
    });
    Ok(RunHandle { addr, events, task })
}

/// How long the loop sleeps at most.
fn tick(ctx: &Ctx) -> Duration {
    let tick = Duration::from_secs(ctx.config.service.tick_secs);
    ctx.every.map_or(tick, |e| e.min(tick))
}

struct Scheduler {
    ctx: Arc<Ctx>,
    ctx_tx: watch::Sender<Arc<Ctx>>,
    sources: SourceSet,
    /// When each scheduled source is next due (mirrors the database).
    due: HashMap<String, DateTime<Utc>>,
    running: JoinSet<RunEnd>,
    running_ids: HashMap<tokio::task::Id, String>,
    heartbeat: Arc<Heartbeat>,
    options: RunOptions,
}

impl Scheduler {
    /// Reads the schedule state and decides each source's first due time:
    /// a new source runs soon; a run missed while the daemon was down (or
    /// cut by a stop) runs once, spread over `service.catch_up_spread_secs`;
    /// a future due time is kept, so a restart repeats nothing.
    async fn init_due(&mut self) -> anyhow::Result<()> {
        let rows = self.ctx.with_store(|s| state::load_all(s.conn())).await?;
        let rows: BTreeMap<String, state::ScheduleRow> =
            rows.into_iter().map(|r| (r.source_id.clone(), r)).collect();
        let ids: Vec<String> = self.sources.by_id.keys().cloned().collect();
        let now = self.ctx.now();
        for id in ids {
            let row = rows.get(&id);
            if let Some(r) = row
                && r.running_since.is_some()
            {
                tracing::warn!(
                    source = %id,
                    run_id = r.run_id.as_deref().unwrap_or("?"),
                    "the previous process stopped during this source's run: it runs again"
                );
            }
            let due = self.first_due(&id, row, now);
            self.set_due(&id, due).await?;
        }
        Ok(())
    }

    fn first_due(
        &self,
        id: &str,
        row: Option<&state::ScheduleRow>,
        now: DateTime<Utc>,
    ) -> DateTime<Utc> {
        let spread = self.spread();
        let def = &self.sources.by_id[id].def;
        let due = match row {
            None => schedule::catch_up(now, now, spread),
            Some(r) if r.schedule.as_deref().is_some_and(|s| s != def.schedule) => {
                // Edited while the daemon was down: follow the new schedule.
                self.next_scheduled(id, now).unwrap_or(now)
            }
            Some(r) => schedule::catch_up(r.next_due_at, now, spread),
        };
        match self.ctx.every {
            Some(every) => due.min(now + every),
            None => due,
        }
    }

    fn spread(&self) -> Duration {
        let spread = Duration::from_secs(self.ctx.config.service.catch_up_spread_secs);
        self.ctx.every.map_or(spread, |e| e.min(spread))
    }

    fn next_scheduled(&self, id: &str, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let def = &self.sources.by_id.get(id)?.def;
        Schedule::for_source(&def.schedule, self.ctx.every)
            .ok()?
            .next_after(now)
    }

    async fn set_due(&mut self, id: &str, due: DateTime<Utc>) -> anyhow::Result<()> {
        let schedule = self.sources.by_id[id].def.schedule.clone();
        let sid = id.to_string();
        self.ctx
            .with_store(move |s| state::set_due(s.conn(), &sid, &schedule, due))
            .await?;
        self.due.insert(id.to_string(), due);
        Ok(())
    }

    async fn run(
        &mut self,
        shutdown: impl Future<Output = ()> + Send,
        mut reload: impl Stream<Item = ()> + Send + Unpin,
    ) {
        tokio::pin!(shutdown);
        loop {
            // The heartbeat is real time: /healthz compares it with the system clock.
            self.heartbeat.beat(Utc::now());
            let now = self.ctx.now();
            self.start_due(now);
            let wake = self.next_wake(now);
            tokio::select! {
                _ = &mut shutdown => return,
                Some(()) = reload.next() => self.reload().await,
                Some(done) = self.running.join_next_with_id(), if !self.running.is_empty() => {
                    self.finished(done);
                }
                _ = tokio::time::sleep(wake) => {}
            }
        }
    }

    fn start_due(&mut self, now: DateTime<Utc>) {
        let busy: Vec<&String> = self.running_ids.values().collect();
        let due: Vec<String> = self
            .sources
            .by_id
            .keys()
            .filter(|id| !busy.contains(id))
            .filter(|id| self.due.get(*id).is_some_and(|d| *d <= now))
            .cloned()
            .collect();
        for id in due {
            let def = Arc::clone(&self.sources.by_id[&id].def);
            let handle = self.running.spawn(run_source(Arc::clone(&self.ctx), def));
            self.running_ids.insert(handle.id(), id);
        }
    }

    fn next_wake(&self, now: DateTime<Utc>) -> Duration {
        let tick = tick(&self.ctx);
        let next = self
            .sources
            .by_id
            .keys()
            .filter(|id| !self.running_ids.values().any(|r| r == *id))
            .filter_map(|id| self.due.get(id))
            .min();
        match next {
            Some(d) => (*d - now).to_std().unwrap_or(Duration::ZERO).min(tick),
            None => tick,
        }
    }

    fn finished(&mut self, done: Result<(tokio::task::Id, RunEnd), tokio::task::JoinError>) {
        match done {
            Ok((task, end)) => {
                self.running_ids.remove(&task);
                // Far future for "never": the row says so too.
                let next = end.next_due.unwrap_or(DateTime::<Utc>::MAX_UTC);
                self.due.insert(end.source, next);
            }
            Err(e) => {
                let id = self.running_ids.remove(&e.id());
                tracing::error!(source = ?id, "a run task ended abnormally: {e}");
                if let Some(id) = id {
                    self.due
                        .insert(id, self.ctx.now() + self.ctx.backoff_base());
                }
            }
        }
    }

    /// SIGHUP: re-read the configuration (when a loader was given) and the
    /// sources; log what changed; keep what fails to load.
    async fn reload(&mut self) {
        self.ctx.metrics.record_reload();
        if let Some(loader) = self.options.reload_config.clone() {
            match loader().and_then(|config| self.rebuild(config)) {
                Ok(()) => tracing::info!("configuration reloaded"),
                Err(e) => {
                    tracing::error!("configuration not reloaded, the previous one stays: {e:#}")
                }
            }
        }
        let (sources, changes) = reload::load(&self.ctx.config.crawl.sources_dir, &self.sources);
        for e in &changes.errors {
            tracing::error!(error = %e, "invalid source definition: the previous one (if any) stays");
        }
        tracing::info!(
            added = ?changes.added,
            removed = ?changes.removed,
            changed = ?changes.changed,
            rescheduled = ?changes.rescheduled,
            "sources reloaded"
        );
        self.sources = sources;
        let now = self.ctx.now();
        for id in &changes.removed {
            self.due.remove(id);
        }
        let mut to_set: Vec<(String, DateTime<Utc>)> = Vec::new();
        for id in &changes.added {
            let row = self
                .ctx
                .with_store({
                    let id = id.clone();
                    move |s| state::load(s.conn(), &id)
                })
                .await
                .ok()
                .flatten();
            to_set.push((id.clone(), self.first_due(id, row.as_ref(), now)));
        }
        for id in &changes.rescheduled {
            if let Some(next) = self.next_scheduled(id, now) {
                to_set.push((id.clone(), next));
            }
        }
        for (id, due) in to_set {
            if let Err(e) = self.set_due(&id, due).await {
                tracing::error!(source = %id, "could not record the new schedule: {e:#}");
            }
        }
        self.ctx.emit(Event::Reloaded {
            added: changes.added,
            removed: changes.removed,
            changed: changes.changed,
            errors: changes.errors,
        });
    }

    /// A new context from a reloaded configuration; settings that need a
    /// restart are kept and reported.
    fn rebuild(&mut self, mut config: Config) -> anyhow::Result<()> {
        let old = &self.ctx.config;
        if config.database.path != old.database.path {
            tracing::warn!("database.path changed: it takes effect at the next start");
            config.database.path = old.database.path.clone();
        }
        if config.service.bind != old.service.bind {
            tracing::warn!("service.bind changed: it takes effect at the next start");
        }
        let every = self.options.every.or(config.service.every());
        let ctx = Ctx::new(
            config,
            Arc::clone(&self.ctx.store),
            every,
            self.ctx.metrics.clone(),
            self.ctx.events.clone(),
            Arc::clone(&self.ctx.outbox_wake),
            Arc::clone(&self.ctx.clock),
        )?;
        self.ctx = Arc::new(ctx);
        let _ = self.ctx_tx.send(Arc::clone(&self.ctx));
        Ok(())
    }

    /// Stops taking work, waits for runs and sends in progress (at most
    /// `service.shutdown_grace_secs`), then checkpoints and closes.
    async fn stop(
        mut self,
        stop_tx: watch::Sender<bool>,
        server: tokio::task::JoinHandle<()>,
        digests: tokio::task::JoinHandle<()>,
        outbox: tokio::task::JoinHandle<()>,
    ) -> anyhow::Result<()> {
        let grace = Duration::from_secs(self.ctx.config.service.shutdown_grace_secs);
        tracing::info!(
            runs = self.running.len(),
            grace_secs = grace.as_secs(),
            "stopping: no new work; waiting for runs and sends in progress"
        );
        self.ctx.emit(Event::Stopping);
        let _ = stop_tx.send(true);
        let deadline = tokio::time::Instant::now() + grace;
        let runs = async {
            while let Some(done) = self.running.join_next_with_id().await {
                self.finished(done);
            }
        };
        if tokio::time::timeout_at(deadline, runs).await.is_err() {
            tracing::warn!(
                cut = self.running.len(),
                "runs still going after the grace time were stopped: they run again at the next start"
            );
            self.running.abort_all();
            while self.running.join_next().await.is_some() {}
        }
        for (name, task) in [("outbox", outbox), ("digests", digests)] {
            let abort = task.abort_handle();
            if tokio::time::timeout_at(deadline, task).await.is_err() {
                tracing::warn!(
                    "the {name} task was stopped after the grace time: messages in doubt are sent again at the next start"
                );
                abort.abort();
            }
        }
        if tokio::time::timeout(Duration::from_secs(5), server)
            .await
            .is_err()
        {
            tracing::warn!("HTTP connections still open after 5 s were closed");
        }
        let store = Arc::clone(&self.ctx.store);
        drop(self);
        let checkpoint = tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
            let guard = store
                .lock()
                .map_err(|_| anyhow::anyhow!("the database lock was poisoned"))?;
            guard
                .checkpoint()
                .context("checkpointing the database at shutdown")
        })
        .await?;
        if let Err(e) = checkpoint {
            // Nothing is lost: every commit is in the WAL, which the next
            // open checkpoints.
            tracing::warn!("{e:#}");
        }
        tracing::info!("stopped");
        Ok(())
    }
}
