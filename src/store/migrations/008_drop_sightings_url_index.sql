-- 8: since migration 6, resolution finds same-URL sightings in its
-- in-memory index (src/store/index.rs); no query reads `sightings` by URL
-- any more. The index only cost writes: every new sighting inserted a
-- random-position entry (measured: the SQL floor of the dedup bench
-- dropped from 1.9–2.7 s to 1.7 s without it).
DROP INDEX sightings_url;
