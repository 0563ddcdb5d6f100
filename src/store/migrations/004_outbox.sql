-- 4: the outbox: one row per email to send, the complete message built once
-- at enqueue so that every attempt sends the same bytes and Message-ID.
-- Timestamps are UTC RFC 3339 with milliseconds, compared as text.
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    -- Given by the caller, e.g. `digest:<subscriber_id>:<yyyy-mm-dd>`:
    -- enqueueing the same key twice keeps the first message.
    idempotency_key TEXT NOT NULL UNIQUE,
    -- No foreign key yet: the subscribers table comes with another change.
    subscriber_id   INTEGER,
    recipient       TEXT NOT NULL,
    message         BLOB NOT NULL,   -- RFC 5322 bytes, DKIM-signed when configured
    message_id      TEXT NOT NULL,   -- the Message-ID header inside `message`
    status          TEXT NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'sending', 'sent', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    last_error      TEXT,
    created_at      TEXT NOT NULL,
    claimed_at      TEXT,
    sent_at         TEXT,
    -- Nothing is dropped silently: a failed row always says why.
    CHECK (status <> 'failed' OR last_error IS NOT NULL),
    CHECK (status <> 'sent' OR sent_at IS NOT NULL)
);
CREATE INDEX outbox_due ON outbox(status, next_attempt_at);
CREATE INDEX outbox_subscriber ON outbox(subscriber_id);
