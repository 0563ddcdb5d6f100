-- 14: self-service alerts from the public web.
--
-- A subscriber can pause their alert from the "manage my alert" page
-- without leaving: while `paused_since` is set, no digest is built.
ALTER TABLE subscribers ADD COLUMN paused_since TEXT;

-- The links of the manage and unsubscribe pages carry a secret token.
-- Only its SHA-256 is stored: a copy of the database does not let anyone
-- manage or unsubscribe anybody. Each email gets its own token (digests,
-- confirmations), valid for a year and a month, so that the links of an
-- old email keep working and a leaked one expires.
CREATE TABLE subscriber_tokens (
    hash          TEXT PRIMARY KEY,
    subscriber_id INTEGER NOT NULL REFERENCES subscribers(id) ON DELETE CASCADE,
    created_at    TEXT NOT NULL,
    expires_at    TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX subscriber_tokens_subscriber ON subscriber_tokens(subscriber_id);
-- `subscribers.manage_token` (stored as is before this version) is hashed
-- into this table and then overwritten by the Rust side of this migration
-- (SQLite has no SHA-256): see `migrations::hash_legacy_tokens`.
