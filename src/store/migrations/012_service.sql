-- 13: the daemon's schedule state and each source's health (src/service).
-- One row per source the daemon has scheduled. Timestamps are UTC RFC 3339
-- with milliseconds, compared as text.
CREATE TABLE service_sources (
    source_id            TEXT PRIMARY KEY,
    -- The schedule next_due_at was computed from: a definition edited
    -- while the daemon was down is rescheduled at the next start.
    schedule             TEXT,
    -- When the next run is due: the cron occurrence, a backoff retry, or a
    -- catch-up after downtime. Advanced only when a run finishes, so a run
    -- interrupted by a crash or a kill is due again at restart.
    next_due_at          TEXT NOT NULL,
    -- Set while a run is in progress (with its id); cleared when it ends.
    running_since        TEXT,
    run_id               TEXT,
    last_started_at      TEXT,
    last_finished_at     TEXT,
    last_outcome         TEXT CHECK (last_outcome IN ('ok', 'not_modified', 'failed')),
    -- A short code naming the last failure's cause (`no_items`, `fetch`...).
    last_error_code      TEXT,
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    -- What the last run says of the source, and what curators were last told.
    health               TEXT NOT NULL DEFAULT 'healthy'
                         CHECK (health IN ('healthy', 'failing', 'zero_match', 'drop')),
    alerted_health       TEXT NOT NULL DEFAULT 'healthy'
                         CHECK (alerted_health IN ('healthy', 'failing', 'zero_match', 'drop')),
    -- Numbers the alerts of this source: part of each alert's outbox key.
    alerts               INTEGER NOT NULL DEFAULT 0
);
