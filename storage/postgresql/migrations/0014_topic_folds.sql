-- Topics found as typed without accents (SQLite's 0020): `folded` is the name casefolded with
-- its accents dropped (storage.topics.topic_fold), computed in Python, never by unaccent, so
-- that both engines hold the very same fold. Rows stored before this version are folded
-- when the schema is next migrated (storage.postgresql.schema.migrate), in batches.
ALTER TABLE topics ADD COLUMN folded text;
CREATE INDEX topics_by_folded ON topics (folded);
