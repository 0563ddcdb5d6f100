-- 6: resolution keeps its candidate index in memory (src/store/index.rs),
-- built from `sightings`. The SQL inverted index it replaces is derived
-- data that nothing reads any more: dropped rather than left to go stale.
DROP TABLE sighting_tokens;
DROP TABLE token_df;

-- Bumped on every change of a compared column of an existing sighting, so
-- that a process holding the in-memory index can tell that another one
-- changed the table under it (new rows are found by their growing ids).
CREATE TABLE sightings_revision (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    n  INTEGER NOT NULL
);
INSERT INTO sightings_revision (id, n) VALUES (1, 0);
CREATE TRIGGER sightings_revision_update
AFTER UPDATE OF source_id, title, url, funder, deadline, perimeter, kind ON sightings BEGIN
    UPDATE sightings_revision SET n = n + 1 WHERE id = 1;
END;

-- Ingest defers the full-text indexing of the calls it creates to one bulk
-- insert at the end of its transaction (one FTS5 flush instead of one per
-- call). While `above` is set, calls with a greater id are not in
-- calls_fts yet: the triggers leave them alone. NULL: index row by row.
CREATE TABLE calls_fts_deferred (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    above INTEGER
);
INSERT INTO calls_fts_deferred (id, above) VALUES (1, NULL);
DROP TRIGGER calls_fts_insert;
DROP TRIGGER calls_fts_delete;
DROP TRIGGER calls_fts_update;
CREATE TRIGGER calls_fts_insert AFTER INSERT ON calls
WHEN (SELECT above FROM calls_fts_deferred WHERE id = 1) IS NULL BEGIN
    INSERT INTO calls_fts(rowid, title, summary_text, funder)
    VALUES (new.id, new.title, new.summary_text, coalesce(new.funder, ''));
END;
CREATE TRIGGER calls_fts_delete AFTER DELETE ON calls
WHEN old.id <= coalesce((SELECT above FROM calls_fts_deferred WHERE id = 1), old.id) BEGIN
    INSERT INTO calls_fts(calls_fts, rowid, title, summary_text, funder)
    VALUES ('delete', old.id, old.title, old.summary_text, coalesce(old.funder, ''));
END;
CREATE TRIGGER calls_fts_update AFTER UPDATE OF title, summary_text, funder ON calls
WHEN old.id <= coalesce((SELECT above FROM calls_fts_deferred WHERE id = 1), old.id) BEGIN
    INSERT INTO calls_fts(calls_fts, rowid, title, summary_text, funder)
    VALUES ('delete', old.id, old.title, old.summary_text, coalesce(old.funder, ''));
    INSERT INTO calls_fts(rowid, title, summary_text, funder)
    VALUES (new.id, new.title, new.summary_text, coalesce(new.funder, ''));
END;
