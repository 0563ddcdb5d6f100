-- 14: self-service sign-up from the public web. A subscriber can pause
-- their alert from the "manage my alert" page without leaving: while
-- `paused_since` is set, no digest is built for them.
ALTER TABLE subscribers ADD COLUMN paused_since TEXT;
