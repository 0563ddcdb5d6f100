-- 2: reserved for cross-source deduplication (filled by another change).
SELECT 1;
