-- 12: the perimeter a curator set on a call (`vigie calls perimeter`), in
-- the text form of `CallPerimeter`. It wins over the sightings' perimeters
-- whenever the call's fields are recomputed, so no crawl undoes it.
ALTER TABLE calls ADD COLUMN curator_perimeter TEXT;
