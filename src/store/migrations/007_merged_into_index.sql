-- 7: merging a call re-points every call already merged into it
-- (`merged_into = ?`), which scanned the whole `calls` table once per merge.
-- Only merged-away calls are indexed: the others are the vast majority and
-- never looked up this way.
CREATE INDEX calls_merged_into ON calls(merged_into) WHERE merged_into IS NOT NULL;
