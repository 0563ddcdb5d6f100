-- 3: subscribers (collectivities receiving digests) and their double opt-in state.
CREATE TABLE subscribers (
    id                 INTEGER PRIMARY KEY,
    -- Domain lowercased by EmailAddress; NOCASE so `Mairie@x.fr` and
    -- `mairie@x.fr` are one subscriber.
    email              TEXT NOT NULL UNIQUE COLLATE NOCASE,
    name               TEXT NOT NULL,
    audience           TEXT NOT NULL,                -- an audience code
    territory          TEXT NOT NULL,                -- a perimeter text form
    themes             TEXT NOT NULL DEFAULT '[]',   -- JSON array of theme codes
    keywords           TEXT NOT NULL DEFAULT '[]',   -- JSON array of strings
    frequency          TEXT NOT NULL CHECK (frequency IN ('daily', 'weekly')),
    -- `monday`..`sunday` for weekly digests, NULL for daily ones.
    weekday            TEXT CHECK ((frequency = 'weekly') = (weekday IS NOT NULL)),
    status             TEXT NOT NULL
                       CHECK (status IN ('pending', 'active', 'unsubscribed', 'bouncing')),
    created_at         TEXT NOT NULL,
    confirmed_at       TEXT,
    updated_at         TEXT NOT NULL,
    -- SHA-256 (hex) of the confirmation token: only needed to check it,
    -- so the token itself is never stored. NULL once confirmed.
    confirm_token_hash TEXT UNIQUE,
    -- Stored as is: it goes into the manage/unsubscribe link of every email.
    manage_token       TEXT NOT NULL UNIQUE,
    bounce_count       INTEGER NOT NULL DEFAULT 0,
    last_digest_at     TEXT
);
CREATE INDEX subscribers_status ON subscribers(status);
