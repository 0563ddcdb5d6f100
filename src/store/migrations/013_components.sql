-- 14: sightings linked by "same call" decisions share a component (the
-- smallest id of the calls it ever held); resolution partitions a whole
-- component again when a new sighting links into it, so that the calls do
-- not depend on the order in which sightings arrived (see store::resolve).
-- Until now every call was its own component.
ALTER TABLE sightings ADD COLUMN component INTEGER;
UPDATE sightings SET component = call_id;
CREATE INDEX sightings_component ON sightings(component);
