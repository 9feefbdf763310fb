-- Story title keys are an index of the articles' titles that only the store writes, in the
-- transaction that writes their article (storage/postgresql/grouping.py). Their foreign key
-- checked each of them, one lookup per row: about 4 keys per article, half the cost of
-- filing them at ingest (docs/performance.md, "Ingest on PostgreSQL"). Without it, the keys
-- of an article that retention deletes are deleted with it explicitly
-- (storage/postgresql/retention.py); SQLite keeps its foreign key, whose checks cost little.
ALTER TABLE story_title_keys DROP CONSTRAINT story_title_keys_article_pk_fkey;
