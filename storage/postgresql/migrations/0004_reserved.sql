-- Number 0004 is reserved for the ingest on PostgreSQL (branch pgingest). This placeholder
-- keeps the numbers 1..n without gaps until then: when that branch's own 0004 lands, this
-- file goes (a database that applied it has recorded version 4, and version 4's SQL is
-- then the ingest's: it must be written to be applied to such a database as well).
SELECT 1;
