-- 15: indexes in the public listings' orders, so that a page of 20 calls
-- (the catalogue, the API, the feeds) walks the index and stops, instead
-- of sorting every matching call. The expressions match the ORDER BY
-- clauses of `Store::list_calls_page` exactly (SQLite uses an index on an
-- expression only for the same expression).
CREATE INDEX calls_by_deadline ON calls((deadline_ts IS NULL), deadline_ts, id)
    WHERE merged_into IS NULL;
CREATE INDEX calls_by_first_seen ON calls(first_seen, id) WHERE merged_into IS NULL;
CREATE INDEX calls_by_updated ON calls(updated, id) WHERE merged_into IS NULL;
