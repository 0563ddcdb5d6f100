-- 9: conditional GET per page, crawl leases, typed crawl errors.

-- What the last successful fetch of each listing page of a source gave:
-- its validators for the next conditional GET, the request it led to and
-- the keys of the items it listed. A page that answers 304 replays this
-- row, so that pagination goes on past it and its items still count as
-- listed. `definition` is a fingerprint of the source definition the row
-- was extracted with: a changed definition re-fetches every page.
CREATE TABLE page_states (
    source_id     TEXT NOT NULL REFERENCES sources(id),
    method        TEXT NOT NULL,
    url           TEXT NOT NULL,
    body          BLOB NOT NULL DEFAULT x'',
    definition    TEXT NOT NULL,
    etag          TEXT,
    last_modified TEXT,
    next_method   TEXT,
    next_url      TEXT,
    next_body     BLOB,
    item_keys     TEXT NOT NULL DEFAULT '[]',   -- JSON array of sighting item keys
    fetched_at    TEXT NOT NULL,
    PRIMARY KEY (source_id, method, url, body)
);

-- At most one crawl of a source at a time, across processes.
CREATE TABLE crawl_leases (
    source_id   TEXT PRIMARY KEY,
    holder_pid  INTEGER NOT NULL,
    holder_host TEXT NOT NULL,
    token       TEXT NOT NULL,
    since       TEXT NOT NULL,
    expires_at  TEXT NOT NULL
);

-- The stable short code of a failed run (`timeout`, `http_503`, `robots`,
-- `layout_changed`...), for metrics and alerts; NULL when it did not fail.
ALTER TABLE crawl_runs ADD COLUMN error_code TEXT;
