-- Number 0004 was reserved for the ingest on PostgreSQL, which landed without needing a
-- migration; this no-op keeps the numbers 1..n without gaps.
SELECT 1;
