-- 10: delivery hardening.
--
-- A digest whose outbox row fails for good gives its calls back: its
-- `digest_items` rows get `returned_at` (the history ignores them, so the
-- next digest carries those calls again), and an operator's retry of the
-- row clears it. The "once per subscriber" indexes only count rows not
-- given back, so that the next digest may record the same calls.
ALTER TABLE digest_items ADD COLUMN returned_at TEXT;
DROP INDEX digest_items_once;
CREATE UNIQUE INDEX digest_items_once ON digest_items(subscriber_id, call_id, section)
    WHERE section IN ('new', 'closing_soon') AND returned_at IS NULL;
DROP INDEX digest_items_event;
CREATE UNIQUE INDEX digest_items_event ON digest_items(subscriber_id, event_id)
    WHERE section = 'deadline_extended' AND returned_at IS NULL;
CREATE INDEX digest_items_outbox ON digest_items(outbox_id);
-- Rows that failed before this version swallowed their calls: give them back.
UPDATE digest_items SET returned_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now')
 WHERE outbox_id IN (SELECT id FROM outbox WHERE status = 'failed');

-- Who holds a `sending` claim: host name, process id, and the process's
-- identity on that host (`<boot id>:<pid namespace>:<start time in clock
-- ticks>` from /proc, or `token:<random>` where /proc is missing). A claim
-- whose holder is seen gone on this host is reclaimed at once; others wait
-- for `mail.claim_lease_secs`. NULL for claims taken before this version.
ALTER TABLE outbox ADD COLUMN holder_host TEXT;
ALTER TABLE outbox ADD COLUMN holder_pid INTEGER;
ALTER TABLE outbox ADD COLUMN holder_start TEXT;
