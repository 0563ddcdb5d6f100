-- 5: which calls each digest carried, so that a subscriber never receives
-- the same call twice as new, a deadline extension is announced once and a
-- closing-soon reminder is sent once. Rows are written in the transaction
-- that enqueues the digest (see src/digest/build.rs): both or neither.
CREATE TABLE digest_items (
    id            INTEGER PRIMARY KEY,
    -- Removing a subscriber (right to erasure) removes their history too.
    subscriber_id INTEGER NOT NULL REFERENCES subscribers(id) ON DELETE CASCADE,
    call_id       INTEGER NOT NULL REFERENCES calls(id),
    section       TEXT NOT NULL
                  CHECK (section IN ('new', 'deadline_extended', 'closing_soon')),
    -- The deadline_extended event announced; NULL for the other sections.
    event_id      INTEGER REFERENCES call_events(id),
    -- For `new`: the latest deadline_extended event of the call when the
    -- email was built (its deadline was already the extended one), NULL when
    -- there was none. Only later events are announced as extensions; ids,
    -- not times, so that the comparison does not depend on clocks.
    baseline_event_id INTEGER,
    -- The outbox row of the email that carries it (no foreign key: the
    -- outbox may be purged of old sent rows).
    outbox_id     INTEGER NOT NULL,
    -- When the digest was committed to the outbox (UTC, RFC 3339).
    sent_at       TEXT NOT NULL,
    CHECK ((section = 'deadline_extended') = (event_id IS NOT NULL))
);
-- Once as new, once as closing soon, per subscriber and call.
CREATE UNIQUE INDEX digest_items_once ON digest_items(subscriber_id, call_id, section)
    WHERE section IN ('new', 'closing_soon');
-- Each deadline change announced once per subscriber.
CREATE UNIQUE INDEX digest_items_event ON digest_items(subscriber_id, event_id)
    WHERE section = 'deadline_extended';
CREATE INDEX digest_items_subscriber ON digest_items(subscriber_id);
CREATE INDEX digest_items_call ON digest_items(call_id);
