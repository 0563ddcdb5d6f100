-- 017: when each call was published (RFC 3339, Europe/Paris offset): the
-- earliest publication date among its sightings, recomputed with the
-- call's other fields (`merge::merged_fields`). Not a tracked field: a
-- publication date moving does not make the call "updated" for
-- subscribers. Calls stored before are filled from their sightings'
-- normalized items, which always carried the date (a row whose data is
-- not JSON, or whose date does not read as one, is left out).
ALTER TABLE calls ADD COLUMN published TEXT;

UPDATE calls SET published = (
    SELECT json_extract(s.data, '$.published') FROM sightings s
    WHERE s.call_id = calls.id AND json_valid(s.data)
      AND unixepoch(json_extract(s.data, '$.published')) IS NOT NULL
    ORDER BY unixepoch(json_extract(s.data, '$.published')), s.id
    LIMIT 1
);
