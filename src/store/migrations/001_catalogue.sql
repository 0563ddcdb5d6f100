-- 1: sources, calls, sightings, history, crawl runs, full-text index.
CREATE TABLE sources (
    id                   TEXT PRIMARY KEY,
    name                 TEXT NOT NULL,
    kind                 TEXT NOT NULL,
    url                  TEXT NOT NULL,
    priority             INTEGER NOT NULL DEFAULT 0,
    -- Validators of the first request, for conditional GET.
    etag                 TEXT,
    last_modified        TEXT,
    last_run_at          TEXT,
    last_success_at      TEXT,
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    last_error           TEXT,
    next_run_at          TEXT
);

-- One row per call, whatever the number of places it was seen.
CREATE TABLE calls (
    id           INTEGER PRIMARY KEY,
    title        TEXT NOT NULL,
    summary_html TEXT NOT NULL DEFAULT '',
    summary_text TEXT NOT NULL DEFAULT '',
    funder       TEXT,
    kind         TEXT NOT NULL,
    url          TEXT,
    audiences    TEXT NOT NULL DEFAULT '[]',   -- JSON array of codes
    perimeter    TEXT NOT NULL,
    themes       TEXT NOT NULL DEFAULT '[]',   -- JSON array of codes
    opens_on     TEXT,                         -- RFC 3339, Europe/Paris offset
    deadline     TEXT,                         -- last cut-off, RFC 3339
    deadline_ts  INTEGER,                      -- same, Unix seconds, for filters
    deadlines    TEXT NOT NULL DEFAULT '[]',   -- every cut-off, ascending
    recurrence   TEXT NOT NULL,
    first_seen   TEXT NOT NULL,
    updated      TEXT NOT NULL,
    last_seen    TEXT NOT NULL,
    -- Set when a curator or dedup merged this call into another one.
    merged_into  INTEGER REFERENCES calls(id)
);
CREATE INDEX calls_deadline ON calls(deadline_ts);

-- One row per source item resolved to a call. Identity within a source:
-- item id/GUID, else canonical URL, else a hash of title and deadline.
CREATE TABLE sightings (
    id           INTEGER PRIMARY KEY,
    source_id    TEXT NOT NULL REFERENCES sources(id),
    item_key     TEXT NOT NULL,
    call_id      INTEGER NOT NULL REFERENCES calls(id),
    content_hash TEXT NOT NULL,
    data         TEXT NOT NULL,                -- the normalized item, JSON
    first_seen   TEXT NOT NULL,
    last_seen    TEXT NOT NULL,
    UNIQUE (source_id, item_key)
);
CREATE INDEX sightings_call ON sightings(call_id);

-- Every change to a stored call, field by field.
CREATE TABLE call_changes (
    id         INTEGER PRIMARY KEY,
    call_id    INTEGER NOT NULL REFERENCES calls(id),
    field      TEXT NOT NULL,
    old        TEXT,
    new        TEXT,
    changed_at TEXT NOT NULL,
    source_id  TEXT REFERENCES sources(id)
);
CREATE INDEX call_changes_call ON call_changes(call_id);

CREATE TABLE crawl_runs (
    id          INTEGER PRIMARY KEY,
    source_id   TEXT NOT NULL REFERENCES sources(id),
    started_at  TEXT NOT NULL,
    finished_at TEXT NOT NULL,
    outcome     TEXT NOT NULL,                 -- ok | not_modified | failed
    pages       INTEGER NOT NULL,
    items       INTEGER NOT NULL,
    new         INTEGER NOT NULL,
    updated     INTEGER NOT NULL,
    unchanged   INTEGER NOT NULL,
    errors      INTEGER NOT NULL,
    error       TEXT,
    warnings    TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX crawl_runs_source ON crawl_runs(source_id, started_at);

-- Accent-insensitive full-text index: `elu` finds `élu`.
CREATE VIRTUAL TABLE calls_fts USING fts5(
    title, summary_text, funder,
    content = 'calls', content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TRIGGER calls_fts_insert AFTER INSERT ON calls BEGIN
    INSERT INTO calls_fts(rowid, title, summary_text, funder)
    VALUES (new.id, new.title, new.summary_text, coalesce(new.funder, ''));
END;
CREATE TRIGGER calls_fts_delete AFTER DELETE ON calls BEGIN
    INSERT INTO calls_fts(calls_fts, rowid, title, summary_text, funder)
    VALUES ('delete', old.id, old.title, old.summary_text, coalesce(old.funder, ''));
END;
CREATE TRIGGER calls_fts_update AFTER UPDATE OF title, summary_text, funder ON calls BEGIN
    INSERT INTO calls_fts(calls_fts, rowid, title, summary_text, funder)
    VALUES ('delete', old.id, old.title, old.summary_text, coalesce(old.funder, ''));
    INSERT INTO calls_fts(rowid, title, summary_text, funder)
    VALUES (new.id, new.title, new.summary_text, coalesce(new.funder, ''));
END;

