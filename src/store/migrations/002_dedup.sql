-- 2: cross-source deduplication, lifecycle and review.

-- What resolution compares: each sighting's own title and URL, and why it
-- belongs to its call (method, score, matched sighting, signals).
ALTER TABLE sightings ADD COLUMN url TEXT;
ALTER TABLE sightings ADD COLUMN title TEXT NOT NULL DEFAULT '';
ALTER TABLE sightings ADD COLUMN funder TEXT;
ALTER TABLE sightings ADD COLUMN deadline TEXT;      -- last cut-off, RFC 3339
ALTER TABLE sightings ADD COLUMN perimeter TEXT;
ALTER TABLE sightings ADD COLUMN kind TEXT;
ALTER TABLE sightings ADD COLUMN resolution TEXT NOT NULL DEFAULT '{"method":"new"}';
-- Set when a complete crawl of its source no longer lists the item.
ALTER TABLE sightings ADD COLUMN unlisted_since TEXT;
UPDATE sightings SET url = json_extract(data, '$.url'), title = json_extract(data, '$.title'),
    funder = json_extract(data, '$.funder'), deadline = json_extract(data, '$.deadlines[#-1]'),
    perimeter = json_extract(data, '$.perimeter'), kind = json_extract(data, '$.kind');
CREATE INDEX sightings_url ON sightings(url);

-- Candidate retrieval for a new sighting: each sighting's most distinctive
-- title tokens (dedup::blocking_tokens, stemmed), with document frequencies
-- so that a query reads only the rarest postings.
CREATE TABLE sighting_tokens (
    token       TEXT NOT NULL,
    sighting_id INTEGER NOT NULL REFERENCES sightings(id),
    PRIMARY KEY (token, sighting_id)
) WITHOUT ROWID;
CREATE TABLE token_df (
    token TEXT PRIMARY KEY,
    n     INTEGER NOT NULL
) WITHOUT ROWID;

-- Sources whose new calls wait for a curator.
ALTER TABLE sources ADD COLUMN review INTEGER NOT NULL DEFAULT 0;
-- pending | approved | rejected
ALTER TABLE calls ADD COLUMN review TEXT NOT NULL DEFAULT 'approved';
CREATE INDEX calls_review ON calls(review);

-- Deadline changes, to be announced once to subscribers.
CREATE TABLE call_events (
    id        INTEGER PRIMARY KEY,
    call_id   INTEGER NOT NULL REFERENCES calls(id),
    kind      TEXT NOT NULL,        -- deadline_extended | deadline_brought_forward | deadline_set | deadline_removed
    old       TEXT,
    new       TEXT,
    at        TEXT NOT NULL
);
CREATE INDEX call_events_call ON call_events(call_id);

-- Curators' decisions about pairs of sightings; never undone by a crawl.
CREATE TABLE curator_links (
    a          INTEGER NOT NULL REFERENCES sightings(id),
    b          INTEGER NOT NULL REFERENCES sightings(id),
    verdict    TEXT NOT NULL,       -- apart | together
    decided_at TEXT NOT NULL,
    PRIMARY KEY (a, b),
    CHECK (a < b)
);
